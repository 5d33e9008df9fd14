"""What the Overview page shows: KPIs, per-grid counts with names, drill-down scope, details."""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd

from geo.core.privacy import mask_callers
from geo.grids.aggregate import IssueFilter, counts, filter_mask, stocks_and_window
from geo.grids.assign import PROBLEM_VILLAGE_LEVEL, problem_words
from geo.loop.lifecycle import KPIS, kpi_tables
from geo.store.county import County


@dataclass
class Overview:
    """The Overview of one filter selection.

    Attributes
    ----------
    kpis
        The closed loop's figures of the selected issues at the county's ``as_of``: the keys
        of :data:`geo.loop.lifecycle.KPIS` (the county row of
        :func:`geo.loop.lifecycle.kpi_tables`, so ``on_time_rate`` is
        :func:`geo.loop.lifecycle.on_time_rate`, as on the closed-loop page and the wall),
        ``resolution_rate`` (closed / received; NaN when nothing is received), and
        ``grids`` and ``residents`` of the scope. ``open``, ``overdue`` and ``reprimand``
        are states of now over every ticket of the scope, categories and sources, whenever
        received; the rest are flows of the tickets received in the filter's dates.
    grids
        Grids in scope (EPSG:4549) with ``town_name``, ``village_name``, ``count`` and
        ``rate_per_1000`` (of the window's tickets) and ``open`` (a state of now, as the
        ``open`` tile: every ticket of the selection still open, whenever received).
    villages, towns
        Outlines in scope.
    unassigned
        Issues passing the time/category/source filters that fell in no grid (at a town's
        scope, only those carrying the town's code), with reason
        (``assign_problem``, a code: its words in a language by :func:`unassigned_table`).
    """

    kpis: dict[str, float]
    grids: gpd.GeoDataFrame
    villages: gpd.GeoDataFrame
    towns: gpd.GeoDataFrame
    unassigned: pd.DataFrame


def overview(data: County, flt: IssueFilter) -> Overview:
    """Compute the Overview for ``flt`` (town/village narrow the scope of the map)."""
    issues = data.issues
    tickets, in_window = stocks_and_window(issues, flt)
    selected = tickets[in_window]
    grids, villages, towns = data.grids, data.villages, data.towns
    if flt.town_code:
        grids = grids[grids.town_code == flt.town_code]
        villages = villages[villages.town_code == flt.town_code]
        towns = towns[towns.town_code == flt.town_code]
    if flt.village_code:
        grids = grids[grids.village_code == flt.village_code]
        villages = villages[villages.village_code == flt.village_code]
    table = counts(selected, grids, level="grid")
    village_names = data.villages.set_index("village_code")["village_name"]
    town_names = data.towns.set_index("town_code")["town_name"]
    out = grids.drop(columns=["residents"]).merge(table, on="grid_code", how="left")
    out["village_name"] = out["village_code"].map(village_names)
    out["town_name"] = out["town_code"].map(town_names)
    out["rate_per_1000"] = out["rate_per_1000"].round(1)
    loop = kpi_tables(tickets, data.as_of, levels=("county", "grid"), window=in_window)
    # A grid's open cases are a state of now, as the tiles': every ticket, whenever received.
    open_now = loop["grid"].set_index("grid_code")["open"]
    out["open"] = out["grid_code"].map(open_now).fillna(0).astype(np.int64)
    figures = _figures(loop["county"])
    figures["grids"] = float(len(out))
    figures["residents"] = float(out["residents"].sum())
    # A ticket in no grid belongs to a town only when it carries the town's code (e.g. from
    # its address); the rest (no coordinates, outside the county) are the county's alone.
    no_scope = IssueFilter(flt.start, flt.end, flt.categories, flt.sources, flt.town_code)
    problem = issues["assign_problem"].astype(str)
    in_no_grid = (problem != "") & (problem != PROBLEM_VILLAGE_LEVEL)  # village level: in a grid
    lost = issues[filter_mask(issues, no_scope) & in_no_grid.to_numpy()]
    unassigned = mask_callers(pd.DataFrame(lost.drop(columns="geometry")))[
        ["ticket_id", "received_at", "category", "lon", "lat", "coord_sys", "assign_problem"]
    ]
    return Overview(figures, gpd.GeoDataFrame(out, crs=grids.crs), villages, towns, unassigned)


def headline(
    issues: pd.DataFrame, as_of: pd.Timestamp, *, window: np.ndarray | None = None
) -> dict[str, float]:
    """The Overview's KPI figures of ``issues`` at ``as_of`` (see :attr:`Overview.kpis`):
    states of now over every ticket, flows over those in ``window``
    (:func:`geo.grids.aggregate.stocks_and_window`)."""
    return _figures(kpi_tables(issues, as_of, levels=("county",), window=window)["county"])


def _figures(county: pd.DataFrame) -> dict[str, float]:
    """:attr:`Overview.kpis` from the county row of :func:`kpi_tables`."""
    row = county.iloc[0]
    figures = {name: float(row[name]) for name in KPIS}
    received = figures["issues"]
    figures["resolution_rate"] = figures["closed"] / received if received else float("nan")
    return figures


def unassigned_table(view: Overview, lang: str) -> pd.DataFrame:
    """The issues in no grid as the page lists them, the reason in ``lang``."""

    def reason(code: str) -> str:
        words = problem_words(code)
        return code if words is None else words.pick(lang)  # a store's words of before

    reasons = view.unassigned["assign_problem"].astype(str).map(reason)
    return view.unassigned.assign(assign_problem=reasons)


def grid_detail(
    data: County, grid_code: str, flt: IssueFilter, *, recent: int = 20
) -> tuple[pd.Series, pd.DataFrame, pd.DataFrame]:
    """One grid's attributes (with town and village names), recent issues (callers masked), mix."""
    grid = data.grids[data.grids.grid_code == grid_code]
    if grid.empty:
        raise KeyError(f"no grid {grid_code!r}")
    scope = IssueFilter(flt.start, flt.end, flt.categories, flt.sources)
    issues = data.issues
    mine = issues[filter_mask(issues, scope) & (issues["grid_code"] == grid_code).to_numpy()]
    cols = [
        "ticket_id",
        "received_at",
        "source",
        "category",
        "subcategory",
        "status",
        "resolution_level",
        "caller_name",
        "caller_phone",
    ]
    latest = mask_callers(
        pd.DataFrame(mine.sort_values("received_at", ascending=False).head(recent)[cols])
    )
    mix = (
        mine["category"]
        .value_counts()
        .rename("count")
        .rename_axis("category")
        .reset_index()
        .query("count > 0")
    )
    attrs = grid.drop(columns="geometry").iloc[0].copy()
    attrs["town_name"] = data.towns.set_index("town_code")["town_name"].get(attrs["town_code"], "")
    attrs["village_name"] = data.villages.set_index("village_code")["village_name"].get(
        attrs["village_code"], ""
    )
    return attrs, latest, mix
