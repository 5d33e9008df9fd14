"""Known-answer tests for geo.hotspots.emerging: time bins, space-time Gi*, Mann-Kendall,
categories.

Space-time z-scores are checked against a loop of esda.G_Local over the bins (to 1e-9), the
Mann-Kendall test against a plain double loop written here and scipy's kendalltau, every
category (hot and cold) against constructed series, and the planted patterns of the demo
county (geo.demo.build.generate for seed 0 and a second seed, each built once per test session,
see conftest.demo_county) against what was planted.
"""

from __future__ import annotations

import math
import re
import warnings
from collections import Counter
from typing import Any

import esda
import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from libpysal.weights import WSP
from scipy import sparse, stats

from geo.core.i18n import Text, text
from geo.grids.aggregate import IssueFilter
from geo.hotspots.emerging import (
    CATEGORIES,
    EmergingHotSpots,
    Freq,
    SpaceTimeCube,
    _space_time_p_sim,
    emerging_categories,
    emerging_hotspots,
    mann_kendall,
    space_time_cube,
    space_time_gi,
)
from geo.hotspots.local import GridWeights, _draw_distinct, grid_weights

METRIC = "EPSG:4549"
X0, Y0 = 524_000.0, 3_737_000.0


def lattice(rows: int, cols: int, *, extra: tuple[tuple[int, int], ...] = ()) -> gpd.GeoDataFrame:
    """``rows x cols`` 100 m squares coded ``Grrcc``, then squares ``X0``… at ``extra``."""
    cells = [(f"G{r:02d}{c:02d}", c, r) for r in range(rows) for c in range(cols)]
    cells += [(f"X{i}", c, r) for i, (c, r) in enumerate(extra)]
    return gpd.GeoDataFrame(
        {"grid_code": [code for code, _, _ in cells]},
        geometry=[
            shapely.box(X0 + 100 * c, Y0 + 100 * r, X0 + 100 * (c + 1), Y0 + 100 * (r + 1))
            for _, c, r in cells
        ],
        crs=METRIC,
    )


def cube_of(weights: GridWeights, counts: np.ndarray) -> SpaceTimeCube:
    edges = pd.date_range("2026-01-05", periods=counts.shape[1] + 1, freq="7D")
    return SpaceTimeCube(weights.ids, edges, counts.astype(np.int64), "week", 0)


def esda_space_time_z(counts: np.ndarray, weights: GridWeights) -> np.ndarray:
    """The space-time Gi* as a loop of esda.G_Local: bin 0 on A (weights + identity), bin t
    on (bin t, bin t - 1) stacked with W2 = [[A, A], [A, A]], keeping the first n z-scores."""
    n, n_bins = counts.shape
    a_star = (weights.matrix + sparse.identity(n, format="csr")).tocsr()
    w1 = WSP(a_star, id_order=list(range(n))).to_W(silence_warnings=True)
    w2 = WSP(
        sparse.bmat([[a_star, a_star], [a_star, a_star]], format="csr"),
        id_order=list(range(2 * n)),
    ).to_W(silence_warnings=True)
    out = np.empty((n, n_bins))
    y = counts.astype(float)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        out[:, 0] = esda.G_Local(y[:, 0], w1, star=True, transform="B", permutations=0).Zs
        for t in range(1, n_bins):
            stacked = np.concatenate([y[:, t], y[:, t - 1]])
            g = esda.G_Local(stacked, w2, star=True, transform="B", permutations=0)
            out[:, t] = g.Zs[:n]
    return out


# --------------------------------------------------------------------------- cube


def issues_frame(rows: list[tuple[str, str]]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "grid_code": [g for g, _ in rows],
            "received_at": pd.to_datetime([t for _, t in rows]),
            "category": "环境卫生",
            "source": "12345",
        }
    )


def test_weekly_bins_end_with_the_last_day_and_drop_a_partial_first_bin():
    issues = issues_frame(
        [
            ("A", "2026-10-29 10:00"),  # before the first full week: outside
            ("A", "2026-10-31 00:00"),  # first bin starts Sat 10-31 (the last day is Fri 11-20)
            ("B", "2026-11-13 23:59"),  # bin 1 (11-07 .. 11-13)
            ("B", "2026-11-14 00:00"),  # bin 2 (11-14 .. 11-20)
            ("A", "2026-11-20 23:59"),  # bin 2
            ("Z", "2026-11-16 12:00"),  # not one of the grids: outside
            ("", "2026-11-16 12:00"),  # unassigned: outside
        ]
    )
    cube = space_time_cube(issues, ["A", "B"], freq="week")
    assert cube.edges.strftime("%Y-%m-%d").tolist() == [
        "2026-10-31",
        "2026-11-07",
        "2026-11-14",
        "2026-11-21",
    ]
    assert cube.counts.tolist() == [[1, 0, 1], [0, 1, 1]]
    assert cube.n_outside == 3
    assert cube.n_bins == 3
    # An explicit history: 2026-11-01 .. 2026-11-20 holds two full weeks.
    short = space_time_cube(issues, ["A", "B"], start=pd.Timestamp("2026-11-01"))
    assert short.counts.tolist() == [[0, 1], [1, 1]]


def test_monthly_bins_and_the_filter():
    issues = issues_frame(
        [
            ("A", "2026-08-31 09:00"),
            ("A", "2026-09-01 09:00"),
            ("B", "2026-10-15 09:00"),
            ("B", "2026-11-30 18:00"),
        ]
    )
    issues.loc[3, "category"] = "噪音扰民"
    cube = space_time_cube(issues, ["A", "B"], freq="month")
    assert cube.edges.strftime("%Y-%m-%d").tolist() == [
        "2026-09-01",
        "2026-10-01",
        "2026-11-01",
        "2026-12-01",
    ]
    assert cube.counts.tolist() == [[1, 0, 0], [0, 1, 1]]
    assert cube.n_outside == 1
    noise = space_time_cube(
        issues,
        ["A", "B"],
        freq="month",
        flt=IssueFilter(
            start=pd.Timestamp("2026-09-01"),
            end=pd.Timestamp("2026-11-30"),
            categories=("环境卫生",),
        ),
    )
    assert noise.counts.tolist() == [[1, 0, 0], [0, 1, 0]]


def test_cube_errors_say_what_to_change():
    issues = issues_frame([("A", "2026-11-20 09:00")])
    with pytest.raises(ValueError, match=re.escape("holds 0 full week(s)")):
        space_time_cube(issues, ["A"])
    with pytest.raises(ValueError, match="freq must be 'week' or 'month'"):
        space_time_cube(issues, ["A"], freq="day", start=pd.Timestamp("2026-01-01"))  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="grid_codes has duplicates"):
        space_time_cube(issues, ["A", "A"])


# --------------------------------------------------------------------------- space-time Gi*


def test_space_time_gi_equals_a_loop_of_esda_on_a_lattice():
    weights = grid_weights(lattice(5, 6, extra=((30, 30),)))
    counts = np.random.default_rng(2).poisson(1.5, (weights.n, 7))
    ours = space_time_gi(counts, weights)
    peer = esda_space_time_z(counts, weights)
    np.testing.assert_allclose(ours[:-1], peer[:-1], rtol=0, atol=1e-9)
    assert np.isnan(ours[-1]).all()  # the island


def test_space_time_gi_known_answer_and_flat_windows():
    """Two squares side by side (each the other's neighbour): in bin 1 the window is
    {y_0,1, y_1,1, y_0,0, y_1,0} = {3, 1, 1, 1} and every neighbourhood is all four cells,
    so G* = 1 and z = 0/0: no variation to test. With a third square far away, the pair's
    neighbourhood is 4 of the 6 window cells."""
    pair = grid_weights(lattice(1, 2))
    z = space_time_gi(np.array([[1, 3], [1, 1]]), pair)
    assert np.isnan(z).all()
    three = grid_weights(lattice(1, 2, extra=((9, 9),)))
    counts = np.array([[1, 3], [1, 1], [0, 0]])
    z = space_time_gi(counts, three)
    # Window of bin 1: {3, 1, 0, 1, 1, 0}; mean 1, population variance 1; the pair's
    # neighbourhood sum 6 over 4 cells: (6 - 4) / (1 * sqrt((6 * 4 - 16) / 5)) = 2 / sqrt(1.6).
    assert z[0, 1] == pytest.approx(2 / math.sqrt(1.6), abs=1e-12)
    assert np.isnan(z[2]).all()
    zero = space_time_gi(np.zeros((3, 2)), three)
    assert np.isnan(zero).all()
    with pytest.raises(ValueError, match="values >= 0"):
        space_time_gi(-counts, three)


def esda_window_z(
    counts: np.ndarray, weights: GridWeights, t: int, bins_in_window: list, neighbourhood_bins: list
) -> np.ndarray:
    """esda.G_Local of bin *t*'s cells over the cells of ``bins_in_window`` (bin *t* first),
    each cell's neighbourhood being itself and its neighbours in ``neighbourhood_bins``."""
    n = counts.shape[0]
    a_star = (weights.matrix + sparse.identity(n, format="csr")).tocsr()
    m = len(bins_in_window)
    blocks = [[None] * m for _ in range(m)]
    position = {b: j for j, b in enumerate(bins_in_window)}
    for j in range(m):
        for b in neighbourhood_bins:
            blocks[j][position[b]] = a_star
    for j in range(m):
        for jj in range(m):
            if blocks[j][jj] is None:
                blocks[j][jj] = sparse.csr_matrix((n, n))
    w = WSP(sparse.bmat(blocks, format="csr"), id_order=list(range(n * m))).to_W(
        silence_warnings=True
    )
    stacked = np.concatenate([counts[:, b].astype(float) for b in bins_in_window])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return esda.G_Local(stacked, w, star=True, transform="B", permutations=0).Zs[:n]


@pytest.mark.parametrize("time_step", [0, 2, 3])
def test_the_neighbourhood_time_step_window_equals_esda(time_step):
    weights = grid_weights(lattice(5, 5))
    counts = np.random.default_rng(6).poisson(2.0, (weights.n, 6))
    ours = space_time_gi(counts, weights, time_step=time_step)
    for t in range(6):
        span = list(range(t, max(t - time_step, 0) - 1, -1))
        peer = esda_window_z(counts, weights, t, span, span)
        np.testing.assert_allclose(ours[:, t], peer, rtol=0, atol=1e-9)


def test_the_individual_time_step_is_each_bin_on_its_own():
    weights = grid_weights(lattice(5, 5))
    counts = np.random.default_rng(8).poisson(2.0, (weights.n, 5))
    ours = space_time_gi(counts, weights, time_step=0, global_window="individual")
    for t in range(5):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            peer = esda.G_Local(counts[:, t].astype(float), weights.to_libpysal(), star=True,
                                transform="B", permutations=0).Zs  # fmt: skip
        np.testing.assert_allclose(ours[:, t], peer, rtol=0, atol=1e-9)
    with pytest.raises(ValueError, match="time_step=0"):
        space_time_gi(counts, weights, global_window="individual")


def test_the_entire_cube_window_measures_every_bin_against_all_cells():
    weights = grid_weights(lattice(4, 5))
    counts = np.random.default_rng(9).poisson(2.0, (weights.n, 5))
    counts[:, -1] += 8  # a county-wide rise in the last bin
    ours = space_time_gi(counts, weights, time_step=1, global_window="cube")
    for t in range(5):
        window = [t, *(b for b in range(5) if b != t)]
        peer = esda_window_z(counts, weights, t, window, [t, t - 1] if t else [t])
        np.testing.assert_allclose(ours[:, t], peer, rtol=0, atol=1e-9)
    # Against the whole cube the rise is hot everywhere; against its own window it is not.
    assert ours[:, -1].mean() > 2
    own = space_time_gi(counts, weights, global_window="individual", time_step=0)
    assert abs(own[:, -1].mean()) < 0.5


def test_permutations_follow_the_window():
    weights = grid_weights(lattice(4, 4))
    counts = np.random.default_rng(3).poisson(2.0, (weights.n, 4)).astype(int)
    cube = cube_of(weights, counts)
    for window, step in (("cube", 1), ("individual", 0), ("neighborhood", 2)):
        result = emerging_hotspots(cube, weights, permutations=199, seed=1, time_step=step,
                                   global_window=window)  # fmt: skip
        finite = np.isfinite(result.z)
        assert ((result.p[finite] > 0) & (result.p[finite] <= 1)).all()
        assert result.to_frame()["n_hot_bins"].between(0, 4).all()


def test_space_time_permutation_equals_a_plain_loop():
    """Cell (i, t >= 1) keeps its value and gets 2 k_i + 1 of the other 2n - 1 cells of its
    window; the draws are those the function makes from default_rng(seed), in its order."""
    weights = grid_weights(lattice(4, 4))
    n, n_bins, permutations, seed = weights.n, 3, 200, 7
    counts = np.random.default_rng(4).poisson(2, (n, n_bins)).astype(float)
    window_sum = counts.copy()
    window_sum[:, 1:] += counts[:, :-1]
    lag = np.asarray((weights.matrix + sparse.identity(n)) @ window_sum)
    p = _space_time_p_sim(counts, weights, lag, permutations=permutations, seed=seed)
    k = weights.cardinalities
    rng = np.random.default_rng(seed)
    _draw_distinct(rng, n, int(k.max()) + 1, permutations)  # the draws of bin 0
    later = _draw_distinct(rng, 2 * n, 2 * int(k.max()) + 2, permutations)
    t = 2
    window = np.concatenate([counts[:, t], counts[:, t - 1]])
    for i in range(n):
        around = list(
            weights.matrix.indices[weights.matrix.indptr[i] : weights.matrix.indptr[i + 1]]
        )
        others = around + [n + j for j in [*around, i]]
        observed = window[others].sum()
        n_ge = n_le = 0
        for row in later:
            picks = [int(j) for j in row[: len(others)]]
            if i in picks:
                picks[picks.index(i)] = int(row[len(others)])
            total = window[picks].sum()
            n_ge += total >= observed
            n_le += total <= observed
        expected = min(1.0, 2 * (min(n_ge, n_le) + 1) / (permutations + 1))
        assert p[i, t] == pytest.approx(expected, abs=1e-15)


# --------------------------------------------------------------------------- Mann-Kendall


def mk_reference(x: list[float]) -> tuple[float, float]:
    """Mann-Kendall written out: S over all pairs, tie groups, tau-b, normal p."""
    t = len(x)
    s = sum((x[b] > x[a]) - (x[b] < x[a]) for a in range(t) for b in range(a + 1, t))
    groups = [g for g in Counter(x).values() if g > 1]
    var = (t * (t - 1) * (2 * t + 5) - sum(g * (g - 1) * (2 * g + 5) for g in groups)) / 18
    n0 = t * (t - 1) / 2
    n1 = sum(g * (g - 1) / 2 for g in groups)
    tau = s / math.sqrt(n0 * (n0 - n1))
    p = math.erfc(abs(s) / math.sqrt(var) / math.sqrt(2))
    return tau, p


def test_mann_kendall_known_answers():
    # Strictly increasing, T = 10: S = 45, var = 10 * 9 * 25 / 18 = 125, tau = 1.
    tau, p = mann_kendall(np.arange(10.0))
    assert float(tau) == 1.0
    assert float(p) == pytest.approx(math.erfc(45 / math.sqrt(125) / math.sqrt(2)))
    # [1, 1, 2]: S = 2; one tie pair: var = (66 - 18) / 18; tau-b = 2 / sqrt(3 * 2).
    tau, p = mann_kendall([1.0, 1.0, 2.0])
    assert float(tau) == pytest.approx(2 / math.sqrt(6))
    assert float(p) == pytest.approx(math.erfc(2 / math.sqrt(48 / 18) / math.sqrt(2)))
    tau, p = mann_kendall([[5.0, 5.0, 5.0, 5.0]])
    assert np.isnan(tau).all() and np.isnan(p).all()
    with pytest.raises(ValueError, match="NaN"):
        mann_kendall([1.0, np.nan, 2.0])


def test_mann_kendall_equals_a_reference_and_scipy_kendalltau():
    rng = np.random.default_rng(0)
    rows = np.vstack(
        [
            rng.poisson(1.0, (20, 30)),  # many ties
            rng.poisson(1.0, (20, 30)) + np.arange(30) // 6,  # ties and a trend
            rng.normal(0, 1, (20, 30)),  # no ties
        ]
    ).astype(float)
    tau, p = mann_kendall(rows)
    for row, tau_i, p_i in zip(rows, tau, p, strict=True):
        ref_tau, ref_p = mk_reference(row.tolist())
        assert tau_i == pytest.approx(ref_tau, abs=1e-12)
        assert p_i == pytest.approx(ref_p, abs=1e-12)
        # scipy's tau-b and asymptotic p (no continuity correction) are the same numbers;
        # the classic S/n0 (tau-a) differs whenever there are ties.
        scipy = stats.kendalltau(np.arange(len(row)), row, method="asymptotic")
        assert tau_i == pytest.approx(scipy.statistic, abs=1e-12)
        assert p_i == pytest.approx(scipy.pvalue, abs=1e-12)


# --------------------------------------------------------------------------- categories

T = 20


def bins(*hot_bins: int) -> np.ndarray:
    row = np.zeros(T, dtype=bool)
    row[list(hot_bins)] = True
    return row


ALL = tuple(range(T))
UP, DOWN, FLAT = (0.6, 0.001), (-0.6, 0.001), (0.05, 0.6)

# (category, hot bins, cold bins, trend of z): the hot spot rows; cold rows swap them.
CASES = [
    ("intensifying", ALL, (), UP),
    ("diminishing", tuple(b for b in ALL if b != 5), (), DOWN),  # 19 of 20 incl. the final
    ("persistent", tuple(range(2, T)), (), FLAT),  # exactly 90 %
    ("persistent", tuple(range(2, T)), (), (0.6, 0.051)),  # a trend, not significant
    ("historical", tuple(range(T - 2)), (), DOWN),  # 90 %, final not hot
    ("new", (T - 1,), (), UP),
    ("new", (T - 1,), (3,), UP),  # an earlier opposite spell does not make it oscillating
    ("consecutive", tuple(range(T - 5, T)), (), UP),
    ("consecutive", (T - 2, T - 1), (0, 1), FLAT),
    ("sporadic", (2, 7, T - 1), (), FLAT),
    ("sporadic", tuple(b for b in range(3, T) if b != 10), (), UP),  # 85 %: not 90 %
    ("oscillating", (9, T - 1), (2, 3, 4), FLAT),
    ("oscillating", tuple(b for b in ALL if b not in (0, 5, 6)), (0,), UP),  # 85 % hot
    ("consecutive", tuple(range(3, T)), (0,), UP),  # one run of 17 (85 %) after a cold bin
]


@pytest.mark.parametrize(("pattern", "hot", "cold", "trend"), CASES)
@pytest.mark.parametrize("sign", ["hot", "cold"])
def test_every_category_from_constructed_series(pattern, hot, cold, trend, sign):
    mine, other = bins(*hot), bins(*cold)
    tau, p = trend
    if sign == "cold":  # a cold spot: the same series, cold and hot swapped, trend reversed
        tau = -tau
    rows = (mine, other) if sign == "hot" else (other, mine)
    category = emerging_categories(rows[0][None], rows[1][None], [tau], [p])
    assert category.tolist() == [f"{pattern}_{sign}"]


@pytest.mark.parametrize(
    ("hot", "cold", "expected"),
    [
        ((), (), "no_pattern"),
        (tuple(range(11)), (), "no_pattern"),  # hot for 55 %, long ago: not historical
        (tuple(range(T - 1)), (T - 1,), "new_cold"),  # final state first, then history
        ((), tuple(range(T - 1)), "historical_cold"),
        ((5, 6), (), "no_pattern"),
    ],
)
def test_the_remaining_rules(hot, cold, expected):
    category = emerging_categories(bins(*hot)[None], bins(*cold)[None], [0.0], [1.0])
    assert category.tolist() == [expected]


def test_categories_check_their_input():
    with pytest.raises(ValueError, match="both a significant hot and a significant cold"):
        emerging_categories(bins(1)[None], bins(1)[None], [0.0], [1.0])
    with pytest.raises(ValueError, match="hot and cold must be"):
        emerging_categories(bins(1)[None], bins(1, 2), [0.0, 1.0], [1.0])
    assert len(CATEGORIES) == 17
    assert text("emerging_new_hot") == Text("新增热点", "New hot spot")


def block_lattice(plan: str, seed: int = 0) -> tuple[GridWeights, np.ndarray]:
    """A 9 x 9 field of Poisson(3) counts over 20 weeks with the centre 3 x 3 block changed
    as ``plan`` says; the expected category of the centre cell (40) is ``plan``."""
    weights = grid_weights(lattice(9, 9))
    counts = np.random.default_rng(seed).poisson(3, (81, T))
    week = np.arange(T)
    change = {
        "persistent_hot": lambda y: y + 15,
        "consecutive_hot": lambda y: y + np.where(week >= T - 4, 15, 0),
        "new_hot": lambda y: y + np.where(week == T - 1, 30, 0),
        "intensifying_hot": lambda y: y + np.linspace(6, 40, T).round().astype(int),
        "diminishing_hot": lambda y: y + np.linspace(40, 15, T).round().astype(int),
        "historical_hot": lambda y: y + np.where(week < T - 3, 15, 0),
        "sporadic_hot": lambda y: y + np.where(np.isin(week, [3, 9, T - 1]), 25, 0),
        "oscillating_hot": lambda y: (
            np.where(np.isin(week, [2, 3, 4]), 0, y) + np.where(np.isin(week, [9, T - 1]), 25, 0)
        ),
        "persistent_cold": lambda y: 0 * y,
    }[plan]
    for r in (3, 4, 5):
        for c in (3, 4, 5):
            counts[r * 9 + c] = change(counts[r * 9 + c])
    return weights, counts


BLOCKS = [
    "persistent_hot",
    "consecutive_hot",
    "new_hot",
    "intensifying_hot",
    "diminishing_hot",
    "historical_hot",
    "sporadic_hot",
    "oscillating_hot",
    "persistent_cold",
]


@pytest.mark.parametrize("plan", BLOCKS)
def test_emerging_hotspots_names_a_planted_block(plan):
    weights, counts = block_lattice(plan)
    before = counts.copy()
    result = emerging_hotspots(cube_of(weights, counts), weights)
    assert result.category[40] == plan, (result.hot[40].astype(int), result.cold[40].astype(int))
    np.testing.assert_array_equal(counts, before)
    # Cells of a bin are significant at the FDR level, hot with z > 0 and cold with z < 0.
    assert (result.p_fdr[result.hot] <= 0.10).all() and (result.z[result.hot] > 0).all()
    assert (result.z[result.cold] < 0).all()


def test_emerging_result_columns_and_trends():
    weights, counts = block_lattice("intensifying_hot")
    frame = emerging_hotspots(cube_of(weights, counts), weights).to_frame()
    assert list(frame.columns) == [
        "grid_code",
        "emerging_category",
        "trend_tau",
        "trend_p",
        "count_tau",
        "count_p",
        "n_hot_bins",
        "n_cold_bins",
        "final_z",
    ]
    centre = frame.loc[40]
    assert centre["emerging_category"] == "intensifying_hot"
    assert centre["trend_tau"] > 0.5 and centre["count_p"] < 0.001
    assert set(frame["emerging_category"]) <= set(CATEGORIES)


def test_the_trend_correction_only_widens_p():
    weights, counts = block_lattice("persistent_hot")
    plain = emerging_hotspots(cube_of(weights, counts), weights, trend_correction=False)
    corrected = emerging_hotspots(cube_of(weights, counts), weights)
    np.testing.assert_array_equal(plain.trend_tau, corrected.trend_tau)
    both = np.isfinite(plain.trend_p)
    assert (corrected.trend_p[both] >= plain.trend_p[both] - 1e-15).all()
    z = np.nan_to_num(plain.z[:, 1:])
    np.testing.assert_allclose(plain.trend_p, mann_kendall(z)[1])


def test_emerging_hotspots_aligns_the_cube_and_refuses_other_grids():
    weights, counts = block_lattice("consecutive_hot")
    order = np.random.default_rng(1).permutation(weights.n)
    shuffled = SpaceTimeCube(
        weights.ids[order], cube_of(weights, counts).edges, counts[order], "week", 0
    )
    a = emerging_hotspots(cube_of(weights, counts), weights)
    b = emerging_hotspots(shuffled, weights)
    assert a.category.tolist() == b.category.tolist()
    other = grid_weights(lattice(3, 3))
    with pytest.raises(ValueError, match="the cube and the weights hold different grids"):
        emerging_hotspots(cube_of(weights, counts), other)
    with pytest.raises(ValueError, match=r"alpha must lie in \(0, 1\]"):
        emerging_hotspots(cube_of(weights, counts), weights, alpha=0)


@pytest.mark.parametrize("plan", ["persistent_hot", "consecutive_hot", "persistent_cold"])
def test_emerging_with_permutations_keeps_strong_blocks(plan):
    weights, counts = block_lattice(plan)
    result = emerging_hotspots(cube_of(weights, counts), weights, permutations=9999, seed=0)
    assert result.permutations == 9999
    assert result.category[40] == plan
    assert (result.p[np.isfinite(result.p)] >= 2 / 10000).all()


# --------------------------------------------------------------------------- demo county


@pytest.fixture(scope="module")
def demo_weights(demo_layers) -> GridWeights:
    return grid_weights(demo_layers["grids"])


def test_space_time_gi_equals_esda_on_the_demo(demo_layers, demo_weights):
    cube = space_time_cube(demo_layers["issues"], demo_weights, freq="week")
    assert cube.n_bins == 104
    ours = space_time_gi(cube.counts, demo_weights)
    peer = esda_space_time_z(cube.counts[:, :2], demo_weights)  # bins 0 and 1
    np.testing.assert_allclose(ours[:, :2], peer, rtol=0, atol=1e-9)
    for t in (50, 103):  # a bin's z depends on that bin and the one before only
        pair = esda_space_time_z(cube.counts[:, [t - 1, t]], demo_weights)
        np.testing.assert_allclose(ours[:, t], pair[:, 1], rtol=0, atol=1e-9)


#: Final bin hot and hot in at least 90 % of the bins (a Mann-Kendall trend on the z-scores
#: tips persistent to intensifying or diminishing).
MOSTLY_HOT = ("persistent_hot", "intensifying_hot", "diminishing_hot")
#: Final bin hot, fewer than 90 % of the bins hot.
LATELY_HOT = ("new_hot", "consecutive_hot", "sporadic_hot", "oscillating_hot")


def planted_result(demo_county, pattern: str, *, freq: Freq) -> tuple[Any, EmergingHotSpots]:
    """Where ``pattern`` was planted (a conftest.PlantedPattern), and the page's analysis of its
    category: ``freq`` bins, queen neighbours, 9,999 permutations per bin, FDR within each bin."""
    planted = demo_county.planted(pattern)
    assert len(planted.grids) >= planted.MIN_GRIDS, "this seed put the cluster in too few grids"
    assert len(planted.top) == 12
    weights = grid_weights(demo_county.layers["grids"])
    flt = IssueFilter(categories=(str(planted.row["category"]),))
    cube = space_time_cube(demo_county.layers["issues"], weights, freq=freq, flt=flt)
    return planted, emerging_hotspots(cube, weights, permutations=9999)


def categories(result: EmergingHotSpots) -> pd.Series:
    return result.to_frame().set_index("grid_code")["emerging_category"]


# `python bench/planted_recall.py` prints the recall of every setting for the cached demo. For
# any seed the tests assert what the planting promises for the grids holding half of a
# pattern's events (conftest.PlantedPattern.core); recalls over the 12 busiest grids are
# pinned on seed 0 only.


def test_p1_is_a_long_standing_hot_spot_by_month(demo_county):
    """+20 环境卫生 issues a week for two years over a 350 m disc: hot in at least 90 % of the
    months, the last included, and never cold."""
    planted, result = planted_result(demo_county, "P1", freq="month")
    found = categories(result)
    assert found[planted.core].isin(MOSTLY_HOT).all(), found[planted.core].to_dict()
    assert not found[planted.grids].str.endswith("_cold").any()
    if demo_county.seed == 0:
        # pinned on demo seed 0, measured 11 of 12 (December 2026)
        assert found[planted.top].isin(MOSTLY_HOT).sum() >= 9


def test_p2_is_a_new_or_consecutive_hot_spot_by_week(demo_county):
    """噪音扰民 rising from 6 to 30 a week over the last 8 of 104 weeks: hot in the final week
    but not in 90 % of them, and hardly anywhere else."""
    planted, result = planted_result(demo_county, "P2", freq="week")
    found = categories(result)
    assert found[planted.core].isin(LATELY_HOT).all(), found[planted.core].to_dict()
    # Away from the planted grids and their neighbours (Gi* sums a neighbourhood) a new or
    # consecutive hot spot is a false discovery of the final week: the FDR level of 0.10
    # bounds their expected share of that week's hot grids.
    weights = grid_weights(demo_county.layers["grids"])
    rows = np.flatnonzero(np.isin(weights.ids, planted.grids))
    near = set(planted.grids) | set(weights.ids[weights.matrix[rows].indices])
    recent = found.isin(["new_hot", "consecutive_hot", "intensifying_hot"])
    far = recent[~recent.index.isin(near)].sum()
    assert far <= math.ceil(0.10 * result.hot[:, -1].sum())
    if demo_county.seed == 0:
        # pinned on demo seed 0, measured 8 of the 12 busiest grids and 6 other grids
        # (December 2026)
        assert recent[planted.top].sum() >= 6
        assert recent.drop(planted.top).sum() <= 10


def test_p4_is_a_diminishing_hot_spot_by_month(demo_county):
    """物业管理 at 30 a week for a year, then falling to 10 a week: still hot in the last month,
    hot in at least 90 % of them, and for most of its grids with a falling z-score."""
    planted, result = planted_result(demo_county, "P4", freq="month")
    found = categories(result)
    core = found[planted.core]
    assert core.isin(["diminishing_hot", "persistent_hot"]).all(), core.to_dict()
    assert (core == "diminishing_hot").sum() > len(core) / 2
    if demo_county.seed == 0:
        # pinned on demo seed 0, measured 12 and 10 of 12 (December 2026)
        assert found[planted.top].isin(["diminishing_hot", "persistent_hot"]).sum() >= 8
        assert (found[planted.top] == "diminishing_hot").sum() >= 6
