"""The closed loop of every issue: stages, deadline states, KPIs and the 日清—周结—月过堂 rhythm.

Every 12345 or patrol ticket goes received → dispatched → (handled) → closed → called back.
Its deadline is :func:`geo.core.tickets.due_at` (the one deadline function: working days on the
Chinese working calendar of :mod:`geo.core.workcal`); after it the provincial 12345 rules send a
reminder (催办) the day after the deadline — here the first working day after the deadline
day — and a reprimand (通报/督办) five working days after the reminder.

Everything is computed "as of" a time (naive Beijing time, :attr:`geo.store.county.County.as_of`)
from the tickets' timestamps, so the same data answer for any past day: tickets received
after ``as_of`` are left out, and a ticket counts as closed only from its ``closed_at``.

Columns read (``issues`` is never modified)
    required: ``received_at``, ``request_type``, ``status``, ``closed_at``.
    optional: ``due_at`` (reused when present, as :func:`geo.store.county.load_county` adds it),
    ``dispatched_at``, ``handled_at``, ``callback_at``, ``resolution_level``,
    ``satisfaction``, ``caller_phone``, ``reopened`` or ``reopen_count``, ``platform``,
    ``category``, ``ticket_id``, ``source``, ``grid_code``, ``village_code``, ``town_code``.
    Codes and categories may be text or categorical (as :class:`geo.store.county.County` has them).

Definitions (the KPI table of :func:`loop_kpis`)
    overdue (超期)
        Open at ``as_of`` (not closed by then) and past the deadline's last second.
    on-time rate (按期办结率)
        :func:`on_time_rate`: closed on time / (closed + overdue). The Overview's tiles, the
        closed-loop page, the wall, the weekly summary and the monthly report all take it
        from there.
    first-time resolution rate (一次性办结率) — a proxy
        The data hold no reopen history, so a closed ticket counts as resolved first time
        when it was closed inside the grid net (``resolution_level`` 网格 or 村: not
        escalated to the town or county), its call-back was not 不满意 (an unsatisfied
        call-back sends a 12345 ticket back for re-handling, 退回重办) and, when the data
        have a ``reopened`` (bool) or ``reopen_count`` column, it was never reopened.
        Divided by closed tickets.
    grid share, net share (小事不出格、大事不出网)
        Closed tickets resolved at grid level / closed; at grid or village level / closed.
    call-back rate (回访率)
        Closed tickets with a satisfaction recorded (满意, 基本满意, 不满意; and
        ``callback_at`` by ``as_of`` when that column exists) / closed tickets that have a
        caller to call back (non-empty ``caller_phone``; every closed ticket when the column
        is absent). Patrol reports have no caller and are left out.
    satisfaction rate (满意率)
        (满意 + 基本满意) / tickets with a satisfaction recorded, among closed tickets.
    median days to close
        Median of ``closed_at − received_at`` in calendar days over closed tickets.

Routing platform
    When the data have no ``platform`` column (or leave it empty), the platform is derived
    from ``category`` with :data:`PLATFORM_BY_CATEGORY`; categories it does not name go to
    :data:`DEFAULT_PLATFORM` (便民服务, the general service desk).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from geo.core.clock import naive_beijing, naive_beijing_times
from geo.core.errors import InputProblems
from geo.core.settings import get_settings
from geo.core.tickets import CLOSED, PENDING, due_at
from geo.core.workcal import add_workdays, coverage

#: Working days from the deadline day to the reminder (催办): the first working day after it.
REMINDER_AFTER_WORKDAYS = 1
#: Working days from the reminder to the reprimand (通报/督办).
REPRIMAND_AFTER_WORKDAYS = 5

RECEIVED, DISPATCHED, HANDLED, CLOSED_STAGE, CALLED_BACK = (
    "received",
    "dispatched",
    "handled",
    "closed",
    "called_back",
)
#: Lifecycle stages in order (their words: the catalog's ``loop_stage_<stage>``). ``handled``
#: appears only when the data have a ``handled_at`` column.
STAGES: tuple[str, ...] = (
    RECEIVED,
    DISPATCHED,
    HANDLED,
    CLOSED_STAGE,
    CALLED_BACK,
)

ON_TIME, DUE_TODAY, OVERDUE, REPRIMAND, CLOSED_ON_TIME, CLOSED_LATE = (
    "on_time",
    "due_today",
    "overdue",
    "reprimand",
    "closed_on_time",
    "closed_late",
)
#: Deadline states at ``as_of`` (their words: the catalog's ``loop_state_<state>``).
STATES: tuple[str, ...] = (
    ON_TIME,
    DUE_TODAY,
    OVERDUE,
    REPRIMAND,
    CLOSED_ON_TIME,
    CLOSED_LATE,
)

#: The four professional routing platforms of the county command centre ("1+N+N").
PLATFORMS = ("综治", "市场监管", "综合执法", "便民服务")
#: Platform of each demo category (the data's own ``platform`` column wins when present).
#: 综治: disputes, public order, safety hazards and unpaid wages (a stability risk first);
#: 市场监管: consumer rights (goods quality, prepaid cards, price fraud); 综合执法: city
#: appearance, sanitation, noise and road order (stalls, parking, illegal building);
#: 便民服务: public services and everything else.
PLATFORM_BY_CATEGORY: dict[str, str] = {
    "邻里纠纷": "综治",
    "社会治安": "综治",
    "安全隐患": "综治",
    "劳动保障": "综治",
    "消费维权": "市场监管",
    "环境卫生": "综合执法",
    "市容秩序": "综合执法",
    "噪音扰民": "综合执法",
    "道路交通": "综合执法",
    "物业管理": "便民服务",
    "农业农村": "便民服务",
    "供水供电": "便民服务",
    "医疗卫生": "便民服务",
    "教育": "便民服务",
    "民政救助": "便民服务",
    "住房建设": "便民服务",
    "其他": "便民服务",
}
#: Platform of categories missing from :data:`PLATFORM_BY_CATEGORY`.
DEFAULT_PLATFORM = "便民服务"

#: Grouping levels of :func:`loop_kpis` and the column each groups by (``county``: one row).
KPI_LEVELS: dict[str, str] = {
    "county": "county_code",
    "town": "town_code",
    "village": "village_code",
    "grid": "grid_code",
    "category": "category",
    "platform": "platform",
}

#: The KPIs that are states at ``as_of`` (open now, overdue now, reprimanded now): with a
#: ``window`` (:func:`kpi_tables`) they count every ticket still in that state, whenever it was
#: received; the other KPIs are flows of the tickets received in the window.
STOCKS: tuple[str, ...] = ("open", "overdue", "reprimand")

#: Columns of a KPI table after the key, in order (their headers: the catalog's
#: ``loop_kpi_<column>``).
KPIS: tuple[str, ...] = (
    "issues",
    "open",
    "overdue",
    "reprimand",
    "closed",
    "closed_on_time",
    "on_time_rate",
    "first_time_rate",
    "grid_share",
    "net_share",
    "callback_rate",
    "satisfaction_rate",
    "median_close_days",
    "calendar_fallback",
)

_REQUIRED = ("received_at", "request_type", "status", "closed_at")
_TIME_COLUMNS = (
    "received_at",
    "closed_at",
    "due_at",
    "dispatched_at",
    "handled_at",
    "callback_at",
)
#: Classes read from text columns (0: anything else, missing or empty).
_STATUS = {CLOSED: 1, PENDING: 2}
_RATING = {"满意": 1, "基本满意": 1, "不满意": 2}  # satisfied, not satisfied
_LEVEL = {"网格": 1, "村": 2, "镇": 3, "县": 3}  # grid, village, above the village net
_LAST_SECOND = pd.Timedelta(hours=23, minutes=59, seconds=59)


# --------------------------------------------------------------------------- per ticket


def deadlines(issues: pd.DataFrame, *, sla_days: Mapping[str, int] | None = None) -> pd.DataFrame:
    """Deadline, reminder and reprimand of every ticket.

    Parameters
    ----------
    issues
        With ``received_at`` and ``request_type`` (a ``due_at`` column is reused unless
        ``sla_days`` is given).
    sla_days
        Working days per request type; ``Settings.sla_working_days`` when omitted.

    Returns
    -------
    pandas.DataFrame
        On the issues' index: ``due_at`` (23:59:59 of the last working day), ``remind_on``
        (the first working day after the deadline day, 00:00), ``reprimand_on`` (5 working
        days after the reminder, 00:00) and ``calendar_fallback`` (True where any of these
        dates was counted Monday–Friday because the receipt or the reprimand day lies
        outside the years ``chinesecalendar`` covers; see :mod:`geo.core.workcal`).
    """
    _check(issues, None, need=("received_at", "request_type"))
    received = naive_beijing_times(issues["received_at"])
    due = _due(issues, received, sla_days)
    remind, reprimand = _follow_ups(due)
    return pd.DataFrame(
        {
            "due_at": due,
            "remind_on": remind.astype("datetime64[ns]"),
            "reprimand_on": reprimand.astype("datetime64[ns]"),
            "calendar_fallback": _fallback(received, due),
        },
        index=issues.index,
    )


def lifecycle(
    issues: pd.DataFrame, as_of: pd.Timestamp | str, *, sla_days: Mapping[str, int] | None = None
) -> pd.DataFrame:
    """Stage, deadline state and follow-up dates of every ticket at ``as_of``.

    Returns
    -------
    pandas.DataFrame
        On the issues' index, the columns of :func:`deadlines` and

        ``stage``
            :data:`STAGES` member: ``called_back`` (closed and satisfaction recorded),
            ``closed``, ``handled`` (``handled_at`` by ``as_of``), ``dispatched``
            (``dispatched_at`` by ``as_of``; without the column or time, any status but
            待派单) or ``received``; ``""`` for tickets received after ``as_of``.
        ``state``
            :data:`STATES` member: open tickets are ``on_time`` before their deadline
            day, ``due_today`` on it (up to 23:59:59), ``overdue`` after it and
            ``reprimand`` from the start of the reprimand day; closed ones are
            ``closed_on_time`` or ``closed_late``; ``""`` for tickets received after
            ``as_of``.
        ``platform``
            Routing platform (see the module docstring).
        ``escalated``
            Closed above the village net (``resolution_level`` 镇 or 县).
        ``first_time``
            Closed and resolved first time (the proxy in the module docstring).
    """
    stamp = _check(issues, as_of)
    loop = _Loop.build(issues, stamp, sla_days)
    stage, state = _stage_state(issues, loop, stamp)
    platform = np.asarray(PLATFORMS, dtype=object)[loop.platform]
    remind, reprimand = _follow_ups(loop.due)
    return pd.DataFrame(
        {
            "stage": stage,
            "state": state,
            "due_at": loop.due,
            "remind_on": remind.astype("datetime64[ns]"),
            "reprimand_on": reprimand.astype("datetime64[ns]"),
            "calendar_fallback": loop.fallback,
            "platform": platform,
            "escalated": loop.escalated,
            "first_time": loop.first_time,
        },
        index=issues.index,
    )


def platform_of(category: pd.Series) -> pd.Series:
    """Routing platform of each category (:data:`PLATFORM_BY_CATEGORY`, else 便民服务)."""
    index = _platform_index(pd.DataFrame({"category": category}, index=category.index))
    return pd.Series(np.asarray(PLATFORMS, dtype=object)[index], index=category.index)


# --------------------------------------------------------------------------- KPIs


def on_time_rate(closed_on_time: ArrayLike, closed: ArrayLike, overdue: ArrayLike) -> np.ndarray:
    """按期办结率, GridGov's one on-time rate: closed on time / (closed + overdue).

    Of a set of tickets at ``as_of``: the tickets closed by their deadline
    (``closed_at`` ≤ :func:`geo.core.tickets.due_at`, the last second of the last working
    day), divided by the tickets whose outcome is known — those closed by ``as_of``, early or
    late, plus those still open past their deadline (``overdue``). In other words: closed by
    the deadline / due or closed. Open tickets still within their time count neither way.
    A closed ticket without ``closed_at`` cannot be shown to be on time and counts as late.

    Why this denominator: under the provincial 12345 rules a ticket still open after its
    deadline (3 working days for enquiries and requests for help, 13 for complaints and
    reports) has already missed it — it draws a reminder the day after and a reprimand five
    working days later — so it is late whether it is closed next week or never. Dividing by
    closed tickets only would leave that backlog out and let a unit raise its rate by not
    closing its late tickets; counting only what is decided keeps the rate from falling
    merely because tickets were received recently.

    Which tickets are counted is the caller's choice: the KPI tables (:func:`kpi_tables`, and
    through them the Overview's tiles, the closed-loop page, the wall and the monthly
    report) count the tickets received in the period selected; :func:`weekly_summary` those
    closed in the week or whose deadline passed in it.

    Parameters
    ----------
    closed_on_time, closed, overdue
        Counts (numbers or arrays of the same shape): tickets closed by their deadline,
        tickets closed (on time or late) and tickets open past their deadline.

    Returns
    -------
    numpy.ndarray
        The rate in [0, 1] (a 0-d array for numbers), NaN where nothing is closed or overdue.
    """
    on_time = np.asarray(closed_on_time, dtype=float)
    return _rate(on_time, np.asarray(closed, dtype=float) + np.asarray(overdue, dtype=float))


def loop_kpis(
    issues: pd.DataFrame,
    as_of: pd.Timestamp | str,
    *,
    by: str = "town",
    sla_days: Mapping[str, int] | None = None,
) -> pd.DataFrame:
    """The closed-loop KPIs of tickets received by ``as_of``, one row per unit of ``by``.

    Parameters
    ----------
    issues
        Tickets (see the module docstring for the columns); filter them first (e.g. with
        :func:`geo.grids.aggregate.filter_mask`) to restrict the period or scope.
    as_of
        "Now" (naive Beijing time).
    by
        A key of :data:`KPI_LEVELS`: ``county``, ``town``, ``village``, ``grid``,
        ``category`` or ``platform``.
    sla_days
        Working days per request type when there is no ``due_at`` column to reuse.

    Returns
    -------
    pandas.DataFrame
        The level's key column (``county_code`` holds the county code of the settings),
        then the columns of :data:`KPIS` (definitions in the module docstring). Rates
        are shares in [0, 1], NaN when their denominator is 0; ``calendar_fallback``
        counts the tickets whose deadline dates were counted Monday–Friday because they
        fall outside the years of ``chinesecalendar`` (check it before trusting on-time
        figures of such years). Units with no ticket, and tickets with an empty key (e.g.
        outside every grid), are left out, except in ``county``. Sorted by key.
    """
    return kpi_tables(issues, as_of, levels=(by,), sla_days=sla_days)[by]


def kpi_tables(
    issues: pd.DataFrame,
    as_of: pd.Timestamp | str,
    *,
    levels: Sequence[str] = ("county", "town", "village", "grid", "category", "platform"),
    sla_days: Mapping[str, int] | None = None,
    window: ArrayLike | None = None,
) -> dict[str, pd.DataFrame]:
    """:func:`loop_kpis` for several levels at once (the per-ticket work is done once).

    ``window``: a boolean per ticket, true for those received in the period the user chose.
    Then the :data:`STOCKS` count every ticket of ``issues`` (a case overdue for months is
    overdue now, whenever it came in) and the flows — ``issues`` (received), ``closed``,
    the rates, the median — only the window's; ``on_time_rate``'s overdue are the window's
    too. A unit is kept when it has a ticket in the window or one in a stock. Without a
    window every ticket of ``issues`` counts for both.
    """
    stamp = _check(issues, as_of, levels=levels)
    loop = _Loop.build(issues, stamp, sla_days)
    if window is None:
        flows = np.ones(len(issues), dtype=bool)
    else:
        flows = np.asarray(window, dtype=bool).reshape(-1)
        if len(flows) != len(issues):
            raise InputProblems(
                "count the closed loop",
                f"window has {len(flows)} entries for {len(issues)} tickets",
            )
    flags = loop.kpi_flags(flows)
    ranked, sorted_days = _ranking(loop.close_s, loop.closed & flows)
    counter = _FlagCounter(flags)
    out = {}
    for level in levels:
        codes, labels = _level_codes(issues, level, loop)
        sums = counter.sums(codes, len(labels))
        medians = _group_medians(codes, len(labels), ranked, sorted_days)
        out[level] = _kpi_frame(KPI_LEVELS[level], labels, sums, medians)
    return out


# --------------------------------------------------------------------------- rhythm


def daily_clearance(
    issues: pd.DataFrame,
    as_of: pd.Timestamp | str,
    *,
    day: pd.Timestamp | str | None = None,
    sla_days: Mapping[str, int] | None = None,
) -> pd.DataFrame:
    """日清: the day's new tickets and the tickets due that day, and whether each is cleared.

    A new ticket (received that day) is cleared once dispatched (or closed); a due ticket
    (received earlier, deadline that day, still open when the day began) once closed; both
    by the end of the day, or by ``as_of`` if that is earlier.

    Parameters
    ----------
    day
        The day to clear (default: the day of ``as_of``).

    Returns
    -------
    pandas.DataFrame
        One row per ticket: the id, place and category columns that exist (``ticket_id``,
        ``town_code``, ``village_code``, ``grid_code``, ``category``, ``request_type``,
        ``source``), ``received_at``, ``due_at``, ``reason`` (``new`` or ``due``),
        ``stage``, ``state`` (at the end of the check) and ``cleared``. Not cleared first,
        then due before new, then by time received. Caller data are never included.
    """
    stamp = _check(issues, as_of)
    start = pd.Timestamp(day).normalize() if day is not None else stamp.normalize()
    check = min(stamp, start + _LAST_SECOND)
    loop = _Loop.build(issues, check, sla_days)
    stage, state = _stage_state(issues, loop, check)
    dispatched, _ = _reached(issues, loop, check)
    received, closed_at = loop.received, loop.closed_at
    t0, t1 = np.datetime64(start, "ns"), np.datetime64(check, "ns")
    new = (received >= t0) & (received <= t1)
    open_at_start = (received < t0) & ~(loop.closed_flag & ~(closed_at >= t0))
    due = open_at_start & (loop.due.astype("datetime64[D]") == np.datetime64(start, "D"))
    pick = new | due
    reason = np.where(due, "due", "new")
    cleared = np.where(due, loop.closed, loop.closed | dispatched)
    cols = [c for c in _LIST_COLUMNS if c in issues.columns]
    out = _plain(issues.loc[pick, cols])
    out["due_at"] = loop.due[pick]
    out["reason"] = reason[pick]
    out["stage"] = stage[pick]
    out["state"] = state[pick]
    out["cleared"] = cleared[pick]
    order = np.lexsort((out["received_at"].to_numpy(), out["reason"] != "due", out["cleared"]))
    return out.iloc[order].reset_index(drop=True)


def weekly_summary(
    issues: pd.DataFrame,
    as_of: pd.Timestamp | str,
    *,
    week_start: pd.Timestamp | str | None = None,
    sla_days: Mapping[str, int] | None = None,
) -> pd.DataFrame:
    """周结: one week per town — what came in, what was closed and what is left.

    The week runs Monday 00:00 to Sunday 23:59:59 (default: the week of ``as_of``) and is
    cut at ``as_of``.

    Returns
    -------
    pandas.DataFrame
        One row per town with tickets, then a county row (``town_code`` = the county code):
        ``received`` (in the week), ``closed`` (closed in the week, whenever received),
        ``closed_on_time`` (of those, by their deadline), ``on_time_rate``
        (:func:`on_time_rate` of the week: those closings, and the tickets whose deadline
        passed in the week still open at its end as the overdue),
        ``satisfaction_rate`` and ``median_close_days`` of the week's closings, and at the
        end of the week ``open``, ``overdue`` and ``reprimand``.
    """
    stamp = _check(issues, as_of, levels=("town",))
    start = (
        pd.Timestamp(week_start).normalize()
        if week_start is not None
        else stamp.normalize() - pd.Timedelta(days=stamp.day_of_week)
    )
    end = min(stamp, start + pd.Timedelta(days=6) + _LAST_SECOND)
    loop = _Loop.build(issues, end, sla_days)
    t0 = np.datetime64(start, "ns")
    received_in = loop.in_scope & (loop.received >= t0)
    closed_in = loop.closed & (loop.closed_at >= t0)
    missed_in = loop.overdue & (loop.due >= t0)
    flags = {
        "received": received_in,
        "closed": closed_in,
        "closed_on_time": closed_in & loop.on_time,
        "missed": missed_in,
        "rated": closed_in & loop.rated,
        "happy": closed_in & loop.happy,
        "open": loop.open,
        "overdue": loop.overdue,
        "reprimand": loop.reprimand,
    }
    ranked, sorted_days = _ranking(loop.close_s, closed_in)
    counter = _FlagCounter(flags)
    frames = []
    for level in ("town", "county"):
        codes, labels = _level_codes(issues, level, loop)
        sums = counter.sums(codes, len(labels))
        table = pd.DataFrame({"town_code": labels.astype(object)})
        for name in ("received", "closed", "closed_on_time"):
            table[name] = sums[name].astype(np.int64)
        table["on_time_rate"] = on_time_rate(sums["closed_on_time"], sums["closed"], sums["missed"])
        table["satisfaction_rate"] = _rate(sums["happy"], sums["rated"])
        table["median_close_days"] = _group_medians(codes, len(labels), ranked, sorted_days)
        for name in ("open", "overdue", "reprimand"):
            table[name] = sums[name].astype(np.int64)
        keep = (table[["received", "closed", "open"]].to_numpy().sum(axis=1) > 0) | (
            level == "county"
        )
        frames.append(table[keep].sort_values("town_code"))
    return pd.concat(frames, ignore_index=True)


@dataclass(frozen=True)
class MonthlyReview:
    """月过堂: a month's backlog and hard cases.

    Attributes
    ----------
    month_start, as_of
        The month reviewed (its first day, 00:00) and the time of the review.
    cases
        The hard cases: tickets received or closed in the month, or still open at
        ``as_of``, that are ``overdue`` (open past the deadline, or closed late in the
        month), ``repeated`` (in a same-caller or same-place alert of
        :func:`geo.hotspots.alerts.detect_alerts` whose latest ticket is in the month) or
        ``escalated`` (closed above the village net). One row each with the columns of
        :func:`daily_clearance`'s list, ``closed_at``, ``stage``, ``state``, the three
        flags, ``alert_ids`` and ``n_flags``; most flags first, then the reprimands, then
        by time received. Caller data are never included.
    backlog
        Per town (then a county row): ``backlog`` (open at ``as_of``), ``overdue``,
        ``reprimand``, ``closed_late`` (in the month), ``repeated``, ``escalated`` and
        ``hard_cases``.
    """

    month_start: pd.Timestamp
    as_of: pd.Timestamp
    cases: pd.DataFrame
    backlog: pd.DataFrame


def month_alerts(issues: pd.DataFrame, as_of: pd.Timestamp | str) -> pd.DataFrame:
    """The warnings :func:`monthly_review` reads its repeated cases from: those of the month
    of ``as_of`` up to ``as_of`` (``issues`` a GeoDataFrame in metres, as
    :func:`geo.hotspots.alerts.detect_alerts` needs). Give it the whole county's tickets for a
    town's
    review, so a repeat that crosses the town's border is still seen."""
    from geo.hotspots.alerts import AlertSettings, detect_alerts

    stamp = pd.Timestamp(as_of)
    month_start = stamp.normalize().replace(day=1)
    lookback = (stamp - month_start) / pd.Timedelta(days=1) + 1e-6  # start included
    return detect_alerts(issues, as_of=stamp, settings=AlertSettings(lookback_days=lookback))


def monthly_review(
    issues: pd.DataFrame,
    as_of: pd.Timestamp | str,
    *,
    alerts: pd.DataFrame | None = None,
    sla_days: Mapping[str, int] | None = None,
) -> MonthlyReview:
    """月过堂: the backlog and hard cases of the month of ``as_of`` (see :class:`MonthlyReview`).

    Parameters
    ----------
    alerts
        Alerts already found (:func:`geo.hotspots.alerts.detect_alerts` at ``as_of`` with a lookback
        reaching the month's start). When omitted they are detected here, which needs
        ``issues`` as a GeoDataFrame in metres with the columns ``detect_alerts`` names.
    """
    stamp = _check(issues, as_of, levels=("town",))
    month_start = stamp.normalize().replace(day=1)
    loop = _Loop.build(issues, stamp, sla_days)
    if alerts is None:
        alerts = month_alerts(issues, stamp)
    repeat_of: dict[str, list[str]] = {}
    t0 = np.datetime64(month_start, "ns")
    recent = alerts[
        alerts["kind"].isin(["repeat_caller", "repeat_place"])
        & (pd.to_datetime(alerts["last_at"]).to_numpy(dtype="datetime64[ns]") >= t0)
    ]
    for alert_id, ids in zip(recent["alert_id"], recent["ticket_ids"], strict=True):
        for ticket in ids:
            repeat_of.setdefault(str(ticket), []).append(str(alert_id))
    if "ticket_id" in issues.columns:
        ticket_ids = issues["ticket_id"].astype(str).to_numpy()
    else:
        ticket_ids = np.full(len(issues), "", dtype=object)
    repeated = loop.in_scope & pd.Index(ticket_ids).isin(list(repeat_of))
    closed_late = loop.closed & ~loop.on_time & (loop.closed_at >= t0)
    overdue = loop.overdue | closed_late
    scope = (loop.in_scope & (loop.received >= t0)) | (loop.closed & (loop.closed_at >= t0))
    scope |= loop.open
    hard = scope & (overdue | repeated | loop.escalated)
    stage, state = _stage_state(issues, loop, stamp)
    cols = [c for c in _LIST_COLUMNS if c in issues.columns]
    cases = _plain(issues.loc[hard, cols])
    cases["due_at"] = loop.due[hard]
    cases["closed_at"] = loop.closed_at[hard]
    cases["stage"] = stage[hard]
    cases["state"] = state[hard]
    cases["overdue"] = overdue[hard]
    cases["repeated"] = repeated[hard]
    cases["escalated"] = loop.escalated[hard]
    cases["alert_ids"] = [" ".join(repeat_of.get(t, [])) for t in ticket_ids[hard]]
    cases["n_flags"] = cases[["overdue", "repeated", "escalated"]].sum(axis=1).astype(int)
    order = np.lexsort(
        (
            cases["received_at"].to_numpy(),
            cases["state"].to_numpy() != REPRIMAND,
            -cases["n_flags"].to_numpy(),
        )
    )
    cases = cases.iloc[order].reset_index(drop=True)
    flags = {
        "backlog": loop.open,
        "overdue": loop.overdue,
        "reprimand": loop.reprimand,
        "closed_late": closed_late,
        "repeated": scope & repeated,
        "escalated": scope & loop.escalated,
        "hard_cases": hard,
    }
    counter = _FlagCounter(flags)
    frames = []
    for level in ("town", "county"):
        codes, labels = _level_codes(issues, level, loop)
        sums = counter.sums(codes, len(labels))
        table = pd.DataFrame({"town_code": labels.astype(object)})
        for name in flags:
            table[name] = sums[name].astype(np.int64)
        keep = (table[list(flags)].to_numpy().sum(axis=1) > 0) | (level == "county")
        frames.append(table[keep].sort_values("town_code"))
    return MonthlyReview(month_start, stamp, cases, pd.concat(frames, ignore_index=True))


# --------------------------------------------------------------------------- plumbing

_LIST_COLUMNS = (
    "ticket_id",
    "town_code",
    "village_code",
    "grid_code",
    "category",
    "request_type",
    "source",
    "received_at",
)


@dataclass(frozen=True)
class _Loop:
    """Per-ticket arrays at one ``as_of`` (all boolean unless said; times datetime64[ns])."""

    received: np.ndarray
    due: np.ndarray
    fallback: np.ndarray
    closed_at: np.ndarray
    in_scope: np.ndarray  # received by as_of
    closed_flag: np.ndarray  # the status says closed (whenever)
    closed: np.ndarray  # closed by as_of
    pending: np.ndarray  # the status says not dispatched (待派单)
    on_time: np.ndarray  # closed by as_of and by the deadline
    open: np.ndarray
    overdue: np.ndarray  # open and past the deadline
    reprimand: np.ndarray  # open and from the reprimand day on
    rated: np.ndarray
    happy: np.ndarray
    called_back: np.ndarray
    has_caller: np.ndarray
    grid_level: np.ndarray
    net_level: np.ndarray
    escalated: np.ndarray
    first_time: np.ndarray
    close_s: np.ndarray  # int64 seconds received → closed; -1 unless closed with a time
    platform: np.ndarray  # index into PLATFORMS

    @classmethod
    def build(
        cls, issues: pd.DataFrame, stamp: pd.Timestamp, sla_days: Mapping[str, int] | None
    ) -> _Loop:
        n = len(issues)
        t = np.datetime64(stamp, "ns")
        received = naive_beijing_times(issues["received_at"])
        due = _due(issues, received, sla_days)
        closed_at = naive_beijing_times(issues["closed_at"])
        in_scope = received <= t
        status = _classes(issues["status"], _STATUS)
        closed_flag = status == 1
        closed = in_scope & closed_flag & ~(closed_at > t)
        on_time = closed & (closed_at <= due)
        open_ = in_scope & ~closed
        overdue = open_ & (t > due)
        # Reprimand days only of the tickets still open: the rest never need them.
        reprimand = np.zeros(n, dtype=bool)
        still_open = np.flatnonzero(open_)
        _, reprimand_day = _follow_ups(due[still_open])
        reprimand[still_open] = t >= reprimand_day.astype("datetime64[ns]")
        rating = _classes(_column(issues, "satisfaction"), _RATING)
        rated = closed & (rating > 0)
        if "callback_at" in issues.columns:
            rated &= naive_beijing_times(issues["callback_at"]) <= t
        happy = rated & (rating == 1)
        level = _classes(_column(issues, "resolution_level"), _LEVEL)
        net_level = closed & ((level == 1) | (level == 2))
        first_time = net_level & ~(rated & (rating == 2)) & ~_reopened(issues)
        if "caller_phone" in issues.columns:
            phone = issues["caller_phone"]
            if isinstance(phone.dtype, pd.CategoricalDtype):
                has_caller = (_classes(phone, {"": 1}) == 0) & np.asarray(phone.notna())
            else:
                has_caller = np.asarray(phone.fillna("") != "", dtype=bool)
        else:
            has_caller = np.ones(n, dtype=bool)
        timed = closed & ~np.isnat(closed_at) & ~np.isnat(received)
        with np.errstate(over="ignore"):  # NaT differences wrap; they are masked out
            spent_ns = closed_at.view(np.int64) - received.view(np.int64)
        # Closed before received is a data error: left out of the medians (-1).
        close_s = np.where(timed & (spent_ns >= 0), spent_ns // 10**9, -1)
        return cls(
            received=received,
            due=due,
            fallback=_fallback(received, due),
            closed_at=closed_at,
            in_scope=in_scope,
            closed_flag=closed_flag,
            closed=closed,
            pending=status == 2,
            on_time=on_time,
            open=open_,
            overdue=overdue,
            reprimand=reprimand,
            rated=rated,
            happy=happy,
            called_back=rated,
            has_caller=has_caller,
            grid_level=closed & (level == 1),
            net_level=net_level,
            escalated=closed & (level == 3),
            first_time=first_time,
            close_s=close_s,
            platform=_platform_index(issues),
        )

    def kpi_flags(self, flows: np.ndarray) -> dict[str, np.ndarray]:
        """The flags counted by :func:`kpi_tables`; ``flows`` selects the tickets whose
        flows count (the stocks count every ticket)."""
        return {
            "issues": self.in_scope & flows,
            "open": self.open,
            "overdue": self.overdue,
            "reprimand": self.reprimand,
            "late": self.overdue & flows,
            "closed": self.closed & flows,
            "closed_on_time": self.on_time & flows,
            "first_time": self.first_time & flows,
            "grid_level": self.grid_level & flows,
            "net_level": self.net_level & flows,
            "callable": self.closed & self.has_caller & flows,
            "called_back": self.called_back & self.has_caller & flows,
            "rated": self.rated & flows,
            "happy": self.happy & flows,
            "fallback": self.fallback & self.in_scope & flows,
        }


def _reached(
    issues: pd.DataFrame, loop: _Loop, stamp: pd.Timestamp
) -> tuple[np.ndarray, np.ndarray]:
    """Dispatched and handled by ``stamp`` (a closed ticket has been both)."""
    t = np.datetime64(stamp, "ns")
    none = np.zeros(len(loop.received), dtype=bool)
    dispatched = _by(issues, "dispatched_at", t, default=~loop.pending) | loop.closed
    handled = _by(issues, "handled_at", t, default=none) | loop.closed
    return loop.in_scope & dispatched, loop.in_scope & handled


def _stage_state(
    issues: pd.DataFrame, loop: _Loop, stamp: pd.Timestamp
) -> tuple[np.ndarray, np.ndarray]:
    """Stage and deadline state of every ticket (see :func:`lifecycle`)."""
    n = len(loop.received)
    dispatched, handled = _reached(issues, loop, stamp)
    stage = np.full(n, "", dtype=object)
    stage[loop.in_scope] = RECEIVED
    stage[dispatched] = DISPATCHED
    stage[handled & ~loop.closed] = HANDLED
    stage[loop.closed] = CLOSED_STAGE
    stage[loop.called_back] = CALLED_BACK
    state = np.full(n, "", dtype=object)
    due_day = loop.due.astype("datetime64[D]").astype("datetime64[ns]")
    state[loop.open] = ON_TIME
    state[loop.open & (np.datetime64(stamp, "ns") >= due_day)] = DUE_TODAY
    state[loop.overdue] = OVERDUE
    state[loop.reprimand] = REPRIMAND
    state[loop.closed] = CLOSED_LATE
    state[loop.on_time] = CLOSED_ON_TIME
    return stage, state


def _kpi_frame(
    key: str, labels: np.ndarray, sums: dict[str, np.ndarray], medians: np.ndarray
) -> pd.DataFrame:
    closed = sums["closed"]
    table = pd.DataFrame(
        {
            key: labels.astype(object),
            "issues": sums["issues"].astype(np.int64),
            "open": sums["open"].astype(np.int64),
            "overdue": sums["overdue"].astype(np.int64),
            "reprimand": sums["reprimand"].astype(np.int64),
            "closed": closed.astype(np.int64),
            "closed_on_time": sums["closed_on_time"].astype(np.int64),
            "on_time_rate": on_time_rate(sums["closed_on_time"], closed, sums["late"]),
            "first_time_rate": _rate(sums["first_time"], closed),
            "grid_share": _rate(sums["grid_level"], closed),
            "net_share": _rate(sums["net_level"], closed),
            "callback_rate": _rate(sums["called_back"], sums["callable"]),
            "satisfaction_rate": _rate(sums["happy"], sums["rated"]),
            "median_close_days": medians,
            "calendar_fallback": sums["fallback"].astype(np.int64),
        }
    )
    keep = (table["issues"] > 0).to_numpy() | (table["open"] > 0).to_numpy()
    keep |= key == "county_code"
    return table[keep].sort_values(key).reset_index(drop=True)


def _rate(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(den > 0, num / np.where(den > 0, den, 1), np.nan)


class _FlagCounter:
    """Counts of several boolean flags per group, with one ``bincount`` per grouping.

    The flags of a ticket form a bit pattern; only a few dozen patterns occur, so each
    grouping counts (group, pattern) pairs once and a small matrix product turns pattern
    counts into counts of each flag — instead of one weighted ``bincount`` per flag.
    """

    def __init__(self, flags: Mapping[str, np.ndarray]) -> None:
        self.names = list(flags)
        n = len(next(iter(flags.values()))) if flags else 0
        if len(self.names) <= 16:  # np.unique without its sort: one pass over the bits
            bits = np.zeros(n, dtype=np.uint16)
            for k, name in enumerate(self.names):
                bits |= flags[name].astype(np.uint16) << np.uint16(k)
            seen = np.bincount(bits, minlength=1 << len(self.names))
            patterns = np.flatnonzero(seen)
            lookup = np.zeros(len(seen), dtype=np.int64)
            lookup[patterns] = np.arange(len(patterns))
            self.pattern = lookup[bits]
        else:
            wide = np.zeros(n, dtype=np.int64)
            for k, name in enumerate(self.names):
                wide |= flags[name].astype(np.int64) << k
            patterns, self.pattern = np.unique(wide, return_inverse=True)
        self.has = (patterns[:, None] >> np.arange(len(self.names))) & 1  # pattern x flag

    def sums(self, codes: np.ndarray, n_groups: int) -> dict[str, np.ndarray]:
        """Per group, the number of tickets with each flag (code -1: in no group)."""
        n_pat = self.has.shape[0]
        where = np.where(codes < 0, n_groups, codes).astype(np.int64) * n_pat + self.pattern
        pairs = np.bincount(where, minlength=(n_groups + 1) * n_pat)
        counts = pairs.reshape(n_groups + 1, n_pat)[:n_groups] @ self.has
        return {name: counts[:, k] for k, name in enumerate(self.names)}


def _ranking(close_s: np.ndarray, counted: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Rows counted for medians sorted by time to close, and those times in days."""
    rows = np.flatnonzero(counted & (close_s >= 0))
    seconds = close_s[rows]
    shift = len(rows).bit_length()
    if len(rows) and seconds.max() < 1 << (62 - shift):
        # Row number packed under the seconds: a plain sort of values (several times
        # faster than argsort) gives both the order and the sorted times.
        packed = np.sort((seconds << shift) | np.arange(len(rows), dtype=np.int64))
        order, seconds = packed & ((1 << shift) - 1), packed >> shift
    else:
        order = np.argsort(seconds)
        seconds = seconds[order]
    return rows[order], seconds / 86_400.0


def _group_medians(
    codes: np.ndarray, n_groups: int, ranked: np.ndarray, sorted_days: np.ndarray
) -> np.ndarray:
    """Median per group of the values ``sorted_days`` of the rows ``ranked`` (see _ranking).

    A stable sort of the rows' group codes (a radix sort for the small integer codes of
    categoricals) puts each group's rows side by side, still in value order: the median
    is read at the middle of each group's run, without gathering the values.
    """
    groups = codes[ranked]
    order = np.argsort(groups, kind="stable")
    size = np.bincount(groups.astype(np.intp) + 1, minlength=n_groups + 1)
    start = (np.cumsum(size) - size)[1:]
    size = size[1:]
    out = np.full(n_groups, np.nan)
    has = size > 0
    lo = order[start[has] + (size[has] - 1) // 2]
    hi = order[start[has] + size[has] // 2]
    out[has] = (sorted_days[lo] + sorted_days[hi]) / 2
    return out


def _level_codes(issues: pd.DataFrame, level: str, loop: _Loop) -> tuple[np.ndarray, np.ndarray]:
    """Group code of every ticket in scope (-1: none) and the labels of the codes."""
    if level == "county":
        codes = np.zeros(len(issues), dtype=np.int8)
        labels = np.array([get_settings().county_code], dtype=object)
    elif level == "platform":
        codes, labels = loop.platform.astype(np.int8), np.asarray(PLATFORMS, dtype=object)
    else:
        codes, labels = _codes(issues[KPI_LEVELS[level]])
    return np.where(loop.in_scope, codes, np.array(-1, dtype=codes.dtype)), labels


def _codes(series: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Integer codes (-1 for missing or empty text) and their labels as text."""
    if isinstance(series.dtype, pd.CategoricalDtype):
        codes = series.cat.codes.to_numpy()
        labels = np.asarray(series.cat.categories.astype(str), dtype=object)
    else:
        factor, uniques = pd.factorize(series, use_na_sentinel=True)
        codes = factor
        labels = np.asarray(pd.Index(uniques).astype(str), dtype=object)
    empty = np.flatnonzero(np.char.strip(labels.astype(str)) == "")
    if len(empty):
        remap = np.append(np.arange(len(labels)), -1).astype(codes.dtype)
        remap[empty] = -1
        codes = remap[codes]  # code -1 picks the appended -1
    return codes, labels


def _platform_index(issues: pd.DataFrame) -> np.ndarray:
    """Index into :data:`PLATFORMS` of every ticket."""
    default = PLATFORMS.index(DEFAULT_PLATFORM)
    lookup = {name: PLATFORMS.index(p) for name, p in PLATFORM_BY_CATEGORY.items()}
    if "category" in issues.columns:
        codes, labels = _codes(issues["category"])
        table = np.array([lookup.get(str(c), default) for c in labels] + [default], np.int8)
        index = table[codes]
    else:
        index = np.full(len(issues), default, dtype=np.int8)
    if "platform" in issues.columns:
        given = issues["platform"].astype(object).where(issues["platform"].notna(), "")
        known = {p: i for i, p in enumerate(PLATFORMS)}
        named = given.astype(str).str.strip().map(known)
        index = np.where(named.notna(), named.fillna(0).to_numpy(), index).astype(np.int8)
    return index


def _reopened(issues: pd.DataFrame) -> np.ndarray:
    if "reopened" in issues.columns:
        return np.asarray(issues["reopened"].fillna(False).astype(bool), dtype=bool)
    if "reopen_count" in issues.columns:
        count = pd.to_numeric(issues["reopen_count"], errors="coerce").fillna(0)
        return np.asarray(count > 0, dtype=bool)
    return np.zeros(len(issues), dtype=bool)


def _column(issues: pd.DataFrame, name: str) -> pd.Series:
    """A column, or empty text when the issues have none."""
    if name in issues.columns:
        return issues[name]
    return pd.Series("", index=issues.index, dtype=object)


def _classes(series: pd.Series, classes: Mapping[str, int]) -> np.ndarray:
    """Class number (int8) of each value: ``classes[value]``, 0 for others and missing.

    Categoricals are looked up once per category, then gathered by code.
    """
    if isinstance(series.dtype, pd.CategoricalDtype):
        labels = [str(c).strip() for c in series.cat.categories]
        table = np.array([classes.get(c, 0) for c in labels] + [0], dtype=np.int8)
        return table[series.cat.codes.to_numpy()]  # code -1 (missing) picks the last, 0
    text = series.astype(object).where(series.notna(), "")
    return np.asarray(text.map(lambda v: classes.get(str(v).strip(), 0)), dtype=np.int8)


def _by(issues: pd.DataFrame, column: str, t: np.datetime64, *, default: np.ndarray) -> np.ndarray:
    """Reached by ``t`` by the time in ``column``; ``default`` where it is missing."""
    if column not in issues.columns:
        return default
    when = naive_beijing_times(issues[column])
    return np.where(np.isnat(when), default, when <= t)


def _due(
    issues: pd.DataFrame, received: np.ndarray, sla_days: Mapping[str, int] | None
) -> np.ndarray:
    """Deadlines: the ``due_at`` column when present (and no ``sla_days``), else computed."""
    if "due_at" in issues.columns and sla_days is None:
        return naive_beijing_times(issues["due_at"])
    due = due_at(pd.Series(received, index=issues.index), issues["request_type"], sla_days)
    return due.to_numpy(dtype="datetime64[ns]")


def _fallback(received: np.ndarray, due: np.ndarray) -> np.ndarray:
    """Tickets whose deadline dates were counted on the Monday–Friday fallback.

    That is: received, or reprimanded (5 working days after the reminder, which is the
    first working day after the deadline day), outside :func:`geo.core.workcal.coverage`. The
    reprimand day is inside exactly when the deadline day is on or before the working day
    6 working days before the coverage's end: two comparisons, no calendar look-up.
    """
    known = ~np.isnat(received)
    span = coverage()
    if span is None:
        return known
    first, last = span
    cutoff = add_workdays(
        last, -(REMINDER_AFTER_WORKDAYS + REPRIMAND_AFTER_WORKDAYS), roll="backward"
    )
    inside = (received >= first.astype("datetime64[ns]")) & (
        received < (last + 1).astype("datetime64[ns]")
    )
    late = due >= (cutoff + 1).astype("datetime64[ns]")
    return known & (~inside | late)


def _follow_ups(due: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Reminder day and reprimand day (datetime64[D]) of each deadline."""
    remind = add_workdays(due.astype("datetime64[D]"), REMINDER_AFTER_WORKDAYS)
    return remind, add_workdays(remind, REPRIMAND_AFTER_WORKDAYS)


def _plain(frame: pd.DataFrame) -> pd.DataFrame:
    """A plain copy: categoricals as text, a fresh index."""
    out = pd.DataFrame(index=pd.RangeIndex(len(frame)))
    for col in frame.columns:
        values = frame[col]
        if isinstance(values.dtype, pd.CategoricalDtype):
            values = values.astype(object)
        out[col] = values.to_numpy()
    return out


def _check(
    issues: pd.DataFrame,
    as_of: object,
    *,
    need: Sequence[str] = _REQUIRED,
    levels: Sequence[str] = (),
) -> pd.Timestamp:
    """Every problem with the inputs at once, or the naive ``as_of`` (epoch when None)."""
    if not isinstance(issues, pd.DataFrame):
        raise InputProblems(
            "follow the issue loop", [f"issues must be a DataFrame, got {type(issues).__name__}"]
        )
    problems: list[str] = []
    missing = [c for c in need if c not in issues.columns]
    if missing:
        problems.append(f"issues lack the column(s) {missing}; they have {list(issues.columns)}")
    for col in _TIME_COLUMNS:
        if col not in issues.columns:
            continue
        values = issues[col]
        if not (pd.api.types.is_datetime64_any_dtype(values) or values.isna().all()):
            problems.append(
                f"issues.{col} must hold times (datetime64), got {values.dtype}; convert it "
                f"with pandas.to_datetime(issues[{col!r}])"
            )
    for level in levels:
        if level not in KPI_LEVELS:
            problems.append(f"level must be one of {list(KPI_LEVELS)}, got {level!r}")
        elif level not in ("county", "platform") and KPI_LEVELS[level] not in issues.columns:
            problems.append(f"level {level!r} needs the column {KPI_LEVELS[level]!r}")
    stamp = naive_beijing(as_of) if as_of is not None else pd.Timestamp(0)
    if stamp is None:
        problems.append(f"as_of must be a time such as '2026-11-20 23:59:59', got {as_of!r}")
    if problems or stamp is None:
        raise InputProblems("follow the issue loop", problems)
    return stamp
