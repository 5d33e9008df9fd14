"""The Overview in a real, offline browser: grids drawn, Chinese rendered, nothing fetched."""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest

pytestmark = pytest.mark.e2e

N_GRIDS = 3689
FIRST_LOAD_MS = 420_000  # the first visit builds the demo county (about 30 s here)


MAP_IFRAME = "iframe[title='streamlit_folium.st_folium']"
MAP_IFRAME_SHOWN = MAP_IFRAME + ":visible"  # a rerun may briefly keep a hidden stale copy


def _map_frame(page):
    """The map's iframe, once a rerun has replaced any stale copy (there is exactly one)."""
    page.wait_for_function(
        f"document.querySelectorAll({MAP_IFRAME!r}).length === 1", timeout=FIRST_LOAD_MS
    )
    return page.frame_locator(MAP_IFRAME_SHOWN)


def _open_overview(browser_page, app_url):
    """Load the Overview and wait until every grid is drawn; returns the map's frame paths."""
    page = browser_page.page
    browser_page.goto(app_url)
    paths = _map_frame(page).locator("path.leaflet-interactive")
    paths.nth(N_GRIDS - 1).wait_for(state="attached", timeout=120_000)
    browser_page.wait_for_app(timeout_ms=120_000)
    return paths


def test_chinese_font_is_installed(require):
    fc_list = shutil.which("fc-list")
    require(fc_list is not None, "fc-list missing: apt-get install fontconfig fonts-wqy-microhei")
    fonts = subprocess.run([fc_list, ":lang=zh", "family"], capture_output=True, text=True).stdout
    require("WenQuanYi" in fonts, "no Chinese font: apt-get install fonts-wqy-microhei")
    assert "WenQuanYi Micro Hei" in fonts


def test_overview_draws_every_grid_offline_in_chinese(app_url, browser_page):
    page = browser_page.page
    # Grids, village and town outlines are SVG paths in Leaflet's overlay pane.
    n_paths = _open_overview(browser_page, app_url).count()
    frame = _map_frame(page)
    page.wait_for_timeout(1500)
    browser_page.screenshot("overview")

    assert n_paths >= N_GRIDS, f"only {n_paths} paths drawn"
    assert page.get_by_text("受理数").first.is_visible()
    assert page.get_by_text("示例数据（合成）", exact=False).first.is_visible()
    assert frame.locator(".leaflet-control").first.is_visible()  # legend and zoom
    legend = frame.locator("text=诉求数").first
    assert legend.is_visible()
    # Chinese glyphs have real width (not zero-width, not missing).
    width = page.get_by_text("受理数").first.bounding_box()["width"]
    assert width > 30
    assert browser_page.blocked == [], f"requests left localhost: {browser_page.blocked}"


def test_clicking_a_grid_shows_its_details(app_url, browser_page):
    page = browser_page.page
    paths = _open_overview(browser_page, app_url)
    # A grid big enough on screen to click (grids are drawn before the outlines).
    index = paths.first.evaluate(
        """(first, n) => {
            const all = Array.from(first.parentNode.querySelectorAll('path.leaflet-interactive'));
            const hits = all.slice(0, n).map((p, i) => {
                const r = p.getBoundingClientRect();
                const top = document.elementFromPoint(r.x + r.width / 2, r.y + r.height / 2);
                return [top === p ? Math.min(r.width, r.height) : 0, i];
            });
            hits.sort((a, b) => b[0] - a[0]);
            return hits[0][1];
        }""",
        N_GRIDS,
    )
    # One click, the first after the page loaded: it opens the grid's town (a click anywhere
    # in a town lands on a grid) with the grid's details beside the map.
    paths.nth(index).click()
    page.get_by_role("heading", name=re.compile(r"^射阳县 · (?!全县)")).first.wait_for(
        timeout=60_000
    )
    details = page.get_by_role("heading", name=re.compile("^网格详情 · ")).first
    details.wait_for(timeout=60_000)
    browser_page.wait_for_app(timeout_ms=60_000)
    _map_frame(page).locator("path.leaflet-interactive").first.wait_for(timeout=60_000)
    page.wait_for_timeout(1500)
    browser_page.screenshot("overview-grid-details")
    assert page.get_by_text("最近诉求（来电人信息已脱敏）").first.is_visible()
    assert page.get_by_role("button", name="返回全县").is_visible()

    assert browser_page.blocked == []


def test_english_switch(app_url, browser_page):
    page = browser_page.page
    browser_page.goto(app_url)
    _map_frame(page)
    browser_page.wait_for_app(timeout_ms=120_000)
    page.locator("label").filter(has_text="English").first.click()
    page.get_by_text("Grids with the most issues").first.wait_for(timeout=60_000)
    browser_page.wait_for_app(timeout_ms=60_000)
    # The language sticks through the next interaction, and the map is drawn again.
    page.locator("label").filter(has_text="Issues per 1,000 residents").first.click()
    browser_page.wait_for_app(timeout_ms=60_000)
    frame = _map_frame(page)
    frame.locator("path.leaflet-interactive").nth(N_GRIDS - 1).wait_for(
        state="attached", timeout=60_000
    )
    frame.get_by_text("Issues per 1,000 residents").first.wait_for(timeout=60_000)  # legend
    page.wait_for_timeout(1500)
    browser_page.screenshot("overview-english")
    assert page.get_by_text("Synthetic demo data", exact=False).first.is_visible()
    assert page.get_by_text("Grids with the most issues").first.is_visible()
    assert browser_page.blocked == []
