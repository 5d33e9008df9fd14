"""The 热点研判 page in a real, offline browser: maps drawn, warnings listed, nothing fetched."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.e2e

MAP_IFRAME = "iframe[title='streamlit_folium.st_folium']:visible"


def test_hotspots_page_draws_classes_and_density(app_url, browser_page):
    page = browser_page.page
    browser_page.goto(f"{app_url}/hotspots")
    page.get_by_role("heading", name="热点研判 · 全县").wait_for(timeout=420_000)
    browser_page.wait_for_app(timeout_ms=300_000)
    paths = page.frame_locator(MAP_IFRAME).locator("path.leaflet-interactive")
    paths.nth(3000).wait_for(state="attached", timeout=120_000)
    for text in ("热点网格（按显著性排序）", "预警（最新在前）"):
        page.get_by_text(text).first.wait_for(timeout=120_000)  # the warnings come last
    browser_page.wait_for_app(timeout_ms=120_000)
    page.frame_locator(MAP_IFRAME).get_by_text("热点等级").first.wait_for(timeout=60_000)
    assert page.get_by_text("热点网格（按显著性排序）").first.is_visible()
    assert page.get_by_text("预警（最新在前）").first.is_visible()
    assert page.frame_locator(MAP_IFRAME).get_by_text("热点等级").first.is_visible()  # legend
    page.wait_for_timeout(1500)
    browser_page.screenshot("hotspots")

    page.locator("label").filter(has_text="事件密度").first.click()
    browser_page.wait_for_app(timeout_ms=120_000)
    page.locator("[data-testid='stDeckGlJsonChart'] canvas").first.wait_for(timeout=60_000)
    page.wait_for_timeout(2000)
    browser_page.screenshot("hotspots-density")
    assert browser_page.blocked == [], f"requests left localhost: {browser_page.blocked}"


def test_a_town_leader_sees_their_hot_grids_close_up_and_the_scan_clusters(app_url, browser_page):
    page = browser_page.page
    browser_page.goto(f"{app_url}/hotspots", user="hede")
    page.get_by_role("heading", name="热点研判 · 合德镇").wait_for(timeout=420_000)
    browser_page.wait_for_app(timeout_ms=300_000)
    frame = page.frame_locator(MAP_IFRAME)
    frame.locator("path.leaflet-interactive").first.wait_for(state="attached", timeout=120_000)
    # The picked grid (the hottest, by default) is outlined on the map.
    frame.locator("path[stroke-width='4']").first.wait_for(state="attached", timeout=60_000)
    page.wait_for_timeout(1500)
    browser_page.screenshot("hotspots-hede")
    page.locator("label").filter(has_text="可能的聚集区").first.click()
    browser_page.wait_for_app(timeout_ms=300_000)
    page.get_by_text("扫描统计").first.wait_for(timeout=120_000)
    frame.get_by_text("聚集区 1（").first.wait_for(timeout=60_000)  # the legend
    page.wait_for_timeout(1500)
    browser_page.screenshot("hotspots-hede-scan")
    assert browser_page.blocked == [], f"requests left localhost: {browser_page.blocked}"
