"""Known-answer tests for geo.hotspots.local: weights, grid counts, Gi*, local Moran, permutations,
FDR.

Small lattices of 100 m squares (EPSG:4549) with answers worked by hand; esda/libpysal as the
reference for z-scores, local I and quadrants (to 1e-9) on lattices and on the demo county
(geo.demo.build.generate(seed=0), built once per test session); the planted hot spots are
looked for on seed 0 and on a second seed (see conftest.demo_county).
"""

from __future__ import annotations

import math
import re
import warnings
from typing import Literal

import esda
import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from libpysal.weights import Queen, lat2W
from scipy import stats

from geo.core.errors import GridValidationError
from geo.core.tickets import CLOSED
from geo.grids.aggregate import IssueFilter, counts
from geo.hotspots.local import (
    HOTSPOT_CLASSES,
    GridWeights,
    _draw_distinct,
    _permutation_counts,
    _plan,
    fdr_bh,
    gi_star,
    grid_counts,
    grid_weights,
    local_moran,
)

METRIC = "EPSG:4549"
X0, Y0 = 524_000.0, 3_737_000.0
TRANSFORMS: tuple[Literal["B", "R"], ...] = ("B", "R")


def lattice(rows: int, cols: int, *, extra: tuple[tuple[int, int], ...] = ()) -> gpd.GeoDataFrame:
    """``rows x cols`` 100 m squares coded ``Grrcc`` row by row, then squares ``X0``, ``X1``…
    at the (column, row) cells in ``extra``."""
    cells = [(f"G{r:02d}{c:02d}", c, r) for r in range(rows) for c in range(cols)]
    cells += [(f"X{i}", c, r) for i, (c, r) in enumerate(extra)]
    return gpd.GeoDataFrame(
        {"grid_code": [code for code, _, _ in cells], "residents": 100},
        geometry=[
            shapely.box(X0 + 100 * c, Y0 + 100 * r, X0 + 100 * (c + 1), Y0 + 100 * (r + 1))
            for _, c, r in cells
        ],
        crs=METRIC,
    )


def neighbour_sets(weights: GridWeights) -> dict[str, set[str]]:
    return {code: set(weights.neighbours(code)) for code in weights.ids}


# --------------------------------------------------------------------------- weights


def test_queen_on_a_lattice_matches_libpysal():
    weights = grid_weights(lattice(3, 4))
    assert weights.method == "queen"
    assert weights.ids.tolist() == [f"G{r:02d}{c:02d}" for r in range(3) for c in range(4)]
    assert weights.neighbours("G0000") == ["G0001", "G0100", "G0101"]  # corner: 3
    assert len(weights.neighbours("G0101")) == 8  # inside: 8
    assert len(weights.neighbours("G0001")) == 5  # edge: 5
    reference = lat2W(3, 4, rook=False)
    dense = reference.full()[0]
    assert np.array_equal(weights.matrix.toarray(), dense)
    assert weights.matrix.diagonal().sum() == 0
    assert weights.islands == ()


def test_queen_counts_a_shared_vertex_and_reports_islands():
    grids = lattice(1, 1, extra=((1, 1), (5, 5)))  # X0 touches G0000 at one corner only
    weights = grid_weights(grids)
    assert weights.neighbours("G0000") == ["X0"]
    assert weights.islands == ("X1",)
    assert weights.island_mask.tolist() == [False, False, True]
    assert weights.cardinalities.tolist() == [1, 1, 0]


def test_rook_is_edges_only_and_matches_libpysal():
    weights = grid_weights(lattice(3, 4), method="rook")
    assert weights.method == "rook"
    assert np.array_equal(weights.matrix.toarray(), lat2W(3, 4, rook=True).full()[0])
    corner = grid_weights(lattice(1, 1, extra=((1, 1),)), method="rook")
    assert corner.islands == ("G0000", "X0")  # a shared corner is not an edge


def test_weights_from_a_gal_file_and_errors_that_name_the_grids(tmp_path):
    from libpysal import io as pysal_io

    grids = lattice(3, 3)
    queen = grid_weights(grids)
    path = tmp_path / "grids.gal"
    out = pysal_io.open(str(path), "w")
    out.write(queen.to_libpysal())
    out.close()
    from_file = grid_weights(grids, method="file", path=str(path))
    assert from_file.method == "file"
    assert np.array_equal(from_file.matrix.toarray(), queen.matrix.toarray())
    other = lattice(2, 2, extra=((7, 7),))
    with pytest.raises(ValueError, match=r"not the grid codes .*X0"):
        grid_weights(other, method="file", path=str(path))
    with pytest.raises(ValueError, match="needs the path"):
        grid_weights(grids, method="file")


def test_a_minimum_number_of_neighbours_adds_the_nearest():
    grids = lattice(1, 3, extra=((9, 0), (20, 0)))  # two squares far along the row
    weights = grid_weights(grids, min_neighbours=2)
    assert weights.method == "queen+min2"
    assert (weights.cardinalities >= 2).all()
    assert weights.neighbours("X0") == ["G0001", "G0002"]  # its two nearest by centroid
    assert weights.neighbours("X1") == ["G0002", "X0"]
    assert weights.neighbours("G0001") == ["G0000", "G0002"]  # had two: unchanged
    assert weights.neighbours("G0000") == ["G0001", "G0002"]  # had one: the next nearest
    assert grid_weights(grids, min_neighbours=0).method == "queen"


def test_distance_band_uses_centroid_distance_in_metres():
    grids = lattice(3, 3)
    rook = grid_weights(grids, method="distance_band", threshold_m=100.0)  # 100 m: edges only
    assert rook.neighbours("G0101") == ["G0001", "G0100", "G0102", "G0201"]
    queen = grid_weights(grids, method="distance_band", threshold_m=150.0)  # diagonal 141 m
    assert neighbour_sets(queen) == neighbour_sets(grid_weights(grids))
    assert queen.threshold_m == 150.0
    lonely = grid_weights(grids, method="distance_band", threshold_m=50.0)
    assert len(lonely.islands) == 9


def test_knn_gives_k_neighbours_each():
    grids = lattice(3, 3)
    weights = grid_weights(grids, method="knn", k=4)
    assert weights.cardinalities.tolist() == [4] * 9
    assert weights.neighbours("G0101") == ["G0001", "G0100", "G0102", "G0201"]  # all at 100 m
    corner = set(weights.neighbours("G0000"))
    assert {"G0001", "G0100", "G0101"} <= corner  # 100, 100, 141 m; then one of two at 200 m
    assert weights.k == 4


def test_weights_refuse_degrees_and_bad_options():
    grids = lattice(2, 2)
    with pytest.raises(ValueError, match=re.escape("not a metric CRS (metres)")):
        grid_weights(grids.to_crs("EPSG:4326"), method="distance_band", threshold_m=100)
    with pytest.raises(ValueError, match="threshold_m must be a positive number of metres"):
        grid_weights(grids, method="distance_band", threshold_m=-1)
    with pytest.raises(ValueError, match=re.escape("k must be an integer from 1 to 3")):
        grid_weights(grids, method="knn", k=4)
    with pytest.raises(ValueError, match="method='queen' takes neither threshold_m nor k"):
        grid_weights(grids, k=2)
    with pytest.raises(ValueError, match="method='knn' needs k"):
        grid_weights(grids, method="knn")
    with pytest.raises(ValueError, match="method must be 'queen', 'rook', 'distance_band'"):
        grid_weights(grids, method="bishop")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="no column 'code'"):
        grid_weights(grids, id_column="code")
    # Queen needs only topology: degrees are fine.
    assert grid_weights(grids.to_crs("EPSG:4326")).matrix.nnz == 12


def test_weights_collect_every_problem():
    grids = lattice(2, 2)
    grids.loc[1, "grid_code"] = "G0000"  # duplicate
    grids.loc[2, "geometry"] = None  # missing geometry
    grids.loc[3, "grid_code"] = None  # missing code
    with pytest.raises(GridValidationError) as caught:
        grid_weights(grids)
    codes = sorted(p.code for p in caught.value.problems)
    assert codes == ["duplicate_code", "missing_code", "missing_geometry"]
    assert "2 grids share this code" in str(caught.value)


def test_weights_do_not_touch_the_grids():
    grids = lattice(3, 3)
    before = grids.copy()
    grid_weights(grids)
    grid_weights(grids, method="knn", k=2)
    pd.testing.assert_frame_equal(grids, before)


# --------------------------------------------------------------------------- counts


def test_grid_counts_over_a_window_and_by_category():
    grids = pd.DataFrame({"grid_code": ["A", "B", "C"], "residents": [1000, 0, 500]})
    issues = pd.DataFrame(
        {
            "grid_code": ["A", "A", "A", "C", "B", ""],
            "received_at": pd.to_datetime(
                [
                    "2026-01-01 08:00",
                    "2026-01-02 23:59",
                    "2026-01-03 00:00",
                    "2026-01-02 00:00",
                    "2026-01-01 00:00",
                    "2026-01-01 00:00",
                ]
            ),
            "category": ["环境卫生", "噪音扰民", "环境卫生", "环境卫生", "环境卫生", "环境卫生"],
            "source": "12345",
            "status": [CLOSED, "处理中", CLOSED, CLOSED, CLOSED, CLOSED],
        }
    )
    window = IssueFilter(start=pd.Timestamp("2026-01-01"), end=pd.Timestamp("2026-01-02"))
    plain = grid_counts(issues, grids, flt=window)
    assert plain["grid_code"].tolist() == ["A", "B", "C"]
    assert plain["count"].tolist() == [2, 1, 1]  # the 01-03 issue is outside; "" is unassigned
    assert plain["open"].tolist() == [1, 0, 0]
    assert plain["rate_per_1000"].iloc[0] == 2.0
    assert math.isnan(plain["rate_per_1000"].iloc[1])  # nobody lives in B
    assert plain["rate_per_1000"].iloc[2] == 2.0
    selected = issues[(issues.received_at < "2026-01-03")]
    pd.testing.assert_frame_equal(plain, counts(selected, grids))  # a thin wrapper

    split = grid_counts(issues, grids, flt=window, by="category").set_index(
        ["grid_code", "category"]
    )
    assert len(split) == 6  # every grid x both categories seen in the window
    assert split.loc[("A", "环境卫生"), "count"] == 1
    assert split.loc[("A", "噪音扰民"), "count"] == 1
    assert split.loc[("B", "噪音扰民"), "count"] == 0
    assert split.loc[("C", "环境卫生"), "rate_per_1000"] == 2.0
    everything = grid_counts(issues, grids)
    assert everything["count"].tolist() == [3, 1, 1]


# --------------------------------------------------------------------------- Gi*

LINE = [1.0, 2.0, 3.0, 4.0, 10.0]


def test_gi_star_known_answers_on_a_line():
    """Five squares in a row, y = 1, 2, 3, 4, 10: mean 4, population variance 10.

    Binary Gi* of the last square: (4 + 10 - 2 * 4) / (sqrt(10) sqrt((5 * 2 - 2^2) / 4))
    = 6 / sqrt(15); of the first: (1 + 2 - 8) / sqrt(15) = -5 / sqrt(15). Row-standardised
    (esda): (mean of the neighbourhood - mean) / sd, 3 / sqrt(10) for the last square.
    """
    weights = grid_weights(lattice(1, 5))
    binary = gi_star(LINE, weights, permutations=0)
    assert binary.z[4] == pytest.approx(6 / math.sqrt(15), abs=1e-12)
    assert binary.z[0] == pytest.approx(-5 / math.sqrt(15), abs=1e-12)
    assert binary.g[4] == pytest.approx(14 / 20)
    assert binary.p_norm[4] == pytest.approx(2 * stats.norm.sf(6 / math.sqrt(15)))
    row = gi_star(LINE, weights, transform="R", permutations=0)
    assert row.z[4] == pytest.approx(3 / math.sqrt(10), abs=1e-12)
    assert np.isnan(binary.p_sim).all()
    np.testing.assert_allclose(binary.p_fdr, fdr_bh(binary.p_norm))


@pytest.mark.parametrize("transform", ["B", "R"])
def test_gi_star_z_equals_esda_on_a_lattice_with_an_island(transform):
    grids = lattice(6, 7, extra=((20, 20),))
    weights = grid_weights(grids)
    y = np.random.default_rng(3).poisson(4, len(grids)).astype(float)
    ours = gi_star(y, weights, transform=transform, permutations=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        peer = esda.G_Local(
            y, weights.to_libpysal(), star=True, transform=transform, permutations=0
        )
    np.testing.assert_allclose(ours.z[:-1], peer.Zs[:-1], rtol=0, atol=1e-9)
    np.testing.assert_allclose(ours.g[:-1], peer.Gs[:-1], rtol=0, atol=1e-12)
    assert ours.islands == ("X0",)
    assert np.isnan(ours.z[-1]) and ours.classes[-1] == "not_significant"


def test_gi_star_finds_a_planted_block_at_99_percent():
    """A 3 x 3 block of 10s in a 10 x 10 field of 1s: the block's centre and the middles of
    its sides see 9 or 6 tens among 9 cells (random: at most 8 of 99); every other cell is
    far from the floor p."""
    weights = grid_weights(lattice(10, 10))
    y = np.ones(100)
    for r in range(3, 6):
        y[r * 10 + 3 : r * 10 + 6] = 10.0
    result = gi_star(y, weights, permutations=9999, seed=0)
    hot = sorted(weights.ids[result.classes == "hot_99"].tolist())
    assert hot == ["G0304", "G0403", "G0404", "G0405", "G0504"]
    assert set(result.classes.tolist()) == {"hot_99", "not_significant"}
    assert result.p_sim[44] == pytest.approx(2 / 10000)
    assert (result.p_sim[result.classes == "not_significant"] > 0.02).all()


def test_gi_star_z_and_moran_equal_esda_on_the_demo(demo_layers, demo_weights):
    table = grid_counts(
        demo_layers["issues"], demo_layers["grids"], flt=IssueFilter(categories=("环境卫生",))
    )
    w = demo_weights.to_libpysal()
    for column in ("count", "rate_per_1000"):
        y = table[column].fillna(0).to_numpy(dtype=float)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for transform in TRANSFORMS:
                ours = gi_star(y, demo_weights, transform=transform, permutations=0)
                peer = esda.G_Local(y, w, star=True, transform=transform, permutations=0)
                np.testing.assert_allclose(ours.z, peer.Zs, rtol=0, atol=1e-9)
            for transform in TRANSFORMS:
                mine = local_moran(y, demo_weights, transform=transform, permutations=0)
                theirs = esda.Moran_Local(y, w, transformation=transform.lower(), permutations=0)
                np.testing.assert_allclose(mine.i, theirs.Is, rtol=0, atol=1e-9)
                assert np.array_equal(mine.q, theirs.q)


def test_pseudo_p_values_agree_with_esda_on_the_demo(demo_layers, demo_weights):
    """Two independent 999-permutation estimates of the same p: ours (two-sided, halved) and
    esda's one-sided ("directed") p_sim, on 3,689 grids."""
    y = grid_counts(
        demo_layers["issues"], demo_layers["grids"], flt=IssueFilter(categories=("环境卫生",))
    )["count"].to_numpy(dtype=float)
    ours = gi_star(y, demo_weights, permutations=999, seed=1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        peer = esda.G_Local(
            y, demo_weights.to_libpysal(), star=True, transform="B", permutations=999, seed=1
        )
    one_sided = np.minimum(ours.p_sim / 2, 1)
    assert np.abs(one_sided - peer.p_sim).mean() < 0.02
    assert np.corrcoef(one_sided, peer.p_sim)[0, 1] > 0.98


def test_queen_equals_libpysal_on_the_demo(demo_layers, demo_weights):
    peer = Queen.from_dataframe(demo_layers["grids"], use_index=False, silence_warnings=True)
    assert demo_weights.matrix.nnz == peer.s0 > 20000
    assert np.array_equal(demo_weights.matrix.toarray(), peer.full()[0])
    assert demo_weights.islands == ()


def test_gi_star_inputs_and_reproducibility():
    weights = grid_weights(lattice(4, 4))
    y = np.arange(16, dtype=float)
    series = pd.Series(y, index=weights.ids).sample(frac=1, random_state=0)
    before_y, before_s, before_w = y.copy(), series.copy(), weights.matrix.copy()
    a = gi_star(y, weights, seed=5)
    b = gi_star(series, weights, seed=5)  # aligned by grid code, whatever the order
    np.testing.assert_array_equal(a.z, b.z)
    np.testing.assert_array_equal(a.p_sim, b.p_sim)
    c = gi_star(y, weights, seed=6)
    assert not np.array_equal(a.p_sim, c.p_sim)
    np.testing.assert_array_equal(y, before_y)
    pd.testing.assert_series_equal(series, before_s)
    assert (weights.matrix != before_w).nnz == 0
    a.y[:] = -1  # the result holds its own copy
    np.testing.assert_array_equal(y, before_y)
    frame = a.to_frame()
    assert list(frame.columns) == [
        "grid_code",
        "value",
        "gi_z",
        "p_norm",
        "p_sim",
        "p_fdr",
        "hotspot_class",
    ]
    assert set(frame["hotspot_class"]) <= set(HOTSPOT_CLASSES)


def test_gi_star_rejects_bad_values_with_the_grids_named():
    weights = grid_weights(lattice(2, 2))
    with pytest.raises(ValueError, match=r"Gi\* needs values >= 0 .*G0001"):
        gi_star([0, -1, 2, 3], weights)
    with pytest.raises(ValueError, match=r"1 missing or infinite entries \(grids \['G0100'\]\)"):
        gi_star([0, 1, np.nan, 3], weights)
    with pytest.raises(ValueError, match="values has 3 entries for 4 weighted grids"):
        gi_star([0, 1, 2], weights)
    with pytest.raises(ValueError, match=r"values lacks 1 of the weighted grids, e.g. \['G0101'\]"):
        gi_star(pd.Series([1, 2, 3], index=["G0000", "G0001", "G0100"]), weights)
    with pytest.raises(ValueError, match="transform must be 'B'"):
        gi_star([0, 1, 2, 3], weights, transform="r")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="permutations must be 0"):
        gi_star([0, 1, 2, 3], weights, permutations=-1)


def test_gi_star_with_no_issues_at_all_finds_nothing():
    result = gi_star(np.zeros(9), grid_weights(lattice(3, 3)))
    assert np.isnan(result.z).all()
    assert (result.classes == "not_significant").all()


def test_classes_follow_sign_and_adjusted_p(demo_layers, demo_weights):
    y = grid_counts(
        demo_layers["issues"], demo_layers["grids"], flt=IssueFilter(categories=("农业农村",))
    )["count"].to_numpy(dtype=float)
    result = gi_star(y, demo_weights)
    expected = np.full(len(y), "not_significant", dtype=object)
    for level, suffix in ((0.10, "90"), (0.05, "95"), (0.01, "99")):
        expected[(result.p_fdr <= level) & (result.z > 0)] = f"hot_{suffix}"
        expected[(result.p_fdr <= level) & (result.z < 0)] = f"cold_{suffix}"
    assert result.classes.tolist() == expected.tolist()
    assert {"hot_95", "cold_95"} <= set(result.classes.tolist())


# --------------------------------------------------------------------------- permutation core


def reference_counts(
    y: np.ndarray, neighbours: list[list[int]], draws: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """The documented scheme, one grid and one draw at a time: grid i takes the first k_i
    grids of the draw, the (k_i + 1)-th standing in for i if i is among them."""
    n_ge = np.zeros(len(y), dtype=int)
    n_le = np.zeros(len(y), dtype=int)
    for i, around in enumerate(neighbours):
        k = len(around)
        if k == 0:
            continue
        observed = sum(y[j] for j in around)
        for row in draws:
            picks = [int(j) for j in row[:k]]
            if i in picks:
                picks[picks.index(i)] = int(row[k])
            total = sum(y[j] for j in picks)
            n_ge[i] += total >= observed
            n_le[i] += total <= observed
    return n_ge, n_le


def test_vectorised_permutation_equals_a_plain_loop():
    weights = grid_weights(lattice(6, 6, extra=((30, 30),)))
    rng = np.random.default_rng(11)
    y = rng.poisson(2, weights.n).astype(float)
    card = weights.cardinalities
    draws = _draw_distinct(rng, weights.n, int(card.max()) + 1, 300)
    neighbours = [
        list(weights.matrix.indices[weights.matrix.indptr[i] : weights.matrix.indptr[i + 1]])
        for i in range(weights.n)
    ]
    observed = weights.matrix @ y
    n_ge, n_le = _permutation_counts(y, observed, _plan(draws, card))
    ref_ge, ref_le = reference_counts(y, neighbours, draws)
    np.testing.assert_array_equal(n_ge, ref_ge)
    np.testing.assert_array_equal(n_le, ref_le)
    assert (n_ge + n_le >= 300)[:-1].all()  # every draw is on one side or tied


@pytest.mark.parametrize(("population", "k"), [(1000, 6), (12, 9), (9, 9)])
def test_draws_are_distinct_and_uniform(population, k):
    rows = 20000
    draws = _draw_distinct(np.random.default_rng(0), population, k, rows)
    assert draws.shape == (rows, k)
    assert (np.sort(draws, axis=1)[:, 1:] != np.sort(draws, axis=1)[:, :-1]).all()
    assert draws.min() >= 0 and draws.max() < population
    # Each value is equally likely in the first column (what a grid with one neighbour uses).
    first = np.bincount(draws[:, 0], minlength=population)
    assert stats.chisquare(first).pvalue > 0.001


# --------------------------------------------------------------------------- local Moran


def test_local_moran_known_answers_on_a_line():
    """y = 1, 2, 3, 4, 10: z = (y - 4) / sqrt(10), sum z^2 = 5; row-standardised lags.
    I_0 = 4 * (-3)(-2) / 10 / 5 = 0.48; I_2 = 4 * (-1)(-1) / 10 / 5 = 0.08; I_4 = 0 (lag 0)."""
    result = local_moran(LINE, grid_weights(lattice(1, 5)), permutations=0)
    np.testing.assert_allclose(result.i, [0.48, 0.32, 0.08, 0.0, 0.0], atol=1e-12)
    assert result.quadrant.tolist() == ["LL", "LL", "LL", "LH", "HL"]
    assert result.q.tolist() == [3, 3, 3, 2, 4]
    assert (result.cluster == "not_significant").all()


def test_local_moran_clusters_and_outliers():
    weights = grid_weights(lattice(10, 10))
    y = np.ones(100)
    for r in range(3, 6):
        y[r * 10 + 3 : r * 10 + 6] = 10.0
    y[88] = 12.0  # a lone high value among low ones: a high-low outlier
    result = local_moran(y, weights, seed=0)
    frame = result.to_frame().set_index("grid_code")
    assert frame.loc["G0404", "cluster"] == "HH"
    assert frame.loc["G0808", "quadrant"] == "HL"
    assert set(frame["cluster"]) <= {"HH", "LL", "HL", "LH", "not_significant"}
    significant = frame[frame["cluster"] != "not_significant"]
    assert (significant["p_fdr"] <= 0.05).all()
    assert (significant["cluster"] == significant["quadrant"]).all()


def test_local_moran_equals_esda_with_an_island():
    grids = lattice(5, 5, extra=((20, 20),))
    weights = grid_weights(grids)
    y = np.random.default_rng(1).poisson(3, len(grids)).astype(float)
    ours = local_moran(y, weights, permutations=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        peer = esda.Moran_Local(y, weights.to_libpysal(), permutations=0)
    np.testing.assert_allclose(ours.i[:-1], peer.Is[:-1], rtol=0, atol=1e-9)
    assert np.array_equal(ours.q[:-1], peer.q[:-1])
    assert np.isnan(ours.i[-1]) and ours.q[-1] == 0 and ours.islands == ("X0",)


# --------------------------------------------------------------------------- FDR


def test_benjamini_hochberg_by_hand_and_against_scipy():
    # Sorted 0.005, 0.01, 0.03, 0.04 (m = 4): 4p/rank = 0.02, 0.02, 0.04, 0.04.
    np.testing.assert_allclose(fdr_bh([0.01, 0.04, 0.03, 0.005]), [0.02, 0.04, 0.04, 0.02])
    # Step-up: a larger p can pull a smaller one down; NaN is left out of m.
    np.testing.assert_allclose(
        fdr_bh([0.02, np.nan, 0.021, 0.9]), [0.0315, np.nan, 0.0315, 0.9], equal_nan=True
    )
    p = np.random.default_rng(0).uniform(0, 1, 1000) ** 3
    np.testing.assert_allclose(fdr_bh(p), stats.false_discovery_control(p, method="bh"))
    assert np.isnan(fdr_bh([np.nan, np.nan])).all()


# --------------------------------------------------------------------------- demo county


@pytest.fixture(scope="module")
def demo_weights(demo_layers) -> GridWeights:
    return grid_weights(demo_layers["grids"])


@pytest.mark.parametrize("pattern", ["P1", "P2", "P4"])
def test_gi_star_finds_the_planted_grids(demo_county, pattern):
    """Issue counts of the pattern's category over its span. For any seed (what the planting
    promises): the grids holding half of the planted events are hot and no planted grid is
    cold. On seed 0 also a recall of the 12 grids that hold most planted events."""
    planted = demo_county.planted(pattern)
    assert len(planted.grids) >= planted.MIN_GRIDS, "this seed put the cluster in too few grids"
    layers = demo_county.layers
    flt = IssueFilter(
        start=pd.Timestamp(planted.row["start"]).normalize(),
        end=pd.Timestamp(planted.row["end"]).normalize(),
        categories=(str(planted.row["category"]),),
    )
    y = grid_counts(layers["issues"], layers["grids"], flt=flt)["count"]
    weights = grid_weights(layers["grids"])
    frame = gi_star(y.to_numpy(dtype=float), weights).to_frame().set_index("grid_code")
    hot = frame["hotspot_class"].str.startswith("hot")
    assert len(planted.top) == 12
    missed = sorted(set(planted.core) - set(hot[hot].index))
    if demo_county.seed == 1 and pattern == "P2":
        # Measured (December 2026): since 30 % of the hotline tickets are placed from their
        # address (background events moved to compound points by up to ~100 m), one of seed
        # 1's four P2 core grids has a pseudo p of 0.0016 instead of 0.0002 and misses the FDR
        # cut (0.49 > 0.10). Exactly that grid, so any other change shows.
        assert missed == ["320924401002006"], frame.loc[planted.core, "hotspot_class"].to_dict()
    else:
        assert not missed, frame.loc[planted.core, "hotspot_class"].to_dict()
    assert not frame.loc[planted.top, "hotspot_class"].str.startswith("cold").any()
    if demo_county.seed == 0:
        # pinned on demo seed 0, measured 12, 11 and 12 of 12 for P1, P2 and P4 (December 2026)
        assert hot[planted.top].sum() >= 8
