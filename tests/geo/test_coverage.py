"""Known-answer tests for geo.services.coverage: minutes to the nearest service, coverage and
gaps."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from scipy.spatial import cKDTree

from geo.core.errors import InputProblems
from geo.core.settings import ServiceType
from geo.services.coverage import (
    ALL_ESSENTIAL,
    coverage,
    coverage_gaps,
    gap_areas,
    service_access,
    service_circles,
    travel_minutes,
)
from geo.services.network import RoadNetwork

METRIC = "EPSG:4549"
# Lower-left household of the lattice: inside Sheyang in CGCS2000 / 3-degree GK CM 120E.
X0, Y0 = 524_000.0, 3_737_000.0
T1, T2 = "320924101", "320924102"
V1, V2 = T1 + "001", T2 + "001"  # west half (i < 5) in town 1, east half in town 2
SW, NW, SE, NE = V1 + "001", V1 + "002", V2 + "001", V2 + "002"
PARTY = "党群服务中心"  # 15 min, essential
ELDERLY = "养老服务站"  # 10 min, essential
SCHOOL = "学校"  # 15 min, not essential
WALK_M_PER_MIN = 75.0  # 4.5 km/h

# Households of the 10 × 10 lattice (i, j) = 100 m × (i, j) from the corner service at (0, 0)
# within 15 walking minutes, straight line (detour 1): i² + j² ≤ 11.25² = 126.5625.
#   i = 0..6: every j (6² + 9² = 117)     -> 7 × 10 = 70
#   i = 7: j ≤ 8 (49 + 64 = 113; +81 = 130) -> 9
#   i = 8: j ≤ 7 (64 + 49 = 113; +64 = 128) -> 8
#   i = 9: j ≤ 6 (81 + 36 = 117; +49 = 130) -> 7          total 94
# Per quadrant (5 × 5 each): SW, NW, SE all 25 (largest 4² + 9² = 97); NE (i, j ≥ 5): i = 5, 6
# all five j, i = 7: j 5..8 (4), i = 8: j 5..7 (3), i = 9: j 5..6 (2) -> 19.
COVERED_15 = 94
COVERED_15_BY_GRID = {SW: 25, NW: 25, SE: 25, NE: 19}
# Within 10 minutes (750 m): i² + j² ≤ 56.25, i.e. ≤ 56: per i = 0..7: 8, 8, 8, 7, 7, 6, 5, 3.
COVERED_10 = 52
# With detour 1.3 (865.38 m): i² + j² ≤ 74.88: per i = 0..8: 9, 9, 9, 9, 8, 8, 7, 6, 4 = 69;
# uncovered per quadrant SW 0, NW 6, SE 6, NE 19.
UNCOVERED_DETOUR_BY_GRID = {SW: 0, NW: 6, SE: 6, NE: 19}
RESIDENTS = 2  # per household


def lattice_households(crs: str = METRIC) -> gpd.GeoDataFrame:
    """10 × 10 households 100 m apart, 2 residents each, in 4 grids, 2 villages, 2 towns."""
    i, j = np.meshgrid(np.arange(10), np.arange(10), indexing="ij")
    i, j = i.ravel(), j.ravel()
    village = np.where(i < 5, V1, V2)
    grid = np.char.add(village.astype(str), np.where(j < 5, "001", "002"))
    return gpd.GeoDataFrame(
        {
            "household_id": [f"H{k:03d}" for k in range(100)],
            "residents": RESIDENTS,
            "village_code": village,
            "grid_code": grid,
            "i": i,
            "j": j,
        },
        geometry=gpd.points_from_xy(X0 + 100.0 * i, Y0 + 100.0 * j),
        crs=crs,
    )


def lattice_grids() -> gpd.GeoDataFrame:
    """The four 500 m quadrants holding the lattice (households sit 50 m inside the edges)."""
    boxes = {
        SW: (-50, -50, 450, 450),
        NW: (-50, 450, 450, 950),
        SE: (450, -50, 950, 450),
        NE: (450, 450, 950, 950),
    }
    return gpd.GeoDataFrame(
        {"grid_code": list(boxes)},
        geometry=[shapely.box(X0 + a, Y0 + b, X0 + c, Y0 + d) for a, b, c, d in boxes.values()],
        crs=METRIC,
    )


def services_at(rows: list[tuple[str, float, float]], crs: str = METRIC) -> gpd.GeoDataFrame:
    """Service points ``(type, dx, dy)`` relative to the lattice corner."""
    return gpd.GeoDataFrame(
        {
            "service_id": [f"S{k:02d}" for k in range(len(rows))],
            "service_type": [r[0] for r in rows],
        },
        geometry=gpd.points_from_xy([X0 + r[1] for r in rows], [Y0 + r[2] for r in rows]),
        crs=crs,
    )


def row(table: pd.DataFrame, key: str, value: str, service_type: str) -> pd.Series:
    hit = table[(table[key] == value) & (table["service_type"] == service_type)]
    assert len(hit) == 1, hit
    return hit.iloc[0]


# --------------------------------------------------------------------------- travel minutes


def test_straight_line_minutes_on_the_lattice():
    homes = lattice_households()
    xy = shapely.get_coordinates(homes.geometry.array)
    minutes, index = travel_minutes(xy, np.array([[X0, Y0]]), detour_factor=1.0)
    expected = np.hypot(100.0 * homes["i"], 100.0 * homes["j"]).to_numpy() / WALK_M_PER_MIN
    np.testing.assert_allclose(minutes, expected, rtol=0, atol=1e-9)
    assert (index == 0).all()
    assert int((minutes <= 15).sum()) == COVERED_15
    assert int((minutes <= 10).sum()) == COVERED_10


def test_exactly_on_the_circle_counts_as_covered():
    origins = np.array([[X0 + 1125.0, Y0], [X0 + 1125.001, Y0], [X0, Y0 - 1125.0]])
    minutes, _ = travel_minutes(origins, np.array([[X0, Y0]]), detour_factor=1.0)
    assert minutes[0] == 15.0
    assert minutes[2] == 15.0
    assert minutes[1] > 15.0


def test_detour_speed_and_mode():
    origin, service = np.array([[X0 + 1000.0, Y0]]), np.array([[X0, Y0]])
    walk, _ = travel_minutes(origin, service)  # default detour 1.3
    ebike, _ = travel_minutes(origin, service, mode="ebike", detour_factor=1.0)
    fixed, _ = travel_minutes(origin, service, speed_kmh=6.0, detour_factor=2.0)
    assert walk[0] == pytest.approx(1000 * 1.3 / WALK_M_PER_MIN)
    assert ebike[0] == pytest.approx(1000 / 300.0)  # 18 km/h = 300 m/min
    assert fixed[0] == pytest.approx(20.0)  # 2 km at 100 m/min


def test_nearest_index_and_services_with_missing_coordinates():
    services = np.array([[np.nan, np.nan], [X0, Y0], [X0 + 900.0, Y0]])
    origins = np.array([[X0 + 100.0, Y0], [X0 + 800.0, Y0], [np.nan, Y0]])
    minutes, index = travel_minutes(origins, services, detour_factor=1.0)
    assert index.tolist() == [1, 2, -1]
    np.testing.assert_allclose(minutes[:2], [100 / 75, 100 / 75])
    assert np.isnan(minutes[2])


def test_no_service_gives_infinite_minutes():
    minutes, index = travel_minutes(np.array([[X0, Y0]]), np.empty((0, 2)))
    assert np.isinf(minutes).all()
    assert index.tolist() == [-1]


@pytest.mark.parametrize("seed", range(6))
def test_line_engine_equals_a_kd_tree_query(seed):
    """Clustered services (a ring around a dense village, a town cluster, sparse ones) give the
    cell screening long candidate lists and cells it must hand back to the tree."""
    rng = np.random.default_rng(seed)
    ring = rng.uniform(0, 2 * np.pi, 60)
    services = np.concatenate(
        [
            np.column_stack([600 * np.cos(ring), 600 * np.sin(ring)]),
            rng.normal(3000, 50, (40, 2)),
            rng.uniform(-20_000, 20_000, (int(rng.integers(1, 30)), 2)),
        ]
    ) + np.array([X0, Y0])
    origins = np.concatenate(
        [
            rng.normal(0, 300, (3000, 2)),
            rng.normal(3000, 400, (2000, 2)),
            rng.uniform(-25_000, 25_000, (3000, 2)),
        ]
    ) + np.array([X0, Y0])
    minutes, index = travel_minutes(origins, services, detour_factor=1.0, speed_kmh=60.0)
    dist, _ = cKDTree(services).query(origins)
    np.testing.assert_allclose(minutes * 1000.0, dist, rtol=0, atol=1e-6)
    np.testing.assert_allclose(np.hypot(*(origins - services[index]).T), dist, atol=1e-6)


class FakeNetwork:
    """Answers 7 minutes for every origin except the last (unreachable); records the calls."""

    def __init__(self) -> None:
        self.calls: list[tuple[np.ndarray, np.ndarray, float]] = []

    def nearest_minutes(
        self, origins_xy: np.ndarray, facilities_xy: np.ndarray, *, speed_kmh: float
    ) -> tuple[np.ndarray, np.ndarray]:
        self.calls.append((np.array(origins_xy), np.array(facilities_xy), speed_kmh))
        n = len(origins_xy)
        minutes = np.full(n, 7.0)
        index = np.zeros(n, dtype=np.int64)
        minutes[-1], index[-1] = np.inf, -1
        return minutes, index


def test_network_engine_delegates_to_the_network():
    net = FakeNetwork()
    origins = np.array([[X0, Y0], [X0 + 5.0, Y0], [X0 + 9.0, Y0]])
    services = np.array([[X0 + 1.0, Y0 + 1.0]])
    minutes, index = travel_minutes(
        origins, services, mode="ebike", engine="network", network=net, detour_factor=3.0
    )
    assert minutes.tolist() == [7.0, 7.0, np.inf]
    assert index.tolist() == [0, 0, -1]
    ((got_origins, got_services, speed),) = net.calls
    np.testing.assert_array_equal(got_origins, origins)
    np.testing.assert_array_equal(got_services, services)
    assert speed == 18.0


def test_service_access_with_the_network_engine_calls_once_per_type_with_services():
    net = FakeNetwork()
    homes = lattice_households()
    services = services_at([(PARTY, 0, 0), (PARTY, 900, 900), (ELDERLY, 100, 100)])
    access = service_access(
        homes, services, types=[PARTY, ELDERLY, SCHOOL], engine="network", network=net
    )
    assert len(net.calls) == 2  # no school: no call, infinite minutes
    # types run side by side on threads, so the calls come in either order
    assert sorted(len(c[1]) for c in net.calls) == [1, 2]  # 2 party centres, 1 elderly station
    assert all(c[2] == 4.5 for c in net.calls)
    assert (access[PARTY].iloc[:-1] == 7.0).all() and np.isinf(access[PARTY].iloc[-1])
    assert np.isinf(access[SCHOOL]).all()
    assert access.attrs["engine"] == "network"


def test_real_road_network_fits_the_protocol():
    road = gpd.GeoDataFrame(
        geometry=[shapely.LineString([(X0, Y0), (X0 + 2000.0, Y0)])], crs=METRIC
    )
    roads = RoadNetwork.from_lines(road)
    origins = np.array([[X0 + 600.0, Y0], [X0 + 1500.0, Y0]])  # on nodes (every 100 m)
    minutes, index = travel_minutes(origins, np.array([[X0, Y0]]), engine="network", network=roads)
    np.testing.assert_allclose(minutes, [8.0, 20.0])
    assert index.tolist() == [0, 0]


# --------------------------------------------------------------------------- coverage


def lattice_access(detour: float = 1.0, **kwargs) -> tuple[gpd.GeoDataFrame, pd.DataFrame]:
    homes = lattice_households()
    services = services_at([(PARTY, 0, 0), (ELDERLY, 0, 0)])
    access = service_access(
        homes, services, types=[PARTY, ELDERLY, SCHOOL], detour_factor=detour, **kwargs
    )
    return homes, access


def test_service_access_one_column_per_type_indexed_like_households():
    homes, access = lattice_access()
    assert list(access.columns) == [PARTY, ELDERLY, SCHOOL]
    assert access.index.equals(homes.index)
    assert int((access[PARTY] <= 15).sum()) == COVERED_15
    assert access.attrs == {
        "mode": "walk",
        "engine": "line",
        "speed_kmh": 4.5,
        "detour_factor": 1.0,
    }


def test_county_coverage_counted_by_hand():
    homes, access = lattice_access()
    table = coverage(homes, access, by="county")
    party = row(table, "county_code", "320924", PARTY)
    assert party["households"] == 100
    assert party["residents"] == 200
    assert party["covered_residents"] == COVERED_15 * RESIDENTS
    assert party["uncovered_residents"] == (100 - COVERED_15) * RESIDENTS
    assert party["coverage"] == pytest.approx(0.94)
    assert party["target_minutes"] == 15
    assert bool(party["meets_target"])  # 0.94 >= 0.85
    elderly = row(table, "county_code", "320924", ELDERLY)
    assert elderly["covered_residents"] == COVERED_10 * RESIDENTS  # its own 10-minute target
    assert not bool(elderly["meets_target"])
    # Essential types here are 党群服务中心 (15 min) and 养老服务站 (10 min), both at the corner.
    both = row(table, "county_code", "320924", ALL_ESSENTIAL)
    assert both["covered_residents"] == COVERED_10 * RESIDENTS
    assert np.isnan(both["target_minutes"])
    assert list(table["service_type"]) == [PARTY, ELDERLY, SCHOOL, ALL_ESSENTIAL]


def test_coverage_per_grid_counted_by_hand():
    homes, access = lattice_access()
    table = coverage(homes, access, types=[PARTY])
    table = table[table["service_type"] == PARTY]
    got = dict(zip(table["grid_code"], table["covered_residents"] / RESIDENTS, strict=True))
    assert got == COVERED_15_BY_GRID
    assert list(table["grid_code"]) == [SW, NW, SE, NE]  # sorted codes


def test_one_minutes_for_every_type_and_per_type_overrides():
    homes, access = lattice_access()
    same = coverage(homes, access, by="county", minutes=10)
    assert row(same, "county_code", "320924", PARTY)["covered_residents"] == COVERED_10 * 2
    mixed = coverage(homes, access, by="county", minutes={ELDERLY: 15})
    assert row(mixed, "county_code", "320924", ELDERLY)["covered_residents"] == COVERED_15 * 2
    assert row(mixed, "county_code", "320924", PARTY)["target_minutes"] == 15


def test_levels_add_up():
    homes = lattice_households()
    rng = np.random.default_rng(7)
    kinds = ["党群服务中心", "非诉讼服务中心", "新时代文明实践站", "卫生室", "学校", "养老服务站"]
    services = services_at(
        [(str(rng.choice(kinds)), *rng.uniform(-500, 1500, 2)) for _ in range(12)]
    )
    access = service_access(homes, services)
    tables = {by: coverage(homes, access, by=by) for by in ("grid", "village", "town", "county")}
    assert len(tables["grid"]) == 4 * 8 and len(tables["village"]) == 2 * 8
    assert len(tables["town"]) == 2 * 8 and len(tables["county"]) == 8
    sums = {
        by: t.groupby("service_type", sort=False)[["residents", "covered_residents"]].sum()
        for by, t in tables.items()
    }
    for by in ("village", "town", "county"):
        pd.testing.assert_frame_equal(sums[by], sums["grid"])
    assert (sums["grid"]["residents"] == 200).all()
    assert set(tables["town"]["town_code"]) == {T1, T2}


def test_towns_from_a_mapping_or_a_column():
    homes, access = lattice_access()
    merged = coverage(homes, access, by="town", town_of={V1: T1, V2: T1}, types=[SCHOOL])
    assert merged["town_code"].tolist() == [T1]
    assert merged["residents"].tolist() == [200]
    with_column = homes.assign(town_code="320924999")
    table = coverage(with_column, access, by="town_code", types=[SCHOOL])
    assert table["town_code"].tolist() == ["320924999"]


def test_village_coverage():
    homes, access = lattice_access()
    table = coverage(homes, access, by="village", types=[PARTY])
    # The only essential type given is 党群服务中心, so the combined rows repeat its figures.
    assert table["service_type"].tolist() == [PARTY, PARTY, ALL_ESSENTIAL, ALL_ESSENTIAL]
    assert table["village_code"].tolist() == [V1, V2, V1, V2]
    assert table["covered_residents"].tolist() == [50 * 2, 44 * 2] * 2  # 25 + 25, 25 + 19


def test_type_without_services_has_zero_coverage():
    homes, access = lattice_access()
    table = coverage(homes, access, by="grid", types=[SCHOOL])
    assert (table["coverage"] == 0).all()
    assert (table["covered_residents"] == 0).all()
    assert np.isinf(table["nearest_minutes_median"]).all()
    assert not table["meets_target"].any()


def test_all_essential_needs_every_essential_type_within_its_own_target():
    a, b = ServiceType("甲", 15, True), ServiceType("乙", 5, True)
    c = ServiceType("丙", 15, False)
    homes = gpd.GeoDataFrame(
        {"residents": [1, 2, 3, 4, 5], "grid_code": "g", "village_code": V1},
        geometry=gpd.points_from_xy(
            [X0, X0 + 10_000, X0 + 20_000, X0 + 30_000, X0 + 40_000], [Y0] * 5
        ),
        crs=METRIC,
    )
    services = services_at(
        [
            ("甲", 0, 0), ("乙", 0, 0),  # house 0: both
            ("甲", 10_000, 0),  # house 1: 甲 only
            ("乙", 20_000, 0),  # house 2: 乙 only
            ("丙", 30_000, 0),  # house 3: only the non-essential 丙
            ("甲", 40_000, 0), ("乙", 40_000, 600),  # house 4: 乙 is 8 min away, over its 5
        ]
    )  # fmt: skip
    access = service_access(homes, services, types=[a, b, c], detour_factor=1.0)
    table = coverage(homes, access, types=[a, b, c], by="county").set_index("service_type")
    assert table.loc["甲", "covered_residents"] == 1 + 2 + 5
    assert table.loc["乙", "covered_residents"] == 1 + 3
    assert table.loc["丙", "covered_residents"] == 4
    assert table.loc[ALL_ESSENTIAL, "covered_residents"] == 1
    # No essential type among the types: no combined row.
    only_c = coverage(homes, access, types=[c], by="county")
    assert ALL_ESSENTIAL not in set(only_c["service_type"])


def test_median_is_residents_weighted():
    # Minutes 1, 2 and 10 (75, 150 and 750 m from the service, walking, detour 1).
    homes = gpd.GeoDataFrame(
        {"residents": [1, 1, 5], "grid_code": "g", "village_code": V1},
        geometry=gpd.points_from_xy([X0 + 75, X0 + 150, X0 + 750], [Y0] * 3),
        crs=METRIC,
    )
    services = services_at([(PARTY, 0, 0)])
    access = service_access(homes, services, types=[PARTY], detour_factor=1.0)

    def median(residents: list[int]) -> float:
        table = coverage(homes.assign(residents=residents), access, types=[PARTY])
        return float(table["nearest_minutes_median"].iloc[0])

    assert median([1, 1, 5]) == pytest.approx(10.0)  # 5 of 7 residents are 10 minutes away
    assert median([5, 1, 1]) == pytest.approx(1.0)
    assert median([1, 1, 1]) == pytest.approx(2.0)
    assert median([1, 1, 0]) == pytest.approx(1.0)  # lower median: 1 of 2 reaches half


def test_target_share_flag():
    homes, access = lattice_access()
    strict = coverage(homes, access, by="county", types=[PARTY], target=0.95)
    assert not strict["meets_target"].iloc[0]
    assert strict.attrs["coverage_target"] == 0.95


def test_household_without_location_is_not_covered():
    homes = lattice_households()
    homes.loc[0, "geometry"] = None  # the household at the service itself
    services = services_at([(PARTY, 0, 0)])
    access = service_access(homes, services, types=[PARTY], detour_factor=1.0)
    assert np.isnan(access[PARTY].iloc[0])
    table = coverage(homes, access, by="county", types=[PARTY])
    assert table["covered_residents"].iloc[0] == (COVERED_15 - 1) * RESIDENTS
    assert table["residents"].iloc[0] == 200


def test_inputs_are_not_changed():
    homes = lattice_households()
    services = services_at([(PARTY, 0, 0), (ELDERLY, 300, 300)])
    homes_before, services_before = homes.copy(), services.copy()
    access = service_access(homes, services, types=[PARTY, ELDERLY])
    access_before = access.copy()
    coverage(homes, access, by="town")
    coverage_gaps(homes, access)
    gap_areas(lattice_grids(), homes, access)
    service_circles(services)
    pd.testing.assert_frame_equal(homes, homes_before)
    pd.testing.assert_frame_equal(services, services_before)
    pd.testing.assert_frame_equal(access, access_before)


# --------------------------------------------------------------------------- input errors


def test_bad_mode_names_the_value_and_the_allowed_ones():
    message = r"mode must be one of \['walk', 'bike', 'ebike', 'car'\], got 'run'"
    with pytest.raises(InputProblems, match=message):
        travel_minutes(np.zeros((1, 2)), np.zeros((1, 2)), mode="run")
    with pytest.raises(ValueError, match=message):
        service_access(lattice_households(), services_at([(PARTY, 0, 0)]), mode="run")
    with pytest.raises(InputProblems, match=message):
        service_circles(services_at([(PARTY, 0, 0)]), mode="run")


def test_bad_engine_and_missing_network():
    with pytest.raises(InputProblems, match=r"engine must be one of \['line', 'network'\]"):
        travel_minutes(np.zeros((1, 2)), np.zeros((1, 2)), engine="osrm")
    with pytest.raises(InputProblems, match="engine='network' needs network="):
        travel_minutes(np.zeros((1, 2)), np.zeros((1, 2)), engine="network")


def test_geographic_crs_is_refused():
    homes = lattice_households().to_crs("EPSG:4326")
    services = services_at([(PARTY, 0, 0)]).to_crs("EPSG:4326")
    with pytest.raises(InputProblems, match=r"households is in EPSG:4326, not a metric CRS"):
        service_access(homes, services)
    with pytest.raises(InputProblems, match=r"services is in EPSG:4326, not a metric CRS"):
        service_circles(services)
    _, access = lattice_access()
    with pytest.raises(InputProblems, match=r"grids is in EPSG:4326, not a metric CRS"):
        gap_areas(lattice_grids().to_crs("EPSG:4326"), lattice_households(), access)


def test_missing_and_different_crs_are_refused():
    services = services_at([(PARTY, 0, 0)])
    with pytest.raises(InputProblems, match="households has no CRS"):
        service_access(lattice_households().set_crs(None, allow_override=True), services)
    with pytest.raises(
        InputProblems, match=r"different CRS \(households in EPSG:4549, services in EPSG:32651\)"
    ):
        service_access(lattice_households(), services.to_crs("EPSG:32651"))


def test_every_problem_is_reported_at_once():
    services = gpd.GeoDataFrame(geometry=[shapely.Point(0, 0)], crs="EPSG:4326")
    with pytest.raises(InputProblems) as info:
        service_access(lattice_households(), services, mode="run", types=["菜市场"])
    text = str(info.value)
    assert "4 problem(s)" in text
    for part in (
        "lacks the column(s) ['service_type']",
        "not a metric CRS",
        "mode must be",
        "菜市场",
    ):
        assert part in text


def test_non_point_households_are_refused():
    homes = lattice_households()
    homes.loc[3, "geometry"] = shapely.box(X0, Y0, X0 + 10, Y0 + 10)
    with pytest.raises(InputProblems, match=r"households must be points; 1 row\(s\)"):
        service_access(homes, services_at([(PARTY, 0, 0)]))


def test_coverage_input_errors():
    homes, access = lattice_access()
    with pytest.raises(InputProblems, match=r"by must be one of \['grid', 'village'"):
        coverage(homes, access, by="province")
    with pytest.raises(InputProblems, match="access has 99 rows but households 100"):
        coverage(homes, access.iloc[1:])
    with pytest.raises(InputProblems, match=r"minutes: unknown service type\(s\) \['菜"):
        coverage(homes, access, minutes={"菜市场": 15})
    with pytest.raises(InputProblems, match="access lacks the column"):
        coverage(homes, access, types=["卫生室"])
    with pytest.raises(InputProblems, match=r"lack the column\(s\) \['residents'\]"):
        coverage(homes.drop(columns="residents"), access)


# --------------------------------------------------------------------------- gaps


def test_gaps_are_ranked_by_uncovered_residents():
    homes, access = lattice_access(detour=1.3)
    gaps = coverage_gaps(homes, access, service_type=PARTY)
    expected = [(NE, 19), (NW, 6), (SE, 6)]  # the NW/SE tie goes to the smaller code
    assert list(zip(gaps["grid_code"], gaps["uncovered_households"], strict=True)) == expected
    assert gaps["rank"].tolist() == [1, 2, 3]
    assert gaps["uncovered_residents"].tolist() == [38, 12, 12]
    assert gaps["coverage"].tolist() == pytest.approx([6 / 25, 19 / 25, 19 / 25])


def test_gaps_for_all_essential_types():
    homes, access = lattice_access(detour=1.0)
    gaps = coverage_gaps(homes, access)  # 养老服务站 within 10 min is the binding one
    assert gaps["uncovered_households"].sum() == 100 - COVERED_10
    with pytest.raises(InputProblems, match="service_type must be one of"):
        coverage_gaps(homes, access, service_type="菜市场")


def test_gap_areas_hold_exactly_the_uncovered_households():
    homes, access = lattice_access(detour=1.3)
    areas = gap_areas(lattice_grids(), homes, access, service_type=PARTY, cell_m=100.0)
    assert areas["grid_code"].tolist() == [NE, NW, SE]
    assert areas["uncovered_households"].tolist() == [19, 6, 6]
    assert areas["uncovered_residents"].tolist() == [38, 12, 12]
    assert areas["area_m2"].tolist() == pytest.approx([19e4, 6e4, 6e4])
    assert areas.crs == METRIC and areas.is_valid.all()
    covered = (access[PARTY] <= 15).to_numpy()
    inside = areas.geometry.union_all().contains(homes.geometry)
    np.testing.assert_array_equal(inside.to_numpy(), ~covered)
    for grid_code, geom in zip(areas["grid_code"], areas.geometry, strict=True):
        mine = (homes["grid_code"] == grid_code).to_numpy() & ~covered
        assert geom.contains(homes.geometry[mine]).all()


def test_gap_areas_stay_inside_their_grids():
    homes, access = lattice_access(detour=1.3)
    grids = lattice_grids().set_index("grid_code").geometry
    areas = gap_areas(lattice_grids(), homes, access, service_type=PARTY, cell_m=300.0)
    for grid_code, geom in zip(areas["grid_code"], areas.geometry, strict=True):
        assert geom.difference(grids[grid_code]).area == pytest.approx(0.0, abs=1e-6)
    assert areas["uncovered_households"].tolist() == [19, 6, 6]


def test_no_gaps_when_everyone_is_covered():
    homes, access = lattice_access()
    assert coverage_gaps(homes, access, service_type=PARTY, minutes=60).empty
    areas = gap_areas(lattice_grids(), homes, access, service_type=PARTY, minutes=60)
    assert areas.empty and areas.crs == METRIC


# --------------------------------------------------------------------------- circles


def test_service_circles_radius_and_contents():
    services = services_at([(PARTY, 0, 0), (ELDERLY, 0, 0), ("菜市场", 0, 0)])
    circles = service_circles(services, quad_segs=64)
    assert circles["service_type"].tolist() == [PARTY, ELDERLY]  # unknown types left out
    radius = 15 * 4.5 * 1000 / 60 / 1.3
    assert circles["radius_m"].tolist() == pytest.approx([radius, radius * 10 / 15])
    assert circles.geometry.iloc[0].area == pytest.approx(np.pi * radius**2, rel=1e-3)
    # The circle holds exactly the households the line engine puts within 15 minutes.
    homes = lattice_households()
    inside = circles.geometry.iloc[0].contains(homes.geometry)
    assert int(inside.sum()) == 100 - sum(UNCOVERED_DETOUR_BY_GRID.values())
    plain = service_circles(services, minutes=10, mode="ebike", detour_factor=1.0)
    assert plain["radius_m"].tolist() == pytest.approx([3000.0, 3000.0])
    assert plain.crs == METRIC
