"""AppTest of the 15分钟服务圈 page."""

from __future__ import annotations

import json

from tests.pages.signin import signed_in


def _open(app):
    at = signed_in(app)
    at.switch_page("pages/views/services.py").run()
    assert not at.exception, at.exception
    return at


def _metrics(at) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def test_services_page_shows_coverage_gaps_and_proposals(app):
    at = _open(app)
    assert at.title[0].value == "15分钟服务圈 · 全县 · 全部基本服务"
    assert any("示例数据（合成）" in w.value for w in at.warning)
    shown = _metrics(at)
    county = float(shown["全县覆盖率"].rstrip("%"))
    assert 0 < county < 100
    assert shown["全县覆盖率"] == shown["本区域覆盖率"]  # no town chosen: the scope is the county
    gaps = next(d.value for d in at.dataframe if "未覆盖居民" in d.value.columns)
    assert (gaps["未覆盖居民"].diff().dropna() <= 0).all()  # most uncovered first
    maps = [c for c in at.get("component_instance") if "st_folium" in c.proto.component_name]
    args = json.loads(maps[0].proto.json_args)
    assert all(link.startswith("/app/static/") for link in args["js_links"] + args["css_links"])
    assert "覆盖率" in args["script"]

    at.selectbox(key="svc_type").set_value("党群服务中心").run()
    assert not at.exception
    shown = _metrics(at)
    before, after = (float(shown[k].rstrip("%")) for k in ("新增前", "新增后"))
    assert after > before  # ten proposed sites add residents
    sites = next(d.value for d in at.dataframe if "新增覆盖居民" in d.value.columns)
    assert len(sites) == 10 and (sites["新增覆盖居民"] > 0).all()


def test_town_scope_mode_and_engine(app):
    at = _open(app)
    at.sidebar.selectbox(key="town").set_value("320924101").run()
    at.selectbox(key="svc_type").set_value("卫生室").run()
    walk = _metrics(at)["本区域覆盖率"]
    at.selectbox(key="svc_mode").set_value("ebike").run()
    ebike = _metrics(at)["本区域覆盖率"]
    assert float(ebike.rstrip("%")) >= float(walk.rstrip("%"))
    at.radio(key="svc_engine").set_value("network").run()
    assert not at.exception
    assert at.title[0].value == "15分钟服务圈 · 合德镇 · 卫生室"
    at.toggle(key="svc_exact").set_value(True).run()
    assert not at.exception
    assert any("CBC" in c.value for c in at.caption)


def test_english(app):
    at = signed_in(app)
    at.sidebar.radio(key="_lang_widget").set_value("en").run()
    at.switch_page("pages/views/services.py").run()
    assert not at.exception
    assert at.title[0].value.startswith("15-minute circles")
    assert "County coverage" in _metrics(at)
