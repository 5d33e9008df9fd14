"""A 镇（区）领导 in a real browser: every page they may open, the map iframes included, holds
no other town's name or grid code, and the pages they may not open are not reachable by
their address either."""

from __future__ import annotations

import re

import pytest

from geo.core.settings import DEMO_FILENAME
from geo.store.base import open_store

pytestmark = pytest.mark.e2e

HEDE = "320924101"  # 合德镇, the demo's ``hede`` account
PAGES = ["", "hotspots", "services", "loop", "wall"]
CODE = re.compile(r"(?<!\d)3209\d{5}(?:\d{3}){0,2}(?!\d)")  # a town, village or grid code


def _everything(page) -> str:  # type: ignore[no-untyped-def]
    """The page's HTML and the HTML of every frame in it (folium's maps are iframes)."""
    return "\n".join(frame.content() for frame in page.frames)


@pytest.mark.parametrize("path", PAGES, ids=[p or "overview" for p in PAGES])
def test_a_town_leaders_browser_receives_their_town_only(app_url, app_data_dir, browser_page, path):
    towns = open_store(app_data_dir / DEMO_FILENAME).read("towns")
    others = towns.loc[towns.town_code.astype(str) != HEDE, "town_name"].astype(str).tolist()
    browser_page.goto(f"{app_url}/{path}", user="hede")
    page = browser_page.page
    page.get_by_text("合德镇").first.wait_for(timeout=120_000)
    browser_page.wait_for_app()
    sent = _everything(page)
    codes = set(CODE.findall(sent))
    assert any(c.startswith(HEDE) for c in codes) or "合德镇" in sent
    assert sorted(c for c in codes if not c.startswith(HEDE)) == []
    assert [name for name in others if name in sent] == []
    browser_page.screenshot(f"scope-hede-{path or 'overview'}")
    assert browser_page.blocked == []


@pytest.mark.parametrize("path", ["planner", "intake", "admin"])
def test_pages_a_town_leader_may_not_open_are_not_reachable_by_address(app_url, browser_page, path):
    browser_page.goto(f"{app_url}/{path}", user="hede")
    page = browser_page.page
    browser_page.wait_for_app()
    body = page.locator("body").inner_text()
    for title in ("网格规划", "数据接入", "系统管理"):
        assert title not in body
    assert "Traceback" not in _everything(page)
