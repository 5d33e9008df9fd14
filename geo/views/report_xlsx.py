"""The monthly report as an Excel workbook (openpyxl, write-only): a summary sheet, then one
sheet per table with labelled headers, widths to fit and number formats."""

from __future__ import annotations

import io
import re
from typing import Any

import numpy as np
import pandas as pd

from geo.core.i18n import translator
from geo.loop.lifecycle import KPIS
from geo.loop.report import (
    BACKLOG_SUMMARY,
    PLACE_COLUMNS,
    RATE_COLUMNS,
    MonthlyReport,
    column_label,
    in_words,
    meta_lines,
    report_title,
)


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
        level: report.kpis[level][[c for c in kpi_first if c in report.kpis[level]] + list(KPIS)]
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
    for label, value in meta_lines(report, lang):
        sheet.append([label, value])
    if report.synthetic:
        red = Font(color="C00000", bold=True)
        sheet.append([_styled(sheet, t("rpt_synthetic"), font=red)])
    for note in (t("rpt_masked"), t("rpt_scope_note")):
        sheet.append([note])
    bold, header = Font(bold=True), PatternFill("solid", fgColor="DDEBF7")
    sections = (
        ("rpt_kpi_head", [(k, report.summary[k]) for k in KPIS]),
        ("rpt_backlog_head", [(k, report.scope_row.get(k, 0)) for k in BACKLOG_SUMMARY]),
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

    shown = in_words(frame, lang)
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
