"""The 15分钟服务圈 page in a real, offline browser: coverage map, circles, proposals."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.e2e

MAP_IFRAME = "iframe[title='streamlit_folium.st_folium']:visible"


def test_services_page_draws_coverage_and_proposals(app_url, browser_page):
    page = browser_page.page
    browser_page.goto(f"{app_url}/services")
    page.get_by_role("heading", name="15分钟服务圈 · 全县 · 全部基本服务").wait_for(timeout=420_000)
    browser_page.wait_for_app(timeout_ms=300_000)
    frame = page.frame_locator(MAP_IFRAME)
    frame.locator("path.leaflet-interactive").nth(3000).wait_for(state="attached", timeout=120_000)
    frame.get_by_text("≥ 95%").first.wait_for(timeout=60_000)  # the coverage legend
    assert page.get_by_text("缺口网格（未覆盖居民最多）").first.is_visible()
    assert page.get_by_text("全县覆盖率").first.is_visible()
    page.wait_for_timeout(1500)
    browser_page.screenshot("services")

    # One service type: its circles and ten proposed sites are drawn on the map.
    page.get_by_label("服务类型").first.click()
    page.get_by_role("option", name="党群服务中心").click()
    page.get_by_role("heading", name="15分钟服务圈 · 全县 · 党群服务中心").wait_for(timeout=300_000)
    browser_page.wait_for_app(timeout_ms=300_000)
    frame = page.frame_locator(MAP_IFRAME)
    frame.locator("path.leaflet-interactive").nth(3000).wait_for(state="attached", timeout=120_000)
    proposals = frame.locator("path[stroke='#67000d']")
    proposals.nth(9).wait_for(state="attached", timeout=60_000)
    assert proposals.count() == 10
    assert page.get_by_text("新增后").first.is_visible()
    page.wait_for_timeout(1500)
    browser_page.screenshot("services-party", full_page=True)
    assert browser_page.blocked == [], f"requests left localhost: {browser_page.blocked}"
