"""The monthly report 月度报告 of a town or the county: its tables from geo.loop.lifecycle, as Excel
and PDF.

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
The Excel workbook (openpyxl) has one sheet per table; the PDF (fpdf2, landscape A4) has the
summary, a chart and a map drawn with matplotlib (Agg, in memory) and the main tables, with
a Chinese font embedded (:func:`cjk_font`). Labels are Chinese, or English with ``lang="en"``;
place names and categories stay as the data write them.
"""

from __future__ import annotations

import io
import itertools
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

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
    KPI_LABELS,
    OVERDUE,
    REPRIMAND,
    STAGE_LABELS,
    STATE_LABELS,
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

#: Output formats of :func:`write_report`.
FORMATS = ("xlsx", "pdf")
#: Chinese fonts tried in order for the PDF and its pictures (Debian ``fonts-wqy-microhei``
#: first). The environment variable ``GRIDGOV_REPORT_FONT`` names another TrueType font
#: (``.ttf`` or ``.ttc``) with Chinese glyphs; it is read at call time.
FONT_CANDIDATES = (
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf",
)
FONT_ENV = "GRIDGOV_REPORT_FONT"
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
#: Rows of the PDF's case list (the workbook lists them all).
PDF_CASE_ROWS = 25
#: Rows of the PDF's list of grids with the most overdue tickets.
PDF_GRID_ROWS = 15

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


def cjk_font(path: str | Path | None = None) -> Path:
    """The TrueType font with Chinese glyphs used for the PDF and its pictures.

    ``path`` wins, then the environment variable ``GRIDGOV_REPORT_FONT``, then the first of
    :data:`FONT_CANDIDATES` that exists.
    """
    given = path or os.environ.get(FONT_ENV, "").strip() or None
    if given is not None:
        font = Path(given)
        if not font.is_file():
            raise InputProblems(
                "build the monthly report",
                [f"font {str(font)!r} does not exist; give a .ttf/.ttc with Chinese glyphs"],
            )
        return font
    for candidate in FONT_CANDIDATES:
        if Path(candidate).is_file():
            return Path(candidate)
    raise InputProblems(
        "build the monthly report",
        [
            "no Chinese font found for the PDF (looked for "
            + ", ".join(FONT_CANDIDATES)
            + "); install one with `apt-get install fonts-wqy-microhei`, or set "
            f"{FONT_ENV} to a .ttf/.ttc file with Chinese glyphs"
        ],
    )


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
) -> dict[str, pd.DataFrame]:
    """:func:`geo.loop.lifecycle.kpi_tables` with place names (:func:`with_names`) on every
    level."""
    tables = kpi_tables(issues, as_of, levels=levels)
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
        The scope's KPIs (keys of :data:`geo.loop.lifecycle.KPI_LABELS`) for the tickets received in
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
    """The header of a column: :data:`geo.loop.lifecycle.KPI_LABELS`, else the i18n key
    ``loop_col_…``."""
    if column in KPI_LABELS:
        return KPI_LABELS[column][1 if lang == "en" else 0]
    key = f"loop_col_{column}"
    return translator(lang)(key) if key in TEXT else column


def display_table(frame: pd.DataFrame, lang: str = "zh") -> pd.DataFrame:
    """A copy for people: stages, states, reasons, platforms and flags in words, times as
    ``YYYY-MM-DD HH:MM:SS`` text (blank when not reached yet), headers labelled
    (:func:`column_label`). Numbers stay numbers (rates are shares in [0, 1])."""
    out = _words(frame, lang)
    for col in out.columns:
        if pd.api.types.is_datetime64_any_dtype(out[col]):
            out[col] = out[col].dt.strftime("%Y-%m-%d %H:%M:%S").fillna("")
    return out.rename(columns={c: column_label(c, lang) for c in out.columns})


def report_title(report: MonthlyReport, lang: str = "zh") -> str:
    """``射阳县·四明镇 网格治理月度报告（2026年10月）``."""
    t = translator(lang)
    scope = report.county_name
    if report.town_code is not None:
        scope = f"{report.county_name}·{report.scope_name}"
    return t("rpt_title").format(scope=scope, month=_month_label(report.month, lang))


def scope_name(county: County, town_code: str | None) -> str:
    """The name of a report's scope: the town's, or the county's for None."""
    if town_code is None:
        return _county_name(county)
    towns = _lookup(county.towns, "town_code")
    return str(towns.loc[str(town_code), "town_name"])


def report_filename(scope: str, month: str | pd.Period, fmt: str, lang: str = "zh") -> str:
    """``四明镇_2026-10_月度报告.xlsx`` (``…_monthly-report.pdf`` in English)."""
    return f"{scope}_{parse_month(month)}_{translator(lang)('rpt_file_word')}.{fmt}"


# --------------------------------------------------------------------------- Excel


def excel_bytes(report: MonthlyReport, *, lang: str = "zh") -> bytes:
    """The report as an Excel workbook (.xlsx): a summary sheet, then one sheet per table.

    Every table sheet has labelled headers (frozen, with a filter), column widths to fit and
    number formats: counts ``#,##0``, rates ``0.0%``, days ``0.0``, times
    ``yyyy-mm-dd hh:mm``. Empty rates (no denominator) are empty cells.
    """
    from openpyxl import Workbook

    t = translator(lang)
    book = Workbook(write_only=True)  # streamed: rows go out as they are appended
    _summary_sheet(book.create_sheet(_sheet_title(t("rpt_sheet_summary"))), report, lang)
    for key, frame in _report_tables(report).items():
        _table_sheet(book.create_sheet(_sheet_title(t(f"rpt_sheet_{key}"))), frame, lang)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _report_tables(report: MonthlyReport) -> dict[str, pd.DataFrame]:
    """The workbook's tables by sheet key (``rpt_sheet_<key>``), in sheet order."""
    kpi_first = [*PLACE_COLUMNS, "category", "platform"]
    tables: dict[str, pd.DataFrame] = {
        level: report.kpis[level][
            [c for c in kpi_first if c in report.kpis[level]] + list(KPI_LABELS)
        ]
        for level in ("town", "village", "grid", "category", "platform")
        if level in report.kpis
    }
    tables["daily"] = report.daily
    tables["backlog"] = report.backlog
    case_cols = [c for c in report.cases.columns if c != "n_flags"]
    for flag in ("overdue", "repeated", "escalated"):
        tables[flag] = report.case_list(flag)[case_cols]
    return tables


def _styled(sheet: Any, value: object, **style: object) -> Any:
    """A cell of a write-only sheet with its style (``font``, ``fill``, ``number_format``…)."""
    from openpyxl.cell import WriteOnlyCell

    cell = WriteOnlyCell(sheet, value)
    for name, setting in style.items():
        setattr(cell, name, setting)
    return cell


def _summary_sheet(sheet: Any, report: MonthlyReport, lang: str) -> None:
    from openpyxl.styles import Font, PatternFill

    t = translator(lang)
    sheet.column_dimensions["A"].width = 34
    sheet.column_dimensions["B"].width = 30
    sheet.freeze_panes = "A2"
    sheet.append([_styled(sheet, report_title(report, lang), font=Font(size=14, bold=True))])
    for label, value in _meta_lines(report, lang):
        sheet.append([label, value])
    if report.synthetic:
        red = Font(color="C00000", bold=True)
        sheet.append([_styled(sheet, t("rpt_synthetic"), font=red)])
    for note in (t("rpt_masked"), t("rpt_scope_note")):
        sheet.append([note])
    bold, header = Font(bold=True), PatternFill("solid", fgColor="DDEBF7")
    sections = (
        ("rpt_kpi_head", [(k, report.summary[k]) for k in KPI_LABELS]),
        ("rpt_backlog_head", [(k, report.scope_row.get(k, 0)) for k in _BACKLOG_SUMMARY]),
    )
    for head, values in sections:
        sheet.append([])
        sheet.append([_styled(sheet, t(head), font=bold)])
        sheet.append(
            [_styled(sheet, t(k), font=bold, fill=header) for k in ("rpt_kpi", "rpt_value")]
        )
        for key, value in values:
            if key not in RATE_COLUMNS and key != "median_close_days":
                value = int(value)  # a count (the summary row is all floats)
            fmt = _number_format(key, pd.Series([value]))
            sheet.append(
                [column_label(key, lang), _styled(sheet, _cell_value(value), number_format=fmt)]
            )


def _table_sheet(sheet: Any, frame: pd.DataFrame, lang: str) -> None:
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    shown = _words(frame, lang)
    formats = [_number_format(c, frame[c]) for c in frame.columns]
    for j, col in enumerate(frame.columns, start=1):
        sample = [_text_width(v) for v in shown[col].head(300)]
        width = max([min(_text_width(column_label(col, lang)), 20), *sample, 4])
        sheet.column_dimensions[get_column_letter(j)].width = min(width + 2, 44)
    sheet.freeze_panes = "A2"
    if len(frame):
        sheet.auto_filter.ref = f"A1:{get_column_letter(len(frame.columns))}{len(frame) + 1}"
    head = {
        "font": Font(bold=True),
        "fill": PatternFill("solid", fgColor="DDEBF7"),
        "alignment": Alignment(wrap_text=True, vertical="center"),
    }
    sheet.append([_styled(sheet, column_label(c, lang), **head) for c in frame.columns])
    formatted = [(j, fmt) for j, fmt in enumerate(formats) if fmt != "General"]
    for row in shown.itertuples(index=False, name=None):
        values = [_cell_value(v) for v in row]
        for j, fmt in formatted:
            values[j] = _styled(sheet, values[j], number_format=fmt)
        sheet.append(values)


# --------------------------------------------------------------------------- PDF


def pdf_bytes(
    report: MonthlyReport, *, lang: str = "zh", font_path: str | Path | None = None
) -> bytes:
    """The report as a PDF (landscape A4) with the Chinese font (:func:`cjk_font`) embedded.

    Page 1: title, data times, the synthetic-data notice, the KPIs and the chart of daily
    intake and on-time rate. Page 2: maps of open and overdue-open tickets per grid. Then
    the KPI tables (per town or village, per platform and category), the grids with the most
    overdue tickets and 月过堂 (backlog per town and the first hard cases, callers masked).
    """
    from fpdf import FPDF
    from fpdf.enums import WrapMode
    from fpdf.fonts import FontFace

    t = translator(lang)
    font = cjk_font(font_path)
    title = report_title(report, lang)
    footer = f"{title} · {t('rpt_footer_synthetic')}" if report.synthetic else title

    class _PDF(FPDF):
        def footer(self) -> None:
            self.set_y(-10)
            self.set_font("cjk", size=7)
            self.set_text_color(110)
            self.cell(0, 5, footer[:150], align="L")
            self.set_x(-40)
            self.cell(30, 5, t("rpt_page").format(page=self.page_no(), nb="{nb}"), align="R")

    pdf = _PDF(orientation="L", unit="mm", format="A4")
    pdf.set_auto_page_break(True, margin=14)
    pdf.add_font("cjk", fname=str(font))
    pdf.set_title(title)
    pdf.set_creator("GridGov 网格治理一张图")
    head = FontFace(fill_color=(221, 235, 247))

    def heading(text: str, size: float = 12) -> None:
        pdf.set_font("cjk", size=size)
        pdf.set_text_color(0)
        pdf.multi_cell(0, size * 0.5, text, new_x="LMARGIN", new_y="NEXT")
        pdf.ln(1)

    def note(text: str, color: tuple[int, int, int] = (90, 90, 90)) -> None:
        pdf.set_font("cjk", size=8)
        pdf.set_text_color(*color)
        pdf.multi_cell(0, 4, text, new_x="LMARGIN", new_y="NEXT")
        pdf.set_text_color(0)

    def table(frame: pd.DataFrame, widths: Sequence[float] | None = None) -> None:
        if not len(frame):
            note(t("rpt_none"))
            return
        cells = _pdf_cells(frame, lang)
        align = [_pdf_align(frame[c]) for c in frame.columns]
        pdf.set_font("cjk", size=7)
        with pdf.table(
            col_widths=widths or [1.0] * len(frame.columns),
            width=pdf.epw,
            line_height=3.6,
            headings_style=head,
            text_align=align,
            wrapmode=WrapMode.CHAR,
            repeat_headings=1,
        ) as grid:
            row = grid.row()
            for col in frame.columns:
                row.cell(column_label(col, lang), align="CENTER")
            for values in cells:
                row = grid.row()
                for value in values:
                    row.cell(value)
        pdf.ln(3)

    # Page 1: summary and chart
    pdf.add_page()
    heading(title, 17)
    for label, value in _meta_lines(report, lang):
        note(f"{label}: {_pdf_text(value)}", (40, 40, 40))
    if report.synthetic:
        note(t("rpt_synthetic"), (192, 0, 0))
    note(f"{t('rpt_masked')} {t('rpt_scope_note')}")
    pdf.ln(2)
    heading(t("rpt_kpi_head"), 11)
    summary = pd.DataFrame([report.summary[list(KPI_LABELS)[:-1]]])
    table(summary.iloc[:, :7])
    table(summary.iloc[:, 7:])
    pdf.image(io.BytesIO(_chart_png(report, font, lang)), x=pdf.l_margin, w=pdf.epw, h=70)

    # Page 2: maps
    pdf.add_page()
    heading(t("rpt_map_title"), 13)
    pdf.image(io.BytesIO(_map_png(report, font, lang)), x=pdf.l_margin, w=pdf.epw, h=165)

    # KPI tables
    kpi_cols = [c for c in KPI_LABELS if c not in ("closed_on_time", "calendar_fallback")]
    pdf.add_page()
    level = "town" if "town" in report.kpis else "village"
    heading(t(f"rpt_sheet_{level}"), 13)
    key = f"{level}_name"
    table(report.kpis[level][[key, *kpi_cols]], [2.2] + [1.0] * len(kpi_cols))
    for level in ("platform", "category"):
        heading(t(f"rpt_sheet_{level}"), 13)
        table(report.kpis[level][[level, *kpi_cols]], [2.2] + [1.0] * len(kpi_cols))
    heading(t("rpt_top_grids"), 13)
    top = pd.DataFrame(report.grid_status.drop(columns="geometry"))
    top = top.sort_values(["overdue", "open"], ascending=False).head(PDF_GRID_ROWS)
    table(top[["town_name", "village_name", "grid_code", "grid_name", "open", "overdue"]])

    # 月过堂
    pdf.add_page()
    heading(t("rpt_sheet_backlog"), 13)
    backlog_cols = ["town_name", *_BACKLOG_SUMMARY]
    table(report.backlog[backlog_cols], [2.0] + [1.0] * len(_BACKLOG_SUMMARY))
    heading(t("rpt_hard_cases"), 13)
    note(
        t("rpt_cases_note").format(n=min(PDF_CASE_ROWS, len(report.cases)), total=len(report.cases))
    )
    case_cols = ["ticket_id", "town_name", "village_name", "category", "request_type"]
    case_cols += ["received_at", "due_at", "state", "overdue", "repeated", "escalated"]
    case_cols += [c for c in ("caller_phone",) if c in report.cases.columns]
    cases = report.cases.head(PDF_CASE_ROWS)[case_cols]
    table(cases, [1.6, 1.2, 1.4, 1.0, 0.8, 1.4, 1.4, 1.3, 0.6, 0.7, 0.7, 1.2][: len(case_cols)])
    return bytes(pdf.output())


# --------------------------------------------------------------------------- files


def parse_formats(text: str | Sequence[str]) -> tuple[str, ...]:
    """``"xlsx,pdf"`` → ``("xlsx", "pdf")``; unknown formats raise :class:`InputProblems`."""
    items = text.replace("，", ",").split(",") if isinstance(text, str) else list(text)
    formats = tuple(dict.fromkeys(i.strip().lower().lstrip(".") for i in items if i.strip()))
    bad = [f for f in formats if f not in FORMATS]
    if bad or not formats:
        raise InputProblems(
            "build the monthly report",
            [f"format must be xlsx, pdf or both (xlsx,pdf); got {text!r}"],
        )
    return formats


def report_file(report: MonthlyReport, fmt: str, *, lang: str = "zh") -> bytes:
    """The report as ``xlsx`` or ``pdf`` bytes."""
    (fmt,) = parse_formats(fmt)
    return excel_bytes(report, lang=lang) if fmt == "xlsx" else pdf_bytes(report, lang=lang)


def write_report(
    report: MonthlyReport,
    out_dir: str | Path,
    *,
    formats: str | Sequence[str] = FORMATS,
    lang: str = "zh",
) -> list[Path]:
    """Write the report into ``out_dir`` (created if needed) as :func:`report_filename`."""
    chosen = parse_formats(formats)
    folder = Path(out_dir)
    if folder.exists() and not folder.is_dir():
        raise InputProblems(
            "build the monthly report",
            [f"--out {str(folder)!r} is a file; give a folder for the report"],
        )
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for fmt in chosen:
        path = folder / report_filename(report.scope_name, report.month, fmt, lang)
        path.write_bytes(report_file(report, fmt, lang=lang))
        paths.append(path)
    return paths


# --------------------------------------------------------------------------- plumbing

#: 月过堂 figures of the scope shown in the summary and the backlog table.
_BACKLOG_SUMMARY = (
    "backlog",
    "overdue",
    "reprimand",
    "closed_late",
    "repeated",
    "escalated",
    "hard_cases",
)


def _county_name(county: County) -> str:
    return str(county.meta.get("county_name") or get_settings().county_name)


def _lookup(layer: pd.DataFrame, key: str) -> pd.DataFrame:
    """The layer's attributes indexed by its code as text (first row of each code)."""
    table = pd.DataFrame(layer.drop(columns="geometry", errors="ignore"))
    table = table.assign(**{key: table[key].astype(str)}).drop_duplicates(key)
    return table.set_index(key)


def _month_end(period: pd.Period) -> pd.Timestamp:
    return period.end_time.floor("s")


def _month_label(period: pd.Period, lang: str) -> str:
    if lang == "en":
        return f"{period.start_time:%B %Y}"
    return f"{period.year}年{period.month}月"


def _meta_lines(report: MonthlyReport, lang: str) -> list[tuple[str, object]]:
    t = translator(lang)
    scope = t("scope_county") if report.town_code is None else report.scope_name
    as_of = f"{report.as_of:%Y-%m-%d %H:%M}" + (t("rpt_partial") if report.partial else "")
    return [
        (t("rpt_scope"), f"{report.county_name} · {scope}" if report.town_code else scope),
        (t("rpt_month"), _month_label(report.month, lang)),
        (t("rpt_as_of"), as_of),
        (t("rpt_data_as_of"), f"{report.data_as_of:%Y-%m-%d %H:%M}"),
        (t("rpt_generated"), f"{pd.Timestamp.now(tz='Asia/Shanghai'):%Y-%m-%d %H:%M}"),
    ]


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


def _words(frame: pd.DataFrame, lang: str) -> pd.DataFrame:
    """Stages, states, reasons, platforms and flags in words (same column names)."""
    pos = 1 if lang == "en" else 0
    t = translator(lang)
    out = frame.copy()
    if "stage" in out.columns:
        out["stage"] = out["stage"].map(lambda s: STAGE_LABELS[s][pos] if s in STAGE_LABELS else s)
    if "state" in out.columns:
        out["state"] = out["state"].map(lambda s: STATE_LABELS[s][pos] if s in STATE_LABELS else s)
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


def _number_format(column: str, values: pd.Series) -> str:
    if column in RATE_COLUMNS:
        return "0.0%"
    if column == "median_close_days":
        return "0.0"
    if column == "day":
        return "yyyy-mm-dd"
    if pd.api.types.is_datetime64_any_dtype(values):
        return "yyyy-mm-dd hh:mm"
    if pd.api.types.is_integer_dtype(values) and not pd.api.types.is_bool_dtype(values):
        return "#,##0"
    return "General"


def _cell_value(value: object) -> object:
    """A value openpyxl writes: None for NaN/NaT, plain Python numbers and datetimes."""
    if value is None or value is pd.NaT:
        return None
    if isinstance(value, float) and np.isnan(value):
        return None
    if isinstance(value, pd.Timestamp):
        return value.to_pydatetime()
    if isinstance(value, np.generic):
        return _cell_value(value.item())
    return value


def _text_width(value: object) -> int:
    """Width of a value in Excel columns: Chinese characters count double."""
    text = "" if value is None or (isinstance(value, float) and np.isnan(value)) else str(value)
    if isinstance(value, pd.Timestamp):
        text = f"{value:%Y-%m-%d %H:%M}"
    return sum(2 if ord(ch) > 0x2E80 else 1 for ch in text)


def _sheet_title(text: str) -> str:
    """An Excel sheet name: at most 31 characters, none of ``[]:*?/\\``."""
    return re.sub(r"[\[\]:*?/\\]", " ", text)[:31]


def _pdf_text(value: object, column: str = "") -> str:
    if value is None or value is pd.NaT or (isinstance(value, float) and np.isnan(value)):
        return "—"
    if column in RATE_COLUMNS and isinstance(value, (int, float, np.number)):
        return f"{float(value):.1%}"
    if column == "median_close_days" and isinstance(value, (int, float, np.number)):
        return f"{float(value):.1f}"
    if isinstance(value, pd.Timestamp):
        return f"{value:%Y-%m-%d %H:%M}"
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        return f"{int(value):,}"
    if isinstance(value, (float, np.floating)) and float(value).is_integer():
        return f"{int(value):,}"  # a count in a float column (the summary row)
    return str(value)


def _pdf_align(values: pd.Series) -> str:
    if pd.api.types.is_bool_dtype(values):
        return "CENTER"
    return "RIGHT" if pd.api.types.is_numeric_dtype(values) else "LEFT"


def _pdf_cells(frame: pd.DataFrame, lang: str) -> list[list[str]]:
    shown = _words(frame, lang)
    return [
        [_pdf_text(v, c) for c, v in zip(frame.columns, row, strict=True)]
        for row in shown.itertuples(index=False, name=None)
    ]


def _chart_png(report: MonthlyReport, font: Path, lang: str) -> bytes:
    """Bars of tickets received per day, a line of their on-time rate (%).

    The Chinese font is passed to every text (no global matplotlib settings change), so
    reports drawn at the same time on different threads do not disturb each other.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.font_manager import FontProperties

    t = translator(lang)
    fp = FontProperties(fname=str(font))
    daily = report.daily
    fig = Figure(figsize=(11, 2.9), dpi=150)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    days = daily["day"].dt.day.to_numpy()
    ax.bar(days, daily["received"], color="#5B8FD0", label=t("rpt_chart_intake"))
    ax.set_ylabel(t("rpt_chart_intake"), fontproperties=fp)
    ax.set_xticks(days)
    ax.set_xlabel(_month_label(report.month, lang), fontproperties=fp)
    ax.spines[["top"]].set_visible(False)
    line = ax.twinx()
    line.plot(
        days,
        daily["on_time_rate"] * 100,
        color="#D9822B",
        marker="o",
        markersize=3,
        label=t("rpt_chart_on_time"),
    )
    line.set_ylim(0, 105)
    line.set_ylabel(t("rpt_chart_on_time"), fontproperties=fp)
    bars, lines = ax.get_legend_handles_labels(), line.get_legend_handles_labels()
    ax.legend(
        bars[0] + lines[0],
        bars[1] + lines[1],
        loc="lower left",
        prop=FontProperties(fname=str(font), size=8),
    )
    ax.set_title(t("rpt_chart_title"), fontproperties=FontProperties(fname=str(font), size=11))
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    return buffer.getvalue()


def _map_png(report: MonthlyReport, font: Path, lang: str) -> bytes:
    """Two choropleths of the scope's grids: open tickets and overdue-open tickets."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.colors import BoundaryNorm, ListedColormap
    from matplotlib.figure import Figure
    from matplotlib.font_manager import FontProperties
    from matplotlib.patches import Patch

    t = translator(lang)

    def fp(size: float) -> FontProperties:
        return FontProperties(fname=str(font), size=size)

    grids, outlines = report.grid_status, report.outlines
    fig = Figure(figsize=(12, 6.2), dpi=150)
    FigureCanvasAgg(fig)
    for ax, column in zip(fig.subplots(1, 2), ("open", "overdue"), strict=True):
        edges = _count_edges(grids[column].to_numpy())
        colors = ["#EEEEEE", *_ramp(len(edges) - 2)]
        cmap = ListedColormap(colors)
        if len(grids):
            grids.plot(
                column=column,
                ax=ax,
                cmap=cmap,
                norm=BoundaryNorm(edges, cmap.N),
                linewidth=0.05,
                edgecolor="#FFFFFF",
            )
        if len(outlines):
            outlines.boundary.plot(ax=ax, color="#333333", linewidth=0.5)
            size = 6 if len(outlines) <= 25 else 4
            points = outlines.representative_point()
            for name, point in zip(outlines["name"], points, strict=True):
                ax.annotate(
                    str(name),
                    (point.x, point.y),
                    ha="center",
                    color="#222222",
                    fontproperties=fp(size),
                )
        ax.legend(
            handles=[Patch(facecolor=c, edgecolor="#999999") for c in colors],
            labels=[_class_label(lo, hi) for lo, hi in itertools.pairwise(edges)],
            title=t("rpt_legend"),
            loc="lower right",
            prop=fp(7),
            title_fontproperties=fp(7),
        )
        ax.set_title(t(f"rpt_map_{column}"), fontproperties=fp(11))
        ax.set_axis_off()
        ax.set_aspect("equal")
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    return buffer.getvalue()


def _count_edges(values: np.ndarray) -> list[float]:
    """Class edges for ticket counts: 0 on its own, then up to 5 classes of the positives."""
    positive = values[values > 0]
    if not len(positive):
        return [-0.5, 0.5]
    cuts = np.unique(np.ceil(np.quantile(positive, [0.4, 0.7, 0.9, 0.97, 1.0])))
    return [-0.5, 0.5, *[float(c) + 0.5 for c in cuts]]


def _class_label(lo: float, hi: float) -> str:
    a, b = int(lo + 0.5), int(hi - 0.5)
    return f"{a}" if a == b else f"{a}–{b}"


def _ramp(n: int) -> list[str]:
    """``n`` colours from light yellow to dark red."""
    from matplotlib import colormaps
    from matplotlib.colors import to_hex

    cmap = colormaps["YlOrRd"]
    return [to_hex(cmap(x)) for x in np.linspace(0.2, 0.95, max(n, 1))][:n]
