"""Drafts of one village or town: opening one, and saving revisions with optimistic locking
(a lost save keeps its edits as a conflicted draft and says who won)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

import geopandas as gpd
import numpy as np
import pandas as pd

from geo.access.audit import AUDIT, Audited, audited_row
from geo.core.errors import GridValidationError, Problem
from geo.core.i18n import Text
from geo.core.settings import get_settings
from geo.planning._versions_model import (
    CONFLICTED,
    GRID_KEYS,
    LOCK,
    OPEN,
    PUBLISHED,
    SCOPE_ZH,
    ConflictError,
    Draft,
    VersionError,
    as_text,
    conform,
    grids_note,
    local_stamp,
    to_cell,
    utc_now,
)
from geo.planning._versions_repository import (
    draft_from_row,
    head_version,
    log_row,
    new_draft_row,
    read_version,
    stored_draft_row,
)
from geo.store.base import Store, Transaction


def open_draft(store: Store, village_code: str, author: str) -> Draft:
    """The open draft of a village or town, created if there is none (see
    :meth:`VersionedGrids.open_draft`)."""
    code = str(village_code)
    with store.transaction() as tx:
        tx.lock(LOCK)
        head = head_version(tx)
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
                Text(
                    f"第 {head} 版中没有村(居)或镇编码为 {code} 的网格；请给出 12 位村(居)编码或 "
                    "9 位镇编码",
                    f"no grid of version {head} has village_code or town_code {code!r}; pass the "
                    "12-digit code of a village or the 9-digit code of a town",
                )
            )
        rows = tx.read("drafts", where={"scope_code": code, "status": OPEN})
        if len(rows):
            row = rows.sort_values("updated_at").iloc[-1]
        else:
            now = utc_now()
            draft_id = f"{code}-{uuid.uuid4().hex[:8]}"
            new_row = new_draft_row(draft_id, scope, code, head, 0, OPEN, author, now)
            tx.append("drafts", new_row)
            tx.append(
                "change_log",
                log_row(
                    now,
                    author,
                    "open_draft",
                    version=head,
                    draft_id=draft_id,
                    scope_code=code,
                    detail=Text(
                        f"{SCOPE_ZH[scope]}草案，基于第 {head} 版",
                        f"{scope} draft based on version {head}",
                    ),
                ),
            )
            row = new_row.iloc[0]
        return draft_from_row(tx, row)


def save_draft(
    store: Store,
    draft: Draft,
    grids: gpd.GeoDataFrame,
    *,
    author: str,
    reason: Text | str,
    expected_revision: int,
    who: Audited = None,
) -> Draft:
    """Save ``grids`` as the next revision of ``draft``, or raise the :class:`ConflictError`
    of a lost save once its edits are kept (see :meth:`VersionedGrids.save_draft`); the
    audit row for ``who`` lands in the same transaction."""
    kept = ""
    with store.transaction() as tx:
        tx.lock(LOCK)
        scope = {f"{draft.scope}_code": draft.scope_code}
        crs = read_version(tx, draft.base_version, where=scope).crs
        edits = _draft_grids(grids, draft, tx.columns("grids"), crs)
        row = stored_draft_row(tx, draft.draft_id)
        now = utc_now()
        if int(row["revision"]) != int(expected_revision) or row["status"] == PUBLISHED:
            # Lost: keep the edits as a draft of their own, then tell who won.
            kept = f"{draft.scope_code}-{uuid.uuid4().hex[:8]}"
            _write_draft(tx, kept, edits, 1)
            if who is not None:
                detail: dict[str, object] = {
                    "scope_code": draft.scope_code,
                    "conflict_of": draft.draft_id,
                    "author": author,
                }
                tx.append(AUDIT, audited_row("draft_save", who, obj=f"draft:{kept}", detail=detail))
            tx.append(
                "drafts",
                new_draft_row(
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
                log_row(
                    now,
                    author,
                    "conflict",
                    draft_id=kept,
                    scope_code=draft.scope_code,
                    revision=1,
                    reason=reason,
                    detail=Text(
                        f"保存冲突：{draft.draft_id} 已是第 {int(row['revision'])} 版（应为第 "
                        f"{int(expected_revision)} 版），修改另存于此",
                        f"lost against {draft.draft_id} revision {int(row['revision'])} (expected "
                        f"{int(expected_revision)}); edits kept here",
                    ),
                ),
            )
        else:
            revision = int(row["revision"]) + 1
            _write_draft(tx, draft.draft_id, edits, revision)
            if who is not None:
                detail = {"scope_code": draft.scope_code, "revision": revision, "author": author}
                obj = f"draft:{draft.draft_id}"
                tx.append(AUDIT, audited_row("draft_save", who, obj=obj, detail=detail))
            tx.update(
                "drafts",
                pd.DataFrame(
                    {
                        "draft_id": [draft.draft_id],
                        "revision": [revision],
                        "author": [author],
                        "updated_at": pd.Series([now], dtype="datetime64[ms, UTC]"),
                        "reason": [to_cell(reason)],
                    }
                ),
                key="draft_id",
            )
            tx.append(
                "change_log",
                log_row(
                    now,
                    author,
                    "save_draft",
                    draft_id=draft.draft_id,
                    scope_code=draft.scope_code,
                    revision=revision,
                    reason=reason,
                    detail=grids_note(len(edits)),
                ),
            )
            return draft_from_row(tx, stored_draft_row(tx, draft.draft_id))
    raise conflict_error(
        Text(
            f"草案 {draft.draft_id}（{SCOPE_ZH[draft.scope]} {draft.scope_code}）在第 "
            f"{int(expected_revision)} 版之后有了改动：{last_save(row).zh}。你的修改没有合并，"
            f"另存为草案 {kept}（状态：冲突）：用 read_draft({kept!r}) 读出，与当前草案比较后"
            "再保存",
            f"draft {draft.draft_id} ({draft.scope} {draft.scope_code}) changed since revision "
            f"{int(expected_revision)}: {last_save(row).en}. Your edits were not merged; they "
            f"are kept as draft {kept} (status conflicted): read them with read_draft({kept!r}), "
            "compare with the current draft and save again",
        ),
        draft,
        int(expected_revision),
        row,
        kept=kept,
    )


def _write_draft(tx: Transaction, draft_id: str, grids: gpd.GeoDataFrame, revision: int) -> None:
    """Store ``grids`` as ``revision`` of ``draft_id``."""
    tx.append("draft_features", grids.assign(draft_id=draft_id, revision=np.int64(revision)))


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
                Text(f"缺少列 {col}", f"no column {col!r}"),
                Text(f"给每个网格填写 {col}", f"add {col!r} to every grid"),
            )
        )
    if grids.crs is None:
        problems.append(
            Problem(
                "no_crs",
                "error",
                "layer",
                Text("网格没有坐标系", "the grids have no CRS"),
                Text("设置坐标系", f"set it, e.g. grids.set_crs('{get_settings().metric_crs}')"),
            )
        )
    if problems:
        raise GridValidationError(problems)
    out = grids.to_crs(crs) if crs is not None and grids.crs != crs else grids.copy()
    codes = as_text(out["grid_code"])
    scope_col = f"{draft.scope}_code"
    for i, code in enumerate(codes):
        label = code or f"row {i + 1}"
        if not code:
            problems.append(
                Problem(
                    "missing_code",
                    "error",
                    label,
                    Text("缺少网格编码", "no grid_code"),
                    Text("给每个网格 15 位编码", "give every grid its 15-digit code"),
                )
            )
        if str(out[scope_col].iloc[i]) != draft.scope_code:
            problems.append(
                Problem(
                    "outside_scope",
                    "error",
                    label,
                    Text(
                        f"{scope_col} 为 {out[scope_col].iloc[i]}，不是 {draft.scope_code}",
                        f"{scope_col} is {out[scope_col].iloc[i]!r}, not {draft.scope_code!r}",
                    ),
                    Text(
                        f"{draft.scope_code} 的草案只能含本{SCOPE_ZH[draft.scope]}的网格",
                        f"a draft of {draft.scope} {draft.scope_code} holds only its own grids",
                    ),
                )
            )
        geom = out.geometry.iloc[i]
        if geom is None or geom.is_empty or geom.geom_type not in ("Polygon", "MultiPolygon"):
            problems.append(
                Problem(
                    "bad_geometry",
                    "error",
                    label,
                    Text("几何不是非空的面", "geometry is not a non-empty polygon"),
                    Text("把网格画成面", "draw the grid as a polygon"),
                )
            )
    for code in pd.Series(codes)[pd.Series(codes).duplicated() & (pd.Series(codes) != "")]:
        problems.append(
            Problem(
                "duplicate_code",
                "error",
                code,
                Text("网格编码重复", "grid_code used twice"),
                Text("每个网格使用不同的编码", "give each grid its own code"),
            )
        )
    if problems:
        raise GridValidationError(problems)
    return conform(out, layer_columns)


def last_save(row: pd.Series) -> Text:
    """Who last wrote a ``drafts`` row and what they did, e.g. ``王规划 saved revision 2 at …``."""
    when = local_stamp(row["updated_at"])
    if row["status"] == PUBLISHED:
        version = int(row["published_version"])
        return Text(
            f"{row['author']} 已于 {when} 将其发布为第 {version} 版",
            f"{row['author']} published it as version {version} at {when}",
        )
    revision = int(row["revision"])
    return Text(
        f"{row['author']} 已于 {when} 保存第 {revision} 版",
        f"{row['author']} saved revision {revision} at {when}",
    )


def conflict_error(
    message: Text,
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
