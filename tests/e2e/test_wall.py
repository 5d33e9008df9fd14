"""The wall screen in a real, offline browser at 1920×1080 (and 3840×2160): full-screen, dark,
large type, the 3D map drawn, and a refresh in place without reloading the page."""

from __future__ import annotations

import io
import re

import pytest

pytestmark = pytest.mark.e2e

FIRST_LOAD_MS = 420_000  # the first visit may build the demo county
REFRESH_S = 3
DECK = "[data-testid='stDeckGlJsonChart']"

_STYLE_JS = """([selector, prop]) => {
  const el = document.querySelector(selector);
  if (!el) return null;
  const inner = el.querySelector('div') || el;
  return getComputedStyle(prop === 'backgroundColor' ? el : inner)[prop];
}"""


def _px(value: str) -> float:
    return float(value.removesuffix("px"))


def _open_wall(browser_page, app_url, width: int = 1920, height: int = 1080):
    page = browser_page.page
    page.set_viewport_size({"width": width, "height": height})
    browser_page.goto(f"{app_url}/wall?refresh={REFRESH_S}")
    page.locator(f"{DECK} canvas").first.wait_for(timeout=FIRST_LOAD_MS)
    page.locator("#wall-clock").wait_for(timeout=60_000)
    page.wait_for_timeout(1500)  # deck.gl draws a frame or two after the canvas appears
    return page


def _coloured_pixels(png: bytes) -> dict[str, int]:
    import numpy as np
    from PIL import Image

    rgb = np.asarray(Image.open(io.BytesIO(png)).convert("RGB")).astype(int)
    r, g, b = rgb[..., 0], rgb[..., 1], rgb[..., 2]
    return {
        "red": int(((r > 180) & (g < 120) & (b < 120)).sum()),
        "teal": int(((g > 150) & (b > 140) & (r < 120)).sum()),
        "amber": int(((r > 200) & (g > 160) & (b < 90)).sum()),
    }


def test_wall_is_full_screen_dark_legible_and_draws_the_map(app_url, browser_page):
    page = _open_wall(browser_page, app_url)
    browser_page.screenshot("wall")

    # Full screen: no sidebar, no header or toolbar.
    assert not page.locator("[data-testid='stSidebar']").is_visible()
    assert not page.locator("[data-testid='stHeader']").is_visible()
    # Dark background.
    background = page.evaluate(_STYLE_JS, ["[data-testid='stApp']", "backgroundColor"])
    r, g, b = (int(v) for v in re.findall(r"\d+", background)[:3])
    assert 0.2126 * r + 0.7152 * g + 0.0722 * b < 40, background
    # Tile numbers at least 64 px at 1080p; six tiles.
    assert page.locator("[data-testid='stMetricValue']").count() == 6
    size = _px(page.evaluate(_STYLE_JS, ["[data-testid='stMetricValue']", "fontSize"]))
    assert size >= 64, size
    # Chinese rendered with a real CJK font (glyphs with width, not boxes of zero width).
    label = page.get_by_text("今日受理", exact=True).first
    assert label.is_visible() and label.bounding_box()["width"] > 80
    assert page.get_by_text("示例数据（合成）", exact=False).first.is_visible()
    # The deck.gl canvas draws columns in the overdue-share colours.
    deck = page.locator(DECK).first
    box = deck.bounding_box()
    assert box["width"] > 900 and box["height"] >= 600
    colours = _coloured_pixels(deck.screenshot())
    assert colours["red"] > 300 and colours["teal"] > 300, colours
    assert browser_page.blocked == [], f"requests left localhost: {browser_page.blocked}"


def test_wall_refreshes_in_place_without_reloading(app_url, browser_page):
    page = _open_wall(browser_page, app_url)
    page.evaluate("() => { window.__wallMarker = 'still here'; }")
    clock = page.locator("#wall-clock").inner_text()
    status = page.locator(".wall-status").inner_text()
    first = int(re.search(r"第 (\d+) 次", status).group(1))
    panel = page.locator(".wall-panel").get_attribute("id")
    # Wait past a refresh interval: the fragment reruns and the page is the same page.
    page.wait_for_function(
        "(before) => { const c = document.querySelector('#wall-clock');"
        " return c && c.innerText !== before; }",
        arg=clock,
        timeout=(REFRESH_S * 10) * 1000,
    )
    page.wait_for_timeout(500)
    status_now, panel_now = page.evaluate(  # one look: both from the same refresh
        "() => [document.querySelector('.wall-status').innerText,"
        " document.querySelector('.wall-panel').id]"
    )
    after = int(re.search(r"第 (\d+) 次", status_now).group(1))
    assert after > first
    # The side panel rotates with the refresh count (on a slow machine several refreshes may
    # pass between two looks, and a multiple of the panel count shows the same one again).
    from geo.views.wall import PANELS, panel_for

    assert panel_now == f"wall-panel-{panel_for(after)}"
    assert panel == f"wall-panel-{panel_for(first)}"
    if (after - first) % len(PANELS):
        assert panel_now != panel
    assert page.evaluate("() => window.__wallMarker") == "still here"  # no page reload
    assert page.evaluate("() => performance.getEntriesByType('navigation').length") == 1
    assert page.locator(f"{DECK} canvas").count() == 1
    assert browser_page.blocked == [], f"requests left localhost: {browser_page.blocked}"


def test_wall_scales_to_4k(app_url, browser_page):
    page = _open_wall(browser_page, app_url, 3840, 2160)
    browser_page.screenshot("wall-4k")
    size = _px(page.evaluate(_STYLE_JS, ["[data-testid='stMetricValue']", "fontSize"]))
    assert size >= 128, size  # twice the 1080p minimum
    box = page.locator(DECK).first.bounding_box()
    assert box["width"] > 1800 and box["height"] >= 1200, box  # the map's box doubled too
    assert not page.locator("[data-testid='stSidebar']").is_visible()
    assert browser_page.blocked == [], f"requests left localhost: {browser_page.blocked}"
