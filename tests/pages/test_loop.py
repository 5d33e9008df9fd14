"""AppTest of the closed-loop page (闭环管理): tiles and tables equal geo.loop.lifecycle's figures,
the
日清—周结—月过堂 tabs render with callers masked, the monthly-report buttons are there."""

from __future__ import annotations

import datetime as dt
import re

import pandas as pd
import pytest

from geo.core.scope import Scope
from geo.demo.build import DEMO_FILENAME
from geo.grids.aggregate import IssueFilter, filter_mask, stocks_and_window
from geo.loop.lifecycle import daily_clearance, kpi_tables, monthly_review
from geo.store.base import open_store
from geo.store.county import load_county
from tests.pages.signin import signed_in

MASKED_PHONE = re.compile(r"^(\d{0,3}\*+\d{4}|\*+|)$")


@pytest.fixture(scope="module")
def county(demo_dir):
    return load_county(open_store(demo_dir / DEMO_FILENAME), scope=Scope.county())


def loop_page(app):
    at = signed_in(app)
    at.switch_page("pages/views/loop.py").run()
    assert not at.exception
    return at


def metrics(at) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def default_window(county) -> IssueFilter:
    end = county.as_of.normalize()
    return IssueFilter(start=end - dt.timedelta(days=29), end=end)


def test_chinese_page_numbers_tabs_and_report_buttons(app, county):
    at = loop_page(app)
    assert at.title[0].value == "闭环管理 · 全县"
    assert any("示例数据（合成）" in w.value for w in at.warning)

    window = filter_mask(county.issues, default_window(county))
    want = kpi_tables(county.issues, county.as_of, levels=("county", "town"), window=window)
    row = want["county"].iloc[0]
    shown = metrics(at)
    assert shown["受理数"] == f"{row['issues']:,}"
    # Overdue now, whenever received: every overdue ticket of the county, not the window's.
    everything = kpi_tables(county.issues, county.as_of, levels=("county",))["county"].iloc[0]
    assert shown["超期在办"] == f"{everything['overdue']:,}"
    assert row["overdue"] == everything["overdue"] > 0
    assert row["issues"] < everything["issues"]  # received: the window's only
    assert shown["按期办结率"] == f"{row['on_time_rate']:.1%}"
    assert shown["网格办结占比（小事不出格）"] == f"{row['grid_share']:.1%}"
    table = at.dataframe[0].value
    assert len(table) == len(want["town"]) == 19
    assert table["受理数"].tolist() == want["town"]["issues"].tolist()
    assert "合德镇" in set(table["镇（区）"])

    assert [tab.label for tab in at.tabs] == ["日清", "周结", "月过堂"]
    daily = daily_clearance(county.issues, county.as_of)
    assert shown["当日新收"] == f"{(daily['reason'] == 'new').sum():,}"
    assert shown["未清"] == f"{(~daily['cleared']).sum():,}"
    daily_table = at.tabs[0].dataframe[0].value
    assert len(daily_table) == len(daily)
    assert daily_table["电话（脱敏）"].map(lambda p: bool(MASKED_PHONE.match(p))).all()
    weekly = at.tabs[1].dataframe[0].value
    assert weekly["镇（区）"].iloc[-1] == "射阳县"  # the county total comes last
    backlog, cases = (frame.value for frame in at.tabs[2].dataframe)
    review = monthly_review(county.issues, county.as_of)
    assert backlog["积案（在办）"].tolist() == review.backlog["backlog"].tolist()
    assert len(cases) == len(review.cases)
    assert len(cases) > 0 and set(cases["期限状态"]) <= {
        "正常办理", "今日到期", "超期·催办", "超期·通报督办", "按期办结", "超期办结"
    }  # fmt: skip
    assert cases["电话（脱敏）"].map(lambda p: bool(MASKED_PHONE.match(p))).all()
    raw_phones = set(county.issues["caller_phone"].dropna().astype(str)) - {""}
    assert not raw_phones & set(cases["电话（脱敏）"])

    assert at.selectbox(key="loop_report_month").value == "2026-10"  # last full month
    buttons = at.get("download_button")
    assert [b.proto.label for b in buttons] == ["下载 Excel 报告", "下载 PDF 报告"]
    assert all(b.proto.deferred_file_id for b in buttons)  # built on click, not on load


def test_english_town_scope_by_grid(app, county):
    at = loop_page(app)
    at.sidebar.radio(key="_lang_widget").set_value("en").run()
    at.sidebar.selectbox(key="town").set_value("320924104").run()
    at.radio(key="loop_level").set_value("grid").run()
    assert not at.exception
    assert at.title[0].value == "Closed loop · 四明镇"
    flt = default_window(county)
    flt = IssueFilter(start=flt.start, end=flt.end, town_code="320924104")
    tickets, window = stocks_and_window(county.issues, flt)
    want = kpi_tables(tickets, county.as_of, levels=("county", "grid"), window=window)
    assert metrics(at)["Received"] == f"{window.sum():,}"
    assert metrics(at)["Received"] == f"{want['county']['issues'].iloc[0]:,}"
    table = at.dataframe[0].value
    # A grid with a case still open is listed even when nothing came in this month.
    quiet = want["grid"][(want["grid"]["issues"] == 0) & (want["grid"]["open"] > 0)]
    assert len(quiet) and set(quiet["grid_code"]) <= set(table["Grid code"])
    assert table["Grid code"].tolist() == want["grid"]["grid_code"].tolist()
    assert table["Received"].tolist() == want["grid"]["issues"].tolist()
    assert [tab.label for tab in at.tabs] == ["Daily clearance", "Weekly summary", "Monthly review"]
    weekly = at.tabs[1].dataframe[0].value
    assert weekly["Town"].tolist() == ["四明镇"]
    buttons = at.get("download_button")
    assert [b.proto.label for b in buttons] == [
        "Download the Excel report",
        "Download the PDF report",
    ]
    assert pd.Series([c.value for c in at.caption]).str.contains("Scope: 四明镇").any()
