"""Publishing: a draft or a whole layer becomes the next version in one store transaction
that also rewrites the grids layer, moves the issues and households whose grid changed and
records the old → new grid mapping."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import geopandas as gpd
import numpy as np
import pandas as pd

from geo.access.audit import AUDIT, Audited, audited_row
from geo.core.i18n import Text, pick
from geo.core.settings import get_settings
from geo.planning._versions_diff import assign_in_area, bounds_of, compare, overlaps
from geo.planning._versions_drafts import conflict_error, last_save
from geo.planning._versions_model import (
    GRID_KEYS,
    HOUSEHOLD_ID,
    ISSUE_ID,
    LOCK,
    PUBLISHED,
    SCOPE_ZH,
    Draft,
    PublishBlockedError,
    PublishResult,
    VersionError,
    as_multi,
    as_text,
    conform,
    content_hash,
    from_cell,
    in_order,
    isin,
    local_stamp,
    utc_now,
)
from geo.planning._versions_repository import (
    draft_from_row,
    head_version,
    log_row,
    read_version,
    stored_draft_row,
    version_row,
)
from geo.store.base import Store, Transaction


def _checkpoint(stage: str) -> None:
    """Called between the writes of a publish; a test seam for simulated crashes."""


def draft_layer(store: Store, draft: Draft) -> gpd.GeoDataFrame:
    """The whole grid layer publishing ``draft`` would give now: the current version with
    the draft's village (or town) replaced by the draft's grids, in grid-code order."""
    with store.transaction(readonly=True) as tx:
        head = read_version(tx, head_version(tx))
        return _replace_scope(head, draft, tx.columns("grids"))


def publish(
    store: Store,
    what: Draft | gpd.GeoDataFrame | int,
    *,
    author: str,
    reason: str,
    check: Callable[[gpd.GeoDataFrame], object] | None,
    source: str,
    who: Audited = None,
) -> PublishResult:
    """Write ``what`` (a draft, a whole layer, or the number of the version to roll back to)
    as the next version (see :meth:`VersionedGrids.publish`): all of it in one transaction,
    or nothing, its audit row for ``who`` included. ``_checkpoint`` is called between its
    writes.

    Everything it reads (the current version, the draft's stored row, the grids, issues
    and households it rewrites) is read inside that transaction, under the versions' lock:
    two publishes of the same village take turns, and the second one sees the first's
    result, so a draft the first one published or overtook is refused with a
    :class:`ConflictError` rather than written over it.
    """
    with store.transaction() as tx:
        tx.lock(LOCK)
        head = head_version(tx)
        head_row = tx.read("grid_versions", where={"version": head}).iloc[0]
        old = as_multi(tx.read("grids"))
        layer_columns = tx.columns("grids")
        draft_row = None
        if isinstance(what, Draft):
            draft_row = _check_draft(tx, what, old, head, head_row)
            saved = draft_from_row(tx, draft_row)
            new = _replace_scope(old, saved, layer_columns)
        else:
            layer = read_version(tx, what) if isinstance(what, int) else what
            new = in_order(conform(_layer(layer, old.crs), layer_columns))
        duplicated = new.grid_code[new.grid_code.duplicated()].unique().tolist()
        if duplicated:
            raise VersionError(
                Text(
                    f"新图层中网格编码 {duplicated[:10]} 重复；每个网格使用不同的编码（村(居)草案"
                    "不能使用其他村(居)的编码）",
                    f"the new layer has grid code(s) {duplicated[:10]} twice; give each grid its "
                    "own code (a village's draft must not reuse codes of other villages)",
                )
            )
        if check is not None:
            report = check(new.copy())
            if not getattr(report, "publishable", report):
                raise PublishBlockedError(
                    f"{source} is not publishable: the check found errors ({report!s:.500}); "
                    "fix them, save the draft and publish again",
                    report,
                )
        changes = compare(old, new)
        touched = changes[changes.status != "unchanged"]
        # An unchanged layer is still worth a version when it was imported behind
        # versioning's back (it then records what the grids layer holds).
        if not len(touched) and content_hash(old) == head_row["content_hash"]:
            raise VersionError(
                Text(
                    f"没有可发布的内容：{source} 与当前第 {head} 版的网格相同",
                    f"nothing to publish: {source} has the same grids as the current version "
                    f"{head}",
                )
            )
        version = head + 1
        now = utc_now()
        result = _write_version(tx, version, head, old, new, changes, now)
        _checkpoint("issues")
        tx.append("grid_version_features", new.assign(version=np.int64(version)))
        tx.append(
            "grid_versions",
            version_row(
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
            log_row(
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
        if who is not None:
            detail = {"source": source, "author": author, "reason": reason,
                      "issues_moved": result.issues_moved}  # fmt: skip
            tx.append(AUDIT, audited_row(action, who, obj=f"version:{version}", detail=detail))
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


def _layer(layer: gpd.GeoDataFrame, crs: object) -> gpd.GeoDataFrame:
    """A whole layer given to publish, checked and in ``crs``."""
    missing = [c for c in GRID_KEYS if c not in layer.columns]
    if missing:
        raise VersionError(
            Text(
                f"图层缺少列 {missing}；网格需要 {list(GRID_KEYS)}",
                f"the layer lacks column(s) {missing}; grids need {list(GRID_KEYS)}",
            )
        )
    if layer.crs is None:
        metric = get_settings().metric_crs
        raise VersionError(
            Text(
                f"图层没有坐标系，请设置，如 layer.set_crs('{metric}')",
                f"the layer has no CRS; set it, e.g. layer.set_crs('{metric}')",
            )
        )
    bad = ~layer.geom_type.isin(["Polygon", "MultiPolygon"]) | layer.geometry.is_empty
    if bad.any():
        codes = as_text(layer.loc[bad, "grid_code"])[:10].tolist()
        raise VersionError(
            Text(
                f"网格 {codes} 没有面几何，请画成面",
                f"grid(s) {codes} have no polygon geometry; draw them as polygons",
            )
        )
    return layer.to_crs(crs) if crs is not None and layer.crs != crs else layer


def _check_draft(
    tx: Transaction, draft: Draft, old: gpd.GeoDataFrame, head: int, head_row: pd.Series
) -> pd.Series:
    """The stored draft row, once sure that publishing it overwrites nobody's work."""
    row = stored_draft_row(tx, draft.draft_id)
    if row["status"] == PUBLISHED or int(row["revision"]) != draft.revision:
        raise conflict_error(
            Text(
                f"草案 {draft.draft_id} 已不是你读到的第 {draft.revision} 版：{last_save(row).zh}；"
                f"请重新读取（read_draft({draft.draft_id!r})）并检查后再发布",
                f"draft {draft.draft_id} is not the one you read (revision {draft.revision}): "
                f"{last_save(row).en}; read it again (read_draft({draft.draft_id!r})) and check "
                "it before publishing",
            ),
            draft,
            draft.revision,
            row,
        )
    if int(row["revision"]) == 0:
        raise VersionError(
            Text(
                f"草案 {draft.draft_id} 没有已保存的修改，请先保存",
                f"draft {draft.draft_id} has no saved edits; save it first",
            )
        )
    if content_hash(old) != head_row["content_hash"]:
        raise VersionError(
            Text(
                f"网格图层与第 {head} 版不再一致（在版本管理之外被替换，如导入）；请先把该图层发布"
                "为新版本：publish(store.read('grids'), author=…, reason=…)",
                f"the grids layer no longer matches version {head} (it was replaced outside "
                "versioning, e.g. by an import); publish that layer as a version first: "
                "publish(store.read('grids'), author=…, reason=…)",
            )
        )
    scope = {f"{draft.scope}_code": draft.scope_code}
    base = int(row["base_version"])
    base_hash = content_hash(as_multi(read_version(tx, base, where=scope)))
    for v in range(base + 1, head + 1):
        if content_hash(as_multi(read_version(tx, v, where=scope))) != base_hash:
            meta = tx.read("grid_versions", where={"version": v}).iloc[0]
            reason, when = from_cell(meta["reason"]), local_stamp(meta["published_at"])
            raise conflict_error(
                Text(
                    f"{SCOPE_ZH[draft.scope]} {draft.scope_code} 在本草案的基础版本第 {base} 版之后"
                    f"有了改动：{meta['published_by']} 于 {when} 发布了第 {v} 版（"
                    f"{pick(reason, 'zh')}）。你的草案已保留；请新开草案，在第 {head} 版上重做修改"
                    "后发布",
                    f"{draft.scope} {draft.scope_code} changed after this draft's base version "
                    f"{base}: {meta['published_by']} published version {v} at {when} "
                    f"({pick(reason, 'en')}). Your draft is kept; open a new draft, redo the "
                    f"edits on version {head} and publish that",
                ),
                draft,
                draft.revision,
                row,
                by=(meta["published_by"], meta["published_at"]),
            )
    return row


def _write_version(
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
    box = bounds_of(old[isin(old.grid_code, codes)], new[isin(new.grid_code, codes)])

    tx.delete("grids", {"grid_code": sorted(removed + changed)})
    tx.append("grids", new[isin(new.grid_code, added + changed)])
    _checkpoint("grids")

    checked = issues_moved = households_moved = 0
    if box is not None:
        got = assign_in_area(tx, "issues", ISSUE_ID, new, box)
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
        got = assign_in_area(tx, "households", HOUSEHOLD_ID, new, box)
        if got is not None:
            stored, fresh = got
            differ = _moved(stored, fresh)
            households_moved = int(differ.sum())
            tx.update("households", fresh[differ], key=HOUSEHOLD_ID)

    tx.append("grid_version_map", _grid_map(old, new, codes, version, head))
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


def _grid_map(
    old: gpd.GeoDataFrame, new: gpd.GeoDataFrame, moving: set[str], version: int, head: int
) -> pd.DataFrame:
    """Old → new area shares: 1 for grids whose geometry stayed, overlaps for the rest."""
    same = old[~isin(old.grid_code, moving)]
    flows = pd.concat(
        [
            pd.DataFrame(
                {
                    "old_grid_code": same.grid_code.to_numpy(),
                    "new_grid_code": same.grid_code.to_numpy(),
                    "area_m2": same.geometry.area.to_numpy(),
                }
            ),
            overlaps(old[isin(old.grid_code, moving)], new[isin(new.grid_code, moving)]),
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


def _moved(stored: pd.DataFrame, fresh: pd.DataFrame) -> np.ndarray:
    """Which points the fresh assignment gives another grid, village, town or problem."""
    differ = np.zeros(len(stored), dtype=bool)
    for col in fresh.columns[1:]:
        differ |= stored[col].to_numpy() != fresh[col].to_numpy()
    return differ


def _replace_scope(
    layer: gpd.GeoDataFrame, draft: Draft, layer_columns: Sequence[str]
) -> gpd.GeoDataFrame:
    """``layer`` with the grids of the draft's village (or town) replaced by the draft's."""
    kept = layer[as_text(layer[f"{draft.scope}_code"]) != draft.scope_code]
    new = pd.concat([conform(kept, layer_columns), conform(draft.grids, layer_columns)])
    return in_order(gpd.GeoDataFrame(new, geometry="geometry", crs=layer.crs))


def _publish_note(source: str, result: PublishResult) -> Text:
    """The change-log line of a publish (``source``: ``draft X``, ``layer``, ``rollback to N``)."""
    kind, _, what = source.partition(" ")
    zh = {
        "draft": f"草案 {what}",
        "layer": "整个图层",
        "rollback": f"回退到第 {what.removeprefix('to ')} 版",
    }
    added, removed, changed = len(result.added), len(result.removed), len(result.changed)
    return Text(
        f"{zh.get(kind, source)}：新增 {added}、撤销 {removed}、调整 {changed} "
        f"个网格，{result.issues_moved} 件诉求、{result.households_moved} 户住户改换网格",
        f"{source}: {added} added, {removed} removed, {changed} changed; {result.issues_moved} "
        f"issues and {result.households_moved} households moved",
    )
