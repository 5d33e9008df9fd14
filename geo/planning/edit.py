"""Planner edits of the grid layer (split, merge, redraw, move, renumber, rename) as pure functions.

Every function takes the grid layer (EPSG:4549 metres, one row per grid with ``grid_code`` and
``village_code``) and returns an :class:`EditResult`: a **new** GeoDataFrame (the input is never
modified) and a :class:`Change` record for the audit log. The grids of every village stay an
exact coverage: after an edit, :func:`shapely.coverage_is_valid` holds for the village's grids
together with every grid touching them, and the union of the village is unchanged.

How shared edges are kept exact: where a drawn line or polygon crosses a grid edge, the noder
computes one new vertex; that vertex is inserted (:func:`shapely.snap` with a tolerance of
:data:`NODE_M`) into every grid edge passing through it, so both neighbours carry the same
coordinates. Before that, a drawn line or polygon passing within :data:`SNAP_M` of an existing
vertex is made to pass through it, so no near-duplicate vertices appear. Each edit checks the
coverage of the affected village (and its touching neighbours) before and after, and refuses
with an :class:`EditError` rather than return a layer with gaps or overlaps.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple, cast

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.geometry.base import BaseGeometry

from geo.core.errors import GridGovError
from geo.core.i18n import Text
from geo.core.settings import AREA_TYPE_OF_KIND, Settings, get_settings
from geo.core.validate import is_metric
from geo.planning.codes import SEQ_DIGITS, code_problem, grid_code

#: A drawn line or polygon passing within this distance (metres) of a vertex of the grids it
#: cuts is snapped to pass through that vertex (1 mm: far below drawing precision, far above
#: floating-point noise). Proposed setting: ``Settings.edit_snap_m``.
SNAP_M = 1e-3

#: A vertex created where a drawn line crosses a grid edge is inserted into every grid edge
#: within this distance (metres); the computed crossing lies within ~1e-9 m of the edges.
NODE_M = 1e-6

#: Area changes below this (m²) come from inserting vertices into edges, not from an edit.
_AREA_NOISE_M2 = 1e-3

_POLYGONAL = (3, 6)  # shapely type ids of Polygon and MultiPolygon


class EditError(GridGovError, ValueError):
    """An edit that cannot be made; says which grid (or village) and what to do instead.

    Attributes
    ----------
    feature
        The grid code, village code or ``(argument)`` the problem is about.
    problem
        What is wrong, in Chinese and English.
    hint
        What to do instead, in Chinese and English.

    ``str(error)`` reads ``feature: problem — hint`` with both languages (the command line and
    logs); a page shows one language with :func:`geo.core.i18n.pick`.
    """

    def __init__(self, feature: str, problem: Text, hint: Text) -> None:
        self.feature = str(feature)
        self.problem = problem
        self.hint = hint
        super().__init__(f"{self.feature}: {problem} — {hint}")


@dataclass(frozen=True)
class Change:
    """What one edit changed, for the audit log.

    Attributes
    ----------
    op
        ``split``, ``merge``, ``redraw``, ``move``, ``renumber`` or ``rename``.
    village_codes
        The villages whose grids changed.
    removed
        Grid codes that no longer exist.
    added
        Grid codes that are new.
    modified
        Grid codes whose area or attributes changed (under their new code when renamed).
    renoded
        Grid codes that only gained a vertex on an edge shared with an edited grid (same
        shape, same area), so that shared edges still match exactly.
    renamed
        Old grid code → new grid code (``move`` and ``renumber``; ``renumber`` lists every
        grid of the village, unchanged ones mapping to themselves).
    counts
        How ``households``/``residents`` of changed grids were set: ``points`` (re-counted
        from household points), ``area`` (apportioned by area, totals kept), ``sum``
        (merged grids add up) or ``""`` (unchanged).
    note
        One line for people, in Chinese and English (every edit writes one).
    """

    op: str
    village_codes: tuple[str, ...]
    removed: tuple[str, ...] = ()
    added: tuple[str, ...] = ()
    modified: tuple[str, ...] = ()
    renoded: tuple[str, ...] = ()
    renamed: dict[str, str] = field(default_factory=dict)
    counts: str = ""
    note: Text | None = None

    def as_dict(self) -> dict[str, Any]:
        """The record as plain lists and dicts (for JSON)."""
        return {
            "op": self.op,
            "village_codes": list(self.village_codes),
            "removed": list(self.removed),
            "added": list(self.added),
            "modified": list(self.modified),
            "renoded": list(self.renoded),
            "renamed": dict(self.renamed),
            "counts": self.counts,
            "note": self.note.as_dict() if self.note else None,
        }


class EditResult(NamedTuple):
    """The edited layer and what changed (unpacks as ``grids, change = split_grid(...)``)."""

    grids: gpd.GeoDataFrame
    change: Change


# --------------------------------------------------------------------------- public edits


def split_grid(
    grids: gpd.GeoDataFrame,
    grid_code: str,
    line: BaseGeometry,
    *,
    new_codes: Sequence[str] | None = None,
    households: gpd.GeoDataFrame | None = None,
    settings: Settings | None = None,
) -> EditResult:
    """Cut a grid in two (or more) along a drawn line.

    Parameters
    ----------
    grids
        The grid layer in a projected CRS (EPSG:4549, metres).
    grid_code
        The grid to split.
    line
        A LineString (or MultiLineString) in the grids' CRS that crosses the grid: it must
        enter and leave it (draw it from outside to outside). Parts outside the grid are
        ignored; a line crossing the grid several times makes several pieces.
    new_codes
        Codes for the pieces after the first (default: the next free sequence numbers of the
        village, after the highest one in use, so a retired code is never reused).
    households
        Household points (with ``residents``) to re-count the pieces from; without them the
        grid's ``households`` and ``residents`` are apportioned by area (totals kept).
    settings
        ``boundary_tolerance_m2`` is the smallest piece allowed (default settings).

    Returns
    -------
    EditResult
        The largest piece keeps the code, name, worker and other attributes; the other
        pieces, in north-west to south-east order, get the new codes, the name
        ``<name>-2``, ``<name>-3``… and (provisionally) the same grid worker.
    """
    cfg = settings or get_settings()
    lay = _Layer(grids)
    pos = lay.find(grid_code)
    code = lay.codes[pos]
    target = lay.usable(pos)
    cut = _check_line(line, code)
    village = lay.villages[pos]
    ring = lay.ring([pos])
    lay.require_coverage(ring, village, before=True)

    cut = shapely.snap(cut, _vertices(target), SNAP_M)
    # Parts of a multi-part grid that the line misses stay with the piece keeping the code.
    parts = shapely.get_parts(target)
    missed = parts[~shapely.intersects(parts, cut)]
    crossed = shapely.MultiPolygon(list(parts[shapely.intersects(parts, cut)]))
    noded = shapely.union_all([shapely.boundary(crossed), cut])
    faces = shapely.get_parts(shapely.polygonize(shapely.get_parts(noded)))
    faces = faces[shapely.within(shapely.point_on_surface(faces), crossed)]
    if len(faces) < 2:
        raise EditError(
            code,
            Text(f"画线没有穿过网格 {code}", f"the line does not cross grid {code}"),
            Text(
                "从网格外画起，穿过网格，到网格外结束",
                "draw the line from outside the grid, across it, to outside it again",
            ),
        )
    small = shapely.area(faces) <= cfg.boundary_tolerance_m2
    if small.any():
        raise EditError(
            code,
            Text(
                f"切出的一块只有 {shapely.area(faces[small]).min():.2f} m²",
                f"the line runs along the edge of grid {code} and would cut off a sliver",
            ),
            Text(
                "画线要穿过网格，不要沿边界画",
                "draw the line through the grid, not along its boundary",
            ),
        )
    if abs(shapely.area(faces).sum() - crossed.area) > cfg.boundary_tolerance_m2:
        raise EditError(
            code,
            Text("切分后面积不守恒", f"the pieces do not add up to grid {code}"),
            Text(
                "先检查该网格（几何是否无效），再重新画线",
                "check the grid with check_draft (invalid geometry?) and draw the line again",
            ),
        )
    pieces = _order_pieces(faces)
    geoms = lay.geoms.copy()
    renoded = _insert_nodes(geoms, ring, pos, pieces, target)
    if len(missed):
        pieces[0] = shapely.MultiPolygon([pieces[0], *missed])
    geoms[pos] = _like(pieces[0], target)
    extra = [_like(p, target) for p in pieces[1:]]
    codes = _new_codes(lay, village, len(extra), new_codes)

    counts, hh, res = _piece_counts(grids, pos, pieces, households)
    out = _with_geometries(grids, geoms)
    _set(out, pos, households=hh[0], residents=res[0])
    name = str(grids["grid_name"].iloc[pos]) if "grid_name" in grids.columns else ""
    rows = []
    for k, (geom, new) in enumerate(zip(extra, codes, strict=True)):
        rows.append(
            {
                "grid_code": new,
                "grid_name": f"{name}-{k + 2}" if name else new,
                "households": hh[k + 1],
                "residents": res[k + 1],
                "geometry": geom,
            }
        )
    out = _insert_after(out, pos, rows)
    lay.check_after(out, village, code)
    how = {
        "points": Text("按住户点重新统计", "re-counted from household points"),
        "area": Text("按面积分摊", "apportioned by area"),
    }[counts]
    return EditResult(
        out,
        Change(
            op="split",
            village_codes=(village,),
            added=tuple(codes),
            modified=(code,),
            renoded=tuple(lay.codes[i] for i in renoded),
            counts=counts,
            note=Text(
                f"网格 {code} 拆分为 {len(pieces)} 块：{code}、{'、'.join(codes)}（户数{how.zh}）",
                f"grid {code} split into {code}, {', '.join(codes)} (households {how.en})",
            ),
        ),
    )


def merge_grids(
    grids: gpd.GeoDataFrame,
    codes: Sequence[str],
    *,
    keep_code: str | None = None,
    settings: Settings | None = None,
) -> EditResult:
    """Merge grids of one village that share edges into one grid.

    Parameters
    ----------
    grids
        The grid layer in a projected CRS (EPSG:4549, metres).
    codes
        Two or more grid codes of the same village, connected through shared edges (grids
        meeting only at a corner cannot be merged: the result would fall apart).
    keep_code
        The code (and name, worker…) the merged grid keeps; default the first of ``codes``.
    settings
        Default settings (tolerances).

    Returns
    -------
    EditResult
        ``households`` and ``residents`` are summed; the other codes are removed.
    """
    cfg = settings or get_settings()
    lay = _Layer(grids)
    wanted = list(dict.fromkeys(str(c) for c in codes))
    if len(wanted) < 2:
        raise EditError(
            "(codes)",
            Text(f"合并至少需要两个网格，收到 {wanted}", "merging needs at least two grid codes"),
            Text(
                "选择两个或更多网格",
                "pass two or more codes, e.g. merge_grids(grids, ['…001', '…002'])",
            ),
        )
    keep = wanted[0] if keep_code is None else str(keep_code)
    if keep not in wanted:
        raise EditError(
            keep,
            Text(f"保留编码 {keep} 不在待合并网格中", f"keep_code {keep!r} is not one of {wanted}"),
            Text("从待合并网格中选保留的编码", "choose keep_code among the merged grids"),
        )
    positions = [lay.find(c) for c in wanted]
    by_village: dict[str, list[str]] = {}
    for p in positions:
        by_village.setdefault(lay.villages[p], []).append(lay.codes[p])
    if len(by_village) > 1:
        listing = "; ".join(f"{v}: {', '.join(c)}" for v, c in by_village.items())
        raise EditError(
            ", ".join(wanted),
            Text("网格不属于同一村(居)", f"the grids are in different villages ({listing})"),
            Text(
                "只合并同一村(居)的网格；村界变了就先移交网格",
                "merge grids of one village only; move a grid first (move_to_village) if the "
                "village boundary has changed",
            ),
        )
    village = lay.villages[positions[0]]
    parts = np.array([lay.usable(p) for p in positions], dtype=object)
    ring = lay.ring(positions)
    lay.require_coverage(ring, village, before=True)
    _require_edge_connected(parts, wanted)

    merged = shapely.coverage_union_all(parts)
    if shapely.get_num_geometries(merged) > max(
        1, int(shapely.get_num_geometries(parts).sum()) - (len(parts) - 1)
    ):
        raise EditError(
            ", ".join(wanted),
            Text("合并结果不是一个整体", "the merged grid would fall apart"),
            Text("合并有公共边的网格", "merge grids that share edges"),
        )
    if abs(shapely.area(merged) - shapely.area(parts).sum()) > cfg.boundary_tolerance_m2:
        raise EditError(
            ", ".join(wanted),
            Text("待合并网格相互重叠", "the grids overlap, their union is smaller than their sum"),
            Text("先消除重叠（检查报告中列出）", "fix the overlap first (check_draft lists it)"),
        )
    keep_pos = positions[wanted.index(keep)]
    geoms = lay.geoms.copy()
    geoms[keep_pos] = _like(merged, lay.geoms[keep_pos])
    out = _with_geometries(grids, geoms)
    sums = {
        col: _sum_or_nan(grids[col].iloc[positions])
        for col in ("households", "residents")
        if col in grids.columns
    }
    _set(out, keep_pos, **sums)
    removed = [p for p in positions if p != keep_pos]
    out = _drop(out, removed)
    lay.check_after(out, village, keep)
    gone = tuple(lay.codes[p] for p in removed)
    return EditResult(
        out,
        Change(
            op="merge",
            village_codes=(village,),
            removed=gone,
            modified=(keep,),
            counts="sum",
            note=Text(
                f"网格 {'、'.join(gone)} 并入 {keep}", f"grids {', '.join(gone)} merged into {keep}"
            ),
        ),
    )


def redraw_boundary(
    grids: gpd.GeoDataFrame,
    grid_code: str,
    polygon: BaseGeometry,
    *,
    households: gpd.GeoDataFrame | None = None,
    settings: Settings | None = None,
) -> EditResult:
    """Give the area of a drawn polygon to a grid, taking it from its neighbours in the village.

    Parameters
    ----------
    grids
        The grid layer in a projected CRS (EPSG:4549, metres).
    grid_code
        The grid that grows.
    polygon
        The drawn area in the grids' CRS. It is clipped to the village (the union of the
        village's grids), so the village keeps its outline; it must touch the grid so the grid
        stays in one piece.
    households
        Household points (with ``residents``) to re-count the changed grids from; without them
        the households and residents of the area taken from each neighbour are moved in
        proportion to that area.
    settings
        ``boundary_tolerance_m2`` is the smallest area that counts (default settings).

    Returns
    -------
    EditResult
        ``change.note`` reports how much of the drawn polygon fell outside the village.
    """
    cfg = settings or get_settings()
    tol = cfg.boundary_tolerance_m2
    lay = _Layer(grids)
    pos = lay.find(grid_code)
    code = lay.codes[pos]
    target = lay.usable(pos)
    village = lay.villages[pos]
    members = lay.members(village)
    for p in members:
        lay.usable(p)
    ring = lay.ring(members)
    lay.require_coverage(ring, village, before=True)
    drawn = _check_polygon(polygon, code)

    outline = shapely.coverage_union_all(lay.geoms[members])
    corners = _vertices(lay.geoms[members])
    snapped = shapely.snap(drawn, corners, SNAP_M)
    drawn = snapped if snapped.is_valid and not snapped.is_empty else drawn
    clipped = _polygonal(shapely.intersection(drawn, outline))
    if clipped.is_empty or clipped.area <= tol:
        raise EditError(
            code,
            Text(
                f"所画范围不在网格 {code} 所属村(居) {village} 内",
                f"the drawn polygon lies outside village {village} of grid {code}",
            ),
            Text(
                "在本村(居)内画；要在村之间调整土地，先改村界再移交网格",
                "draw inside the village; to move land between villages, change the villages "
                "layer first, then use move_to_village",
            ),
        )
    outside_m2 = max(drawn.area - clipped.area, 0.0)
    if shapely.difference(clipped, target).area <= tol:
        raise EditError(
            code,
            Text(f"所画范围已属于网格 {code}", f"the drawn polygon is already part of grid {code}"),
            Text(
                "画在要划出面积的相邻网格上",
                "draw over the neighbouring grid(s) whose area the grid should take",
            ),
        )

    # Nodes where the drawn outline leaves the village: insert them into the village's edge
    # grids and into the grids of the neighbouring villages sharing those edges.
    geoms = lay.geoms.copy()
    fresh = _fresh_vertices(clipped, corners, shapely.boundary(outline))
    renoded_all = _snap_into(geoms, ring, fresh)
    local = geoms[members]
    lines = shapely.union_all([*shapely.boundary(local), shapely.boundary(clipped)])
    faces = shapely.get_parts(shapely.polygonize(shapely.get_parts(lines)))
    inner = shapely.point_on_surface(faces)
    owner = _owners(local, faces, inner)
    keep = owner >= 0
    faces, inner, owner = faces[keep], inner[keep], owner[keep]
    me = members.index(pos)
    owner = np.where(shapely.within(inner, clipped), me, owner)

    before_area = shapely.area(local)
    new_local = np.empty(len(members), dtype=object)
    for i, p in enumerate(members):
        mine = faces[owner == i]
        if len(mine) == 0 or shapely.area(mine).sum() <= tol:
            raise EditError(
                lay.codes[p],
                Text(
                    f"所画范围覆盖了整个网格 {lay.codes[p]}",
                    f"the drawn polygon takes all of grid {lay.codes[p]}",
                ),
                Text(
                    "改为合并这两个网格",
                    f"merge the grids instead: merge_grids(grids, ['{code}', '{lay.codes[p]}'])",
                ),
            )
        shape = mine[0] if len(mine) == 1 else shapely.coverage_union_all(mine)
        was = shapely.get_num_geometries(lay.geoms[p])
        now = shapely.get_num_geometries(shape)
        if now > was:
            if p == pos:
                raise EditError(
                    code,
                    Text(
                        f"所画范围与网格 {code} 不相连",
                        f"the drawn polygon does not touch grid {code}, which would fall into "
                        f"{now} parts",
                    ),
                    Text(
                        "画面时与该网格共边",
                        "draw the polygon so that it shares an edge with the grid",
                    ),
                )
            raise EditError(
                lay.codes[p],
                Text(
                    f"网格 {lay.codes[p]} 会被切成 {now} 块",
                    f"grid {lay.codes[p]} would be cut into {now} parts",
                ),
                Text(
                    f"画面时让网格 {lay.codes[p]} 保持完整，或先拆分它",
                    f"draw the polygon so that {lay.codes[p]} stays in one piece, or split it "
                    "first",
                ),
            )
        new_local[i] = shape
    after_area = shapely.area(new_local)
    grew = np.abs(after_area - before_area) > _AREA_NOISE_M2
    changed: list[int] = []
    for i, p in enumerate(members):
        if grew[i]:
            geoms[p] = _like(new_local[i], lay.geoms[p])
            changed.append(p)
        else:
            shape = _like(new_local[i], lay.geoms[p])
            if not shapely.equals_exact(
                shapely.normalize(shape), shapely.normalize(geoms[p]), tolerance=0
            ):
                geoms[p] = shape
                renoded_all.add(p)
    out = _with_geometries(grids, geoms)
    counts = _redraw_counts(grids, out, pos, changed, before_area, after_area, members, households)
    lay.check_after(out, village, code)
    losers = [lay.codes[p] for p in changed if p != pos]
    gained = float(after_area[me] - before_area[me])
    note = Text(
        f"网格 {code} 从 {'、'.join(losers)} 划入 {gained:,.0f} m²",
        f"grid {code} takes {gained:,.0f} m² from {', '.join(losers)}",
    )
    if outside_m2 > tol:
        note = Text(
            f"{note.zh}；村(居)外 {outside_m2:,.0f} m² 已裁去",
            f"{note.en}; {outside_m2:,.0f} m² outside the village clipped",
        )
    return EditResult(
        out,
        Change(
            op="redraw",
            village_codes=(village,),
            modified=tuple(lay.codes[p] for p in changed),
            renoded=tuple(lay.codes[p] for p in sorted(renoded_all - set(changed))),
            counts=counts,
            note=note,
        ),
    )


def move_to_village(
    grids: gpd.GeoDataFrame,
    grid_code: str,
    village_code: str,
    villages: gpd.GeoDataFrame,
    *,
    new_code: str | None = None,
    settings: Settings | None = None,
) -> EditResult:
    """Move a grid to another village (after the village boundaries were redrawn).

    Parameters
    ----------
    grids
        The grid layer in a projected CRS (EPSG:4549, metres).
    grid_code
        The grid to move.
    village_code
        The village it moves to; the grid must lie within that village's polygon (up to
        ``boundary_tolerance_m2``).
    villages
        Village polygons with ``village_code`` (``town_code`` and ``kind`` 村/社区 used when
        present), same CRS as ``grids``.
    new_code
        The grid's new code (default: the next free sequence number of the target village).
    settings
        Default settings (tolerances).

    Returns
    -------
    EditResult
        The grid gets the new ``grid_code``, ``village_code``, ``town_code`` and, from the
        village's ``kind``, ``area_type`` (社区 → 城镇, 村 → 农村); ``change.renamed`` maps
        the old code to the new one. Geometry is unchanged.
    """
    cfg = settings or get_settings()
    lay = _Layer(grids)
    pos = lay.find(grid_code)
    code = lay.codes[pos]
    geom = lay.usable(pos)
    target_village = str(village_code)
    if "village_code" not in villages.columns:
        raise EditError(
            "(villages)",
            Text("村(居)图层缺少 village_code 列", "villages has no village_code column"),
            Text(
                "提供含村(居)编码列的村(居)图层",
                "pass the villages layer with a village_code column",
            ),
        )
    if villages.crs is not None and grids.crs is not None and villages.crs != grids.crs:
        raise EditError(
            "(villages)",
            Text(
                f"村(居)图层坐标系 {villages.crs.to_string()} 与网格 {grids.crs.to_string()} 不同",
                "villages and grids are in different CRS",
            ),
            Text("先统一坐标系", f"reproject first: villages.to_crs({grids.crs.to_string()!r})"),
        )
    vcodes = villages["village_code"].astype(str).to_numpy()
    hit = np.flatnonzero(vcodes == target_village)
    if len(hit) == 0:
        close = difflib.get_close_matches(target_village, list(vcodes), n=3)
        raise EditError(
            target_village,
            Text(f"未知村(居)编码 {target_village}", f"unknown village_code {target_village!r}"),
            _did_you_mean(
                Text("选择村(居)图层中的编码", "pick a village_code of the villages layer"), close
            ),
        )
    if lay.villages[pos] == target_village:
        raise EditError(
            code,
            Text(
                f"网格 {code} 已属于村(居) {target_village}",
                f"grid {code} is already in village {target_village}",
            ),
            Text(
                "选择其他村(居)，或用重新编号改编码",
                "choose another village, or use renumber to change its code",
            ),
        )
    vrow = villages.iloc[int(hit[0])]
    vgeom = vrow.geometry
    outside = shapely.difference(geom, vgeom).area
    if outside > cfg.boundary_tolerance_m2:
        raise EditError(
            code,
            Text(
                f"网格 {code} 有 {outside:,.0f} m²（{outside / geom.area:.0%}）不在村(居) "
                f"{target_village} 内",
                f"grid {code} is not within village {target_village} ({outside:,.0f} m² lies "
                "outside it)",
            ),
            Text(
                "先调整村界，或沿村界拆分网格只移交村内部分",
                "redraw the village boundary first, or split the grid along it (split_grid) and "
                "move only the part inside",
            ),
        )
    old_village = lay.villages[pos]
    lay.require_coverage(lay.ring([pos]), old_village, before=True)
    new = _new_codes(lay, target_village, 1, None if new_code is None else [new_code])[0]
    values: dict[str, Any] = {"grid_code": new, "village_code": target_village}
    if "town_code" in grids.columns:
        values["town_code"] = (
            str(vrow["town_code"]) if "town_code" in villages.columns else target_village[:9]
        )
    if "area_type" in grids.columns and "kind" in villages.columns:
        kind = AREA_TYPE_OF_KIND.get(str(vrow["kind"]))
        if kind:
            values["area_type"] = kind
    out = grids.copy()
    _set(out, pos, **values)
    for v in (old_village, target_village):
        lay.check_after(out, v, new)
    return EditResult(
        out,
        Change(
            op="move",
            village_codes=(old_village, target_village),
            modified=(new,),
            renamed={code: new},
            note=Text(
                f"网格 {code} 由村(居) {old_village} 移至 {target_village}，新编码 {new}",
                f"grid {code} moved from village {old_village} to {target_village} as {new}",
            ),
        ),
    )


def renumber(grids: gpd.GeoDataFrame, village_code: str) -> EditResult:
    """Renumber the grids of a village 001, 002… in reading order (north-west to south-east).

    Grids are taken in rows from north to south, each row west to east, by centroid; a new
    row starts where a centroid lies more than half a median grid (square root of the median
    area) below the first of the row. Names are left alone (use :func:`rename`); geometry is
    unchanged, so no coverage check is needed.

    Parameters
    ----------
    grids
        The grid layer in a projected CRS (EPSG:4549, metres).
    village_code
        The village whose grids are renumbered.

    Returns
    -------
    EditResult
        ``change.renamed`` maps every old code of the village to its new one.
    """
    lay = _Layer(grids)
    village = str(village_code)
    members = lay.members(village)
    if not members:
        close = difflib.get_close_matches(village, sorted(set(lay.villages)), n=3)
        raise EditError(
            village,
            Text(f"没有网格属于村(居) {village}", f"no grid has village_code {village!r}"),
            _did_you_mean(
                Text("选择网格图层中的村(居)编码", "pick a village_code used in the grid layer"),
                close,
            ),
        )
    if len(members) >= 10**SEQ_DIGITS:
        raise EditError(
            village,
            Text(f"村(居) {village} 网格数超过 999", f"more than 999 grids in village {village}"),
            Text("先拆分该村(居)", "split the village first"),
        )
    order = np.asarray(members)[_reading_order(lay.geoms[members])]
    mapping = {lay.codes[p]: grid_code(village, k + 1) for k, p in enumerate(order)}
    others = set(np.delete(lay.codes, members))
    clash = sorted(set(mapping.values()) & others)
    if clash:
        raise EditError(
            village,
            Text(
                f"新编码 {', '.join(clash)} 已被其他村(居)的网格使用",
                "new codes already used by grids of another village",
            ),
            Text(
                "先更正这些网格的编码（检查报告中列出）",
                "fix those grids' codes first (check_draft lists malformed codes)",
            ),
        )
    out = grids.copy()
    for p in members:
        _set(out, p, grid_code=mapping[lay.codes[p]])
    changed = tuple(new for old, new in mapping.items() if old != new)
    return EditResult(
        out,
        Change(
            op="renumber",
            village_codes=(village,),
            modified=changed,
            renamed=mapping,
            note=Text(
                f"村(居) {village} 网格重新编号，{len(changed)} 个编码改变",
                f"village {village} renumbered, {len(changed)} codes changed",
            ),
        ),
    )


def rename(grids: gpd.GeoDataFrame, grid_code: str, name: str) -> EditResult:
    """Give a grid a new ``grid_name`` (leading and trailing spaces removed; not empty)."""
    lay = _Layer(grids)
    pos = lay.find(grid_code)
    code = lay.codes[pos]
    clean = str(name).strip() if name is not None else ""
    if not clean:
        raise EditError(
            code,
            Text("网格名称不能为空", f"the new name of grid {code} is empty"),
            Text("填写名称，如“明湖社区第1网格”", "give a name such as '明湖社区第1网格'"),
        )
    out = grids.copy()
    old = str(grids["grid_name"].iloc[pos]) if "grid_name" in grids.columns else ""
    if "grid_name" not in out.columns:
        out["grid_name"] = ""
    _set(out, pos, grid_name=clean)
    return EditResult(
        out,
        Change(
            op="rename",
            village_codes=(lay.villages[pos],),
            modified=(code,),
            note=Text(
                f"网格 {code} 更名：{old} → {clean}", f"grid {code} renamed: {old} → {clean}"
            ),
        ),
    )


# --------------------------------------------------------------------------- the layer


class _Layer:
    """Read-only views of a grid layer: codes, villages, geometries and their index."""

    def __init__(self, grids: gpd.GeoDataFrame) -> None:
        missing = [c for c in ("grid_code", "village_code") if c not in grids.columns]
        if missing:
            raise EditError(
                "(grids)",
                Text(
                    f"网格图层缺少列 {', '.join(missing)}",
                    f"the grid layer has no {', '.join(missing)} column",
                ),
                Text(
                    "载入含网格编码和村(居)编码的图层",
                    "load the grids with grid_code and village_code (geo.store.readers maps "
                    "other names)",
                ),
            )
        if grids.crs is not None and not is_metric(grids.crs):
            metric = get_settings().metric_crs
            raise EditError(
                "(grids)",
                Text("网格坐标系不是米制", f"grids are in {grids.crs.to_string()}, not metres"),
                Text("先转换到米制坐标系", f"reproject first: grids.to_crs('{metric}')"),
            )
        self.grids = grids
        self.codes = grids["grid_code"].fillna("").astype(str).to_numpy()
        self.villages = grids["village_code"].fillna("").astype(str).to_numpy()
        self.geoms = np.asarray(grids.geometry.to_numpy(), dtype=object)
        self._tree: shapely.STRtree | None = None

    @property
    def tree(self) -> shapely.STRtree:
        if self._tree is None:
            self._tree = shapely.STRtree(self.geoms)
        return self._tree

    def find(self, code: str) -> int:
        """Row position of ``code``; unknown or duplicated codes are refused."""
        hits = np.flatnonzero(self.codes == str(code))
        if len(hits) == 1:
            return int(hits[0])
        if len(hits) > 1:
            raise EditError(
                str(code),
                Text(
                    f"{len(hits)} 个网格使用编码 {code}",
                    f"{len(hits)} grids share grid_code {code}",
                ),
                Text(
                    "先让每个网格编码不同（检查报告中列出重复）",
                    "give each grid its own code first (check_draft lists duplicates)",
                ),
            )
        close = difflib.get_close_matches(str(code), list(self.codes), n=3)
        raise EditError(
            str(code),
            Text(f"未知网格编码 {code}", f"unknown grid_code {code!r}"),
            _did_you_mean(Text("选择图层中的网格编码", "pick a grid_code of the layer"), close),
        )

    def members(self, village: str) -> list[int]:
        """Row positions of the grids of one village."""
        return [int(i) for i in np.flatnonzero(self.villages == village)]

    def usable(self, pos: int) -> BaseGeometry:
        """The grid's geometry, refused when empty, not polygonal or invalid."""
        geom = self.geoms[pos]
        if geom is None or shapely.is_empty(geom) or shapely.get_type_id(geom) not in _POLYGONAL:
            raise EditError(
                self.codes[pos],
                Text(
                    f"网格 {self.codes[pos]} 没有面几何", f"grid {self.codes[pos]} has no polygon"
                ),
                Text("先画出网格边界（或删除该行）", "draw its boundary first (or delete the row)"),
            )
        if not shapely.is_valid(geom):
            raise EditError(
                self.codes[pos],
                Text(
                    f"网格 {self.codes[pos]} 几何无效",
                    f"grid {self.codes[pos]} has an invalid geometry: "
                    f"{shapely.is_valid_reason(geom)}",
                ),
                Text(
                    "先修复几何（QGIS：修复几何）",
                    "fix it first (shapely.make_valid, or QGIS Fix Geometries)",
                ),
            )
        return geom

    def ring(self, positions: Iterable[int]) -> list[int]:
        """The grids of the villages of ``positions`` plus every grid touching them."""
        villages = {self.villages[p] for p in positions}
        core = [int(i) for i in np.flatnonzero(np.isin(self.villages, list(villages)))]
        near = self.tree.query(self.geoms[core], predicate="intersects")[1]
        return sorted(set(core) | {int(i) for i in near})

    def require_coverage(self, ring: list[int], village: str, *, before: bool) -> None:
        """Refuse to edit a village whose grids (with their neighbours) are not a coverage."""
        bad = _invalid(self.geoms[ring])
        if bad:
            names = ", ".join(self.codes[ring[i]] for i in bad[:6])
            raise EditError(
                village,
                Text(
                    f"村(居) {village} 的网格在编辑前边界不严密（{names}）",
                    f"the grids of village {village} do not tile it exactly before this edit "
                    f"({names})",
                ),
                Text(
                    "先检查并消除重叠和不重合的边",
                    "run check_draft and fix the overlaps and unmatched edges first",
                ),
            )

    def check_after(self, out: gpd.GeoDataFrame, village: str, code: str) -> None:
        """Refuse a result whose village grids and neighbours are no exact coverage."""
        after = _Layer(out)
        ring = after.ring(after.members(village))
        bad = _invalid(after.geoms[ring])
        if bad:
            names = ", ".join(after.codes[ring[i]] for i in bad[:6])
            raise EditError(
                code,
                Text(
                    f"编辑后边界无法严密拼接（{names}）",
                    f"the edit would leave unmatched edges ({names})",
                ),
                Text(
                    "换个位置重新画（避开已有拐点）；反复出现请报告",
                    "draw the line or polygon again a little differently (away from existing "
                    "corners); report it if it keeps happening",
                ),
            )


def _invalid(geoms: np.ndarray) -> list[int]:
    """Positions of polygons whose edges do not match their neighbours' (overlaps, slivers)."""
    geoms = np.asarray(geoms, dtype=object)
    ok = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    ok &= np.isin(shapely.get_type_id(geoms), _POLYGONAL)
    ok[ok] = shapely.is_valid(geoms[ok])  # broken neighbours are check_draft's business
    rows = np.flatnonzero(ok)
    if bool(shapely.coverage_is_valid(geoms[rows])):
        return []
    edges = shapely.coverage_invalid_edges(geoms[rows])
    return [int(rows[i]) for i in np.flatnonzero(~shapely.is_empty(edges))]


# --------------------------------------------------------------------------- geometry


def _check_line(line: Any, code: str) -> BaseGeometry:
    if not isinstance(line, BaseGeometry) or shapely.get_type_id(line) not in (1, 5):
        raise EditError(
            code,
            Text(f"切分线应为线要素，收到 {type(line).__name__}", "the cut must be a LineString"),
            Text(
                "画一条线（网格坐标系，米）", "draw a line (a LineString in the grids' metric CRS)"
            ),
        )
    if line.is_empty or line.length == 0:
        raise EditError(
            code,
            Text("切分线为空", "the cut line is empty"),
            Text("画一条穿过网格的线", "draw a line across the grid"),
        )
    _refuse_degrees(line, code)
    return line


def _refuse_degrees(shape: BaseGeometry, code: str) -> None:
    """A drawing in longitude/latitude would silently miss every grid: say so instead."""
    x0, y0, x1, y1 = shape.bounds
    if max(abs(x0), abs(x1)) <= 180 and max(abs(y0), abs(y1)) <= 90:
        raise EditError(
            code,
            Text("所画图形像是经纬度", "the drawing looks like longitude/latitude degrees"),
            Text(
                "在网格坐标系（米）中画",
                "draw in the grids' metric CRS, e.g. gpd.GeoSeries([shape], "
                "crs=4326).to_crs(grids.crs)[0]",
            ),
        )


def _check_polygon(polygon: Any, code: str) -> BaseGeometry:
    if not isinstance(polygon, BaseGeometry) or shapely.get_type_id(polygon) not in _POLYGONAL:
        raise EditError(
            code,
            Text(
                f"所画范围应为面要素，收到 {type(polygon).__name__}",
                "the drawn area must be a Polygon",
            ),
            Text("画一个面（网格坐标系，米）", "draw a polygon (in the grids' metric CRS)"),
        )
    if polygon.is_empty or not polygon.is_valid:
        why = "empty" if polygon.is_empty else shapely.is_valid_reason(polygon)
        raise EditError(
            code,
            Text("所画范围无效", f"the drawn polygon is not a valid area ({why})"),
            Text("重新画，边不要自相交", "draw it again without self-crossing edges"),
        )
    _refuse_degrees(polygon, code)
    return polygon


def _did_you_mean(hint: Text, close: Sequence[str]) -> Text:
    """``hint`` and the known codes closest to a mistyped one (when there are any)."""
    if not close:
        return hint
    return Text(
        f"{hint.zh}（是否为 {'、'.join(close)}？）", f"{hint.en} (did you mean {', '.join(close)}?)"
    )


def _vertices(geoms: Any) -> BaseGeometry:
    """Every distinct vertex of ``geoms`` as one MultiPoint (the snap target)."""
    xy = np.unique(shapely.get_coordinates(geoms), axis=0)
    return shapely.MultiPoint(xy)


def _polygonal(geom: BaseGeometry) -> BaseGeometry:
    """The polygons of an overlay result (dropping lines and points where areas only touch)."""
    if shapely.get_type_id(geom) in _POLYGONAL:
        return geom
    parts = shapely.get_parts(geom)
    parts = parts[np.isin(shapely.get_type_id(parts), _POLYGONAL)]
    return shapely.union_all(parts) if len(parts) else shapely.Polygon()


def _like(geom: BaseGeometry, template: BaseGeometry) -> BaseGeometry:
    """``geom`` as a MultiPolygon when the grid it replaces was one (GeoPackage layer type)."""
    if shapely.get_type_id(template) == 6 and shapely.get_type_id(geom) == 3:
        return shapely.MultiPolygon([cast("shapely.Polygon", geom)])
    return geom


def _order_pieces(faces: np.ndarray) -> np.ndarray:
    """Largest piece first (it keeps the code), then the rest in reading order."""
    first = int(np.argmax(shapely.area(faces)))
    rest = np.delete(faces, first)
    return np.concatenate([[faces[first]], rest[_reading_order(rest)]])


def _reading_order(geoms: np.ndarray) -> np.ndarray:
    """Order of polygons in rows north to south, west to east within a row (by centroid).

    Centroids sorted north to south start a new row when they lie more than half a row
    height (the square root of the median area) below the first centroid of the current row.
    """
    if len(geoms) == 0:
        return np.zeros(0, dtype=np.int64)
    c = shapely.centroid(geoms)
    x, y = shapely.get_x(c), shapely.get_y(c)
    half = 0.5 * float(np.sqrt(np.median(shapely.area(geoms))))
    south = np.argsort(-y, kind="stable")
    row = np.empty(len(geoms), dtype=np.int64)
    top, k = y[south[0]], 0
    for i in south:
        if top - y[i] > half:
            top, k = y[i], k + 1
        row[i] = k
    return np.lexsort((x, row))


def _fresh_vertices(shape: Any, known: Any, edges: BaseGeometry) -> np.ndarray:
    """Vertices of ``shape`` not among ``known`` that lie on ``edges`` (``(k, 2)`` array)."""
    xy = np.unique(shapely.get_coordinates(shape), axis=0)
    old = {tuple(p) for p in shapely.get_coordinates(known)}
    new = np.array([p for p in xy if tuple(p) not in old]).reshape(-1, 2)
    if len(new) == 0:
        return new
    on = shapely.dwithin(edges, shapely.points(new), NODE_M)
    return new[on]


def _snap_into(geoms: np.ndarray, positions: Iterable[int], xy: np.ndarray) -> set[int]:
    """Insert the vertices ``xy`` into the edges of ``geoms[positions]`` they lie on."""
    touched: set[int] = set()
    if len(xy) == 0:
        return touched
    pts = shapely.points(xy)
    for p in positions:
        near = shapely.dwithin(shapely.boundary(geoms[p]), pts, NODE_M)
        if near.any():
            geoms[p] = shapely.snap(geoms[p], shapely.multipoints(xy[near]), NODE_M)
            touched.add(p)
    return touched


def _insert_nodes(
    geoms: np.ndarray,
    ring: list[int],
    pos: int,
    pieces: np.ndarray,
    target: BaseGeometry,
) -> list[int]:
    """Give the split grid's neighbours the vertices where the cut crossed shared edges."""
    fresh = _fresh_vertices(pieces, target, shapely.boundary(target))
    return sorted(_snap_into(geoms, [p for p in ring if p != pos], fresh))


def _owners(geoms: np.ndarray, faces: np.ndarray, inner: np.ndarray) -> np.ndarray:
    """The grid holding each face (by an interior point; largest overlap as fallback), or -1."""
    owner = np.full(len(faces), -1, dtype=np.int64)
    face_i, grid_i = shapely.STRtree(geoms).query(inner, predicate="within")
    owner[face_i] = grid_i
    for f in np.flatnonzero(owner < 0):
        share = shapely.area(shapely.intersection(geoms, faces[f]))
        if share.max(initial=0) > 0.5 * shapely.area(faces[f]):
            owner[f] = int(np.argmax(share))
    return owner


def _require_edge_connected(parts: np.ndarray, codes: list[str]) -> None:
    """Refuse grids that are not linked through shared edges (a corner is not enough)."""
    n = len(parts)
    shared = np.zeros((n, n), dtype=bool)
    for i in range(n):
        for j in range(i + 1, n):
            shared[i, j] = shared[j, i] = bool(
                shapely.relate_pattern(parts[i], parts[j], "****1****")
            )
    seen = {0}
    todo = [0]
    while todo:
        here = todo.pop()
        for nxt in np.flatnonzero(shared[here]).tolist():
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    if len(seen) == n:
        return
    a = codes[0]
    b = codes[min(set(range(n)) - seen)]
    corner = any(
        bool(shapely.touches(parts[i], parts[j])) for i in seen for j in set(range(n)) - seen
    )
    why = (
        Text("只在一点相接", "they meet only at a corner")
        if corner
        else Text("互不相邻", "they are apart")
    )
    raise EditError(
        f"{a}, {b}",
        Text(
            f"网格 {a} 与 {b} 没有公共边，{why.zh}",
            f"grids {a} and {b} do not share an edge: {why.en}",
        ),
        Text(
            "只合并有公共边的网格，把中间的网格一并选上",
            "merge only grids that share a boundary line; include the grids in between",
        ),
    )


# --------------------------------------------------------------------------- attributes


def _with_geometries(grids: gpd.GeoDataFrame, geoms: np.ndarray) -> gpd.GeoDataFrame:
    out = grids.copy()
    out[grids.geometry.name] = gpd.GeoSeries(geoms, index=grids.index, crs=grids.crs)
    return out


def _set(frame: gpd.GeoDataFrame, pos: int, **values: Any) -> None:
    """Set columns of the row at position ``pos`` (of a copy we own)."""
    for col, value in values.items():
        if col not in frame.columns:
            continue
        frame.iloc[pos, frame.columns.get_loc(col)] = value


def _insert_after(
    frame: gpd.GeoDataFrame, pos: int, rows: list[dict[str, Any]]
) -> gpd.GeoDataFrame:
    """Copies of row ``pos`` with ``rows`` values, placed right after it."""
    if not rows:
        return frame
    new = frame.iloc[[pos] * len(rows)].copy()
    gcol = frame.geometry.name
    for k, values in enumerate(rows):
        for col, value in values.items():
            key = gcol if col == "geometry" else col
            if key in new.columns:
                new.iloc[k, new.columns.get_loc(key)] = value
    if pd.api.types.is_integer_dtype(frame.index):
        start = int(frame.index.max()) + 1 if len(frame) else 0
        new.index = pd.RangeIndex(start, start + len(rows))
    else:
        new.index = pd.Index([r["grid_code"] for r in rows])
    out = pd.concat([frame.iloc[: pos + 1], new, frame.iloc[pos + 1 :]])
    return gpd.GeoDataFrame(out, geometry=gcol, crs=frame.crs)


def _drop(frame: gpd.GeoDataFrame, positions: list[int]) -> gpd.GeoDataFrame:
    keep = np.setdiff1d(np.arange(len(frame)), positions)
    return frame.iloc[keep]


def _sum_or_nan(values: pd.Series) -> Any:
    nums = pd.to_numeric(values, errors="coerce")
    if nums.isna().any():
        return np.nan
    total = nums.sum()
    return int(total) if float(total).is_integer() else float(total)


def _apportion(total: Any, weights: np.ndarray) -> list[Any]:
    """Split an integer ``total`` by ``weights`` (largest remainder; NaN stays NaN)."""
    value = pd.to_numeric(pd.Series([total]), errors="coerce").iloc[0]
    if pd.isna(value):
        return [np.nan] * len(weights)
    w = np.asarray(weights, dtype=float)
    share = value * w / w.sum() if w.sum() > 0 else np.full(len(w), value / len(w))
    base = np.floor(share).astype(np.int64)
    left = round(value) - int(base.sum())
    order = np.argsort(-(share - base), kind="stable")
    base[order[:left]] += 1
    return [int(b) for b in base]


def _point_xy(points: gpd.GeoDataFrame, crs: Any) -> tuple[np.ndarray, np.ndarray]:
    """Coordinates and residents of household points, in ``crs``."""
    if points.crs is not None and crs is not None and points.crs != crs:
        points = points.to_crs(crs)
    arr = points.geometry.to_numpy()
    ok = ~(shapely.is_missing(arr) | shapely.is_empty(arr))
    xy = shapely.get_coordinates(arr[ok])
    if "residents" in points.columns:
        res = pd.to_numeric(points["residents"], errors="coerce").fillna(0).to_numpy()[ok]
    else:
        res = np.ones(len(xy))
    return xy, res


def _count_in(shapes: np.ndarray, xy: np.ndarray, res: np.ndarray) -> tuple[list[int], list[int]]:
    """Households and residents in each shape (a point on a shared edge counts once, first)."""
    hh = np.zeros(len(shapes), dtype=np.int64)
    rs = np.zeros(len(shapes), dtype=np.int64)
    if len(xy) == 0:
        return hh.tolist(), rs.tolist()
    x0, y0, x1, y1 = shapely.total_bounds(shapes)
    box = (xy[:, 0] >= x0) & (xy[:, 0] <= x1) & (xy[:, 1] >= y0) & (xy[:, 1] <= y1)
    sx, sy, sr = xy[box, 0], xy[box, 1], res[box]
    free = np.ones(len(sx), dtype=bool)
    for k, shape in enumerate(shapes):
        inside = free & shapely.intersects_xy(shape, sx, sy)
        hh[k] = int(inside.sum())
        rs[k] = round(sr[inside].sum())
        free &= ~inside
    return hh.tolist(), rs.tolist()


def _piece_counts(
    grids: gpd.GeoDataFrame,
    pos: int,
    pieces: np.ndarray,
    households: gpd.GeoDataFrame | None,
) -> tuple[str, list[Any], list[Any]]:
    if households is not None:
        xy, res = _point_xy(households, grids.crs)
        hh, rs = _count_in(pieces, xy, res)
        return "points", list(hh), list(rs)
    area = shapely.area(pieces)
    hh = _apportion(grids["households"].iloc[pos], area) if "households" in grids else []
    rs = _apportion(grids["residents"].iloc[pos], area) if "residents" in grids else []
    return "area", hh or [np.nan] * len(pieces), rs or [np.nan] * len(pieces)


def _redraw_counts(
    grids: gpd.GeoDataFrame,
    out: gpd.GeoDataFrame,
    pos: int,
    changed: list[int],
    before: np.ndarray,
    after: np.ndarray,
    members: list[int],
    households: gpd.GeoDataFrame | None,
) -> str:
    """Set households/residents of the grids a redraw changed; return how."""
    if not changed:
        return ""
    if households is not None:
        xy, res = _point_xy(households, grids.crs)
        hh, rs = _count_in(out.geometry.to_numpy()[changed], xy, res)
        for p, h, r in zip(changed, hh, rs, strict=True):
            _set(out, p, households=h, residents=r)
        return "points"
    for col in ("households", "residents"):
        if col not in grids.columns:
            continue
        gained: Any = 0
        for p in changed:
            if p == pos:
                continue
            i = members.index(p)
            stay, moved = _apportion(grids[col].iloc[p], np.array([after[i], before[i] - after[i]]))
            _set(out, p, **{col: stay})
            gained = gained + moved
        _set(out, pos, **{col: _sum_or_nan(pd.Series([grids[col].iloc[pos], gained]))})
    return "area"


def _new_codes(lay: _Layer, village: str, n: int, wanted: Sequence[str] | None) -> list[str]:
    """``n`` unused codes of ``village``: the given ones (checked) or after the highest in use."""
    used = set(lay.codes)
    if wanted is not None:
        codes = [str(c) for c in wanted]
        if len(codes) != n:
            raise EditError(
                "(new_codes)",
                Text(
                    f"需要 {n} 个新编码，收到 {len(codes)} 个",
                    f"{n} new code(s) needed, got {len(codes)}",
                ),
                Text(
                    f"给出 {n} 个编码，或不指定以自动编号",
                    f"pass exactly {n} code(s), or leave new_codes out to number them "
                    "automatically",
                ),
            )
        for c in codes:
            if code_problem(c, village):
                raise EditError(
                    c,
                    Text(
                        f"新编码 {c} 格式不对",
                        f"new code {c!r} is not {village} + a 3-digit number",
                    ),
                    Text(
                        f"用村(居)编码开头的15位数字，如 {village}0xx",
                        f"use 15 digits starting with the village code, e.g. {village}0xx",
                    ),
                )
            if c in used or codes.count(c) > 1:
                raise EditError(
                    c,
                    Text(f"编码 {c} 已被使用", f"grid_code {c} is already in use"),
                    Text(
                        "选择未使用的编码，或不指定",
                        "choose an unused code, or leave new_codes out",
                    ),
                )
        return codes
    seqs = [
        int(c[len(village) :])
        for c in lay.codes[lay.villages == village]
        if c.startswith(village) and c[len(village) :].isdigit()
    ]
    start = max(seqs, default=0) + 1
    if start + n - 1 >= 10**SEQ_DIGITS:
        raise EditError(
            village,
            Text(
                f"村(居) {village} 的网格序号已用到 {start - 1}",
                f"village {village} has no free grid sequence numbers left",
            ),
            Text(
                "先给该村(居)重新编号", f"renumber the village first: renumber(grids, '{village}')"
            ),
        )
    return [grid_code(village, s) for s in range(start, start + n)]
