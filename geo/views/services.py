"""What the 15分钟服务圈 page shows: coverage of one service type, its gaps, and new sites."""

from __future__ import annotations

import functools
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import scipy.sparse as sp

from geo.core.settings import DISPLAY_CRS, get_settings
from geo.services.coverage import ALL_ESSENTIAL, coverage, gap_areas, service_access
from geo.services.network import RoadNetwork
from geo.services.siting import (
    CandidateSource,
    SitingResult,
    candidates,
    coverage_matrix,
    exact_lscp,
    exact_mclp,
    greedy_lscp,
    greedy_mclp,
    straight_line_radius_m,
)
from geo.store.county import County
from geo.store.readers import write_output


@dataclass
class ServiceView:
    """Coverage of one service type (or every essential type) for a town or the county.

    Attributes
    ----------
    grids
        Grids in scope (EPSG:4549) with ``residents``, ``covered_residents``,
        ``uncovered_residents``, ``coverage`` (0–1, NaN where nobody lives) and
        ``nearest_minutes_median``, plus the grid's names and worker.
    towns
        Every town's coverage (``town_code``, ``town_name``, ``residents``,
        ``covered_residents``, ``coverage``, ``meets_target``), lowest coverage first.
    county
        The county's row: ``residents``, ``covered_residents``, ``coverage``, ``meets_target``.
    scope
        The same for the town or village in scope (the county when none is chosen).
    gaps
        Grids in scope with uncovered residents, most uncovered first.
    gap_areas
        Where the uncovered residents of the scope live (polygons with ``residents``).
    services
        Service points of the type(s) in scope (a 3 km margin: the nearest point may lie in
        the next town).
    radius_m
        Straight-line circle radius (the line engine), ``None`` for the road network.
    target
        The coverage target share (0.85).
    """

    grids: gpd.GeoDataFrame
    towns: pd.DataFrame
    county: pd.Series
    scope: pd.Series
    gaps: pd.DataFrame
    gap_areas: gpd.GeoDataFrame
    services: gpd.GeoDataFrame
    radius_m: float | None
    target: float


def service_minutes(service_type: str, minutes: float | None) -> float | None:
    """Target minutes of a type: ``minutes`` when given, else the type's own (None = each
    essential type its own, for :data:`ALL_ESSENTIAL`)."""
    if minutes is not None:
        return float(minutes)
    if service_type == ALL_ESSENTIAL:
        return None
    for kind in get_settings().service_types:
        if kind.name == service_type:
            return float(kind.minutes)
    raise ValueError(
        f"unknown service type {service_type!r}; the settings know "
        f"{[k.name for k in get_settings().service_types]} and {ALL_ESSENTIAL!r}"
    )


def service_view(
    data: County,
    households: gpd.GeoDataFrame,
    access: pd.DataFrame,
    *,
    service_type: str,
    minutes: float | None = None,
    town_code: str | None = None,
    village_code: str | None = None,
) -> ServiceView:
    """Coverage of ``service_type`` within ``minutes`` (None: the type's own target).

    ``access`` is :func:`geo.services.coverage.service_access` for ``households`` (all types, one
    mode
    and engine); its ``attrs`` say which mode and engine.
    """
    cfg = get_settings()
    wanted = service_minutes(service_type, minutes)
    kinds = _kinds(service_type)
    access = access[kinds]  # only the columns this view needs (coverage is per column)
    table = coverage(households, access, minutes=wanted, by="grid")
    per_grid = table[table["service_type"] == service_type].drop(columns="service_type")
    grids = data.grids.drop(columns=["households", "residents"]).merge(
        per_grid, on="grid_code", how="left"
    )
    grids["village_name"] = grids.village_code.map(
        data.villages.set_index("village_code")["village_name"]
    )
    grids["town_name"] = grids.town_code.map(data.towns.set_index("town_code")["town_name"])
    sums = ["residents", "covered_residents"]
    towns = (
        grids.groupby("town_code", as_index=False)[sums]
        .sum()
        .merge(data.towns[["town_code", "town_name"]], on="town_code", how="left")
    )
    towns = _shares(towns, cfg.coverage_target).sort_values("coverage").reset_index(drop=True)
    county = _shares(grids[sums].sum().to_frame().T, cfg.coverage_target).iloc[0]
    keep = np.ones(len(grids), dtype=bool)
    if town_code:
        keep &= (grids["town_code"] == town_code).to_numpy()
    if village_code:
        keep &= (grids["village_code"] == village_code).to_numpy()
    grids = grids[keep].reset_index(drop=True)
    scope = _shares(grids[sums].sum().to_frame().T, cfg.coverage_target).iloc[0]
    gaps = (
        pd.DataFrame(grids.drop(columns="geometry"))
        .query("uncovered_residents > 0")
        .sort_values(["uncovered_residents", "grid_code"], ascending=[False, True])
        .reset_index(drop=True)
    )
    in_scope = households["grid_code"].isin(grids["grid_code"]).to_numpy()
    areas = gap_areas(
        grids,
        households[in_scope],
        access[in_scope],
        service_type=service_type,
        minutes=wanted,
    )
    return ServiceView(
        grids=gpd.GeoDataFrame(grids, geometry="geometry", crs=data.grids.crs),
        towns=towns,
        county=county,
        scope=scope,
        gaps=gaps,
        gap_areas=areas,
        services=_services_near(data.service_points, service_type, grids),
        radius_m=_radius(access, wanted),
        target=cfg.coverage_target,
    )


def _kinds(service_type: str) -> list[str]:
    """The access columns a view of ``service_type`` needs."""
    if service_type == ALL_ESSENTIAL:
        return [k.name for k in get_settings().service_types if k.essential]
    service_minutes(service_type, None)  # raises for an unknown type
    return [service_type]


def _shares(table: pd.DataFrame, target: float) -> pd.DataFrame:
    """Add ``coverage`` (NaN without residents) and ``meets_target`` to summed rows."""
    residents = table["residents"].astype(float)
    share = table["covered_residents"] / residents.where(residents > 0)
    return table.assign(coverage=share, meets_target=share >= target)


def _services_near(
    services: gpd.GeoDataFrame, service_type: str, grids: gpd.GeoDataFrame, margin_m: float = 3000
) -> gpd.GeoDataFrame:
    mine = services[services["service_type"].isin(_kinds(service_type))]
    if not len(grids):
        return mine.iloc[:0]
    west, south, east, north = grids.total_bounds
    x, y = mine.geometry.x.to_numpy(), mine.geometry.y.to_numpy()
    near = (
        (x >= west - margin_m)
        & (x <= east + margin_m)
        & (y >= south - margin_m)
        & (y <= north + margin_m)
    )
    return mine[near].reset_index(drop=True)


def _radius(access: pd.DataFrame, minutes: float | None) -> float | None:
    """Circle radius of the line engine for one target (None for the network or mixed)."""
    if access.attrs.get("engine", "line") != "line" or minutes is None:
        return None
    return straight_line_radius_m(
        minutes=minutes,
        mode=str(access.attrs.get("mode", "walk")),
        detour_factor=access.attrs.get("detour_factor"),
    )


@dataclass
class Proposal:
    """New sites for one service type in a town or the county.

    Attributes
    ----------
    result
        The siting answer (greedy for up to ``k_max`` sites, or the CBC optimum for one k).
    candidates
        The candidate points (EPSG:4549); ``result.chosen`` indexes them.
    residents
        Residents in scope (the share's denominator).
    """

    result: SitingResult
    candidates: gpd.GeoDataFrame
    residents: float
    _exports: dict[tuple[int, str], bytes] = field(default_factory=dict, repr=False)

    def sites(self, k: int) -> gpd.GeoDataFrame:
        """The first ``k`` proposed sites with ``rank`` and ``added_residents``."""
        chosen = self.result.chosen[:k]
        gains = np.diff(np.concatenate([[self.result.covered_before], self.result.curve]))[:k]
        out = self.candidates.iloc[chosen].reset_index(drop=True)
        return out.assign(rank=np.arange(1, len(out) + 1), added_residents=gains.round())

    def export(self, k: int, suffix: str) -> bytes:
        """The first ``k`` sites as a file's bytes: ``.gpkg`` (EPSG:4549) or ``.csv`` (UTF-8
        with BOM, ``lon``/``lat`` in WGS84 and ``x``/``y`` in metres)."""
        if (k, suffix) in self._exports:
            return self._exports[(k, suffix)]
        sites = self.sites(k)
        lonlat = sites.geometry.to_crs(DISPLAY_CRS)
        sites = sites.assign(lon=lonlat.x.round(6), lat=lonlat.y.round(6))
        with tempfile.TemporaryDirectory() as folder:
            path = write_output(sites, Path(folder) / f"proposals{suffix}", layer="proposals")
            self._exports[(k, suffix)] = path.read_bytes()
        return self._exports[(k, suffix)]

    def covered(self, k: int) -> float:
        """Residents covered with the first ``k`` sites added."""
        if k <= 0 or not len(self.result.curve):
            return float(self.result.covered_before)
        return float(self.result.curve[min(k, len(self.result.curve)) - 1])


def propose(
    data: County,
    households: gpd.GeoDataFrame,
    access: pd.DataFrame,
    *,
    service_type: str,
    minutes: float | None = None,
    k: int,
    source: CandidateSource = "villages",
    town_code: str | None = None,
    network: RoadNetwork | None = None,
    exact: bool = False,
    time_limit_s: float = 60.0,
) -> Proposal:
    """Up to ``k`` new sites of ``service_type`` covering the most residents still outside.

    Existing service points stay (the residents they reach count as covered, from
    ``access``). Candidates are the village centres or grid centroids of the town (or the
    county). The cover matrix follows ``access``'s engine: straight line with the detour
    factor, or the road network (``network`` must be given). Greedy by default (its curve
    answers every budget up to ``k``); ``exact`` solves for ``k`` with CBC.
    """
    if service_type == ALL_ESSENTIAL:
        raise ValueError("siting is for one service type; pick a type, not all essential ones")
    wanted = service_minutes(service_type, minutes)
    assert wanted is not None
    layer = data.villages if source == "villages" else data.grids
    if town_code:
        layer = layer[layer["town_code"] == town_code]
        households = households[households["village_code"].str.startswith(town_code)]
    sites = candidates(layer, source=source)
    result = plan_sites(
        households,
        access,
        sites,
        service_type=service_type,
        minutes=wanted,
        k=k,
        network=network,
        exact=exact,
    )
    return Proposal(result, sites, result.total_weight)


def plan_sites(
    households: gpd.GeoDataFrame,
    access: pd.DataFrame,
    sites: gpd.GeoDataFrame,
    *,
    service_type: str,
    minutes: float,
    k: int | None = None,
    target_share: float | None = None,
    network: RoadNetwork | None = None,
    exact: bool = False,
) -> SitingResult:
    """New sites of one service type from any candidate table, for a budget or a target share.

    Shared by the page (:func:`propose`) and ``python -m geo site``; it also answers the
    fewest sites for a share. Existing service points stay: households whose ``access`` minutes are
    within ``minutes`` count as covered. The cover matrix of the other households follows
    ``access``'s engine: straight line with its detour factor, or ``network``'s reach within
    ``minutes``. Households without a location can be reached by no site.

    Parameters
    ----------
    households
        Household points in EPSG:4549 (metres) with ``residents`` (the weights; unreadable
        values count as 0, as in :func:`geo.services.coverage.coverage`).
    access
        :func:`geo.services.coverage.service_access` with a ``service_type`` column, indexed like
        ``households`` or a superset of them (a town's households against the county's table).
    sites
        Candidate sites from :func:`geo.services.siting.candidates` (``x``/``y`` in metres).
    service_type
        The type being planned.
    minutes
        Target travel minutes.
    k, target_share
        Exactly one: a budget of new sites (MCLP) or the share of residents to reach (LSCP).
    network
        The road network ``access`` was computed on (``engine="network"``).
    exact
        Solve with CBC instead of greedy.

    Returns
    -------
    geo.services.siting.SitingResult
        Weights in residents; shares of all households' residents.
    """
    if (k is None) == (target_share is None):
        raise ValueError(f"give exactly one of k or target_share, got {k!r} and {target_share!r}")
    minutes_to = access[service_type]
    if not minutes_to.index.equals(households.index):
        # a town's households against the county's access table: take their rows
        minutes_to = minutes_to.reindex(households.index)
    covered = minutes_to.to_numpy(dtype=np.float64, na_value=np.nan) <= minutes
    geoms = households.geometry
    hxy = np.column_stack([geoms.x.to_numpy(), geoms.y.to_numpy()])
    open_rows = np.flatnonzero(~covered & np.isfinite(hxy).all(axis=1))
    cxy = sites[["x", "y"]].to_numpy(dtype=np.float64)
    mode = str(access.attrs.get("mode", "walk"))
    if access.attrs.get("engine", "line") == "network":
        if network is None:
            raise ValueError("the access table is from the road network: pass network=")
        speed = float(access.attrs.get("speed_kmh") or get_settings().travel_speeds_kmh[mode])
        part = network.reach_matrix(hxy[open_rows], cxy, speed_kmh=speed, minutes=minutes)
    else:
        radius = straight_line_radius_m(
            minutes=minutes, mode=mode, detour_factor=access.attrs.get("detour_factor")
        )
        part = coverage_matrix(hxy[open_rows], cxy, radius_m=radius)
    hits = sp.coo_matrix(part)
    cover = sp.csr_matrix(
        (hits.data, (open_rows[hits.row], hits.col)), shape=(len(households), len(sites))
    )
    residents = pd.to_numeric(households["residents"], errors="coerce").fillna(0.0)
    weights = residents.to_numpy(dtype=np.float64)
    if k is not None:
        solve_k = exact_mclp if exact else greedy_mclp
        return solve_k(weights, cover, k=k, covered_already=covered)
    assert target_share is not None  # exactly one of the two, checked above
    solve_share = exact_lscp if exact else greedy_lscp
    return solve_share(weights, cover, target_share=target_share, covered_already=covered)


class ServiceCircles:
    """A county's households, road network and travel minutes, each computed once.

    The page keeps one per county: ``access`` is computed once per mode and engine (about
    0.5 s for 348,117 households and seven types), views and proposals once per choice.
    """

    def __init__(self, data: County) -> None:
        self.data = data
        households = data.layer("households")
        if households is None:
            raise ValueError(f"{data.store_location}: no households layer; import it first")
        self.households = households
        roads = data.layer("roads")
        self.network = RoadNetwork.from_lines(roads) if roads is not None and len(roads) else None

    @functools.lru_cache(maxsize=8)  # noqa: B019 (one instance per county, kept for the app)
    def access(self, mode: str, engine: str) -> pd.DataFrame:
        """Minutes from every household to each service type (:func:`service_access`)."""
        return service_access(
            self.households,
            self.data.service_points,
            mode=mode,
            engine=engine,
            network=self.network,
        )

    @functools.lru_cache(maxsize=32)  # noqa: B019
    def view(
        self,
        service_type: str,
        minutes: float | None,
        mode: str,
        engine: str,
        town_code: str | None = None,
        village_code: str | None = None,
    ) -> ServiceView:
        """:func:`service_view` for one choice."""
        return service_view(
            self.data,
            self.households,
            self.access(mode, engine),
            service_type=service_type,
            minutes=minutes,
            town_code=town_code,
            village_code=village_code,
        )

    @functools.lru_cache(maxsize=16)  # noqa: B019
    def propose(
        self,
        service_type: str,
        minutes: float | None,
        mode: str,
        engine: str,
        *,
        k: int,
        source: CandidateSource = "grids",
        town_code: str | None = None,
        exact: bool = False,
    ) -> Proposal:
        """:func:`propose` for one choice."""
        return propose(
            self.data,
            self.households,
            self.access(mode, engine),
            service_type=service_type,
            minutes=minutes,
            k=k,
            source=source,
            town_code=town_code,
            network=self.network,
            exact=exact,
        )
