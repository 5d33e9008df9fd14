"""Assignment of point events to grids (and so to villages and towns), exact and deterministic."""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy import ndimage

from geo.core.i18n import TEXT, Text
from geo.core.validate import require_metric_crs

#: Codes of ``assign_problem`` (empty: assigned); :func:`problem_words` gives their words.
PROBLEM_NO_COORDS = "no_coords"
PROBLEM_OUTSIDE = "outside"
#: Placed at its village's point from the address (no house matched): in a grid of the right
#: village, not at the house. Kept by :func:`assign_events` for an event that carries it.
PROBLEM_VILLAGE_LEVEL = "village_level"
#: Delivered with an address only, and the address matched nothing in the gazetteer.
PROBLEM_NO_ADDRESS_MATCH = "no_address_match"

_OUTSIDE = -1
_BOUNDARY = -2


def problem_words(code: object) -> Text | None:
    """The words of an ``assign_problem`` code (or of the reader's ``coord_problem``), from the
    catalog's ``assign_problem_<code>``; None for ``""`` and for a value that is no code (a
    store written before the codes, which held the words themselves)."""
    return TEXT.get(f"assign_problem_{code}") if code else None


@dataclass(frozen=True)
class GridIndex:
    """A raster lookup over polygons with exact tests only in cells that an edge crosses.

    Cells that no polygon edge crosses lie wholly inside one polygon (or outside all of
    them), so a point there is answered by one array lookup. Each cell that an edge crosses
    keeps the short list of polygons that can hold its points (those whose boundary crosses
    it, plus any that contains its centre), and its points are tested exactly against just
    those, with prepared geometries. A point on an edge shared by several polygons belongs
    to the one ranked first in ``order`` (the smallest grid code).

    Attributes
    ----------
    geometries
        The polygons (prepared), in the caller's projected CRS.
    order
        Rank of each polygon used to break ties on shared edges (lower wins).
    x0, y0, cell_m
        Origin (lower left) and cell size of the lookup raster, in CRS units.
    lut
        ``int32`` raster (rows = y): a polygon position, -1 outside, or ``-2 - k`` for a
        cell that edges cross, whose candidates are block ``k``.
    cand_ptr, cand_poly
        Candidate polygons of the crossed cells in CSR form, block ``k`` being
        ``cand_poly[cand_ptr[k]:cand_ptr[k + 1]]``, each block in rank order.
    """

    geometries: np.ndarray
    order: np.ndarray
    x0: float
    y0: float
    cell_m: float
    lut: np.ndarray
    cand_ptr: np.ndarray
    cand_poly: np.ndarray

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
        geoms = np.array(geometries, dtype=object)
        shapely.prepare(geoms)
        order = np.arange(len(geoms)) if order is None else np.asarray(order)
        xmin, ymin, xmax, ymax = shapely.total_bounds(geoms)
        x0, y0 = xmin - cell_m, ymin - cell_m
        ncols = int(np.ceil((xmax - x0) / cell_m)) + 2
        nrows = int(np.ceil((ymax - y0) / cell_m)) + 2
        parts, part_owner = shapely.get_parts(geoms, return_index=True)
        rings, ring_part = shapely.get_rings(parts, return_index=True)
        coords, ring_index = shapely.get_coordinates(rings, return_index=True)
        same_ring = ring_index[1:] == ring_index[:-1]
        a, b = coords[:-1][same_ring], coords[1:][same_ring]
        seg_poly = part_owner[ring_part[ring_index[:-1][same_ring]]]
        cells, polys = _supercover(a, b, seg_poly, x0, y0, cell_m, (nrows, ncols))
        on_edge = np.zeros(nrows * ncols, dtype=bool)
        on_edge[cells] = True
        boundary = on_edge.reshape(nrows, ncols)
        labels, n = ndimage.label(~boundary)  # 4-connected regions free of edges
        tree = shapely.STRtree(geoms)
        # One representative cell per region decides the whole region.
        flat = labels.ravel()
        first = np.full(n + 1, -1, dtype=np.int64)
        idx = np.flatnonzero(flat)
        first[flat[idx[::-1]]] = idx[::-1]
        rr, cc = np.divmod(first[1:], ncols)
        hit = _exact(tree, order, x0 + (cc + 0.5) * cell_m, y0 + (rr + 0.5) * cell_m)
        lut = np.concatenate([[_BOUNDARY], hit]).astype(np.int32)[labels]
        # Candidates of boundary cells: polygons whose edges cross them, and any polygon
        # wholly covering one (only possible where polygons overlap).
        bcells = np.flatnonzero(boundary.ravel())
        br, bc = np.divmod(bcells, ncols)
        centre_pt, centre_poly = tree.query(
            shapely.points(x0 + (bc + 0.5) * cell_m, y0 + (br + 0.5) * cell_m),
            predicate="intersects",
        )
        # Pairs sorted by cell, then by rank, so the first hit of a point is the winner.
        n_poly = np.int64(len(geoms))
        by_rank = np.argsort(order, kind="stable")
        keys = np.concatenate(
            [cells * n_poly + order[polys], bcells[centre_pt] * n_poly + order[centre_poly]]
        )
        keys.sort()
        keys = keys[np.r_[True, keys[1:] != keys[:-1]]]
        pair_cell, pair_rank = np.divmod(keys, n_poly)
        cand_cell, start = np.unique(pair_cell, return_index=True)
        cand_ptr = np.append(start, len(keys))
        # A boundary cell's lut value points at its candidate block: -2 - block.
        np.put(lut, cand_cell, _BOUNDARY - np.arange(len(cand_cell), dtype=np.int32))
        return cls(geoms, order, x0, y0, cell_m, lut, cand_ptr, by_rank[pair_rank])

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
        nrows, ncols = self.lut.shape
        with np.errstate(invalid="ignore"):
            col = np.floor((x - self.x0) / self.cell_m)
            row = np.floor((y - self.y0) / self.cell_m)
            inside = (col >= 0) & (col < ncols) & (row >= 0) & (row < nrows)  # False for NaN
        flat = row[inside].astype(np.int64) * ncols + col[inside].astype(np.int64)
        out[inside] = self.lut.ravel()[flat]
        near = np.flatnonzero(out <= _BOUNDARY)
        if len(near):
            block = _BOUNDARY - out[near]
            start, stop = self.cand_ptr[block], self.cand_ptr[block + 1]
            count = stop - start
            pt = np.repeat(np.arange(len(near)), count)
            offset = np.arange(count.sum()) - np.repeat(np.cumsum(count) - count, count)
            poly = self.cand_poly[np.repeat(start, count) + offset]
            hit = shapely.intersects_xy(self.geometries[poly], x[near][pt], y[near][pt])
            pt, poly = pt[hit], poly[hit]
            winner = np.full(len(near), _OUTSIDE, dtype=np.int64)
            if len(pt):
                first = np.r_[True, pt[1:] != pt[:-1]]  # candidates are in rank order
                winner[pt[first]] = poly[first]
            out[near] = winner
        return out


def _first_by_rank(pt: np.ndarray, poly: np.ndarray, order: np.ndarray, n: int) -> np.ndarray:
    """For each of ``n`` points the hit polygon of lowest rank, -1 where there is none."""
    out = np.full(n, _OUTSIDE, dtype=np.int64)
    if len(pt):
        sort = np.lexsort((order[poly], pt))
        pt, poly = pt[sort], poly[sort]
        first = np.r_[True, pt[1:] != pt[:-1]]
        out[pt[first]] = poly[first]
    return out


def _supercover(
    a: np.ndarray,
    b: np.ndarray,
    owner: np.ndarray,
    x0: float,
    y0: float,
    cell_m: float,
    shape: tuple[int, int],
) -> tuple[np.ndarray, np.ndarray]:
    """Every (flat cell, polygon) such that a segment of the polygon passes through the cell.

    The cells a segment crosses are those of its end points plus, at every crossing of a
    vertical (horizontal) raster line, the two cells on either side of that line; points
    within a hair of a raster corner mark all four cells so rounding cannot miss a cell.
    """
    ax, ay = (a[:, 0] - x0) / cell_m, (a[:, 1] - y0) / cell_m
    bx, by = (b[:, 0] - x0) / cell_m, (b[:, 1] - y0) / cell_m
    eps = 1e-6
    rows: list[np.ndarray] = [np.floor(ay), np.floor(by)]
    cols: list[np.ndarray] = [np.floor(ax), np.floor(bx)]
    owners: list[np.ndarray] = [owner, owner]
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
        vv = np.floor(v)
        frac = v - vv
        near_line = (frac < eps) | (frac > 1 - eps)  # a hair from a corner: both rows
        other = np.where(frac < 0.5, vv - 1, vv + 1)
        for side in (-1, 0):
            uu = line + side
            for use_u, use_v, keep in (
                (uu, vv, slice(None)),
                (uu[near_line], other[near_line], near_line),
            ):
                rows.append(use_u if transpose else use_v)
                cols.append(use_v if transpose else use_u)
                owners.append(owner[seg][keep])
    r = np.concatenate(rows).astype(np.int64)
    c = np.concatenate(cols).astype(np.int64)
    o = np.concatenate(owners)
    keep = (r >= 0) & (r < shape[0]) & (c >= 0) & (c < shape[1])
    return r[keep] * shape[1] + c[keep], o[keep]


def _exact(tree: shapely.STRtree, order: np.ndarray, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Exact point-in-polygon (boundary included) by STRtree; ties go to the lowest ``order``."""
    if len(x) == 0:
        return np.full(0, _OUTSIDE, dtype=np.int64)
    pt, poly = tree.query(shapely.points(x, y), predicate="intersects")
    return _first_by_rank(pt, poly, order, len(x))


def grid_index(grids: gpd.GeoDataFrame, *, cell_m: float = 20.0) -> GridIndex:
    """Build a :class:`GridIndex` for a grid layer in a projected CRS, ties to the smallest code."""
    require_metric_crs(grids, "grids", task="index the grids")
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
        otherwise the reason's code: :data:`PROBLEM_OUTSIDE`, :data:`PROBLEM_NO_COORDS`). A
        point on an edge shared by two grids goes to the grid with the smaller code; no row is
        ever dropped. An event whose own ``assign_problem`` is :data:`PROBLEM_VILLAGE_LEVEL`
        (placed from its address at village level) keeps that code when it lands in a grid:
        reassigning it to new grids does not make it a house.
    """
    if index is None:
        index = grid_index(grids)
    geom = events.geometry
    if events.crs is not None and grids.crs is not None and events.crs != grids.crs:
        geom = geom.to_crs(grids.crs)
    arr = geom.to_numpy()
    # NaN for missing or empty points (GEOS refuses getX on an empty point, so skip those).
    has_xy = ~shapely.is_empty(arr)
    if has_xy.all():
        x, y = shapely.get_x(arr), shapely.get_y(arr)
    else:
        x, y = np.full(len(arr), np.nan), np.full(len(arr), np.nan)
        x[has_xy], y[has_xy] = shapely.get_x(arr[has_xy]), shapely.get_y(arr[has_xy])
    pos = index.lookup(x, y)
    hit = pos >= 0
    slot = np.where(hit, pos, len(grids))  # one past the grids: unassigned
    out = pd.DataFrame(index=events.index)
    for col in ("grid_code", "village_code", "town_code"):
        # "" stands for "no grid"; a grid with a blank code shares that category, and so do
        # all grids of a layer without village or town codes.
        known = (
            grids[col].fillna("").astype(str)
            if col in grids.columns
            else pd.Series("", index=grids.index)
        )
        values = np.append(known.to_numpy(), "")
        categories, codes = np.unique(values, return_inverse=True)
        out[col] = pd.Categorical.from_codes(codes[slot], categories=pd.Index(categories))
    problem = np.zeros(len(pos), dtype=np.int8)
    problem[~hit] = 1
    problem[~(np.isfinite(x) & np.isfinite(y))] = 2
    if "assign_problem" in events.columns:
        given = events["assign_problem"].astype(object).to_numpy() == PROBLEM_VILLAGE_LEVEL
        problem[given & hit] = 3
    out["assign_problem"] = pd.Categorical.from_codes(
        problem,
        categories=pd.Index(["", PROBLEM_OUTSIDE, PROBLEM_NO_COORDS, PROBLEM_VILLAGE_LEVEL]),
    )
    return out
