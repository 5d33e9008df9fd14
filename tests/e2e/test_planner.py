"""The 网格规划 page in a real, offline browser: one split with the real drawing tools, published.

The test publishes a new grid version, so it runs its own `streamlit run` on its own copy of
the demo county (the session's server keeps the county the other browser tests expect).
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest
import shapely

from geo.demo.build import DEMO_FILENAME

pytestmark = pytest.mark.e2e

REPO = Path(__file__).resolve().parents[2]
FIRST_LOAD_MS = 420_000  # without GRIDGOV_E2E_DATA_DIR the server builds the demo first
MAP_IFRAME = "iframe[title='streamlit_folium.st_folium']:visible"
MARGIN_PX = 14  # the cut starts and ends this far outside the grid

#: Every grid's outline in the map's pixel coordinates (container points), by grid code.
RINGS_JS = """() => {
  const pixels = (ll) => Array.isArray(ll[0])
    ? ll.map(pixels)
    : ll.map((p) => { const c = map_div.latLngToContainerPoint(p); return [c.x, c.y]; });
  const out = [];
  map_div.eachLayer((layer) => {
    const props = layer.feature && layer.feature.properties;
    if (props && props.grid_code && layer.getLatLngs) {
      out.push([props.grid_code, pixels(layer.getLatLngs())]);
    }
  });
  return out;
}"""


@pytest.fixture(scope="module")
def planner_url(serve_streamlit, tmp_path_factory: pytest.TempPathFactory):
    """A server of its own on a copy of the demo county (built by the server if none is cached)."""
    folder = tmp_path_factory.mktemp("planner-e2e-data")
    cached = Path(os.environ.get("GRIDGOV_E2E_DATA_DIR", "/nonexistent")) / DEMO_FILENAME
    if cached.is_file():
        shutil.copy(cached, folder / DEMO_FILENAME)
    log = tmp_path_factory.mktemp("planner-streamlit") / "server.log"
    with serve_streamlit(
        REPO / "dashboard.py", log_path=log, env={"GRIDGOV_DATA_DIR": str(folder)}
    ) as url:
        yield url


def _shape(rings: list) -> shapely.Geometry:
    if isinstance(rings[0][0][0], (int, float)):  # one polygon: [outer, holes…]
        return shapely.Polygon(rings[0], rings[1:])
    return shapely.MultiPolygon([shapely.Polygon(r[0], r[1:]) for r in rings])


def _cut_line(grids: dict[str, shapely.Geometry], width: float, height: float):
    """A horizontal line across the biggest grid it cuts cleanly in two, in map pixels."""
    view = shapely.box(60, 10, width - 10, height - 40)  # clear of the zoom and draw buttons
    for code, grid in sorted(grids.items(), key=lambda kv: -kv[1].area):
        inner = grid.representative_point()
        x0, _, x1, _ = grid.bounds
        row = shapely.LineString([(x0 - 50, inner.y), (x1 + 50, inner.y)]).intersection(grid)
        parts = shapely.get_parts(row)
        through = next(s for s in parts if s.distance(inner) < 1e-6)
        (a, _), (b, _) = sorted(through.coords)
        cut = shapely.LineString([(a - MARGIN_PX, inner.y), (b + MARGIN_PX, inner.y)])
        faces = shapely.get_parts(
            shapely.polygonize(shapely.get_parts(shapely.union_all([grid.boundary, cut])))
        )
        pieces = [f for f in faces if grid.contains(f.representative_point())]
        if (
            len(pieces) == 2
            and min(p.area for p in pieces) > 0.2 * grid.area
            and view.contains(cut)
        ):
            return code, cut
    raise AssertionError(f"no grid of {sorted(grids)} can be cut by a horizontal line")


def test_split_with_the_drawing_tools_and_publish(planner_url, browser_page):
    page = browser_page.page
    browser_page.goto(f"{planner_url}/planner", "planner")
    page.get_by_role("heading", name="网格规划 · 合德镇 · 明湖社区").wait_for(timeout=FIRST_LOAD_MS)
    browser_page.wait_for_app(timeout_ms=300_000)
    frame = page.frame_locator(MAP_IFRAME)
    paths = frame.locator("path.leaflet-interactive")
    paths.first.wait_for(state="attached", timeout=120_000)
    page.get_by_text("草案第 0 版").wait_for(timeout=60_000)
    page.wait_for_timeout(1000)  # let Leaflet finish fitting the bounds
    n_before = paths.count()

    # Draw the cut with leaflet-draw's own polyline tool, by mouse clicks on the map.
    iframe = page.locator(MAP_IFRAME)
    box = iframe.bounding_box()
    content = iframe.element_handle().content_frame()
    grids = {code: _shape(rings) for code, rings in content.evaluate(RINGS_JS)}
    assert len(grids) == n_before
    code, cut = _cut_line(grids, box["width"], box["height"])
    frame.locator("a.leaflet-draw-draw-polyline").click()
    for x, y in cut.coords:
        page.mouse.click(box["x"] + x, box["y"] + y)
        page.wait_for_timeout(300)
    frame.locator("a[title='完成绘制']").click()  # the tool's own “完成” (finish) action

    page.get_by_text(f"画线穿过的网格：{code[-3:]}").wait_for(timeout=60_000)
    page.get_by_role("button", name="沿画线拆分").click()
    page.get_by_text("1 项修改未保存").wait_for(timeout=120_000)
    browser_page.wait_for_app(timeout_ms=120_000)
    frame = page.frame_locator(MAP_IFRAME)
    frame.locator("path.leaflet-interactive").nth(n_before).wait_for(
        state="attached", timeout=60_000
    )
    assert frame.locator("path.leaflet-interactive").count() == n_before + 1  # two grids
    assert page.get_by_text(re.compile(f"网格 {code} 拆分为 2 块")).is_visible()
    assert page.get_by_text("不能发布").count() == 0
    page.get_by_role("tab", name="检查报告").click()
    page.get_by_text(re.compile(r"^可以发布：0 个错误")).wait_for(timeout=30_000)
    page.wait_for_timeout(1000)
    browser_page.screenshot("planner")

    assert page.get_by_role("button", name="发布", exact=True).is_disabled()  # a planner saves
    page.get_by_role("button", name="保存草案").click()
    page.get_by_text("草案已保存为第 1 版。").wait_for(timeout=120_000)
    browser_page.wait_for_app()

    # The reviewer signs in, opens the saved draft and publishes it.
    page.get_by_role("button", name="退出登录").click()
    page.get_by_label("用户名").wait_for(timeout=60_000)
    browser_page.goto(f"{planner_url}/planner", "reviewer")
    page.get_by_text("草案第 1 版").wait_for(timeout=120_000)
    assert page.get_by_role("button", name="保存草案").is_disabled()  # a reviewer does not edit
    page.get_by_label("原因").fill("新建小区，按道路拆分网格")
    page.get_by_label("原因").press("Enter")
    browser_page.wait_for_app()
    page.get_by_role("button", name="发布", exact=True).click()
    page.get_by_text(re.compile(r"已发布网格第 \d+ 版")).wait_for(timeout=120_000)
    browser_page.wait_for_app(timeout_ms=120_000)
    page.get_by_text("草案第 0 版").wait_for(timeout=60_000)  # a fresh draft of the new version
    page.get_by_role("tab", name="版本记录").click()
    # the versions table is a canvas; its cells are in the DOM for screen readers
    page.get_by_text("新建小区，按道路拆分网格").first.wait_for(state="attached", timeout=30_000)
    done = page.get_by_text(re.compile(r"已发布网格第 \d+ 版"))
    done.scroll_into_view_if_needed()
    assert done.is_visible()
    page.wait_for_timeout(1000)
    browser_page.screenshot("planner-published")
    assert browser_page.blocked == [], f"requests left localhost: {browser_page.blocked}"
