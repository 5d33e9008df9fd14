"""The monthly report 月度报告 of a town or the county: its figures, tables and labels.

Every figure comes from :mod:`geo.loop.lifecycle` (nothing is recounted here):

KPIs (受理数, 按期办结率, 一次性办结率, 小事不出格、大事不出网, 回访率, 满意率…)
    :func:`geo.loop.lifecycle.kpi_tables` of the tickets *received in the month* in the scope,
    evaluated at the month's last second (or at the data's "as of" time when the month is
    not over), for the scope and per town, village, grid, category and routing platform.
Daily intake and on-time rate
    :func:`geo.loop.lifecycle.lifecycle` of the same tickets, grouped by the day they were received.
月过堂 (backlog and hard cases)
    :func:`geo.loop.lifecycle.monthly_review` of every ticket of the scope at the same time: the
    backlog still open, and the month's overdue, repeated and escalated cases.
Map
    Open and overdue-open tickets per grid at that time (:func:`geo.loop.lifecycle.loop_kpis`).

Callers' names and phone numbers appear only masked (:func:`geo.core.privacy.mask_callers`).
Labels are Chinese, or English with ``lang="en"``; place names and categories stay as the data
write them. The documents are drawn from a :class:`MonthlyReport` elsewhere: the Excel workbook
by :mod:`geo.views.report_xlsx`, the PDF by :mod:`geo.views.report_pdf`, the files named and
written by :mod:`geo.views.report_files`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd

from geo.core.errors import InputProblems
from geo.core.i18n import TEXT, translator
from geo.core.privacy import mask_callers
from geo.core.settings import get_settings
from geo.loop.lifecycle import (
    CLOSED_LATE,
    CLOSED_ON_TIME,
    KPIS,
    OVERDUE,
    REPRIMAND,
    STAGES,
    STATES,
    daily_clearance,
    kpi_tables,
    lifecycle,
    loop_kpis,
    month_alerts,
    monthly_review,
    on_time_rate,
    weekly_summary,
)
from geo.store.county import County

#: Share columns of the KPI tables (shown as percentages).
RATE_COLUMNS = (
    "on_time_rate",
    "first_time_rate",
    "grid_share",
    "net_share",
    "callback_rate",
    "satisfaction_rate",
)
#: Yes/no columns of the case lists.
FLAG_COLUMNS = ("overdue", "repeated", "escalated", "cleared")
#: Place columns, in the order tables show them.
PLACE_COLUMNS = (
    "town_code",
    "town_name",
    "village_code",
    "village_name",
    "grid_code",
    "grid_name",
    "grid_worker",
)
#: 月过堂 figures of the scope shown in the summary and the backlog table.
BACKLOG_SUMMARY = (
    "backlog",
    "overdue",
    "reprimand",
    "closed_late",
    "repeated",
    "escalated",
    "hard_cases",
)

_MONTH = re.compile(r"^\s*(\d{4})-(\d{1,2})\s*$")


# --------------------------------------------------------------------------- inputs


def parse_month(text: str | pd.Period) -> pd.Period:
    """``"2026-10"`` → the month ``2026-10``; anything else raises :class:`InputProblems`."""
    if isinstance(text, pd.Period):
        return text.asfreq("M")
    match = _MONTH.match(str(text))
    if not match or not 1 <= int(match.group(2)) <= 12:
        raise InputProblems(
            "build the monthly report",
            [f"month must be written YYYY-MM, e.g. 2026-10 (月份格式如 2026-10); got {text!r}"],
        )
    return pd.Period(year=int(match.group(1)), month=int(match.group(2)), freq="M")


def find_town(towns: pd.DataFrame, text: str) -> str:
    """The code of the town named or coded ``text`` (``320924104`` or ``四明镇``)."""
    wanted = str(text).strip()
    codes = towns["town_code"].astype(str)
    names = towns["town_name"].astype(str) if "town_name" in towns.columns else codes
    for column in (codes, names):
        hit = codes[(column == wanted).to_numpy()]
        if len(hit):
            return str(hit.iloc[0])
    known = ", ".join(f"{c} {n}" for c, n in zip(codes, names, strict=True))
    raise InputProblems(
        "build the monthly report",
        [
            f"town {wanted!r} is neither a town code nor a town name of this county; use one of: "
            f"{known}"
        ],
    )


def report_months(county: County) -> list[pd.Period]:
    """Months a report can be made for, newest first (first ticket's month to "as of")."""
    first = county.issues["received_at"].min()
    if pd.isna(first):
        return []
    periods = pd.period_range(pd.Timestamp(first), county.as_of, freq="M")
    return list(periods[::-1])


# --------------------------------------------------------------------------- tables


def with_names(frame: pd.DataFrame, county: County) -> pd.DataFrame:
    """A copy with the names of the places its code columns hold.

    ``grid_code`` adds ``grid_name``, ``grid_worker`` (and the grid's village and town codes
    when missing); ``village_code`` adds ``village_name`` (and the town code when missing);
    ``town_code`` adds ``town_name`` (the county's name for the county's own code, as in the
    county rows of :func:`geo.loop.lifecycle.weekly_summary`). Place columns come first, in the
    order
    of :data:`PLACE_COLUMNS`; unknown codes get an empty name.
    """
    out = frame.copy()
    if "grid_code" in out.columns:
        grids = _lookup(county.grids, "grid_code")
        codes = out["grid_code"].astype(str)
        for col in ("grid_name", "grid_worker", "village_code", "town_code"):
            if col in grids.columns and col not in out.columns:
                out[col] = codes.map(grids[col]).fillna("").to_numpy()
    if "village_code" in out.columns:
        villages = _lookup(county.villages, "village_code")
        codes = out["village_code"].astype(str)
        for col in ("village_name", "town_code"):
            if col in villages.columns and col not in out.columns:
                out[col] = codes.map(villages[col]).fillna("").to_numpy()
    if "town_code" in out.columns:
        cfg = get_settings()
        towns = _lookup(county.towns, "town_code")
        codes = out["town_code"].astype(str)
        names = codes.map(towns["town_name"]) if "town_name" in towns.columns else codes
        names = names.where(codes != cfg.county_code, _county_name(county))
        out["town_name"] = names.fillna("").to_numpy()
    first = [c for c in PLACE_COLUMNS if c in out.columns]
    return out[first + [c for c in out.columns if c not in first]]


def with_callers(frame: pd.DataFrame, issues: pd.DataFrame) -> pd.DataFrame:
    """A copy of a ticket list (with ``ticket_id``) plus its callers, masked.

    ``caller_name`` and ``caller_phone`` are looked up in ``issues`` by ``ticket_id`` and
    masked with :func:`geo.core.privacy.mask_callers` (张** and 138****1234) before they are
    added; the issues are not modified. Without those columns the copy is returned as is.
    """
    cols = [c for c in ("caller_name", "caller_phone") if c in issues.columns]
    out = frame.copy()
    if not cols or "ticket_id" not in out.columns or "ticket_id" not in issues.columns:
        return out
    ids = issues["ticket_id"].astype(str)
    wanted = ids.isin(set(out["ticket_id"].astype(str))).to_numpy()
    callers = pd.DataFrame(issues.loc[wanted, cols]).assign(ticket_id=ids[wanted].to_numpy())
    masked = mask_callers(callers).drop_duplicates("ticket_id").set_index("ticket_id")
    for col in cols:
        out[col] = out["ticket_id"].astype(str).map(masked[col]).fillna("").to_numpy()
    return out


def named_kpis(
    county: County,
    issues: pd.DataFrame,
    as_of: pd.Timestamp | str,
    *,
    levels: Sequence[str] = ("county", "town", "village", "grid", "category", "platform"),
    window: np.ndarray | None = None,
) -> dict[str, pd.DataFrame]:
    """:func:`geo.loop.lifecycle.kpi_tables` with place names (:func:`with_names`) on every
    level (``window``: its flows' tickets)."""
    tables = kpi_tables(issues, as_of, levels=levels, window=window)
    return {level: with_names(table, county) for level, table in tables.items()}


def rhythm_tables(
    county: County,
    issues: pd.DataFrame,
    as_of: pd.Timestamp | str,
    *,
    town_code: str | None = None,
) -> dict[str, pd.DataFrame]:
    """日清—周结—月过堂 of ``issues`` at ``as_of``, with place names and callers masked.

    Returns
    -------
    dict
        ``daily`` (:func:`geo.loop.lifecycle.daily_clearance`), ``weekly``
        (:func:`geo.loop.lifecycle.weekly_summary`), ``backlog`` and ``cases``
        (:func:`geo.loop.lifecycle.monthly_review`). With ``town_code``, the weekly and backlog
        tables
        keep that town's row only (their total row would repeat it).
    """
    review = monthly_review(issues, as_of)
    out = {
        "daily": with_callers(with_names(daily_clearance(issues, as_of), county), issues),
        "weekly": with_names(weekly_summary(issues, as_of), county),
        "backlog": with_names(review.backlog, county),
        "cases": with_callers(with_names(review.cases, county), issues),
    }
    if town_code is not None:
        for name in ("weekly", "backlog"):
            table = out[name]
            out[name] = table[table["town_code"].astype(str) == str(town_code)]
    return out


def format_kpi(name: str, value: float) -> str:
    """A KPI as shown on a tile: ``98.3%``, ``1.1`` (days), ``13,652``; ``—`` when empty."""
    if pd.isna(value):
        return "—"
    if name in RATE_COLUMNS:
        return f"{value:.1%}"
    return f"{value:.1f}" if name == "median_close_days" else f"{value:,.0f}"


@dataclass(frozen=True)
class MonthlyReport:
    """Everything the monthly report of one scope and month shows.

    Attributes
    ----------
    county_name, scope_code, scope_name, town_code
        The county; the scope's code and name (the county's, or the town's); the town's
        code or None for the county report.
    month
        The month reported.
    as_of
        The time the figures are taken at: the month's last second, or ``data_as_of`` when
        the month is not over yet.
    data_as_of
        The data's own "as of" time (:attr:`geo.store.county.County.as_of`).
    synthetic
        The data are the synthetic demo county.
    summary
        The scope's KPIs (:data:`geo.loop.lifecycle.KPIS`) for the tickets received in
        the month.
    kpis
        The same KPIs per ``town`` (county report only), ``village``, ``grid``,
        ``category`` and ``platform``, with place names.
    daily
        One row per day of the month up to ``as_of``: ``day``, ``received``, ``closed``,
        ``closed_on_time``, ``decided`` (closed, or open past the deadline) and
        ``on_time_rate`` (:func:`geo.loop.lifecycle.on_time_rate`) of the tickets received
        that day.
    backlog
        :attr:`geo.loop.lifecycle.MonthlyReview.backlog` with names: per town, then the county row
        (a town report has its town's row only).
    cases
        :attr:`geo.loop.lifecycle.MonthlyReview.cases` (overdue, repeated and escalated cases) with
        names and the callers masked.
    grid_status
        The scope's grids (EPSG:4549) with ``open`` and ``overdue`` tickets at ``as_of``.
    outlines
        Outlines drawn over the grids, with a ``name``: the towns (county report) or the
        town's villages.
    """

    county_name: str
    scope_code: str
    scope_name: str
    town_code: str | None
    month: pd.Period
    as_of: pd.Timestamp
    data_as_of: pd.Timestamp
    synthetic: bool
    summary: pd.Series
    kpis: dict[str, pd.DataFrame]
    daily: pd.DataFrame
    backlog: pd.DataFrame
    cases: pd.DataFrame
    grid_status: gpd.GeoDataFrame
    outlines: gpd.GeoDataFrame

    @property
    def partial(self) -> bool:
        """The month was not over at ``as_of``."""
        return bool(self.as_of < _month_end(self.month))

    @property
    def scope_row(self) -> pd.Series:
        """The scope's row of :attr:`backlog` (the town's, or the county's)."""
        code = self.town_code or get_settings().county_code
        rows = self.backlog[self.backlog["town_code"].astype(str) == code]
        if len(rows):
            return rows.iloc[0]
        return pd.Series(0, index=[c for c in self.backlog.columns if c not in PLACE_COLUMNS])

    def case_list(self, flag: str) -> pd.DataFrame:
        """The cases with ``flag`` set: ``overdue``, ``repeated`` or ``escalated``."""
        return self.cases[self.cases[flag].to_numpy(dtype=bool)].reset_index(drop=True)


def build_report(
    county: County,
    *,
    month: str | pd.Period,
    town: str | None = None,
    alerts: pd.DataFrame | None = None,
) -> MonthlyReport:
    """The monthly report of ``town`` (a code or a name; None: the county) for ``month``.

    Parameters
    ----------
    county
        The county (:func:`geo.store.county.load_county`); not modified.
    month
        ``"2026-10"`` or a monthly ``pandas.Period``: from the month of the first ticket to
        the month of :attr:`County.as_of <geo.store.county.County.as_of>`.
    town
        A town code (``320924104``) or name (``四明镇``); None for the whole county.
    alerts
        Alerts already detected (:func:`geo.hotspots.alerts.detect_alerts` at the report's
        ``as_of`` with a lookback reaching the month's start); when omitted, detected on
        the whole county's tickets (:func:`geo.loop.lifecycle.month_alerts`), so a town's report
        sees a
        repeat complaint that crosses its border.

    Raises
    ------
    InputProblems
        For a month written wrongly or outside the data, or an unknown town.
    """
    period = parse_month(month)
    problems: list[str] = []
    town_code = None
    if town is not None and str(town).strip():
        try:
            town_code = find_town(county.towns, str(town))
        except InputProblems as exc:
            problems += exc.problems
    issues = county.issues
    data_as_of = pd.Timestamp(county.as_of)
    first = issues["received_at"].min()
    start, end = period.start_time, _month_end(period)
    if start > data_as_of:
        problems.append(
            f"month {period} is after the data, which end at {data_as_of:%Y-%m-%d %H:%M}; "
            f"choose {data_as_of:%Y-%m} or earlier"
        )
    elif pd.isna(first) or end < first:
        since = "no ticket at all" if pd.isna(first) else f"the first ticket is of {first:%Y-%m}"
        problems.append(f"month {period} is before the data ({since}); choose a later month")
    if problems:
        raise InputProblems("build the monthly report", problems)
    as_of = min(end, data_as_of)
    scope = issues if town_code is None else issues[(issues["town_code"] == town_code).to_numpy()]
    received = scope["received_at"]
    month_issues = scope[((received >= start) & (received <= as_of)).to_numpy()]
    levels: tuple[str, ...] = ("county", "village", "grid", "category", "platform")
    if town_code is None:
        levels = ("county", "town", *levels[1:])
    kpis = named_kpis(county, month_issues, as_of, levels=levels)
    summary = kpis.pop("county").drop(columns="county_code").iloc[0]
    if alerts is None and town_code is not None:
        alerts = month_alerts(issues, as_of)  # county-wide: repeats across the town border
    review = monthly_review(scope, as_of, alerts=alerts)
    backlog = with_names(review.backlog, county)
    if town_code is not None:
        backlog = backlog[backlog["town_code"].astype(str) == town_code].reset_index(drop=True)
    cases = with_callers(with_names(review.cases, county), scope)
    status = loop_kpis(scope, as_of, by="grid")[["grid_code", "open", "overdue"]]
    grids = county.grids
    if town_code is not None:
        grids = grids[grids["town_code"].astype(str) == town_code]
    grid_status = grids[["grid_code", "geometry"]].assign(grid_code=grids["grid_code"].astype(str))
    grid_status = with_names(grid_status.merge(status, on="grid_code", how="left"), county)
    grid_status[["open", "overdue"]] = grid_status[["open", "overdue"]].fillna(0).astype(int)
    if town_code is None:
        outlines = county.towns.rename(columns={"town_name": "name"})
    else:
        villages = county.villages
        outlines = villages[villages["town_code"].astype(str) == town_code].rename(
            columns={"village_name": "name"}
        )
    return MonthlyReport(
        county_name=_county_name(county),
        scope_code=town_code or get_settings().county_code,
        scope_name=scope_name(county, town_code),
        town_code=town_code,
        month=period,
        as_of=as_of,
        data_as_of=data_as_of,
        synthetic=county.synthetic,
        summary=summary,
        kpis=kpis,
        daily=_daily(month_issues, as_of, start),
        backlog=backlog,
        cases=cases,
        grid_status=gpd.GeoDataFrame(grid_status, geometry="geometry", crs=grids.crs),
        outlines=gpd.GeoDataFrame(outlines[["name", "geometry"]], crs=outlines.crs),
    )


# --------------------------------------------------------------------------- labels


def column_label(column: str, lang: str = "zh") -> str:
    """The header of a column: ``loop_kpi_…`` for the KPIs (:data:`geo.loop.lifecycle.KPIS`),
    else ``loop_col_…`` when the catalog has it, else the column's own name."""
    if column in KPIS:
        return translator(lang)(f"loop_kpi_{column}")
    key = f"loop_col_{column}"
    return translator(lang)(key) if key in TEXT else column


def display_table(frame: pd.DataFrame, lang: str = "zh", *, labelled: bool = True) -> pd.DataFrame:
    """A copy for people: stages, states, reasons, platforms and flags in words, times as
    ``YYYY-MM-DD HH:MM:SS`` text (blank when not reached yet), headers labelled
    (:func:`column_label`; kept raw with ``labelled=False``, for a page that labels and
    formats them itself). Numbers stay numbers (rates are shares in [0, 1])."""
    out = in_words(frame, lang)
    for col in out.columns:
        if pd.api.types.is_datetime64_any_dtype(out[col]):
            out[col] = out[col].dt.strftime("%Y-%m-%d %H:%M:%S").fillna("")
    if not labelled:
        return out
    return out.rename(columns={c: column_label(c, lang) for c in out.columns})


def report_title(report: MonthlyReport, lang: str = "zh") -> str:
    """``射阳县·四明镇 网格治理月度报告（2026年10月）``."""
    t = translator(lang)
    scope = report.county_name
    if report.town_code is not None:
        scope = f"{report.county_name}·{report.scope_name}"
    return t("rpt_title").format(scope=scope, month=month_label(report.month, lang))


def scope_name(county: County, town_code: str | None) -> str:
    """The name of a report's scope: the town's, or the county's for None."""
    if town_code is None:
        return _county_name(county)
    towns = _lookup(county.towns, "town_code")
    return str(towns.loc[str(town_code), "town_name"])


def month_label(period: pd.Period, lang: str) -> str:
    """``2026年10月`` (``October 2026`` in English)."""
    if lang == "en":
        return f"{period.start_time:%B %Y}"
    return f"{period.year}年{period.month}月"


def meta_lines(report: MonthlyReport, lang: str) -> list[tuple[str, object]]:
    """The report's header lines as (label, value): scope, month, the two "as of" times and
    when it was made."""
    t = translator(lang)
    scope = t("scope_county") if report.town_code is None else report.scope_name
    as_of = f"{report.as_of:%Y-%m-%d %H:%M}" + (t("rpt_partial") if report.partial else "")
    return [
        (t("rpt_scope"), f"{report.county_name} · {scope}" if report.town_code else scope),
        (t("rpt_month"), month_label(report.month, lang)),
        (t("rpt_as_of"), as_of),
        (t("rpt_data_as_of"), f"{report.data_as_of:%Y-%m-%d %H:%M}"),
        (t("rpt_generated"), f"{pd.Timestamp.now(tz='Asia/Shanghai'):%Y-%m-%d %H:%M}"),
    ]


def in_words(frame: pd.DataFrame, lang: str) -> pd.DataFrame:
    """Stages, states, reasons, platforms and flags in words (same column names)."""
    t = translator(lang)
    out = frame.copy()
    if "stage" in out.columns:
        out["stage"] = out["stage"].map(lambda s: t(f"loop_stage_{s}") if s in STAGES else s)
    if "state" in out.columns:
        out["state"] = out["state"].map(lambda s: t(f"loop_state_{s}") if s in STATES else s)
    if "reason" in out.columns:
        out["reason"] = out["reason"].map(lambda r: t(f"loop_reason_{r}"))
    if "platform" in out.columns:
        out["platform"] = out["platform"].map(
            lambda p: t(f"loop_pf_{p}") if f"loop_pf_{p}" in TEXT else p
        )
    for col in FLAG_COLUMNS:
        if col in out.columns and out[col].dtype == bool:
            out[col] = np.where(out[col].to_numpy(), t("loop_yes"), "")
    for col in out.columns:
        if isinstance(out[col].dtype, pd.CategoricalDtype):
            out[col] = out[col].astype(object)
    return out


# --------------------------------------------------------------------------- plumbing


def _county_name(county: County) -> str:
    return str(county.meta.get("county_name") or get_settings().county_name)


def _lookup(layer: pd.DataFrame, key: str) -> pd.DataFrame:
    """The layer's attributes indexed by its code as text (first row of each code)."""
    table = pd.DataFrame(layer.drop(columns="geometry", errors="ignore"))
    table = table.assign(**{key: table[key].astype(str)}).drop_duplicates(key)
    return table.set_index(key)


def _month_end(period: pd.Period) -> pd.Timestamp:
    return period.end_time.floor("s")


def _daily(month_issues: pd.DataFrame, as_of: pd.Timestamp, start: pd.Timestamp) -> pd.DataFrame:
    """Per day received: counts and on-time rate, by :func:`geo.loop.lifecycle.lifecycle`'s
    states."""
    days = pd.date_range(start, as_of.normalize(), freq="D")
    columns = ["received", "closed", "closed_on_time", "decided"]
    if len(month_issues):
        state = lifecycle(month_issues, as_of)["state"].to_numpy()
        flags = pd.DataFrame(
            {
                "day": pd.to_datetime(month_issues["received_at"]).dt.normalize().to_numpy(),
                "received": 1,
                "closed": np.isin(state, [CLOSED_ON_TIME, CLOSED_LATE]),
                "closed_on_time": state == CLOSED_ON_TIME,
                "decided": np.isin(state, [CLOSED_ON_TIME, CLOSED_LATE, OVERDUE, REPRIMAND]),
            }
        )
        counts = flags.groupby("day")[columns].sum()
    else:
        counts = pd.DataFrame(columns=columns, dtype=np.int64)
    counts = counts.reindex(days, fill_value=0).astype(np.int64)
    closed = counts["closed"].to_numpy()
    rate = on_time_rate(counts["closed_on_time"], closed, counts["decided"].to_numpy() - closed)
    out = counts.assign(on_time_rate=rate).rename_axis("day").reset_index()
    out["day"] = out["day"].astype("datetime64[ns]")
    return out
