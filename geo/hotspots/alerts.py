"""Early warnings on issues: surges, repeat complaints and bursts, with grid, time and evidence.

Four rules, vectorised over all grids and tickets with a k-d tree for space and time (the
only Python loops run over candidate windows while deduplicating them, and over the alerts
found, to write their evidence):

``surge`` (诉求激增)
    A grid's (and category's) count in the 7 days up to ``as_of`` against its own weekly
    mean over the previous 12 weeks, with a one-sided Poisson test.
``repeat_caller`` (重复投诉·同一来电人)
    One caller (normalised phone number) with several tickets of one category in a few days.
``repeat_place`` (重复投诉·同一地点)
    Tickets of one category from several different callers or reporters at one place.
``burst`` (群体性事件苗头)
    Many tickets of one category from different people close together within a few hours.

Distances are in metres in the issues' projected CRS (EPSG:4549 for GridGov); times are
naive Beijing time. Caller names and phone numbers appear in alerts only masked
(:mod:`geo.core.privacy`).
"""

from __future__ import annotations

import hashlib
import itertools
from collections import Counter
from dataclasses import dataclass, fields

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy import sparse
from scipy.spatial import cKDTree
from scipy.stats import poisson

from geo.core.clock import naive_beijing, naive_beijing_times
from geo.core.errors import InputProblems
from geo.core.i18n import Text
from geo.core.privacy import mask_name, mask_phone
from geo.core.validate import crs_problem

SURGE = "surge"
REPEAT_CALLER = "repeat_caller"
REPEAT_PLACE = "repeat_place"
BURST = "burst"

#: Every kind of alert, in the order alerts of the same time are listed; their words are the
#: i18n keys ``alert_kind_<kind>`` (群体性事件苗头, Burst …).
KINDS: tuple[str, ...] = (BURST, REPEAT_CALLER, REPEAT_PLACE, SURGE)
_ID_PREFIX = {SURGE: "SG", REPEAT_CALLER: "RC", REPEAT_PLACE: "RP", BURST: "BU"}
_KIND_ORDER = {kind: rank for rank, kind in enumerate(KINDS)}

_DAY_S = 86_400
_WEEK_S = 7 * _DAY_S
_REQUIRED = ("ticket_id", "received_at", "grid_code", "village_code", "town_code", "caller_phone")


@dataclass(frozen=True)
class AlertSettings:
    """Thresholds of the early-warning rules (defaults for a county like Sheyang).

    Attributes
    ----------
    category_column
        Column whose values must match for tickets to count together (``category``; use
        ``subcategory`` for finer rules).
    lookback_days
        Repeat and burst alerts are reported when their latest ticket is within this many
        days before ``as_of``; set it to the whole history for a retrospective.
    surge_baseline_weeks
        Number of weeks before the current 7 days whose weekly mean is the baseline.
    surge_by_category
        Test each grid × category (True) or each grid's total (False).
    surge_p_max
        The one-sided Poisson p-value must be strictly below this.
    surge_min_count
        At least this many tickets in the current 7 days.
    surge_min_ratio
        The current count must be at least this multiple of λ (the floored baseline).
    surge_min_baseline_per_week
        Floor of λ (tickets a week), so that a grid with no history is not a surge at 2 tickets.
    caller_min_tickets, caller_window_days
        Same caller and category: at least this many tickets within this many days.
    place_min_reporters, place_radius_m, place_window_days
        Same place and category: tickets from at least this many different callers or
        reporters within ``place_radius_m`` metres of one of them and within this many days.
    burst_min_reporters, burst_radius_m, burst_window_hours
        Burst: tickets from at least this many different callers or reporters within
        ``burst_radius_m`` metres of one of them and within this many hours.
    """

    category_column: str = "category"
    lookback_days: float = 30.0
    surge_baseline_weeks: int = 12
    surge_by_category: bool = True
    surge_p_max: float = 0.001
    surge_min_count: int = 5
    surge_min_ratio: float = 2.0
    surge_min_baseline_per_week: float = 0.5
    caller_min_tickets: int = 3
    caller_window_days: float = 30.0
    place_min_reporters: int = 5
    place_radius_m: float = 50.0
    place_window_days: float = 30.0
    burst_min_reporters: int = 5
    burst_radius_m: float = 300.0
    burst_window_hours: float = 6.0

    def problems(self) -> list[str]:
        """Every setting outside its allowed range, as messages naming value and range."""
        out = []
        for name in (
            "surge_baseline_weeks",
            "surge_min_count",
            "caller_min_tickets",
            "place_min_reporters",
            "burst_min_reporters",
        ):
            value = getattr(self, name)
            if not isinstance(value, int | np.integer) or value < 1:
                out.append(f"settings.{name} must be a whole number ≥ 1, got {value!r}")
        for name in (
            "lookback_days",
            "surge_min_baseline_per_week",
            "caller_window_days",
            "place_radius_m",
            "place_window_days",
            "burst_radius_m",
            "burst_window_hours",
        ):
            value = getattr(self, name)
            if not isinstance(value, int | float) or not value > 0:
                out.append(f"settings.{name} must be a number > 0, got {value!r}")
        if not isinstance(self.surge_min_ratio, int | float) or self.surge_min_ratio < 0:
            out.append(f"settings.surge_min_ratio must be ≥ 0, got {self.surge_min_ratio!r}")
        if not isinstance(self.surge_p_max, int | float) or not 0 < self.surge_p_max <= 1:
            out.append(f"settings.surge_p_max must be in (0, 1], got {self.surge_p_max!r}")
        return out


@dataclass(frozen=True)
class Alert:
    """One early warning.

    Attributes
    ----------
    alert_id
        Stable id: kind prefix (``SG``, ``RC``, ``RP``, ``BU``) and a hash of the kind,
        category and earliest ticket (a surge: grid, category and the day of ``as_of``): the
        same data give the same ids, and a caller's cluster keeps its id as it grows.
    kind
        ``surge``, ``repeat_caller``, ``repeat_place`` or ``burst`` (see :data:`KINDS`).
    grid_code, village_code, town_code
        The grid named by the alert: a surge's grid; for clusters the grid holding most of
        its tickets (ties: the smaller code); empty when none of them lies in a grid.
    category
        The shared value of the category column (empty for a surge of a grid's total).
    first_at, last_at
        Received time of the first and last ticket (naive Beijing time).
    n_events
        Number of tickets in the alert; ``ticket_ids`` lists them in time order.
    n_reporters
        Distinct callers or reporters among them (a ticket with no phone counts as one).
    evidence
        What was found and the rule it broke, in Chinese and English; caller data only masked.
    caller
        The masked caller (``周** 138****4567``) of a ``repeat_caller`` alert, else empty.
    centre_x, centre_y
        Mean position of the located tickets (metres, the issues' CRS); NaN if none.
    extent_m
        Largest distance from the centre to a ticket (metres).
    baseline_mean, ratio, p_value
        Surge only (NaN otherwise): weekly baseline mean, observed / λ and P(X ≥ observed).
    """

    alert_id: str
    kind: str
    grid_code: str
    village_code: str
    town_code: str
    category: str
    first_at: pd.Timestamp
    last_at: pd.Timestamp
    n_events: int
    n_reporters: int
    ticket_ids: tuple[str, ...]
    evidence: Text
    caller: str = ""
    centre_x: float = float("nan")
    centre_y: float = float("nan")
    extent_m: float = float("nan")
    baseline_mean: float = float("nan")
    ratio: float = float("nan")
    p_value: float = float("nan")


ALERT_COLUMNS = [f.name for f in fields(Alert)]


def detect_alerts(
    issues: pd.DataFrame, *, as_of: pd.Timestamp | str, settings: AlertSettings | None = None
) -> pd.DataFrame:
    """Every early warning at ``as_of``, newest first.

    Parameters
    ----------
    issues
        A GeoDataFrame of point issues in a projected CRS in metres (EPSG:4549), with
        ``ticket_id`` (unique), ``received_at`` (datetime64, naive Beijing time or tz-aware),
        ``grid_code``, ``village_code``, ``town_code``, ``caller_phone``, the category column
        and optionally ``caller_name`` and ``subcategory``. Missing or non-point geometries
        and empty codes are allowed (those tickets are left out of the rules that need
        them). Not modified.
    as_of
        "Now": tickets received after it are ignored.
    settings
        Thresholds; :class:`AlertSettings` defaults when omitted.

    Returns
    -------
    pandas.DataFrame
        One row per :class:`Alert` (columns :data:`ALERT_COLUMNS`), sorted by ``last_at``
        descending, then kind (burst, repeat_caller, repeat_place, surge), then ``alert_id``.

    Raises
    ------
    InputProblems
        Listing every problem with the columns, CRS, ``as_of`` and settings at once.

    Notes
    -----
    Rules, with the defaults (every comparison inclusive unless said; times to the second):

    surge
        For each grid (× category), ``observed`` = tickets received in (as_of − 7 d, as_of];
        ``baseline_mean`` = tickets in the 12 weeks before that / 12; λ = max(baseline_mean,
        0.5). Alert when P(X ≥ observed | X ~ Poisson(λ)) < 0.001 (strict) and observed ≥ 5
        and observed / λ ≥ 2. The baseline is shortened to the whole weeks the data covers
        (from midnight of the first ticket); with less than one whole week there is no test.
    repeat_caller
        Tickets with the same normalised phone (:func:`normalise_phones`) and category;
        a window is ≥ 3 of them whose first and last are at most 30 days apart. Windows that
        share a ticket are merged: one alert per cluster.
    repeat_place
        Located tickets of one category. A window is, around one seed ticket, the tickets
        within 50 m of it whose times fit in one 30-day interval holding the seed's; it
        counts when they come from ≥ 5 different reporters (the same phone counts once, a
        ticket without phone counts as its own reporter, so a single caller is
        repeat_caller's job) and its last ticket is in the lookback period. Overlapping
        windows are deduplicated strongest first (most reporters, then most tickets, then
        latest): the strongest window becomes one alert together with the windows sharing a
        ticket with it (one hop), and windows sharing a ticket with an earlier alert are
        dropped. No ticket is in two alerts of a kind, and an alert never chains across a
        neighbourhood: its tickets lie within 3 × 50 m of the strongest window's seed and
        within 3 × 30 days.
    burst
        As repeat_place with 300 m, 6 hours and ≥ 5 different reporters.

    repeat_caller clusters are traced over the whole history up to ``as_of``; every alert
    is reported when its latest ticket is in (as_of − 30 d, as_of] (``lookback_days``).
    """
    cfg = settings if settings is not None else AlertSettings()
    stamp, tickets = _prepare(issues, as_of, cfg)
    alerts = [
        *_surge_alerts(tickets, stamp, cfg),
        *_cluster_alerts(REPEAT_CALLER, tickets, _caller_clusters(tickets, cfg), stamp, cfg),
        *_cluster_alerts(REPEAT_PLACE, tickets, _place_clusters(tickets, cfg, stamp), stamp, cfg),
        *_cluster_alerts(BURST, tickets, _burst_clusters(tickets, cfg, stamp), stamp, cfg),
    ]
    alerts.sort(key=lambda a: (-a.last_at.value, _KIND_ORDER[a.kind], a.alert_id))
    # Row by row, not dataclasses.astuple: that would take the Text of the evidence apart.
    rows = [[getattr(a, c) for c in ALERT_COLUMNS] for a in alerts]
    frame = pd.DataFrame(rows, columns=ALERT_COLUMNS)
    for col in ("first_at", "last_at"):
        frame[col] = pd.to_datetime(frame[col])
    return frame


def normalise_phones(phones: pd.Series) -> np.ndarray:
    """Phone numbers reduced to their digits, so one caller has one key.

    ``+86 138-1234-5678``, ``008613812345678`` and ``13812345678.0`` (a float column) all give
    ``13812345678``; landlines keep their area code. Fewer than 7 digits, or none, give
    ``""`` (unknown caller).
    """
    if pd.api.types.is_numeric_dtype(phones.dtype):
        text = phones.round().astype("Int64").astype("string")
    else:
        text = phones.astype("string")
    digits = text.fillna("").str.replace(r"\D", "", regex=True)
    length = digits.str.len()
    mobile = digits.str.slice(-11).str.startswith("1")
    country = mobile & (
        ((length == 13) & digits.str.startswith("86"))
        | ((length == 15) & digits.str.startswith("0086"))
    )
    digits = digits.mask(country, digits.str.slice(-11))
    return np.where(digits.str.len() >= 7, digits, "").astype(str)


# --------------------------------------------------------------------------- input


@dataclass(frozen=True)
class _Tickets:
    """The columns the rules read, as arrays (only tickets received by ``as_of``)."""

    ticket_id: np.ndarray
    t: np.ndarray  # int64 seconds since 1970 of naive Beijing time
    category: np.ndarray
    subcategory: np.ndarray
    grid: np.ndarray
    village: np.ndarray
    town: np.ndarray
    x: np.ndarray  # metres; NaN without a point
    y: np.ndarray
    phone: np.ndarray  # normalised; "" unknown
    name: np.ndarray  # raw, used only through mask_name
    reporter: np.ndarray  # the same for the same phone, unique for an unknown caller

    @property
    def located(self) -> np.ndarray:
        return ~np.isnan(self.x)


def _reporters(phone: np.ndarray) -> np.ndarray:
    """A key per ticket: the same for the same phone, unique for an unknown caller."""
    codes = pd.factorize(phone)[0].astype(np.int64)
    unknown = phone == ""
    codes[unknown] = codes.max(initial=0) + 1 + np.flatnonzero(unknown)
    return codes


def _seconds(stamp: pd.Timestamp) -> int:
    """Whole seconds since 1970 of a naive time (rounded down)."""
    return int(stamp.floor("s").to_datetime64().astype("datetime64[s]").astype(np.int64))


def _text(series: pd.Series) -> np.ndarray:
    """Stripped text of a column; missing values give ``""``."""
    if isinstance(series.dtype, pd.CategoricalDtype):  # convert each category once
        labels = np.array([str(c).strip() for c in series.cat.categories] + [""], dtype=str)
        return labels[series.cat.codes.to_numpy()]  # code -1 (missing) picks the last, ""
    return series.astype("string").fillna("").str.strip().to_numpy(dtype=object).astype(str)


def _prepare(
    issues: pd.DataFrame, as_of: pd.Timestamp | str, cfg: AlertSettings
) -> tuple[pd.Timestamp, _Tickets]:
    """Check everything, then read the columns the rules need."""
    problems = cfg.problems()
    stamp = naive_beijing(as_of)
    if stamp is None:
        problems.append(f"as_of must be a time such as '2026-11-20 23:59:59', got {as_of!r}")
    if not isinstance(issues, pd.DataFrame):
        raise InputProblems(
            "detect alerts", [*problems, f"issues must be a GeoDataFrame, got {type(issues)}"]
        )
    missing = [c for c in (*_REQUIRED, cfg.category_column) if c not in issues.columns]
    if missing:
        problems.append(f"issues lack the column(s) {missing}; they have {list(issues.columns)}")
    if not isinstance(issues, gpd.GeoDataFrame):
        problems.append(
            f"issues must be a GeoDataFrame of points, got a {type(issues).__name__}; build one "
            "with geopandas.GeoDataFrame(frame, geometry=points, crs=<the county's metric CRS>)"
        )
    elif problem := crs_problem(issues, "issues"):
        problems.append(problem)
    if "received_at" in issues.columns and not pd.api.types.is_datetime64_any_dtype(
        issues["received_at"]
    ):
        problems.append(
            f"received_at must be datetime64, got {issues['received_at'].dtype}; "
            "convert it with pandas.to_datetime"
        )
    if "ticket_id" in issues.columns:
        dup = issues["ticket_id"][issues["ticket_id"].duplicated()]
        if len(dup):
            problems.append(
                f"{len(dup)} duplicated ticket_id value(s), e.g. "
                f"{list(dup.astype(str).unique()[:5])}; ticket ids must be unique"
            )
    if problems or stamp is None:
        raise InputProblems("detect alerts", problems)

    seconds = naive_beijing_times(issues["received_at"]).astype("datetime64[s]")
    as_of_s = _seconds(stamp)
    keep = ~np.isnat(seconds)
    keep[keep] = seconds[keep].astype(np.int64) <= as_of_s
    rows = issues.iloc[np.flatnonzero(keep)]
    geom = rows.geometry.to_numpy()
    point = (shapely.get_type_id(geom) == 0) & ~shapely.is_empty(geom)
    x, y = np.full(len(rows), np.nan), np.full(len(rows), np.nan)
    x[point], y[point] = shapely.get_x(geom[point]), shapely.get_y(geom[point])

    phone = normalise_phones(rows["caller_phone"])

    def col(name: str) -> np.ndarray:
        return _text(rows[name]) if name in rows.columns else np.full(len(rows), "", dtype=str)

    return stamp, _Tickets(
        ticket_id=_text(rows["ticket_id"]),
        t=seconds[keep].astype(np.int64),
        category=col(cfg.category_column),
        subcategory=col("subcategory"),
        grid=col("grid_code"),
        village=col("village_code"),
        town=col("town_code"),
        x=x,
        y=y,
        phone=phone,
        name=col("caller_name"),
        reporter=_reporters(phone),
    )


# --------------------------------------------------------------------------- surge


def _surge_alerts(tk: _Tickets, as_of: pd.Timestamp, cfg: AlertSettings) -> list[Alert]:
    """Grid (× category) counts of the last 7 days against their own weekly baseline."""
    if not len(tk.t):
        return []
    as_of_s = _seconds(as_of)
    window_start = as_of_s - _WEEK_S
    data_start = int(tk.t.min()) // _DAY_S * _DAY_S
    n_base = min(cfg.surge_baseline_weeks, (window_start - data_start) // _WEEK_S)
    if n_base < 1:
        return []
    week = (as_of_s - tk.t) // _WEEK_S  # 0: (as_of - 7 d, as_of]; 1..n_base: the baseline
    category = tk.category if cfg.surge_by_category else np.full(len(tk.t), "", dtype=str)
    use = (week <= n_base) & (tk.grid != "")
    if cfg.surge_by_category:
        use &= category != ""
    rows = np.flatnonzero(use)
    if not len(rows):
        return []
    pair_key = pd.MultiIndex.from_arrays([tk.grid[rows], category[rows]])
    pair, pairs = pd.factorize(pair_key)
    table = np.bincount(pair * (n_base + 1) + week[rows], minlength=len(pairs) * (n_base + 1))
    table = table.reshape(len(pairs), n_base + 1)
    observed = table[:, 0]
    baseline = table[:, 1:].sum(axis=1) / n_base
    lam = np.maximum(baseline, cfg.surge_min_baseline_per_week)
    p_value = poisson.sf(observed - 1, lam)  # P(X >= observed)
    ratio = observed / lam
    hit = (
        (observed >= cfg.surge_min_count)
        & (p_value < cfg.surge_p_max)
        & (ratio >= cfg.surge_min_ratio * (1 - 1e-12))
    )
    pair_of = np.full(len(tk.t), -1)
    pair_of[rows] = pair
    current = np.flatnonzero((week == 0) & (pair_of >= 0))
    current = current[hit[pair_of[current]]]
    current = current[np.lexsort((tk.ticket_id[current], tk.t[current], pair_of[current]))]
    groups = pair_of[current]
    bounds = np.flatnonzero(np.diff(groups, prepend=-1, append=-1))
    out = []
    day = as_of.strftime("%Y-%m-%d")
    for a, b in itertools.pairwise(bounds):
        k = groups[a]
        members = current[a:b]
        grid, cat = pairs[k]
        cx, cy, extent = _centre(tk, members)
        label = f"“{cat}”类" if cat else ""
        label_en = f"“{cat}” " if cat else ""
        n, base, p, r = int(observed[k]), float(baseline[k]), float(p_value[k]), float(ratio[k])
        rule = f"{_num(cfg.surge_p_max)}"
        if base >= cfg.surge_min_baseline_per_week:
            compare_zh = f"为前{n_base}周周均 {base:.1f} 件的 {r:.1f} 倍"
            compare_en = f"{r:.1f}× the weekly mean of {base:.1f} over the previous {n_base} weeks"
        else:
            total, floor = int(table[k, 1:].sum()), _num(cfg.surge_min_baseline_per_week)
            compare_zh = f"前{n_base}周共 {total} 件（周均 {base:.2f} 件，检验按下限 {floor} 件计）"
            compare_en = (
                f"against {total} in the previous {n_base} weeks (weekly mean {base:.2f}, "
                f"tested at the floor of {floor})"
            )
        out.append(
            Alert(
                alert_id=_alert_id(SURGE, grid, cat, day),
                kind=SURGE,
                grid_code=grid,
                village_code=str(tk.village[members[0]]),
                town_code=str(tk.town[members[0]]),
                category=cat,
                first_at=_stamp(tk.t[members[0]]),
                last_at=_stamp(tk.t[members[-1]]),
                n_events=n,
                n_reporters=_n_reporters(tk, members),
                ticket_ids=tuple(tk.ticket_id[members].tolist()),
                evidence=Text(
                    f"该网格截至 {day} 的近7天{label}诉求 {n} 件，{compare_zh}"
                    f"（单侧泊松检验 p={p:.1e}，阈值 p<{rule}）。",
                    f"{n} {label_en}issues in this grid in the 7 days to {day}, "
                    f"{compare_en} (one-sided Poisson test p={p:.1e}, "
                    f"threshold p<{rule}).",
                ),
                centre_x=cx,
                centre_y=cy,
                extent_m=extent,
                baseline_mean=base,
                ratio=r,
                p_value=p,
            )
        )
    return out


# --------------------------------------------------------------------------- clusters


def _expand(starts: np.ndarray, ends: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Window number and position of every position in the inclusive ranges [starts, ends]."""
    lengths = ends - starts + 1
    window = np.repeat(np.arange(len(starts)), lengths)
    offset = np.arange(int(lengths.sum())) - np.repeat(np.cumsum(lengths) - lengths, lengths)
    return window, np.repeat(starts, lengths) + offset


def _caller_clusters(tk: _Tickets, cfg: AlertSettings) -> np.ndarray:
    """Cluster number per ticket (-1: none) for the same-caller rule."""
    labels = np.full(len(tk.t), -1, dtype=np.int64)
    sel = np.flatnonzero((tk.phone != "") & (tk.category != ""))
    if len(sel) < cfg.caller_min_tickets:
        return labels
    window_s = round(cfg.caller_window_days * _DAY_S)
    phone, _ = pd.factorize(tk.phone[sel])
    cat, _ = pd.factorize(tk.category[sel])
    group = phone.astype(np.int64) * (int(cat.max()) + 1) + cat
    t = tk.t[sel] - tk.t[sel].min()
    order = np.lexsort((t, group))
    key = group[order] * (int(t.max()) + window_s + 1) + t[order]
    pos = np.arange(len(order))
    end = np.searchsorted(key, key + window_s, side="right") - 1
    ok = end - pos + 1 >= cfg.caller_min_tickets
    starts, ends = pos[ok], end[ok]
    if not len(starts):
        return labels
    reach = np.maximum.accumulate(ends)
    new = np.ones(len(starts), dtype=bool)
    new[1:] = starts[1:] > reach[:-1]  # a window sharing no ticket with earlier ones
    cluster, at = _expand(starts[new], np.maximum.reduceat(ends, np.flatnonzero(new)))
    labels[sel[order[at]]] = cluster
    return labels


def _spacetime_clusters(
    tk: _Tickets, *, radius_m: float, window_s: int, min_reporters: int, since_s: int
) -> np.ndarray:
    """Alert number per ticket (-1: none) for the place and burst rules (see detect_alerts).

    Candidate neighbours come from one k-d tree over (x shifted by category, y, time scaled
    so that the window is ``radius_m``) with the Chebyshev metric, then are checked exactly.
    Only windows whose last ticket is after ``since_s`` (seconds since 1970) are candidates.
    """
    labels = np.full(len(tk.t), -1, dtype=np.int64)
    sel = np.flatnonzero(tk.located & (tk.category != ""))
    if len(sel) < min_reporters:
        return labels
    t_min = int(tk.t[sel].min())
    x, y, t = tk.x[sel], tk.y[sel], tk.t[sel] - t_min
    cat, _ = pd.factorize(tk.category[sel])
    # Categories side by side along x, more than a radius apart: one 3-d tree for all.
    shift = float(np.ptp(x)) + 4.0 * radius_m + 1.0
    scaled = np.column_stack([x - x.min() + cat * shift, y, t * (radius_m / window_s)])
    pairs = cKDTree(scaled).query_pairs(radius_m * (1 + 1e-9), p=np.inf, output_type="ndarray")
    i, j = pairs[:, 0], pairs[:, 1]
    near = (
        (np.hypot(x[i] - x[j], y[i] - y[j]) <= radius_m)
        & (np.abs(t[i] - t[j]) <= window_s)
        & (cat[i] == cat[j])
    )
    i, j, every = i[near], j[near], np.arange(len(sel))
    # Every ticket as a seed with its neighbours (itself included) in time order.
    seed, member = np.concatenate([i, j, every]), np.concatenate([j, i, every])
    offset = t[member] - t[seed]
    order = np.lexsort((offset, seed))
    seed, member, offset = seed[order], member[order], offset[order]
    key = seed * (3 * window_s + 1) + offset + window_s
    starts = np.flatnonzero(offset <= 0)  # a window holding the seed starts at or before it
    ends = np.searchsorted(key, key[starts] + window_s, side="right") - 1
    ok = (ends - starts + 1 >= min_reporters) & (t[member[ends]] > since_s - t_min)
    starts, ends = starts[ok], ends[ok]
    window, at = _expand(starts, ends)
    if not len(at):
        return labels
    who = tk.reporter[sel][member[at]]
    base = int(who.max()) + 1
    reporters = np.bincount(np.unique(window * base + who) // base, minlength=len(starts))
    ok = reporters >= min_reporters
    starts, ends, reporters = starts[ok], ends[ok], reporters[ok]
    if not len(starts):
        return labels
    window, at = _expand(starts, ends)
    tickets = sparse.csr_array(
        (np.ones(len(at), dtype=bool), (window, member[at])), shape=(len(starts), len(sel))
    )
    # Strongest first: most reporters, most tickets, latest, earliest start, seed's ticket id.
    rank = np.argsort(np.argsort(tk.ticket_id[sel], kind="stable"))
    strongest = np.lexsort(
        (rank[seed[starts]], t[member[starts]], -t[member[ends]], starts - ends, -reporters)
    )
    return _greedy(tickets, strongest, labels, sel)


def _greedy(
    tickets: sparse.csr_array, strongest: np.ndarray, labels: np.ndarray, sel: np.ndarray
) -> np.ndarray:
    """Pick windows strongest first; each takes the windows sharing a ticket with it (one hop).

    A window sharing a ticket with an earlier alert is dropped, so no ticket is in two alerts
    and an alert is never a chain across a whole neighbourhood.
    """
    holders = tickets.tocsc()  # ticket -> windows holding it
    alive = np.ones(tickets.shape[0], dtype=bool)
    taken = np.zeros(tickets.shape[1], dtype=bool)
    n_alerts = 0
    for w in strongest:
        if not alive[w]:
            continue
        alive[w] = False
        own = tickets.indices[tickets.indptr[w] : tickets.indptr[w + 1]]
        if taken[own].any():
            continue
        near = holders[:, own].indices
        near = np.unique(near[alive[near]])
        alive[near] = False
        hop = np.unique(np.concatenate([own, tickets[near].indices]))
        hop = hop[~taken[hop]]
        taken[hop] = True
        labels[sel[hop]] = n_alerts
        n_alerts += 1
    return labels


def _since(cfg: AlertSettings, as_of: pd.Timestamp) -> int:
    """Start of the lookback period (excluded), in seconds since 1970."""
    return _seconds(as_of) - round(cfg.lookback_days * _DAY_S)


def _place_clusters(tk: _Tickets, cfg: AlertSettings, as_of: pd.Timestamp) -> np.ndarray:
    return _spacetime_clusters(
        tk,
        radius_m=cfg.place_radius_m,
        window_s=round(cfg.place_window_days * _DAY_S),
        min_reporters=cfg.place_min_reporters,
        since_s=_since(cfg, as_of),
    )


def _burst_clusters(tk: _Tickets, cfg: AlertSettings, as_of: pd.Timestamp) -> np.ndarray:
    return _spacetime_clusters(
        tk,
        radius_m=cfg.burst_radius_m,
        window_s=round(cfg.burst_window_hours * 3600),
        min_reporters=cfg.burst_min_reporters,
        since_s=_since(cfg, as_of),
    )


def _cluster_alerts(
    kind: str, tk: _Tickets, labels: np.ndarray, as_of: pd.Timestamp, cfg: AlertSettings
) -> list[Alert]:
    """One alert per recent cluster, with its grid, span, centre and evidence."""
    rows = np.flatnonzero(labels >= 0)
    if not len(rows):
        return []
    rows = rows[np.lexsort((tk.ticket_id[rows], tk.t[rows], labels[rows]))]  # ties: by id
    bounds = np.flatnonzero(np.diff(labels[rows], prepend=-1, append=-1))
    starts, stops = bounds[:-1], bounds[1:]
    last = tk.t[rows[stops - 1]]
    since = _since(cfg, as_of)
    out = []
    for a, b in zip(starts[last > since], stops[last > since], strict=True):
        members = rows[a:b]
        grid, village, town = _main_grid(tk, members)
        cat = str(tk.category[members[0]])
        cx, cy, extent = _centre(tk, members)
        first_at, last_at = _stamp(tk.t[members[0]]), _stamp(tk.t[members[-1]])
        n, reporters = len(members), _n_reporters(tk, members)
        caller = ""
        if kind == REPEAT_CALLER:
            names = [s for s in tk.name[members] if s]
            caller = " ".join(
                s
                for s in (mask_name(names[-1]) if names else "", mask_phone(tk.phone[members[0]]))
                if s
            )
            evidence = _caller_evidence(caller, cat, n, first_at, last_at, cfg)
        elif kind == REPEAT_PLACE:
            evidence = _place_evidence(cat, n, reporters, first_at, last_at, extent, cfg)
        else:
            evidence = _burst_evidence(tk, members, cat, reporters, first_at, last_at, extent, cfg)
        out.append(
            Alert(
                alert_id=_alert_id(kind, cat, str(tk.ticket_id[members[0]])),
                kind=kind,
                grid_code=grid,
                village_code=village,
                town_code=town,
                category=cat,
                first_at=first_at,
                last_at=last_at,
                n_events=n,
                n_reporters=reporters,
                ticket_ids=tuple(tk.ticket_id[members].tolist()),
                evidence=evidence,
                caller=caller,
                centre_x=cx,
                centre_y=cy,
                extent_m=extent,
            )
        )
    return out


# --------------------------------------------------------------------------- evidence


def _caller_evidence(
    caller: str, cat: str, n: int, first: pd.Timestamp, last: pd.Timestamp, cfg: AlertSettings
) -> Text:
    days = (last - first) / pd.Timedelta(days=1)
    rule_zh = f"规则：{_num(cfg.caller_window_days)} 天内 ≥{cfg.caller_min_tickets} 次"
    rule_en = f"rule: ≥{cfg.caller_min_tickets} within {_num(cfg.caller_window_days)} days"
    return Text(
        f"同一来电人（{caller}）在 {first:%Y-%m-%d} 至 {last:%Y-%m-%d}（{days:.1f} 天）"
        f"就“{cat}”类诉求来电 {n} 次（{rule_zh}）。",
        f"The same caller ({caller}) called {n} times about “{cat}” between "
        f"{first:%Y-%m-%d} and {last:%Y-%m-%d} ({days:.1f} days; {rule_en}).",
    )


def _place_evidence(
    cat: str,
    n: int,
    reporters: int,
    first: pd.Timestamp,
    last: pd.Timestamp,
    extent: float,
    cfg: AlertSettings,
) -> Text:
    r, d, k = _num(cfg.place_radius_m), _num(cfg.place_window_days), cfg.place_min_reporters
    return Text(
        f"同一地点附近（距中心 {extent:.0f} 米内）{first:%Y-%m-%d} 至 {last:%Y-%m-%d} 共有 {n} 件"
        f"“{cat}”类诉求，来自 {reporters} 个不同来电人或上报人"
        f"（规则：{r} 米内、{d} 天内 ≥{k} 个不同来电人或上报人）。",
        f"{n} “{cat}” issues at one place (within {extent:.0f} m of their centre) between "
        f"{first:%Y-%m-%d} and {last:%Y-%m-%d}, from {reporters} different callers or reporters "
        f"(rule: ≥{k} different callers or reporters within {r} m and {d} days).",
    )


def _burst_evidence(
    tk: _Tickets,
    members: np.ndarray,
    cat: str,
    reporters: int,
    first: pd.Timestamp,
    last: pd.Timestamp,
    extent: float,
    cfg: AlertSettings,
) -> Text:
    hours = (last - first) / pd.Timedelta(hours=1)
    subs = Counter(s for s in tk.subcategory[members] if s).most_common(3)
    sub_zh = "（" + "，".join(f"{s} {c} 件" for s, c in subs) + "）" if subs else ""
    sub_en = " (" + ", ".join(f"{s} {c}" for s, c in subs) + ")" if subs else ""
    r, h, k = _num(cfg.burst_radius_m), _num(cfg.burst_window_hours), cfg.burst_min_reporters
    end = f"{last:%H:%M}" if last.normalize() == first.normalize() else f"{last:%Y-%m-%d %H:%M}"
    return Text(
        f"{first:%Y-%m-%d %H:%M} 至 {end}（{hours:.1f} 小时）在距中心 {extent:.0f} 米内出现 "
        f"{len(members)} 件“{cat}”类诉求{sub_zh}，来自 {reporters} 个不同来电人或上报人，"
        f"疑似群体性事件苗头（规则：{r} 米内、{h} 小时内 ≥{k} 个不同来电人或上报人）。",
        f"{len(members)} “{cat}” issues{sub_en} within {extent:.0f} m of their centre between "
        f"{first:%Y-%m-%d %H:%M} and {end} ({hours:.1f} h), from {reporters} different callers "
        f"or reporters: a possible group incident (rule: ≥{k} different callers or reporters "
        f"within {r} m and {h} h).",
    )


# --------------------------------------------------------------------------- helpers


def _alert_id(kind: str, *parts: str) -> str:
    digest = hashlib.sha1("|".join((kind, *parts)).encode("utf-8")).hexdigest()
    return f"{_ID_PREFIX[kind]}-{digest[:12]}"


def _stamp(seconds: np.integer) -> pd.Timestamp:
    return pd.Timestamp(int(seconds), unit="s")


def _num(value: float) -> str:
    """30.0 → "30", 0.5 → "0.5"."""
    return f"{value:g}"


def _n_reporters(tk: _Tickets, members: np.ndarray) -> int:
    phones = tk.phone[members]
    return len(set(phones[phones != ""])) + int((phones == "").sum())


def _centre(tk: _Tickets, members: np.ndarray) -> tuple[float, float, float]:
    """Mean position of the located members and the largest distance from it (metres)."""
    located = members[tk.located[members]]
    if not len(located):
        return float("nan"), float("nan"), float("nan")
    cx, cy = float(tk.x[located].mean()), float(tk.y[located].mean())
    return cx, cy, float(np.hypot(tk.x[located] - cx, tk.y[located] - cy).max())


def _main_grid(tk: _Tickets, members: np.ndarray) -> tuple[str, str, str]:
    """The grid holding most members (ties: the smaller code) with its village and town."""
    in_grid = members[tk.grid[members] != ""]
    if not len(in_grid):
        return "", "", ""
    counts = Counter(tk.grid[in_grid])
    grid = min(counts, key=lambda code: (-counts[code], code))
    first = in_grid[tk.grid[in_grid] == grid][0]
    return str(grid), str(tk.village[first]), str(tk.town[first])
