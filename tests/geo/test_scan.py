"""Kulldorff's Poisson scan statistic on hand-built lattices with a known most likely
cluster, and its likelihood ratio against the formula worked by hand."""

from __future__ import annotations

import math

import numpy as np
import pytest

from geo.hotspots.scan import poisson_llr, scan


def lattice(side: int) -> tuple[np.ndarray, np.ndarray]:
    """Centroids (metres) and codes of a ``side x side`` lattice of 100-m grids."""
    col, row = np.meshgrid(np.arange(side), np.arange(side))
    xy = np.c_[col.ravel() * 100.0, row.ravel() * 100.0]
    ids = np.array([f"G{r:02d}{c:02d}" for r, c in zip(row.ravel(), col.ravel(), strict=True)])
    return xy, ids


def test_the_llr_is_kulldorffs_formula() -> None:
    # 30 of 100 issues where 10 were expected.
    by_hand = 30 * math.log(30 / 10) + 70 * math.log(70 / 90)
    assert poisson_llr(30, 10, 100) == pytest.approx(by_hand)
    assert poisson_llr([5, 10], [10, 10], 100).tolist() == [0, 0]  # no excess, no cluster


def test_a_planted_plus_shape_is_the_most_likely_cluster() -> None:
    xy, ids = lattice(10)
    counts = np.full(100, 5.0)
    centre = 4 * 10 + 6  # row 4, column 6
    plus = [centre, centre - 1, centre + 1, centre - 10, centre + 10]
    counts[plus] = 20.0
    expected = np.ones(100)  # equal populations
    result = scan(counts, expected, xy, ids, replications=199, seed=1)
    best = result.clusters[0]
    assert set(best.grids) == set(ids[plus]) and best.grids[0] == ids[centre]
    total = counts.sum()
    e = 5 * total / 100
    assert best.observed == 100 and best.expected == pytest.approx(e)
    assert best.llr == pytest.approx(100 * math.log(100 / e) + (total - 100) * math.log(
        (total - 100) / (total - e)))  # fmt: skip
    assert best.ratio == pytest.approx(100 / e)
    assert best.p_value == pytest.approx(1 / 200)  # above every replication
    frame = result.to_frame()
    assert frame[frame.cluster == 1].grid_code.tolist() == list(best.grids)


def test_expected_counts_not_areas_define_the_excess() -> None:
    # The same counts everywhere, but one corner has a tenth of the people: that corner is
    # the cluster (counts follow population elsewhere).
    xy, ids = lattice(8)
    population = np.full(64, 1000.0)
    corner = [0, 1, 8, 9]
    population[corner] = 100.0
    counts = np.round(population * 0.01) + 0.0
    counts[corner] = 10.0
    result = scan(counts, population, xy, ids, replications=99, seed=2)
    assert set(result.clusters[0].grids) <= set(ids[corner])
    assert result.clusters[0].p_value <= 0.01


def test_with_no_cluster_the_p_value_is_not_small() -> None:
    xy, ids = lattice(12)
    rng = np.random.default_rng(7)
    population = rng.lognormal(7, 1.0, 144)
    p_values = []
    for seed in range(20):
        counts = np.random.default_rng(seed).poisson(population * 0.005)
        p_values.append(scan(counts, population, xy, ids, replications=99, seed=seed)
                        .clusters[0].p_value)  # fmt: skip
    # Under the null the most likely cluster's p is uniform: most are large.
    assert np.mean(np.array(p_values) <= 0.05) <= 0.2
    assert np.median(p_values) > 0.2


def test_zones_keep_to_their_limits_and_clusters_do_not_overlap() -> None:
    xy, ids = lattice(10)
    counts = np.full(100, 2.0)
    counts[[0, 1, 10]] = 15.0
    counts[[88, 89, 98, 99]] = 12.0
    result = scan(counts, np.ones(100), xy, ids, replications=49, max_grids=6, seed=3)
    seen: set[str] = set()
    for cluster in result.clusters:
        assert len(cluster.grids) <= 6
        assert not seen & set(cluster.grids)
        seen |= set(cluster.grids)
    firsts = [set(c.grids) for c in result.clusters[:2]]
    assert any(s <= set(ids[[0, 1, 10]]) | set(ids[[2, 11, 20]]) for s in firsts)
    assert any(s & set(ids[[88, 89, 98, 99]]) for s in firsts)
    with pytest.raises(ValueError, match="one entry per grid"):
        scan(counts[:5], np.ones(100), xy, ids)
