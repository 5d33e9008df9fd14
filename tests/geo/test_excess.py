"""Expected counts and the values hot spots test, on constructed populations with known
answers, and the Empirical-Bayes rates against esda.smoothing (a published implementation)."""

from __future__ import annotations

import numpy as np
import pytest
from libpysal.weights import lat2W

from geo.hotspots.excess import (
    POPULATION_FLOOR_SHARE,
    eb_rates,
    expected_counts,
    floored_population,
    grid_values,
    poisson_excess,
    spatial_eb_rates,
)


def test_expected_counts_follow_population_at_the_county_rate() -> None:
    population = np.array([1000, 3000, 0, 6000], dtype=float)
    counts = np.array([5, 9, 4, 30], dtype=float)
    floored = floored_population(population)
    # The empty grid gets a tenth of the median populated grid's 3,000 people.
    assert floored.tolist() == [1000, 3000, POPULATION_FLOOR_SHARE * 3000, 6000]
    expected = expected_counts(counts, population)
    rate = counts.sum() / floored.sum()  # 48 issues for 10,300 people
    np.testing.assert_allclose(expected, floored * rate)
    assert expected.sum() == pytest.approx(counts.sum())
    # Twice the residents, twice the expectation: a grid is not "hot" for its size.
    assert expected[1] / expected[0] == pytest.approx(3.0)


def test_poisson_excess_is_zero_where_the_count_is_as_expected() -> None:
    counts = np.array([10, 4, 0, 16], dtype=float)
    expected = np.array([10, 1, 4, 4], dtype=float)
    np.testing.assert_allclose(poisson_excess(counts, expected), [0, 3, -2, 6])
    assert poisson_excess([0, 0], [0, 0]).tolist() == [0, 0]


def test_under_no_cluster_the_excess_does_not_follow_population() -> None:
    rng = np.random.default_rng(3)
    population = rng.lognormal(7, 1.2, 5000)  # very unequal grids
    counts = rng.poisson(population * 0.004)
    excess = poisson_excess(counts, expected_counts(counts, population))
    big = population > np.quantile(population, 0.8)
    small = population < np.quantile(population, 0.2)
    # Raw counts: big grids have several times the issues; the excess: the same mean.
    assert counts[big].mean() > 5 * counts[small].mean()
    assert abs(excess[big].mean() - excess[small].mean()) < 0.15
    assert excess.std() == pytest.approx(1.0, abs=0.1)


def test_global_eb_rates_equal_esda() -> None:
    from esda.smoothing import Empirical_Bayes

    rng = np.random.default_rng(5)
    population = rng.integers(1000, 5000, 200).astype(float)  # above the floor: as given
    risk = rng.gamma(4, 0.001, 200)  # real differences between grids: positive variance
    counts = rng.poisson(population * risk).astype(float)
    ours = eb_rates(counts, population)
    theirs = Empirical_Bayes(counts, population).r.reshape(-1)
    np.testing.assert_allclose(ours, theirs, rtol=1e-12)
    # Shrinkage: small grids move towards the county rate more than big ones.
    raw, mean = counts / population, counts.sum() / population.sum()
    small, big = np.argmin(population), np.argmax(population)
    pull = np.abs(ours - raw) / np.maximum(np.abs(raw - mean), 1e-12)
    assert pull[small] > pull[big]


def test_global_eb_with_no_real_differences_is_the_county_rate() -> None:
    population = np.full(50, 1000.0)
    counts = np.full(50, 3.0)
    counts[:2] = [2, 4]  # less spread than Poisson noise alone: the moment estimate < 0
    np.testing.assert_allclose(eb_rates(counts, population), counts.sum() / population.sum())


def test_spatial_eb_rates_equal_esda() -> None:
    from esda.smoothing import Spatial_Empirical_Bayes

    rng = np.random.default_rng(11)
    w = lat2W(12, 12, rook=False)
    w.transform = "B"
    population = rng.integers(1000, 4000, w.n).astype(float)
    risk = np.where(np.arange(w.n) % 12 < 4, 0.004, 0.001)  # a high-risk west
    counts = rng.poisson(population * risk).astype(float)
    matrix, _ = w.full()
    ours = spatial_eb_rates(counts, population, matrix)
    theirs = Spatial_Empirical_Bayes(counts, population, w).r.reshape(-1)
    np.testing.assert_allclose(ours, theirs, rtol=1e-10)


def test_grid_values_name_each_quantity() -> None:
    population = np.array([1000, 2000, 4000], dtype=float)
    counts = np.array([2, 2, 8], dtype=float)
    assert grid_values("count", counts, population).tolist() == [2, 2, 8]
    assert grid_values("rate", counts, population).tolist() == [2, 1, 2]
    expected = population * 12 / 7000
    np.testing.assert_allclose(
        grid_values("excess", counts, population), (counts - expected) / np.sqrt(expected)
    )
    with pytest.raises(ValueError, match="eb_spatial needs"):
        grid_values("eb_spatial", counts, population)
    with pytest.raises(ValueError, match="value must be one of"):
        grid_values("density", counts, population)  # type: ignore[arg-type]


def test_gi_star_of_the_signed_excess_is_the_z_of_any_shift_and_esdas() -> None:
    import geopandas as gpd
    import shapely
    from esda import G_Local

    from geo.hotspots.local import GridWeights, gi_star

    cells = [shapely.box(x, y, x + 1, y + 1) for y in range(9) for x in range(9)]
    grids = gpd.GeoDataFrame({"grid_code": [f"g{i:02d}" for i in range(81)]}, geometry=cells,
                             crs="EPSG:4549")  # fmt: skip
    weights = GridWeights.queen(grids)
    rng = np.random.default_rng(2)
    population = rng.integers(500, 3000, 81).astype(float)
    counts = rng.poisson(population * 0.003).astype(float)
    excess = poisson_excess(counts, expected_counts(counts, population))
    assert (excess < 0).any()
    with pytest.raises(ValueError, match="needs values >= 0"):
        gi_star(excess, weights, permutations=0)
    signed = gi_star(excess, weights, permutations=999, seed=4, signed=True)
    shifted = gi_star(excess + 10, weights, permutations=999, seed=4)
    np.testing.assert_allclose(signed.z, shifted.z, rtol=1e-10)
    np.testing.assert_array_equal(signed.p_sim, shifted.p_sim)
    np.testing.assert_array_equal(signed.y, excess)
    assert np.isnan(signed.g).all()
    theirs = G_Local(excess + 10, weights.to_libpysal(), star=True, transform="B", permutations=0)
    np.testing.assert_allclose(signed.z, theirs.Zs, rtol=1e-8)
