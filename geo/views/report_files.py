"""The monthly report as files: its formats, the bytes of one format, names and writing."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from geo.core.errors import InputProblems
from geo.core.i18n import translator
from geo.loop.report import MonthlyReport, parse_month
from geo.views.report_pdf import pdf_bytes
from geo.views.report_xlsx import excel_bytes
from geo.views.safety import safe_filename

#: Output formats of :func:`write_report`.
FORMATS = ("xlsx", "pdf")


def report_filename(scope: str, month: str | pd.Period, fmt: str, lang: str = "zh") -> str:
    """``四明镇_2026-10_月度报告.xlsx`` (``…_monthly-report.pdf`` in English); the scope's
    name is made safe for a file name (no separators, no ``..``: it stays in its folder)."""
    name = safe_filename(scope, fallback="report")
    return f"{name}_{parse_month(month)}_{translator(lang)('rpt_file_word')}.{fmt}"


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
