"""The monthly report as a PDF (fpdf2, landscape A4): the summary, a chart and maps drawn with
matplotlib (Agg, in memory) and the main tables, with a Chinese font embedded (:func:`cjk_font`)."""

from __future__ import annotations

import io
import itertools
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from geo.core.errors import InputProblems
from geo.core.i18n import translator
from geo.loop.lifecycle import KPIS
from geo.loop.report import (
    BACKLOG_SUMMARY,
    RATE_COLUMNS,
    MonthlyReport,
    column_label,
    in_words,
    meta_lines,
    month_label,
    report_title,
)

#: Chinese fonts tried in order for the PDF and its pictures (Debian ``fonts-wqy-microhei``
#: first). The environment variable ``GRIDGOV_REPORT_FONT`` names another TrueType font
#: (``.ttf`` or ``.ttc``) with Chinese glyphs; it is read at call time.
FONT_CANDIDATES = (
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf",
)
FONT_ENV = "GRIDGOV_REPORT_FONT"
#: Rows of the PDF's case list (the workbook lists them all).
PDF_CASE_ROWS = 25
#: Rows of the PDF's list of grids with the most overdue tickets.
PDF_GRID_ROWS = 15


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
    for label, value in meta_lines(report, lang):
        note(f"{label}: {_pdf_text(value)}", (40, 40, 40))
    if report.synthetic:
        note(t("rpt_synthetic"), (192, 0, 0))
    note(f"{t('rpt_masked')} {t('rpt_scope_note')}")
    pdf.ln(2)
    heading(t("rpt_kpi_head"), 11)
    summary = pd.DataFrame([report.summary[list(KPIS)[:-1]]])
    table(summary.iloc[:, :7])
    table(summary.iloc[:, 7:])
    pdf.image(io.BytesIO(_chart_png(report, font, lang)), x=pdf.l_margin, w=pdf.epw, h=70)

    # Page 2: maps
    pdf.add_page()
    heading(t("rpt_map_title"), 13)
    pdf.image(io.BytesIO(_map_png(report, font, lang)), x=pdf.l_margin, w=pdf.epw, h=165)

    # KPI tables
    kpi_cols = [c for c in KPIS if c not in ("closed_on_time", "calendar_fallback")]
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
    backlog_cols = ["town_name", *BACKLOG_SUMMARY]
    table(report.backlog[backlog_cols], [2.0] + [1.0] * len(BACKLOG_SUMMARY))
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
    shown = in_words(frame, lang)
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
    ax.set_xlabel(month_label(report.month, lang), fontproperties=fp)
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
