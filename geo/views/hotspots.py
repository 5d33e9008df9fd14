"""What the 热点研判 page shows: hot grids with reasons in plain words, trends and warnings."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

import geopandas as gpd
import numpy as np
import pandas as pd

from geo.core.i18n import Text, pick, text, translator
from geo.grids.aggregate import IssueFilter, filter_mask
from geo.hotspots.emerging import (
    CATEGORIES,
    EmergingHotSpots,
    GlobalWindow,
    emerging_hotspots,
    space_time_cube,
)
from geo.hotspots.excess import Value, expected_counts, grid_values
from geo.hotspots.local import (
    CLUSTER_CODES,
    HOTSPOT_CLASSES,
    GridWeights,
    gi_star,
    grid_counts,
    local_moran,
)
from geo.store.county import County

#: How Gi*'s significance is judged: the analytic z with FDR (the ArcGIS Hot Spot Analysis
#: method; the default, by ``bench/hotspot_power.py``) or conditional permutations with FDR.
Inference = Literal["analytic", "permutation"]
INFERENCES: tuple[Inference, ...] = ("analytic", "permutation")

#: Columns of :func:`ranked_table` and :func:`alert_table` (before their headings are put on).
RANKED_COLUMNS = ("grid_name", "count", "expected", "ratio", "hotspot_class", "p_value", "reason")
ALERT_COLUMNS = ("kind", "grid_name", "category", "first_at", "last_at", "n_events", "evidence")


@dataclass
class HotspotView:
    """The analysis of one selection, for the page.

    Attributes
    ----------
    grids
        Grids in scope (EPSG:4549): ``count``, ``previous`` (the window before), ``change``
        (relative), ``rate_per_1000``, ``gi_z``, ``p_sim``, ``p_fdr``, ``hotspot_class``,
        ``lisa_type``, ``emerging_category``, ``trend_tau``, ``trend_p``, ``neighbour_mean``,
        ``top_categories`` and ``reason`` (a :class:`~geo.core.i18n.Text` for the significant
        grids, ``""`` for the rest) and the grid's names and worker.
    ranked
        Hot grids in scope, hottest first (a subset of ``grids`` without geometry).
    window_days
        Length of the analysed window in days.
    """

    grids: gpd.GeoDataFrame
    ranked: pd.DataFrame
    window_days: int


def emerging_for(
    data: County,
    flt: IssueFilter,
    weights: GridWeights,
    *,
    freq: str = "week",
    permutations: int = 9999,
    time_step: int = 1,
    global_window: GlobalWindow = "neighborhood",
) -> EmergingHotSpots:
    """Emerging hot spots over the whole history up to the window's end (all grids).

    Town and village are ignored (the statistics need the whole county); category and
    source apply. Weekly counts are sparse (a few issues a grid), so their p-values come from
    conditional permutations (``permutations``), not the normal approximation, which calls a
    neighbourhood of 3–4 issues significant.
    """
    scope = IssueFilter(categories=flt.categories, sources=flt.sources)
    last = pd.Timestamp(flt.end) if flt.end is not None else data.as_of.normalize()
    earliest = data.issues["received_at"].min()
    first = pd.Timestamp(earliest).normalize() if pd.notna(earliest) else last
    cube = space_time_cube(
        data.issues,
        weights,
        freq="month" if freq == "month" else "week",
        flt=scope,
        start=first,
        end=last,
    )
    return emerging_hotspots(cube, weights, permutations=permutations, time_step=time_step,
                             global_window=global_window)  # fmt: skip


def hotspot_table(
    issues: pd.DataFrame,
    grids: pd.DataFrame,
    flt: IssueFilter,
    *,
    weights: GridWeights,
    emerging: EmergingHotSpots,
    permutations: int = 9999,
    seed: int = 0,
    value: Value = "excess",
    inference: Inference = "analytic",
) -> pd.DataFrame:
    """Per grid: counts over the window and the one before, the count expected for its
    residents, Gi*, local Moran and trend.

    Columns: ``grid_code``, ``count``, ``expected`` (residents x the county's rate for the
    same window and selection, :func:`geo.hotspots.excess.expected_counts`), ``ratio``
    (count / expected), ``value`` (what Gi* tested: see :mod:`geo.hotspots.excess`),
    ``rate_per_1000``, ``previous``, ``change``, ``gi_z``, ``p_norm``, ``p_sim``, ``p_fdr``,
    ``hotspot_class``, ``lisa_type``, ``emerging_category``, ``trend_tau``, ``trend_p``,
    ``neighbour_mean`` (mean count of the neighbours), ``neighbour_expected``, in the row
    order of ``grids``. Town and village in ``flt`` are ignored: the statistics need the
    whole coverage. ``inference``: ``analytic`` (``p_fdr`` from the z-scores; ``p_sim``
    NaN) or ``permutation`` (``permutations`` conditional permutations).

    Raises
    ------
    ValueError
        ``value`` needs residents and no grid has any (``count`` needs none).
    """
    stats_flt = IssueFilter(flt.start, flt.end, flt.categories, flt.sources)
    now = grid_counts(issues, grids, flt=stats_flt)
    end = (
        pd.Timestamp(flt.end)
        if flt.end is not None
        else pd.Timestamp(issues["received_at"].max()).normalize()
    )
    start = pd.Timestamp(flt.start) if flt.start is not None else end - pd.Timedelta(days=29)
    days = window_days(flt, end)
    before = IssueFilter(
        start - pd.Timedelta(days=days),
        start - pd.Timedelta(days=1),
        flt.categories,
        flt.sources,
    )
    prev = grid_counts(issues, grids, flt=before)
    codes = now["grid_code"].astype(str)
    y = pd.Series(now["count"].to_numpy(dtype=float), index=codes).reindex(weights.ids)
    residents = pd.to_numeric(now["residents"], errors="coerce").fillna(0).clip(lower=0)
    people = pd.Series(residents.to_numpy(dtype=float), index=codes).reindex(weights.ids)
    if value != "count" and not (people > 0).any():
        raise ValueError(
            Text(
                "网格没有居民数（residents 列），无法按人口算期望件数；请补上居民数，或检验原始件数"
                "（--value count）",
                "the grids have no residents (a residents column), so no count can be expected "
                "for their size; add residents, or test raw counts (--value count)",
            )
        )
    counted = y.fillna(0).to_numpy()
    population = people.fillna(0).to_numpy()
    expected = expected_counts(counted, population) if (population > 0).any() else counted * 0
    tested = grid_values(value, counted, population, weights.matrix)
    perms = permutations if inference == "permutation" else 0
    gi = gi_star(tested, weights, permutations=perms, seed=seed, signed=value == "excess")
    lisa = local_moran(tested, weights, permutations=permutations, seed=seed).to_frame()
    trend = emerging.to_frame()[["grid_code", "emerging_category", "trend_tau", "trend_p"]]
    cards = np.maximum(weights.cardinalities, 1)
    per_grid = pd.DataFrame(
        {
            "grid_code": weights.ids.astype(str),
            "expected": expected,
            "value": tested,
            "neighbour_mean": (weights.matrix @ counted) / cards,
            "neighbour_expected": (weights.matrix @ expected) / cards,
            "area_count": weights.matrix @ counted + counted,
            "area_expected": weights.matrix @ expected + expected,
        }
    )
    table = (
        now[["grid_code", "count", "rate_per_1000"]]
        .assign(grid_code=lambda g: g.grid_code.astype(str))
        .merge(prev[["grid_code", "count"]].rename(columns={"count": "previous"}), on="grid_code")
        .merge(
            gi.to_frame()[["grid_code", "gi_z", "p_norm", "p_sim", "p_fdr", "hotspot_class"]],
            on="grid_code",
        )
        .merge(
            lisa[["grid_code", "cluster"]].rename(columns={"cluster": "lisa_type"}), on="grid_code"
        )
        .merge(trend, on="grid_code", how="left")
        .merge(per_grid, on="grid_code")
    )
    table["ratio"] = table["count"] / table["expected"].where(table["expected"] > 0)
    table["change"] = (table["count"] - table["previous"]) / table["previous"].where(
        table["previous"] > 0
    )
    return table


def window_days(flt: IssueFilter, end: pd.Timestamp) -> int:
    """Days in the window of ``flt`` (30 when it has no start)."""
    if flt.start is None:
        return 30
    return int((pd.Timestamp(end).normalize() - pd.Timestamp(flt.start).normalize()).days) + 1


def county_hotspots(
    data: County,
    flt: IssueFilter,
    *,
    weights: GridWeights,
    emerging: EmergingHotSpots,
    permutations: int = 9999,
    seed: int = 0,
    value: Value = "excess",
    inference: Inference = "analytic",
) -> gpd.GeoDataFrame:
    """Gi* and local Moran over the window of ``flt`` for every grid of the county (``value``
    and ``inference`` as :func:`hotspot_table` takes them).

    Town and village in ``flt`` are ignored: a town's grids have neighbours in the next town,
    so the statistics are computed county-wide once and :func:`scope_view` picks the grids a
    page shows (the same analysis serves every town). Columns as :class:`HotspotView.grids`.
    """
    issues = data.issues
    stats_flt = IssueFilter(flt.start, flt.end, flt.categories, flt.sources)
    stats = hotspot_table(
        issues,
        data.grids,
        stats_flt,
        weights=weights,
        emerging=emerging,
        permutations=permutations,
        seed=seed,
        value=value,
        inference=inference,
    )
    end = pd.Timestamp(flt.end) if flt.end is not None else data.as_of.normalize()
    days = window_days(flt, end)
    table = (
        data.grids.drop(columns=["households", "residents"])
        .assign(grid_code=lambda g: g.grid_code.astype(str))
        .merge(stats, on="grid_code")
    )
    # Words only for the significant grids (a few dozen): the rest need none.
    sig = (table["hotspot_class"] != "not_significant").to_numpy()
    selected = issues[["grid_code", "category"]][filter_mask(issues, stats_flt)]
    selected = selected[selected["grid_code"].isin(table.loc[sig, "grid_code"]).to_numpy()]
    # Text values (or "" where there are no words): object columns, not pandas' str dtype.
    top = np.full(len(table), "", dtype=object)
    top[sig] = _top_categories(selected, table[sig])
    table["top_categories"] = top
    table["village_name"] = table.village_code.map(
        data.villages.set_index("village_code")["village_name"]
    )
    table["town_name"] = table.town_code.map(data.towns.set_index("town_code")["town_name"])
    reason = np.full(len(table), "", dtype=object)
    if sig.any():
        reason[sig] = _reasons(table[sig], flt, days, by_count=value == "count")
    table["reason"] = reason
    table["window_days"] = days
    return gpd.GeoDataFrame(table, geometry="geometry", crs=data.grids.crs)


def scope_view(table: gpd.GeoDataFrame, flt: IssueFilter) -> HotspotView:
    """The grids of ``flt``'s town / village from a :func:`county_hotspots` table."""
    keep = np.ones(len(table), dtype=bool)
    if flt.town_code:
        keep &= (table["town_code"] == flt.town_code).to_numpy()
    if flt.village_code:
        keep &= (table["village_code"] == flt.village_code).to_numpy()
    grids = table[keep].reset_index(drop=True)
    hot = grids[grids.hotspot_class.str.startswith("hot")]
    ranked = pd.DataFrame(hot.drop(columns="geometry")).sort_values(
        ["gi_z", "count"], ascending=False
    )
    days = int(table["window_days"].iloc[0]) if len(table) else 0
    return HotspotView(grids, ranked.reset_index(drop=True), days)


def hotspot_view(
    data: County,
    flt: IssueFilter,
    *,
    weights: GridWeights,
    emerging: EmergingHotSpots,
    permutations: int = 9999,
    seed: int = 0,
    value: Value = "excess",
    inference: Inference = "analytic",
) -> HotspotView:
    """:func:`county_hotspots` for the window of ``flt``, shown for its town / village."""
    table = county_hotspots(
        data,
        flt,
        weights=weights,
        emerging=emerging,
        permutations=permutations,
        seed=seed,
        value=value,
        inference=inference,
    )
    return scope_view(table, flt)


def weekly_series(data: County, grid_code: str, flt: IssueFilter, *, weeks: int = 26) -> pd.Series:
    """Issues per week in one grid over the last ``weeks`` weeks up to the window's end."""
    end = pd.Timestamp(flt.end) if flt.end is not None else data.as_of.normalize()
    scope = IssueFilter(
        end - pd.Timedelta(weeks=weeks) + pd.Timedelta(days=1), end, flt.categories, flt.sources
    )
    issues = data.issues
    mine = issues[["received_at"]][
        filter_mask(issues, scope) & (issues["grid_code"] == grid_code).to_numpy()
    ]
    edges = pd.date_range(end=end + pd.Timedelta(days=1), periods=weeks + 1, freq="7D")
    counts, _ = np.histogram(
        mine["received_at"].to_numpy(dtype="datetime64[ns]"),
        bins=edges.to_numpy(dtype="datetime64[ns]"),
    )
    return pd.Series(counts, index=edges[:-1].date, name="count")


def _top_categories(selected: pd.DataFrame, table: pd.DataFrame, k: int = 3) -> list[Text | str]:
    """The ``k`` most frequent categories of each grid in the window (``环境卫生 12、…``;
    ``""`` for a grid with none)."""
    pairs = (
        pd.DataFrame(
            {
                "grid_code": selected["grid_code"].astype(str).to_numpy(),
                "category": selected["category"].astype(str).to_numpy(),
            }
        )
        .value_counts()
        .rename("n")
        .reset_index()
        .sort_values(["grid_code", "n"], ascending=[True, False])
    )
    top = pairs.groupby("grid_code").head(k)
    items = top.assign(item=top.category + " " + top.n.astype(str)).groupby("grid_code")["item"]
    joined = {code: _joined(list(group)) for code, group in items}
    return [joined.get(code, "") for code in table["grid_code"]]


def _joined(items: list[str]) -> Text:
    """Items listed as each language lists them (``甲、乙`` / ``甲, 乙``)."""
    sep = text("sep_list")
    return Text(sep.zh.join(items), sep.en.join(items))


def _reasons(
    table: pd.DataFrame, flt: IssueFilter, days: int, *, by_count: bool = False
) -> list[Text]:
    """Why each grid is hot or cold, in plain words (catalog keys ``hot_reason_*``): the
    issues of the grid and its neighbours against the count expected for their residents
    (what Gi* of the excess tested), the grid's own, the confidence after the correction
    and the trend. ``by_count``: raw counts were tested; the words say so, with the
    neighbours' mean instead of an expectation."""
    what = (
        text("hot_reason_what", categories=_joined(list(flt.categories))) if flt.categories else ""
    )
    clause, end = text("sep_clause"), text("hot_reason_end")
    out: list[Text] = []
    records: list[dict[Any, Any]] = table.to_dict("records")
    for row in records:
        cls = str(row["hotspot_class"])
        level = int(cls.split("_")[1])
        previous = int(row["previous"])
        if pd.notna(row["change"]):
            change: Text | str = text(
                "hot_reason_up" if row["change"] >= 0 else "hot_reason_down",
                days=days,
                change=abs(float(row["change"])),
            )
        elif previous == 0:
            change = text("hot_reason_none_before", days=days)
        else:
            change = ""
        side = "hot" if cls.startswith("hot") else "cold"
        area_expected = float(row["area_expected"])
        parts = [
            text(
                f"hot_reason_{side}_counts" if by_count else f"hot_reason_{side}",
                days=days,
                what=what,
                level=level,
                count=int(row["count"]),
                around=float(row["neighbour_mean"]),
                area=int(row["area_count"]),
                area_expected=area_expected,
                area_ratio=float(row["area_count"]) / area_expected if area_expected else 0.0,
                expected=float(row["expected"]),
                change=change,
            )
        ]
        pattern, cluster = str(row["emerging_category"]), str(row["lisa_type"])
        if pattern in CATEGORIES and pattern != "no_pattern":
            parts.append(text("hot_reason_pattern", pattern=text(f"emerging_{pattern}")))
        if cluster in CLUSTER_CODES:
            parts.append(text("hot_reason_cluster", cluster=text(f"cluster_{cluster}")))
        if isinstance(row["top_categories"], Text):
            parts.append(text("hot_reason_top", top=row["top_categories"]))
        out.append(
            Text(
                zh=clause.zh.join(p.zh for p in parts) + end.zh,
                en=clause.en.join(p.en for p in parts) + end.en,
            )
        )
    return out


def ranked_table(view: HotspotView, lang: str) -> pd.DataFrame:
    """The hot grids of ``view``, hottest first, as the page lists them: the columns of
    :data:`RANKED_COLUMNS` — each grid's own count, expected count, ratio, class (the
    confidence after the correction) and uncorrected p-value — with words in ``lang``."""
    ranked = view.ranked
    own_p = ranked["p_sim"].where(ranked["p_sim"].notna(), ranked["p_norm"])
    table = ranked.assign(p_value=own_p)[list(RANKED_COLUMNS)].copy()
    table["expected"] = table["expected"].round(1)
    table["ratio"] = table["ratio"].round(1)
    table["hotspot_class"] = table["hotspot_class"].map(class_labels("hotspot_class", lang))
    table["reason"] = table["reason"].map(lambda r: pick(r, lang))
    return table


def grid_reason(view: HotspotView, grid_code: str, lang: str) -> str:
    """Why ``grid_code`` is hot or cold in ``lang``; for a grid that is neither, its class."""
    row = view.grids.set_index("grid_code").loc[grid_code]
    if isinstance(row["reason"], Text):
        return row["reason"].pick(lang)
    tr = translator(lang)
    return f"{tr('hotspot_class')}: {tr('hot_class_' + str(row['hotspot_class']))}"


def class_labels(column: str, lang: str) -> dict[str, str]:
    """Words of the codes of ``column`` (``hotspot_class`` or ``emerging_category``) in
    ``lang``, for a legend."""
    prefix, codes = (
        ("hot_class_", HOTSPOT_CLASSES) if column == "hotspot_class" else ("emerging_", CATEGORIES)
    )
    tr = translator(lang)
    return {code: tr(prefix + code) for code in codes}


def alert_table(
    alerts: pd.DataFrame, lang: str, grid_names: Mapping[str, str] | None = None
) -> pd.DataFrame:
    """Warnings as the page lists them: the columns of :data:`ALERT_COLUMNS`, the kind and the
    evidence in ``lang``, each grid named by its name and code (``湿地社区第14网格
    (320924101010014)``; the code alone when ``grid_names`` does not know it)."""
    tr = translator(lang)
    names = grid_names or {}
    codes = alerts["grid_code"].astype(str)
    named = [f"{names[c]} ({c})" if c in names else c for c in codes]
    table = alerts.assign(grid_name=named)[list(ALERT_COLUMNS)].copy()
    table["kind"] = table["kind"].map(lambda k: tr(f"alert_kind_{k}"))
    table["evidence"] = table["evidence"].map(lambda e: pick(e, lang))
    return table


def event_points(data: County, flt: IssueFilter) -> pd.DataFrame:
    """The selected issues as WGS84 ``lon``/``lat`` points (for a density layer)."""
    selected = data.issues[filter_mask(data.issues, flt)]
    located = selected[~(selected.geometry.isna() | selected.geometry.is_empty)]
    points = located.geometry.to_crs("EPSG:4326")
    return pd.DataFrame(
        {
            "lon": points.x.to_numpy(),
            "lat": points.y.to_numpy(),
            "category": located["category"].astype(str).to_numpy(),
        }
    )


def scope_alerts(alerts: pd.DataFrame, flt: IssueFilter) -> pd.DataFrame:
    """Warnings in the town/village of ``flt`` (and its categories), newest first."""
    out = alerts
    if flt.town_code:
        out = out[out["town_code"] == flt.town_code]
    if flt.village_code:
        out = out[out["village_code"] == flt.village_code]
    if flt.categories:
        out = out[out["category"].isin(flt.categories)]
    return out.reset_index(drop=True)
