"""Filters, 12345 deadlines, KPIs and aggregation of issues up the grid hierarchy."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from geo.core.settings import get_settings
from geo.core.workcal import add_workdays

CLOSED = "已办结"
LEVEL_KEYS = {"grid": "grid_code", "village": "village_code", "town": "town_code"}


@dataclass(frozen=True)
class IssueFilter:
    """What the shared sidebar selects. Empty tuples and ``None`` mean "all".

    Attributes
    ----------
    start, end
        Inclusive dates of ``received_at`` (Beijing time).
    categories, sources
        Allowed values of ``category`` and ``source``.
    town_code, village_code
        Restrict to one town or village.
    """

    start: pd.Timestamp | None = None
    end: pd.Timestamp | None = None
    categories: tuple[str, ...] = ()
    sources: tuple[str, ...] = ()
    town_code: str | None = None
    village_code: str | None = None


def filter_mask(issues: pd.DataFrame, flt: IssueFilter) -> np.ndarray:
    """Boolean mask of the issues that pass ``flt``."""
    mask = np.ones(len(issues), dtype=bool)
    received = issues["received_at"]
    if flt.start is not None:
        mask &= (received >= pd.Timestamp(flt.start).normalize()).to_numpy()
    if flt.end is not None:
        mask &= (received < pd.Timestamp(flt.end).normalize() + pd.Timedelta(days=1)).to_numpy()
    if flt.categories:
        mask &= issues["category"].isin(flt.categories).to_numpy()
    if flt.sources:
        mask &= issues["source"].isin(flt.sources).to_numpy()
    if flt.town_code:
        mask &= (issues["town_code"] == flt.town_code).to_numpy()
    if flt.village_code:
        mask &= (issues["village_code"] == flt.village_code).to_numpy()
    return mask


def due_at(
    received_at: pd.Series, request_type: pd.Series, sla_days: Mapping[str, int] | None = None
) -> pd.Series:
    """Deadline of each ticket: ``sla_days[request_type]`` working days after receipt.

    Working days follow the Chinese working calendar (:mod:`geo.core.workcal`: public holidays
    off, adjusted working weekends on, from ``chinesecalendar``); the day of receipt does
    not count, a ticket received on a day off counts from the next working day, and the
    deadline is the end (23:59:59) of the last working day. Outside the years the calendar
    package covers, working days are Monday to Friday (see :func:`geo.core.workcal.covered`).
    Unknown request types get the longest limit; a missing ``received_at`` gives ``NaT``.
    This is the one deadline function of GridGov: :func:`with_deadlines`, :func:`kpis`,
    :func:`overdue_mask` and :mod:`geo.loop.lifecycle` use it.
    """
    sla = dict(sla_days or get_settings().sla_working_days)
    days = request_type.map(sla).fillna(max(sla.values())).to_numpy(dtype=np.int64)
    start = received_at.to_numpy().astype("datetime64[D]")
    due = add_workdays(start, days, roll="forward")
    out = pd.to_datetime(due) + pd.Timedelta(hours=23, minutes=59, seconds=59)
    return pd.Series(out, index=received_at.index)


def with_deadlines(issues: pd.DataFrame, sla_days: Mapping[str, int] | None = None) -> pd.DataFrame:
    """Return a copy with a ``due_at`` column (computed once, reused by :func:`kpis`)."""
    out = issues.copy()
    out["due_at"] = due_at(issues["received_at"], issues["request_type"], sla_days)
    return out


def overdue_mask(
    issues: pd.DataFrame, as_of: pd.Timestamp, sla_days: Mapping[str, int] | None = None
) -> np.ndarray:
    """Tickets still open after their deadline at ``as_of`` (a ``due_at`` column is reused).

    Pass ``sla_days`` only with issues that have no ``due_at`` column, or the limits it
    names are ignored in favour of the deadlines already there.
    """
    due = (
        issues["due_at"]
        if "due_at" in issues and sla_days is None
        else due_at(issues["received_at"], issues["request_type"], sla_days)
    )
    open_ = (issues["status"] != CLOSED).to_numpy()
    return open_ & (due < as_of).to_numpy()


def kpis(
    issues: pd.DataFrame, as_of: pd.Timestamp, sla_days: Mapping[str, int] | None = None
) -> dict[str, float]:
    """Headline figures of a (filtered) set of issues.

    Returns
    -------
    dict
        ``issues``, ``open``, ``overdue`` (open past deadline), ``resolution_rate`` (share
        closed), ``on_time_rate`` (share of closed tickets closed by their deadline),
        ``satisfaction_rate`` (满意+基本满意 among rated tickets), ``grid_level_rate``
        (share closed at grid level: 小事不出格).
    """
    n = len(issues)
    closed = (issues["status"] == CLOSED).to_numpy()
    due = (
        issues["due_at"]
        if "due_at" in issues
        else due_at(issues["received_at"], issues["request_type"], sla_days)
    )
    on_time = closed & (issues["closed_at"] <= due).to_numpy()
    rated = issues["satisfaction"].fillna("").isin(["满意", "基本满意", "不满意"]).to_numpy()
    happy = issues["satisfaction"].isin(["满意", "基本满意"]).to_numpy()
    grid_level = (issues["resolution_level"] == "网格").to_numpy() & closed
    return {
        "issues": float(n),
        "open": float(n - closed.sum()),
        "overdue": float((~closed & (due < as_of).to_numpy()).sum()),
        "resolution_rate": float(closed.mean()) if n else float("nan"),
        "on_time_rate": float(on_time.sum() / closed.sum()) if closed.any() else float("nan"),
        "satisfaction_rate": float(happy.sum() / rated.sum()) if rated.any() else float("nan"),
        "grid_level_rate": float(grid_level.sum() / closed.sum()) if closed.any() else float("nan"),
    }


def counts(
    issues: pd.DataFrame, units: pd.DataFrame, *, level: str = "grid", by: Sequence[str] = ()
) -> pd.DataFrame:
    """Issues per unit of a level, joined to every unit (zeros where none), with rates.

    Parameters
    ----------
    issues
        Assigned issues (``grid_code``, ``village_code``, ``town_code``, ``status``).
    units
        The units of that level with their ``residents`` (grids, villages or towns).
    level
        ``grid``, ``village`` or ``town``.
    by
        Extra columns to split counts by (e.g. ``["category"]``), giving a long table.

    Returns
    -------
    pandas.DataFrame
        One row per unit (and split value): the unit key, ``count``, ``open`` and
        ``rate_per_1000`` (issues per 1,000 residents; NaN where nobody lives).
    """
    if level not in LEVEL_KEYS:
        raise ValueError(f"level must be one of {list(LEVEL_KEYS)}, got {level!r}")
    key = LEVEL_KEYS[level]
    if not by and isinstance(issues[key].dtype, pd.CategoricalDtype):
        return _counts_by_codes(issues, units, key)
    keys = issues[key]
    assigned = issues[(keys.notna() & (keys != "")).to_numpy()]
    flags = pd.DataFrame(
        {key: assigned[key].to_numpy(), "open": (assigned["status"] != CLOSED).to_numpy()}
    )
    for col in by:
        flags[col] = assigned[col].to_numpy()
    table = (
        flags.groupby([key, *by], observed=True)["open"]
        .agg(["size", "sum"])
        .rename(columns={"size": "count", "sum": "open"})
        .reset_index()
    )
    base = pd.DataFrame(
        {
            key: units[key].astype(str).to_numpy(),
            "residents": pd.to_numeric(units["residents"]).to_numpy(),
        }
    )
    table[key] = table[key].astype(str)
    table = base.merge(table, on=key, how="left")
    table[["count", "open"]] = table[["count", "open"]].fillna(0).astype(int)
    residents = table["residents"].where(table["residents"] > 0)
    table["rate_per_1000"] = table["count"] / residents * 1000
    return table


def _counts_by_codes(issues: pd.DataFrame, units: pd.DataFrame, key: str) -> pd.DataFrame:
    """:func:`counts` for a categorical key without splits: two ``bincount`` calls."""
    column = issues[key]
    categories = column.cat.categories.astype(str)
    codes = column.cat.codes.to_numpy()
    is_open = (issues["status"] != CLOSED).to_numpy()
    ok = codes >= 0
    n = np.bincount(codes[ok], minlength=len(categories))
    n_open = np.bincount(codes[ok], weights=is_open[ok], minlength=len(categories))
    position = pd.Index(categories).get_indexer(units[key].astype(str).to_numpy())
    found = position >= 0
    count = np.where(found, n[np.where(found, position, 0)], 0).astype(int)
    open_ = np.where(found, n_open[np.where(found, position, 0)], 0).astype(int)
    residents = pd.to_numeric(units["residents"]).to_numpy()
    table = pd.DataFrame(
        {
            key: units[key].astype(str).to_numpy(),
            "residents": residents,
            "count": count,
            "open": open_,
        }
    )
    table["rate_per_1000"] = (
        table["count"] / table["residents"].where(table["residents"] > 0) * 1000
    )
    return table
