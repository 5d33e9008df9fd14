"""Known-answer tests for geo.planning.rebalance on synthetic villages (EPSG:4549 metres)."""

from __future__ import annotations

import math

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from geopandas.testing import assert_geodataframe_equal

from geo.core.errors import InputProblems
from geo.core.settings import GridSizeRule, get_settings
from geo.planning.rebalance import (
    METRIC_NAMES,
    Proposal,
    atom_weights,
    grid_metrics,
    maxp_floor,
    propose_partition,
    rebalance_town,
    village_atoms,
)

RURAL = GridSizeRule(40, 250, 2500)
URBAN = GridSizeRule(40, 400, 2500)
# Not aligned with the 120 m lattice, so cells are clipped by the village edge.
X0, Y0 = 540_013.7, 3_740_021.3
SIDE = 1500.0
VILLAGE_CODE = "320924104201"
METHODS = ("balanced", "maxp")

METRIC_CRS = "EPSG:4549"  # the test data's CRS (Sheyang's zone)


def square(x0: float = X0, y0: float = Y0, side: float = SIDE) -> shapely.Polygon:
    return shapely.box(x0, y0, x0 + side, y0 + side)


def homes(xy: np.ndarray, *, residents: int | np.ndarray = 3, code: str = VILLAGE_CODE):
    n = len(xy)
    return gpd.GeoDataFrame(
        {
            "household_id": [f"H{i:07d}" for i in range(n)],
            "residents": np.broadcast_to(residents, (n,)).astype(int),
            "village_code": code,
        },
        geometry=gpd.points_from_xy(xy[:, 0], xy[:, 1]),
        crs=METRIC_CRS,
    )


def uniform(n: int, region: shapely.Geometry, seed: int = 0) -> np.ndarray:
    """``n`` points spread uniformly inside ``region`` (rejection sampling)."""
    rng = np.random.default_rng(seed)
    minx, miny, maxx, maxy = region.bounds
    got = np.empty((0, 2))
    while len(got) < n:
        xy = rng.uniform((minx, miny), (maxx, maxy), (2 * n, 2))
        got = np.vstack([got, xy[shapely.contains_xy(region, xy[:, 0], xy[:, 1])]])
    return got[:n]


@pytest.fixture(scope="module")
def village() -> shapely.Polygon:
    return square()


@pytest.fixture(scope="module")
def households(village: shapely.Polygon) -> gpd.GeoDataFrame:
    """1,200 households spread uniformly over the 1.5 km square, 1–6 residents each."""
    rng = np.random.default_rng(1)
    return homes(uniform(1200, village), residents=rng.integers(1, 7, 1200))


@pytest.fixture(scope="module")
def proposals(village, households) -> dict[str, Proposal]:
    return {
        m: propose_partition(village, households, rule=RURAL, method=m, seed=0) for m in METHODS
    }


def assert_tiles(grids: gpd.GeoDataFrame, region: shapely.Geometry) -> None:
    """Single polygons, valid, inside the region, no overlaps, union equals the region."""
    geoms = grids.geometry.to_numpy()
    assert (shapely.get_type_id(geoms) == 3).all(), grids.geom_type.value_counts()
    assert shapely.is_valid(geoms).all()
    assert shapely.coverage_is_valid(geoms)
    assert shapely.covers(region.buffer(1e-6), geoms).all()
    a, b = shapely.STRtree(geoms).query(geoms, predicate="intersects")
    keep = a < b
    overlap = shapely.area(shapely.intersection(geoms[a[keep]], geoms[b[keep]])).sum()
    assert overlap < 1e-6
    union = shapely.coverage_union_all(geoms)
    assert shapely.area(shapely.symmetric_difference(union, region)) < 1.0
    assert math.isclose(shapely.area(geoms).sum(), region.area, rel_tol=1e-9)


# ----------------------------------------------------------------------- the square village


@pytest.mark.parametrize("method", METHODS)
def test_grids_tile_the_village(proposals, village, method):
    assert_tiles(proposals[method].grids, village)


@pytest.mark.parametrize("method", METHODS)
def test_every_grid_meets_the_rule_and_households_are_conserved(proposals, households, method):
    grids = proposals[method].grids
    assert grids.households.between(RURAL.min_households, RURAL.max_households).all()
    assert (grids.residents <= RURAL.max_residents).all()
    assert grids.households.sum() == len(households)
    assert grids.residents.sum() == households.residents.sum()
    assert proposals[method].metrics_after["share_within_rule"] == 1.0


def test_balanced_makes_k_equal_grids(proposals):
    """k = ceil(1,200 / 145) = 9 grids of about 133 households each."""
    grids = proposals["balanced"].grids
    assert len(grids) == math.ceil(1200 / ((RURAL.min_households + RURAL.max_households) / 2))
    assert grids.households.max() - grids.households.min() <= 0.1 * 1200 / 9


def test_maxp_grids_reach_its_floor(proposals):
    floor = maxp_floor(RURAL)
    assert floor == 125
    grids = proposals["maxp"].grids
    assert (grids.households >= floor).all()
    assert 2 <= len(grids) <= 1200 // floor


@pytest.mark.parametrize("method", METHODS)
def test_columns_codes_and_north_west_first(proposals, village, method):
    grids = proposals[method].grids
    expected = [f"{VILLAGE_CODE}{i:03d}" for i in range(1, len(grids) + 1)]
    assert grids.grid_code.tolist() == expected
    assert (grids.grid_code.str.len() == 15).all()
    assert (grids.village_code == VILLAGE_CODE).all()
    assert (grids.town_code == VILLAGE_CODE[:9]).all()
    assert grids.crs == METRIC_CRS
    for col in ("households", "residents", "workload", "area_km2", "polsby_popper"):
        assert col in grids.columns
    assert np.allclose(grids.area_km2, grids.area / 1e6)
    # reading order: 100 m bands of the inner point from north to south, west to east within
    inner = shapely.point_on_surface(grids.geometry.to_numpy())
    band, x = -np.round(shapely.get_y(inner), -2), shapely.get_x(inner)
    assert np.array_equal(np.lexsort((x, band)), np.arange(len(grids)))
    if method == "balanced":  # regular grids: 001 holds the north-west corner, the last the SE
        nw = shapely.Point(village.bounds[0], village.bounds[3])
        se = shapely.Point(village.bounds[2], village.bounds[1])
        assert grids.geometry.iloc[0].distance(nw) < 1e-6
        assert grids.geometry.iloc[-1].distance(se) < 1e-6


@pytest.mark.parametrize("method", METHODS)
def test_same_seed_same_proposal(proposals, village, households, method):
    again = propose_partition(village, households, rule=RURAL, method=method, seed=0)
    assert_geodataframe_equal(again.grids, proposals[method].grids)
    pd.testing.assert_series_equal(again.metrics_after, proposals[method].metrics_after)


def test_maxp_leaves_the_global_random_state_alone(village, households):
    np.random.seed(123)
    expected = np.random.random(3)
    np.random.seed(123)
    propose_partition(village, households, rule=RURAL, method="maxp", seed=5)
    assert np.array_equal(np.random.random(3), expected)


def test_target_grids(village, households):
    grids = propose_partition(village, households, rule=RURAL, target_grids=6).grids
    assert len(grids) == 6
    assert grids.households.between(190, 210).all()


def test_target_grids_that_break_the_rule_are_fixed_up(village, households):
    """Two grids of 600 households would break the 250 maximum: the fix-up splits them."""
    grids = propose_partition(village, households, rule=RURAL, target_grids=2).grids
    assert len(grids) > 2
    assert grids.households.between(RURAL.min_households, RURAL.max_households).all()


def test_metrics_improve_on_an_unbalanced_layout(village, households):
    """Before: a 60 m strip (~48 households) and the rest (~1,150, above 250)."""
    x0, y0, _, y1 = village.bounds
    strip = shapely.box(x0, y0, x0 + 60, y1)
    before = gpd.GeoDataFrame(
        {"grid_code": ["a", "b"]},
        geometry=[strip, village.difference(strip)],
        crs=METRIC_CRS,
    )
    proposal = propose_partition(village, households, rule=RURAL, current=before)
    table = proposal.compare()
    assert list(table.columns) == ["before", "after"]
    assert list(table.index) == list(METRIC_NAMES)
    assert table.loc["n_grids", "before"] == 2
    assert table.loc["households_max", "before"] > RURAL.max_households
    assert table.loc["share_within_rule", "before"] <= 0.5
    assert table.loc["share_within_rule", "after"] == 1.0
    assert table.loc["workload_cv", "after"] < table.loc["workload_cv", "before"]
    assert table.loc["mean_polsby_popper", "after"] > table.loc["mean_polsby_popper", "before"]


def test_issues_weigh_on_the_balance(village, households):
    """Issues piled in the west half: western grids get fewer households, equal workload."""
    x0, y0, x1, y1 = village.bounds
    west = shapely.box(x0, y0, (x0 + x1) / 2, y1)
    xy = uniform(600, west, seed=2)
    issues = gpd.GeoDataFrame(
        {
            "received_at": pd.Timestamp("2026-06-01") + pd.to_timedelta(np.arange(600), "h"),
            "grid_code": "",
        },
        geometry=gpd.points_from_xy(xy[:, 0], xy[:, 1]),
        crs=METRIC_CRS,
    )
    old = issues.assign(received_at=pd.Timestamp("2024-01-01"))  # outside the 12 months
    both = pd.concat([issues, old], ignore_index=True)
    proposal = propose_partition(village, households, both, rule=RURAL)
    grids = proposal.grids
    assert grids.issues_12m.sum() == 600
    assert np.allclose(grids.workload, grids.households + grids.issues_12m)
    centre_x = shapely.get_x(shapely.centroid(grids.geometry.to_numpy()))
    western = centre_x < (x0 + x1) / 2
    assert grids.households[western].mean() < grids.households[~western].mean()
    assert proposal.metrics_after["workload_cv"] < 0.1
    # issue_weight=0 ignores them again
    plain = propose_partition(village, households, both, rule=RURAL, issue_weight=0)
    assert np.array_equal(plain.grids.workload, plain.grids.households)


# ----------------------------------------------------------------------- small and odd villages


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("n", [0, 1, 30])
def test_village_too_small_for_two_grids_gets_one(method, n):
    region = square(side=400.0)
    hh = homes(uniform(n, region)) if n else homes(np.empty((0, 2)))
    grids = propose_partition(region, hh, rule=RURAL, method=method).grids
    assert len(grids) == 1
    # with no household there is no village_code to take the prefix from
    assert grids.grid_code.iloc[0] == (f"{VILLAGE_CODE}001" if n else "001")
    assert grids.households.iloc[0] == n
    assert_tiles(grids, region)


def test_household_on_a_shared_edge_counts_once(village):
    """Points on lattice lines and on the village edge are counted exactly once."""
    x0, y0, *_ = village.bounds
    xs = math.ceil(x0 / 120) * 120.0  # a lattice line
    xy = np.array([[xs, y0 + 100], [xs, y0 + 130], [x0, y0 + 500], [xs + 7, y0 + 240.0]])
    grids = propose_partition(village, homes(xy), rule=RURAL).grids
    assert grids.households.sum() == 4


def test_households_outside_the_village_are_ignored(village, households):
    far = homes(np.array([[X0 - 5000, Y0], [X0 + 9000, Y0 + 9000]]))
    both = pd.concat([households, far], ignore_index=True)
    grids = propose_partition(village, both, rule=RURAL).grids
    assert grids.households.sum() == len(households)


def test_village_with_a_hole(households):
    region = square().difference(shapely.box(X0 + 600, Y0 + 600, X0 + 900, Y0 + 900))
    hh = households[shapely.contains_xy(region, households.geometry.x, households.geometry.y)]
    for method in METHODS:
        grids = propose_partition(region, hh, rule=RURAL, method=method).grids
        assert_tiles(grids, region)
        assert grids.households.sum() == len(hh)


@pytest.mark.parametrize("method", METHODS)
def test_village_in_two_pieces(method):
    """A 600-household square and a 10-household islet: the islet joins the nearest grid."""
    main = square(side=1200.0)
    islet = square(X0 + 1500, Y0, 200.0)
    region = shapely.MultiPolygon([main, islet])
    xy = np.vstack([uniform(600, main), uniform(10, islet, seed=3)])
    grids = propose_partition(region, homes(xy), rule=RURAL, method=method).grids
    assert grids.households.sum() == 610
    assert grids.households.between(RURAL.min_households, RURAL.max_households).all()
    geoms = grids.geometry.to_numpy()
    assert shapely.coverage_is_valid(geoms)
    assert shapely.area(shapely.symmetric_difference(shapely.union_all(geoms), region)) < 1.0
    holder = shapely.intersects(geoms, islet.centroid)
    assert holder.sum() == 1
    assert grids.geometry[holder].iloc[0].geom_type == "MultiPolygon"
    assert (shapely.get_type_id(geoms[~holder]) == 3).all()


def test_l_shaped_village_keeps_grids_contiguous():
    """A thin L: straight cuts would leave pieces; every grid stays one polygon."""
    region = shapely.union_all(
        [shapely.box(X0, Y0, X0 + 2400, Y0 + 300), shapely.box(X0, Y0, X0 + 300, Y0 + 2400)]
    )
    hh = homes(uniform(1500, region, seed=4))
    for method in METHODS:
        grids = propose_partition(region, hh, rule=RURAL, method=method).grids
        assert_tiles(grids, region)
        assert grids.households.between(RURAL.min_households, RURAL.max_households).all()


def test_crowded_cells_are_quartered():
    """500 households in one 120 m cell: atoms stay small enough to make urban grids."""
    region = square(side=600.0)
    rng = np.random.default_rng(5)
    dense = X0 + 240 + rng.uniform(0, 100, (500, 2)) * [1, 1] + [0, Y0 - X0]
    hh = homes(np.vstack([dense, uniform(100, region, seed=6)]))
    grids = propose_partition(region, hh, rule=URBAN).grids
    assert grids.households.sum() == 600
    assert grids.households.between(URBAN.min_households, URBAN.max_households).all()
    assert_tiles(grids, region)


# ----------------------------------------------------------------------- atoms and metrics


def test_village_atoms_tile_and_count(village, households):
    atoms = village_atoms(village, households)
    assert atoms.households.sum() == len(households)
    assert (atoms.households > 0).all()  # empty cells have joined their neighbours
    assert_tiles(atoms, village)
    w = atom_weights(atoms)
    assert w.n == len(atoms)
    assert not w.islands
    assert w.n_components == 1


def test_grid_metrics_known_answer():
    boxes = [
        shapely.box(0, 0, 100, 100),
        shapely.box(100, 0, 200, 100),
        shapely.box(0, 100, 400, 200),
    ]
    grids = gpd.GeoDataFrame(
        {"households": [10, 100, 300], "residents": [20, 2600, 700]},
        geometry=boxes,
        crs=METRIC_CRS,
    )
    m = grid_metrics(grids, rule=RURAL)
    assert m["n_grids"] == 3
    assert (m["households_min"], m["households_median"], m["households_max"]) == (10, 100, 300)
    # 10 is below 40, 100 has 2,600 residents (over 2,500), 300 is above 250
    assert m["share_within_rule"] == 0
    assert m["workload_cv"] == pytest.approx(np.std([10, 100, 300]) / np.mean([10, 100, 300]))
    pp_square, pp_strip = math.pi / 4, 4 * math.pi * 40_000 / 1000**2
    assert m["mean_polsby_popper"] == pytest.approx((2 * pp_square + pp_strip) / 3)
    # by area_type: 300 households are fine in a town grid (城镇, 40–400)
    urban = grid_metrics(grids.assign(area_type=["农村", "农村", "城镇"]), settings=get_settings())
    assert urban["share_within_rule"] == pytest.approx(1 / 3)


# ----------------------------------------------------------------------- the town


def test_rebalance_town():
    left, right = square(side=1200.0), square(X0 + 1200, Y0, 1200.0)
    villages = gpd.GeoDataFrame(
        {
            "village_code": ["320924104001", "320924104201", "320924105201"],
            "village_name": ["幸福社区", "丰宁村", "别镇村"],
            "town_code": ["320924104", "320924104", "320924105"],
            "kind": ["社区", "村", "村"],
        },
        geometry=[left, right, square(X0 + 5000, Y0, 500.0)],
        crs=METRIC_CRS,
    )
    xy = np.vstack([uniform(1600, left, seed=7), uniform(700, right, seed=8)])
    hh = homes(xy)
    current = gpd.GeoDataFrame(
        {
            "grid_code": ["320924104001001", "320924104201001"],
            "village_code": ["320924104001", "320924104201"],
            "area_type": ["城镇", "农村"],
        },
        geometry=[left, right],
        crs=METRIC_CRS,
    )
    proposal = rebalance_town(villages, hh, town_code="320924104", current=current)
    grids = proposal.grids
    assert set(grids.village_code) == {"320924104001", "320924104201"}
    assert grids.households.sum() == 2300
    urban = grids[grids.village_code == "320924104001"]
    rural = grids[grids.village_code == "320924104201"]
    assert (urban.area_type == "城镇").all() and (rural.area_type == "农村").all()
    assert len(urban) == math.ceil(1600 / 220) and len(rural) == math.ceil(700 / 145)
    assert urban.grid_name.iloc[0] == "幸福社区第1网格"
    assert grids.grid_code.is_unique
    assert_tiles(grids, shapely.union_all([left, right]))
    assert proposal.metrics_before["share_within_rule"] == 0  # 1,600 and 700 households
    assert proposal.metrics_after["share_within_rule"] == 1


@pytest.mark.parametrize("method", METHODS)
def test_a_demo_village(method, demo_layers):
    """洋坝村 of 四明镇 (1,145 households, 10 demo grids)."""
    code = "320924104202"
    villages = demo_layers["villages"]
    village = villages.loc[villages.village_code == code].geometry.iloc[0]
    hh = demo_layers["households"].query("village_code == @code")
    current = demo_layers["grids"].query("village_code == @code")
    proposal = propose_partition(village, hh, rule=RURAL, method=method, current=current)
    assert_tiles(proposal.grids, village)
    inside = shapely.intersects_xy(village, hh.geometry.x, hh.geometry.y).sum()
    assert proposal.grids.households.sum() == inside
    assert proposal.metrics_before["n_grids"] == len(current)
    assert proposal.metrics_after["share_within_rule"] == 1.0


# ----------------------------------------------------------------------- input errors


def test_every_input_problem_is_reported_at_once(households):
    lonlat = households.to_crs("EPSG:4326")
    with pytest.raises(InputProblems) as info:
        propose_partition(square(), lonlat, rule=RURAL, method="kmeans", target_grids=0, cell_m=-5)
    text = str(info.value)
    assert len(info.value.problems) == 4
    for part in (
        "households is in EPSG:4326, not a metric CRS",
        "method must be one of maxp, balanced",
        "target_grids",
        "cell_m",
    ):
        assert part in text


def test_bad_village_and_issue_inputs(households):
    with pytest.raises(InputProblems, match="village_polygon must be a shapely Polygon"):
        propose_partition(shapely.Point(X0, Y0), households, rule=RURAL)
    with pytest.raises(InputProblems, match="longitude/latitude degrees"):
        propose_partition(shapely.box(120.1, 33.7, 120.2, 33.8), households, rule=RURAL)
    no_date = gpd.GeoDataFrame(geometry=[shapely.Point(X0, Y0)], crs=METRIC_CRS)
    with pytest.raises(InputProblems, match="issues has no column received_at"):
        propose_partition(square(), households, no_date, rule=RURAL)
    with pytest.raises(InputProblems, match="rule must be a GridSizeRule"):
        propose_partition(square(), households, rule=(40, 250, 2500))  # type: ignore[arg-type]


def test_unknown_town(households):
    villages = gpd.GeoDataFrame(
        {"village_code": ["320924104201"], "town_code": ["320924104"], "kind": ["村"]},
        geometry=[square()],
        crs=METRIC_CRS,
    )
    with pytest.raises(InputProblems, match=r"town_code '999' has no villages \(known: 3"):
        rebalance_town(villages, households, town_code="999")
