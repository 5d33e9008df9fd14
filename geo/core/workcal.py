"""The Chinese working calendar: public holidays and adjusted working weekends (调休).

Which days are worked comes from the maintained ``chinesecalendar`` package (import name
``chinese_calendar``), which carries the State Council's holiday notices year by year. From
it one sorted array of working days is built (once, as day numbers since 1970) and every
question is a ``numpy.searchsorted`` over that array, vectorised over whole columns of
dates. ``numpy.busdaycalendar`` cannot be used directly: its weekmask cannot make a single
Saturday a working day, as an adjusted weekend (e.g. Saturday 2026-02-14) is.

Outside the years the package covers (see :func:`coverage`; ``chinesecalendar`` 1.11 covers
2004–2026), and everywhere if the package is not installed, working days fall back to
Monday–Friday with no holidays. Nothing raises for such dates: :func:`covered` is the flag
that says which dates were answered from the official calendar, so that callers can mark
deadlines computed on the fallback (:mod:`geo.loop.lifecycle` does, per ticket).

Dates are calendar days (naive Beijing dates); inputs may be anything ``numpy`` converts to
``datetime64[D]`` (``datetime64`` of any unit, ``datetime.date``, ISO strings, a pandas
Series or DatetimeIndex); a time of day is dropped. ``NaT`` gives ``NaT`` or ``False``.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike

__all__ = [
    "add_workdays",
    "coverage",
    "covered",
    "is_workday",
    "workdays_between",
]

_NAT = np.iinfo(np.int64).min  # datetime64's NaT as int64
#: The fallback calendar is built this far around the official years at least (in days).
_MARGIN_DAYS = 366 * 30
_ROLLS = ("forward", "backward")


@dataclass(frozen=True)
class _Official:
    """The official data: covered days ``[first, last]`` and the exceptions to Mon–Fri."""

    first: int  # day number (days since 1970-01-01) of the first covered day; 0 if none
    last: int  # day number of the last covered day; -1 if none
    holidays: np.ndarray  # day numbers of days off (weekday holidays; weekends are harmless)
    workdays: np.ndarray  # day numbers of adjusted working weekends


@dataclass(frozen=True)
class _Table:
    """Sorted working days (day numbers) of every day in ``[lo, hi]``."""

    lo: int
    hi: int
    days: np.ndarray


_official: _Official | None = None
_table: _Table | None = None
_lock = threading.Lock()


def _load_official() -> _Official:
    """Read ``chinese_calendar``'s tables once; an empty calendar when it is not installed."""
    global _official
    if _official is not None:
        return _official
    try:
        import chinese_calendar
    except ImportError:  # the fallback: Mon–Fri everywhere, covered() all False
        official = _Official(0, -1, np.empty(0, np.int64), np.empty(0, np.int64))
    else:
        holidays = _day_numbers(sorted(chinese_calendar.holidays))
        workdays = _day_numbers(sorted(chinese_calendar.workdays))
        years = sorted({d.year for d in chinese_calendar.holidays})
        first = int(_day_numbers([f"{years[0]:04d}-01-01"])[0])
        last = int(_day_numbers([f"{years[-1]:04d}-12-31"])[0])
        official = _Official(first, last, holidays, workdays)
    _official = official
    return official


def _day_numbers(values: ArrayLike) -> np.ndarray:
    """Days since 1970-01-01 as int64 (``NaT`` as the int64 minimum)."""
    return np.asarray(values, dtype="datetime64[D]").astype(np.int64)


def _build(lo: int, hi: int) -> _Table:
    official = _load_official()
    every = np.arange(lo, hi + 1, dtype=np.int64)
    work = (every + 3) % 7 < 5  # 1970-01-01 was a Thursday: weekday (Mon = 0) is (d + 3) % 7
    for days, value in ((official.holidays, False), (official.workdays, True)):
        inside = days[(days >= lo) & (days <= hi)]
        work[inside - lo] = value
    return _Table(lo, hi, every[work])


def _table_for(lo: int, hi: int) -> _Table:
    """A table covering at least the days ``[lo, hi]`` (built once, widened when needed).

    The first table spans the official years with 30 years of Monday–Friday on either side
    (about 20,000 working days); dates beyond widen it.
    """
    global _table
    table = _table
    if table is not None and table.lo <= lo and hi <= table.hi:
        return table
    with _lock:
        official = _load_official()
        lo = min(lo, official.first - _MARGIN_DAYS, *([_table.lo] if _table else []))
        hi = max(hi, official.last + _MARGIN_DAYS, *([_table.hi] if _table else []))
        _table = _build(lo, hi)
        return _table


def _span(days: np.ndarray) -> tuple[int, int]:
    """Smallest and largest day number other than NaT; (0, 0) when there is none."""
    valid = days != _NAT
    if not valid.any():
        return 0, 0
    big = np.iinfo(np.int64).max
    return int(np.where(valid, days, big).min()), int(days.max())


def _positions(table: _Table, days: np.ndarray, *, side: Literal["left", "right"]) -> np.ndarray:
    """``searchsorted(table.days, days, side)``; through a per-day lookup for many dates.

    A column of 300,000 receipt dates spans a few hundred distinct days: looking each up
    in a table of those days is a gather, several times faster than a binary search each.
    ``days`` hold no NaT and lie inside the table.
    """
    lo, hi = _span(days)
    if days.size < 4096 or hi - lo > days.size:
        return np.searchsorted(table.days, days, side=side)
    per_day = np.searchsorted(table.days, np.arange(lo, hi + 1), side=side)
    return per_day[days - lo]


def coverage() -> tuple[np.datetime64, np.datetime64] | None:
    """First and last day of the official calendar, or ``None`` without ``chinese_calendar``.

    ``chinesecalendar`` 1.11 gives ``(2004-01-01, 2026-12-31)``: whole years, as the package
    itself accepts them.
    """
    official = _load_official()
    if official.last < official.first:
        return None
    return np.datetime64(official.first, "D"), np.datetime64(official.last, "D")


def covered(days: ArrayLike) -> np.ndarray:
    """True where a date lies in the official calendar's years (``False`` for ``NaT``).

    Where it is False, :func:`is_workday` and :func:`add_workdays` answered with the
    Monday–Friday fallback.
    """
    official = _load_official()
    d = _day_numbers(days)
    return (d != _NAT) & (d >= official.first) & (d <= official.last)


def is_workday(days: ArrayLike) -> np.ndarray:
    """True for working days: Mon–Fri except public holidays, plus adjusted working weekends.

    Parameters
    ----------
    days
        Dates (anything ``numpy`` converts to ``datetime64[D]``).

    Returns
    -------
    numpy.ndarray
        Booleans of the input's shape; ``NaT`` gives False. Outside :func:`coverage`,
        Monday–Friday.
    """
    d = _day_numbers(days)
    valid = d != _NAT
    table = _table_for(*_span(d))
    found = np.zeros(d.shape, dtype=bool)
    dv = d[valid]
    pos = _positions(table, dv, side="left")
    pos_ok = np.minimum(pos, len(table.days) - 1)
    found[valid] = table.days[pos_ok] == dv
    return found


def add_workdays(days: ArrayLike, n: ArrayLike, *, roll: str = "forward") -> np.ndarray:
    """The working day ``n`` working days after each date (before it for negative ``n``).

    As ``numpy.busday_offset`` with the Chinese working calendar: a date that is not a
    working day first rolls to the next working day (``roll="forward"``) or the previous
    one (``roll="backward"``), then moves ``n`` working days. So a 3-working-day deadline
    of a ticket received on Monday is Thursday, and one received on Saturday is Thursday too
    (Saturday rolls to Monday) — unless that Saturday is an adjusted working day, when it
    is Wednesday.

    Parameters
    ----------
    days
        Start dates (anything ``numpy`` converts to ``datetime64[D]``; times are dropped).
    n
        Whole working days, broadcast against ``days``.
    roll
        ``"forward"`` or ``"backward"``.

    Returns
    -------
    numpy.ndarray
        ``datetime64[D]`` of the broadcast shape; ``NaT`` where the date is ``NaT``. Dates
        outside :func:`coverage` use the Monday–Friday fallback (check :func:`covered`).

    Raises
    ------
    ValueError
        For another ``roll``.
    """
    if roll not in _ROLLS:
        raise ValueError(f"roll must be one of {list(_ROLLS)}, got {roll!r}")
    d = _day_numbers(days)
    k = np.asarray(n, dtype=np.int64)
    valid = d != _NAT
    lo, hi = _span(d)
    d = np.where(valid, d, lo)  # NaT is looked up as any day, then put back
    k_lo, k_hi = int(min(k.min(initial=0), 0)), int(max(k.max(initial=0), 0))
    # At least one working day in every two calendar days, with room for the longest
    # holiday: the table then always reaches the answer (checked below all the same).
    need_lo, need_hi = lo + 2 * k_lo - 60, hi + 2 * k_hi + 60
    side: Literal["left", "right"] = "left" if roll == "forward" else "right"
    shift = k if roll == "forward" else k - 1
    # Many dates over few days and one n (a column of deadlines): answer each day of the
    # span once, then gather; otherwise find each date's position and offset it.
    per_day = k.ndim == 0 and d.size >= 4096 and hi - lo <= d.size
    while True:
        table = _table_for(need_lo, need_hi)
        if per_day:
            pos = np.searchsorted(table.days, np.arange(lo, hi + 1), side=side) + shift
        else:
            pos = _positions(table, d, side=side) + shift
        if pos.size == 0 or (pos.min() >= 0 and pos.max() < len(table.days)):
            break
        span = need_hi - need_lo  # pragma: no cover - a safety net
        need_lo, need_hi = need_lo - span, need_hi + span  # pragma: no cover
    if pos.size == 0:
        return np.full(np.broadcast_shapes(d.shape, k.shape), _NAT).view("datetime64[D]")
    out = table.days[pos][d - lo] if per_day else table.days[pos]
    return np.where(valid, out, _NAT).view("datetime64[D]")


def workdays_between(start: ArrayLike, end: ArrayLike) -> np.ndarray:
    """Working days ``d`` with ``start < d <= end`` (negative when ``end`` is before ``start``).

    Receipt on Friday and closing on the following Tuesday take 2 working days (Monday,
    Tuesday); the same day takes 0.

    Returns
    -------
    numpy.ndarray
        float64 of the broadcast shape holding whole numbers; NaN where either date is
        ``NaT``.
    """
    s, e = np.broadcast_arrays(_day_numbers(start), _day_numbers(end))
    valid = (s != _NAT) & (e != _NAT)
    out = np.full(s.shape, np.nan)
    if valid.any():
        lo, _ = _span(np.minimum(s[valid], e[valid]))
        _, hi = _span(np.maximum(s[valid], e[valid]))
        table = _table_for(lo, hi)
        out[valid] = _positions(table, e[valid], side="right") - _positions(
            table, s[valid], side="right"
        )
    return out
