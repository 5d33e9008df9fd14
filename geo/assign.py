"""Assignment of point events to grids (and so to villages and towns), exact and deterministic."""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy import ndimage

#: Values of ``assign_problem``; empty string means assigned.
PROBLEM_NO_COORDS = "无坐标或坐标无法解析 / missing or unparseable coordinates"
PROBLEM_OUTSIDE = "坐标不在任何网格内 / outside every grid"

_OUTSIDE = -1
_BOUNDARY = -2


@dataclass(frozen=True)
class GridIndex:
    """A raster lookup over a polygon coverage with exact tests only near boundaries.

    Cells that no grid edge crosses lie wholly inside one grid (or outside all of them),
    so a point in such a cell is answered by one array lookup; points in cells that an
    edge crosses are tested exactly with a shapely STRtree. On a shared edge a point
    belongs to the grid listed first in ``order`` (the smallest grid code).

    Attributes
    ----------
    geometries
        The polygons, in the caller's CRS (projected, metres).
    order
        Rank of each polygon used to break ties on shared edges (lower wins).
    x0, y0, cell_m
        Origin (lower left) and cell size of the lookup raster, in CRS units.
    lut
        ``int32`` raster (rows = y): a polygon position, -1 outside, -2 boundary cell.
    """

    geometries: np.ndarray
    order: np.ndarray
    x0: float
    y0: float
    cell_m: float
    lut: np.ndarray
    tree: shapely.STRtree

    @classmethod
    def build(
        cls, geometries: np.ndarray, *, order: np.ndarray | None = None, cell_m: float = 20.0
    ) -> GridIndex:
        """Build the index for polygons in a projected CRS.

        Parameters
        ----------
        geometries
            Array of Polygon/MultiPolygon in a metric CRS.
        order
            Tie-break rank per polygon (default: position).
        cell_m
            Raster cell size in metres; smaller cells mean fewer exact tests and more memory.
        """
        geoms = np.asarray(geometries, dtype=object)
        if order is None:
            order = np.arange(len(geoms))
        xmin, ymin, xmax, ymax = shapely.total_bounds(geoms)
        x0, y0 = xmin - cell_m, ymin - cell_m
        ncols = int(np.ceil((xmax - x0) / cell_m)) + 2
        nrows = int(np.ceil((ymax - y0) / cell_m)) + 2
        boundary = np.zeros((nrows, ncols), dtype=bool)
        rings = shapely.get_rings(shapely.get_parts(geoms))
        coords, ring_index = shapely.get_coordinates(rings, return_index=True)
        same_ring = ring_index[1:] == ring_index[:-1]
        a, b = coords[:-1][same_ring], coords[1:][same_ring]
        _mark_supercover(boundary, a, b, x0, y0, cell_m)
        labels, n = ndimage.label(~boundary)  # 4-connected regions free of edges
        lut = np.full((nrows, ncols), _BOUNDARY, dtype=np.int32)
        if n:
            # One representative cell per region decides the whole region.
            flat = labels.ravel()
            first = np.full(n + 1, -1, dtype=np.int64)
            idx = np.flatnonzero(flat)
            first[flat[idx[::-1]]] = idx[::-1]
            rep = first[1:]
            rr, cc = np.divmod(rep, ncols)
            cx, cy = x0 + (cc + 0.5) * cell_m, y0 + (rr + 0.5) * cell_m
            tree = shapely.STRtree(geoms)
            hit = _exact(tree, order, cx, cy)
            region_value = np.concatenate([[_BOUNDARY], hit]).astype(np.int32)
            lut = region_value[labels]
        return cls(geoms, np.asarray(order), x0, y0, cell_m, lut, shapely.STRtree(geoms))

    def lookup(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Return the polygon position for each point, -1 when outside every polygon or NaN.

        Parameters
        ----------
        x, y
            Coordinates in the index's CRS (metres).
        """
        x = np.asarray(x, dtype=float)
        y = np.asarray(y, dtype=float)
        out = np.full(len(x), _OUTSIDE, dtype=np.int64)
        finite = np.isfinite(x) & np.isfinite(y)
        nrows, ncols = self.lut.shape
        col = np.full(len(x), -1, dtype=np.int64)
        row = np.full(len(x), -1, dtype=np.int64)
        col[finite] = np.floor((x[finite] - self.x0) / self.cell_m).astype(np.int64)
        row[finite] = np.floor((y[finite] - self.y0) / self.cell_m).astype(np.int64)
        inside = finite & (col >= 0) & (col < ncols) & (row >= 0) & (row < nrows)
        out[inside] = self.lut[row[inside], col[inside]]
        near = np.flatnonzero(out == _BOUNDARY)
        if len(near):
            out[near] = _exact(self.tree, self.order, x[near], y[near])
        return out


def _mark_supercover(
    boundary: np.ndarray, a: np.ndarray, b: np.ndarray, x0: float, y0: float, cell_m: float
) -> None:
    """Mark every raster cell that a segment from ``a`` to ``b`` passes through.

    The cells a segment crosses are those of its end points plus, at every crossing of a
    vertical (horizontal) raster line, the two cells on either side of that line; points
    within a hair of a raster corner mark all four cells so rounding cannot miss a cell.
    """
    ax, ay = (a[:, 0] - x0) / cell_m, (a[:, 1] - y0) / cell_m
    bx, by = (b[:, 0] - x0) / cell_m, (b[:, 1] - y0) / cell_m
    eps = 1e-6
    rows: list[np.ndarray] = [np.floor(ay), np.floor(by)]
    cols: list[np.ndarray] = [np.floor(ax), np.floor(bx)]
    for u0, v0, u1, v1, transpose in ((ax, ay, bx, by, False), (ay, ax, by, bx, True)):
        lo, hi = np.minimum(u0, u1), np.maximum(u0, u1)
        first = np.ceil(lo)
        count = np.maximum(np.floor(hi) - first + 1, 0).astype(np.int64)
        seg = np.repeat(np.arange(len(u0)), count)
        offset = np.arange(count.sum()) - np.repeat(np.cumsum(count) - count, count)
        line = first[seg] + offset
        du = u1[seg] - u0[seg]
        t = np.where(du != 0, (line - u0[seg]) / np.where(du != 0, du, 1), 0.0)
        v = v0[seg] + t * (v1[seg] - v0[seg])
        for dv in (-eps, eps):
            for du_side in (-1, 0):
                uu, vv = line + du_side, np.floor(v + dv)
                rows.append(uu if transpose else vv)
                cols.append(vv if transpose else uu)
    r = np.concatenate(rows).astype(np.int64)
    c = np.concatenate(cols).astype(np.int64)
    keep = (r >= 0) & (r < boundary.shape[0]) & (c >= 0) & (c < boundary.shape[1])
    boundary[r[keep], c[keep]] = True


def _exact(tree: shapely.STRtree, order: np.ndarray, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Exact point-in-polygon (boundary included); ties go to the lowest ``order``."""
    out = np.full(len(x), _OUTSIDE, dtype=np.int64)
    if len(x) == 0:
        return out
    pairs = tree.query(shapely.points(x, y), predicate="intersects")
    if pairs.shape[1]:
        pt, poly = pairs
        rank = order[poly]
        sort = np.lexsort((rank, pt))
        pt, poly = pt[sort], poly[sort]
        first = np.r_[True, pt[1:] != pt[:-1]]
        out[pt[first]] = poly[first]
    return out


def grid_index(grids: gpd.GeoDataFrame, *, cell_m: float = 20.0) -> GridIndex:
    """Build a :class:`GridIndex` for a grid layer in a projected CRS, ties to the smallest code."""
    if grids.crs is None or not grids.crs.is_projected:
        got = None if grids.crs is None else grids.crs.to_string()  # one line, not the repr
        raise ValueError(
            f"grids must be in a projected (metric) CRS, got {got}; "
            "reproject first, e.g. grids.to_crs('EPSG:4549')"
        )
    codes = grids["grid_code"].astype(str).to_numpy()
    order = np.argsort(np.argsort(codes, kind="stable"), kind="stable")
    return GridIndex.build(grids.geometry.to_numpy(), order=order, cell_m=cell_m)


def assign_events(
    events: gpd.GeoDataFrame, grids: gpd.GeoDataFrame, *, index: GridIndex | None = None
) -> pd.DataFrame:
    """Assign every event to the grid containing it, and so to its village and town.

    Parameters
    ----------
    events
        Point events in any CRS; rows with empty geometry are kept and flagged.
    grids
        Grid polygons in a projected CRS with ``grid_code``, ``village_code``, ``town_code``.
    index
        A prebuilt :func:`grid_index` for ``grids`` (built here when omitted).

    Returns
    -------
    pandas.DataFrame
        Same index and order as ``events``: ``grid_code``, ``village_code``, ``town_code``
        (empty strings when unassigned) and ``assign_problem`` (empty when assigned,
        otherwise the reason). A point on an edge shared by two grids goes to the grid
        with the smaller code; no row is ever dropped.
    """
    if index is None:
        index = grid_index(grids)
    geom = events.geometry
    if events.crs is not None and grids.crs is not None and events.crs != grids.crs:
        geom = geom.to_crs(grids.crs)
    arr = geom.to_numpy()
    # NaN for missing or empty points (GEOS refuses getX on an empty point, so skip those).
    x, y = np.full(len(arr), np.nan), np.full(len(arr), np.nan)
    has_xy = ~shapely.is_empty(arr)
    x[has_xy], y[has_xy] = shapely.get_x(arr[has_xy]), shapely.get_y(arr[has_xy])
    pos = index.lookup(x, y)
    hit = pos >= 0
    out = pd.DataFrame(index=events.index)
    for col in ("grid_code", "village_code", "town_code"):
        categories, codes = np.unique(grids[col].astype(str).to_numpy(), return_inverse=True)
        value_codes = np.where(hit, codes[np.where(hit, pos, 0)], len(categories))
        out[col] = pd.Categorical.from_codes(value_codes, categories=[*categories, ""])
    problem = np.zeros(len(pos), dtype=np.int8)
    problem[~hit] = 1
    problem[~(np.isfinite(x) & np.isfinite(y))] = 2
    out["assign_problem"] = pd.Categorical.from_codes(
        problem, categories=["", PROBLEM_OUTSIDE, PROBLEM_NO_COORDS]
    )
    return out
