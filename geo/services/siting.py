"""New service points for the 15-minute circle: best coverage (MCLP) or fewest sites (LSCP).

The solvers work on a boolean coverage matrix ``cover`` (demand points × candidate sites): row
``i`` is true in column ``j`` when candidate ``j`` would serve demand point ``i``. The
straight-line engine builds it with :func:`coverage_matrix`; a road network engine supplies its
own matrix of the same shape, so nothing here knows about distances. Existing service points are
kept by marking the demand they already serve (``covered_already``): it counts as covered and
gives no gain.

Demand. :func:`propose_sites` uses the households themselves as demand points by default
(weights = residents), so every figure it reports is a household figure. For the exact solver
the households are then merged without loss: households left uncovered by the existing sites
that the very same set of candidates would serve form one demand row with their residents
summed (on the demo, with grid centroids as candidates and the existing 党群服务中心 kept,
145,624 uncovered households become 14,538 rows). When that is still too large (a slower
matrix engine), ``cell_m`` aggregates uncovered households to one resident-weighted point per
square cell for the optimisation only; the reported coverage is then recomputed for the
households.

Fast MCLP. :func:`greedy_mclp` picks greedily (each step the candidate adding the most weight),
then improves the ``k`` picks by vertex substitution (Teitz & Bart 1968): swap one chosen site
for one unchosen candidate whenever that covers more, best swap first, until no swap improves or
``max_swaps`` swaps are made. Greedy alone is 1.25 % short of the optimum on the residents the 30
new sites add on the demo; after five swaps it covers the optimum (see bench/bench_siting.py).

Exact models. ``spopt.locate.MCLP.from_cost_matrix`` takes a dense cost matrix and builds every
constraint over all candidates (a Python loop over demand × candidates), and spopt's ``LSCP``
demands full coverage, not a target share. So :func:`exact_mclp` and :func:`exact_lscp` build
spopt's formulation directly in PuLP on the sparse matrix (one row per distinct coverage
pattern, binary site variables, coverage variables in [0, 1] that integrality of the sites
makes 0/1 at the optimum) and solve it with CBC (``pulp.PULP_CBC_CMD``), warm-started from the
greedy answer (for MCLP the greedy answer after its swaps). The tests check that they agree
with spopt on small instances.
"""

from __future__ import annotations

import math
import numbers
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Literal

import geopandas as gpd
import numpy as np
import pandas as pd
import pulp
import scipy.sparse as sp
import shapely
from numpy.typing import ArrayLike, NDArray
from scipy.spatial import cKDTree

from geo.core.errors import GridGovError, InputProblems
from geo.core.settings import DISPLAY_CRS, get_settings
from geo.core.validate import frame_problems, same_crs_problem

__all__ = [
    "CandidateSource",
    "SitingResult",
    "SitingSolverError",
    "candidates",
    "coverage_matrix",
    "demand_points",
    "exact_lscp",
    "exact_mclp",
    "greedy_lscp",
    "greedy_mclp",
    "propose_sites",
    "straight_line_radius_m",
    "write_proposals",
]

CandidateSource = Literal["villages", "grids", "points"]
Method = Literal["greedy", "cbc"]
Problem = Literal["mclp", "lscp"]

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]
BoolArray = NDArray[np.bool_]

_SOURCES: tuple[str, ...] = ("villages", "grids", "points")
_ID_PREFIX = {"villages": "village", "grids": "grid", "points": "point"}
_DEFAULT_REF = {"villages": "village_code", "grids": "grid_code"}
_DEFAULT_NAME = {"villages": "village_name", "grids": "grid_name", "points": "name"}
#: Relative tolerance on weight sums (gains and targets compared against total weight × this).
_REL_TOL = 1e-9
_DEFAULT_TIME_LIMIT_S = 60.0
#: Default bound on the improving swaps after greedy MCLP (each costs one pass over the open
#: part of the cover matrix, about 20 ms on the demo; the demo's K = 30 needs 5).
_DEFAULT_MAX_SWAPS = 100


class SitingSolverError(GridGovError, RuntimeError):
    """The CBC solver returned no usable solution (e.g. the time limit was far too short)."""


@dataclass(frozen=True, eq=False)
class SitingResult:
    """Proposed new sites and the coverage they bring.

    All weights are in the units of the demand weights given to the solver (residents for
    :func:`propose_sites`).

    Attributes
    ----------
    chosen
        Candidate positions (0-based rows of the candidate table, columns of ``cover``), in pick
        order: for greedy LSCP, and greedy MCLP when no swap improved it, the order of the
        greedy picks; for greedy MCLP after swaps and for ``cbc``, the final set ordered by
        marginal gain (each next site the one adding most among the set). Sites that would add
        nothing are never proposed, so there may be fewer than ``k``.
    curve
        Covered weight after each site of ``chosen`` (existing coverage included); same length
        as ``chosen``. Its prefixes answer every smaller budget, but only the last value is the
        answer the solver optimised (the optimum for ``cbc``).
    covered_before
        Weight covered by the existing sites alone.
    total_weight
        Weight of all demand, covered or not, reachable or not (the denominator of shares).
    method
        ``"greedy"`` or ``"cbc"``.
    problem
        ``"mclp"`` (best coverage with ``k`` sites) or ``"lscp"`` (fewest sites for a share).
    n_candidates
        Number of candidates the problem had (to check a candidate table against).
    k
        Site budget (MCLP), else ``None``.
    target_share
        Target share of covered weight (LSCP), else ``None``.
    reached
        LSCP: whether the target is reached; when it cannot be, ``chosen`` reaches the best
        achievable share instead. ``None`` for MCLP.
    proven_optimal
        True when CBC proved optimality within its time limit (always False for greedy).
    solve_s
        Wall time of the solve in seconds (model building included).
    swaps
        Greedy MCLP: how many improving swaps followed the greedy picks (0 for the others).
    """

    chosen: IntArray
    curve: FloatArray
    covered_before: float
    total_weight: float
    method: Method
    problem: Problem
    n_candidates: int
    k: int | None = None
    target_share: float | None = None
    reached: bool | None = None
    proven_optimal: bool = False
    solve_s: float = 0.0
    swaps: int = 0

    @property
    def covered_after(self) -> float:
        """Weight covered by the existing and the proposed sites."""
        return float(self.curve[-1]) if len(self.curve) else self.covered_before

    @property
    def share_before(self) -> float:
        """Share of the total weight covered by the existing sites (0–1)."""
        return self.covered_before / self.total_weight

    @property
    def share_after(self) -> float:
        """Share of the total weight covered with the proposed sites added (0–1)."""
        return self.covered_after / self.total_weight

    @property
    def gains(self) -> FloatArray:
        """Weight newly covered by each site of ``chosen``, in order."""
        return np.diff(self.curve, prepend=self.covered_before)

    @property
    def curve_share(self) -> FloatArray:
        """``curve`` as shares of the total weight (0–1), e.g. for a slider over k."""
        return self.curve / self.total_weight

    def to_geodataframe(self, candidates: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
        """Return the chosen candidates in order with what each one adds.

        Parameters
        ----------
        candidates
            The candidate table the problem was built from (its rows are the columns of the
            coverage matrix), e.g. from :func:`candidates`.

        Returns
        -------
        geopandas.GeoDataFrame
            The chosen rows of ``candidates`` (same CRS, new 0..n-1 index) with ``rank``
            (1 = first pick), ``gain`` (weight newly covered), ``covered_after`` (cumulative
            covered weight), ``share_after`` (0–1) and ``method``.
        """
        if len(candidates) != self.n_candidates:
            raise InputProblems(
                "propose service points",
                [
                    f"candidates has {len(candidates)} rows but the problem was solved over "
                    f"{self.n_candidates} candidates; pass the same candidate table"
                ],
            )
        out = candidates.iloc[self.chosen].reset_index(drop=True)
        out["rank"] = np.arange(1, len(self.chosen) + 1)
        out["gain"] = self.gains
        out["covered_after"] = self.curve
        out["share_after"] = self.curve_share
        out["method"] = self.method
        geometry = out.geometry.name
        return out[[*(c for c in out.columns if c != geometry), geometry]]


# --------------------------------------------------------------------------- coverage


def straight_line_radius_m(
    *, minutes: float, mode: str = "walk", detour_factor: float | None = None
) -> float:
    """Straight-line radius (metres) equivalent to ``minutes`` of travel by ``mode``.

    Parameters
    ----------
    minutes
        Travel time, e.g. 15 for the 15-minute circle.
    mode
        A key of ``Settings.travel_speeds_kmh`` (``walk``, ``bike``, ``ebike``, ``car``).
    detour_factor
        Road distance / straight distance; default ``Settings.detour_factor`` (1.3).

    Returns
    -------
    float
        ``minutes / 60 × speed_kmh × 1000 / detour_factor`` in metres (866 m for a 15-minute
        walk at 4.5 km/h).
    """
    cfg = get_settings()
    if mode not in cfg.travel_speeds_kmh:
        raise InputProblems(
            "propose service points",
            [f"mode must be one of {sorted(cfg.travel_speeds_kmh)}, got {mode!r}"],
        )
    factor = cfg.detour_factor if detour_factor is None else float(detour_factor)
    if not (math.isfinite(minutes) and minutes > 0 and math.isfinite(factor) and factor > 0):
        raise InputProblems(
            "propose service points",
            [f"minutes and detour_factor must be positive, got {minutes!r} and {factor!r}"],
        )
    return minutes / 60.0 * cfg.travel_speeds_kmh[mode] * 1000.0 / factor


def _xy_array(xy: ArrayLike, name: str, problems: list[str]) -> FloatArray:
    arr = np.asarray(xy, dtype=np.float64)
    if arr.ndim != 2 or arr.shape[1] != 2:
        if arr.size == 0:
            return np.zeros((0, 2))
        problems.append(f"{name} must be an (n, 2) array of x/y in metres, got shape {arr.shape}")
        return np.zeros((0, 2))
    bad = ~np.isfinite(arr).all(axis=1)
    if bad.any():
        problems.append(
            f"{name} has {int(bad.sum())} row(s) with NaN or infinite coordinates, e.g. rows "
            f"{np.flatnonzero(bad)[:5].tolist()}; drop them first"
        )
    return arr


def coverage_matrix(demand_xy: ArrayLike, sites_xy: ArrayLike, *, radius_m: float) -> sp.csr_matrix:
    """Which sites lie within ``radius_m`` of which demand points (straight line).

    Parameters
    ----------
    demand_xy
        ``(n, 2)`` x/y of the demand points in a metric CRS (EPSG:4549 in GridGov), metres.
    sites_xy
        ``(m, 2)`` x/y of the sites (existing or candidate), same CRS.
    radius_m
        Service radius in metres; a distance equal to it counts as covered. For travel time
        use :func:`straight_line_radius_m`.

    Returns
    -------
    scipy.sparse.csr_matrix
        ``(n, m)`` boolean, true where site ``j`` is within ``radius_m`` of demand ``i``,
        with sorted column indices. A road network engine returns the same shape.
    """
    problems: list[str] = []
    demand = _xy_array(demand_xy, "demand_xy", problems)
    sites = _xy_array(sites_xy, "sites_xy", problems)
    if not _positive_m(radius_m):
        problems.append(f"radius_m must be a positive number of metres, got {radius_m!r}")
    if problems:
        raise InputProblems("propose service points", problems)
    shape = (len(demand), len(sites))
    if not len(demand) or not len(sites):
        return sp.csr_matrix(shape, dtype=bool)
    pairs = cKDTree(demand).sparse_distance_matrix(
        cKDTree(sites), float(radius_m), output_type="ndarray"
    )
    out = sp.coo_matrix(
        (np.ones(len(pairs), dtype=bool), (pairs["i"], pairs["j"])), shape=shape
    ).tocsr()
    out.sort_indices()
    return out


# --------------------------------------------------------------------------- inputs


def _crs_problems(frame: object, name: str) -> list[str]:
    """Problems that stop ``frame`` from being a GeoDataFrame in a metre CRS."""
    return frame_problems(frame, name)


def _point_problems(frame: gpd.GeoDataFrame, name: str) -> list[str]:
    geoms = frame.geometry.to_numpy()
    bad = shapely.is_missing(geoms) | shapely.is_empty(geoms)
    bad |= shapely.get_type_id(geoms) != shapely.GeometryType.POINT
    if bad.any():
        return [
            f"{name} has {int(bad.sum())} row(s) that are not points with coordinates, e.g. "
            f"rows {np.flatnonzero(bad)[:5].tolist()}; drop them or give them a point"
        ]
    return []


def _points_xy(frame: gpd.GeoDataFrame) -> FloatArray:
    return shapely.get_coordinates(frame.geometry.to_numpy()).astype(np.float64)


def candidates(
    layer: gpd.GeoDataFrame,
    *,
    source: CandidateSource,
    id_col: str | None = None,
) -> gpd.GeoDataFrame:
    """Candidate sites for new service points, in EPSG:4549.

    Parameters
    ----------
    layer
        ``source="villages"``: the village layer (a candidate at ``centre_x``/``centre_y``
        when both columns are there, else at a representative point of the polygon);
        ``source="grids"``: the grid layer (a representative point, always inside the grid);
        ``source="points"``: the user's own point layer. Any CRS; it is projected.
    source
        ``"villages"``, ``"grids"`` or ``"points"``.
    id_col
        Column naming each candidate; default ``village_code`` / ``grid_code``, and for
        points their row number (0-based) when not given. Values must be unique.

    Returns
    -------
    geopandas.GeoDataFrame
        One row per input row, in the input order, CRS EPSG:4549, with ``candidate_id``
        (``"<village|grid|point>:<id>"``), ``source``, ``ref`` (the id), ``name`` (village or
        grid name, or a ``name`` column of points; empty when absent), ``x``, ``y`` (metres)
        and point geometry. The input is not changed.
    """
    if source not in _SOURCES:
        raise InputProblems(
            "propose service points", [f"source must be one of {list(_SOURCES)}, got {source!r}"]
        )
    problems: list[str] = []
    if not isinstance(layer, gpd.GeoDataFrame):
        raise InputProblems(
            "propose service points",
            [f"layer must be a GeoDataFrame, got a {type(layer).__name__}"],
        )
    if layer.crs is None:
        problems.append(
            f"layer has no CRS; set it, e.g. layer.set_crs('{get_settings().metric_crs}') for "
            "metres or layer.set_crs('EPSG:4326') for lon/lat"
        )
    ref_col = id_col if id_col is not None else _DEFAULT_REF.get(source)
    if ref_col is not None and ref_col not in layer.columns:
        problems.append(
            f"layer lacks the id column {ref_col!r}; it has {list(layer.columns)} "
            "(choose one with id_col=…)"
        )
    geoms = layer.geometry.to_numpy()
    empty = shapely.is_missing(geoms) | shapely.is_empty(geoms)
    if source == "points":
        empty |= shapely.get_type_id(geoms) != shapely.GeometryType.POINT
    if empty.any():
        problems.append(
            f"{int(empty.sum())} row(s) of layer have no usable "
            f"{'point' if source == 'points' else 'geometry'}, e.g. rows "
            f"{np.flatnonzero(empty)[:5].tolist()}; drop them first"
        )
    if ref_col is not None and ref_col in layer.columns:
        refs = layer[ref_col].astype(str)
        dup = refs[refs.duplicated()]
        if len(dup):
            problems.append(
                f"{len(dup)} duplicated {ref_col} value(s), e.g. {list(dup.unique()[:5])}; "
                "candidate ids must be unique"
            )
    if problems:
        raise InputProblems("propose service points", problems)

    if source == "villages" and {"centre_x", "centre_y"} <= set(layer.columns):
        cx = pd.to_numeric(layer["centre_x"], errors="coerce").to_numpy(dtype=np.float64)
        cy = pd.to_numeric(layer["centre_y"], errors="coerce").to_numpy(dtype=np.float64)
        inside = shapely.get_coordinates(shapely.point_on_surface(geoms))
        ok = np.isfinite(cx) & np.isfinite(cy)
        points = shapely.points(np.where(ok, cx, inside[:, 0]), np.where(ok, cy, inside[:, 1]))
    elif source == "points":
        points = geoms
    else:
        points = shapely.point_on_surface(geoms)
    metric = get_settings().metric_crs
    projected = gpd.GeoSeries(points, crs=layer.crs).to_crs(metric)
    xy = shapely.get_coordinates(projected.to_numpy())
    refs = (
        layer[ref_col].astype(str).to_numpy()
        if ref_col is not None
        else np.arange(len(layer)).astype(str)
    )
    name_col = _DEFAULT_NAME[source]
    names = (
        layer[name_col].fillna("").astype(str).to_numpy()
        if name_col in layer.columns
        else np.full(len(layer), "", dtype=object)
    )
    return gpd.GeoDataFrame(
        {
            "candidate_id": [f"{_ID_PREFIX[source]}:{r}" for r in refs],
            "source": source,
            "ref": refs,
            "name": names,
            "x": xy[:, 0],
            "y": xy[:, 1],
        },
        geometry=projected.to_numpy(),
        crs=metric,
    )


def demand_points(
    households: gpd.GeoDataFrame, *, cell_m: float = 100.0, weight_col: str = "residents"
) -> gpd.GeoDataFrame:
    """Aggregate households to one demand point per square cell (to shrink a problem).

    Parameters
    ----------
    households
        Household points in a metric CRS (metres), with ``weight_col``.
    cell_m
        Cell side in metres; cells are aligned on multiples of ``cell_m``.
    weight_col
        Weight column summed per cell (residents).

    Returns
    -------
    geopandas.GeoDataFrame
        One point per non-empty cell at the ``weight_col``-weighted mean of its households (the
        plain mean when the cell weighs nothing), same CRS, with ``weight_col`` (sum) and
        ``households`` (count). A household is at most ``cell_m × √2`` from its point.
    """
    problems = _crs_problems(households, "households")
    if not _positive_m(cell_m):
        problems.append(f"cell_m must be a positive number of metres, got {cell_m!r}")
    if not problems:
        problems += _point_problems(households, "households")
        problems += _weight_problems(households, weight_col, "households")
    if problems:
        raise InputProblems("propose service points", problems)
    xy = _points_xy(households)
    w = households[weight_col].to_numpy(dtype=np.float64)
    cell = np.floor(xy / cell_m).astype(np.int64)
    _, inv = np.unique(cell, axis=0, return_inverse=True)
    inv = inv.reshape(-1)
    n = int(inv.max()) + 1 if len(inv) else 0
    count = np.bincount(inv, minlength=n).astype(np.float64)
    wsum = np.bincount(inv, weights=w, minlength=n)
    use_w = wsum > 0
    denom = np.where(use_w, wsum, count)
    pts = np.empty((n, 2))
    for axis in (0, 1):
        num_w = np.bincount(inv, weights=w * xy[:, axis], minlength=n)
        num_n = np.bincount(inv, weights=xy[:, axis], minlength=n)
        pts[:, axis] = np.where(use_w, num_w, num_n) / denom
    return gpd.GeoDataFrame(
        {weight_col: wsum, "households": count.astype(np.int64)},
        geometry=shapely.points(pts[:, 0], pts[:, 1]),
        crs=households.crs,
    )


def _weight_problems(frame: pd.DataFrame, col: str, name: str) -> list[str]:
    if col not in frame.columns:
        return [f"{name} lacks the weight column {col!r}; it has {list(frame.columns)}"]
    values = pd.to_numeric(frame[col], errors="coerce").to_numpy(dtype=np.float64)
    bad = ~np.isfinite(values) | (values < 0)
    if bad.any():
        return [
            f"{name}.{col} must be a non-negative number; {int(bad.sum())} row(s) are not, "
            f"e.g. rows {np.flatnonzero(bad)[:5].tolist()}"
        ]
    return []


# --------------------------------------------------------------------------- solver inputs


@dataclass(frozen=True)
class _Problem:
    """Checked solver inputs: weights, coverage in both sparse layouts, existing coverage."""

    w: FloatArray
    csr: sp.csr_matrix
    csc: sp.csc_matrix
    covered: BoolArray
    total: float

    @property
    def n_candidates(self) -> int:
        return int(self.csr.shape[1])

    @property
    def tol(self) -> float:
        return _REL_TOL * self.total


def _problem(weights: ArrayLike, cover: object, covered_already: ArrayLike | None) -> _Problem:
    problems: list[str] = []
    w = np.asarray(weights, dtype=np.float64)
    if w.ndim != 1:
        problems.append(f"weights must be a 1-D array, got shape {w.shape}")
        w = w.reshape(-1)
    elif (~np.isfinite(w) | (w < 0)).any():
        problems.append("weights must be finite and non-negative (e.g. residents per point)")
    if sp.issparse(cover):
        csr = sp.csr_matrix(cover, dtype=bool, copy=True)
    elif isinstance(cover, np.ndarray) and cover.ndim == 2:
        csr = sp.csr_matrix(cover.astype(bool))
    else:
        raise InputProblems(
            "propose service points",
            [f"cover must be a scipy.sparse (demand × candidates) matrix, got {type(cover)}"],
        )
    csr.eliminate_zeros()
    csr.sort_indices()
    if csr.shape[0] != len(w):
        problems.append(
            f"cover has {csr.shape[0]} rows (demand points) but weights has {len(w)} values"
        )
    if covered_already is None:
        covered = np.zeros(len(w), dtype=bool)
    else:
        covered = np.asarray(covered_already)
        if covered.dtype != np.bool_ or covered.shape != w.shape:
            problems.append(
                f"covered_already must be a boolean array of {len(w)} values, got "
                f"{covered.dtype} with shape {covered.shape}"
            )
        covered = covered.astype(bool, copy=True).reshape(-1)
    total = float(w.sum()) if not problems else 0.0
    if not problems and total <= 0:
        problems.append("weights sum to zero, so no coverage share can be given")
    if problems:
        raise InputProblems("propose service points", problems)
    return _Problem(w=w, csr=csr, csc=csr.tocsc(), covered=covered, total=total)


def _check_k(k: object) -> int:
    if isinstance(k, bool) or not isinstance(k, int | np.integer) or int(k) < 0:
        raise InputProblems(
            "propose service points", [f"k must be a whole number of new sites ≥ 0, got {k!r}"]
        )
    return int(k)


def _real(value: object) -> float | None:
    """``value`` as a finite float, or None when it is not a real number (bools excluded)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        return None
    out = float(value)
    return out if math.isfinite(out) else None


def _check_swaps(max_swaps: object) -> int:
    if isinstance(max_swaps, bool) or not isinstance(max_swaps, int | np.integer) or max_swaps < 0:
        raise InputProblems(
            "propose service points",
            [f"max_swaps must be a whole number of swaps ≥ 0 (0: plain greedy), got {max_swaps!r}"],
        )
    return int(max_swaps)


def _check_share(target_share: object) -> float:
    share = _real(target_share)
    if share is None or not 0.0 < share <= 1.0:
        raise InputProblems(
            "propose service points",
            [f"target_share must be a share in (0, 1], e.g. 0.85, got {target_share!r}"],
        )
    return share


def _check_time(time_limit_s: object) -> float:
    limit = _real(time_limit_s)
    if limit is None or limit <= 0:
        raise InputProblems(
            "propose service points",
            [f"time_limit_s must be positive seconds, got {time_limit_s!r}"],
        )
    return limit


def _positive_m(value: object) -> bool:
    number = _real(value)
    return number is not None and number > 0


# --------------------------------------------------------------------------- greedy


def _greedy(
    prob: _Problem,
    *,
    max_picks: int,
    stop_at: float = math.inf,
    allowed: IntArray | None = None,
) -> tuple[IntArray, FloatArray]:
    """Greedy picks with exact incremental gains; returns (chosen, covered weight after each).

    ``gains[j]`` is the uncovered weight in column ``j``. After a pick only the rows it newly
    covers change, so each of their weights is taken off the gains of every candidate in the
    row (a sparse row gather): the whole run costs O(nnz + picks × candidates), and no gain is
    ever stale (CELF-style lazy re-evaluation is not needed). Ties go to the lower index.
    """
    covered = prob.covered.copy()
    w, csr, csc = prob.w, prob.csr, prob.csc
    m = prob.n_candidates
    open_w = np.where(covered, 0.0, w)
    gains = np.asarray(csc.T @ open_w, dtype=np.float64).reshape(-1)
    if allowed is not None:
        mask = np.full(m, -np.inf)
        mask[allowed] = 0.0
        gains = gains + mask
    covered_w = float(w[covered].sum())
    chosen: list[int] = []
    curve: list[float] = []
    while len(chosen) < max_picks and covered_w < stop_at and m:
        j = int(np.argmax(gains))
        if not gains[j] > prob.tol:
            break
        rows = csc.indices[csc.indptr[j] : csc.indptr[j + 1]]
        new = rows[~covered[rows]]
        covered[new] = True
        covered_w += float(w[new].sum())
        sub = csr[new]
        per_entry = np.repeat(w[new], np.diff(sub.indptr))
        gains -= np.bincount(sub.indices, weights=per_entry, minlength=m)
        gains[j] = -np.inf
        chosen.append(j)
        curve.append(covered_w)
    return np.asarray(chosen, dtype=np.int64), np.asarray(curve, dtype=np.float64)


def _open_rows(prob: _Problem) -> _Problem:
    """The same problem on the rows that can still change, for the swap step.

    Keeps the uncovered rows with weight that some candidate reaches, plus one empty covered
    row carrying the weight already covered, so curves computed on it equal those of ``prob``
    (on the demo: 140,632 of 348,117 rows, 0.7 of 9.8 million matrix entries).
    """
    keep = ~prob.covered & (prob.w > 0) & (np.diff(prob.csr.indptr) > 0)
    csr = sp.vstack(
        [prob.csr[keep], sp.csr_matrix((1, prob.n_candidates), dtype=bool)], format="csr"
    )
    csr.sum_duplicates()
    w = np.append(prob.w[keep], prob.w[prob.covered].sum())
    covered = np.append(np.zeros(int(keep.sum()), dtype=bool), True)
    return _Problem(w=w, csr=csr, csc=csr.tocsc(), covered=covered, total=prob.total)


def _interchange(prob: _Problem, sites: IntArray, *, max_swaps: int) -> tuple[IntArray, int]:
    """Teitz–Bart vertex substitution: make the best improving swap until none is left.

    With ``count[i]`` the number of chosen sites covering row ``i``, swapping chosen ``r`` out
    and candidate ``a`` in changes the covered weight by
    ``gain[a] − loss[r] + both[a, r]``: ``gain[a]`` is the uncovered weight ``a`` reaches,
    ``loss[r]`` the weight only ``r`` covers, and ``both[a, r]`` the part of ``loss[r]`` that
    ``a`` reaches too. All three come from sparse passes over the matrix (``both`` from the
    rows covered exactly once), so one step costs O(nnz + candidates × sites). The largest
    change is taken (ties to the lower candidate, then the earlier site) while it exceeds the
    weight tolerance, so the covered weight strictly grows and the result is deterministic.
    Returns the sites (same count) and the number of swaps made.
    """
    csr, csc, m = prob.csr, prob.csc, prob.n_candidates
    w = np.where(prob.covered, 0.0, prob.w)
    sel = np.asarray(sites, dtype=np.int64).copy()
    p = len(sel)

    def rows_of(j: int) -> IntArray:
        return csc.indices[csc.indptr[j] : csc.indptr[j + 1]]

    count = np.zeros(len(w), dtype=np.int64)
    for j in sel.tolist():
        count[rows_of(j)] += 1
    swaps = 0
    while swaps < max_swaps and 0 < p < m:
        in_set = np.zeros(m, dtype=bool)
        in_set[sel] = True
        slot = np.full(m, -1, dtype=np.int64)
        slot[sel] = np.arange(p)
        gain = np.asarray(csc.T @ np.where(count == 0, w, 0.0), dtype=np.float64).reshape(-1)
        once = np.flatnonzero((count == 1) & (w > 0))
        sub = csr[once]
        per_row = np.diff(sub.indptr)
        owner = slot[sub.indices[in_set[sub.indices]]]  # the one chosen site of each row
        loss = np.bincount(owner, weights=w[once], minlength=p)
        cell = sub.indices * p + np.repeat(owner, per_row)
        both = np.bincount(cell, weights=np.repeat(w[once], per_row), minlength=m * p)
        delta = gain[:, None] - loss[None, :] + both.reshape(m, p)
        delta[in_set, :] = -np.inf
        best = int(np.argmax(delta))
        a, r = divmod(best, p)
        if not delta[a, r] > prob.tol:
            break
        count[rows_of(int(sel[r]))] -= 1
        count[rows_of(a)] += 1
        sel[r] = a
        swaps += 1
    return sel, swaps


def greedy_mclp(
    weights: ArrayLike,
    cover: sp.csr_matrix,
    *,
    k: int,
    covered_already: ArrayLike | None = None,
    max_swaps: int = _DEFAULT_MAX_SWAPS,
) -> SitingResult:
    """Up to ``k`` new sites covering the most uncovered weight: greedy, then improving swaps.

    Each greedy step takes the candidate that newly covers the most weight (ties to the lower
    index). Greedy alone is within 1 − 1/e of the optimum in the worst case and about 1 %
    short of it on the residents new sites add on the demo. The ``k`` picks are then improved
    by vertex substitution (Teitz–Bart): the swap of one chosen site for one other candidate
    that adds the most weight is made while it adds any, at most ``max_swaps`` times. On the
    demo (K = 30, 3,689 candidates) five swaps reach the CBC optimum in about 0.1 s.
    :func:`exact_mclp` gives the proven optimum.

    How the answer for ``k`` relates to the curve: ``curve[-1]`` is the answer for ``k`` and is
    never below plain greedy's (a swap is made only when it adds weight). When a swap was made
    (``swaps > 0``), ``chosen`` is the improved set in order of marginal gain (each next site
    the one adding most among the set), so ``curve`` stays nested and its first ``j`` values
    answer any smaller budget ``j`` (what the page's slider shows). Such a prefix is usually
    better than plain greedy's first ``j`` picks but not always: the swaps may drop greedy's
    best single site (demo, K = 50: better at 48 of 50 budgets, 153 and 156 residents fewer
    at ``j`` = 1 and 2). For the best answer at one budget, solve with that ``k``. With
    ``max_swaps=0``, or when no swap improves, ``chosen`` and ``curve`` are greedy's picks
    and curve.

    Parameters
    ----------
    weights
        ``(n,)`` non-negative demand weights (residents per demand point).
    cover
        ``(n, m)`` boolean sparse matrix, demand × candidates (:func:`coverage_matrix` or a
        network engine's reach matrix).
    k
        Number of new sites (budget). Fewer are returned when no candidate adds coverage.
    covered_already
        ``(n,)`` booleans: demand already served by existing sites. It counts as covered
        and gives no gain, in the greedy picks and the swaps; default none.
    max_swaps
        Bound on the improving swaps (``0``: plain greedy). Each swap costs one pass over the
        uncovered part of ``cover``; default 100.

    Returns
    -------
    SitingResult
        ``method="greedy"``, ``problem="mclp"``, ``swaps`` = swaps made; ``curve`` is the
        covered weight after each site of ``chosen``. Inputs are not changed.
    """
    budget = _check_k(k)
    bound = _check_swaps(max_swaps)
    start = time.perf_counter()
    prob = _problem(weights, cover, covered_already)
    chosen, curve, swaps = _greedy_swapped(prob, budget, max_swaps=bound)
    return SitingResult(
        chosen=chosen,
        curve=curve,
        covered_before=float(prob.w[prob.covered].sum()),
        total_weight=prob.total,
        method="greedy",
        problem="mclp",
        n_candidates=prob.n_candidates,
        k=budget,
        solve_s=time.perf_counter() - start,
        swaps=swaps,
    )


def _greedy_swapped(
    prob: _Problem, budget: int, *, max_swaps: int
) -> tuple[IntArray, FloatArray, int]:
    """Greedy MCLP picks improved by :func:`_interchange`: (chosen, curve, swaps made)."""
    chosen, curve = _greedy(prob, max_picks=budget)
    # Fewer picks than the budget means every reachable demand is covered: nothing to improve.
    if max_swaps == 0 or len(chosen) < budget or not len(chosen):
        return chosen, curve, 0
    small = _open_rows(prob)
    sites, swaps = _interchange(small, chosen, max_swaps=max_swaps)
    if swaps == 0:
        return chosen, curve, 0
    better, better_curve = _ordered(small, sites)
    return better, better_curve, swaps


def _reachable(prob: _Problem) -> float:
    """Weight covered when every candidate is opened."""
    coverable = prob.covered | (np.diff(prob.csr.indptr) > 0)
    return float(prob.w[coverable].sum())


def greedy_lscp(
    weights: ArrayLike,
    cover: sp.csr_matrix,
    *,
    target_share: float,
    covered_already: ArrayLike | None = None,
    max_sites: int | None = None,
) -> SitingResult:
    """Few new sites that bring the covered share to ``target_share``, picked greedily.

    Greedy picks (as in :func:`greedy_mclp`, with no swap step) until the covered weight reaches
    ``target_share`` of the total. If even every candidate together cannot reach it, greedy
    continues until nothing more can be covered and reports ``reached=False`` with the best
    achievable share. :func:`exact_lscp` gives the fewest sites.

    Parameters
    ----------
    weights, cover, covered_already
        As in :func:`greedy_mclp`.
    target_share
        Share of the total weight to cover, in (0, 1], e.g. ``COVERAGE_TARGET`` (0.85).
    max_sites
        Stop after this many sites even if the target is not reached (``reached=False``).

    Returns
    -------
    SitingResult
        ``method="greedy"``, ``problem="lscp"``, with ``target_share`` and ``reached``.
    """
    share = _check_share(target_share)
    cap = _check_k(max_sites) if max_sites is not None else None
    start = time.perf_counter()
    prob = _problem(weights, cover, covered_already)
    need = share * prob.total - prob.tol
    m_cap = prob.n_candidates if cap is None else cap
    chosen, curve = _greedy(prob, max_picks=m_cap, stop_at=need)
    before = float(prob.w[prob.covered].sum())
    after = float(curve[-1]) if len(curve) else before
    return SitingResult(
        chosen=chosen,
        curve=curve,
        covered_before=before,
        total_weight=prob.total,
        method="greedy",
        problem="lscp",
        n_candidates=prob.n_candidates,
        target_share=share,
        reached=bool(after >= need),
        solve_s=time.perf_counter() - start,
    )


# --------------------------------------------------------------------------- exact (CBC)


def _collapse_rows(csr: sp.csr_matrix, w: FloatArray) -> tuple[list[IntArray], FloatArray]:
    """Merge rows with the same (non-empty) column set, summing weights; lossless for MCLP/LSCP.

    Rows are grouped by length and each group deduplicated as a dense ``rows × length`` block,
    so memory stays proportional to the non-zeros. Empty rows (no candidate reaches them) are
    dropped. Returns the column sets and their summed weights.
    """
    lens = np.diff(csr.indptr)
    patterns: list[IntArray] = []
    merged: list[FloatArray] = []
    for length in np.unique(lens[lens > 0]):
        rows = np.flatnonzero(lens == length)
        block = csr.indices[csr.indptr[rows][:, None] + np.arange(length)]
        uniq, inv = np.unique(block, axis=0, return_inverse=True)
        merged.append(
            np.bincount(inv.reshape(-1), weights=w[rows], minlength=len(uniq)).astype(np.float64)
        )
        patterns.extend(uniq.astype(np.int64))
    weights = np.concatenate(merged) if merged else np.zeros(0)
    return patterns, weights


def _cbc_select(
    patterns: list[IntArray],
    wr: FloatArray,
    n_candidates: int,
    *,
    problem: Problem,
    bound: float,
    start_sites: IntArray,
    time_limit_s: float,
) -> tuple[IntArray, bool]:
    """Solve the reduced MCLP (``bound`` = k) or LSCP (``bound`` = weight to cover) with CBC."""
    cols = np.unique(np.concatenate(patterns)) if patterns else np.zeros(0, dtype=np.int64)
    pos = np.full(n_candidates, -1, dtype=np.int64)
    pos[cols] = np.arange(len(cols))
    sense = pulp.LpMaximize if problem == "mclp" else pulp.LpMinimize
    model = pulp.LpProblem(f"gridgov_{problem}", sense)
    y = [model.add_variable(f"y{c}", cat=pulp.LpBinary) for c in cols]
    z = [model.add_variable(f"z{r}", lowBound=0, upBound=1) for r in range(len(patterns))]
    covered_expr = pulp.LpAffineExpression(list(zip(z, wr.tolist(), strict=True)))
    if problem == "mclp":
        model += covered_expr
        model += pulp.lpSum(y) <= int(bound)
    else:
        model += pulp.lpSum(y)
        model += covered_expr >= bound
    for r, pattern in enumerate(patterns):
        terms = [(y[i], 1.0) for i in pos[pattern].tolist()]
        terms.append((z[r], -1.0))
        model += pulp.LpAffineExpression(terms) >= 0
    # Warm start: the greedy answer (CBC then never returns less than it).
    start_set = {int(c) for c in pos[start_sites] if c >= 0}
    for i, var in enumerate(y):
        var.setInitialValue(1 if i in start_set else 0)
    for r, pattern in enumerate(patterns):
        z[r].setInitialValue(1 if start_set.intersection(pos[pattern].tolist()) else 0)
    solver = pulp.PULP_CBC_CMD(msg=False, timeLimit=time_limit_s, warmStart=True)
    model.solve(solver)
    if model.sol_status not in (pulp.LpSolutionOptimal, pulp.LpSolutionIntegerFeasible):
        raise SitingSolverError(
            f"CBC found no solution ({pulp.LpStatus[model.status]}) within {time_limit_s:g} s; "
            "raise time_limit_s or use the greedy method"
        )
    picked = np.asarray(
        [c for c, var in zip(cols, y, strict=True) if (var.value() or 0) > 0.5], dtype=np.int64
    )
    return picked, model.sol_status == pulp.LpSolutionOptimal


def _ordered(prob: _Problem, sites: IntArray) -> tuple[IntArray, FloatArray]:
    """Order a set of sites by marginal gain (greedy among them), dropping useless ones."""
    return _greedy(prob, max_picks=len(sites), allowed=np.asarray(sites, dtype=np.int64))


def _open_problem(prob: _Problem) -> tuple[list[IntArray], FloatArray]:
    """Collapsed rows of the demand that is neither covered already nor weightless."""
    keep = ~prob.covered & (prob.w > 0)
    return _collapse_rows(prob.csr[keep], prob.w[keep])


def exact_mclp(
    weights: ArrayLike,
    cover: sp.csr_matrix,
    *,
    k: int,
    covered_already: ArrayLike | None = None,
    time_limit_s: float = _DEFAULT_TIME_LIMIT_S,
) -> SitingResult:
    """The ``k`` new sites covering the most uncovered weight, solved exactly with CBC.

    Already-covered and unreachable demand is removed and identical rows are merged (both
    lossless), then spopt's MCLP formulation is built in PuLP on the sparse matrix
    (``max Σ wᵢ zᵢ`` s.t. ``zᵢ ≤ Σⱼ aᵢⱼ yⱼ``, ``Σ yⱼ ≤ k``, ``yⱼ`` binary, ``0 ≤ zᵢ ≤ 1``)
    and solved with ``pulp.PULP_CBC_CMD(msg=False)``, warm-started from :func:`greedy_mclp`'s
    answer (greedy and its swaps).

    Parameters
    ----------
    weights, cover, k, covered_already
        As in :func:`greedy_mclp`.
    time_limit_s
        CBC time limit in seconds. When it stops CBC early, the best solution found is
        returned with ``proven_optimal=False`` (never worse than :func:`greedy_mclp`). CBC
        checks the limit between phases and model building is not counted, so a call can
        overrun it.

    Returns
    -------
    SitingResult
        ``method="cbc"``, ``problem="mclp"``; ``chosen`` is the optimal set ordered by
        marginal gain, sites adding nothing left out.
    """
    budget = _check_k(k)
    limit = _check_time(time_limit_s)
    start = time.perf_counter()
    prob = _problem(weights, cover, covered_already)
    patterns, wr = _open_problem(prob)
    greedy_sites, _, _ = _greedy_swapped(prob, budget, max_swaps=_DEFAULT_MAX_SWAPS)
    optimal = True
    sites = greedy_sites
    if patterns and budget > 0:
        sites, optimal = _cbc_select(
            patterns,
            wr,
            prob.n_candidates,
            problem="mclp",
            bound=budget,
            start_sites=greedy_sites,
            time_limit_s=limit,
        )
    chosen, curve = _ordered(prob, sites)
    return SitingResult(
        chosen=chosen,
        curve=curve,
        covered_before=float(prob.w[prob.covered].sum()),
        total_weight=prob.total,
        method="cbc",
        problem="mclp",
        n_candidates=prob.n_candidates,
        k=budget,
        proven_optimal=optimal,
        solve_s=time.perf_counter() - start,
    )


def exact_lscp(
    weights: ArrayLike,
    cover: sp.csr_matrix,
    *,
    target_share: float,
    covered_already: ArrayLike | None = None,
    time_limit_s: float = _DEFAULT_TIME_LIMIT_S,
) -> SitingResult:
    """The fewest new sites that bring the covered share to ``target_share``, solved with CBC.

    Model (after the same lossless reduction as :func:`exact_mclp`): ``min Σ yⱼ`` s.t.
    ``Σ wᵢ zᵢ ≥ target × total − covered_before``, ``zᵢ ≤ Σⱼ aᵢⱼ yⱼ``, ``yⱼ`` binary,
    ``0 ≤ zᵢ ≤ 1``. With ``target_share=1`` and every demand reachable this is spopt's LSCP.
    When the target exceeds what every candidate together can cover, the fewest sites
    reaching that best achievable coverage are returned with ``reached=False``.

    Parameters
    ----------
    weights, cover, covered_already
        As in :func:`greedy_mclp`.
    target_share
        Share of the total weight to cover, in (0, 1].
    time_limit_s
        CBC time limit in seconds; on time-out ``proven_optimal=False``.

    Returns
    -------
    SitingResult
        ``method="cbc"``, ``problem="lscp"``, with ``target_share`` and ``reached``.
    """
    share = _check_share(target_share)
    limit = _check_time(time_limit_s)
    start = time.perf_counter()
    prob = _problem(weights, cover, covered_already)
    before = float(prob.w[prob.covered].sum())
    need = share * prob.total - prob.tol
    best = _reachable(prob)
    reached = best >= need
    goal = min(need, best - prob.tol)
    optimal = True
    sites = np.zeros(0, dtype=np.int64)
    if goal > before:
        greedy_sites, _ = _greedy(prob, max_picks=prob.n_candidates, stop_at=goal)
        patterns, wr = _open_problem(prob)
        sites, optimal = _cbc_select(
            patterns,
            wr,
            prob.n_candidates,
            problem="lscp",
            bound=goal - before,
            start_sites=greedy_sites,
            time_limit_s=limit,
        )
    chosen, curve = _ordered(prob, sites)
    return SitingResult(
        chosen=chosen,
        curve=curve,
        covered_before=before,
        total_weight=prob.total,
        method="cbc",
        problem="lscp",
        n_candidates=prob.n_candidates,
        target_share=share,
        reached=bool(reached),
        proven_optimal=optimal,
        solve_s=time.perf_counter() - start,
    )


# --------------------------------------------------------------------------- convenience


def propose_sites(
    households: gpd.GeoDataFrame,
    services: gpd.GeoDataFrame,
    candidates: gpd.GeoDataFrame,
    *,
    radius_m: float,
    k: int | None = None,
    target_share: float | None = None,
    exact: bool = False,
    weight_col: str = "residents",
    cell_m: float | None = None,
    time_limit_s: float = _DEFAULT_TIME_LIMIT_S,
    max_swaps: int = _DEFAULT_MAX_SWAPS,
) -> SitingResult:
    """Propose new service points with the straight-line engine, keeping the existing ones.

    Give exactly one of ``k`` (best coverage with ``k`` new sites, MCLP) or ``target_share``
    (fewest new sites to reach the share, LSCP).

    Parameters
    ----------
    households
        Household points with ``weight_col`` (residents), in a metric CRS (EPSG:4549).
    services
        The existing service points of the type being planned (filter ``service_type``
        first), same CRS; may be empty. They are kept: households within ``radius_m`` of one
        count as covered.
    candidates
        Candidate points (:func:`candidates`), same CRS; ``chosen`` indexes its rows.
    radius_m
        Straight-line service radius in metres, e.g. ``straight_line_radius_m(minutes=15)``
        (travel time with the detour factor already applied).
    k, target_share
        Budget of new sites, or target share of residents (0–1, e.g. 0.85).
    exact
        Solve with CBC (:func:`exact_mclp` / :func:`exact_lscp`) instead of greedy.
    weight_col
        Household weight column.
    cell_m
        ``None`` (default): households themselves are the demand points. A number: uncovered
        households are aggregated to ``cell_m`` cells (:func:`demand_points`) for the
        optimisation only, which makes a large problem smaller at a small loss of accuracy.
    time_limit_s
        CBC time limit in seconds (``exact=True`` only).
    max_swaps
        Bound on the improving swaps after greedy MCLP (``k`` given, ``exact=False``; ``0``:
        plain greedy); see :func:`greedy_mclp`.

    Returns
    -------
    SitingResult
        Weights are residents and every figure (``covered_before``, ``curve``, shares,
        ``reached``) is computed for the households themselves. Inputs are not changed.
    """
    problems: list[str] = []
    if (k is None) == (target_share is None):
        problems.append(
            f"give exactly one of k (number of new sites) or target_share (e.g. 0.85), got "
            f"k={k!r} and target_share={target_share!r}"
        )
    if not _positive_m(radius_m):
        problems.append(f"radius_m must be a positive number of metres, got {radius_m!r}")
    if cell_m is not None and not _positive_m(cell_m):
        problems.append(f"cell_m must be None or a positive number of metres, got {cell_m!r}")
    try:
        _check_swaps(max_swaps)
    except InputProblems as exc:
        problems += exc.problems
    frames = {"households": households, "services": services, "candidates": candidates}
    for name, frame in frames.items():
        found = _crs_problems(frame, name)
        problems += found
        if not found:
            problems += _point_problems(frame, name)
    if not _crs_problems(households, "households"):
        problems += _weight_problems(households, weight_col, "households")
    shared = same_crs_problem(list(frames.items()))
    if shared:
        problems.append(shared)
    if problems:
        raise InputProblems("propose service points", problems)

    hxy = _points_xy(households)
    hw = households[weight_col].to_numpy(dtype=np.float64)
    cxy = _points_xy(candidates)
    already = coverage_matrix(hxy, _points_xy(services), radius_m=radius_m).getnnz(axis=1) > 0
    open_xy, open_w = hxy[~already], hw[~already]
    if cell_m is None:
        demand_xy, demand_w = open_xy, open_w
    else:
        open_hh = gpd.GeoDataFrame(
            {weight_col: open_w}, geometry=shapely.points(open_xy), crs=households.crs
        )
        cells = demand_points(open_hh, cell_m=cell_m, weight_col=weight_col)
        demand_xy, demand_w = _points_xy(cells), cells[weight_col].to_numpy(dtype=np.float64)
    # One extra row carries the weight the existing sites already cover (reached by nothing).
    cover = sp.vstack(
        [coverage_matrix(demand_xy, cxy, radius_m=radius_m), sp.csr_matrix((1, len(cxy)))],
        format="csr",
    )
    weights = np.append(demand_w, hw[already].sum())
    covered = np.append(np.zeros(len(demand_w), dtype=bool), True)
    if k is not None:
        if exact:
            result = exact_mclp(
                weights, cover, k=k, covered_already=covered, time_limit_s=time_limit_s
            )
        else:
            result = greedy_mclp(weights, cover, k=k, covered_already=covered, max_swaps=max_swaps)
    else:
        share = _check_share(target_share)
        if exact:
            result = exact_lscp(
                weights,
                cover,
                target_share=share,
                covered_already=covered,
                time_limit_s=time_limit_s,
            )
        else:
            result = greedy_lscp(weights, cover, target_share=share, covered_already=covered)
    if cell_m is None:
        return result
    # Aggregated demand: recompute every figure for the households themselves.
    hit = coverage_matrix(open_xy, cxy[result.chosen], radius_m=radius_m)
    has = np.diff(hit.indptr) > 0
    first = np.zeros(0, dtype=np.int64)
    if has.any():
        first = np.minimum.reduceat(hit.indices, hit.indptr[:-1][has]).astype(np.int64)
    gains = np.bincount(first, weights=open_w[has], minlength=len(result.chosen))
    curve = result.covered_before + np.cumsum(gains)
    reached = result.reached
    if result.problem == "lscp" and result.target_share is not None:
        after = float(curve[-1]) if len(curve) else result.covered_before
        reached = after >= result.target_share * result.total_weight * (1 - _REL_TOL)
    return replace(result, curve=curve.astype(np.float64), reached=reached)


def write_proposals(
    result: SitingResult,
    candidates: gpd.GeoDataFrame,
    path: str | Path,
    *,
    layer: str = "proposals",
) -> Path:
    """Write the proposed sites to a GeoPackage or a CSV file, chosen by the file's suffix.

    Parameters
    ----------
    result
        A siting result.
    candidates
        The candidate table the result indexes (with a CRS).
    path
        ``*.gpkg``: a point layer in the candidates' CRS (EPSG:4549). ``*.csv``: UTF-8 with BOM
        (opens in Excel) with ``lon``/``lat`` in WGS84 (EPSG:4326, degrees) and ``x``/``y``
        in the candidates' CRS (metres), no geometry column.
    layer
        GeoPackage layer name.

    Returns
    -------
    pathlib.Path
        The file written (its folder is created if needed).
    """
    out = Path(path)
    suffix = out.suffix.lower()
    if suffix not in (".gpkg", ".csv"):
        raise InputProblems(
            "propose service points",
            [f"path must end in .gpkg or .csv, got {str(out)!r}; choose one of those formats"],
        )
    if not isinstance(candidates, gpd.GeoDataFrame) or candidates.crs is None:
        raise InputProblems(
            "propose service points",
            [
                f"candidates must be a GeoDataFrame with a CRS, e.g. from candidates(); "
                f"set it with .set_crs('{get_settings().metric_crs}')"
            ],
        )
    table = result.to_geodataframe(candidates)
    out.parent.mkdir(parents=True, exist_ok=True)
    if suffix == ".gpkg":
        table.to_file(out, layer=layer, driver="GPKG")
        return out
    xy = _points_xy(table)
    lonlat = shapely.get_coordinates(table.geometry.to_crs(DISPLAY_CRS).to_numpy())
    frame = pd.DataFrame(table.drop(columns=table.geometry.name))
    frame["x"], frame["y"] = xy[:, 0], xy[:, 1]
    frame["lon"], frame["lat"] = lonlat[:, 0], lonlat[:, 1]
    frame.to_csv(out, index=False, encoding="utf-8-sig")
    return out
