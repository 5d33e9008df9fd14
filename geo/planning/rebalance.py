"""Redistricting: propose new service grids for a village that meet the household standard.

A proposal is built from small building blocks and never moves a household: the village is
cut by a square lattice (``cell_m``, 120 m by default, anchored at multiples of the cell size
in EPSG:4549) together with its own boundary, and cells holding more than
``max_households / 8`` households are quartered again (down to 15 m) so that none is too
coarse to balance with. The faces are noded together with the village boundary, so anything
made of them tiles the village exactly and neighbours share their edge vertices. *Atoms*
(:func:`village_atoms`) are these faces with the empty ones joined to the inhabited face they
share the longest edge with (breadth first, so each goes to the nearest inhabited cell).

Two ways to group them into grids, both keeping every grid contiguous (joined by shared
edges, never by a corner) and inside the village:

``"balanced"`` (GridGov's own, fast)
    Recursive bisection of the faces (empty ones included, so cuts run straight through
    empty land) into ``k = ceil(households / target)`` grids, ``target`` being the middle of
    the rule's household range (or ``households / target_grids``). Each cut grows one side
    from an end of an axis, face by face in order along the axis, until it holds its share of
    the *workload*; if the rest falls apart, its smaller pieces join the grown side. Of the
    four sweeps (two axes, two ends) within 2 % of a grid's share, the shortest cut wins.
    This is :func:`geo.demo.build._bisect` on the lattice instead of free straight lines.
``"maxp"`` (spopt's :class:`~spopt.region.MaxPHeuristic`)
    The most grids such that each holds at least a *floor* of households, with atom centre
    coordinates as attributes (so the heuristic favours compact grids). The floor is
    ``max(min_households, ceil(max_households / 2))`` (rural 40–250: 125; urban 40–400: 200):
    max-p grids overshoot their floor a little, and a grid that ends above the maximum can be
    cut in two without either part falling below the floor. With ``target_grids`` the floor
    is ``households // target_grids`` (at least the minimum), so max-p returns at most that
    many grids before the fix-up. spopt's search is quadratic in the areas, so atoms are first
    grouped to at least floor / 8 households, and the effort is ``MAXP_CONSTRUCTIONS``
    constructions with ``MAXP_SA_ROUNDS`` annealing round (spopt's defaults, 99 and 10, take
    minutes per village).

Both methods end with the same fix-up: a grid above ``max_households`` (or ``max_residents``)
is bisected into ``ceil(households / max_households)`` parts; a grid below
``min_households`` joins the smallest neighbour it can join without passing the maximum.

Workload of an atom or grid is :func:`geo.planning.metrics.workload`: households +
``issue_weight`` × issues received in the 12 months (365 days) up to ``as_of`` (default: the
newest ``received_at``), issues located by their point. With ``issue_weight = 1`` one issue
weighs as much as one household. Without issues it is the households. Compactness is
:func:`geo.planning.metrics.polsby_popper`, as in the planner's table and the draft check.

A village in several pieces (an exclave): each piece is partitioned on its own; a piece with
fewer households than the minimum joins the nearest grid of another piece (that grid is then
a MultiPolygon). A village with fewer households than the minimum gets one grid.

Randomness: ``"balanced"`` uses none. spopt's max-p draws from NumPy's legacy global
generator; GridGov seeds it from ``numpy.random.default_rng(seed)`` for the call and restores
the caller's global state afterwards, so a proposal depends on ``seed`` only.
"""

from __future__ import annotations

import heapq
import math
import warnings
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Literal

import geopandas as gpd
import numpy as np
import pandas as pd
import scipy.sparse as sp
import shapely
from scipy.sparse.csgraph import connected_components
from shapely.geometry.base import BaseGeometry

from geo.core.errors import GridGovError, InputProblems
from geo.core.settings import AREA_TYPE_OF_KIND, RURAL, GridSizeRule, Settings, get_settings
from geo.core.validate import crs_problem
from geo.grids.partition import dissolve
from geo.planning.codes import grid_code
from geo.planning.metrics import ISSUE_WEIGHT, issue_window, polsby_popper, workload

__all__ = [
    "CELL_M",
    "ISSUE_WEIGHT",
    "METHODS",
    "METRIC_NAMES",
    "Method",
    "Proposal",
    "RebalanceError",
    "atom_weights",
    "grid_metrics",
    "maxp_floor",
    "propose_partition",
    "rebalance_town",
    "village_atoms",
]

Method = Literal["maxp", "balanced"]
METHODS: tuple[str, ...] = ("maxp", "balanced")

#: Side of the lattice cells that make the atoms, metres.
CELL_M = 120.0
#: Smallest cell side after quartering crowded cells, metres.
MIN_CELL_M = 15.0
#: spopt max-p effort: constructions tried and simulated-annealing rounds per construction.
MAXP_CONSTRUCTIONS = 10
MAXP_SA_ROUNDS = 1

#: The rows of a metrics table, in order.
METRIC_NAMES = (
    "n_grids",
    "households_min",
    "households_median",
    "households_max",
    "share_within_rule",
    "workload_cv",
    "mean_polsby_popper",
)


class RebalanceError(GridGovError, RuntimeError):
    """A proposal failed its own topology check (a GridGov bug: please report the village)."""


@dataclass(frozen=True, eq=False)
class Proposal:
    """Proposed grids for a village (or a town) and how they compare with the current ones.

    Attributes
    ----------
    grids
        One row per proposed grid, EPSG:4549: ``grid_code`` (village code + ``001``…, numbered
        from north-west to south-east), ``grid_name``, ``village_code``, ``town_code``,
        ``area_type``, ``grid_worker`` (empty: to be assigned), ``households``, ``residents``,
        ``issues_12m``, ``workload`` (households + issue weight × issues), ``area_km2``,
        ``polsby_popper`` (4πA/P², 1 for a circle) and ``geometry`` (a Polygon wherever the
        village is in one piece).
    metrics_after
        :func:`grid_metrics` of ``grids``.
    metrics_before
        The same for the current grids when they were given (households and issues counted
        by location, like the proposal), else ``None``.
    method
        ``"maxp"`` or ``"balanced"``.
    seed
        The seed the proposal was made with.
    """

    grids: gpd.GeoDataFrame
    metrics_after: pd.Series
    metrics_before: pd.Series | None
    method: str
    seed: int

    def compare(self) -> pd.DataFrame:
        """Metrics side by side: columns ``before`` (when known) and ``after``."""
        cols = {"after": self.metrics_after}
        if self.metrics_before is not None:
            cols = {"before": self.metrics_before, **cols}
        return pd.DataFrame(cols)


# --------------------------------------------------------------------------- inputs


@dataclass(frozen=True)
class _Points:
    """Households and recent issues inside one village, as plain arrays (metres)."""

    hh_xy: np.ndarray
    hh_res: np.ndarray
    issue_xy: np.ndarray


def _check_frame(
    frame: Any, name: str, problems: list[str], *, need: Sequence[str] = ()
) -> gpd.GeoDataFrame | None:
    if frame is None:
        return None
    if not isinstance(frame, gpd.GeoDataFrame):
        problems.append(f"{name} must be a GeoDataFrame of points (got {type(frame).__name__})")
        return None
    if problem := crs_problem(frame, name, allow_missing=True):
        problems.append(problem)
    missing = [c for c in need if c not in frame.columns]
    if missing:
        problems.append(f"{name} has no column {', '.join(missing)}")
    bad = int(np.sum(shapely.get_type_id(frame.geometry.to_numpy()) != 0))
    if bad:
        problems.append(
            f"{name} must hold one point per row; {bad} row(s) have no point or another "
            "geometry: drop them or take their centroids"
        )
    return frame


def _check_region(region: Any, problems: list[str]) -> BaseGeometry | None:
    if not isinstance(region, BaseGeometry) or shapely.get_type_id(region) not in (3, 6):
        problems.append(
            "village_polygon must be a shapely Polygon or MultiPolygon in the grids' metric CRS "
            f"(got {type(region).__name__})"
        )
        return None
    if region.is_empty or not region.is_valid:
        why = "empty" if region.is_empty else shapely.is_valid_reason(region)
        problems.append(f"village_polygon is not a valid area ({why}); fix it with make_valid")
        return None
    x0, y0, x1, y1 = region.bounds
    if max(abs(x0), abs(x1)) <= 180 and max(abs(y0), abs(y1)) <= 90:
        problems.append(
            "village_polygon looks like longitude/latitude degrees; "
            "give it in the grids' metric CRS"
        )
    return region


def _points_in(
    region: BaseGeometry,
    households: gpd.GeoDataFrame,
    issues: gpd.GeoDataFrame | None,
    as_of: pd.Timestamp | str | None,
) -> _Points:
    geoms = households.geometry.to_numpy()
    hh_xy = np.column_stack([shapely.get_x(geoms), shapely.get_y(geoms)])
    inside = shapely.intersects_xy(region, hh_xy[:, 0], hh_xy[:, 1])
    if "residents" in households.columns:
        res = pd.to_numeric(households["residents"], errors="coerce").fillna(0).to_numpy()
    else:
        res = np.zeros(len(households))
    if issues is not None and len(issues):
        recent, _ = issue_window(issues["received_at"], as_of)
        iss = shapely.get_coordinates(issues.geometry.to_numpy()[recent])
        iss = iss[shapely.intersects_xy(region, iss[:, 0], iss[:, 1])]
    else:
        iss = np.empty((0, 2))
    return _Points(hh_xy[inside], res[inside].astype(np.int64), iss)


def _locate(geoms: np.ndarray, xy: np.ndarray) -> np.ndarray:
    """Position of the polygon holding each point (the first one on shared edges), or -1."""
    out = np.full(len(xy), len(geoms), dtype=np.int64)
    if len(xy) and len(geoms):
        pi, gi = shapely.STRtree(geoms).query(shapely.points(xy), predicate="intersects")
        np.minimum.at(out, pi, gi)
    out[out == len(geoms)] = -1
    return out


def _tally(geoms: np.ndarray, xy: np.ndarray, weights: np.ndarray | None = None) -> np.ndarray:
    where = _locate(geoms, xy)
    ok = where >= 0
    w = None if weights is None else weights[ok]
    return np.bincount(where[ok], weights=w, minlength=len(geoms))


# --------------------------------------------------------------------------- atoms


@dataclass(frozen=True)
class _Atoms:
    """Units made of faces of the noded lattice, and their graph.

    ``faces`` tile the village; ``atom_of_face`` gives the unit of each face; ``adj`` holds
    the length (m) of the edge shared by two units (symmetric, zero diagonal); ``xy`` is the
    area centroid of each unit.
    """

    faces: np.ndarray
    atom_of_face: np.ndarray
    households: np.ndarray
    residents: np.ndarray
    issues: np.ndarray
    area: np.ndarray
    xy: np.ndarray
    adj: sp.csr_matrix

    @property
    def n(self) -> int:
        return len(self.households)

    def workload(self, issue_weight: float) -> np.ndarray:
        return workload(self.households, self.issues, issue_weight=issue_weight)


def _polygonize(lines: list[BaseGeometry], region: BaseGeometry) -> np.ndarray:
    """Faces of the noded ``lines`` that lie inside ``region``."""
    noded = shapely.union_all(np.array(lines, dtype=object))
    faces = shapely.get_parts(shapely.polygonize(shapely.get_parts(noded)))
    inner = shapely.get_coordinates(shapely.point_on_surface(faces))
    return faces[shapely.contains_xy(region, inner[:, 0], inner[:, 1])]


def _lattice_faces(
    region: BaseGeometry, hh_xy: np.ndarray, *, cell_m: float, cap: int
) -> np.ndarray:
    """Lattice cells cut by the region boundary; crowded cells quartered (quadtree).

    Every coordinate is ``origin + cell_m * dyadic fraction``, computed by one formula, so a
    cross added inside a cell ends exactly on the lines around it.
    """
    minx, miny, maxx, maxy = region.bounds
    x0, y0 = math.floor(minx / cell_m) * cell_m, math.floor(miny / cell_m) * cell_m
    nx, ny = max(math.ceil((maxx - x0) / cell_m), 1), max(math.ceil((maxy - y0) / cell_m), 1)
    lo_y, hi_y = y0 - cell_m, y0 + (ny + 1) * cell_m
    lo_x, hi_x = x0 - cell_m, x0 + (nx + 1) * cell_m
    lines: list[BaseGeometry] = [region.boundary]
    lines += [
        shapely.LineString([(x0 + cell_m * i, lo_y), (x0 + cell_m * i, hi_y)]) for i in range(1, nx)
    ]
    lines += [
        shapely.LineString([(lo_x, y0 + cell_m * j), (hi_x, y0 + cell_m * j)]) for j in range(1, ny)
    ]
    split: set[tuple[int, int, int]] = set()
    levels = max(math.floor(math.log2(cell_m / MIN_CELL_M)), 0)
    faces = _polygonize(lines, region)
    for _ in range(levels):
        crowded = faces[_tally(faces, hh_xy) > cap]
        if not len(crowded):
            break
        added = False
        for px, py in shapely.get_coordinates(shapely.point_on_surface(crowded)):
            level, i, j = 0, math.floor((px - x0) / cell_m), math.floor((py - y0) / cell_m)
            while (level, i, j) in split:
                level += 1
                half = 2**level
                i = 2 * i + int(px >= x0 + cell_m * ((2 * i + 1) / half))
                j = 2 * j + int(py >= y0 + cell_m * ((2 * j + 1) / half))
            if level >= levels or (level, i, j) in split:
                continue
            split.add((level, i, j))
            h = 2 ** (level + 1)
            xa, xm, xb = (x0 + cell_m * (t / h) for t in (2 * i, 2 * i + 1, 2 * i + 2))
            ya, ym, yb = (y0 + cell_m * (t / h) for t in (2 * j, 2 * j + 1, 2 * j + 2))
            lines.append(shapely.LineString([(xm, ya), (xm, yb)]))
            lines.append(shapely.LineString([(xa, ym), (xb, ym)]))
            added = True
        if not added:
            break
        faces = _polygonize(lines, region)
    return faces


def _shared_edges(geoms: np.ndarray) -> sp.csr_matrix:
    """Symmetric matrix of the boundary length (m) shared by each pair of polygons."""
    n = len(geoms)
    a, b = shapely.STRtree(geoms).query(geoms, predicate="intersects")
    keep = a < b
    a, b = a[keep], b[keep]
    length = shapely.length(
        shapely.intersection(shapely.boundary(geoms[a]), shapely.boundary(geoms[b]))
    )
    ok = length > 1e-6
    a, b, length = a[ok], b[ok], length[ok]
    m = sp.coo_matrix((np.r_[length, length], (np.r_[a, b], np.r_[b, a])), shape=(n, n))
    return m.tocsr()


def _merge_empty(adj: sp.csr_matrix, households: np.ndarray) -> np.ndarray:
    """Atom of each face: inhabited faces are atoms; empty ones join them breadth first.

    An empty face joins, among the atoms it touches when it is reached, the one it shares the
    longest edge with. Faces that no household can reach (a piece of the village without
    anyone) form one atom per connected piece.
    """
    n = len(households)
    owner = np.full(n, -1, dtype=np.int64)
    seeds = np.flatnonzero(households > 0)
    owner[seeds] = np.arange(len(seeds))
    n_atoms = len(seeds)
    while True:
        todo = np.flatnonzero(owner < 0)
        done = np.flatnonzero(owner >= 0)
        if not len(todo) or not len(done):
            break
        member = sp.csr_matrix(
            (np.ones(len(done)), (done, owner[done])), shape=(n, max(n_atoms, 1))
        )
        touch = (adj[todo] @ member).tocsr()
        best = np.asarray(touch.max(axis=1).todense()).ravel()
        reach = best > 0
        if not reach.any():
            break
        pick = np.asarray(touch.argmax(axis=1)).ravel()
        owner[todo[reach]] = pick[reach]
    rest = np.flatnonzero(owner < 0)
    if len(rest):
        _, piece = connected_components(adj[rest][:, rest], directed=False)
        owner[rest] = n_atoms + piece
    return owner


def _faces(
    region: BaseGeometry, pts: _Points, *, cell_m: float, max_atom_households: int
) -> _Atoms:
    """Every lattice face as its own unit (the finest level; empty faces included)."""
    faces = _lattice_faces(region, pts.hh_xy, cell_m=cell_m, cap=max_atom_households)
    n = len(faces)
    return _Atoms(
        faces=faces,
        atom_of_face=np.arange(n),
        households=_tally(faces, pts.hh_xy).astype(np.int64),
        residents=_tally(faces, pts.hh_xy, pts.hh_res.astype(float)).astype(np.int64),
        issues=_tally(faces, pts.issue_xy).astype(np.int64),
        area=shapely.area(faces),
        xy=shapely.get_coordinates(shapely.centroid(faces)),
        adj=_shared_edges(faces),
    )


def _coarsen(units: _Atoms, owner: np.ndarray) -> _Atoms:
    """Group the units of ``units`` by ``owner`` (0…m-1): sums, area centroids, shared edges."""
    n = int(owner.max()) + 1
    member = sp.csr_matrix((np.ones(units.n), (np.arange(units.n), owner)), shape=(units.n, n))
    adj = (member.T @ units.adj @ member).tocsr()
    adj.setdiag(0)
    adj.eliminate_zeros()

    def total(values: np.ndarray) -> np.ndarray:
        return np.bincount(owner, weights=values, minlength=n)

    area = total(units.area)
    xy = np.column_stack([total(units.area * units.xy[:, k]) for k in (0, 1)]) / area[:, None]
    return _Atoms(
        faces=units.faces,
        atom_of_face=owner[units.atom_of_face],
        households=total(units.households).astype(np.int64),
        residents=total(units.residents).astype(np.int64),
        issues=total(units.issues).astype(np.int64),
        area=area,
        xy=xy,
        adj=adj,
    )


def _build_atoms(
    region: BaseGeometry, pts: _Points, *, cell_m: float, max_atom_households: int
) -> _Atoms:
    """Faces with the empty ones merged into inhabited neighbours (see :func:`_merge_empty`)."""
    faces = _faces(region, pts, cell_m=cell_m, max_atom_households=max_atom_households)
    return _coarsen(faces, _merge_empty(faces.adj, faces.households))


def village_atoms(
    village_polygon: BaseGeometry,
    households: gpd.GeoDataFrame,
    issues: gpd.GeoDataFrame | None = None,
    *,
    cell_m: float = CELL_M,
    max_atom_households: int = 30,
    as_of: pd.Timestamp | str | None = None,
    issue_weight: float = ISSUE_WEIGHT,
) -> gpd.GeoDataFrame:
    """The building blocks of a proposal: lattice cells clipped to the village, empties merged.

    Parameters
    ----------
    village_polygon
        The village (Polygon or MultiPolygon), EPSG:4549 metres.
    households
        Household points (``residents`` column used when present), EPSG:4549; points outside
        the village are ignored.
    issues
        Issue points with ``received_at``; only the 12 months up to ``as_of`` count.
    cell_m
        Lattice cell side, metres.
    max_atom_households
        Cells holding more households are quartered (down to 15 m).
    as_of
        End of the issue window (default: the newest ``received_at``).
    issue_weight
        Household-equivalents of one recent issue in ``workload``.

    Returns
    -------
    geopandas.GeoDataFrame
        One row per atom: ``households``, ``residents``, ``issues_12m``, ``workload``,
        ``area_m2``, ``x``, ``y`` (area centroid, m) and ``geometry``; the atoms tile the
        village. :func:`atom_weights` gives their contiguity.
    """
    problems: list[str] = []
    region = _check_region(village_polygon, problems)
    hh = _check_frame(households, "households", problems)
    iss = _check_frame(issues, "issues", problems, need=("received_at",))
    _check_numbers(problems, cell_m=cell_m, issue_weight=issue_weight)
    if problems or region is None or hh is None:
        raise InputProblems("propose grids", problems or ["households is required"])
    atoms = _build_atoms(
        region,
        _points_in(region, hh, iss, as_of),
        cell_m=cell_m,
        max_atom_households=max_atom_households,
    )
    geoms = dissolve(atoms.faces, atoms.atom_of_face)
    frame = gpd.GeoDataFrame(
        {
            "households": atoms.households,
            "residents": atoms.residents,
            "issues_12m": atoms.issues,
            "workload": atoms.workload(issue_weight),
            "area_m2": atoms.area,
            "x": atoms.xy[:, 0],
            "y": atoms.xy[:, 1],
        },
        geometry=[geoms[str(i)] for i in range(atoms.n)],
        crs=households.crs or get_settings().metric_crs,
    )
    frame.attrs["adjacency"] = atoms.adj
    return frame


def atom_weights(atoms: gpd.GeoDataFrame) -> Any:
    """Rook contiguity (shared edge, not a corner) of :func:`village_atoms` as a libpysal ``W``.

    Ids are row positions. Uses the shared-edge matrix kept in ``atoms.attrs`` when present.
    """
    from libpysal.weights import W

    adj = atoms.attrs.get("adjacency")
    if adj is None:
        adj = _shared_edges(atoms.geometry.to_numpy())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return W(_neighbour_lists(sp.csr_matrix(adj)), silence_warnings=True)


# --------------------------------------------------------------------------- grouping


def _components(adj: sp.csr_matrix, members: np.ndarray) -> np.ndarray:
    """Connected-piece label of each of ``members`` in the atom graph."""
    if len(members) <= 1:
        return np.zeros(len(members), dtype=np.int64)
    _, lab = connected_components(adj[members][:, members], directed=False)
    return lab


def _grow(sub: sp.csr_matrix, key: np.ndarray, weight: np.ndarray, target: float) -> np.ndarray:
    """Grow a connected set from the lowest ``key``, lowest key first, to ``target`` weight."""
    n = len(key)
    taken = np.zeros(n, dtype=bool)
    start = int(np.argmin(key))
    heap: list[tuple[float, int]] = [(float(key[start]), start)]
    queued = {start}
    total = 0.0
    order: list[int] = []
    while heap:
        _, i = heapq.heappop(heap)
        if order and total + weight[i] > target and total + weight[i] - target > target - total:
            break
        taken[i] = True
        order.append(i)
        total += weight[i]
        if total >= target:
            break
        for j in sub.indices[sub.indptr[i] : sub.indptr[i + 1]]:
            if int(j) not in queued:
                queued.add(int(j))
                heapq.heappush(heap, (float(key[j]), int(j)))
    if taken.all() and len(order) > 1:
        taken[order[-1]] = False
    return taken


def _bisect(
    members: np.ndarray, k: int, weight: np.ndarray, xy: np.ndarray, adj: sp.csr_matrix
) -> list[np.ndarray]:
    """Split connected ``members`` into ``k`` connected parts of nearly equal ``weight``."""
    k = min(k, len(members))
    if k <= 1:
        return [members]
    left = k // 2
    w = weight[members]
    total = float(w.sum())
    target = total * left / k
    sub = adj[members][:, members].tocsr()
    pts = xy[members]
    span = np.ptp(pts, axis=0)
    axes = (0, 1) if span[0] >= span[1] else (1, 0)
    good_enough = 0.02 * total / k
    # Of the sweeps (each axis, from either end) within 2 % of a grid's share, keep the one
    # with the shortest cut; when none is, the best balanced one.
    candidates: list[tuple[tuple[float, float], np.ndarray]] = []
    for axis in axes:
        for sign in (1.0, -1.0):
            side = _grow(sub, sign * pts[:, axis], w, target)
            rest = np.flatnonzero(~side)
            lab = _components(sub, rest)
            if lab.max(initial=0) > 0:
                piece_w = np.bincount(lab, weights=w[rest])
                keep = int(np.argmax(piece_w))
                side[rest[lab != keep]] = True
            err = abs(float(w[side].sum()) - target)
            cut = float(sub[side][:, ~side].sum())
            candidates.append(((0.0, cut) if err <= good_enough else (err, cut), side))
    best = min(candidates, key=lambda c: c[0])[1]  # first of equals: longer axis, low end
    if best.all():  # cannot happen for connected members; keep the recursion finite
        return [members]
    return _bisect(members[best], left, weight, xy, adj) + _bisect(
        members[~best], k - left, weight, xy, adj
    )


def maxp_floor(rule: GridSizeRule, *, households: int = 0, target_grids: int | None = None) -> int:
    """Household floor handed to max-p for ``rule`` (see the module docstring)."""
    if target_grids:
        return max(rule.min_households, households // target_grids)
    return max(rule.min_households, math.ceil(rule.max_households / 2))


@contextmanager
def _legacy_seed(seed: int) -> Iterator[None]:
    """Seed NumPy's legacy global generator for spopt, then restore the caller's state."""
    state = np.random.get_state()
    np.random.seed(seed)
    try:
        yield
    finally:
        np.random.set_state(state)


def _agglomerate(adj: sp.csr_matrix, households: np.ndarray, least: int) -> np.ndarray:
    """Group connected units so that each group holds at least ``least`` households.

    The smallest group joins its smallest neighbour (longest shared edge on ties) until every
    group reaches ``least`` or has no neighbour left. Returns a group number (0…m-1) per unit.
    """
    n = len(households)
    size = households.astype(np.int64).copy()
    parent = np.arange(n)
    links: list[dict[int, float]] = [
        dict(
            zip(
                adj.indices[adj.indptr[i] : adj.indptr[i + 1]].tolist(),
                adj.data[adj.indptr[i] : adj.indptr[i + 1]].tolist(),
                strict=True,
            )
        )
        for i in range(n)
    ]
    heap = [(int(size[i]), i) for i in range(n) if size[i] < least]
    heapq.heapify(heap)
    while heap:
        s, a = heapq.heappop(heap)
        if parent[a] != a or s != size[a] or not links[a]:
            continue
        b = min(links[a], key=lambda j: (size[j], -links[a][j], j))
        parent[a] = b
        size[b] += size[a]
        for j, length in links[a].items():
            if j == b:
                continue
            links[b][j] = links[b].get(j, 0.0) + length
            links[j][b] = links[j].get(b, 0.0) + length
            del links[j][a]
        del links[b][a]
        links[a] = {}
        if size[b] < least:
            heapq.heappush(heap, (int(size[b]), b))
    root = parent.copy()
    while True:
        nxt = parent[root]
        if np.array_equal(nxt, root):
            break
        root = nxt
    return np.unique(root, return_inverse=True)[1]


def _neighbour_lists(adj: sp.csr_matrix) -> dict[int, list[int]]:
    return {
        i: [int(j) for j in adj.indices[adj.indptr[i] : adj.indptr[i + 1]]]
        for i in range(adj.shape[0])
    }


def _maxp(members: np.ndarray, atoms: _Atoms, floor: int, seed: int) -> list[np.ndarray]:
    """spopt max-p regions of connected ``members`` with a household floor.

    spopt's search is quadratic in the number of areas (every simulated-annealing step checks
    the contiguity of every region minus each of its areas), so the atoms are first grouped
    to at least ``floor / 8`` households each (:func:`_agglomerate`).
    """
    from libpysal.weights import W
    from spopt.region import MaxPHeuristic

    if len(members) < 2 or atoms.households[members].sum() < 2 * floor:
        return [members]
    sub = atoms.adj[members][:, members].tocsr()
    group = _agglomerate(sub, atoms.households[members], max(1, floor // 8))
    m = int(group.max()) + 1
    if m < 2:
        return [members]
    member = sp.csr_matrix((np.ones(len(members)), (np.arange(len(members)), group)))
    coarse = (member.T @ sub @ member).tocsr()
    coarse.setdiag(0)
    coarse.eliminate_zeros()
    area = np.bincount(group, weights=atoms.area[members], minlength=m)
    xy = (
        np.column_stack(
            [
                np.bincount(group, weights=atoms.area[members] * atoms.xy[members, k], minlength=m)
                for k in (0, 1)
            ]
        )
        / area[:, None]
    )
    frame = pd.DataFrame(
        {
            "x": (xy[:, 0] - xy[:, 0].mean()) / 1000.0,
            "y": (xy[:, 1] - xy[:, 1].mean()) / 1000.0,
            "households": np.bincount(group, weights=atoms.households[members], minlength=m),
        }
    )
    model = MaxPHeuristic(
        frame,
        W(_neighbour_lists(coarse), silence_warnings=True),
        ["x", "y"],
        "households",
        float(floor),
        top_n=2,
        max_iterations_construction=MAXP_CONSTRUCTIONS,
        max_iterations_sa=MAXP_SA_ROUNDS,
    )
    with _legacy_seed(seed), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.solve()
    labels = np.asarray(model.labels_)[group]
    return [members[labels == lab] for lab in np.unique(labels)]


def _fix_up(parts: list[np.ndarray], atoms: _Atoms, rule: GridSizeRule) -> list[np.ndarray]:
    """Split grids above the rule; merge grids below it into a neighbour that has room."""
    hh, res = atoms.households, atoms.residents
    out: list[np.ndarray] = []
    queue = list(parts)
    while queue:
        part = queue.pop()
        h, r = int(hh[part].sum()), int(res[part].sum())
        k = max(
            math.ceil(h / rule.max_households) if h > rule.max_households else 1,
            math.ceil(r / rule.max_residents) if r > rule.max_residents else 1,
        )
        if k > 1 and len(part) > 1:
            pieces = _bisect(part, k, hh.astype(float), atoms.xy, atoms.adj)
            if len(pieces) > 1:
                queue.extend(pieces)
                continue
        out.append(part)
    label = np.full(atoms.n, -1, dtype=np.int64)
    for g, part in enumerate(out):
        label[part] = g
    while True:
        ids = np.unique(label[label >= 0])
        sizes = {int(g): int(hh[label == g].sum()) for g in ids}
        small = sorted((s, g) for g, s in sizes.items() if s < rule.min_households)
        merged = False
        for s, g in small:
            members = np.flatnonzero(label == g)
            touch = atoms.adj[members].tocoo()
            near = label[touch.col]
            ok = (near >= 0) & (near != g)
            if not ok.any():
                continue
            shared = pd.Series(touch.data[ok]).groupby(near[ok]).sum()
            options = [
                (sizes[int(o)], -float(shared[o]), int(o))
                for o in shared.index
                if sizes[int(o)] + s <= rule.max_households
            ]
            if options:
                _, _, into = min(options)
                label[members] = into
                merged = True
                break
        if not merged:
            break
    return [np.flatnonzero(label == g) for g in np.unique(label[label >= 0])]


def _group(
    atoms: _Atoms,
    *,
    rule: GridSizeRule,
    method: str,
    seed: int,
    target_grids: int | None,
    issue_weight: float,
) -> np.ndarray:
    """Grid number of each atom (0…k-1, unordered)."""
    hh = atoms.households
    total = int(hh.sum())
    label = np.zeros(atoms.n, dtype=np.int64)
    if total < rule.min_households or atoms.n == 1:
        return label
    piece = _components(atoms.adj, np.arange(atoms.n))
    piece_hh = np.bincount(piece, weights=hh)
    big = np.flatnonzero(piece_hh >= rule.min_households)
    if not len(big):
        return label
    if target_grids:
        shares = piece_hh[big] / piece_hh[big].sum()
        ks = np.maximum(1, np.round(shares * target_grids).astype(int))
    else:
        target = (rule.min_households + rule.max_households) / 2
        ks = np.maximum(1, np.ceil(piece_hh[big] / target).astype(int))
    rng = np.random.default_rng(seed)
    work = atoms.workload(issue_weight).astype(float)
    parts: list[np.ndarray] = []
    for p, k in zip(big, ks, strict=True):
        members = np.flatnonzero(piece == p)
        if method == "balanced":
            raw = _bisect(members, int(k), work, atoms.xy, atoms.adj)
        else:
            floor = maxp_floor(
                rule, households=int(piece_hh[p]), target_grids=int(k) if target_grids else None
            )
            raw = _maxp(members, atoms, floor, int(rng.integers(2**32 - 1)))
        parts.extend(_fix_up(raw, atoms, rule))
    label[:] = -1
    for g, part in enumerate(parts):
        label[part] = g
    orphan = np.flatnonzero(label < 0)
    if len(orphan):  # pieces too small for a grid join the nearest grid of another piece
        placed = np.flatnonzero(label >= 0)
        for p in np.unique(piece[orphan]):
            mine = orphan[piece[orphan] == p]
            d = np.hypot(
                atoms.xy[mine, 0][:, None] - atoms.xy[placed, 0][None, :],
                atoms.xy[mine, 1][:, None] - atoms.xy[placed, 1][None, :],
            )
            label[mine] = label[placed[np.unravel_index(np.argmin(d), d.shape)[1]]]
    return label


# --------------------------------------------------------------------------- metrics


def _metrics(
    hh: np.ndarray,
    res: np.ndarray,
    work: np.ndarray,
    geoms: np.ndarray,
    lo: np.ndarray,
    hi: np.ndarray,
    rmax: np.ndarray,
) -> pd.Series:
    n = len(hh)
    if n == 0:
        return pd.Series(dict.fromkeys(METRIC_NAMES, np.nan) | {"n_grids": 0}, dtype=float)
    within = (hh >= lo) & (hh <= hi) & (res <= rmax)
    mean = float(np.mean(work))
    return pd.Series(
        {
            "n_grids": n,
            "households_min": float(np.min(hh)),
            "households_median": float(np.median(hh)),
            "households_max": float(np.max(hh)),
            "share_within_rule": float(np.mean(within)),
            "workload_cv": float(np.std(work) / mean) if mean > 0 else np.nan,
            "mean_polsby_popper": float(np.nanmean(polsby_popper(geoms))),
        },
        dtype=float,
    )


def _rule_arrays(
    grids: pd.DataFrame, rule: GridSizeRule | None, cfg: Settings
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    n = len(grids)
    if rule is not None:
        rules = [rule] * n
    else:
        kinds = grids["area_type"] if "area_type" in grids.columns else [""] * n
        rules = [cfg.size_rule(kind) for kind in kinds]
    return (
        np.array([r.min_households for r in rules], dtype=float),
        np.array([r.max_households for r in rules], dtype=float),
        np.array([r.max_residents for r in rules], dtype=float),
    )


def grid_metrics(
    grids: gpd.GeoDataFrame,
    *,
    rule: GridSizeRule | None = None,
    settings: Settings | None = None,
) -> pd.Series:
    """The comparison table of a grid layer.

    Parameters
    ----------
    grids
        Grids with ``households`` and ``residents`` (``workload`` used when present, else
        households), EPSG:4549 metres.
    rule
        Size rule for every grid; by default each grid's ``area_type`` picks the urban
        (城镇) or rural rule of ``settings``.
    settings
        Default :func:`geo.core.settings.get_settings`.

    Returns
    -------
    pandas.Series
        ``n_grids``; ``households_min``/``_median``/``_max``; ``share_within_rule`` (share of
        grids whose households are within the range and residents under the maximum);
        ``workload_cv`` (population standard deviation / mean); ``mean_polsby_popper``.
    """
    cfg = settings or get_settings()
    hh = pd.to_numeric(grids["households"], errors="coerce").fillna(0).to_numpy(float)
    res = pd.to_numeric(grids["residents"], errors="coerce").fillna(0).to_numpy(float)
    work = (
        pd.to_numeric(grids["workload"], errors="coerce").fillna(0).to_numpy(float)
        if "workload" in grids.columns
        else hh
    )
    lo, hi, rmax = _rule_arrays(grids, rule, cfg)
    return _metrics(hh, res, work, grids.geometry.to_numpy(), lo, hi, rmax)


def _current_metrics(
    current: gpd.GeoDataFrame,
    pts: _Points,
    *,
    rule: GridSizeRule | None,
    cfg: Settings,
    issue_weight: float,
) -> pd.Series:
    geoms = current.geometry.to_numpy()
    hh = _tally(geoms, pts.hh_xy)
    res = _tally(geoms, pts.hh_xy, pts.hh_res.astype(float))
    work = workload(hh, _tally(geoms, pts.issue_xy), issue_weight=issue_weight)
    lo, hi, rmax = _rule_arrays(current, rule, cfg)
    return _metrics(hh, res, work, geoms, lo, hi, rmax)


# --------------------------------------------------------------------------- proposals


def _check_numbers(problems: list[str], **values: float | int | None) -> None:
    for name, value in values.items():
        if value is None:
            continue
        if not isinstance(value, (int, float, np.integer, np.floating)) or not value > 0:
            if name == "issue_weight" and isinstance(value, (int, float)) and value == 0:
                continue
            problems.append(f"{name} must be a positive number (got {value!r})")


def _grid_frame(
    region: BaseGeometry,
    atoms: _Atoms,
    label: np.ndarray,
    *,
    village_code: str,
    village_name: str,
    area_type: str,
    issue_weight: float,
    crs: Any,
    tolerance_m2: float,
) -> gpd.GeoDataFrame:
    by_key = dissolve(atoms.faces, label[atoms.atom_of_face])
    ids = np.array(sorted(int(k) for k in by_key))
    geoms = np.array([by_key[str(g)] for g in ids], dtype=object)
    if not shapely.coverage_is_valid(geoms):
        raise RebalanceError(f"proposed grids of village {village_code!r} overlap")
    gap = shapely.area(shapely.symmetric_difference(shapely.coverage_union_all(geoms), region))
    if gap > tolerance_m2:
        raise RebalanceError(
            f"proposed grids of village {village_code!r} differ from the village by {gap:.1f} m²"
        )

    def total(values: np.ndarray) -> np.ndarray:
        return np.bincount(label, weights=values, minlength=len(ids))[ids]

    hh = total(atoms.households).astype(np.int64)
    issues = total(atoms.issues).astype(np.int64)
    inner = shapely.get_coordinates(shapely.point_on_surface(geoms))
    order = np.lexsort((inner[:, 0], -np.round(inner[:, 1], -2)))  # north to south, then west
    seq = np.empty(len(ids), dtype=np.int64)
    seq[order] = np.arange(1, len(ids) + 1)
    frame = gpd.GeoDataFrame(
        {
            "grid_code": [grid_code(village_code, int(s)) for s in seq],
            "grid_name": [f"{village_name}第{s}网格" if village_name else "" for s in seq],
            "village_code": village_code,
            "town_code": village_code[:9],
            "area_type": area_type,
            "grid_worker": "",
            "households": hh,
            "residents": total(atoms.residents).astype(np.int64),
            "issues_12m": issues,
            "workload": workload(hh, issues, issue_weight=issue_weight),
            "area_km2": shapely.area(geoms) / 1e6,
            "polsby_popper": polsby_popper(geoms),
        },
        geometry=list(geoms),
        crs=crs,
    )
    return frame.sort_values("grid_code", ignore_index=True)


def propose_partition(
    village_polygon: BaseGeometry,
    households: gpd.GeoDataFrame,
    issues: gpd.GeoDataFrame | None = None,
    *,
    rule: GridSizeRule,
    method: Method = "balanced",
    seed: int = 0,
    target_grids: int | None = None,
    current: gpd.GeoDataFrame | None = None,
    village_code: str | None = None,
    village_name: str = "",
    area_type: str = "",
    as_of: pd.Timestamp | str | None = None,
    issue_weight: float = ISSUE_WEIGHT,
    cell_m: float = CELL_M,
    settings: Settings | None = None,
) -> Proposal:
    """Propose grids that tile one village, meet ``rule`` and balance the workload.

    Parameters
    ----------
    village_polygon
        The village (Polygon; a MultiPolygon is partitioned piece by piece), EPSG:4549 metres.
    households
        Household points, EPSG:4549, with ``residents``; those outside the village are
        ignored (pass the whole layer if convenient).
    issues
        Issue points with ``received_at``; the 12 months up to ``as_of`` count as workload.
    rule
        Household and resident limits (``settings.rural_rule`` or ``settings.urban_rule``).
    method
        ``"balanced"`` (recursive bisection, fast) or ``"maxp"`` (spopt max-p with the floor
        of :func:`maxp_floor`); see the module docstring.
    seed
        Seed for ``"maxp"``; the same seed gives the same proposal.
    target_grids
        Number of grids wanted (default: households / middle of the rule's range, rounded up).
        The fix-up may still split or merge grids that break the rule.
    current
        The village's current grids, to fill ``metrics_before``.
    village_code
        Twelve-digit code the grid codes start with (default: the most common
        ``village_code`` of the households inside).
    village_name, area_type
        Copied to ``grid_name`` (``<name>第N网格``) and ``area_type`` (城镇/农村).
    as_of
        End of the issue window (default: the newest ``received_at`` of ``issues``).
    issue_weight
        Household-equivalents of one recent issue (``workload = households + w × issues``).
    cell_m
        Lattice cell side for the atoms, metres.
    settings
        For the topology tolerance (default :func:`geo.core.settings.get_settings`).

    Returns
    -------
    Proposal
        The grids and the before/after metrics.

    Raises
    ------
    InputProblems
        Listing every unusable input at once.
    """
    problems: list[str] = []
    region = _check_region(village_polygon, problems)
    hh = _check_frame(households, "households", problems)
    if households is None:
        problems.append("households is required: a GeoDataFrame of household points")
    iss = _check_frame(issues, "issues", problems, need=("received_at",))
    cur = current
    if cur is not None and not isinstance(cur, gpd.GeoDataFrame):
        problems.append(f"current must be a GeoDataFrame of grids (got {type(cur).__name__})")
        cur = None
    if method not in METHODS:
        problems.append(f"method must be one of {', '.join(METHODS)} (got {method!r})")
    if not isinstance(rule, GridSizeRule):
        problems.append(
            f"rule must be a GridSizeRule, e.g. settings.rural_rule (got {type(rule).__name__})"
        )
    elif not 0 < rule.min_households <= rule.max_households:
        problems.append(
            f"rule needs 0 < min_households <= max_households (got {rule.min_households}, "
            f"{rule.max_households})"
        )
    if target_grids is not None and (
        not isinstance(target_grids, (int, np.integer)) or target_grids < 1
    ):
        problems.append(f"target_grids must be a whole number ≥ 1 or None (got {target_grids!r})")
    _check_numbers(problems, cell_m=cell_m, issue_weight=issue_weight)
    if problems or region is None or hh is None:
        raise InputProblems("propose grids", problems)
    cfg = settings or get_settings()
    pts = _points_in(region, hh, iss, as_of)
    cap = max(1, math.ceil(rule.max_households / 8))
    faces = _faces(region, pts, cell_m=cell_m, max_atom_households=cap)
    # balanced cuts run on the faces themselves (straight cuts through empty land, like
    # demo._bisect); max-p needs the fewer, merged atoms (its search is quadratic in them).
    atoms = (
        faces
        if method == "balanced"
        else _coarsen(faces, _merge_empty(faces.adj, faces.households))
    )
    label = _group(
        atoms,
        rule=rule,
        method=method,
        seed=seed,
        target_grids=int(target_grids) if target_grids else None,
        issue_weight=issue_weight,
    )
    if village_code is None:
        village_code = ""
        if "village_code" in hh.columns:
            inside = shapely.intersects_xy(
                region, *shapely.get_coordinates(hh.geometry.to_numpy()).T
            )
            codes = hh.loc[inside, "village_code"].dropna().astype(str)
            village_code = str(codes.mode().iloc[0]) if len(codes) else ""
    grids = _grid_frame(
        region,
        atoms,
        label,
        village_code=village_code,
        village_name=village_name,
        area_type=area_type,
        issue_weight=issue_weight,
        crs=hh.crs or get_settings().metric_crs,
        tolerance_m2=cfg.boundary_tolerance_m2,
    )
    before = (
        None
        if cur is None
        else _current_metrics(cur, pts, rule=rule, cfg=cfg, issue_weight=issue_weight)
    )
    return Proposal(
        grids=grids,
        metrics_after=grid_metrics(grids, rule=rule, settings=cfg),
        metrics_before=before,
        method=method,
        seed=seed,
    )


def rebalance_town(
    villages: gpd.GeoDataFrame,
    households: gpd.GeoDataFrame,
    issues: gpd.GeoDataFrame | None = None,
    *,
    town_code: str,
    method: Method = "balanced",
    seed: int = 0,
    current: gpd.GeoDataFrame | None = None,
    as_of: pd.Timestamp | str | None = None,
    issue_weight: float = ISSUE_WEIGHT,
    cell_m: float = CELL_M,
    settings: Settings | None = None,
) -> Proposal:
    """Apply :func:`propose_partition` to every village of a town.

    Parameters
    ----------
    villages
        The villages layer (``village_code``, ``town_code``, ``kind`` 村/社区, optional
        ``village_name``), EPSG:4549. Communities (社区) use ``settings.urban_rule``, villages
        the rural rule.
    households, issues
        Whole layers are fine; each village takes the points inside it.
    town_code
        Nine-digit code of the town, e.g. ``"320924104"`` (四明镇).
    method, seed, as_of, issue_weight, cell_m
        As for :func:`propose_partition` (``as_of`` defaults to the newest issue overall).
    current
        The grids layer; its grids of this town fill ``metrics_before``.
    settings
        Rules and tolerance (default :func:`geo.core.settings.get_settings`).

    Returns
    -------
    Proposal
        All proposed grids of the town; metrics over the whole town, each grid against its
        own rule.
    """
    cfg = settings or get_settings()
    problems: list[str] = []
    for col in ("village_code", "town_code"):
        if col not in villages.columns:
            problems.append(f"villages has no column {col}")
    if not problems:
        mine = villages[villages["town_code"].astype(str) == str(town_code)]
        if mine.empty:
            known = ", ".join(sorted(villages["town_code"].astype(str).unique())[:25])
            problems.append(f"town_code {town_code!r} has no villages (known: {known})")
    _check_frame(households, "households", problems)
    _check_frame(issues, "issues", problems, need=("received_at",))
    if problems:
        raise InputProblems("propose grids", problems)
    mine = mine.sort_values("village_code")
    if as_of is None and issues is not None and len(issues):
        as_of = pd.to_datetime(issues["received_at"], errors="coerce").max()
    town_area = shapely.union_all(mine.geometry.to_numpy())
    hh_in = _subset(households, town_area)
    iss_in = None if issues is None else _subset(issues, town_area)
    pieces = []
    for v in mine.itertuples(index=False):
        area_type = AREA_TYPE_OF_KIND.get(str(getattr(v, "kind", "村")), RURAL)
        proposal = propose_partition(
            v.geometry,
            hh_in,
            iss_in,
            rule=cfg.size_rule(area_type),
            method=method,
            seed=seed,
            village_code=str(v.village_code),
            village_name=str(getattr(v, "village_name", "") or ""),
            area_type=area_type,
            as_of=as_of,
            issue_weight=issue_weight,
            cell_m=cell_m,
            settings=cfg,
        )
        pieces.append(proposal.grids)
    grids = gpd.GeoDataFrame(pd.concat(pieces, ignore_index=True), crs=pieces[0].crs)
    before = None
    if current is not None:
        cur = current
        if "village_code" in cur.columns:
            cur = cur[cur["village_code"].astype(str).isin(mine["village_code"].astype(str))]
        pts = _points_in(town_area, hh_in, iss_in, as_of)
        before = _current_metrics(cur, pts, rule=None, cfg=cfg, issue_weight=issue_weight)
    return Proposal(
        grids=grids,
        metrics_after=grid_metrics(grids, settings=cfg),
        metrics_before=before,
        method=method,
        seed=seed,
    )


def _subset(points: gpd.GeoDataFrame, area: BaseGeometry) -> gpd.GeoDataFrame:
    xy = shapely.get_coordinates(points.geometry.to_numpy())
    shapely.prepare(area)
    return points[shapely.intersects_xy(area, xy[:, 0], xy[:, 1])]
