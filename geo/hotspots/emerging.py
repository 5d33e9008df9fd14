"""Emerging hot spots: Gi* per week or month on a space-time cube, Mann-Kendall trends, categories.

Pipeline: :func:`space_time_cube` counts issues per grid and time bin; :func:`emerging_hotspots`
computes the space-time Gi* of every bin, corrects each bin for false discoveries, tests each
grid's series for a trend and names its pattern. Grids are in EPSG:4549; times are Beijing time.

Time bins
---------
Bins are aligned to the **end** of the history (as ArcGIS's "end time" alignment): the last
bin ends with the last day, each bin is one week (7 days) or one calendar-month step long, and
an incomplete leading bin is dropped. The demo's 730 days give 104 weekly bins.

Space-time Gi*
--------------
The neighbourhood of grid *i* in bin *t* is *i* and its spatial neighbours (binary weights,
weight 1 each) in bin *t* **and** in bin *t - 1* (a neighbourhood time step of one bin); in the
first bin there is no previous bin. Each bin's z-scores are computed against the mean and
variance of the cells of its time window (bins *t - 1* and *t*: 2n values; bin 0: n values), so a
county-wide rise or a holiday week does not make every grid hot or cold. This is exactly
``esda.G_Local(concat(y_t, y_(t-1)), W2, star=True, transform="B").Zs[:n]`` with
``W2 = [[A, A], [A, A]]`` and ``A`` the weights plus the identity. All bins come from one sparse
product ``A @ (Y + Y shifted by one bin)``. Two-sided p-values, normal by default (as ArcGIS) or
from conditional permutation within each bin's window (``permutations=9999``; better for sparse
weekly counts), are adjusted with Benjamini-Hochberg across the grids of each bin (cells with a
NaN z are left out); a cell is a significant hot (cold) spot when
``z > 0`` (``z < 0``) and the adjusted p is at most ``alpha`` (0.10: 90 % confidence). Cells whose
window has no variation (e.g. no issues at all) get NaN and are neither. Grids without
neighbours (islands) get NaN throughout and ``no_pattern``.

Trends
------
Mann-Kendall on each grid's series of Gi* z-scores from the second bin on (``trend_tau``,
``trend_p``; the first bin's window holds one bin, so its z-scores are on another scale; NaN z
counts as 0) and of counts (``count_tau``, ``count_p``): ``S = sum_{a<b} sign(x_b - x_a)``,
variance with the tie correction ``[T(T-1)(2T+5) - sum_g t_g(t_g-1)(2t_g+5)] / 18``, two-sided
normal p of ``S / sqrt(var)`` (no continuity correction), and Kendall's tau-b between time and
the series ``S / sqrt(n0 (n0 - n1))``. Both equal ``scipy.stats.kendalltau(range(T), x,
method="asymptotic")``. A constant series has NaN tau and p (no trend). By default the variance
is inflated for lag-1 autocorrelation (``trend_correction``): consecutive z-scores share a bin
of their windows, and the plain test then finds about three times the nominal rate of false
trends.

Categories
----------
With *T* bins, *H* = the set of significant hot bins, "final" = the last bin, "90 %" =
``len(H) >= hot_share * T`` (``hot_share=0.9``) and "up"/"down" = Mann-Kendall trend of z with
``trend_p <= trend_alpha`` (0.05) and ``tau > 0`` / ``tau < 0``. The rules are checked in this
order and the first that holds wins:

1. final bin hot and 90 % hot:
   ``intensifying_hot`` if up; ``diminishing_hot`` if down; else ``persistent_hot``.
2. final bin hot, fewer than 90 % hot:
   ``new_hot`` if the final bin is the only hot bin;
   ``consecutive_hot`` if the hot bins form one uninterrupted run (of >= 2) ending in the final
   bin (so no hot bin before the run);
   ``oscillating_hot`` if some earlier bin was a significant cold spot;
   ``sporadic_hot`` otherwise (hot on and off, never cold).
3. final bin cold: the same rules with hot and cold swapped (``intensifying_cold`` if the z
   trend is down, i.e. colder; ``diminishing_cold`` if up; ``oscillating_cold`` if some earlier
   bin was hot).
4. final bin neither: ``historical_hot`` if 90 % hot; ``historical_cold`` if 90 % cold.
5. otherwise ``no_pattern``.

These are ArcGIS Pro's Emerging Hot Spot Analysis definitions with three refinements stated
here: *persistent* requires the final bin to be hot (without it the grid is *historical*);
*new* and *consecutive* take precedence over *oscillating* (the hot history defines them; an
earlier cold spell does not change that the grid has just become hot); and a grid whose final
bin is hot (or cold) is named by that state even if it also meets *historical* for the other
sign. A hot spot that ended long before the last bin without having been hot in 90 % of all
bins is ``no_pattern`` under these rules: analyse a window that ends nearer to it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray
from scipy import sparse

from geo.grids.aggregate import IssueFilter, filter_mask
from geo.hotspots.local import (
    GridWeights,
    _check_permutations,
    _draw_distinct,
    _fdr_columns,
    _gi_z,
    _norm_two_sided,
    _permutation_counts,
    _PermutationPlan,
    _plan,
    _pseudo_p,
)

__all__ = [
    "CATEGORIES",
    "GLOBAL_WINDOWS",
    "EmergingHotSpots",
    "Freq",
    "GlobalWindow",
    "SpaceTimeCube",
    "emerging_categories",
    "emerging_hotspots",
    "mann_kendall",
    "space_time_cube",
    "space_time_gi",
]

FloatArray = NDArray[np.float64]
Freq = Literal["week", "month"]
#: Which cells the mean and variance of a bin's z-scores come from (ArcGIS's "global
#: window"): the bins of the neighbourhood time step (``neighborhood``, the default), the bin
#: alone (``individual``: each bin analysed on its own, neighbours in space only) or every
#: bin of the cube (``cube``).
GlobalWindow = Literal["neighborhood", "individual", "cube"]
GLOBAL_WINDOWS: tuple[GlobalWindow, ...] = ("neighborhood", "individual", "cube")

_PATTERNS = (
    "new",
    "consecutive",
    "intensifying",
    "persistent",
    "diminishing",
    "sporadic",
    "oscillating",
    "historical",
)
#: Every emerging category: the hot patterns, the cold patterns, then ``no_pattern``. Their
#: words are the i18n keys ``emerging_<category>`` (新增热点, New hot spot …).
CATEGORIES: tuple[str, ...] = (
    *(f"{p}_hot" for p in _PATTERNS),
    *(f"{p}_cold" for p in _PATTERNS),
    "no_pattern",
)


# --------------------------------------------------------------------------- cube


@dataclass(frozen=True, eq=False)
class SpaceTimeCube:
    """Issue counts per grid and time bin.

    Attributes
    ----------
    ids
        Grid codes (rows), shape ``(n,)``.
    edges
        Bin edges, ``T + 1`` timestamps (Beijing time): bin *t* holds issues received in
        ``[edges[t], edges[t + 1])``.
    counts
        ``(n, T)`` integer counts.
    freq
        ``"week"`` or ``"month"``.
    n_outside
        Selected issues not counted: received before the first full bin or after the last,
        without a time, or without one of ``ids`` as grid.
    """

    ids: NDArray[np.str_]
    edges: pd.DatetimeIndex
    counts: NDArray[np.int64]
    freq: str
    n_outside: int

    @property
    def n_bins(self) -> int:
        """Number of time bins T."""
        return int(self.counts.shape[1])

    @property
    def bin_starts(self) -> pd.DatetimeIndex:
        """First instant of each bin."""
        return self.edges[:-1]


def _bin_edges(first_day: pd.Timestamp, last_day: pd.Timestamp, freq: Freq) -> pd.DatetimeIndex:
    """Edges of the full bins between two days (inclusive), aligned to the end of the last."""
    stop = last_day.normalize() + pd.Timedelta(days=1)
    start = first_day.normalize()
    if freq == "week":
        n_bins = (stop - start).days // 7
        return pd.DatetimeIndex(
            [stop - pd.Timedelta(days=7 * (n_bins - j)) for j in range(n_bins + 1)]
        )
    if freq == "month":
        edges = []
        m = 0
        while (edge := stop - pd.DateOffset(months=m)) >= start:
            edges.append(edge)
            m += 1
        return pd.DatetimeIndex(edges[::-1])
    raise ValueError(f"freq must be 'week' or 'month', got {freq!r}")


def space_time_cube(
    issues: pd.DataFrame,
    grid_codes: ArrayLike | GridWeights,
    *,
    freq: Freq = "week",
    flt: IssueFilter | None = None,
    start: pd.Timestamp | None = None,
    end: pd.Timestamp | None = None,
) -> SpaceTimeCube:
    """Count issues per grid and week (or month) over the whole history.

    Parameters
    ----------
    issues
        Assigned issues with ``grid_code`` and ``received_at`` (Beijing time). Not modified.
    grid_codes
        The grids (rows of the cube), e.g. ``weights`` or ``grids["grid_code"]``.
    freq
        ``"week"`` (7-day bins) or ``"month"`` (calendar-month steps).
    flt
        Which issues to count (category, source, town…); its ``start``/``end`` also bound
        the bins when ``start``/``end`` are not given.
    start, end
        First and last day of the history (inclusive). Default: the filter's dates, else the
        days of the first and last selected issue.

    Returns
    -------
    SpaceTimeCube
        Counts built with one ``numpy.bincount``; bins end with ``end`` and an incomplete
        first bin is dropped.
    """
    ids = grid_codes.ids if isinstance(grid_codes, GridWeights) else np.asarray(grid_codes)
    ids = ids.astype(str).astype(np.str_)
    if pd.Index(ids).has_duplicates:
        raise ValueError("grid_codes has duplicates; pass each grid once")
    selected = issues if flt is None else issues[filter_mask(issues, flt)]
    received = pd.to_datetime(selected["received_at"])
    first = start if start is not None else (flt.start if flt is not None else None)
    last = end if end is not None else (flt.end if flt is not None else None)
    if first is None or last is None:
        if received.notna().sum() == 0:
            raise ValueError(
                "no selected issue has a received_at time; widen the filter or pass start and end"
            )
        first = received.min() if first is None else first
        last = received.max() if last is None else last
    edges = _bin_edges(pd.Timestamp(first), pd.Timestamp(last), freq)
    n_bins = len(edges) - 1
    if n_bins < 2:
        raise ValueError(
            f"the history from {pd.Timestamp(first):%Y-%m-%d} to {pd.Timestamp(last):%Y-%m-%d} "
            f"holds {max(n_bins, 0)} full {freq}(s); emerging hot spots need at least 2 bins: "
            "widen the window or use freq='week'"
        )
    times = received.to_numpy(dtype="datetime64[ns]")
    bins = np.searchsorted(edges.to_numpy(dtype="datetime64[ns]"), times, side="right") - 1
    rows = _positions(selected["grid_code"], ids)
    ok = (rows >= 0) & (bins >= 0) & (bins < n_bins) & ~np.isnat(times)
    flat = rows[ok] * n_bins + bins[ok]
    counts = np.bincount(flat, minlength=len(ids) * n_bins).reshape(len(ids), n_bins)
    return SpaceTimeCube(
        ids=ids,
        edges=edges,
        counts=counts.astype(np.int64),
        freq=freq,
        n_outside=int((~ok).sum()),
    )


def _positions(codes: pd.Series, ids: NDArray[np.str_]) -> NDArray[np.int64]:
    """Row of each issue's grid code among ``ids`` (-1 when not there or missing)."""
    index = pd.Index(ids)
    if isinstance(codes.dtype, pd.CategoricalDtype):  # map the few categories, not every row
        per_category = index.get_indexer(pd.Index(codes.cat.categories.astype(str)))
        raw = codes.cat.codes.to_numpy()
        return np.where(raw >= 0, per_category[raw], -1).astype(np.int64)
    return index.get_indexer(pd.Index(codes.astype(str))).astype(np.int64)


# --------------------------------------------------------------------------- Gi* and trends


def space_time_gi(
    values: ArrayLike,
    weights: GridWeights,
    *,
    time_step: int = 1,
    global_window: GlobalWindow = "neighborhood",
) -> FloatArray:
    """Space-time Gi* z-scores of every cell (grid x bin) with one sparse product.

    Parameters
    ----------
    values
        ``(n, T)`` values per grid (rows in the order of ``weights.ids``) and time bin.
    weights
        Binary spatial weights; the grid itself and the ``time_step`` previous bins are
        added (see the module docstring).
    time_step, global_window
        The neighbourhood time step (bins before *t* in the neighbourhood; 0 = space only)
        and the global window (:data:`GlobalWindow`; ``individual`` takes no time step).

    Returns
    -------
    numpy.ndarray
        ``(n, T)`` z-scores; NaN for islands and for windows without variation.
    """
    y = np.array(values, dtype=float)
    if y.ndim != 2 or y.shape[0] != weights.n:
        raise ValueError(f"values must have shape ({weights.n}, T), got {y.shape}")
    if not np.isfinite(y).all() or (y < 0).any():
        raise ValueError("Gi* needs finite values >= 0 (counts or rates) in every cell")
    time_step = _check_time_step(time_step, global_window)
    lag = _space_time_lag(y, weights, time_step)
    return _space_time_gi(y, weights, lag, time_step, global_window)


def _check_time_step(time_step: int, global_window: str) -> int:
    if global_window not in GLOBAL_WINDOWS:
        raise ValueError(f"global_window must be one of {GLOBAL_WINDOWS}, got {global_window!r}")
    if isinstance(time_step, bool) or not isinstance(time_step, int | np.integer) or time_step < 0:
        raise ValueError(f"time_step must be a whole number of bins >= 0, got {time_step!r}")
    if global_window == "individual" and time_step:
        raise ValueError(
            "global_window='individual' analyses each bin on its own: its neighbourhood has no "
            "earlier bins (time_step=0); use 'neighborhood' or 'cube' to include them"
        )
    return int(time_step)


def _space_time_lag(y: FloatArray, weights: GridWeights, time_step: int = 1) -> FloatArray:
    """Sum over each cell's space-time neighbourhood (itself and the ``time_step`` bins before
    it included): one sparse product."""
    window = y.copy()
    for back in range(1, time_step + 1):
        window[:, back:] += y[:, :-back]
    a_star = weights.matrix + sparse.identity(weights.n, format="csr")
    return np.asarray(a_star @ window)


def _reference_bins(t: int, n_bins: int, time_step: int, global_window: str) -> list[int]:
    """The bins whose cells make bin *t*'s global window, bin *t* first."""
    if global_window == "cube":
        return [t, *(b for b in range(n_bins) if b != t)]
    return [t, *range(t - 1, max(t - time_step, 0) - 1, -1)]


def _space_time_gi(
    y: FloatArray,
    weights: GridWeights,
    lag: FloatArray,
    time_step: int = 1,
    global_window: str = "neighborhood",
) -> FloatArray:
    """z-scores of every cell from the neighbourhood sums ``lag`` (see :func:`space_time_gi`)."""
    n, n_bins = y.shape
    t = np.arange(n_bins)
    span = np.minimum(t, time_step) + 1.0  # bins in each cell's neighbourhood
    card = (weights.cardinalities + 1.0)[:, None] * span[None, :]
    column, column_sq = y.sum(axis=0), (y * y).sum(axis=0)
    if global_window == "cube":
        total = np.full(n_bins, column.sum())
        total_sq = np.full(n_bins, column_sq.sum())
        cells = np.full(n_bins, float(n * n_bins))
    else:  # the neighbourhood's bins (the bin alone for "individual": time_step is 0)
        total, total_sq = column.copy(), column_sq.copy()
        for back in range(1, time_step + 1):
            total[back:] += column[:-back]
            total_sq[back:] += column_sq[:-back]
        cells = n * span
    _, z = _gi_z(lag, card, cells[None, :], total[None, :], total_sq[None, :])
    z[weights.island_mask, :] = np.nan
    return np.asarray(z, dtype=float)


def _space_time_p_sim(
    y: FloatArray,
    weights: GridWeights,
    lag: FloatArray,
    *,
    permutations: int,
    seed: int | None,
    time_step: int = 1,
    global_window: str = "neighborhood",
) -> FloatArray:
    """Two-sided conditional-permutation p-values of every cell's space-time Gi*.

    Cell *(i, t)* keeps its value; its ``(k_i + 1) s_t - 1`` other neighbourhood cells
    (``s_t`` bins in its neighbourhood) are drawn from the other cells of its global window
    (:func:`_reference_bins`). One matrix of draws serves every bin with the same window
    size and neighbourhood span (as one serves every grid in
    :func:`geo.hotspots.local.gi_star`).
    """
    n, n_bins = y.shape
    k = weights.cardinalities
    rng = np.random.default_rng(seed)
    plans: dict[tuple[int, int], _PermutationPlan] = {}
    p = np.empty((n, n_bins))
    for t in range(n_bins):
        bins = _reference_bins(t, n_bins, time_step, global_window)
        span = min(t, time_step) + 1
        shape = (len(bins), span)
        if shape not in plans:
            card = np.concatenate(
                [(k + 1) * span - 1, np.zeros(n * (len(bins) - 1), dtype=np.int64)]
            )
            width = min(int(card.max(initial=0)) + 1, n * len(bins))
            plans[shape] = _plan(_draw_distinct(rng, n * len(bins), width, permutations), card)
        window = np.concatenate([y[:, b] for b in bins])
        observed = np.concatenate([lag[:, t] - y[:, t], np.zeros(n * (len(bins) - 1))])
        n_ge, n_le = _permutation_counts(window, observed, plans[shape])
        p[:, t] = _pseudo_p(n_ge[:n], n_le[:n], permutations)
    return p


def mann_kendall(
    series: ArrayLike, *, lag1_correction: bool = False
) -> tuple[FloatArray, FloatArray]:
    """Mann-Kendall trend test of each row (tie-corrected variance, no continuity correction).

    Parameters
    ----------
    series
        ``(T,)`` or ``(n, T)`` values in time order (no NaN).
    lag1_correction
        Inflate ``var S`` for serial correlation (an effective sample size, Yue & Wang 2004,
        lag 1 only): by ``1 + 2 (1 - 1/T) rho_1`` where ``rho_1 > 0`` is the lag-1
        autocorrelation of the row after removing its least-squares line. Off by default.

    Returns
    -------
    tau, p
        Kendall's tau-b between time and each row, and the two-sided normal p-value of
        ``S / sqrt(var S)``; NaN for a constant row. Without the correction equal to
        ``scipy.stats.kendalltau(np.arange(T), row, method="asymptotic")``.
    """
    x = np.asarray(series, dtype=float)
    one = x.ndim == 1
    x = np.atleast_2d(x)
    if not np.isfinite(x).all():
        raise ValueError("series has NaN or infinite values; fill them first")
    n, t = x.shape
    # Dense ranks per row (ties share a rank) make the pairwise signs cheap small integers.
    order = np.argsort(x, axis=1, kind="stable")
    ordered = np.take_along_axis(x, order, axis=1)
    starts = np.ones((n, t), dtype=bool)
    starts[:, 1:] = ordered[:, 1:] != ordered[:, :-1]
    dense = np.cumsum(starts, axis=1)
    rank = np.empty((n, t), dtype=np.int16 if t < 2**15 else np.int64)
    np.put_along_axis(rank, order, dense.astype(rank.dtype), axis=1)
    by_time = np.ascontiguousarray(rank.T)
    s = np.zeros(n, dtype=np.int64)
    for lag in range(1, t):
        s += np.sign(by_time[lag:] - by_time[:-lag]).sum(axis=0, dtype=np.int64)
    # Tie groups: the run lengths of equal values in each sorted row.
    run = dense - 1 + (np.arange(n) * t)[:, None]
    sizes = np.bincount(run.ravel(), minlength=n * t).reshape(n, t).astype(float)
    ties_var = (sizes * (sizes - 1) * (2 * sizes + 5)).sum(axis=1)
    ties_pairs = (sizes * (sizes - 1) / 2).sum(axis=1)
    var_s = (t * (t - 1) * (2 * t + 5) - ties_var) / 18.0
    if lag1_correction and t > 2:
        var_s = var_s * (1 + 2 * (1 - 1 / t) * _lag1_autocorrelation(x))
    n0 = t * (t - 1) / 2.0
    with np.errstate(divide="ignore", invalid="ignore"):
        tau = s / np.sqrt(n0 * (n0 - ties_pairs))
        p = _norm_two_sided(s / np.sqrt(var_s))
    constant = var_s <= 0
    tau[constant], p[constant] = np.nan, np.nan
    return (tau[0:1].reshape(()) if one else tau), (p[0:1].reshape(()) if one else p)


def _lag1_autocorrelation(x: FloatArray) -> FloatArray:
    """Lag-1 autocorrelation of each row around its least-squares line, clipped to [0, 1)."""
    t = x.shape[1]
    time = np.arange(t) - (t - 1) / 2
    slope = (x * time).sum(axis=1) / (time * time).sum()
    residual = x - x.mean(axis=1, keepdims=True) - slope[:, None] * time[None, :]
    with np.errstate(divide="ignore", invalid="ignore"):
        rho = (residual[:, 1:] * residual[:, :-1]).sum(axis=1) / (residual * residual).sum(axis=1)
    return np.clip(np.nan_to_num(rho, nan=0.0), 0.0, 0.99)


# --------------------------------------------------------------------------- categories


def emerging_categories(
    hot: ArrayLike,
    cold: ArrayLike,
    trend_tau: ArrayLike,
    trend_p: ArrayLike,
    *,
    hot_share: float = 0.9,
    trend_alpha: float = 0.05,
) -> NDArray[np.str_]:
    """The emerging category of each grid from its significant bins and trend.

    Parameters
    ----------
    hot, cold
        ``(n, T)`` booleans: significant hot / cold cells, in time order.
    trend_tau, trend_p
        ``(n,)`` Mann-Kendall tau and p of each grid's z series.
    hot_share, trend_alpha
        The 90 % share and the trend significance level (see the module docstring).

    Returns
    -------
    numpy.ndarray
        ``(n,)`` categories, one of :data:`CATEGORIES`, by the rules of the module docstring.
    """
    hot = np.atleast_2d(np.asarray(hot, dtype=bool))
    cold = np.atleast_2d(np.asarray(cold, dtype=bool))
    tau = np.atleast_1d(np.asarray(trend_tau, dtype=float))
    p = np.atleast_1d(np.asarray(trend_p, dtype=float))
    if hot.shape != cold.shape or tau.shape != p.shape or tau.shape != (hot.shape[0],):
        raise ValueError(
            f"hot and cold must be (n, T) and trend_tau, trend_p (n,); got {hot.shape}, "
            f"{cold.shape}, {tau.shape}, {p.shape}"
        )
    if (hot & cold).any():
        raise ValueError("a cell cannot be both a significant hot and a significant cold spot")
    n, t = hot.shape
    out = np.full(n, "no_pattern", dtype="<U20")
    significant = np.isfinite(p) & (p <= trend_alpha)
    up = significant & (tau > 0)
    down = significant & (tau < 0)

    def name(mine: NDArray[np.bool_], other: NDArray[np.bool_], sign: str) -> None:
        count = mine.sum(axis=1)
        most = count >= hot_share * t - 1e-9
        final = mine[:, -1]
        trailing = np.cumprod(mine[:, ::-1], axis=1).sum(axis=1)
        stronger, weaker = (up, down) if sign == "hot" else (down, up)
        rules = [
            (final & most & stronger, "intensifying"),
            (final & most & weaker, "diminishing"),
            (final & most, "persistent"),
            (final & (count == 1), "new"),
            (final & (trailing == count), "consecutive"),
            (final & other[:, :-1].any(axis=1), "oscillating"),
            (final, "sporadic"),
        ]
        undecided = out == "no_pattern"
        for rule, pattern in rules:
            chosen = undecided & rule
            out[chosen] = f"{pattern}_{sign}"
            undecided &= ~chosen

    name(hot, cold, "hot")
    name(cold, hot, "cold")
    undecided = out == "no_pattern"
    for mine, sign in ((hot, "hot"), (cold, "cold")):
        most = mine.sum(axis=1) >= hot_share * t - 1e-9
        out[undecided & most] = f"historical_{sign}"
        undecided &= ~most
    return out


@dataclass(frozen=True, eq=False)
class EmergingHotSpots:
    """Emerging hot-spot analysis of a space-time cube (see :func:`emerging_hotspots`).

    Attributes
    ----------
    ids
        Grid codes (rows).
    edges
        Bin edges (``T + 1`` timestamps, Beijing time).
    counts
        ``(n, T)`` counts analysed.
    z
        ``(n, T)`` space-time Gi* z-scores (NaN: island, or a window without variation).
    p
        ``(n, T)`` two-sided p-values: normal (``permutations == 0``) or pseudo p-values.
    p_fdr
        ``p`` Benjamini-Hochberg adjusted within each bin.
    hot, cold
        ``(n, T)`` significant hot / cold cells (``p_fdr <= alpha``, sign of ``z``).
    category
        ``emerging_category`` of each grid: one of :data:`CATEGORIES`.
    trend_tau, trend_p
        Mann-Kendall tau-b and p of each grid's z series from the second bin (NaN z as 0).
    count_tau, count_p
        Mann-Kendall tau-b and p of each grid's count series.
    islands
        Grids without neighbours (NaN z, ``no_pattern``).
    alpha, trend_alpha, hot_share, permutations, trend_correction
        The options used.
    """

    ids: NDArray[np.str_]
    edges: pd.DatetimeIndex
    counts: NDArray[np.int64]
    z: FloatArray
    p: FloatArray
    p_fdr: FloatArray
    hot: NDArray[np.bool_]
    cold: NDArray[np.bool_]
    category: NDArray[np.str_]
    trend_tau: FloatArray
    trend_p: FloatArray
    count_tau: FloatArray
    count_p: FloatArray
    islands: tuple[str, ...]
    alpha: float
    trend_alpha: float
    hot_share: float
    permutations: int
    trend_correction: bool

    def to_frame(self) -> pd.DataFrame:
        """One row per grid: ``grid_code``, ``emerging_category``, ``trend_tau``,
        ``trend_p``, ``count_tau``, ``count_p``, ``n_hot_bins``, ``n_cold_bins``, ``final_z``."""
        return pd.DataFrame(
            {
                "grid_code": self.ids,
                "emerging_category": self.category,
                "trend_tau": self.trend_tau,
                "trend_p": self.trend_p,
                "count_tau": self.count_tau,
                "count_p": self.count_p,
                "n_hot_bins": self.hot.sum(axis=1),
                "n_cold_bins": self.cold.sum(axis=1),
                "final_z": self.z[:, -1],
            }
        )


def emerging_hotspots(
    cube: SpaceTimeCube,
    weights: GridWeights,
    *,
    alpha: float = 0.10,
    trend_alpha: float = 0.05,
    hot_share: float = 0.9,
    permutations: int = 0,
    seed: int | None = 0,
    trend_correction: bool = True,
    time_step: int = 1,
    global_window: GlobalWindow = "neighborhood",
) -> EmergingHotSpots:
    """Emerging hot-spot categories of every grid (rules in the module docstring).

    Parameters
    ----------
    cube
        Counts per grid and bin from :func:`space_time_cube`; its grids must be those of
        ``weights`` (any order). Not modified.
    weights
        Binary spatial weights between the grids. Not modified.
    alpha
        FDR level for a significant hot or cold cell (0.10: 90 % confidence).
    trend_alpha
        Significance level of the Mann-Kendall trend of z (0.05).
    hot_share
        Share of bins that makes a grid persistent / intensifying / diminishing / historical
        (0.9: 90 %).
    permutations
        0 (the default, as ArcGIS): normal p-values of the z-scores. More: two-sided
        conditional-permutation pseudo p-values in each bin's window (see the module
        docstring); better when counts are sparse (weekly counts of one category average
        well under one per grid, and the normal approximation then calls a neighbourhood with
        3 or 4 issues significant). Use 9999 or more: with 999 the smallest p, 0.002, cannot
        pass the FDR correction over 3,689 grids unless 74 cells of a bin sit at that floor.
    seed
        Seed of ``numpy.random.default_rng`` for the permutations.
    trend_correction
        Inflate the Mann-Kendall variance for lag-1 autocorrelation (see :func:`mann_kendall`;
        on by default). The space-time window makes consecutive z-scores share a bin, so
        without it 14-17 % of grids with no change show a "significant" trend at 0.05
        (measured on Poisson noise, 20 x 20 grids, 20-104 bins); with it 5-7 %. ``False``
        gives the plain test, as ArcGIS.
    time_step
        Neighbourhood time step: how many bins before each bin its neighbourhood holds (1,
        as ArcGIS's default; 0 = neighbours in space only).
    global_window
        ArcGIS's "define global window" (:data:`GlobalWindow`): the cells a bin's z-scores
        are measured against — the neighbourhood time step's bins (``neighborhood``, the
        default), the bin alone (``individual``; needs ``time_step=0``) or the whole cube
        (``cube``: a county-wide rise then shows as hot bins).

    Returns
    -------
    EmergingHotSpots
        Per-cell z, adjusted p and hot/cold flags; per-grid category and trends, in the order
        of ``weights.ids``.
    """
    for name, value in (("alpha", alpha), ("trend_alpha", trend_alpha), ("hot_share", hot_share)):
        if not 0 < value <= 1:
            raise ValueError(f"{name} must lie in (0, 1], got {value}")
    permutations = _check_permutations(permutations)
    time_step = _check_time_step(time_step, global_window)
    counts = _aligned(cube, weights)
    y = counts.astype(float)
    lag = _space_time_lag(y, weights, time_step)
    z = _space_time_gi(y, weights, lag, time_step, global_window)
    if permutations:
        p = _space_time_p_sim(y, weights, lag, permutations=permutations, seed=seed,
                              time_step=time_step, global_window=global_window)  # fmt: skip
        p = np.where(np.isfinite(z), p, np.nan)
    else:
        p = _norm_two_sided(z)
    p_fdr = _fdr_columns(p)
    significant = np.isfinite(p_fdr) & (p_fdr <= alpha)
    hot = significant & (z > 0)
    cold = significant & (z < 0)
    # With the neighbourhood's window, the first bins' windows hold fewer bins: their
    # z-scores are on another scale and the trend starts after them.
    first = min(time_step, cube.n_bins - 2) if global_window == "neighborhood" else 0
    trend_tau, trend_p = mann_kendall(
        np.nan_to_num(z[:, first:], nan=0.0), lag1_correction=trend_correction
    )
    count_tau, count_p = mann_kendall(counts, lag1_correction=trend_correction)
    category = emerging_categories(
        hot, cold, trend_tau, trend_p, hot_share=hot_share, trend_alpha=trend_alpha
    )
    category[weights.island_mask] = "no_pattern"
    return EmergingHotSpots(
        ids=weights.ids,
        edges=cube.edges,
        counts=counts,
        z=z,
        p=p,
        p_fdr=p_fdr,
        hot=hot,
        cold=cold,
        category=category,
        trend_tau=trend_tau,
        trend_p=trend_p,
        count_tau=count_tau,
        count_p=count_p,
        islands=weights.islands,
        alpha=alpha,
        trend_alpha=trend_alpha,
        hot_share=hot_share,
        permutations=permutations,
        trend_correction=trend_correction,
    )


def _aligned(cube: SpaceTimeCube, weights: GridWeights) -> NDArray[np.int64]:
    """The cube's counts in the row order of ``weights`` (a copy)."""
    if np.array_equal(cube.ids, weights.ids):
        return cube.counts.copy()
    position = pd.Index(cube.ids).get_indexer(pd.Index(weights.ids))
    missing = weights.ids[position < 0]
    extra = np.setdiff1d(cube.ids, weights.ids)
    if len(missing) or len(extra):
        raise ValueError(
            f"the cube and the weights hold different grids ({len(missing)} weighted grids "
            f"not in the cube, e.g. {missing[:3].tolist()}; {len(extra)} cube grids not "
            f"weighted, e.g. {extra[:3].tolist()}); build both from the same grids"
        )
    return cube.counts[position].copy()
