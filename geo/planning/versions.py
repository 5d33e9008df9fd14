"""Versioned grid layers: drafts per village or town, published versions, diffs and rollback.

A published version never changes. Planners edit a draft of one village (or town); saving
a draft checks its revision (optimistic locking); publishing writes a new version, rewrites
the ``grids`` layer and moves every issue (and household) whose grid changed, all in one
store transaction, so a failure half-way leaves the last good version in place. Every
change goes into a change log with who, when and why.

Tables (created on first use, version 1 being the ``grids`` layer found then):

``grid_versions``
    ``version, published_at, published_by, reason, source, n_grids, issues_moved,
    households_moved, content_hash`` — one row per version.
``grid_version_features``
    ``version`` + the grid columns + geometry — every grid of every version.
``grid_version_map``
    ``version, old_version, old_grid_code, new_grid_code, area_m2, share_of_old,
    share_of_new`` — how the area of each grid of ``old_version`` went to grids of
    ``version`` (an empty code stands for area in no grid).
``issue_grid_history``
    ``ticket_id, version, old_grid_code, grid_code`` — every issue a publish moved.
``drafts``
    ``draft_id, scope, scope_code, base_version, revision, status, author, updated_at,
    created_by, created_at, reason, conflict_of, published_version`` — one row per draft.
``draft_features``
    ``draft_id, revision`` + the grid columns + geometry — every saved revision.
``change_log``
    ``at, author, action, version, draft_id, scope_code, revision, reason, detail``.

All geometry is in the grids layer's CRS (EPSG:4549 for Sheyang); areas are in m².
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import cast

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo.core.clock import beijing_stamp
from geo.core.errors import GridGovError, GridValidationError, Problem
from geo.core.settings import get_settings
from geo.grids.assign import PROBLEM_OUTSIDE, assign_events, grid_index
from geo.store.base import Store, Transaction

#: The column that identifies an issue, and a household.
ISSUE_ID = "ticket_id"
HOUSEHOLD_ID = "household_id"
#: Grid columns every version must have (assignment writes them onto issues).
GRID_KEYS = ("grid_code", "village_code", "town_code")
#: Draft statuses.
OPEN, CONFLICTED, PUBLISHED = "open", "conflicted", "published"

_LOCK = "grid_versions"
_SCOPE_ZH = {"village": "村(居)", "town": "镇"}
_SHARE_TOLERANCE = 1e-9  # relative area below which an overlap is a shared edge


class VersionError(GridGovError):
    """A version, draft or grid layer cannot be used as asked."""


class PublishBlockedError(GridGovError):
    """The planner's check found the candidate layer not publishable; ``report`` says why."""

    def __init__(self, message: str, report: object) -> None:
        super().__init__(message)
        self.report = report


class ConflictError(GridGovError):
    """Someone changed the draft (or its village) since it was read.

    Attributes
    ----------
    draft_id, scope_code
        The draft and the village or town it covers.
    expected_revision, current_revision
        The revision the caller had, and the one stored now.
    saved_by, saved_at
        Who made the change in between, and when (UTC).
    kept_draft_id
        Where the losing edits were saved (status ``conflicted``; read them with
        :meth:`VersionedGrids.read_draft`), or None when nothing needed keeping.
    """

    def __init__(
        self,
        message: str,
        *,
        draft_id: str,
        scope_code: str,
        expected_revision: int,
        current_revision: int,
        saved_by: str,
        saved_at: pd.Timestamp,
        kept_draft_id: str | None = None,
    ) -> None:
        super().__init__(message)
        self.draft_id = draft_id
        self.scope_code = scope_code
        self.expected_revision = expected_revision
        self.current_revision = current_revision
        self.saved_by = saved_by
        self.saved_at = saved_at
        self.kept_draft_id = kept_draft_id


@dataclass(frozen=True)
class Draft:
    """One saved revision of a draft (revision 0: the base version's grids, unedited).

    Attributes
    ----------
    draft_id
        Identifier, e.g. ``320924101001-3f2a9c1b``.
    scope, scope_code
        ``"village"`` or ``"town"``, and its code: the grids the draft replaces.
    base_version
        The published version the draft started from.
    revision
        Saved revision; pass it as ``expected_revision`` when saving again.
    status
        ``open``, ``conflicted`` (edits kept after a lost save) or ``published``.
    author, updated_at
        Who saved this revision, and when (UTC).
    grids
        The draft's grids (a copy; editing it changes nothing stored).
    conflict_of
        For a conflicted draft, the draft it lost against.
    """

    draft_id: str
    scope: str
    scope_code: str
    base_version: int
    revision: int
    status: str
    author: str
    updated_at: pd.Timestamp
    grids: gpd.GeoDataFrame = field(repr=False)
    conflict_of: str = ""


@dataclass(frozen=True)
class VersionDiff:
    """What changed from ``a`` to ``b`` (each a version number, or None for a layer that
    is not a version).

    Attributes
    ----------
    grids
        One row per grid code in either version: ``grid_code``, ``status`` (``added``,
        ``removed``, ``changed`` or ``unchanged``), ``geometry_changed``,
        ``changed_columns`` (comma-separated), ``area_a_m2``, ``area_b_m2``,
        ``households_a``, ``households_b`` (household points inside; NaN when the store
        has no households layer).
    flows
        Where the area and households of changed grids went: ``from_grid`` (in ``a``,
        empty = in no grid), ``to_grid`` (in ``b``), ``area_m2``, ``households``.
    """

    a: int | None
    b: int | None
    grids: pd.DataFrame
    flows: pd.DataFrame

    def _codes(self, status: str) -> list[str]:
        return sorted(self.grids.loc[self.grids["status"] == status, "grid_code"])

    @property
    def added(self) -> list[str]:
        """Codes in ``b`` only."""
        return self._codes("added")

    @property
    def removed(self) -> list[str]:
        """Codes in ``a`` only."""
        return self._codes("removed")

    @property
    def changed(self) -> list[str]:
        """Codes in both whose geometry or attributes differ."""
        return self._codes("changed")


@dataclass(frozen=True)
class PublishResult:
    """What a publish did.

    Attributes
    ----------
    version
        The new version number.
    n_grids
        Grids in it.
    added, removed, changed
        Grid codes, against the layer it replaced.
    issues_checked, issues_moved
        Issues whose grid could have changed (those inside the changed area; every other
        issue provably keeps its grid) and those whose grid, village or town did change.
    households_moved
        Likewise for household points (0 when the store has no households layer).
    """

    version: int
    n_grids: int
    added: list[str]
    removed: list[str]
    changed: list[str]
    issues_checked: int
    issues_moved: int
    households_moved: int


def _checkpoint(stage: str) -> None:
    """Called between the writes of a publish; a test seam for simulated crashes."""


def _now() -> pd.Timestamp:
    return pd.Timestamp.now(tz="UTC").floor("ms")


def _local(ts: object) -> str:
    """A stored UTC time as Beijing time, for messages."""
    return f"{beijing_stamp(ts)} (UTC+8)"


def _as_multi(grids: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """A copy with every Polygon as a one-part MultiPolygon (what a GeoPackage stores)."""
    out = grids.copy()
    geoms = out.geometry.to_numpy()
    single = shapely.get_type_id(geoms) == 3
    if single.any():
        geoms = geoms.copy()
        geoms[single] = [shapely.MultiPolygon([g]) for g in geoms[single]]
        out[out.geometry.name] = gpd.GeoSeries(geoms, index=out.index, crs=out.crs)
    return out


def _content_hash(grids: gpd.GeoDataFrame) -> str:
    """A hash of what assignment depends on: codes and geometry, in code order."""
    ordered = _as_multi(grids).sort_values("grid_code", kind="stable")
    keys = ["\x1f".join(row) for row in zip(*(_text(ordered[c]) for c in GRID_KEYS), strict=True)]
    wkb = shapely.to_wkb(ordered.geometry.to_numpy(), byte_order=1)
    digest = hashlib.sha256("\x1e".join(keys).encode())
    digest.update(b"".join(w or b"" for w in wkb))
    return digest.hexdigest()


def _text(series: pd.Series) -> np.ndarray:
    """Values as comparable text (missing → empty), an object array."""
    if series.dtype == object:
        return np.array(["" if pd.isna(v) else str(v) for v in series], dtype=object)
    if pd.api.types.is_string_dtype(series.dtype):
        return series.to_numpy(dtype=object, na_value="")
    return (
        series.astype(str).to_numpy(dtype=object)
        if series.notna().all()
        else _text(series.astype(object))
    )


def _isin(series: pd.Series, values: object) -> np.ndarray:
    """Which values of a code column are among ``values`` (fast on text columns)."""
    return pd.Series(_text(series)).isin(list(values)).to_numpy()  # type: ignore[call-overload]


def _compare(old: gpd.GeoDataFrame, new: gpd.GeoDataFrame) -> pd.DataFrame:
    """Per grid code: status, geometry_changed and changed_columns between two layers."""
    a_codes, b_codes = _text(old["grid_code"]), _text(new["grid_code"])
    codes = np.union1d(a_codes, b_codes).astype(object)
    ia = pd.Index(a_codes).get_indexer(codes)
    ib = pd.Index(b_codes).get_indexer(codes)
    both = np.flatnonzero((ia >= 0) & (ib >= 0))
    ja, jb = ia[both], ib[both]
    geometry_changed = np.zeros(len(codes), dtype=bool)
    geometry_changed[both] = shapely.to_wkb(
        old.geometry.to_numpy()[ja], byte_order=1
    ) != shapely.to_wkb(new.geometry.to_numpy()[jb], byte_order=1)
    changed: list[list[str]] = [[] for _ in codes]
    for col in (c for c in new.columns if c != new.geometry.name):
        left = _text(old[col])[ja] if col in old.columns else np.full(len(both), "", dtype=object)
        for i in both[left != _text(new[col])[jb]]:
            changed[i].append(col)
    columns = np.array([",".join(c) for c in changed], dtype=object)
    status = np.where(ia < 0, "added", np.where(ib < 0, "removed", "unchanged")).astype(object)
    status[(ia >= 0) & (ib >= 0) & (geometry_changed | (columns != ""))] = "changed"
    return pd.DataFrame(
        {
            "grid_code": codes,
            "status": status,
            "geometry_changed": geometry_changed,
            "changed_columns": columns,
        }
    )


def _overlaps(old: gpd.GeoDataFrame, new: gpd.GeoDataFrame) -> pd.DataFrame:
    """Area (m²) of every old × new intersection, plus each side's area in no grid of the other.

    Returns ``old_grid_code``, ``new_grid_code`` (empty code = no grid) and ``area_m2``.
    """
    og, ng = _valid(old.geometry.to_numpy()), _valid(new.geometry.to_numpy())
    oi, ni = shapely.STRtree(ng).query(og, predicate="intersects") if len(ng) else ([], [])
    oi, ni = np.asarray(oi, dtype=np.int64), np.asarray(ni, dtype=np.int64)
    area = shapely.area(shapely.intersection(og[oi], ng[ni])) if len(oi) else np.zeros(0)
    scale = np.maximum(shapely.area(og[oi]), shapely.area(ng[ni])) if len(oi) else area
    keep = area > _SHARE_TOLERANCE * scale
    pairs = pd.DataFrame(
        {
            "old_grid_code": old["grid_code"].to_numpy()[oi[keep]],
            "new_grid_code": new["grid_code"].to_numpy()[ni[keep]],
            "area_m2": area[keep],
        }
    )
    rest = []
    for frame, side, other in (
        (old, "old_grid_code", "new_grid_code"),
        (new, "new_grid_code", "old_grid_code"),
    ):
        total = pd.Series(
            shapely.area(frame.geometry.to_numpy()), index=frame["grid_code"].to_numpy()
        )
        covered = pairs.groupby(side)["area_m2"].sum().reindex(total.index, fill_value=0.0)
        gap = total - covered
        gap = gap[gap > 1e-6 * total.clip(lower=1.0)]
        rest.append(pd.DataFrame({side: gap.index, other: "", "area_m2": gap.to_numpy()}))
    return pd.concat([pairs, *rest], ignore_index=True)


def _valid(geoms: np.ndarray) -> np.ndarray:
    """Invalid polygons made valid for measuring overlaps (a draft may hold broken ones)."""
    bad = ~shapely.is_valid(geoms) & ~shapely.is_missing(geoms)
    if not bad.any():
        return geoms
    out = geoms.copy()
    out[bad] = shapely.make_valid(geoms[bad])
    return out


def _bounds(*frames: gpd.GeoDataFrame) -> tuple[float, float, float, float] | None:
    geoms = np.concatenate([f.geometry.to_numpy() for f in frames])
    geoms = geoms[~shapely.is_empty(geoms)] if len(geoms) else geoms
    if not len(geoms):
        return None
    x0, y0, x1, y1 = shapely.total_bounds(geoms)
    return (float(x0), float(y0), float(x1), float(y1))


def _assign_in_area(
    tx: Transaction,
    table: str,
    key: str,
    grids: gpd.GeoDataFrame,
    bbox: tuple[float, float, float, float],
) -> tuple[pd.DataFrame, pd.DataFrame] | None:
    """The points of ``table`` inside ``bbox``: stored codes and codes under ``grids``.

    Exact for every point in the box: each grid that can contain one meets the box, and
    those grids keep their codes, so ties on shared edges go the same way as with all grids.
    Returns None when the table is absent or lacks the key or ``grid_code``.
    """
    try:
        available = tx.columns(table)
    except GridGovError:
        return None
    if key not in available or "grid_code" not in available or "geometry" not in available:
        return None
    codes = [c for c in (*GRID_KEYS, "assign_problem") if c in available]
    points = tx.read(table, columns=[key, *codes, "geometry"], bbox=bbox, bbox_crs=grids.crs)
    stored = pd.DataFrame({c: _text(points[c]) for c in [key, *codes]}, index=points.index)
    near = grids[grids.intersects(shapely.box(*bbox))]
    if len(near):
        got = assign_events(points, near, index=grid_index(near))
        fresh = pd.DataFrame({c: got[c].astype(str).to_numpy() for c in codes}, index=points.index)
    else:  # the changed area holds no grid any more: every point there is outside
        fresh = pd.DataFrame({c: "" for c in codes}, index=points.index)
        if "assign_problem" in codes:
            fresh["assign_problem"] = PROBLEM_OUTSIDE
    fresh.insert(0, key, stored[key].to_numpy())
    return stored, fresh


def _moved(stored: pd.DataFrame, fresh: pd.DataFrame) -> np.ndarray:
    differ = np.zeros(len(stored), dtype=bool)
    for col in fresh.columns[1:]:
        differ |= stored[col].to_numpy() != fresh[col].to_numpy()
    return differ


class VersionedGrids:
    """Versions, drafts and the change log of a store's grid layer.

    Parameters
    ----------
    store
        A GeoPackage or PostGIS store holding ``grids`` (and usually ``issues`` and
        ``households``). On first use the version tables are created and the current
        ``grids`` layer becomes version 1.

    Notes
    -----
    The ``grids`` layer always holds the latest version, so the rest of GridGov reads it
    as before. Writers are serialised (SQLite's write lock; a PostgreSQL advisory lock).
    """

    def __init__(self, store: Store) -> None:
        self.store = store
        self._ready_done = False

    # -- set-up -------------------------------------------------------------------------

    def _templates(self, grids: gpd.GeoDataFrame) -> dict[str, pd.DataFrame]:
        def frame(**columns: str) -> pd.DataFrame:
            return pd.DataFrame({k: pd.Series([], dtype=v) for k, v in columns.items()})

        clash = [c for c in ("version", "draft_id", "revision") if c in grids.columns]
        if clash:
            raise VersionError(
                f"the grids layer has column(s) {clash}, which versioning uses itself; "
                "rename them in the grids layer first"
            )
        sample = _as_multi(grids.iloc[:1])
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

    def _ready(self) -> None:
        """Create the version tables and version 1 if this store has none yet."""
        if self._ready_done:
            return
        if "grids" not in self.store.layers():
            raise VersionError(f"{self.store.location}: no grids layer; import grids first")
        grids = self.store.read("grids")
        if not isinstance(grids, gpd.GeoDataFrame):
            raise VersionError(f"{self.store.location}: the grids layer has no geometry")
        missing = [c for c in GRID_KEYS if c not in grids.columns]
        if missing:
            raise VersionError(
                f"{self.store.location}: the grids layer lacks column(s) {missing}; "
                f"versioning needs {list(GRID_KEYS)}"
            )
        present = set(self.store.layers())
        # Publishing updates issues and households by key: index the keys once, here.
        keys: dict[str, list[tuple[str, ...]]] = {}
        with self.store.transaction(readonly=True) as tx:
            for table, key in (("issues", ISSUE_ID), ("households", HOUSEHOLD_ID)):
                if table in present and key in tx.columns(table):
                    keys[table] = [(key,)]
        keys |= {
            "grid_version_features": [("version",), ("grid_code",)],
            "grid_version_map": [("version",)],
            "issue_grid_history": [("version",), ("ticket_id",)],
            "draft_features": [("draft_id", "revision")],
        }
        self.store.create_tables(self._templates(grids), indexes=keys)
        with self.store.transaction() as tx:
            tx.lock(_LOCK)
            if len(tx.read("grid_versions", columns=["version"])) == 0:
                first = _as_multi(tx.read("grids"))
                now = _now()
                tx.append("grid_version_features", first.assign(version=np.int64(1)))
                tx.append(
                    "grid_versions",
                    self._version_row(
                        1,
                        now,
                        "system",
                        "启用版本管理时的网格 / grids found when versioning began",
                        "initial",
                        first,
                        0,
                        0,
                    ),
                )
                tx.append(
                    "change_log",
                    self._log_row(now, "system", "init", version=1, detail=_n_grids(len(first))),
                )
        self._ready_done = True

    @staticmethod
    def _version_row(
        version: int,
        at: pd.Timestamp,
        author: str,
        reason: str,
        source: str,
        grids: gpd.GeoDataFrame,
        issues_moved: int,
        households_moved: int,
    ) -> pd.DataFrame:
        return pd.DataFrame(
            {
                "version": [version],
                "published_at": pd.Series([at], dtype="datetime64[ms, UTC]"),
                "published_by": [author],
                "reason": [reason],
                "source": [source],
                "n_grids": [len(grids)],
                "issues_moved": [issues_moved],
                "households_moved": [households_moved],
                "content_hash": [_content_hash(grids)],
            }
        )

    @staticmethod
    def _log_row(
        at: pd.Timestamp,
        author: str,
        action: str,
        *,
        version: int = 0,
        draft_id: str = "",
        scope_code: str = "",
        revision: int = 0,
        reason: str = "",
        detail: str = "",
    ) -> pd.DataFrame:
        return pd.DataFrame(
            {
                "at": pd.Series([at], dtype="datetime64[ms, UTC]"),
                "author": [author],
                "action": [action],
                "version": [version],
                "draft_id": [draft_id],
                "scope_code": [scope_code],
                "revision": [revision],
                "reason": [reason],
                "detail": [detail],
            }
        )

    # -- reading ------------------------------------------------------------------------

    def versions(self) -> pd.DataFrame:
        """Every published version, oldest first, with ``current`` marking the latest."""
        self._ready()
        with self.store.transaction(readonly=True) as tx:
            table = tx.read("grid_versions")
        table = table.sort_values("version").reset_index(drop=True)
        table["current"] = table["version"] == table["version"].max()
        return table

    def current_version(self) -> int:
        """The number of the latest version (the one the ``grids`` layer holds)."""
        return int(self.versions()["version"].max())

    def read_version(self, version: int) -> gpd.GeoDataFrame:
        """The grids of a published version, sorted by grid code."""
        self._ready()
        with self.store.transaction(readonly=True) as tx:
            return self._read_version(tx, version)

    def _read_version(
        self, tx: Transaction, version: int, *, where: Mapping[str, object] | None = None
    ) -> gpd.GeoDataFrame:
        frame = tx.read("grid_version_features", where={"version": int(version), **(where or {})})
        if not len(frame) and where is None:
            known = sorted(tx.read("grid_versions", columns=["version"])["version"].tolist())
            raise VersionError(f"no grid version {version}; the versions are {known}")
        return self._clean(frame.drop(columns=["version"]))

    @staticmethod
    def _clean(frame: pd.DataFrame) -> gpd.GeoDataFrame:
        assert isinstance(frame, gpd.GeoDataFrame)
        out = frame.sort_values("grid_code", kind="stable").reset_index(drop=True)
        return gpd.GeoDataFrame(out, geometry="geometry", crs=frame.crs)

    def change_log(self, *, scope_code: str | None = None) -> pd.DataFrame:
        """Every recorded change (who, when, what, why), oldest first."""
        self._ready()
        with self.store.transaction(readonly=True) as tx:
            log = tx.read("change_log", where={"scope_code": scope_code} if scope_code else None)
        return log.sort_values("at", kind="stable").reset_index(drop=True)

    def drafts(self, scope_code: str | None = None) -> pd.DataFrame:
        """The drafts (one row each: ``draft_id``, ``status``, ``revision``, ``author``…)."""
        self._ready()
        with self.store.transaction(readonly=True) as tx:
            rows = tx.read("drafts", where={"scope_code": scope_code} if scope_code else None)
        return rows.sort_values("updated_at", kind="stable").reset_index(drop=True)

    def read_draft(self, draft_id: str) -> Draft:
        """The latest saved revision of a draft (e.g. a conflicted copy)."""
        self._ready()
        with self.store.transaction(readonly=True) as tx:
            return self._draft(tx, self._draft_row(tx, draft_id))

    def _draft_row(self, tx: Transaction, draft_id: str) -> pd.Series:
        rows = tx.read("drafts", where={"draft_id": draft_id})
        if not len(rows):
            raise VersionError(f"no draft {draft_id!r}; see VersionedGrids.drafts()")
        return rows.iloc[0]

    def _draft(self, tx: Transaction, row: pd.Series) -> Draft:
        if int(row["revision"]) == 0:
            grids = self._read_version(
                tx, int(row["base_version"]), where={f"{row['scope']}_code": row["scope_code"]}
            )
        else:
            grids = self._clean(
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

    def issue_grids(self, version: int) -> pd.Series:
        """The grid code each issue had under ``version`` (index: ``ticket_id``).

        Walks back from the issues' current grid codes through the moves recorded by
        later publishes; issues imported later get the grid they were first given.
        """
        self._ready()
        with self.store.transaction(readonly=True) as tx:
            issues = tx.read("issues", columns=[ISSUE_ID, "grid_code"])
            later = tx.read("issue_grid_history")
        current = pd.Series(_text(issues["grid_code"]), index=_text(issues[ISSUE_ID]))
        later = later[later["version"] > int(version)].sort_values("version", kind="stable")
        first = later.drop_duplicates(ISSUE_ID, keep="first").set_index(ISSUE_ID)
        known = first.index.intersection(current.index)
        current.loc[known] = _text(first.loc[known, "old_grid_code"])
        current.index.name = ISSUE_ID
        return current.rename("grid_code")

    def history(self, grid_code: str) -> pd.DataFrame:
        """The life of one grid across versions.

        One row per version in which the grid was added, changed, kept or removed:
        ``version``, ``published_at``, ``published_by``, ``reason``, ``status``,
        ``changed_columns``, ``area_m2``, ``households`` (the grid's attribute),
        ``issues_in`` and ``issues_out`` (issues that publish moved into / out of it).
        """
        self._ready()
        with self.store.transaction(readonly=True) as tx:
            rows = tx.read("grid_version_features", where={"grid_code": grid_code})
            versions = tx.read("grid_versions").sort_values("version")
            moved_in = tx.read(
                "issue_grid_history", columns=["version"], where={"grid_code": grid_code}
            )
            moved_out = tx.read(
                "issue_grid_history", columns=["version"], where={"old_grid_code": grid_code}
            )
        by_version = {int(str(v)): r for v, r in rows.groupby("version")}
        records = []
        previous: gpd.GeoDataFrame | None = None
        for _, meta in versions.iterrows():
            v = int(meta["version"])
            now = by_version.get(v)
            if now is None:
                if previous is not None:
                    status, columns, area, households = "removed", "", np.nan, np.nan
                    previous = None
                else:
                    continue
            else:
                now = _as_multi(gpd.GeoDataFrame(now.drop(columns=["version"]), crs=rows.crs))
                if previous is None:
                    status, columns = "added", ""
                else:
                    diff = _compare(previous, now).iloc[0]
                    status, columns = str(diff["status"]), str(diff["changed_columns"])
                    if diff["geometry_changed"]:
                        columns = ",".join(filter(None, ["geometry", columns]))
                area = float(now.geometry.area.iloc[0])
                households = now["households"].iloc[0] if "households" in now else np.nan
                previous = now
            records.append(
                {
                    "version": v,
                    "published_at": meta["published_at"],
                    "published_by": meta["published_by"],
                    "reason": meta["reason"],
                    "status": status,
                    "changed_columns": columns,
                    "area_m2": area,
                    "households": households,
                    "issues_in": int((moved_in["version"] == v).sum()),
                    "issues_out": int((moved_out["version"] == v).sum()),
                }
            )
        if not records:
            raise VersionError(f"grid {grid_code!r} is in no published version")
        return pd.DataFrame(records)

    def diff(self, a: int | gpd.GeoDataFrame, b: int | gpd.GeoDataFrame) -> VersionDiff:
        """Compare two grid layers: grids added, removed, changed, and where area and
        households went.

        Parameters
        ----------
        a, b
            The older and the newer side: each a version number or a grid layer not (yet)
            published, e.g. a draft's grids or :meth:`draft_layer`. A layer needs
            ``grid_code`` and a CRS; it is reprojected to the versions' CRS.

        Households are the points of the ``households`` layer as it is now, placed in the
        grids of each side. To compare one village, give both sides as that village's grids.
        """
        self._ready()
        with self.store.transaction(readonly=True) as tx:
            old, new = self._diff_sides(tx, a, b)
            table = _compare(old, new)
            moving = table[table.status.isin(["added", "removed"]) | table.geometry_changed]
            codes = set(moving.grid_code)
            old_part = old[_isin(old.grid_code, codes)]
            new_part = new[_isin(new.grid_code, codes)]
            flows = _overlaps(old_part, new_part)
            households = pd.DataFrame(
                {
                    "from_grid": pd.Series([], dtype="str"),
                    "to_grid": pd.Series([], dtype="str"),
                    "households": pd.Series([], dtype="int64"),
                }
            )
            counts: dict[str, pd.Series | None] = {}
            box = _bounds(old_part, new_part)
            before = after = None
            if box is not None:
                before = _assign_in_area(tx, "households", HOUSEHOLD_ID, old, box)
                after = _assign_in_area(tx, "households", HOUSEHOLD_ID, new, box)
            if before is not None and after is not None:
                pair = pd.DataFrame(
                    {"from_grid": before[1]["grid_code"], "to_grid": after[1]["grid_code"]}
                )
                pair = pair[_isin(pair.from_grid, codes) | _isin(pair.to_grid, codes)]
                households = pair.value_counts().rename("households").reset_index()
            different = table.grid_code[table.status != "unchanged"]
            for side, grids in (("a", old), ("b", new)):
                counts[side] = self._household_counts(tx, grids, different)
        flows = flows.rename(columns={"old_grid_code": "from_grid", "new_grid_code": "to_grid"})
        flows = flows.merge(households, on=["from_grid", "to_grid"], how="outer")
        flows["area_m2"] = flows["area_m2"].fillna(0.0)
        flows["households"] = flows["households"].fillna(0).astype(np.int64)
        flows = flows.sort_values(["from_grid", "to_grid"]).reset_index(drop=True)
        area_a = old.set_index("grid_code").geometry.area
        area_b = new.set_index("grid_code").geometry.area
        table["area_a_m2"] = table.grid_code.map(area_a)
        table["area_b_m2"] = table.grid_code.map(area_b)
        for side, count in counts.items():
            table[f"households_{side}"] = np.nan if count is None else table.grid_code.map(count)
        return VersionDiff(a=_number(a), b=_number(b), grids=table, flows=flows)

    def _diff_sides(
        self, tx: Transaction, a: int | gpd.GeoDataFrame, b: int | gpd.GeoDataFrame
    ) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
        """Both sides of a diff as layers in one CRS (that of the versions, if one is)."""
        read = [
            None if isinstance(s, gpd.GeoDataFrame) else self._read_version(tx, int(s))
            for s in (a, b)
        ]
        crs = next((f.crs for f in read if f is not None), None)
        if crs is None and isinstance(a, gpd.GeoDataFrame):
            crs = a.crs
        old, new = (
            f if f is not None else _diff_layer(cast(gpd.GeoDataFrame, s), crs)
            for f, s in zip(read, (a, b), strict=True)
        )
        return _as_multi(old), _as_multi(new)

    @staticmethod
    def _household_counts(
        tx: Transaction, grids: gpd.GeoDataFrame, codes: pd.Series
    ) -> pd.Series | None:
        """Household points per grid code of ``grids``, counted only for ``codes``.

        None when the store has no households layer (with ``household_id``).
        """
        wanted = grids[_isin(grids.grid_code, codes)]
        box = _bounds(wanted)
        got = _assign_in_area(tx, "households", HOUSEHOLD_ID, grids, box) if box else None
        if got is None:
            return None if box else pd.Series(dtype=np.int64)
        return got[1]["grid_code"].value_counts().reindex(wanted.grid_code, fill_value=0)

    # -- drafts -------------------------------------------------------------------------

    def open_draft(self, village_code: str, author: str) -> Draft:
        """The open draft of a village (or town: pass its code), created if there is none.

        Two planners opening the same village get the same draft; the first to save wins
        and the other's save raises :class:`ConflictError` (their edits are kept).
        """
        _need(author=author)
        self._ready()
        code = str(village_code)
        with self.store.transaction() as tx:
            tx.lock(_LOCK)
            head = self._head(tx)
            scope = ""
            for kind in ("village", "town"):
                if len(
                    tx.read(
                        "grid_version_features",
                        columns=["grid_code"],
                        where={"version": head, f"{kind}_code": code},
                    )
                ):
                    scope = kind
                    break
            if not scope:
                raise VersionError(
                    f"no grid of version {head} has village_code or town_code {code!r}; "
                    "pass the 12-digit code of a village or the 9-digit code of a town"
                )
            rows = tx.read("drafts", where={"scope_code": code, "status": OPEN})
            if len(rows):
                row = rows.sort_values("updated_at").iloc[-1]
            else:
                now = _now()
                draft_id = f"{code}-{uuid.uuid4().hex[:8]}"
                new_row = _draft_row(draft_id, scope, code, head, 0, OPEN, author, now)
                tx.append("drafts", new_row)
                tx.append(
                    "change_log",
                    self._log_row(
                        now,
                        author,
                        "open_draft",
                        version=head,
                        draft_id=draft_id,
                        scope_code=code,
                        detail=f"{_SCOPE_ZH[scope]}草案，基于第 {head} 版 / {scope} draft "
                        f"based on version {head}",
                    ),
                )
                row = new_row.iloc[0]
            return self._draft(tx, row)

    def save_draft(
        self,
        draft: Draft,
        grids: gpd.GeoDataFrame,
        *,
        author: str,
        reason: str,
        expected_revision: int,
    ) -> Draft:
        """Save ``grids`` as the next revision of ``draft``.

        Parameters
        ----------
        draft
            The draft being edited.
        grids
            Its grids after editing, in the grids layer's CRS (or any CRS: reprojected);
            every grid must belong to the draft's village (or town).
        author, reason
            Who saves and why (recorded in the change log).
        expected_revision
            The revision the edits started from (``draft.revision`` when it was read).

        Raises
        ------
        ConflictError
            When someone saved (or published) the draft after ``expected_revision``. The
            edits are then saved as a new draft with status ``conflicted`` whose id is the
            error's ``kept_draft_id``, so nothing is lost.
        """
        _need(author=author, reason=reason)
        self._ready()
        kept = ""
        with self.store.transaction() as tx:
            tx.lock(_LOCK)
            scope = {f"{draft.scope}_code": draft.scope_code}
            crs = self._read_version(tx, draft.base_version, where=scope).crs
            edits = self._draft_grids(grids, draft, tx.columns("grids"), crs)
            row = self._draft_row(tx, draft.draft_id)
            now = _now()
            if int(row["revision"]) != int(expected_revision) or row["status"] == PUBLISHED:
                # Lost: keep the edits as a draft of their own, then tell who won.
                kept = f"{draft.scope_code}-{uuid.uuid4().hex[:8]}"
                self._write_draft(tx, kept, edits, 1)
                tx.append(
                    "drafts",
                    _draft_row(
                        kept,
                        draft.scope,
                        draft.scope_code,
                        draft.base_version,
                        1,
                        CONFLICTED,
                        author,
                        now,
                        reason=reason,
                        conflict_of=draft.draft_id,
                    ),
                )
                tx.append(
                    "change_log",
                    self._log_row(
                        now,
                        author,
                        "conflict",
                        draft_id=kept,
                        scope_code=draft.scope_code,
                        revision=1,
                        reason=reason,
                        detail=f"保存冲突：{draft.draft_id} 已是第 {int(row['revision'])} 版"
                        f"（应为第 {int(expected_revision)} 版），修改另存于此 / lost against "
                        f"{draft.draft_id} revision {int(row['revision'])} (expected "
                        f"{int(expected_revision)}); edits kept here",
                    ),
                )
            else:
                revision = int(row["revision"]) + 1
                self._write_draft(tx, draft.draft_id, edits, revision)
                tx.update(
                    "drafts",
                    pd.DataFrame(
                        {
                            "draft_id": [draft.draft_id],
                            "revision": [revision],
                            "author": [author],
                            "updated_at": pd.Series([now], dtype="datetime64[ms, UTC]"),
                            "reason": [reason],
                        }
                    ),
                    key="draft_id",
                )
                tx.append(
                    "change_log",
                    self._log_row(
                        now,
                        author,
                        "save_draft",
                        draft_id=draft.draft_id,
                        scope_code=draft.scope_code,
                        revision=revision,
                        reason=reason,
                        detail=_n_grids(len(edits)),
                    ),
                )
                return self._draft(tx, self._draft_row(tx, draft.draft_id))
        raise _conflict(
            f"draft {draft.draft_id} ({draft.scope} {draft.scope_code}) changed since revision "
            f"{int(expected_revision)}: {_last_save(row)}. Your edits were not merged; they are "
            f"kept as draft {kept} (status conflicted): read them with read_draft({kept!r}), "
            "compare with the current draft and save again",
            draft,
            int(expected_revision),
            row,
            kept=kept,
        )

    @staticmethod
    def _write_draft(
        tx: Transaction, draft_id: str, grids: gpd.GeoDataFrame, revision: int
    ) -> None:
        tx.append("draft_features", grids.assign(draft_id=draft_id, revision=np.int64(revision)))

    @staticmethod
    def _draft_grids(
        grids: gpd.GeoDataFrame, draft: Draft, layer_columns: Sequence[str], crs: object
    ) -> gpd.GeoDataFrame:
        """The edited grids checked against the draft's scope, in the layer's columns and CRS."""
        if not isinstance(grids, gpd.GeoDataFrame):
            raise TypeError(f"grids must be a GeoDataFrame, got {type(grids).__name__}")
        problems: list[Problem] = []
        missing = [c for c in GRID_KEYS if c not in grids.columns]
        for col in missing:
            problems.append(
                Problem(
                    "missing_column",
                    "error",
                    col,
                    f"缺少列 {col} / no column {col!r}",
                    f"给每个网格填写 {col} / add {col!r} to every grid",
                )
            )
        if grids.crs is None:
            problems.append(
                Problem(
                    "no_crs",
                    "error",
                    "layer",
                    "网格没有坐标系 / the grids have no CRS",
                    f"设置坐标系 / set it, e.g. grids.set_crs('{get_settings().metric_crs}')",
                )
            )
        if problems:
            raise GridValidationError(problems)
        out = grids.to_crs(crs) if crs is not None and grids.crs != crs else grids.copy()
        codes = _text(out["grid_code"])
        scope_col = f"{draft.scope}_code"
        for i, code in enumerate(codes):
            label = code or f"row {i + 1}"
            if not code:
                problems.append(
                    Problem(
                        "missing_code",
                        "error",
                        label,
                        "缺少网格编码 / no grid_code",
                        "给每个网格 15 位编码 / give every grid its 15-digit code",
                    )
                )
            if str(out[scope_col].iloc[i]) != draft.scope_code:
                problems.append(
                    Problem(
                        "outside_scope",
                        "error",
                        label,
                        f"{scope_col} 为 {out[scope_col].iloc[i]}，不是 {draft.scope_code} / "
                        f"{scope_col} is {out[scope_col].iloc[i]!r}, not {draft.scope_code!r}",
                        f"{draft.scope_code} 的草案只能含本{_SCOPE_ZH[draft.scope]}的网格 / a "
                        f"draft of {draft.scope} {draft.scope_code} holds only its own grids",
                    )
                )
            geom = out.geometry.iloc[i]
            if geom is None or geom.is_empty or geom.geom_type not in ("Polygon", "MultiPolygon"):
                problems.append(
                    Problem(
                        "bad_geometry",
                        "error",
                        label,
                        "几何不是非空的面 / geometry is not a non-empty polygon",
                        "把网格画成面 / draw the grid as a polygon",
                    )
                )
        for code in pd.Series(codes)[pd.Series(codes).duplicated() & (pd.Series(codes) != "")]:
            problems.append(
                Problem(
                    "duplicate_code",
                    "error",
                    code,
                    "网格编码重复 / grid_code used twice",
                    "每个网格使用不同的编码 / give each grid its own code",
                )
            )
        if problems:
            raise GridValidationError(problems)
        return _conform(out, layer_columns)

    # -- publishing ---------------------------------------------------------------------

    def _head(self, tx: Transaction) -> int:
        return int(tx.read("grid_versions", columns=["version"])["version"].max())

    def draft_layer(self, draft: Draft) -> gpd.GeoDataFrame:
        """The whole grid layer publishing ``draft`` would give now: the current version with
        the draft's village (or town) replaced by the draft's grids, in grid-code order."""
        self._ready()
        with self.store.transaction(readonly=True) as tx:
            head = self._read_version(tx, self._head(tx))
            return _replace_scope(head, draft, tx.columns("grids"))

    def publish(
        self,
        draft_or_layer: Draft | gpd.GeoDataFrame,
        *,
        author: str,
        reason: str,
        check: Callable[[gpd.GeoDataFrame], object] | None = None,
    ) -> PublishResult:
        """Publish a draft (its latest saved revision) or a whole grid layer as a new version.

        Parameters
        ----------
        draft_or_layer
            A :class:`Draft` (its grids replace those of its village or town in the current
            layer) or a complete grid layer.
        author, reason
            Who publishes and why.
        check
            Called with the candidate layer (all grids) before anything is written; a
            result that is falsy, or whose ``publishable`` attribute is falsy (e.g.
            ``geo.planning.check``'s report), blocks the publish with
            :class:`PublishBlockedError` carrying the result. To check one village only:
            ``check=lambda g: check_draft(g[g.village_code == code], villages=villages)``.

        Raises
        ------
        ConflictError
            The draft was saved again since it was read, or its village was changed by a
            version published after the draft's base version.
        VersionError
            Nothing would change, or the grids layer was replaced outside versioning.
        """
        _need(author=author, reason=reason)
        self._ready()
        if isinstance(draft_or_layer, Draft):
            return self._publish(
                draft_or_layer,
                author=author,
                reason=reason,
                check=check,
                source=f"draft {draft_or_layer.draft_id}",
            )
        if isinstance(draft_or_layer, gpd.GeoDataFrame):
            return self._publish(
                draft_or_layer, author=author, reason=reason, check=check, source="layer"
            )
        raise TypeError(
            f"draft_or_layer must be a Draft or a GeoDataFrame, got {type(draft_or_layer).__name__}"
        )

    def rollback(self, version: int, *, author: str, reason: str) -> PublishResult:
        """Publish the content of an earlier version again, as a new version."""
        _need(author=author, reason=reason)
        old = self.read_version(version)
        return self._publish(
            old, author=author, reason=reason, check=None, source=f"rollback to {int(version)}"
        )

    def _publish(
        self,
        what: Draft | gpd.GeoDataFrame,
        *,
        author: str,
        reason: str,
        check: Callable[[gpd.GeoDataFrame], object] | None,
        source: str,
    ) -> PublishResult:
        with self.store.transaction() as tx:
            tx.lock(_LOCK)
            head = self._head(tx)
            head_row = tx.read("grid_versions", where={"version": head}).iloc[0]
            old = _as_multi(tx.read("grids"))
            layer_columns = tx.columns("grids")
            draft_row = None
            if isinstance(what, Draft):
                draft_row = self._check_draft(tx, what, old, head, head_row)
                saved = self._draft(tx, draft_row)
                new = _replace_scope(old, saved, layer_columns)
            else:
                new = _in_order(_conform(self._layer(what, old.crs), layer_columns))
            duplicated = new.grid_code[new.grid_code.duplicated()].unique().tolist()
            if duplicated:
                raise VersionError(
                    f"the new layer has grid code(s) {duplicated[:10]} twice; give each grid "
                    "its own code (a village's draft must not reuse codes of other villages)"
                )
            if check is not None:
                report = check(new.copy())
                if not getattr(report, "publishable", report):
                    raise PublishBlockedError(
                        f"{source} is not publishable: the check found errors ({report!s:.500}); "
                        "fix them, save the draft and publish again",
                        report,
                    )
            changes = _compare(old, new)
            touched = changes[changes.status != "unchanged"]
            # An unchanged layer is still worth a version when it was imported behind
            # versioning's back (it then records what the grids layer holds).
            if not len(touched) and _content_hash(old) == head_row["content_hash"]:
                raise VersionError(
                    f"nothing to publish: {source} has the same grids as the current version {head}"
                )
            version = head + 1
            now = _now()
            result = self._write_version(tx, version, head, old, new, changes, now)
            _checkpoint("issues")
            tx.append("grid_version_features", new.assign(version=np.int64(version)))
            tx.append(
                "grid_versions",
                self._version_row(
                    version,
                    now,
                    author,
                    reason,
                    source,
                    new,
                    result.issues_moved,
                    result.households_moved,
                ),
            )
            action = "rollback" if source.startswith("rollback") else "publish"
            tx.append(
                "change_log",
                self._log_row(
                    now,
                    author,
                    action,
                    version=version,
                    draft_id=what.draft_id if isinstance(what, Draft) else "",
                    scope_code=what.scope_code if isinstance(what, Draft) else "",
                    revision=what.revision if isinstance(what, Draft) else 0,
                    reason=reason,
                    detail=_publish_note(source, result),
                ),
            )
            if isinstance(what, Draft):
                tx.update(
                    "drafts",
                    pd.DataFrame(
                        {
                            "draft_id": [what.draft_id],
                            "status": [PUBLISHED],
                            "published_version": [version],
                        }
                    ),
                    key="draft_id",
                )
            _checkpoint("done")
        return result

    @staticmethod
    def _layer(layer: gpd.GeoDataFrame, crs: object) -> gpd.GeoDataFrame:
        missing = [c for c in GRID_KEYS if c not in layer.columns]
        if missing:
            raise VersionError(f"the layer lacks column(s) {missing}; grids need {list(GRID_KEYS)}")
        if layer.crs is None:
            raise VersionError(
                f"the layer has no CRS; set it, e.g. layer.set_crs('{get_settings().metric_crs}')"
            )
        bad = ~layer.geom_type.isin(["Polygon", "MultiPolygon"]) | layer.geometry.is_empty
        if bad.any():
            codes = _text(layer.loc[bad, "grid_code"])[:10].tolist()
            raise VersionError(f"grid(s) {codes} have no polygon geometry; draw them as polygons")
        return layer.to_crs(crs) if crs is not None and layer.crs != crs else layer

    def _check_draft(
        self, tx: Transaction, draft: Draft, old: gpd.GeoDataFrame, head: int, head_row: pd.Series
    ) -> pd.Series:
        """The stored draft row, once sure that publishing it overwrites nobody's work."""
        row = self._draft_row(tx, draft.draft_id)
        if row["status"] == PUBLISHED or int(row["revision"]) != draft.revision:
            raise _conflict(
                f"draft {draft.draft_id} is not the one you read (revision {draft.revision}): "
                f"{_last_save(row)}; read it again (read_draft({draft.draft_id!r})) and check "
                "it before publishing",
                draft,
                draft.revision,
                row,
            )
        if int(row["revision"]) == 0:
            raise VersionError(f"draft {draft.draft_id} has no saved edits; save it first")
        if _content_hash(old) != head_row["content_hash"]:
            raise VersionError(
                f"the grids layer no longer matches version {head} (it was replaced outside "
                "versioning, e.g. by an import); publish that layer as a version first: "
                "publish(store.read('grids'), author=…, reason=…)"
            )
        scope = {f"{draft.scope}_code": draft.scope_code}
        base = int(row["base_version"])
        base_hash = _content_hash(_as_multi(self._read_version(tx, base, where=scope)))
        for v in range(base + 1, head + 1):
            if _content_hash(_as_multi(self._read_version(tx, v, where=scope))) != base_hash:
                meta = tx.read("grid_versions", where={"version": v}).iloc[0]
                raise _conflict(
                    f"{draft.scope} {draft.scope_code} changed after this draft's base version "
                    f"{base}: {meta['published_by']} published version {v} at "
                    f"{_local(meta['published_at'])} ({meta['reason']}). Your draft is kept; "
                    f"open a new draft, redo the edits on version {head} and publish that",
                    draft,
                    draft.revision,
                    row,
                    by=(meta["published_by"], meta["published_at"]),
                )
        return row

    def _write_version(
        self,
        tx: Transaction,
        version: int,
        head: int,
        old: gpd.GeoDataFrame,
        new: gpd.GeoDataFrame,
        changes: pd.DataFrame,
        now: pd.Timestamp,
    ) -> PublishResult:
        """Rewrite the grids layer, move issues and households, record the grid mapping."""
        touched = changes[changes.status != "unchanged"]
        added = sorted(touched.grid_code[touched.status == "added"])
        removed = sorted(touched.grid_code[touched.status == "removed"])
        changed = sorted(touched.grid_code[touched.status == "changed"])
        # Points can change grid only where a grid's geometry or codes changed.
        moving = changes.status.isin(["added", "removed"]) | changes.geometry_changed
        for col in GRID_KEYS[1:]:
            moving |= changes.changed_columns.str.contains(col, regex=False)
        codes = set(changes.grid_code[moving])
        box = _bounds(old[_isin(old.grid_code, codes)], new[_isin(new.grid_code, codes)])

        tx.delete("grids", {"grid_code": sorted(removed + changed)})
        tx.append("grids", new[_isin(new.grid_code, added + changed)])
        _checkpoint("grids")

        checked = issues_moved = households_moved = 0
        if box is not None:
            got = _assign_in_area(tx, "issues", ISSUE_ID, new, box)
            if got is not None:
                stored, fresh = got
                differ = _moved(stored, fresh)
                checked, issues_moved = len(stored), int(differ.sum())
                tx.update("issues", fresh[differ], key=ISSUE_ID)
                regrid = differ & (stored["grid_code"].to_numpy() != fresh["grid_code"].to_numpy())
                tx.append(
                    "issue_grid_history",
                    pd.DataFrame(
                        {
                            "ticket_id": stored[ISSUE_ID].to_numpy()[regrid],
                            "version": np.int64(version),
                            "old_grid_code": stored["grid_code"].to_numpy()[regrid],
                            "grid_code": fresh["grid_code"].to_numpy()[regrid],
                        }
                    ),
                )
            _checkpoint("issues-moved")
            got = _assign_in_area(tx, "households", HOUSEHOLD_ID, new, box)
            if got is not None:
                stored, fresh = got
                differ = _moved(stored, fresh)
                households_moved = int(differ.sum())
                tx.update("households", fresh[differ], key=HOUSEHOLD_ID)

        tx.append("grid_version_map", self._grid_map(old, new, codes, version, head))
        return PublishResult(
            version=version,
            n_grids=len(new),
            added=added,
            removed=removed,
            changed=changed,
            issues_checked=checked,
            issues_moved=issues_moved,
            households_moved=households_moved,
        )

    @staticmethod
    def _grid_map(
        old: gpd.GeoDataFrame, new: gpd.GeoDataFrame, moving: set[str], version: int, head: int
    ) -> pd.DataFrame:
        """Old → new area shares: 1 for grids whose geometry stayed, overlaps for the rest."""
        same = old[~_isin(old.grid_code, moving)]
        flows = pd.concat(
            [
                pd.DataFrame(
                    {
                        "old_grid_code": same.grid_code.to_numpy(),
                        "new_grid_code": same.grid_code.to_numpy(),
                        "area_m2": same.geometry.area.to_numpy(),
                    }
                ),
                _overlaps(old[_isin(old.grid_code, moving)], new[_isin(new.grid_code, moving)]),
            ],
            ignore_index=True,
        )
        old_area = old.set_index("grid_code").geometry.area
        new_area = new.set_index("grid_code").geometry.area
        flows["share_of_old"] = flows.area_m2 / flows.old_grid_code.map(old_area)
        flows["share_of_new"] = flows.area_m2 / flows.new_grid_code.map(new_area)
        flows.insert(0, "old_version", np.int64(head))
        flows.insert(0, "version", np.int64(version))
        return flows


def _replace_scope(
    layer: gpd.GeoDataFrame, draft: Draft, layer_columns: Sequence[str]
) -> gpd.GeoDataFrame:
    """``layer`` with the grids of the draft's village (or town) replaced by the draft's."""
    kept = layer[_text(layer[f"{draft.scope}_code"]) != draft.scope_code]
    new = pd.concat([_conform(kept, layer_columns), _conform(draft.grids, layer_columns)])
    return _in_order(gpd.GeoDataFrame(new, geometry="geometry", crs=layer.crs))


def _in_order(grids: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Every grid a MultiPolygon, in grid-code order (how versions are stored)."""
    return _as_multi(grids).sort_values("grid_code", kind="stable").reset_index(drop=True)


def _diff_layer(layer: gpd.GeoDataFrame, crs: object) -> gpd.GeoDataFrame:
    """A layer given to :meth:`VersionedGrids.diff`, checked and in ``crs``."""
    if "grid_code" not in layer.columns:
        raise VersionError("the layer to compare has no grid_code column; add it to every grid")
    if layer.crs is None:
        raise VersionError(
            f"the layer to compare has no CRS; set it, e.g. set_crs('{get_settings().metric_crs}')"
        )
    codes = pd.Series(_text(layer["grid_code"]))
    twice = sorted(set(codes[codes.duplicated()]))
    if twice:
        raise VersionError(
            f"网格编码重复 {twice[:10]} / the layer to compare has grid code(s) {twice[:10]} "
            "twice; give each grid its own code"
        )
    out = layer.to_crs(crs) if crs is not None and layer.crs != crs else layer
    return out.rename_geometry("geometry") if out.geometry.name != "geometry" else out


def _last_save(row: pd.Series) -> str:
    """Who last wrote a ``drafts`` row and what they did, e.g. ``王规划 saved revision 2 at …``."""
    what = (
        f"published it as version {int(row['published_version'])}"
        if row["status"] == PUBLISHED
        else f"saved revision {int(row['revision'])}"
    )
    return f"{row['author']} {what} at {_local(row['updated_at'])}"


def _conflict(
    message: str,
    draft: Draft,
    expected: int,
    row: pd.Series,
    *,
    by: tuple[object, object] | None = None,
    kept: str | None = None,
) -> ConflictError:
    """The :class:`ConflictError` of ``draft`` against its stored ``row``; the change came
    from ``by`` (who, when: default the row's last save)."""
    who, when = by if by is not None else (row["author"], row["updated_at"])
    return ConflictError(
        message,
        draft_id=draft.draft_id,
        scope_code=draft.scope_code,
        expected_revision=int(expected),
        current_revision=int(row["revision"]),
        saved_by=str(who),
        saved_at=pd.Timestamp(when),  # type: ignore[arg-type]
        kept_draft_id=kept,
    )


def _n_grids(n: int) -> str:
    return f"{n} 个网格 / {n} grids"


def _publish_note(source: str, result: PublishResult) -> str:
    """The change-log line of a publish (``source``: ``draft X``, ``layer``, ``rollback to N``)."""
    kind, _, what = source.partition(" ")
    zh = {
        "draft": f"草案 {what}",
        "layer": "整个图层",
        "rollback": f"回退到第 {what.removeprefix('to ')} 版",
    }
    added, removed, changed = len(result.added), len(result.removed), len(result.changed)
    return (
        f"{zh.get(kind, source)}：新增 {added}、撤销 {removed}、调整 {changed} 个网格，"
        f"{result.issues_moved} 件诉求、{result.households_moved} 户住户改换网格 / {source}: "
        f"{added} added, {removed} removed, {changed} changed; {result.issues_moved} issues "
        f"and {result.households_moved} households moved"
    )


def _number(side: int | gpd.GeoDataFrame) -> int | None:
    return None if isinstance(side, gpd.GeoDataFrame) else int(side)


def _conform(grids: pd.DataFrame, layer_columns: Sequence[str]) -> gpd.GeoDataFrame:
    """The grids with the layer's columns first (missing ones empty), extra columns after."""
    assert isinstance(grids, gpd.GeoDataFrame)
    geometry = grids.geometry.name
    frame = grids.rename_geometry("geometry") if geometry != "geometry" else grids
    columns = [c for c in layer_columns if c != "geometry"]
    extra = [c for c in frame.columns if c not in columns and c != "geometry"]
    out = frame.reindex(columns=[*columns, *extra, "geometry"])
    for col in GRID_KEYS:
        out[col] = _text(out[col])
    return gpd.GeoDataFrame(out, geometry="geometry", crs=grids.crs)


def _draft_row(
    draft_id: str,
    scope: str,
    scope_code: str,
    base_version: int,
    revision: int,
    status: str,
    author: str,
    at: pd.Timestamp,
    *,
    reason: str = "",
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
            "reason": [reason],
            "conflict_of": [conflict_of],
            "published_version": [0],
        }
    )


def _need(**values: str) -> None:
    """Refuse blank authors and reasons: every change records who and why."""
    blank = [name for name, value in values.items() if not str(value or "").strip()]
    if blank:
        raise ValueError(
            f"{' and '.join(blank)} must not be empty: every change records who made it and why"
        )
