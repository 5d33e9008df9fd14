"""Filters of issues and their counts per unit up the grid hierarchy (grid, village, town).

The closed loop's figures (deadlines, overdue, on-time and the other KPIs) are
:mod:`geo.loop.lifecycle`'s; here an issue is open when its status is not
:data:`geo.core.tickets.CLOSED`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from geo.core.tickets import CLOSED

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


def stocks_and_window(issues: pd.DataFrame, flt: IssueFilter) -> tuple[pd.DataFrame, np.ndarray]:
    """The tickets a page's figures count under ``flt``, and which of them its dates select.

    The first are those of ``flt``'s scope, categories and sources received whenever: the
    states of now (open, overdue) count them all — a case overdue for months is overdue
    today whatever dates are chosen. The mask marks those received between ``flt.start``
    and ``flt.end``: the flows (received, closed, rates) count only them. Pass both to
    :func:`geo.loop.lifecycle.kpi_tables` (``window=``).
    """
    undated = IssueFilter(
        categories=flt.categories,
        sources=flt.sources,
        town_code=flt.town_code,
        village_code=flt.village_code,
    )
    tickets = issues[filter_mask(issues, undated)]
    return tickets, filter_mask(tickets, flt)


def rate_per_1000(count: pd.Series, residents: pd.Series) -> pd.Series:
    """Issues per 1,000 residents: ``count / residents × 1000``, NaN where nobody lives
    (``residents`` 0, negative or missing); on ``count``'s index."""
    people = pd.to_numeric(residents, errors="coerce")
    return count / people.where(people > 0) * 1000


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
        :func:`rate_per_1000`.
    """
    if level not in LEVEL_KEYS:
        raise ValueError(f"level must be one of {list(LEVEL_KEYS)}, got {level!r}")
    key = LEVEL_KEYS[level]
    if not by and isinstance(issues[key].dtype, pd.CategoricalDtype):
        return _counts_by_codes(issues, units, key)
    keys = issues[key]
    assigned = issues[(keys.notna() & (keys != "")).to_numpy()]
    flags = pd.DataFrame({key: assigned[key].to_numpy(), "open": _is_open(assigned)})
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
    table["rate_per_1000"] = rate_per_1000(table["count"], table["residents"])
    return table


def _counts_by_codes(issues: pd.DataFrame, units: pd.DataFrame, key: str) -> pd.DataFrame:
    """:func:`counts` for a categorical key without splits: two ``bincount`` calls."""
    column = issues[key]
    categories = column.cat.categories.astype(str)
    codes = column.cat.codes.to_numpy()
    is_open = _is_open(issues)
    ok = codes >= 0
    size = max(len(categories), 1)  # no issues at all: no categories, yet one slot to read
    n = np.bincount(codes[ok], minlength=size)
    n_open = np.bincount(codes[ok], weights=is_open[ok], minlength=size)
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
    table["rate_per_1000"] = rate_per_1000(table["count"], table["residents"])
    return table


def _is_open(issues: pd.DataFrame) -> np.ndarray:
    """Open by the ticket's status (not :data:`geo.core.tickets.CLOSED`), whatever its time."""
    return (issues["status"] != CLOSED).to_numpy()
