"""Shapes drawn on the web map (GeoJSON in WGS84) turned into grid edits in EPSG:4549.

Leaflet reports what a planner draws as GeoJSON features in longitude/latitude (WGS84,
EPSG:4326: the map shows the grids reprojected to WGS84, so a drawing lines up with them).
:func:`drawn_geometry` reprojects one feature into the grids' metric CRS and refuses anything
that is not a usable line or polygon; :func:`split_along` and :func:`redraw_with` apply it
through :mod:`geo.planning.edit`, which keeps shared edges exact.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import geopandas as gpd
import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

from geo.core.i18n import Text
from geo.core.settings import DISPLAY_CRS, Settings, get_settings
from geo.planning.edit import Change, EditError, EditResult, redraw_boundary, split_grid

__all__ = [
    "AREAS",
    "DRAWING",
    "LINES",
    "crossed_grids",
    "drawn_geometry",
    "latest_drawing",
    "redraw_with",
    "split_along",
]

#: The feature name used in error messages about a drawing.
DRAWING = "(drawing)"

#: GeoJSON types of a drawn line (to split along) and of a drawn area (to redraw with).
LINES = ("LineString", "MultiLineString")
AREAS = ("Polygon", "MultiPolygon")


def drawn_geometry(
    feature: Mapping[str, Any], *, to_crs: Any = None, kinds: Sequence[str] = LINES + AREAS
) -> BaseGeometry:
    """One drawn GeoJSON feature (or bare geometry) in WGS84 as a shapely geometry in ``to_crs``.

    Parameters
    ----------
    feature
        A GeoJSON ``Feature`` (``{"type": "Feature", "geometry": {...}}``) or geometry, as
        Leaflet's ``toGeoJSON()`` gives it: coordinates in longitude/latitude degrees.
    to_crs
        The CRS of the grids (default: the county's metric CRS, :attr:`Settings.metric_crs`).
    kinds
        Geometry types accepted (default lines and polygons).

    Returns
    -------
    shapely.geometry.base.BaseGeometry

    Raises
    ------
    EditError
        The drawing is not GeoJSON, of another type, empty, outside longitude/latitude
        ranges, or (for a polygon) crosses itself; the hint says what to draw instead.
    """
    geometry = feature.get("geometry", feature) if isinstance(feature, Mapping) else None
    if not isinstance(geometry, Mapping) or "type" not in geometry:
        raise EditError(
            DRAWING,
            Text(
                "无法识别所画图形",
                f"the drawing is not a GeoJSON geometry ({type(feature).__name__})",
            ),
            Text("用地图上的绘图工具重新画", "draw the shape again with the map's drawing tools"),
        )
    kind = str(geometry.get("type"))
    if kind not in kinds:
        wanted = Text("线", "a line") if set(kinds) <= set(LINES) else Text("面", "a polygon")
        if set(kinds) >= set(LINES + AREAS):
            wanted = Text("线或面", "a line or a polygon")
        raise EditError(
            DRAWING,
            Text(
                f"所画图形是 {kind}，需要{wanted.zh}",
                f"the drawing is a {kind}, {wanted.en} is needed",
            ),
            Text(
                "拆分网格用画线工具，重划边界用画面工具",
                "use the line tool to split a grid and the polygon tool to redraw a boundary",
            ),
        )
    try:
        shape = shapely.geometry.shape(dict(geometry))
    except (TypeError, ValueError, IndexError, AttributeError) as exc:
        raise EditError(
            DRAWING,
            Text("所画图形的坐标无效", f"the drawing's coordinates are unusable ({exc})"),
            Text("重新画", "draw the shape again"),
        ) from exc
    if shape.is_empty or (kind in LINES and shape.length == 0):
        raise EditError(
            DRAWING,
            Text("所画图形为空", "the drawing is empty"),
            Text(
                "线至少点两个点，面至少三个点",
                "click at least two points for a line, three for a polygon",
            ),
        )
    xy = shapely.get_coordinates(shape)
    if not np.isfinite(xy).all() or (np.abs(xy[:, 0]) > 180).any() or (np.abs(xy[:, 1]) > 90).any():
        raise EditError(
            DRAWING,
            Text("所画图形不是经纬度坐标", "the drawing is not in longitude/latitude degrees"),
            Text(
                "按地图给出的原样提交（WGS84，EPSG:4326）",
                "send the feature exactly as the map reports it (WGS84, EPSG:4326)",
            ),
        )
    target = to_crs if to_crs is not None else get_settings().metric_crs
    projected = gpd.GeoSeries([shape], crs=DISPLAY_CRS).to_crs(target).iloc[0]
    if kind in AREAS and not projected.is_valid:
        raise EditError(
            DRAWING,
            Text(
                "所画范围自相交",
                f"the drawn polygon crosses itself ({shapely.is_valid_reason(projected)})",
            ),
            Text("重新画，边不要自相交", "draw it again without crossing its own edges"),
        )
    return projected


def latest_drawing(
    drawings: Sequence[Mapping[str, Any]] | None, kinds: Sequence[str]
) -> Mapping[str, Any] | None:
    """The most recent drawn feature of one of ``kinds`` (Leaflet lists oldest first)."""
    for feature in reversed(list(drawings or [])):
        geometry = feature.get("geometry") if isinstance(feature, Mapping) else None
        if isinstance(geometry, Mapping) and geometry.get("type") in kinds:
            return feature
    return None


def crossed_grids(grids: gpd.GeoDataFrame, line: BaseGeometry) -> list[str]:
    """Codes of the grids that ``line`` cuts into two or more pieces (in layer order).

    A grid the line only enters, touches or runs along is not listed: to be cut, a grid
    must be crossed from one side to another.
    """
    geoms = grids.geometry.to_numpy()
    hit = shapely.STRtree(geoms).query(line, predicate="intersects")
    codes: list[str] = []
    for i in sorted(int(k) for k in hit):
        if _pieces(geoms[i], line) >= 2:
            codes.append(str(grids["grid_code"].iloc[i]))
    return codes


def _pieces(grid: BaseGeometry, line: BaseGeometry) -> int:
    noded = shapely.union_all([shapely.boundary(grid), line])
    faces = shapely.get_parts(shapely.polygonize(shapely.get_parts(noded)))
    if not len(faces):
        return 0
    inside = shapely.within(shapely.point_on_surface(faces), grid)
    return int(inside.sum())


def split_along(
    grids: gpd.GeoDataFrame,
    feature: Mapping[str, Any],
    *,
    grid_codes: Sequence[str] | None = None,
    households: gpd.GeoDataFrame | None = None,
    settings: Settings | None = None,
) -> EditResult:
    """Split grids along a drawn line.

    Parameters
    ----------
    grids
        The grid layer (EPSG:4549 metres).
    feature
        The drawn line as GeoJSON in WGS84 (see :func:`drawn_geometry`).
    grid_codes
        The grids to split; default every grid the line cuts in two (:func:`crossed_grids`).
    households
        Household points to re-count the pieces from (see :func:`geo.planning.edit.split_grid`).
    settings
        Default settings.

    Returns
    -------
    EditResult
        The layer after every split; ``change`` sums them up (op ``split``).

    Raises
    ------
    EditError
        The line is unusable, or cuts none of the grids asked for.
    """
    line = drawn_geometry(feature, to_crs=grids.crs, kinds=LINES)
    crossed = crossed_grids(grids, line)
    wanted = list(dict.fromkeys(str(c) for c in grid_codes)) if grid_codes else crossed
    if not wanted:
        raise EditError(
            DRAWING,
            Text("画线没有把任何网格一分为二", "the line cuts no grid in two"),
            Text(
                "从网格外画起，穿过网格，到网格外再点完成",
                "draw the line from outside a grid, across it, to outside it again, then finish it",
            ),
        )
    missed = [c for c in wanted if c not in crossed]
    if missed:
        raise EditError(
            ", ".join(missed),
            Text(
                f"画线没有穿过网格 {'、'.join(missed)}",
                f"the line does not cut grid(s) {', '.join(missed)} in two",
            ),
            Text(
                f"画线切开的网格：{'、'.join(crossed) or '无'}；请穿过要拆分的网格画线",
                f"the line cuts {', '.join(crossed) or 'no grid'}; draw it across the grid to "
                "split",
            ),
        )
    out, changes = grids, []
    for code in wanted:
        out, change = split_grid(out, code, line, households=households, settings=settings)
        changes.append(change)
    return EditResult(out, _combine("split", changes))


def redraw_with(
    grids: gpd.GeoDataFrame,
    feature: Mapping[str, Any],
    *,
    grid_code: str,
    households: gpd.GeoDataFrame | None = None,
    settings: Settings | None = None,
) -> EditResult:
    """Give the area of a drawn polygon (GeoJSON in WGS84) to ``grid_code``.

    See :func:`geo.planning.edit.redraw_boundary`: the area is taken from the grid's neighbours in
    its village and the village outline stays as it is.
    """
    polygon = drawn_geometry(feature, to_crs=grids.crs, kinds=AREAS)
    return redraw_boundary(grids, grid_code, polygon, households=households, settings=settings)


def _combine(op: str, changes: list[Change]) -> Change:
    if len(changes) == 1:
        return changes[0]

    def union(attr: str) -> tuple[str, ...]:
        return tuple(dict.fromkeys(c for ch in changes for c in getattr(ch, attr)))

    notes = [ch.note for ch in changes if ch.note]

    return Change(
        op=op,
        village_codes=union("village_codes"),
        removed=union("removed"),
        added=union("added"),
        modified=union("modified"),
        renoded=union("renoded"),
        counts=changes[-1].counts,
        note=Text("；".join(n.zh for n in notes), "; ".join(n.en for n in notes))
        if notes
        else None,
    )
