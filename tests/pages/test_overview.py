"""AppTest of the Overview page (一图观全域)."""

from __future__ import annotations

import json

import pandas as pd

from tests.pages.signin import signed_in


def _map_args(at) -> dict:
    maps = [c for c in at.get("component_instance") if "st_folium" in c.proto.component_name]
    assert len(maps) == 1
    return json.loads(maps[0].proto.json_args)


def _metrics(at) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def test_overview_shows_kpis_map_and_synthetic_notice_in_chinese(app):
    at = signed_in(app)
    assert not at.exception
    metrics = _metrics(at)
    assert metrics["网格数"] == "3,689"
    assert metrics["居民数"] == "962,300"
    assert int(metrics["受理数"].replace(",", "")) > 5000
    assert any("示例数据（合成）" in w.value for w in at.warning)
    args = _map_args(at)
    html = args["script"] + args["header"] + args["html"]
    assert "cdn" not in html.lower() and "unpkg" not in html
    assert all(link.startswith("/app/static/") for link in args["js_links"] + args["css_links"])
    assert "320924101001001" in html  # grid codes travel in the packed topology
    assert at.title[0].value == "射阳县 · 全县"


def test_town_filter_narrows_kpis_and_map(app):
    at = signed_in(app)
    county_issues = int(_metrics(at)["受理数"].replace(",", ""))
    at.sidebar.selectbox(key="town").set_value("320924104").run()
    assert not at.exception
    metrics = _metrics(at)
    assert metrics["网格数"] == "181"  # 四明镇: 181 grids
    assert 0 < int(metrics["受理数"].replace(",", "")) < county_issues
    assert at.title[0].value == "射阳县 · 四明镇"
    assert "320924104" in _map_args(at)["script"]


def test_category_and_rate_metric(app):
    at = signed_in(app)
    at.sidebar.multiselect(key="categories").select("环境卫生").run()
    at.radio(key="metric").set_value("rate_per_1000").run()
    assert not at.exception
    table = at.dataframe[0].value
    # The column it is sorted by, before the 15-digit codes (last: they take the most room).
    assert list(table.columns)[-2:] == ["每千人", "网格编码"]
    rates = pd.to_numeric(table["每千人"])
    assert rates.is_monotonic_decreasing


def test_english_switch(app):
    at = signed_in(app)
    at.sidebar.radio(key="_lang_widget").set_value("en").run()
    assert not at.exception
    assert "Grids" in _metrics(at)
    assert any("Synthetic demo data" in w.value for w in at.warning)
    # The county's name is the store's (its meta): the demo gives county_name only.
    assert at.title[0].value == "射阳县 · Whole county"


def test_unassigned_issues_are_listed_with_reasons(app):
    at = signed_in(app)
    expanders = [e for e in at.expander if e.label.startswith("未落格诉求")]
    assert expanders, "the unassigned issues are shown, not dropped"
    table = expanders[0].dataframe[0].value
    assert table["原因"].str.len().gt(0).all()


def test_on_time_tile_is_the_closed_loop_pages(app):
    # One on-time rate: the Overview and 闭环管理 show the same figure for the same sidebar.
    at = signed_in(app)
    overview = _metrics(at)["按期办结率"]
    assert overview.endswith("%")
    at.switch_page("pages/views/loop.py").run()
    assert not at.exception
    assert _metrics(at)["按期办结率"] == overview
