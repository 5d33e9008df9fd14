"""The version tables: creating them (version 1 being the grids found then), their rows, and
reading versions, drafts and the issues' grids of a past version back out of them."""

from __future__ import annotations

from collections.abc import Mapping

import geopandas as gpd
import numpy as np
import pandas as pd

from geo.core.i18n import Text
from geo.planning._versions_model import (
    GRID_KEYS,
    HOUSEHOLD_ID,
    ISSUE_ID,
    LOCK,
    Draft,
    VersionError,
    as_multi,
    as_text,
    content_hash,
    grids_note,
    to_cell,
    utc_now,
)
from geo.store.base import Store, Transaction


def templates(grids: gpd.GeoDataFrame) -> dict[str, pd.DataFrame]:
    """Empty frames with the columns of every version table (the grid columns from ``grids``)."""

    def frame(**columns: str) -> pd.DataFrame:
        return pd.DataFrame({k: pd.Series([], dtype=v) for k, v in columns.items()})

    clash = [c for c in ("version", "draft_id", "revision") if c in grids.columns]
    if clash:
        raise VersionError(
            Text(
                f"网格图层含有版本管理自用的列 {clash}，请先在网格图层中改名",
                f"the grids layer has column(s) {clash}, which versioning uses itself; rename "
                "them in the grids layer first",
            )
        )
    sample = as_multi(grids.iloc[:1])
    at = "datetime64[ms, UTC]"
    return {
        "grid_versions": frame(
            version="int64",
            published_at=at,
            published_by="str",
            reason="str",
            source="str",
            n_grids="int64",
            issues_moved="int64",
            households_moved="int64",
            content_hash="str",
        ),
        "grid_version_features": sample.assign(version=np.int64(0)),
        "grid_version_map": frame(
            version="int64",
            old_version="int64",
            old_grid_code="str",
            new_grid_code="str",
            area_m2="float64",
            share_of_old="float64",
            share_of_new="float64",
        ),
        "issue_grid_history": frame(
            ticket_id="str", version="int64", old_grid_code="str", grid_code="str"
        ),
        "drafts": frame(
            draft_id="str",
            scope="str",
            scope_code="str",
            base_version="int64",
            revision="int64",
            status="str",
            author="str",
            updated_at=at,
            created_by="str",
            created_at=at,
            reason="str",
            conflict_of="str",
            published_version="int64",
        ),
        "draft_features": sample.assign(draft_id="", revision=np.int64(0)),
        "change_log": frame(
            at=at,
            author="str",
            action="str",
            version="int64",
            draft_id="str",
            scope_code="str",
            revision="int64",
            reason="str",
            detail="str",
        ),
    }


def create_tables(store: Store) -> None:
    """Create the version tables and version 1 if this store has none yet."""
    if "grids" not in store.layers():
        raise VersionError(
            Text(
                f"{store.location}：没有网格图层，请先导入网格",
                f"{store.location}: no grids layer; import grids first",
            )
        )
    grids = store.read("grids")
    if not isinstance(grids, gpd.GeoDataFrame):
        raise VersionError(
            Text(
                f"{store.location}：网格图层没有几何",
                f"{store.location}: the grids layer has no geometry",
            )
        )
    missing = [c for c in GRID_KEYS if c not in grids.columns]
    if missing:
        raise VersionError(
            Text(
                f"{store.location}：网格图层缺少列 {missing}；版本管理需要 {list(GRID_KEYS)}",
                f"{store.location}: the grids layer lacks column(s) {missing}; versioning needs "
                f"{list(GRID_KEYS)}",
            )
        )
    present = set(store.layers())
    # Publishing updates issues and households by key: index the keys once, here.
    keys: dict[str, list[tuple[str, ...]]] = {}
    with store.transaction(readonly=True) as tx:
        for table, key in (("issues", ISSUE_ID), ("households", HOUSEHOLD_ID)):
            if table in present and key in tx.columns(table):
                keys[table] = [(key,)]
    keys |= {
        "grid_version_features": [("version",), ("grid_code",)],
        "grid_version_map": [("version",)],
        "issue_grid_history": [("version",), ("ticket_id",)],
        "draft_features": [("draft_id", "revision")],
    }
    store.create_tables(templates(grids), indexes=keys)
    with store.transaction() as tx:
        tx.lock(LOCK)
        if len(tx.read("grid_versions", columns=["version"])) == 0:
            filled = first_version(tx.read("grids"), utc_now())
            for table in ("grid_version_features", "grid_versions", "change_log"):
                tx.append(table, filled[table])


def first_version(
    grids: gpd.GeoDataFrame,
    at: pd.Timestamp,
    *,
    reason: Text | None = None,
) -> dict[str, pd.DataFrame]:
    """Every version table with ``grids`` as version 1 (the others empty), by table name.

    What versioning starts from: written with the grids in one write (onboarding), or
    appended when versioning begins on a store that holds grids only.
    """
    first = as_multi(grids)
    reason = reason or Text("启用版本管理时的网格", "grids found when versioning began")
    tables = {name: frame.iloc[:0] for name, frame in templates(first).items()}
    tables["grid_version_features"] = first.assign(version=np.int64(1))
    tables["grid_versions"] = version_row(1, at, "system", reason, "initial", first, 0, 0)
    tables["change_log"] = log_row(at, "system", "init", version=1, detail=grids_note(len(first)))
    return tables


def version_row(
    version: int,
    at: pd.Timestamp,
    author: str,
    reason: Text | str,
    source: str,
    grids: gpd.GeoDataFrame,
    issues_moved: int,
    households_moved: int,
) -> pd.DataFrame:
    """One new row of the ``grid_versions`` table."""
    return pd.DataFrame(
        {
            "version": [version],
            "published_at": pd.Series([at], dtype="datetime64[ms, UTC]"),
            "published_by": [author],
            "reason": [to_cell(reason)],
            "source": [source],
            "n_grids": [len(grids)],
            "issues_moved": [issues_moved],
            "households_moved": [households_moved],
            "content_hash": [content_hash(grids)],
        }
    )


def log_row(
    at: pd.Timestamp,
    author: str,
    action: str,
    *,
    version: int = 0,
    draft_id: str = "",
    scope_code: str = "",
    revision: int = 0,
    reason: Text | str = "",
    detail: Text | str = "",
) -> pd.DataFrame:
    """One new row of the ``change_log`` table."""
    return pd.DataFrame(
        {
            "at": pd.Series([at], dtype="datetime64[ms, UTC]"),
            "author": [author],
            "action": [action],
            "version": [version],
            "draft_id": [draft_id],
            "scope_code": [scope_code],
            "revision": [revision],
            "reason": [to_cell(reason)],
            "detail": [to_cell(detail)],
        }
    )


def new_draft_row(
    draft_id: str,
    scope: str,
    scope_code: str,
    base_version: int,
    revision: int,
    status: str,
    author: str,
    at: pd.Timestamp,
    *,
    reason: Text | str = "",
    conflict_of: str = "",
) -> pd.DataFrame:
    """One new row of the ``drafts`` table."""
    stamp = pd.Series([at], dtype="datetime64[ms, UTC]")
    return pd.DataFrame(
        {
            "draft_id": [draft_id],
            "scope": [scope],
            "scope_code": [scope_code],
            "base_version": [int(base_version)],
            "revision": [int(revision)],
            "status": [status],
            "author": [author],
            "updated_at": stamp,
            "created_by": [author],
            "created_at": stamp,
            "reason": [to_cell(reason)],
            "conflict_of": [conflict_of],
            "published_version": [0],
        }
    )


def head_version(tx: Transaction) -> int:
    """The number of the latest version."""
    return int(tx.read("grid_versions", columns=["version"])["version"].max())


def read_version(
    tx: Transaction, version: int, *, where: Mapping[str, object] | None = None
) -> gpd.GeoDataFrame:
    """The grids of a published version (those matching ``where``), sorted by grid code."""
    frame = tx.read("grid_version_features", where={"version": int(version), **(where or {})})
    if not len(frame) and where is None:
        known = sorted(tx.read("grid_versions", columns=["version"])["version"].tolist())
        raise VersionError(
            Text(
                f"没有第 {version} 版网格；现有版本为 {known}",
                f"no grid version {version}; the versions are {known}",
            )
        )
    return _clean(frame.drop(columns=["version"]))


def _clean(frame: pd.DataFrame) -> gpd.GeoDataFrame:
    assert isinstance(frame, gpd.GeoDataFrame)
    out = frame.sort_values("grid_code", kind="stable").reset_index(drop=True)
    return gpd.GeoDataFrame(out, geometry="geometry", crs=frame.crs)


def stored_draft_row(tx: Transaction, draft_id: str) -> pd.Series:
    """The ``drafts`` row of ``draft_id`` as stored now."""
    rows = tx.read("drafts", where={"draft_id": draft_id})
    if not len(rows):
        raise VersionError(
            Text(
                f"没有草案 {draft_id}；见 VersionedGrids.drafts()",
                f"no draft {draft_id!r}; see VersionedGrids.drafts()",
            )
        )
    return rows.iloc[0]


def draft_from_row(tx: Transaction, row: pd.Series) -> Draft:
    """The draft a ``drafts`` row describes, with the grids of its revision."""
    if int(row["revision"]) == 0:
        grids = read_version(
            tx, int(row["base_version"]), where={f"{row['scope']}_code": row["scope_code"]}
        )
    else:
        grids = _clean(
            tx.read(
                "draft_features",
                where={"draft_id": row["draft_id"], "revision": int(row["revision"])},
            ).drop(columns=["draft_id", "revision"])
        )
    return Draft(
        draft_id=str(row["draft_id"]),
        scope=str(row["scope"]),
        scope_code=str(row["scope_code"]),
        base_version=int(row["base_version"]),
        revision=int(row["revision"]),
        status=str(row["status"]),
        author=str(row["author"]),
        updated_at=pd.Timestamp(row["updated_at"]),
        grids=grids,
        conflict_of=str(row["conflict_of"]),
    )


def issue_grids(store: Store, version: int) -> pd.Series:
    """The grid code each issue had under ``version``: the issues' current codes, walked
    back through the moves recorded by later publishes."""
    with store.transaction(readonly=True) as tx:
        issues = tx.read("issues", columns=[ISSUE_ID, "grid_code"])
        later = tx.read("issue_grid_history")
    current = pd.Series(as_text(issues["grid_code"]), index=as_text(issues[ISSUE_ID]))
    later = later[later["version"] > int(version)].sort_values("version", kind="stable")
    first = later.drop_duplicates(ISSUE_ID, keep="first").set_index(ISSUE_ID)
    known = first.index.intersection(current.index)
    current.loc[known] = as_text(first.loc[known, "old_grid_code"])
    current.index.name = ISSUE_ID
    return current.rename("grid_code")
