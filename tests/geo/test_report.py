"""The monthly report (geo.loop.report, drawn by geo.views.report_xlsx and report_pdf) on a
tiny county: workbook figures equal
geo.loop.lifecycle's, the PDF
renders with its Chinese font embedded, callers are masked, bad input gets a clear answer."""

from __future__ import annotations

import dataclasses
import datetime as dt
import io
import math
import shutil
import subprocess
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from openpyxl import load_workbook

from geo.core.errors import InputProblems
from geo.core.i18n import text
from geo.core.scope import Scope
from geo.loop.lifecycle import KPIS, kpi_tables, monthly_review
from geo.loop.report import RATE_COLUMNS, build_report, display_table, parse_month
from geo.store.base import open_store
from geo.store.county import County, load_county
from geo.views.report_files import parse_formats, report_filename, write_report
from geo.views.report_pdf import cjk_font, pdf_bytes
from geo.views.report_xlsx import excel_bytes

METRIC = "EPSG:4549"
X0, Y0 = 524_000.0, 3_737_000.0
TOWN_A, TOWN_B = "320924101", "320924102"
AS_OF = "2026-11-20T23:59:59"
PHONE, NAME = "13812345678", "张三丰"  # the repeat caller: must never appear unmasked
OCT_START, OCT_END = pd.Timestamp("2026-10-01"), pd.Timestamp("2026-10-31 23:59:59")

ZH_SHEETS = [
    "概况",
    "各镇（区）",
    "各村（居）",
    "各网格",
    "按类别",
    "按流转平台",
    "每日受理",
    "月过堂积案",
    "超期案件",
    "重复投诉",
    "上交案件",
]

# ticket town grid received type category status closed level rating phone name ("-": empty)
TICKETS = [
    line.split()
    for line in """
    T01 A 1 2026-10-12T09:00 咨询 环境卫生 已办结 2026-10-13T10:00 网格 满意 13900000001 李明
    T02 A 1 2026-10-12T10:00 咨询 环境卫生 已办结 2026-10-20T10:00 村 满意 13900000002 王小二
    T03 A 2 2026-10-14T11:00 投诉 市容秩序 处理中 - - - 13900000003 赵四
    T04 A 2 2026-10-15T08:00 投诉 噪音扰民 已办结 2026-10-16T08:00 网格 满意 13812345678 张三丰
    T05 A 2 2026-10-18T08:00 投诉 噪音扰民 已办结 2026-10-19T08:00 网格 满意 13812345678 张三丰
    T06 A 2 2026-10-22T08:00 投诉 噪音扰民 已办结 2026-10-23T08:00 村 基本满意 13812345678 张三丰
    T07 A 1 2026-10-20T15:00 咨询 消费维权 已办结 2026-10-21T15:00 镇 不满意 13900000007 钱七
    T08 B 1 2026-10-16T09:30 求助 民政救助 已办结 2026-10-17T09:30 网格 基本满意 13900000008 孙八
    T09 B 2 2026-09-10T14:00 投诉 劳动保障 处理中 - - - 13900000009 周九
    T10 B 2 2026-10-30T16:00 咨询 供水供电 处理中 - - - 13900000010 吴十
    T11 B 1 2026-11-05T09:00 咨询 供水供电 已办结 2026-11-06T09:00 网格 满意 13900000011 郑十一
    T12 B 1 2026-10-25T10:00 巡查上报 安全隐患 已办结 2026-10-26T10:00 网格 - - -
    """.strip().splitlines()
]


def _box(col: int, row: int) -> shapely.Polygon:
    return shapely.box(
        X0 + 1000 * col, Y0 + 1000 * row, X0 + 1000 * (col + 1), Y0 + 1000 * (row + 1)
    )


def tiny_layers() -> dict[str, pd.DataFrame]:
    """Two towns, one village each, two 1 km grids each; 12 tickets (see TICKETS)."""
    towns, villages, grids = [], [], []
    for k, (code, name) in enumerate(((TOWN_A, "合德镇"), (TOWN_B, "临海镇"))):
        village, shape = code + "001", _box(2 * k, 0).union(_box(2 * k + 1, 0))
        towns.append({"town_code": code, "town_name": name, "geometry": shape})
        villages.append(
            {
                "village_code": village,
                "village_name": f"{name[:2]}村",
                "town_code": code,
                "geometry": shape,
            }
        )
        for g in (1, 2):
            grids.append(
                {
                    "grid_code": f"{village}{g:03d}",
                    "grid_name": f"{name[:2]}村第{g}网格",
                    "village_code": village,
                    "town_code": code,
                    "grid_worker": f"网格员{k}{g}",
                    "households": 90,
                    "residents": 250,
                    "geometry": _box(2 * k + g - 1, 0),
                }
            )
    rows = []
    for n, fields in enumerate(TICKETS):
        tid, town, g, rec, rtype, cat, status, closed, level, rating, phone, name = (
            "" if f == "-" else f for f in fields
        )
        code = TOWN_A if town == "A" else TOWN_B
        col = (0 if town == "A" else 2) + int(g) - 1
        rows.append(
            {
                "ticket_id": tid,
                "source": "网格员巡查" if rtype == "巡查上报" else "12345",
                "request_type": rtype,
                "category": cat,
                "status": status,
                "received_at": pd.Timestamp(rec),
                "dispatched_at": pd.Timestamp(rec) + pd.Timedelta(minutes=30),
                "closed_at": pd.Timestamp(closed) if closed else pd.NaT,
                "resolution_level": level,
                "satisfaction": rating,
                "caller_name": name,
                "caller_phone": phone,
                "grid_code": f"{code}001{int(g):03d}",
                "village_code": code + "001",
                "town_code": code,
                "geometry": shapely.Point(X0 + 1000 * col + 300 + 20 * n, Y0 + 500),
            }
        )
    meta = pd.DataFrame(
        {
            "key": ["synthetic", "as_of", "county_code", "county_name"],
            "value": ["true", AS_OF, "320924", "射阳县"],
        }
    )
    return {
        "towns": gpd.GeoDataFrame(towns, crs=METRIC),
        "villages": gpd.GeoDataFrame(villages, crs=METRIC),
        "grids": gpd.GeoDataFrame(grids, crs=METRIC),
        "issues": gpd.GeoDataFrame(rows, crs=METRIC),
        "meta": meta,
    }


def write_tiny_store(path: Path) -> Path:
    """The tiny county as a GeoPackage store (used by the CLI tests too)."""
    open_store(path).write(tiny_layers())
    return path


@pytest.fixture(scope="module")
def county(tmp_path_factory: pytest.TempPathFactory) -> County:
    path = write_tiny_store(tmp_path_factory.mktemp("tiny") / "tiny.gpkg")
    return load_county(open_store(path), scope=Scope.county())


@pytest.fixture(scope="module")
def report(county: County):
    return build_report(county, month="2026-10")


@pytest.fixture(scope="module")
def book(report):
    return load_workbook(io.BytesIO(excel_bytes(report)))


@pytest.fixture(scope="module")
def pdf_file(report, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("pdf") / "report.pdf"
    path.write_bytes(pdf_bytes(report))
    return path


def october(county: County) -> pd.DataFrame:
    received = county.issues["received_at"]
    return county.issues[((received >= OCT_START) & (received <= OCT_END)).to_numpy()]


def sheet_frame(sheet) -> pd.DataFrame:
    rows = list(sheet.iter_rows(values_only=True))
    return pd.DataFrame(rows[1:], columns=rows[0])


def same(a: object, b: object) -> bool:
    if a is None or (isinstance(a, float) and math.isnan(a)):
        return b is None or (isinstance(b, float) and math.isnan(b))
    return bool(np.isclose(float(a), float(b)))  # type: ignore[arg-type]


# --------------------------------------------------------------------------- the figures


def test_summary_counts_known_answers(report):
    s = report.summary
    # October: T01-T08, T10, T12 (T09 is of September, T11 of November)
    assert int(s["issues"]) == 10
    assert int(s["closed"]) == 8 and int(s["open"]) == 2  # T03, T10 open on Oct 31
    # T12 is a patrol report without a caller: 7 closed tickets have one, all called back
    assert s["callback_rate"] == 1.0
    # satisfied or basically satisfied: T01 T02 T04 T05 T06 T08 of 7 rated (T07 unhappy)
    assert s["satisfaction_rate"] == pytest.approx(6 / 7)
    # at grid level: T01 T04 T05 T08 T12 of 8 closed; in the village net also T02 T06
    assert s["grid_share"] == pytest.approx(5 / 8)
    assert s["net_share"] == pytest.approx(7 / 8)
    assert report.as_of == OCT_END and not report.partial
    assert report.scope_name == "射阳县" and report.town_code is None


def test_workbook_sheets_headers_and_values_equal_geo_loop(county, report, book):
    assert book.sheetnames == ZH_SHEETS
    expected = kpi_tables(october(county), OCT_END)
    keys = dict(
        zip(ZH_SHEETS[1:6], ("town", "village", "grid", "category", "platform"), strict=True)
    )
    for title, level in keys.items():
        table = sheet_frame(book[title])
        want = expected[level]
        assert len(table) == len(want), title
        for column in KPIS:
            label = text(f"loop_kpi_{column}").zh
            assert label in table.columns, (title, label)
            for got, value in zip(table[label], want[column], strict=True):
                assert same(got, value), (title, column, got, value)
    towns = sheet_frame(book["各镇（区）"]).set_index("镇（区）")
    assert towns.loc["合德镇", "受理数"] == 7 and towns.loc["临海镇", "受理数"] == 3
    platforms = sheet_frame(book["按流转平台"]).set_index("流转平台")["受理数"].to_dict()
    # 环境卫生 市容秩序 噪音扰民 → 综合执法; 消费维权 → 市场监管; 民政救助 供水供电 → 便民服务
    assert platforms == {"便民服务": 2, "综合执法": 6, "综治": 1, "市场监管": 1}


def test_summary_sheet_title_times_synthetic_line_and_kpis(report, book):
    cells = [row for row in book["概况"].iter_rows(values_only=True)]
    assert cells[0][0] == "射阳县网格治理月度报告（2026年10月）"
    lines = {row[0]: row[1] for row in cells if row[0]}
    assert lines["月份"] == "2026年10月"
    assert lines["统计截至"] == "2026-10-31 23:59"
    assert lines["数据截至"] == "2026-11-20 23:59"
    assert "本报告使用示例数据（合成），不代表真实情况。" in lines
    assert lines["受理数"] == 10
    assert lines["按期办结率"] == pytest.approx(report.summary["on_time_rate"])
    assert lines["积案（在办）"] == int(report.scope_row["backlog"])


def test_backlog_and_cases_come_from_monthly_review(county, report, book):
    review = monthly_review(county.issues, OCT_END)
    backlog = sheet_frame(book["月过堂积案"])
    assert backlog["积案（在办）"].tolist() == review.backlog["backlog"].tolist()
    assert backlog["镇（区）"].tolist() == ["合德镇", "临海镇", "射阳县"]
    # T09 (September, still open) is in the backlog and overdue on Oct 31
    overdue = sheet_frame(book["超期案件"])
    assert "T09" in set(overdue["工单号"])
    assert set(overdue["工单号"]) == set(review.cases.loc[review.cases["overdue"], "ticket_id"])
    repeated = sheet_frame(book["重复投诉"])
    assert set(repeated["工单号"]) == {"T04", "T05", "T06"}
    assert set(repeated["重复投诉"]) == {"是"}
    escalated = sheet_frame(book["上交案件"])
    assert set(escalated["工单号"]) == {"T07"}


def test_daily_intake_adds_up_to_the_summary(report):
    daily = report.daily
    assert len(daily) == 31 and daily["day"].iloc[0] == OCT_START
    assert daily["received"].sum() == report.summary["issues"]
    assert daily.loc[daily["day"] == pd.Timestamp("2026-10-12"), "received"].item() == 2
    on_time = daily["closed_on_time"].sum() / daily["decided"].sum()
    assert on_time == pytest.approx(report.summary["on_time_rate"])


def test_workbook_formats_frozen_headers_and_widths(book):
    for title in ZH_SHEETS[1:]:
        sheet = book[title]
        assert sheet.freeze_panes == "A2", title
        assert all(cell.font.b for cell in sheet[1]), title
    towns = book["各镇（区）"]
    header = [c.value for c in towns[1]]
    rate_col = header.index("按期办结率") + 1
    count_col = header.index("受理数") + 1
    assert towns.cell(2, rate_col).number_format == "0.0%"
    assert towns.cell(2, count_col).number_format == "#,##0"
    name_letter = towns.cell(1, header.index("镇（区）") + 1).column_letter
    assert towns.column_dimensions[name_letter].width >= 8
    cases = book["超期案件"]
    received = [c.value for c in cases[1]].index("受理时间") + 1
    assert cases.cell(2, received).number_format == "yyyy-mm-dd hh:mm"
    assert isinstance(cases.cell(2, received).value, dt.datetime)


def test_callers_are_masked_in_the_workbook(book):
    text = [
        str(value)
        for sheet in book.worksheets
        for row in sheet.iter_rows(values_only=True)
        for value in row
        if value is not None
    ]
    assert not any(PHONE in v or NAME in v for v in text)
    assert not any("1390000000" in v for v in text)  # no other full number either
    repeated = sheet_frame(book["重复投诉"])
    assert set(repeated["电话（脱敏）"]) == {"138****5678"}
    assert set(repeated["来电人（脱敏）"]) == {"张**"}


def test_english_workbook(report):
    book = load_workbook(io.BytesIO(excel_bytes(report, lang="en")))
    assert book.sheetnames[:3] == ["Summary", "Towns", "Villages"]
    header = [c.value for c in book["Towns"][1]]
    assert {"Town", "Received", "On-time rate"} <= set(header)
    assert book["Summary"]["A1"].value == "Grid governance monthly report: 射阳县, October 2026"


# --------------------------------------------------------------------------- the PDF


def test_pdf_pages_render_as_non_blank_images(pdf_file, require, tmp_path):
    require(shutil.which("pdftoppm") is not None, "install poppler-utils (pdftoppm)")
    from PIL import Image

    subprocess.run(
        ["pdftoppm", "-png", "-r", "50", str(pdf_file), str(tmp_path / "page")], check=True
    )
    pages = sorted(tmp_path.glob("page-*.png"))
    info = subprocess.run(["pdfinfo", str(pdf_file)], capture_output=True, text=True, check=True)
    n_pages = int(
        next(line.split()[-1] for line in info.stdout.splitlines() if line.startswith("Pages:"))
    )
    # summary + chart, maps, KPI tables, 月过堂
    assert len(pages) == n_pages >= 4
    for page in pages:
        pixels = np.asarray(Image.open(page).convert("L"))
        assert pixels.shape[1] > pixels.shape[0]  # landscape
        assert (pixels < 200).mean() > 0.005, f"{page.name} is blank"
    # the map page holds a large coloured picture
    colour = np.asarray(Image.open(pages[1]).convert("RGB")).astype(int)
    spread = colour.max(axis=2) - colour.min(axis=2)
    assert (spread > 60).mean() > 0.01


def test_pdf_embeds_the_chinese_font_and_masks_callers(pdf_file, require):
    require(shutil.which("pdffonts") is not None, "install poppler-utils (pdffonts)")
    fonts = subprocess.run(["pdffonts", str(pdf_file)], capture_output=True, text=True, check=True)
    rows = fonts.stdout.splitlines()[2:]
    assert rows, fonts.stdout
    assert all(row.split()[-5] == "yes" for row in rows), fonts.stdout  # emb column
    if cjk_font().name.startswith("wqy-microhei"):  # the font .ci/run installs
        assert any("WenQuanYiMicroHei" in row for row in rows), fonts.stdout
    text = subprocess.run(
        ["pdftotext", "-layout", str(pdf_file), "-"], capture_output=True, text=True, check=True
    ).stdout
    assert "射阳县网格治理月度报告（2026年10月）" in text.replace(" ", "")
    assert "本报告使用示例数据（合成）" in text.replace(" ", "")
    assert "138****5678" in text
    assert PHONE not in text and NAME not in text


# --------------------------------------------------------------------------- scope and input


def test_town_report_keeps_to_the_town(county, book):
    town = build_report(county, month="2026-10", town="临海镇")
    assert town.town_code == TOWN_B and town.scope_name == "临海镇"
    assert int(town.summary["issues"]) == 3  # T08, T10, T12
    assert "town" not in town.kpis
    assert town.backlog["town_code"].tolist() == [TOWN_B]
    assert set(town.grid_status["town_code"]) == {TOWN_B}
    assert set(town.cases["town_code"]) == {TOWN_B}
    assert build_report(county, month="2026-10", town=TOWN_B).summary.equals(town.summary)
    sheets = load_workbook(io.BytesIO(excel_bytes(town))).sheetnames
    assert "各镇（区）" not in sheets and sheets[1] == "各村（居）"
    title = load_workbook(io.BytesIO(excel_bytes(town)))["概况"]["A1"].value
    assert title == "射阳县·临海镇网格治理月度报告（2026年10月）"


def test_month_not_over_is_counted_to_the_data_time(county):
    november = build_report(county, month="2026-11")
    assert november.partial
    assert november.as_of == pd.Timestamp(AS_OF)
    assert int(november.summary["issues"]) == 1  # T11
    assert len(november.daily) == 20


def test_bad_month_town_and_format_get_clear_answers(county):
    with pytest.raises(InputProblems, match=r"YYYY-MM, e\.g\. 2026-10.*'2026/10'"):
        parse_month("2026/10")
    with pytest.raises(InputProblems, match="'2026-13'"):
        parse_month("2026-13")
    with pytest.raises(InputProblems, match=r"2027-01 is after the data.*choose 2026-11"):
        build_report(county, month="2027-01")
    with pytest.raises(InputProblems, match=r"before the data \(the first ticket is of 2026-09\)"):
        build_report(county, month="2026-08")
    with pytest.raises(InputProblems, match=r"'火星镇'.*320924101 合德镇, 320924102 临海镇"):
        build_report(county, month="2026-10", town="火星镇")
    with pytest.raises(InputProblems, match="xlsx, pdf or both"):
        parse_formats("docx")
    assert parse_formats("PDF, xlsx") == ("pdf", "xlsx")


def test_missing_font_is_named(monkeypatch):
    with pytest.raises(InputProblems, match=r"'/nowhere/font\.ttf' does not exist"):
        cjk_font("/nowhere/font.ttf")
    monkeypatch.setenv("GRIDGOV_REPORT_FONT", "/nowhere/other.ttc")
    with pytest.raises(InputProblems, match=r"other\.ttc"):
        cjk_font()


def test_write_report_names_files_by_scope_and_month(report, tmp_path):
    paths = write_report(report, tmp_path / "out", formats="xlsx,pdf")
    assert [p.name for p in paths] == [
        "射阳县_2026-10_月度报告.xlsx",
        "射阳县_2026-10_月度报告.pdf",
    ]
    assert paths[0].read_bytes()[:2] == b"PK" and paths[1].read_bytes()[:5] == b"%PDF-"
    assert report_filename("临海镇", "2026-10", "pdf", "en") == "临海镇_2026-10_monthly-report.pdf"


def test_rates_are_shares(report):
    for column in RATE_COLUMNS:
        value = report.summary[column]
        assert math.isnan(value) or 0.0 <= value <= 1.0


def test_display_table_shows_times_as_text_and_blank_when_not_reached():
    frame = pd.DataFrame(
        {
            "ticket_id": ["T1", "T2"],
            "closed_at": pd.to_datetime(["2026-10-03 09:30:00", None]),
        }
    )
    shown = display_table(frame, "zh")
    assert shown.iloc[:, 1].tolist() == ["2026-10-03 09:30:00", ""]
    assert frame["closed_at"].isna().tolist() == [False, True]  # the input is left as it was


def test_town_report_sees_a_repeat_caller_across_the_town_border(county):
    """The caller of T04-T06 (合德镇) calls again from 临海镇: 临海镇's report flags it."""
    issues = county.issues.copy()
    again = (issues["ticket_id"] == "T10").to_numpy()
    issues.loc[again, ["caller_phone", "caller_name"]] = [PHONE, NAME]
    issues.loc[again, ["category", "request_type"]] = ["噪音扰民", "投诉"]
    moved = dataclasses.replace(county, issues=issues)
    town = build_report(moved, month="2026-10", town="临海镇")
    repeated = town.cases.loc[town.cases["repeated"].astype(bool), "ticket_id"]
    assert set(repeated) == {"T10"}
    whole = build_report(moved, month="2026-10")
    assert {"T04", "T05", "T06", "T10"} <= set(
        whole.cases.loc[whole.cases["repeated"].astype(bool), "ticket_id"]
    )


def test_a_scope_name_cannot_lead_the_file_out_of_its_folder() -> None:
    name = report_filename("../../x", "2026-10", "xlsx")
    assert name == "x_2026-10_月度报告.xlsx" and "/" not in name
    assert (
        report_filename("合德镇/..\\etc", "2026-10", "pdf") == "合德镇_._etc_2026-10_月度报告.pdf"
    )
