"""Known-answer tests for geo.services.siting: coverage, greedy (with swaps) and exact MCLP/LSCP,
candidates, export."""

from __future__ import annotations

from collections.abc import Sequence

import geopandas as gpd
import numpy as np
import pandas as pd
import pulp
import pytest
import scipy.sparse as sp
import shapely
from geopandas.testing import assert_geodataframe_equal
from spopt.locate import LSCP, MCLP

from geo.core.errors import InputProblems
from geo.core.settings import DISPLAY_CRS
from geo.services.siting import (
    SitingResult,
    candidates,
    coverage_matrix,
    demand_points,
    exact_lscp,
    exact_mclp,
    greedy_lscp,
    greedy_mclp,
    propose_sites,
    straight_line_radius_m,
    write_proposals,
)

X0, Y0 = 540_000.0, 3_740_000.0  # somewhere in Sheyang, EPSG:4549 metres

METRIC_CRS = "EPSG:4549"  # the test data's CRS (Sheyang's zone)


def matrix(rows: list[list[int]], n_candidates: int) -> sp.csr_matrix:
    """Coverage from the candidate list of each demand row."""
    dense = np.zeros((len(rows), n_candidates), dtype=bool)
    for i, cols in enumerate(rows):
        dense[i, cols] = True
    return sp.csr_matrix(dense)


# Three demand clusters A (10), B (8), C (7); c0 covers A+B, c1 C, c2 B, c3 A.
# Greedy takes c0 (18) then c1 (7): all 25 covered, which is optimal for k = 2.
CLUSTERS_W = np.array([10.0, 8.0, 7.0])
CLUSTERS = matrix([[0, 3], [0, 2], [1]], 4)

# Greedy trap: cG covers r0+r1 (10) and is picked first, then either cA or cB adds 3 (13);
# cA + cB together cover everything (16). Columns: cA=0, cB=1, cG=2.
TRAP_W = np.array([5.0, 5.0, 3.0, 3.0])
TRAP = matrix([[0, 2], [1, 2], [0], [1]], 3)

# Two traps side by side, the second heavier: demand rows 0-3 are the first trap (cA1=0,
# cB1=1, cG1=2), rows 4-7 the second (cA2=3, cB2=4, cG2=5) with weights 6, 6, 4, 4.
# Greedy with k = 4 takes cG2 (12), cG1 (10), cA2 (+4), cB2 (+4): 30 of 36. Swaps: cG2 → cA1
# (+3: cG2's rows are covered by cA2 and cB2 by then), then cG1 → cB1 (+3): all 36 covered,
# which is the optimum (every row covered).
TWIN_W = np.array([5.0, 5.0, 3.0, 3.0, 6.0, 6.0, 4.0, 4.0])
TWIN = matrix([[0, 2], [1, 2], [0], [1], [3, 5], [4, 5], [3], [4]], 6)


def points(xy: Sequence[tuple[float, float]], **columns: object) -> gpd.GeoDataFrame:
    """Points at metre offsets from (X0, Y0) in EPSG:4549."""
    geoms = [shapely.Point(X0 + dx, Y0 + dy) for dx, dy in xy]
    return gpd.GeoDataFrame(dict(columns), geometry=geoms, crs=METRIC_CRS)


# --------------------------------------------------------------------------- coverage_matrix


def test_coverage_matrix_matches_brute_force() -> None:
    rng = np.random.default_rng(7)
    demand = rng.uniform(0, 5_000, (400, 2))
    sites = rng.uniform(0, 5_000, (60, 2))
    got = coverage_matrix(demand, sites, radius_m=866.0)
    dist = np.hypot(demand[:, None, 0] - sites[None, :, 0], demand[:, None, 1] - sites[None, :, 1])
    assert isinstance(got, sp.csr_matrix)
    assert got.dtype == bool and got.shape == (400, 60)
    np.testing.assert_array_equal(got.toarray(), dist <= 866.0)
    assert got.has_sorted_indices


def test_coverage_matrix_includes_the_boundary_and_coincident_points() -> None:
    demand = np.array([[0.0, 0.0], [3.0, 4.0], [10.0, 0.0]])
    sites = np.array([[0.0, 0.0], [0.0, 0.0]])
    got = coverage_matrix(demand, sites, radius_m=5.0).toarray()
    np.testing.assert_array_equal(got, [[True, True], [True, True], [False, False]])


def test_coverage_matrix_empty_sides_and_bad_input() -> None:
    assert coverage_matrix(np.zeros((3, 2)), np.zeros((0, 2)), radius_m=10).shape == (3, 0)
    assert coverage_matrix(np.zeros((0, 2)), np.zeros((2, 2)), radius_m=10).shape == (0, 2)
    with pytest.raises(InputProblems, match="radius_m must be a positive number"):
        coverage_matrix(np.zeros((3, 2)), np.zeros((2, 2)), radius_m=0)
    with pytest.raises(InputProblems, match=r"demand_xy has 1 row\(s\) with NaN"):
        coverage_matrix(np.array([[0.0, np.nan]]), np.zeros((2, 2)), radius_m=10)
    with pytest.raises(InputProblems, match=r"sites_xy must be an \(n, 2\) array"):
        coverage_matrix(np.zeros((3, 2)), np.zeros((2, 3)), radius_m=10)


def test_straight_line_radius() -> None:
    assert straight_line_radius_m(minutes=15) == pytest.approx(15 / 60 * 4500 / 1.3)
    assert straight_line_radius_m(minutes=15, mode="ebike", detour_factor=1.0) == 4500.0
    with pytest.raises(InputProblems, match="mode must be one of"):
        straight_line_radius_m(minutes=15, mode="boat")


# --------------------------------------------------------------------------- greedy and exact


def test_greedy_first_pick_and_curve_on_the_clusters() -> None:
    result = greedy_mclp(CLUSTERS_W, CLUSTERS, k=2)
    assert result.chosen.tolist() == [0, 1]
    np.testing.assert_allclose(result.curve, [18.0, 25.0])
    np.testing.assert_allclose(result.gains, [18.0, 7.0])
    assert (result.covered_before, result.covered_after, result.total_weight) == (0, 25, 25)
    assert result.share_after == 1.0
    assert result.method == "greedy" and result.problem == "mclp" and result.k == 2
    assert not result.proven_optimal


def test_greedy_equals_exact_when_greedy_is_optimal() -> None:
    greedy = greedy_mclp(CLUSTERS_W, CLUSTERS, k=2)
    exact = exact_mclp(CLUSTERS_W, CLUSTERS, k=2)
    assert exact.method == "cbc" and exact.proven_optimal
    assert exact.covered_after == greedy.covered_after == 25.0
    assert sorted(exact.chosen.tolist()) == sorted(greedy.chosen.tolist())
    # k = 1: c0 alone is best.
    assert exact_mclp(CLUSTERS_W, CLUSTERS, k=1).chosen.tolist() == [0]
    assert greedy_mclp(CLUSTERS_W, CLUSTERS, k=1).chosen.tolist() == [0]


def test_exact_beats_greedy_where_greedy_is_trapped() -> None:
    greedy = greedy_mclp(TRAP_W, TRAP, k=2, max_swaps=0)  # plain greedy, no swap step
    exact = exact_mclp(TRAP_W, TRAP, k=2)
    assert greedy.chosen.tolist() == [2, 0]
    assert greedy.covered_after == 13.0 and greedy.swaps == 0
    assert sorted(exact.chosen.tolist()) == [0, 1]
    assert exact.covered_after == 16.0 and exact.proven_optimal
    # The exact set is reported in order of marginal gain, with its curve.
    np.testing.assert_allclose(exact.curve, [8.0, 16.0])


def brute_force_best(weights: np.ndarray, dense: np.ndarray, k: int, already=None) -> float:
    """Best covered weight over every set of k candidates (tiny instances only)."""
    from itertools import combinations

    base = np.zeros(len(weights), dtype=bool) if already is None else already
    return max(
        weights[base | dense[:, list(combo)].any(axis=1)].sum()
        for combo in combinations(range(dense.shape[1]), k)
    )


def covered_by(weights: np.ndarray, cover: sp.csr_matrix, sites, already=None) -> float:
    """Weight covered by ``sites`` (and ``already``), straight from the matrix."""
    hit = np.asarray(cover[:, list(sites)].sum(axis=1)).reshape(-1) > 0
    if already is not None:
        hit |= already
    return float(weights[hit].sum())


def test_swap_step_frees_greedy_from_the_trap() -> None:
    result = greedy_mclp(TRAP_W, TRAP, k=2)
    assert result.method == "greedy" and result.swaps == 1  # cG out, cB in
    assert result.chosen.tolist() == [0, 1]  # ordered by marginal gain: 8 each, lower first
    np.testing.assert_allclose(result.curve, [8.0, 16.0])
    assert result.covered_after == exact_mclp(TRAP_W, TRAP, k=2).covered_after == 16.0


def test_swap_step_reaches_the_optimum_of_the_twin_traps() -> None:
    plain = greedy_mclp(TWIN_W, TWIN, k=4, max_swaps=0)
    assert plain.chosen.tolist() == [5, 2, 3, 4]
    np.testing.assert_allclose(plain.curve, [12.0, 22.0, 26.0, 30.0])
    one = greedy_mclp(TWIN_W, TWIN, k=4, max_swaps=1)  # the bound stops after cG2 → cA1
    assert one.swaps == 1 and sorted(one.chosen.tolist()) == [0, 2, 3, 4]
    assert one.covered_after == 33.0
    result = greedy_mclp(TWIN_W, TWIN, k=4)
    assert result.swaps == 2 and sorted(result.chosen.tolist()) == [0, 1, 3, 4]
    assert result.covered_after == 36.0 == brute_force_best(TWIN_W, TWIN.toarray(), 4)
    # The improved set in order of marginal gain: the heavier trap's pair first.
    assert result.chosen.tolist() == [3, 4, 0, 1]
    np.testing.assert_allclose(result.gains, [10.0, 10.0, 8.0, 8.0])


def test_swap_step_keeps_existing_sites() -> None:
    # An existing site serves rows 0 and 2 (all of cA1's demand, 8): cA1 is worth nothing.
    # Greedy k = 3: cG2 (12), cB1 (8), cA2 (+4) → 24 new; one swap cG2 → cB2 (+4) covers all.
    already = np.zeros(8, dtype=bool)
    already[[0, 2]] = True
    plain = greedy_mclp(TWIN_W, TWIN, k=3, covered_already=already, max_swaps=0)
    assert plain.chosen.tolist() == [5, 1, 3] and plain.covered_after == 32.0
    result = greedy_mclp(TWIN_W, TWIN, k=3, covered_already=already)
    assert result.covered_before == 8.0 and result.swaps == 1
    assert sorted(result.chosen.tolist()) == [1, 3, 4] and 0 not in result.chosen
    assert result.covered_after == 36.0 == covered_by(TWIN_W, TWIN, result.chosen, already)
    np.testing.assert_allclose(result.gains.sum(), 28.0)
    exact = exact_mclp(TWIN_W, TWIN, k=3, covered_already=already)
    assert exact.covered_after == result.covered_after


def test_swap_step_is_never_worse_than_greedy_and_its_curve_is_true() -> None:
    improved_somewhere = 0
    for seed in range(40):
        rng = np.random.default_rng(seed)
        weights = rng.integers(1, 50, 50).astype(float)
        dense = rng.random((50, 10)) < 0.15
        already = rng.random(50) < 0.2
        cover = sp.csr_matrix(dense)
        k = int(rng.integers(1, 4))
        plain = greedy_mclp(weights, cover, k=k, covered_already=already, max_swaps=0)
        result = greedy_mclp(weights, cover, k=k, covered_already=already)
        assert plain.covered_after <= result.covered_after
        assert result.covered_after <= brute_force_best(weights, dense, k, already)
        assert len(result.chosen) == len(plain.chosen)
        assert len(set(result.chosen.tolist())) == len(result.chosen)
        # Every prefix of the curve is what its sites really cover (a nested answer).
        for j in range(1, len(result.chosen) + 1):
            got = covered_by(weights, cover, result.chosen[:j], already)
            assert result.curve[j - 1] == pytest.approx(got)
        assert (np.diff(result.gains) <= 1e-9).all()  # gains never grow along the order
        if result.swaps == 0:
            np.testing.assert_array_equal(result.chosen, plain.chosen)
            np.testing.assert_array_equal(result.curve, plain.curve)
        improved_somewhere += result.covered_after > plain.covered_after
    assert improved_somewhere > 0  # the random instances do exercise the swap step


def test_swap_step_is_deterministic_and_breaks_ties_to_the_lower_index() -> None:
    # Column 6 is a copy of cA1 (column 0), column 7 a copy of cB2 (column 4).
    dense = np.hstack([TWIN.toarray(), TWIN.toarray()[:, [0, 4]]])
    cover = sp.csr_matrix(dense)
    runs = [greedy_mclp(TWIN_W, cover, k=4) for _ in range(3)]
    for run in runs:
        np.testing.assert_array_equal(run.chosen, runs[0].chosen)
        np.testing.assert_array_equal(run.curve, runs[0].curve)
        assert run.swaps == runs[0].swaps
    assert sorted(runs[0].chosen.tolist()) == [0, 1, 3, 4] and runs[0].covered_after == 36.0
    # Same answer from a column-ordered CSC input and a dense array.
    for same in (cover.tocsc(), dense):
        np.testing.assert_array_equal(greedy_mclp(TWIN_W, same, k=4).chosen, runs[0].chosen)


def test_swap_step_bounds_and_input_errors() -> None:
    # k at least the number of candidates leaves nothing to swap in.
    everything = greedy_mclp(TWIN_W, TWIN, k=6)
    assert everything.covered_after == 36.0 and everything.swaps == 0
    assert greedy_mclp(TWIN_W, TWIN, k=0).chosen.tolist() == []
    for bad in (-1, 1.5, True, None):
        with pytest.raises(InputProblems, match="max_swaps must be a whole number of swaps"):
            greedy_mclp(TWIN_W, TWIN, k=2, max_swaps=bad)


def test_existing_coverage_gives_no_gain() -> None:
    already = np.array([True, False, False])  # cluster A is served by an existing site
    result = greedy_mclp(CLUSTERS_W, CLUSTERS, k=4, covered_already=already)
    assert result.covered_before == 10.0
    # c3 (A only) adds nothing and is never proposed; c0 and c2 now gain only B (8).
    assert result.chosen.tolist() == [0, 1]
    np.testing.assert_allclose(result.gains, [8.0, 7.0])
    assert result.covered_after == 25.0 and result.share_before == pytest.approx(0.4)
    exact = exact_mclp(CLUSTERS_W, CLUSTERS, k=4, covered_already=already)
    assert exact.covered_before == 10.0 and exact.covered_after == 25.0
    assert 3 not in exact.chosen.tolist() and len(exact.chosen) == 2


def test_everything_already_covered_proposes_nothing() -> None:
    already = np.ones(3, dtype=bool)
    for result in (
        greedy_mclp(CLUSTERS_W, CLUSTERS, k=2, covered_already=already),
        exact_mclp(CLUSTERS_W, CLUSTERS, k=2, covered_already=already),
    ):
        assert len(result.chosen) == 0 and result.share_after == result.share_before == 1.0


def test_solvers_do_not_change_their_inputs() -> None:
    weights, cover = TRAP_W.copy(), TRAP.copy()
    already = np.array([False, False, True, False])
    for solve in (greedy_mclp, exact_mclp):
        solve(weights, cover, k=2, covered_already=already)
    greedy_lscp(weights, cover, target_share=0.9, covered_already=already)
    exact_lscp(weights, cover, target_share=0.9, covered_already=already)
    np.testing.assert_array_equal(weights, TRAP_W)
    np.testing.assert_array_equal(cover.toarray(), TRAP.toarray())
    np.testing.assert_array_equal(already, [False, False, True, False])


def test_solver_input_errors() -> None:
    with pytest.raises(InputProblems, match="k must be a whole number"):
        greedy_mclp(TRAP_W, TRAP, k=-1)
    with pytest.raises(InputProblems, match=r"cover has 4 rows .* weights has 3 values"):
        greedy_mclp(TRAP_W[:3], TRAP, k=1)
    with pytest.raises(InputProblems, match="covered_already must be a boolean array of 4"):
        exact_mclp(TRAP_W, TRAP, k=1, covered_already=np.zeros(4))
    with pytest.raises(InputProblems, match="weights must be finite and non-negative"):
        greedy_mclp(-TRAP_W, TRAP, k=1)
    with pytest.raises(InputProblems, match=r"target_share must be a share in \(0, 1\]"):
        greedy_lscp(TRAP_W, TRAP, target_share=85)
    with pytest.raises(InputProblems, match="time_limit_s must be positive"):
        exact_mclp(TRAP_W, TRAP, k=1, time_limit_s=0)


def test_lscp_fewest_sites() -> None:
    # Full coverage of the trap: greedy needs 3 sites (cG first), the optimum is 2.
    greedy = greedy_lscp(TRAP_W, TRAP, target_share=1.0)
    exact = exact_lscp(TRAP_W, TRAP, target_share=1.0)
    assert greedy.reached and len(greedy.chosen) == 3
    assert exact.reached and exact.proven_optimal and sorted(exact.chosen.tolist()) == [0, 1]
    # 10/16 is reached by cG alone.
    for solve in (greedy_lscp, exact_lscp):
        result = solve(TRAP_W, TRAP, target_share=10 / 16)
        assert result.chosen.tolist() == [2] and result.reached
        assert result.problem == "lscp" and result.target_share == pytest.approx(10 / 16)


def test_lscp_target_already_met_needs_no_site() -> None:
    already = np.array([True, True, False, False])
    for solve in (greedy_lscp, exact_lscp):
        result = solve(TRAP_W, TRAP, target_share=0.5, covered_already=already)
        assert result.reached and len(result.chosen) == 0 and result.share_after == 10 / 16


def test_lscp_reports_an_unreachable_target_with_the_best_achievable() -> None:
    weights = np.append(TRAP_W, 4.0)  # a fifth demand that no candidate reaches
    cover = sp.vstack([TRAP, sp.csr_matrix((1, 3), dtype=bool)], format="csr")
    for solve in (greedy_lscp, exact_lscp):
        result = solve(weights, cover, target_share=0.9)
        assert not result.reached
        assert result.covered_after == 16.0 and result.share_after == pytest.approx(0.8)
    assert sorted(exact_lscp(weights, cover, target_share=0.9).chosen.tolist()) == [0, 1]
    assert not greedy_lscp(TRAP_W, TRAP, target_share=1.0, max_sites=2).reached


def random_instance(seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    weights = rng.integers(1, 50, 60).astype(float)
    dense = rng.random((60, 15)) < 0.15
    dense[np.arange(60), rng.integers(0, 15, 60)] = True  # every demand is reachable
    return weights, dense


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_exact_mclp_agrees_with_spopt(seed: int) -> None:
    weights, dense = random_instance(seed)
    ours = exact_mclp(weights, sp.csr_matrix(dense), k=3)
    # spopt takes a cost matrix: cost 0 where covered, 1 elsewhere, radius 0.5.
    theirs = MCLP.from_cost_matrix(
        np.where(dense, 0.0, 1.0), weights, service_radius=0.5, p_facilities=3
    ).solve(pulp.PULP_CBC_CMD(msg=False))
    spopt_value = pulp.value(theirs.problem.objective)
    assert ours.covered_after == pytest.approx(spopt_value)
    assert greedy_mclp(weights, sp.csr_matrix(dense), k=3).covered_after <= spopt_value


@pytest.mark.parametrize("seed", [1, 2])
def test_exact_lscp_with_full_target_agrees_with_spopt(seed: int) -> None:
    weights, dense = random_instance(seed)
    ours = exact_lscp(weights, sp.csr_matrix(dense), target_share=1.0)
    theirs = LSCP.from_cost_matrix(np.where(dense, 0.0, 1.0), service_radius=0.5).solve(
        pulp.PULP_CBC_CMD(msg=False)
    )
    assert ours.reached and len(ours.chosen) == round(pulp.value(theirs.problem.objective))


def test_exact_matches_brute_force_on_random_instances() -> None:
    from itertools import combinations

    for seed in range(4):
        weights, dense = random_instance(seed + 10)
        already = np.random.default_rng(seed).random(60) < 0.3
        best = max(
            weights[already | dense[:, list(combo)].any(axis=1)].sum()
            for combo in combinations(range(15), 2)
        )
        result = exact_mclp(weights, sp.csr_matrix(dense), k=2, covered_already=already)
        assert result.covered_after == pytest.approx(best)
        greedy = greedy_mclp(weights, sp.csr_matrix(dense), k=2, covered_already=already)
        assert greedy.covered_after <= best


# --------------------------------------------------------------------------- candidates


def square(x: float, y: float, side: float = 100.0) -> shapely.Polygon:
    return shapely.box(X0 + x, Y0 + y, X0 + x + side, Y0 + y + side)


def test_candidates_from_grids_villages_and_points() -> None:
    ring = shapely.box(X0, Y0, X0 + 300, Y0 + 300).difference(square(100, 100))
    grids = gpd.GeoDataFrame(
        {"grid_code": ["G2", "G1"], "grid_name": ["二", "一"]},
        geometry=[square(0, 0), ring],
        crs=METRIC_CRS,
    )
    out = candidates(grids, source="grids")
    assert out.crs == METRIC_CRS
    assert out.candidate_id.tolist() == ["grid:G2", "grid:G1"]
    assert out.source.tolist() == ["grids", "grids"] and out.name.tolist() == ["二", "一"]
    assert shapely.contains(grids.geometry.to_numpy(), out.geometry.to_numpy()).all()
    np.testing.assert_allclose(out[["x", "y"]], shapely.get_coordinates(out.geometry.to_numpy()))

    villages = gpd.GeoDataFrame(
        {"village_code": ["V1", "V2"], "centre_x": [X0 + 10, np.nan], "centre_y": [Y0 + 20, 0]},
        geometry=[square(0, 0), square(500, 0)],
        crs=METRIC_CRS,
    )
    out = candidates(villages, source="villages")
    assert out.loc[0, ["x", "y"]].tolist() == [X0 + 10, Y0 + 20]
    assert shapely.contains(square(500, 0), out.geometry.iloc[1])  # no centre: inside point

    mine = points([(0, 0), (50, 0)], site=["甲", "乙"], name=["东", "西"]).to_crs(DISPLAY_CRS)
    out = candidates(mine, source="points", id_col="site")
    assert out.candidate_id.tolist() == ["point:甲", "point:乙"] and out.crs == METRIC_CRS
    np.testing.assert_allclose(out.x, [X0, X0 + 50], atol=1e-4)
    assert candidates(mine, source="points").ref.tolist() == ["0", "1"]
    assert mine.crs == DISPLAY_CRS  # input untouched


def test_candidates_errors_list_every_problem() -> None:
    layer = gpd.GeoDataFrame(
        {"site": ["a", "a"]}, geometry=[shapely.Point(0, 0), square(0, 0)], crs=None
    )
    with pytest.raises(InputProblems, match=r"3 problem") as info:
        candidates(layer, source="points", id_col="site")
    text = str(info.value)
    assert "no CRS" in text and "not points" not in text and "1 row(s) of layer" in text
    assert "duplicated site" in text
    with pytest.raises(InputProblems, match="source must be one of"):
        candidates(layer, source="towns")  # type: ignore[arg-type]
    with pytest.raises(InputProblems, match="lacks the id column 'grid_code'"):
        candidates(layer.set_crs(METRIC_CRS), source="grids")


def test_demand_points_aggregate_by_cell() -> None:
    homes = points([(10, 10), (30, 50), (150, 10)], residents=[1, 3, 2])
    cells = demand_points(homes, cell_m=100.0)
    assert cells.residents.tolist() == [4.0, 2.0] and cells.households.tolist() == [2, 1]
    xy = shapely.get_coordinates(cells.geometry.to_numpy()) - [X0, Y0]
    np.testing.assert_allclose(xy, [[25.0, 40.0], [150.0, 10.0]])
    with pytest.raises(InputProblems, match="not a metric CRS"):
        demand_points(homes.to_crs(DISPLAY_CRS))


# --------------------------------------------------------------------------- propose_sites


@pytest.fixture(name="town")
def _town() -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """Households in three clusters 2 km apart; one existing site serves the west cluster."""
    xy, res = [], []
    for cx, n in ((0, 10), (2_000, 8), (4_000, 5)):
        for i in range(n):
            xy.append((cx + 20 * i, 10 * i))
            res.append(1 + i % 3)
    homes = points(xy, residents=res, household_id=[f"H{i}" for i in range(len(xy))])
    services = points([(50, 0)], service_type=["党群服务中心"])
    sites = candidates(points([(100, 40), (2_080, 40), (4_040, 20), (3_000, 0)]), source="points")
    return homes, services, sites


def test_propose_sites_greedy_and_exact(town) -> None:
    homes, services, sites = town
    before = homes.copy()
    west, middle, east = (homes.residents.iloc[a:b].sum() for a, b in ((0, 10), (10, 18), (18, 23)))
    total = west + middle + east
    for exact in (False, True):
        result = propose_sites(homes, services, sites, radius_m=500.0, k=1, exact=exact)
        assert result.chosen.tolist() == [1]  # the middle cluster is larger than the east
        assert result.covered_before == west and result.covered_after == west + middle
        assert result.share_after == pytest.approx((west + middle) / total)
    lscp = propose_sites(homes, services, sites, radius_m=500.0, target_share=1.0, exact=True)
    assert lscp.reached and sorted(lscp.chosen.tolist()) == [1, 2]
    assert_geodataframe_equal(homes, before)


def test_propose_sites_with_cells_reports_households(town) -> None:
    homes, services, sites = town
    plain = propose_sites(homes, services, sites, radius_m=500.0, k=2)
    cells = propose_sites(homes, services, sites, radius_m=500.0, k=2, cell_m=1_000.0)
    assert cells.chosen.tolist() == plain.chosen.tolist()
    np.testing.assert_allclose(cells.curve, plain.curve)
    assert cells.total_weight == homes.residents.sum()


def test_propose_sites_input_errors(town) -> None:
    homes, services, sites = town
    with pytest.raises(InputProblems, match="give exactly one of k"):
        propose_sites(homes, services, sites, radius_m=500.0)
    with pytest.raises(
        InputProblems, match=r"households is in EPSG:4326, not a metric CRS \(metres\)"
    ):
        propose_sites(homes.to_crs(DISPLAY_CRS), services, sites, radius_m=500.0, k=1)
    with pytest.raises(InputProblems, match="the layers are in different CRS"):
        propose_sites(homes.to_crs("EPSG:32651"), services, sites, radius_m=500.0, k=1)
    with pytest.raises(InputProblems, match="lacks the weight column 'people'"):
        propose_sites(homes, services, sites, radius_m=500.0, k=1, weight_col="people")


# --------------------------------------------------------------------------- export


def test_write_proposals_round_trips_geopackage_and_csv(town, tmp_path) -> None:
    homes, services, sites = town
    result = propose_sites(homes, services, sites, radius_m=500.0, k=2)
    expected = result.to_geodataframe(sites)
    assert expected["rank"].tolist() == [1, 2]
    assert expected.candidate_id.tolist() == ["point:1", "point:2"]

    gpkg = write_proposals(result, sites, tmp_path / "out" / "proposals.gpkg")
    back = gpd.read_file(gpkg, layer="proposals")
    assert_geodataframe_equal(back, expected, check_dtype=False, check_less_precise=True)

    csv = write_proposals(result, sites, tmp_path / "proposals.csv")
    table = pd.read_csv(csv, dtype={"ref": str}, encoding="utf-8-sig")
    lonlat = shapely.get_coordinates(expected.geometry.to_crs(DISPLAY_CRS).to_numpy())
    np.testing.assert_allclose(table[["lon", "lat"]].to_numpy(), lonlat, rtol=0, atol=1e-9)
    np.testing.assert_allclose(table[["x", "y"]].to_numpy(), expected[["x", "y"]].to_numpy())
    assert table.candidate_id.tolist() == expected.candidate_id.tolist()
    np.testing.assert_allclose(table.covered_after, result.curve)
    assert "geometry" not in table.columns

    with pytest.raises(InputProblems, match=r"must end in \.gpkg or \.csv"):
        write_proposals(result, sites, tmp_path / "proposals.shp")
    with pytest.raises(InputProblems, match="candidates has 3 rows"):
        result.to_geodataframe(sites.iloc[:3])


def test_result_properties() -> None:
    result = SitingResult(
        chosen=np.array([4, 2]),
        curve=np.array([60.0, 80.0]),
        covered_before=50.0,
        total_weight=100.0,
        method="greedy",
        problem="mclp",
        n_candidates=5,
    )
    assert result.share_before == 0.5 and result.share_after == 0.8
    np.testing.assert_allclose(result.gains, [10.0, 20.0])
    np.testing.assert_allclose(result.curve_share, [0.6, 0.8])
