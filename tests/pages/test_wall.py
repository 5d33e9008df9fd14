"""AppTest of the wall screen 指挥大屏: the figures geo computes, both languages, rotation."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from geo.core.scope import Scope
from geo.demo.build import DEMO_FILENAME
from geo.hotspots.alerts import detect_alerts
from geo.store.base import open_store
from geo.store.county import load_county
from geo.views.wall import WallView, wall_as_of, wall_view
from tests.pages.signin import signed_in


@pytest.fixture(scope="module")
def expected(demo_dir: Path) -> WallView:
    """The wall's figures computed by geo/ directly, as the page should show them."""
    data = load_county(open_store(demo_dir / DEMO_FILENAME), scope=Scope.county())
    alerts = detect_alerts(data.issues, as_of=wall_as_of(data, minutes=10))
    return wall_view(data, alerts=alerts)


def _open(app, **params: str):
    for name, value in params.items():
        app.query_params[name] = value
    at = signed_in(app)
    at.switch_page("pages/views/wall.py").run()
    assert not at.exception, at.exception
    return at


def _html(at) -> str:
    return "\n".join(element.proto.body for element in at.get("html"))


def _metrics(at) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def test_wall_in_chinese_shows_what_geo_computes(app, expected):
    at = _open(app)
    k = expected.tiles
    assert _metrics(at) == {
        "今日受理": f"{k['received_today']:,.0f}",
        "在办": f"{k['open']:,.0f}",
        "超期在办": f"{k['overdue']:,.0f}",
        "预警": f"{k['alerts']:,.0f}",
        "本月按期办结率": f"{k['on_time_rate']:.1%}",
        "今日日清率": f"{k['cleared_rate']:.1%}",
    }
    assert k["open"] > 1000 and k["alerts"] > 0  # the demo has a backlog and warnings
    html = _html(at)
    assert "射阳县 · 网格治理指挥大屏" in html
    assert f"示例数据截至 {expected.as_of:%Y-%m-%d %H:%M}" in html
    assert "每 10 秒刷新 · 第 0 次" in html
    # The first panel: the most urgent overdue tickets, with the counts in the heading.
    assert 'id="wall-panel-overdue"' in html
    assert f"共 {k['overdue']:,.0f} 件，其中通报督办 {k['reprimand']:,.0f} 件" in html
    assert expected.overdue.grid_name.iloc[0] in html
    worst = expected.overdue.iloc[0]  # a reprimand, the longest overdue: not a day-old one
    assert worst.state == "reprimand" and worst.days_over == expected.overdue.days_over.max()
    assert any("示例数据（合成）" in w.value for w in at.warning)
    # The map: one column per grid with open tickets, no basemap, nothing to fetch.
    spec = json.loads(at.get("deck_gl_json_chart")[0].proto.json)
    columns = next(layer for layer in spec["layers"] if layer["id"] == "grid-columns")
    assert len(columns["data"]) == int((expected.grids.open > 0).sum())
    assert spec["mapStyle"] == "__MAP_STYLE__" and "mapProvider" not in spec
    assert "http" not in at.get("deck_gl_json_chart")[0].proto.json


def test_wall_in_english(app, expected):
    at = _open(app, lang="en")
    metrics = _metrics(at)
    assert metrics["Open"] == f"{expected.tiles['open']:,.0f}"
    assert metrics["Cleared today"] == f"{expected.tiles['cleared_rate']:.1%}"
    html = _html(at)
    assert "射阳县 · Grid governance command wall" in html  # the name from the store's meta
    assert "Latest overdue tickets" in html and "Overdue (re" in html
    assert any("Synthetic demo data" in w.value for w in at.warning)


def test_panels_rotate_on_each_refresh(app, expected):
    at = _open(app, refresh="3")
    seen = []
    for _ in range(4):
        html = _html(at)
        seen.append(html.split('id="wall-panel-')[1].split('"')[0])
        at.run()
        assert not at.exception
    assert seen == ["overdue", "warnings", "towns", "clearance"]
    html = _html(at)  # back to the first panel, fifth refresh
    assert 'id="wall-panel-overdue"' in html and "每 3 秒刷新 · 第 4 次" in html


def test_a_bad_refresh_value_is_explained(app):
    at = _open(app, refresh="soon")
    assert any("refresh=soon" in w.value and "1 到 3600" in w.value for w in at.warning)
    assert "每 10 秒刷新" in _html(at)  # the default instead
    assert len(at.metric) == 6
