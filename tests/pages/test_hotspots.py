"""AppTest of the 热点研判 page."""

from __future__ import annotations

import json

from tests.pages.signin import signed_in


def _open(app):
    at = signed_in(app)
    at.switch_page("pages/views/hotspots.py").run()
    assert not at.exception, at.exception
    return at


def test_hotspots_page_lists_hot_grids_with_reasons_and_warnings(app):
    at = _open(app)
    assert at.title[0].value == "热点研判 · 全县"
    assert any("示例数据（合成）" in w.value for w in at.warning)
    ranked = at.dataframe[0].value
    assert len(ranked) > 0
    assert ranked["原因"].str.contains("已校正多重比较").all()
    # The warnings table: the planted repeat caller and burst are among them, callers masked.
    warnings = at.dataframe[-1].value
    assert {"类型", "网格名称", "依据"} <= set(warnings.columns)
    # A warning names its grid by name and code.
    assert warnings["网格名称"].str.match(r"^.+ \(\d{15}\)$").all()
    # Each hot grid's own figures: count, the count expected for its residents, the ratio.
    own = {"诉求数", "按居民数应有", "倍数", "热点等级", "本网格 p 值（校正前）"}
    assert own <= set(ranked.columns)
    # The reason never contradicts the class: a hot grid's area holds more than expected.
    area = ranked["原因"].str.extract(r"应有 [\d.]+ 件（([\d.]+) 倍）")[0].astype(float)
    assert area.notna().all() and (area > 1).all()
    assert warnings["类型"].str.contains("重复投诉").any()
    assert not warnings["依据"].str.contains("13861234567").any()
    maps = [c for c in at.get("component_instance") if "st_folium" in c.proto.component_name]
    args = json.loads(maps[0].proto.json_args)
    assert all(link.startswith("/app/static/") for link in args["js_links"] + args["css_links"])


def test_emerging_map_and_event_density(app):
    at = _open(app)
    at.radio(key="hot_map_kind").set_value("emerging").run()
    assert not at.exception
    maps = [c for c in at.get("component_instance") if "st_folium" in c.proto.component_name]
    assert "时空模式" in json.loads(maps[0].proto.json_args)["script"]
    at.radio(key="hot_map_kind").set_value("density").run()
    assert not at.exception
    deck = json.loads(at.get("deck_gl_json_chart")[0].proto.json)
    assert deck["layers"][0]["@@type"] == "HexagonLayer"
    assert deck["mapStyle"].startswith("/app/static/")  # a local blank style: nothing fetched


def test_town_scope_and_category(app):
    at = _open(app)
    at.sidebar.selectbox(key="town").set_value("320924101").run()
    at.sidebar.multiselect(key="categories").select("环境卫生").run()
    assert not at.exception
    assert at.title[0].value == "热点研判 · 合德镇"


def test_the_scan_statistic_map_lists_its_clusters(app):
    at = _open(app)
    at.radio(key="hot_map_kind").set_value("scan").run()
    assert not at.exception, at.exception
    maps = [c for c in at.get("component_instance") if "st_folium" in c.proto.component_name]
    script = json.loads(maps[0].proto.json_args)["script"]
    assert "聚集区 1（" in script  # the legend names the most likely cluster
    clusters = at.dataframe[0].value
    assert list(clusters.columns)[:4] == ["聚集区", "网格", "网格数", "诉求数"]
    assert (clusters["p 值（随机模拟）"] <= 0.05).all() and (clusters["倍数"] > 1).all()
    assert any("库尔多夫扫描统计" in c.value for c in at.caption)


def test_the_settings_change_what_is_tested_and_are_named(app):
    at = _open(app)
    before = at.dataframe[0].value
    at.radio(key="hot_value").set_value("count").run()
    assert not at.exception, at.exception
    counted = at.dataframe[0].value
    assert counted["原因"].str.startswith("按诉求件数（未考虑居民多少）").all()
    assert not counted.equals(before)
    at.radio(key="hot_inference").set_value("permutation").run()
    at.radio(key="hot_window").set_value("cube").run()
    at.number_input(key="hot_time_step").set_value(2).run()
    assert not at.exception, at.exception
    at.radio(key="hot_window").set_value("individual").run()
    assert not at.exception, at.exception
    assert at.number_input(key="hot_time_step").disabled
    at.radio(key="hot_near").set_value("rook").run()
    assert not at.exception, at.exception
