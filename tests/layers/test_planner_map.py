"""layers.planner_map: the planner's map loads its drawing tools locally and draws every grid."""

from __future__ import annotations

import json
import re

import folium.plugins
import geopandas as gpd
import pytest
import shapely

from layers.offline import STATIC_DIR, STATIC_URL_PREFIX, external_links
from layers.planner_map import DRAW_CSS, DRAW_JS, DRAW_TEXT_PATHS, OfflineDraw, planner_map

X0, Y0 = 524_000.0, 3_737_000.0


@pytest.fixture
def grids() -> gpd.GeoDataFrame:
    cells = [shapely.box(X0 + 200 * i, Y0, X0 + 200 * (i + 1), Y0 + 200) for i in range(3)]
    return gpd.GeoDataFrame(
        {
            "grid_code": [f"320924101001{i:03d}" for i in (1, 2, 3)],
            "grid_name": ["第1网格", "第2网格", "第3网格"],
            "village_code": "320924101001",
            "households": [120, 300, 10],
        },
        geometry=cells,
        crs="EPSG:4549",
    )


def _map(grids: gpd.GeoDataFrame, **extra):
    return planner_map(
        grids,
        state=[0, 1, 2],
        labels=["001", "002", "003"],
        tooltip_fields={"grid_code": "网格编码", "households": "户数"},
        legend_title="网格规模",
        state_labels=["符合", "超出", "错误"],
        villages=grids.dissolve("village_code", as_index=False),
        **extra,
    )


def test_drawing_tools_are_served_locally(grids):
    m = _map(grids, draw_texts={"draw.toolbar.buttons.polyline": "画线（拆分网格）"})
    html = m.get_root().render()
    assert external_links(m) == []
    assert not re.search(r"https?://(?!www\.w3\.org)", html)  # no CDN, no tiles
    for path in (DRAW_JS, DRAW_CSS):
        assert f"{STATIC_URL_PREFIX}/{path}" in html
        assert (STATIC_DIR / path).is_file()
    assert "new L.Control.Draw" in html and "L.drawLocal" in html
    assert json.dumps("画线（拆分网格）") in html
    # folium's class-wide CDN links are left as they were for every other map
    assert folium.plugins.Draw.default_js[0][1].startswith("https://")


def test_grids_labels_and_options(grids):
    m = _map(grids, proposal=grids.assign(geometry=grids.geometry.buffer(-10)))
    html = m.get_root().render()
    for label in ("001", "002", "003"):
        assert f'"{label}"' in html  # one label per grid, set as text
    assert "dashArray" in html and "6 4" in html  # the proposal's dashed outlines
    draw = next(e for e in m._children.values() if isinstance(e, OfflineDraw))
    assert draw.draw_options["rectangle"] is False and draw.draw_options["marker"] is False
    assert "polyline" in draw.draw_options and "polygon" in draw.draw_options
    assert not draw.show_geometry_on_click
    assert all(p.split(".")[0] in ("draw", "edit") for p in DRAW_TEXT_PATHS)


def test_refuses_mismatched_arguments(grids):
    with pytest.raises(ValueError, match=r"one value per grid \(3\), got 2 and 3"):
        planner_map(
            grids,
            state=[0, 1],
            labels=["a", "b", "c"],
            tooltip_fields={},
            legend_title="",
            state_labels=["a", "b", "c"],
        )
    with pytest.raises(ValueError, match="state_labels needs 3 labels, got 2"):
        planner_map(
            grids,
            state=[0, 0, 0],
            labels=["a", "b", "c"],
            tooltip_fields={},
            legend_title="",
            state_labels=["a", "b"],
        )
