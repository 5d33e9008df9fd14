"""A 镇（区）领导 (the demo's ``hede``, 合德镇 320924101) sees 合德镇 only, by every path a page
offers: maps, tables, charts, the sidebar, session-state tricks and pages not theirs."""

from __future__ import annotations

import re

import pytest

from tests.pages.signin import signed_in

HEDE = "320924101"
#: A town, village or grid code of the demo county (9, 12 or 15 digits, 320924…).
CODE = re.compile(r"(?<!\d)320924\d{3}(?:\d{3}){0,2}(?!\d)")
PAGES = ("overview", "hotspots", "services", "loop", "wall")


def _everything(at) -> str:
    """Every text the page sent: element values and labels, tables, map and chart payloads."""
    parts: list[str] = []
    for node in at._tree.get_all_elements() if hasattr(at._tree, "get_all_elements") else []:
        parts.append(str(node))
    for kind in ("markdown", "caption", "title", "info", "warning", "metric", "selectbox"):
        for e in at.get(kind):
            parts.append(str(getattr(e, "value", "")))
            parts.append(str(getattr(e, "options", "")))
    for d in at.dataframe:
        parts.append(d.value.to_csv())
    for c in at.get("component_instance"):
        parts.append(c.proto.json_args)
    for kind in ("deck_gl_json_chart", "arrow_vega_lite_chart", "html"):
        for e in at.get(kind):
            parts.append(str(e.proto))
    return "\n".join(parts)


def _codes(at) -> set[str]:
    return set(CODE.findall(_everything(at)))


@pytest.fixture(scope="module")
def other_towns(demo_dir) -> list[str]:
    """The names of the demo's towns other than 合德镇."""
    import pyogrio

    from geo.core.settings import DEMO_FILENAME

    towns = pyogrio.read_dataframe(demo_dir / DEMO_FILENAME, layer="towns", read_geometry=False)
    return sorted(towns.loc[towns.town_code != HEDE, "town_name"])


@pytest.mark.parametrize("page", PAGES)
def test_a_town_leader_receives_no_other_towns_codes_or_names(app, page, other_towns) -> None:
    at = signed_in(app, "hede")
    at.switch_page(f"pages/views/{page}.py").run()
    assert not at.exception, at.exception
    sent = _everything(at)
    codes = set(CODE.findall(sent))
    assert codes or "合德镇" in sent, "the page sent neither codes nor names: nothing to check"
    outside = sorted(c for c in codes if not c.startswith(HEDE))
    assert not outside, outside[:5]
    assert [name for name in other_towns if name in sent] == []


def test_the_county_sees_every_town(app, other_towns) -> None:
    at = signed_in(app, "county")
    codes = _codes(at)
    assert len({c[:9] for c in codes}) > 1  # the check does see other towns when they are sent
    at.switch_page("pages/views/wall.py").run()
    assert any(name in _everything(at) for name in other_towns)


def test_session_state_cannot_widen_the_scope(app) -> None:
    at = signed_in(app, "hede")
    # A drill-down request for 临海镇 put into the session (a browser can only send a value
    # the town box offers; the server-side request is the way round it).
    at.session_state["_scope_request"] = ("320924102", None)
    at.run()
    assert not at.exception, at.exception
    assert all(c.startswith(HEDE) for c in _codes(at))
    town = at.sidebar.selectbox(key="town")
    assert town.options == ["合德镇"]


@pytest.mark.parametrize("page", ("overview", "hotspots", "services", "loop"))
def test_a_town_leaders_pages_name_their_town_not_the_county(app, page) -> None:
    at = signed_in(app, "hede")
    at.switch_page(f"pages/views/{page}.py").run()
    assert at.sidebar.selectbox(key="town").value == HEDE  # no "全部" that would mean the county
    titles = " ".join(t.value for t in at.title)
    assert "合德镇" in titles and "全县" not in titles, titles


def test_a_town_leaders_wall_is_titled_with_their_town(app) -> None:
    at = signed_in(app, "hede")
    at.switch_page("pages/views/wall.py").run()
    head = next(h.body for h in at.get("html") if "wall-title" in h.body)
    assert "射阳县 合德镇 · " in head


def test_pages_a_role_may_not_open_are_not_there(app) -> None:
    at = signed_in(app, "hede")
    for page in ("intake", "planner", "admin"):
        with pytest.raises(ValueError, match="Could not find a navigation page"):
            at.switch_page(f"pages/views/{page}.py")
    assert [p for p in ("数据接入", "网格规划", "系统管理") if p in _everything(at)] == []


def test_an_administrator_sees_no_citizens_pages(app) -> None:
    at = signed_in(app, "admin")
    with pytest.raises(ValueError, match="Could not find a navigation page"):
        at.switch_page("pages/views/overview.py")
    assert at.title[0].value == "数据接入"


def test_a_town_leader_unmasks_one_ticket_with_a_reason(app, demo_dir) -> None:
    from geo.access import read_audit
    from geo.core.settings import DEMO_FILENAME
    from geo.store import open_store

    at = signed_in(app, "hede")
    at.switch_page("pages/views/hotspots.py").run()
    latest = next(d.value for d in at.dataframe if "电话" in d.value.columns)
    phones = latest["电话"][latest["电话"] != ""]  # patrol reports have no caller
    assert len(phones) and phones.str.contains(r"\*{4}").all()  # masked by default
    ticket = at.selectbox(key="hot_unmask_ticket").value
    at.button(key="hot_unmask_go").click().run()
    assert any("查看理由" in e.value or "reason" in e.value for e in at.error)  # no reason yet
    at.text_input(key="hot_unmask_reason").input("回访核实办理结果")
    at.button(key="hot_unmask_go").click().run()
    assert not at.exception, at.exception
    shown = next(i.value for i in at.info if "来电人" in i.value)
    assert re.search(r"1\d{10}", shown.replace("\\", "")), shown  # the whole phone number
    rows = read_audit(open_store(demo_dir / DEMO_FILENAME), action="unmask")
    assert f"ticket:{ticket}" in rows["object"].tolist()
    assert rows["username"].iloc[-1] == "hede" and "回访核实" in rows["detail"].iloc[-1]


def test_a_viewer_cannot_unmask(app) -> None:
    at = signed_in(app, "viewer")
    at.switch_page("pages/views/hotspots.py").run()
    assert not at.exception, at.exception
    assert [b for b in at.button if b.key == "hot_unmask_go"] == []
