"""15-minute service circles: travel minutes from every household and population coverage."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from numpy.typing import NDArray
from scipy.spatial import cKDTree

from geo.core.errors import InputProblems
from geo.core.settings import ServiceType, get_settings
from geo.core.validate import frame_problems, same_crs_problem

__all__ = [
    "ALL_ESSENTIAL",
    "ENGINES",
    "LEVELS",
    "TravelNetwork",
    "coverage",
    "coverage_gaps",
    "every_unit",
    "gap_areas",
    "service_access",
    "service_circles",
    "travel_minutes",
]

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]
BoolArray = NDArray[np.bool_]

#: Name of the combined row: a household is covered only when every essential type is in reach.
ALL_ESSENTIAL = "全部基本服务"
#: Travel-time engines: straight line × detour factor, or shortest paths on a road network.
ENGINES = ("line", "network")
#: Levels of :func:`coverage` and the key column each one is reported under.
LEVELS = {
    "grid": "grid_code",
    "village": "village_code",
    "town": "town_code",
    "county": "county_code",
}
#: Length of a town code (6-digit county + 3-digit town), the prefix of every village code.
TOWN_CODE_LEN = 9

# Straight-line engine: origins are binned into square cells of this size; each cell keeps the
# few services that can be nearest to any point in it (see _cell_candidates).
_CELL_M = 500.0
_FIRST_K = 6
_MORE_K = 16
_EPS_M = 1e-6
_MAX_THREADS = 4  # service types computed side by side (see _each)
_T = TypeVar("_T")
_R = TypeVar("_R")


class TravelNetwork(Protocol):
    """What ``engine="network"`` needs from a road network
    (``geo.services.network.RoadNetwork``)."""

    def nearest_minutes(
        self, origins_xy: np.ndarray, facilities_xy: np.ndarray, *, speed_kmh: float
    ) -> tuple[np.ndarray, np.ndarray]:
        """Minutes from each origin to its nearest facility and that facility's position.

        Coordinates are ``(n, 2)`` arrays in the metric CRS (metres); unreachable origins get
        ``inf`` minutes and index ``-1``.
        """
        ...


# --------------------------------------------------------------------------- validation


def _frame_problems(
    frame: object, name: str, columns: Sequence[str], *, geo: bool = True
) -> list[str]:
    """Every problem of one input frame: type, missing columns, CRS."""
    return frame_problems(frame, name, columns, geo=geo)


def _same_crs_problem(
    a: gpd.GeoDataFrame, a_name: str, b: gpd.GeoDataFrame, b_name: str
) -> list[str]:
    problem = same_crs_problem([(a_name, a), (b_name, b)])
    return [problem] if problem else []


def _speed_problems(
    mode: str, speed_kmh: float | None, detour_factor: float | None, engine: str
) -> list[str]:
    speeds = get_settings().travel_speeds_kmh
    problems = []
    if mode not in speeds:
        problems.append(f"mode must be one of {list(speeds)}, got {mode!r}")
    if speed_kmh is not None and not (np.isfinite(speed_kmh) and speed_kmh > 0):
        problems.append(f"speed_kmh must be a positive number of km/h, got {speed_kmh!r}")
    if detour_factor is not None and not (np.isfinite(detour_factor) and detour_factor > 0):
        problems.append(
            f"detour_factor must be a positive number (1.0 = straight line), got {detour_factor!r}"
        )
    if engine not in ENGINES:
        problems.append(f"engine must be one of {list(ENGINES)}, got {engine!r}")
    return problems


def _speed(mode: str, speed_kmh: float | None) -> float:
    return float(speed_kmh) if speed_kmh is not None else get_settings().travel_speeds_kmh[mode]


def _resolve_types(
    types: Sequence[ServiceType | str] | None, problems: list[str]
) -> tuple[ServiceType, ...]:
    """Service types from names or :class:`ServiceType` objects (None = the settings' types)."""
    known = {t.name: t for t in get_settings().service_types}
    if types is None:
        return tuple(known.values())
    if isinstance(types, str | ServiceType):
        types = [types]
    out: list[ServiceType] = []
    for item in types:
        if isinstance(item, ServiceType):
            out.append(item)
        elif item in known:
            out.append(known[item])
        else:
            problems.append(
                f"types: unknown service type {item!r}; known types are {list(known)} "
                "(pass a settings.ServiceType(name, minutes, essential) for another kind)"
            )
    names = [t.name for t in out]
    if len(set(names)) != len(names):
        problems.append(f"types: each service type may appear once, got {names}")
    return tuple(out)


def _targets(
    types: Sequence[ServiceType],
    minutes: int | float | Mapping[str, float] | None,
    problems: list[str],
) -> dict[str, float]:
    """Target minutes per type: each type's own, one number for all, or a mapping by name."""
    own = {t.name: float(t.minutes) for t in types}
    if minutes is None:
        return own
    if isinstance(minutes, Mapping):
        unknown = [k for k in minutes if k not in own]
        if unknown:
            problems.append(f"minutes: unknown service type(s) {unknown}; known are {list(own)}")
        values = {k: float(v) for k, v in minutes.items() if k in own}
        bad = {k: v for k, v in values.items() if not (np.isfinite(v) and v > 0)}
        if bad:
            problems.append(f"minutes must be positive numbers, got {bad}")
        return {**own, **values}
    value = float(minutes)
    if not (np.isfinite(value) and value > 0):
        problems.append(f"minutes must be a positive number of minutes, got {minutes!r}")
    return dict.fromkeys(own, value)


_GEOMETRY_NAMES = (
    "Point",
    "LineString",
    "LinearRing",
    "Polygon",
    "MultiPoint",
    "MultiLineString",
    "MultiPolygon",
    "GeometryCollection",
)


def _point_xy(frame: gpd.GeoDataFrame, name: str, problems: list[str]) -> FloatArray:
    """``(n, 2)`` coordinates of point geometries; NaN rows where a geometry is missing."""
    geoms = np.asarray(frame.geometry.array, dtype=object)
    xy = np.empty((len(geoms), 2))
    try:  # the common case, one pass per axis: NaN for missing and non-point geometries
        xy[:, 0] = shapely.get_x(geoms)
        xy[:, 1] = shapely.get_y(geoms)
        odd = np.flatnonzero(np.isnan(xy[:, 0]))
    except shapely.errors.GEOSException:  # an empty point
        odd = np.arange(len(geoms))
    if not len(odd):
        return xy
    type_id = shapely.get_type_id(geoms[odd])
    bad = (type_id != 0) & (type_id != -1)
    if bad.any():
        kinds = sorted(set(type_id[bad].tolist()))
        problems.append(
            f"{name} must be points; {int(bad.sum())} row(s) are "
            f"{[_GEOMETRY_NAMES[k] for k in kinds]} (use .representative_point() for buildings)"
        )
    rows = odd[(type_id == 0) & ~shapely.is_empty(geoms[odd])]
    xy[odd] = np.nan
    xy[rows, 0] = shapely.get_x(geoms[rows])
    xy[rows, 1] = shapely.get_y(geoms[rows])
    return xy


def _as_xy(values: np.ndarray, name: str) -> FloatArray:
    arr = np.asarray(values, dtype=np.float64)
    if arr.ndim != 2 or arr.shape[1] != 2:
        raise InputProblems(
            "compute service coverage",
            [f"{name} must be an (n, 2) array of x, y in metres, got shape {arr.shape}"],
        )
    return arr


# --------------------------------------------------------------------------- travel minutes


def travel_minutes(
    origins_xy: np.ndarray,
    services_xy: np.ndarray,
    *,
    mode: str = "walk",
    engine: str = "line",
    network: TravelNetwork | None = None,
    detour_factor: float | None = None,
    speed_kmh: float | None = None,
) -> tuple[FloatArray, IntArray]:
    """Minutes from each origin to its nearest service, and which service that is.

    Parameters
    ----------
    origins_xy, services_xy
        ``(n, 2)`` and ``(m, 2)`` arrays of x, y in a metric CRS (EPSG:4549, metres). Origins
        with NaN coordinates get NaN minutes.
    mode
        Travel mode, a key of ``settings.travel_speeds_kmh`` (``walk``, ``bike``, ``ebike``,
        ``car``).
    engine
        ``"line"``: straight-line distance to the nearest service × ``detour_factor`` ÷ speed.
        ``"network"``: ``network.nearest_minutes`` (shortest paths on roads; no detour factor).
    network
        A :class:`TravelNetwork` (e.g. ``geo.services.network.RoadNetwork``), needed by
        ``"network"``.
    detour_factor
        Road distance ÷ straight distance for the line engine (default
        ``settings.detour_factor``, 1.3; 1.0 gives plain circles).
    speed_kmh
        Overrides the speed of ``mode`` (km/h).

    Returns
    -------
    minutes : numpy.ndarray of float64
        Minutes to the nearest service; ``inf`` when there is none (or none reachable).
    index : numpy.ndarray of int64
        Row of that service in ``services_xy``; ``-1`` when there is none.

    Raises
    ------
    InputProblems
        Unknown ``mode`` or ``engine``, non-positive speed or detour factor, arrays that are not
        ``(n, 2)``, or ``engine="network"`` without a network.
    """
    problems = _speed_problems(mode, speed_kmh, detour_factor, engine)
    if engine == "network" and network is None:
        problems.append(
            "engine='network' needs network=, e.g. geo.services.network.RoadNetwork built from the "
            "roads layer; or use engine='line'"
        )
    if problems:
        raise InputProblems("compute service coverage", problems)
    origins = _as_xy(origins_xy, "origins_xy")
    services = _as_xy(services_xy, "services_xy")
    rows = np.flatnonzero(np.isfinite(services).all(axis=1))  # services with coordinates
    speed = _speed(mode, speed_kmh)
    if engine == "network" and network is not None:
        return _network_minutes(network, origins, services[rows], rows, speed)
    detour = get_settings().detour_factor if detour_factor is None else float(detour_factor)
    return _line_minutes(_bin_origins(origins), services[rows], rows, speed, detour)


def _line_minutes(
    cells: _OriginCells, services: FloatArray, rows: IntArray, speed_kmh: float, detour: float
) -> tuple[FloatArray, IntArray]:
    """Straight-line minutes to the nearest of ``services`` (whose original rows are ``rows``)."""
    n = len(cells.x)
    if not len(services):
        minutes = np.full(n, np.inf)
        minutes[~cells.finite] = np.nan
        return minutes, np.full(n, -1, dtype=np.int64)
    dist_m, index = _nearest(cells, services)
    minutes = dist_m * (detour * 60.0) / (speed_kmh * 1000.0)
    index = rows[index]
    minutes[~cells.finite] = np.nan
    index[~cells.finite] = -1
    return minutes, index


def _network_minutes(
    network: TravelNetwork,
    origins: FloatArray,
    services: FloatArray,
    rows: IntArray,
    speed_kmh: float,
) -> tuple[FloatArray, IntArray]:
    """Network minutes to the nearest of ``services`` (whose original rows are ``rows``)."""
    n = len(origins)
    minutes = np.full(n, np.inf)
    index = np.full(n, -1, dtype=np.int64)
    finite = np.isfinite(origins).all(axis=1)
    minutes[~finite] = np.nan
    if not len(services) or not finite.any():
        return minutes, index
    got_min, got_idx = network.nearest_minutes(origins[finite], services, speed_kmh=speed_kmh)
    got_min = np.asarray(got_min, dtype=np.float64)
    got_idx = np.asarray(got_idx, dtype=np.int64)
    if got_min.shape != (int(finite.sum()),) or got_idx.shape != got_min.shape:
        raise InputProblems(
            "compute service coverage",
            [
                f"network.nearest_minutes returned shapes {got_min.shape} and {got_idx.shape} "
                f"for {int(finite.sum())} origins; it must return one value per origin"
            ],
        )
    reach = (got_idx >= 0) & np.isfinite(got_min)
    minutes[finite] = np.where(reach, got_min, np.inf)
    index[finite] = np.where(reach, rows[np.where(reach, got_idx, 0)], -1)
    return minutes, index


@dataclass(frozen=True)
class _OriginCells:
    """Origins binned into square cells, shared by the nearest-service search of every type.

    Attributes
    ----------
    x, y
        Origin coordinates (metres); non-finite origins are moved to the first finite one.
    finite
        Which origins had finite coordinates.
    cell_of
        Cell of each origin (rows of ``lo``).
    lo
        ``(n_cells, 2)`` lower-left corners of the occupied cells.
    cell_m
        Cell side in metres.
    """

    x: FloatArray
    y: FloatArray
    finite: BoolArray
    cell_of: IntArray
    lo: FloatArray
    cell_m: float


def _bin_origins(origins: FloatArray, cell_m: float = _CELL_M) -> _OriginCells:
    x = np.ascontiguousarray(origins[:, 0])
    y = np.ascontiguousarray(origins[:, 1])
    finite = np.isfinite(x)
    finite &= np.isfinite(y)
    if not finite.all():
        first = np.flatnonzero(finite)[:1]
        fill = origins[first[0]] if len(first) else np.zeros(2)
        x = np.where(finite, x, fill[0])
        y = np.where(finite, y, fill[1])
    if not len(x):
        empty = np.empty(0, dtype=np.int64)
        return _OriginCells(x, y, finite, empty, np.empty((0, 2)), cell_m)
    x0, y0 = float(x.min()), float(y.min())
    ix = ((x - x0) * (1.0 / cell_m)).astype(np.int64)  # >= 0, so truncation is floor
    iy = ((y - y0) * (1.0 / cell_m)).astype(np.int64)
    nx = int(ix.max()) + 1
    n_raster = (int(iy.max()) + 1) * nx
    cell_id = iy
    cell_id *= nx
    cell_id += ix
    if n_raster <= 4 * len(x) + 1_000_000:
        occupied = np.bincount(cell_id, minlength=n_raster) > 0
        ids = np.flatnonzero(occupied)
        cell_of = (np.cumsum(occupied) - 1)[cell_id]
    else:  # origins spread far apart: a dense raster would be too large
        ids, cell_of = np.unique(cell_id, return_inverse=True)
    lo = np.column_stack([x0 + (ids % nx) * cell_m, y0 + (ids // nx) * cell_m])
    return _OriginCells(x, y, finite, cell_of.astype(np.int64), lo, cell_m)


def _cell_candidates(
    cells: _OriginCells, tree: cKDTree, services: FloatArray
) -> tuple[FloatArray, FloatArray, IntArray, IntArray]:
    """For every cell, the services that can be nearest to some point of it.

    A service ``s`` can be nearest to a point of cell ``R`` only if its distance to ``R``
    (``dmin``) is at most ``U``, the smallest over services of the distance to ``R``'s farthest
    corner (``dmax``): every point of ``R`` has a service within ``U``. The ``k`` services
    nearest the cell centre are screened this way; the list is complete when the ``k``-th lies
    beyond ``U`` + half the cell diagonal. Incomplete cells are screened again with more
    services and, if still incomplete, get count 0 (their origins are searched with the tree).

    Returns
    -------
    cx, cy
        ``(k, n_cells)`` coordinates of the candidates, column ``j`` of cell ``c`` at
        ``[j, c]``; column 0 is the service nearest the centre (always a candidate) and
        screened-out entries repeat it.
    cand
        ``(k, n_cells)`` service rows of those candidates.
    count
        Columns to compare per cell (1 + the last screened-in column); 0 where the list may
        be incomplete.
    """
    n_services = len(services)
    centres = cells.lo + cells.cell_m / 2
    k = min(_FIRST_K, n_services)
    cand, count = _screen(cells, tree, services, centres, k)
    again = np.flatnonzero(count == 0)
    if len(again) and n_services > k:
        k2 = min(_MORE_K, n_services)
        cand2, count2 = _screen(cells, tree, services, centres[again], k2, rows=again)
        wide = np.empty((k2, cand.shape[1]), dtype=np.int64)
        wide[:k] = cand
        wide[k:] = cand[:1]
        wide[:, again] = cand2
        count[again] = count2
        cand = wide
    return services[cand, 0], services[cand, 1], cand, count


def _screen(
    cells: _OriginCells,
    tree: cKDTree,
    services: FloatArray,
    centres: FloatArray,
    k: int,
    rows: IntArray | None = None,
) -> tuple[IntArray, IntArray]:
    """Screen the ``k`` services nearest each cell centre (see :func:`_cell_candidates`)."""
    dc, ic = tree.query(centres, k=k)
    far = np.asarray(dc, dtype=np.float64).reshape(len(centres), k)[:, -1]
    cand = np.ascontiguousarray(np.asarray(ic, dtype=np.int64).reshape(len(centres), k).T)
    lo = cells.lo if rows is None else cells.lo[rows]
    x0, y0 = lo[:, 0], lo[:, 1]
    x1, y1 = x0 + cells.cell_m, y0 + cells.cell_m
    sx, sy = services[cand, 0], services[cand, 1]
    gap_x = np.maximum(np.maximum(x0 - sx, sx - x1), 0.0)
    gap_y = np.maximum(np.maximum(y0 - sy, sy - y1), 0.0)
    reach_x = np.maximum(sx - x0, x1 - sx)
    reach_y = np.maximum(sy - y0, y1 - sy)
    bound = np.sqrt((reach_x * reach_x + reach_y * reach_y).min(axis=0)) + _EPS_M
    keep = gap_x * gap_x + gap_y * gap_y <= bound * bound
    half_diagonal = cells.cell_m * np.sqrt(0.5)
    complete = (k == len(services)) | (far - half_diagonal > bound)
    last = k - np.argmax(keep[::-1], axis=0)
    cand = np.where(keep, cand, cand[:1])
    return cand, np.where(complete, last, 0).astype(np.int64)


def _nearest(cells: _OriginCells, services: FloatArray) -> tuple[FloatArray, IntArray]:
    """Exact nearest service (Euclidean, metres) of every origin, by cell-screened candidates."""
    tree = cKDTree(services)
    cx, cy, cand, count = _cell_candidates(cells, tree, services)
    x, y, cell_of = cells.x, cells.y, cells.cell_of
    best = cand[0][cell_of]
    d2 = _sq_dist(x, y, cx[0][cell_of], cy[0][cell_of])
    k_of = count[cell_of]
    # Origins with more than one candidate, those with the most first: the origins still to
    # compare with column j are then a prefix.
    sel = np.flatnonzero(k_of > 1)
    if len(sel):
        k_sel = k_of[sel].astype(np.int8)  # at most _MORE_K: a radix sort
        sel = sel[np.argsort(-k_sel, kind="stable")]
        c_sel, x_sel, y_sel = cell_of[sel], x[sel], y[sel]
        d2_sel, best_sel = d2[sel], best[sel]
        active = np.bincount(k_sel, minlength=len(cand) + 1)[::-1].cumsum()[::-1]
        for j in range(1, len(cand)):
            n = int(active[j + 1])
            if not n:
                break
            c = c_sel[:n]
            dj = _sq_dist(x_sel[:n], y_sel[:n], cx[j][c], cy[j][c])
            better = np.flatnonzero(dj < d2_sel[:n])
            d2_sel[better] = dj[better]
            best_sel[better] = cand[j][c[better]]
        d2[sel] = d2_sel
        best[sel] = best_sel
    hard = np.flatnonzero(k_of == 0)
    if len(hard):
        dist, idx = tree.query(np.column_stack([x[hard], y[hard]]))
        d2[hard] = np.square(dist)
        best[hard] = idx
    return np.sqrt(d2, out=d2), best


def _sq_dist(x: FloatArray, y: FloatArray, sx: FloatArray, sy: FloatArray) -> FloatArray:
    """Squared distances, in place on temporaries."""
    dx = x - sx
    dy = y - sy
    dx *= dx
    dy *= dy
    dx += dy
    return dx


# --------------------------------------------------------------------------- access table


def _each(work: Callable[[_T], _R], items: Sequence[_T]) -> list[_R]:
    """``[work(item) for item in items]`` on a few threads, in order.

    The work per type is array work (sorting, k-d tree queries, ufuncs on 350k values) that
    releases the GIL, so the types run side by side on the machine's cores.
    """
    workers = min(len(items), os.cpu_count() or 1, _MAX_THREADS)
    if workers <= 1:
        return [work(item) for item in items]
    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(work, items))


def service_access(
    households: gpd.GeoDataFrame,
    services: gpd.GeoDataFrame,
    *,
    types: Sequence[ServiceType | str] | None = None,
    mode: str = "walk",
    engine: str = "line",
    network: TravelNetwork | None = None,
    detour_factor: float | None = None,
    speed_kmh: float | None = None,
) -> pd.DataFrame:
    """Minutes from every household to the nearest service point of each type.

    Parameters
    ----------
    households
        Household points in a metric CRS (EPSG:4549, metres).
    services
        Service points in the same CRS with a ``service_type`` column (names as in
        ``settings.service_types``, e.g. ``卫生室``).
    types
        Service types (names or :class:`~geo.core.settings.ServiceType`), default
        ``settings.service_types``.
    mode, engine, network, detour_factor, speed_kmh
        As in :func:`travel_minutes`.

    Returns
    -------
    pandas.DataFrame
        Indexed like ``households``, one float column of minutes per type (column name = type
        name); ``inf`` where a type has no service point (or none reachable), NaN for
        households without a location. ``attrs`` records ``mode``, ``engine``, ``speed_kmh``
        and ``detour_factor``.

    Raises
    ------
    InputProblems
        Listing every problem: not GeoDataFrames, missing ``service_type``, CRS missing, in
        degrees or different between the two, non-point geometries, bad mode or engine.
    """
    problems = _frame_problems(households, "households", ())
    problems += _frame_problems(services, "services", ("service_type",))
    problems += _speed_problems(mode, speed_kmh, detour_factor, engine)
    if engine == "network" and network is None:
        problems.append("engine='network' needs network=, e.g. geo.services.network.RoadNetwork")
    resolved = _resolve_types(types, problems)
    if not problems:
        problems += _same_crs_problem(households, "households", services, "services")
    origins = _point_xy(households, "households", problems) if not problems else None
    service_xy = _point_xy(services, "services", problems) if not problems else None
    if problems or origins is None or service_xy is None:
        raise InputProblems("compute service coverage", problems)

    speed = _speed(mode, speed_kmh)
    detour = get_settings().detour_factor if detour_factor is None else float(detour_factor)
    xy = origins  # (narrowed for the closures below)

    if engine == "network" and network is not None:
        net = network

        def minutes_to(rows: IntArray) -> FloatArray:
            return _network_minutes(net, xy, service_xy[rows], rows, speed)[0]

    else:
        cells = _bin_origins(xy)  # once for every type

        def minutes_to(rows: IntArray) -> FloatArray:
            return _line_minutes(cells, service_xy[rows], rows, speed, detour)[0]

    kinds = services["service_type"].astype(str).to_numpy()

    def minutes_of(stype: ServiceType) -> FloatArray:
        rows = np.flatnonzero(kinds == stype.name)
        return minutes_to(rows[np.isfinite(service_xy[rows]).all(axis=1)])

    columns = dict(zip([t.name for t in resolved], _each(minutes_of, resolved), strict=True))
    out = pd.DataFrame(columns, index=households.index)
    out.attrs.update(
        {
            "mode": mode,
            "engine": engine,
            "speed_kmh": speed,
            "detour_factor": detour if engine == "line" else None,
        }
    )
    return out


# --------------------------------------------------------------------------- coverage


@dataclass(frozen=True)
class _Units:
    """Households grouped into the units of one level."""

    key: str
    codes: IntArray
    names: np.ndarray
    residents: FloatArray


def _units(
    households: pd.DataFrame, by: str, town_of: Mapping[str, str] | None, problems: list[str]
) -> _Units | None:
    """Group households by grid, village, town or county (codes per household)."""
    key = LEVELS.get(by, by)
    if key not in LEVELS.values():
        problems.append(f"by must be one of {list(LEVELS)}, got {by!r}")
        return None
    needed = {"grid_code": ["grid_code"], "village_code": ["village_code"], "county_code": []}.get(
        key, ["village_code"]
    )
    if key == "town_code" and "town_code" in households.columns:
        needed = ["town_code"]
    missing = [c for c in [*needed, "residents"] if c not in households.columns]
    if missing:
        problems.append(
            f"households lack the column(s) {missing} needed for by={by!r}; "
            f"they have {list(households.columns)}"
        )
        return None
    residents = pd.to_numeric(households["residents"], errors="coerce").to_numpy(
        dtype=np.float64, na_value=np.nan
    )
    residents = np.where(np.isfinite(residents), residents, 0.0)
    if key == "county_code":
        codes = np.zeros(len(households), dtype=np.int64)
        return _Units(key, codes, np.array([get_settings().county_code], dtype=object), residents)
    column = needed[0]
    codes, uniques = _factorize(households[column])
    names = np.asarray(uniques.astype(str), dtype=object)
    if key == "town_code" and column == "village_code":
        mapping = dict(town_of or {})
        towns = np.array([mapping.get(v, v[:TOWN_CODE_LEN]) for v in names], dtype=object)
        town_codes, town_names = pd.factorize(towns, sort=True)
        codes = np.where(codes >= 0, town_codes[np.maximum(codes, 0)], -1)
        names = np.asarray(town_names, dtype=object)
    return _Units(key, codes.astype(np.int64), names, residents)


def _factorize(values: pd.Series) -> tuple[IntArray, pd.Index]:
    """Integer codes (in order of the sorted values; -1 for missing or empty) and the values."""
    codes_, uniques = pd.factorize(values)
    text = pd.Index(uniques).astype(str)
    order = np.argsort(text.to_numpy(dtype=str), kind="stable")
    rank = np.empty(len(order) + 1, dtype=np.int64)
    rank[order] = np.arange(len(order))
    text = text[order]
    if len(text) and text[0] == "":  # empty codes sort first: treat them as missing
        rank -= 1
        text = text[1:]
    rank[-1] = -1  # code -1 (missing) stays -1
    return rank[np.asarray(codes_, dtype=np.int64)], text


@dataclass(frozen=True)
class _Groups:
    """Households (with a unit) grouped by unit code, ready for per-unit sums."""

    codes: IntArray
    weights: FloatArray
    counts: IntArray
    totals: FloatArray

    @classmethod
    def of(cls, codes: IntArray, weights: FloatArray, n_groups: int) -> _Groups:
        counts = np.bincount(codes, minlength=n_groups).astype(np.int64)
        totals = np.bincount(codes, weights=weights, minlength=n_groups).astype(np.float64)
        return cls(codes, weights, counts, totals)

    def weighted_sum(self, flags: BoolArray) -> FloatArray:
        """Sum of the weights of the flagged households per group."""
        sums = np.bincount(
            self.codes, weights=np.where(flags, self.weights, 0.0), minlength=len(self.counts)
        )
        return sums.astype(np.float64)

    def weighted_median(self, values: FloatArray) -> FloatArray:
        """Lower weighted median per group: the smallest value whose cumulative weight reaches
        half the group's weight. NaN values count as ``inf``; groups without weight get NaN.
        """
        top = float(np.max(values, where=np.isfinite(values), initial=0.0))
        key = self.codes * (abs(top) + 2.0)
        key += np.fmin(values, top + 1.0)  # inf and NaN (fmin drops it) sort last
        out = np.full(len(self.counts), np.nan)
        if not len(values):
            return out
        order = np.argsort(key)  # by group, then by value
        cum = np.cumsum(self.weights[order])
        ends = np.cumsum(self.counts)
        before = np.zeros(len(ends))
        before[1:] = np.where(ends[:-1] > 0, cum[np.maximum(ends[:-1] - 1, 0)], 0.0)
        # cum never decreases, so the first household of group g reaching half its weight is
        # where before[g] + totals[g] / 2 would be inserted.
        pick = np.searchsorted(cum, before + self.totals / 2.0, side="left")
        has = (self.counts > 0) & (self.totals > 0)
        out[has] = values[order[np.minimum(pick[has], len(cum) - 1)]]
        out[np.isnan(out) & has] = np.inf
        return out


def _covered_matrix(
    access: pd.DataFrame, types: Sequence[ServiceType], targets: Mapping[str, float]
) -> dict[str, tuple[FloatArray, BoolArray]]:
    """Minutes and covered flags per type, plus :data:`ALL_ESSENTIAL` when any is essential.

    The combined minutes of a household are its longest trip among the essential types; it is
    covered when every essential type is within that type's own target.
    """
    out: dict[str, tuple[FloatArray, BoolArray]] = {}
    for stype in types:
        minutes = access[stype.name].to_numpy(dtype=np.float64, na_value=np.nan)
        out[stype.name] = (minutes, minutes <= targets[stype.name])
    essential = [t.name for t in types if t.essential]
    if essential:
        worst = out[essential[0]][0].copy()
        both = out[essential[0]][1].copy()
        for name in essential[1:]:
            np.fmax(worst, out[name][0], out=worst)
            both &= out[name][1]
        worst[np.isnan(out[essential[0]][0])] = np.nan
        out[ALL_ESSENTIAL] = (worst, both)
    return out


def _access_problems(
    access: object, households: pd.DataFrame, types: Sequence[ServiceType]
) -> list[str]:
    if not isinstance(access, pd.DataFrame):
        return [f"access must be the DataFrame of service_access, got {type(access).__name__}"]
    problems = []
    missing = [t.name for t in types if t.name not in access.columns]
    if missing:
        problems.append(
            f"access lacks the column(s) {missing}; compute it with "
            f"service_access(households, services, types=...) for those types"
        )
    if len(access) != len(households) or not access.index.equals(households.index):
        problems.append(
            f"access has {len(access)} rows but households {len(households)} (or another "
            "index); pass the table service_access returned for these households"
        )
    return problems


def _types_for(
    access: object, types: Sequence[ServiceType | str] | None, problems: list[str]
) -> tuple[ServiceType, ...]:
    """The types to report: given, or the settings' types that ``access`` has columns for
    (in the order of its columns)."""
    if types is not None or not isinstance(access, pd.DataFrame):
        return _resolve_types(types, problems)
    known = {t.name: t for t in get_settings().service_types}
    present = tuple(known[c] for c in access.columns if c in known)
    if not present:
        problems.append(
            f"access has no column named after a service type; it has {list(access.columns)}"
        )
    return present


def coverage(
    households: pd.DataFrame,
    access: pd.DataFrame,
    *,
    minutes: int | float | Mapping[str, float] | None = None,
    types: Sequence[ServiceType | str] | None = None,
    by: str = "grid",
    town_of: Mapping[str, str] | None = None,
    target: float | None = None,
) -> pd.DataFrame:
    """Share of residents within reach of each service type, per grid, village, town or county.

    Parameters
    ----------
    households
        Households with ``residents`` and the key of the level (``grid_code``,
        ``village_code``; towns come from ``town_code`` if present, else ``town_of``, else the
        first 9 characters of ``village_code``). Geometry is not used.
    access
        Minutes per type from :func:`service_access` for these households (same index).
    minutes
        Target minutes: None = each type's own (``ServiceType.minutes``), one number for every
        type, or a mapping ``{type name: minutes}`` (types left out keep their own).
    types
        Types to report (names or :class:`~geo.core.settings.ServiceType`); default the settings'
        types that ``access`` has columns for, in the order of its columns.
    by
        ``"grid"``, ``"village"``, ``"town"`` or ``"county"`` (or the key column's name).
    town_of
        ``{village_code: town_code}``, e.g. ``dict(zip(villages.village_code,
        villages.town_code))``, for households without ``town_code``.
    target
        Share of residents a unit should cover (default ``settings.coverage_target``, 0.85).

    Returns
    -------
    pandas.DataFrame
        Long table, one row per unit and type (types in order, then :data:`ALL_ESSENTIAL`
        when an essential type is included): the key column (``grid_code``, ``village_code``,
        ``town_code`` or ``county_code``), ``service_type``, ``target_minutes`` (NaN for the
        combined row, where each type keeps its own), ``households``, ``residents``,
        ``covered_residents``, ``uncovered_residents``, ``coverage`` (share of residents
        covered, NaN where nobody lives), ``nearest_minutes_median`` (residents-weighted lower
        median of the minutes to the nearest service: half the residents reach it within this
        time; for the combined row, of each household's longest trip among the essential
        types) and ``meets_target`` (``coverage >= target``). Households without a location
        or without a unit code count as not covered / are left out respectively.

    Raises
    ------
    InputProblems
        Unknown level, missing columns, ``access`` not matching ``households``, bad minutes.
    """
    problems: list[str] = []
    if not isinstance(households, pd.DataFrame):
        raise InputProblems(
            "compute service coverage",
            [f"households must be a DataFrame, got {type(households).__name__}"],
        )
    resolved = _types_for(access, types, problems)
    targets = _targets(resolved, minutes, problems)
    units = _units(households, by, town_of, problems)
    problems += _access_problems(access, households, resolved)
    goal = get_settings().coverage_target if target is None else float(target)
    if not 0.0 <= goal <= 1.0:
        problems.append(f"target must be a share between 0 and 1, got {target!r}")
    if problems or units is None:
        raise InputProblems("compute service coverage", problems)

    keep = units.codes >= 0
    everyone = bool(keep.all())
    codes = units.codes if everyone else units.codes[keep]
    weights = units.residents if everyone else units.residents[keep]
    groups = _Groups.of(codes, weights, len(units.names))
    share_denominator = np.where(groups.totals > 0, groups.totals, np.nan)

    def table(item: tuple[str, tuple[FloatArray, BoolArray]]) -> pd.DataFrame:
        name, (mins, covered) = item
        covered_res = groups.weighted_sum(covered if everyone else covered[keep])
        share = covered_res / share_denominator
        return pd.DataFrame(
            {
                units.key: units.names,
                "service_type": name,
                "target_minutes": targets.get(name, np.nan),
                "households": groups.counts,
                "residents": groups.totals,
                "covered_residents": covered_res,
                "uncovered_residents": groups.totals - covered_res,
                "coverage": share,
                "nearest_minutes_median": groups.weighted_median(mins if everyone else mins[keep]),
                "meets_target": np.nan_to_num(share, nan=-1.0) >= goal,
            }
        )

    items = list(_covered_matrix(access, resolved, targets).items())
    out = pd.concat(_each(table, items), ignore_index=True)
    out.attrs["coverage_target"] = goal
    return out


def _uncovered(
    households: pd.DataFrame,
    access: pd.DataFrame,
    service_type: str,
    minutes: int | float | Mapping[str, float] | None,
    types: Sequence[ServiceType | str] | None,
    problems: list[str],
) -> BoolArray | None:
    """Which households are not covered for ``service_type`` (or :data:`ALL_ESSENTIAL`)."""
    resolved = _types_for(access, types, problems)
    targets = _targets(resolved, minutes, problems)
    problems += _access_problems(access, households, resolved)
    names = [t.name for t in resolved]
    if any(t.essential for t in resolved):
        names.append(ALL_ESSENTIAL)
    if service_type not in names:
        problems.append(f"service_type must be one of {names}, got {service_type!r}")
    if problems:
        return None
    chosen = [t for t in resolved if t.name == service_type] or list(resolved)
    return ~_covered_matrix(access, chosen, targets)[service_type][1]


def coverage_gaps(
    households: pd.DataFrame,
    access: pd.DataFrame,
    *,
    service_type: str = ALL_ESSENTIAL,
    minutes: int | float | Mapping[str, float] | None = None,
    types: Sequence[ServiceType | str] | None = None,
) -> pd.DataFrame:
    """Grids ranked by residents outside the circle of one service type.

    Parameters
    ----------
    households
        Households with ``grid_code`` and ``residents``.
    access
        Minutes per type from :func:`service_access` (same index as ``households``).
    service_type
        A type name, or :data:`ALL_ESSENTIAL` (not covered = some essential type out of reach).
    minutes, types
        As in :func:`coverage`.

    Returns
    -------
    pandas.DataFrame
        Grids with at least one uncovered resident, most uncovered residents first (ties by
        grid code): ``rank`` (1 = worst), ``grid_code``, ``households``, ``residents``,
        ``uncovered_households``, ``uncovered_residents`` and ``coverage``.
    """
    problems = _frame_problems(households, "households", ("grid_code", "residents"), geo=False)
    if problems:
        raise InputProblems("compute service coverage", problems)
    uncovered = _uncovered(households, access, service_type, minutes, types, problems)
    units = _units(households, "grid", None, problems)
    if problems or uncovered is None or units is None:
        raise InputProblems("compute service coverage", problems)
    keep = units.codes >= 0
    codes, weights, out_ = units.codes[keep], units.residents[keep], uncovered[keep]
    n = len(units.names)
    table = pd.DataFrame(
        {
            "grid_code": units.names,
            "households": np.bincount(codes, minlength=n),
            "residents": np.bincount(codes, weights=weights, minlength=n),
            "uncovered_households": np.bincount(codes, weights=out_, minlength=n).astype(np.int64),
            "uncovered_residents": np.bincount(codes, weights=weights * out_, minlength=n),
        }
    )
    table["coverage"] = 1.0 - table["uncovered_residents"] / table["residents"].where(
        table["residents"] > 0
    )
    table = table[table["uncovered_residents"] > 0].sort_values(
        ["uncovered_residents", "grid_code"], ascending=[False, True], kind="stable"
    )
    table.insert(0, "rank", np.arange(1, len(table) + 1))
    return table.reset_index(drop=True)


def gap_areas(
    grids: gpd.GeoDataFrame,
    households: gpd.GeoDataFrame,
    access: pd.DataFrame,
    *,
    service_type: str = ALL_ESSENTIAL,
    minutes: int | float | Mapping[str, float] | None = None,
    types: Sequence[ServiceType | str] | None = None,
    cell_m: float = 150.0,
) -> gpd.GeoDataFrame:
    """Where the uncovered residents live: per grid, the cells holding uncovered households.

    Each uncovered household marks the ``cell_m`` square centred on the lattice point nearest to
    it (lattice of multiples of ``cell_m`` in the CRS, so households on round coordinates sit in
    cell centres); the marked squares of a grid are merged (squares of one lattice form a clean
    coverage, so the union is exact and fast) and clipped to the grid. Squares beat buffers
    here: no overlaps to union, and a cell reads as "people live here" at village scale. A
    covered household sharing a cell with an uncovered one also lies inside; the counts are of
    uncovered households only.

    Parameters
    ----------
    grids
        Grid polygons with ``grid_code`` in a metric CRS (EPSG:4549, metres).
    households
        Household points in the same CRS with ``grid_code`` and ``residents``.
    access
        Minutes per type from :func:`service_access` (same index as ``households``).
    service_type, minutes, types
        As in :func:`coverage_gaps`.
    cell_m
        Side of the squares in metres. Time grows with the number of marked cells: on the demo
        (240k uncovered households for the essential types) 150 m takes about 0.8 s and 100 m
        about 1.2 s, mostly in the union and the clip.

    Returns
    -------
    geopandas.GeoDataFrame
        One row per grid with uncovered households, most uncovered residents first:
        ``grid_code``, ``uncovered_households``, ``uncovered_residents``, ``area_m2`` and the
        (multi)polygon geometry, in the grids' CRS. Households whose grid is not in ``grids``
        keep unclipped squares.
    """
    problems = _frame_problems(grids, "grids", ("grid_code",))
    problems += _frame_problems(households, "households", ("grid_code", "residents"))
    if not (np.isfinite(cell_m) and cell_m > 0):
        problems.append(f"cell_m must be a positive number of metres, got {cell_m!r}")
    if not problems:
        problems += _same_crs_problem(grids, "grids", households, "households")
    if problems:
        raise InputProblems("compute service coverage", problems)
    uncovered = _uncovered(households, access, service_type, minutes, types, problems)
    xy = _point_xy(households, "households", problems)
    units = _units(households, "grid", None, problems)
    if problems or uncovered is None or units is None:
        raise InputProblems("compute service coverage", problems)

    pick = np.flatnonzero(uncovered & (units.codes >= 0) & np.isfinite(xy).all(axis=1))
    codes = units.codes[pick]
    grid_of, kx, ky = _lattice_cells(codes, xy[pick], cell_m)
    # Edges at (k ± 0.5) · cell_m: neighbours compute the same float for a shared edge.
    squares = shapely.box(
        (kx - 0.5) * cell_m, (ky - 0.5) * cell_m, (kx + 0.5) * cell_m, (ky + 0.5) * cell_m
    )
    starts = np.flatnonzero(np.diff(grid_of, prepend=-1))
    ends = np.append(starts[1:], len(grid_of)) if len(starts) else starts
    owners = grid_of[starts]
    merged = np.empty(len(owners), dtype=object)
    for i, (a, b) in enumerate(zip(starts, ends, strict=True)):
        merged[i] = squares[a] if b - a == 1 else shapely.coverage_union_all(squares[a:b])
    names = units.names[owners]
    grid_geoms = pd.Series(
        np.asarray(grids.geometry.array, dtype=object), index=grids["grid_code"].astype(str)
    )
    grid_geoms = grid_geoms[~grid_geoms.index.duplicated()]
    clip = grid_geoms.reindex(names).to_numpy(dtype=object)
    has = shapely.is_geometry(clip)
    merged[has] = shapely.intersection(merged[has], clip[has])
    n = len(units.names)
    res = units.residents[pick]
    out = gpd.GeoDataFrame(
        {
            "grid_code": names,
            "uncovered_households": np.bincount(codes, minlength=n)[owners],
            "uncovered_residents": np.bincount(codes, weights=res, minlength=n)[owners],
            "area_m2": shapely.area(merged),
        },
        geometry=merged,
        crs=grids.crs,
    )
    out = out.sort_values(
        ["uncovered_residents", "grid_code"], ascending=[False, True], kind="stable"
    )
    return out.reset_index(drop=True)


def _lattice_cells(
    codes: IntArray, xy: FloatArray, cell_m: float
) -> tuple[IntArray, IntArray, IntArray]:
    """Distinct (grid, lattice cell) pairs of points, sorted by grid: cell = rint(xy / cell_m)."""
    if not len(codes):
        empty = np.empty(0, dtype=np.int64)
        return empty, empty, empty
    kx = np.rint(xy[:, 0] / cell_m).astype(np.int64)
    ky = np.rint(xy[:, 1] / cell_m).astype(np.int64)
    x0, y0 = int(kx.min()), int(ky.min())
    nx, ny = int(kx.max()) - x0 + 1, int(ky.max()) - y0 + 1
    key = np.unique((codes * nx + (kx - x0)) * ny + (ky - y0))
    cell = key % (nx * ny)
    return key // (nx * ny), cell // ny + x0, cell % ny + y0


# --------------------------------------------------------------------------- circles


def service_circles(
    services: gpd.GeoDataFrame,
    *,
    minutes: int | float | Mapping[str, float] | None = None,
    mode: str = "walk",
    detour_factor: float | None = None,
    speed_kmh: float | None = None,
    types: Sequence[ServiceType | str] | None = None,
    quad_segs: int = 16,
) -> gpd.GeoDataFrame:
    """Straight-line service circles for display: radius = minutes × speed ÷ detour factor.

    These are the circles of the line engine (a household is inside exactly when
    :func:`travel_minutes` gives it at most ``minutes``), up to the polygon approximation of
    ``quad_segs`` segments per quarter circle.

    Parameters
    ----------
    services
        Service points with ``service_type`` in a metric CRS (EPSG:4549, metres).
    minutes
        None = each type's own target, one number for all, or ``{type name: minutes}``.
    mode, detour_factor, speed_kmh
        As in :func:`travel_minutes`.
    types
        Types to draw (default ``settings.service_types``); rows of other types are left out.
    quad_segs
        Segments per quarter circle.

    Returns
    -------
    geopandas.GeoDataFrame
        A copy of the service rows of those types with ``minutes``, ``speed_kmh``,
        ``radius_m`` and the circle as geometry, in the services' CRS.
    """
    problems = _frame_problems(services, "services", ("service_type",))
    problems += _speed_problems(mode, speed_kmh, detour_factor, "line")
    resolved = _resolve_types(types, problems)
    targets = _targets(resolved, minutes, problems)
    if problems:
        raise InputProblems("compute service coverage", problems)
    speed = _speed(mode, speed_kmh)
    detour = get_settings().detour_factor if detour_factor is None else float(detour_factor)
    kinds = services["service_type"].astype(str)
    out = services[kinds.isin(list(targets)).to_numpy()].copy()
    out["minutes"] = out["service_type"].astype(str).map(targets).astype(float)
    out["speed_kmh"] = speed
    out["radius_m"] = out["minutes"] * speed * 1000.0 / 60.0 / detour
    circles: Any = shapely.buffer(
        np.asarray(out.geometry.array, dtype=object),
        out["radius_m"].to_numpy(),
        quad_segs=quad_segs,
    )
    return out.set_geometry(gpd.GeoSeries(circles, index=out.index, crs=services.crs))


def every_unit(table: pd.DataFrame, codes: pd.Series | list[str]) -> pd.DataFrame:
    """:func:`coverage`'s ``table`` with a row for every unit of ``codes`` and type.

    A grid where nobody lives (a market, a park, a new estate) has no household and so no row
    in ``table``; here it gets one with 0 households and residents, nothing covered,
    ``coverage`` and ``nearest_minutes_median`` NaN (no one to cover) and ``meets_target``
    false — so a file of coverage per grid has one row per grid. Units of ``table`` not in
    ``codes`` are kept; the added rows follow each type's rows.
    """
    key = next((c for c in LEVELS.values() if c in table.columns), None)
    if key is None:
        raise InputProblems("list coverage per unit", "the table has no unit code column")
    wanted = pd.Index(pd.Series(codes, dtype=object).astype(str).unique())
    parts = []
    for kind, part in table.groupby("service_type", sort=False):
        missing = wanted.difference(part[key].astype(str))
        if not len(missing):
            parts.append(part)
            continue
        blank = pd.DataFrame({key: missing, "service_type": kind})
        blank["target_minutes"] = part["target_minutes"].iloc[0] if len(part) else np.nan
        for col in ("households", "residents", "covered_residents", "uncovered_residents"):
            blank[col] = 0
        blank["coverage"] = np.nan
        blank["nearest_minutes_median"] = np.nan
        blank["meets_target"] = False
        parts.append(pd.concat([part, blank[part.columns]], ignore_index=True))
    if not parts:
        return table
    out = pd.concat(parts, ignore_index=True)
    for col in ("households", "residents", "covered_residents", "uncovered_residents"):
        out[col] = out[col].astype(table[col].dtype)
    return out
