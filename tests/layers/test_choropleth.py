"""layers.choropleth: breaks and legend, offline links, escaping, st_folium wiring, errors."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import geopandas as gpd
import numpy as np
import pytest
import shapely
import streamlit_folium
from geopandas.testing import assert_geodataframe_equal

from layers.choropleth import NO_DATA_COLOR, OutlineSpec, grid_choropleth
from layers.classify import DEFAULT_COLORS
from layers.offline import STATIC_URL_PREFIX, base_map, external_links

EVIL = "<script>alert('x')</script>&amp;"
TOOLTIP = {"name": "网格名称", "code": "网格编码", "issues": "未办结事项"}


@pytest.fixture()
def six_grids() -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """2 × 3 squares of 1 km in EPSG:4549 near 合德镇; two villages, one town."""
    x0, y0 = 500_000.0, 3_740_000.0
    boxes = [
        shapely.box(x0 + i * 1000, y0 + j * 1000, x0 + (i + 1) * 1000, y0 + (j + 1) * 1000)
        for j in range(2)
        for i in range(3)
    ]
    grids = gpd.GeoDataFrame(
        {
            "code": [f"32092410120100{i}" for i in range(1, 7)],
            "name": [
                EVIL,
                "新海村第2网格",
                "新海村第3网格",
                "东港村第1网格",
                "东港村第2网格",
                "东港村第3网格",
            ],
            "issues": [0.0, 1.0, 2.0, 3.0, 4.0, np.nan],
            "village": ["新海村"] * 3 + ["东港村"] * 3,
            "worker_phone": ["13800000000"] * 6,
        },
        geometry=boxes,
        crs=4549,
    )
    villages = grids.dissolve(by="village", method="coverage", as_index=False)[
        ["village", "geometry"]
    ]
    towns = gpd.GeoDataFrame(
        {"town": ["合德镇"]}, geometry=[shapely.box(x0, y0, x0 + 3000, y0 + 2000)], crs=4549
    )
    return grids, villages, towns


def _draw(grids, villages, towns, **kwargs):
    m = base_map(
        bounds_wgs84=tuple(towns.to_crs(4326).total_bounds), **kwargs.pop("map_kwargs", {})
    )
    layer = grid_choropleth(
        m,
        grids,
        value_column="issues",
        tooltip_fields=TOOLTIP,
        legend_title="未办结事项（件）",
        id_column="code",
        classes=2,
        outlines=[OutlineSpec.villages(villages), OutlineSpec.towns(towns, name_column="town")],
        **kwargs,
    )
    return m, layer


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.scripts: list[str | None] = []
        self.links: list[str | None] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "script":
            self.scripts.append(a.get("src"))
        elif tag == "link":
            self.links.append(a.get("href"))


def test_breaks_and_legend_on_a_small_example(six_grids) -> None:
    m, layer = _draw(*six_grids, no_data_label="无数据")  # the page's words for a missing value
    # values 0..4 in 2 quantile classes: the median 2 and the maximum 4
    assert layer.breaks.bins == (2.0, 4.0)
    assert layer.options["grids"]["bins"] == [2.0, 4.0]
    assert layer.options["grids"]["colors"] == [DEFAULT_COLORS[0], DEFAULT_COLORS[-1]]
    assert layer.options["legend"] == {
        "title": "未办结事项（件）",
        "position": "bottomright",
        "entries": [
            ["0–2", DEFAULT_COLORS[0]],
            ["3–4", DEFAULT_COLORS[-1]],
            ["无数据", NO_DATA_COLOR],
        ],
    }
    html = m.get_root().render()
    assert '"entries":[["0–2","#ffffb2"],["3–4","#b10026"],["无数据","#d9d9d9"]]' in html
    # colours travel twice (class colours, legend), not once per feature
    assert html.count("#ffffb2") == 2


def test_only_the_asked_properties_travel(six_grids) -> None:
    _, layer = _draw(*six_grids)
    objects = layer.payload["objects"]
    assert list(objects["grids"]["properties"]) == ["code", "issues", "name"]
    assert list(objects["villages"]["properties"]) == []
    assert list(objects["towns"]["properties"]) == ["town"]
    assert len(objects["grids"]["geometries"]) == 6


def test_map_html_loads_nothing_from_the_internet(six_grids) -> None:
    m, _ = _draw(*six_grids)
    html = m.get_root().render()
    tags = _Tags()
    tags.feed(html)
    srcs = [s for s in tags.scripts if s]
    assert srcs == [
        f"{STATIC_URL_PREFIX}/vendor/leaflet/leaflet.js",
        f"{STATIC_URL_PREFIX}/vendor/topojson-client/topojson-client.min.js",
        srcs[2],
    ]
    assert srcs[2].startswith(f"{STATIC_URL_PREFIX}/gridgov/grid-choropleth.js?v=")
    assert all(h and h.startswith(STATIC_URL_PREFIX + "/") for h in tags.links), tags.links
    assert not re.search(r"https?://", html)
    assert external_links(m) == []


def test_intranet_tile_url_is_the_only_url(six_grids) -> None:
    tiles = "http://10.1.2.3:8080/tiles/{z}/{x}/{y}.png"
    m, _ = _draw(*six_grids, map_kwargs={"tile_url": tiles, "tile_attribution": "射阳县"})
    html = m.get_root().render()
    assert set(re.findall(r"https?://[^\s\"'<>]+", html)) == {tiles}
    tags = _Tags()
    tags.feed(html)
    assert all(s.startswith(STATIC_URL_PREFIX) for s in tags.scripts if s)


def test_tooltip_text_cannot_break_out_of_the_script(six_grids) -> None:
    grids, villages, towns = six_grids
    m, _ = _draw(grids, villages, towns)
    html = m.get_root().render()
    assert "<script>alert" not in html
    assert "alert('x')" in html  # the text is there, escaped for the script context
    assert r"\u003cscript\u003ealert('x')\u003c/script\u003e\u0026amp;" in html
    harmless, _ = _draw(grids.assign(name="新海村第1网格"), villages, towns)
    tags, harmless_tags = _Tags(), _Tags()
    tags.feed(html)
    harmless_tags.feed(harmless.get_root().render())
    assert len(tags.scripts) == len(harmless_tags.scripts)  # the data opens no <script>
    # in the browser, data and labels go into the page through textContent only
    js = _static_js()
    assert "innerHTML" not in js.replace("never innerHTML", "")
    assert js.count("textContent") >= 4


def _static_js() -> str:
    from layers.offline import STATIC_DIR

    return (STATIC_DIR / "gridgov" / "grid-choropleth.js").read_text(encoding="utf-8")


def test_streamlit_folium_renders_the_layer_and_collects_local_links(six_grids) -> None:
    m, layer = _draw(*six_grids)
    m.get_root().render()
    script = streamlit_folium._get_map_string(m)
    # the layer is created and added to the map in the script that runs
    # before streamlit-folium walks map._layers to bind its click handler
    assert re.search(r"var (grid_choropleth_\w+) = GridGov\.gridChoropleth\(", script)
    name = re.search(r"var (grid_choropleth_\w+) = ", script).group(1)  # type: ignore[union-attr]
    assert f"{name}.addTo(map_div)" in script
    assert script.index("GridGov.gridChoropleth(") < script.index(f"{name}.addTo(map_div)")
    assert layer._get_self_bounds()[0][0] == pytest.approx(33.7, abs=0.1)


def test_reprojects_without_touching_the_input(six_grids) -> None:
    grids, villages, towns = six_grids
    before = grids.copy()
    _, layer = _draw(grids, villages, towns)
    assert_geodataframe_equal(grids, before)
    min_lon, min_lat, max_lon, max_lat = layer.payload["bbox"]
    assert 119.9 < min_lon < max_lon < 120.1 and 33.7 < min_lat < max_lat < 33.9
    _, layer84 = _draw(grids.to_crs(4326), villages.to_crs(4326), towns.to_crs(4326))
    assert layer84.payload == layer.payload


def test_towns_zoom_on_click_and_villages_take_no_clicks(six_grids) -> None:
    _, layer = _draw(*six_grids)
    villages, towns = layer.options["outlines"]
    assert villages == {
        "object": "villages",
        "style": {"color": "#5f6b7a", "weight": 1.0, "opacity": 0.8},
        "tooltip": None,
        "zoomOnClick": False,
    }
    assert towns["object"] == "towns" and towns["zoomOnClick"] and towns["tooltip"] == "town"
    assert towns["style"]["weight"] > villages["style"]["weight"]


def test_errors_are_collected(six_grids) -> None:
    grids, villages, _ = six_grids
    m = base_map(bounds_wgs84=(119.9, 33.7, 120.1, 33.8))
    no_crs = villages.set_crs(None, allow_override=True)
    with pytest.raises(
        ValueError,
        match=(
            r"(?s)grids has no column\(s\) \['households'\].*must be numeric"
            r".*outline names must be unique and not 'grids'; clashing: \['grids'\].*no CRS"
        ),
    ):
        grid_choropleth(
            m,
            grids,
            value_column="name",
            tooltip_fields={"households": "户数"},
            legend_title="x",
            id_column="code",
            outlines=[OutlineSpec(frame=no_crs, name="grids")],
        )
    with pytest.raises(ValueError, match="legend_position must be"):
        grid_choropleth(
            m,
            grids,
            value_column="issues",
            tooltip_fields={},
            legend_title="x",
            id_column="code",
            legend_position="left",
        )  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="grids must be a GeoDataFrame, got DataFrame"):
        grid_choropleth(
            m,
            grids.drop(columns="geometry"),
            value_column="issues",
            tooltip_fields={},
            legend_title="x",
        )  # type: ignore[arg-type]


def test_floats_are_rounded_before_classing(six_grids) -> None:
    grids, villages, towns = six_grids
    rates = grids.assign(issues=[1 / 3, 2 / 3, 1.0, 4 / 3, 5 / 3, np.nan])
    _, layer = _draw(rates, villages, towns)
    kind, values = layer.payload["objects"]["grids"]["properties"]["issues"]
    assert (kind, values) == ("v", [0.33, 0.67, 1.0, 1.33, 1.67, None])
    assert layer.breaks.bins == (1.0, 1.67)
    assert layer.breaks.labels == ("0.33–1.00", "1.00–1.67")


def test_rendering_again_gives_the_same_script(six_grids) -> None:
    """st_folium renames elements in place; a cached map rendered again must still work."""
    m, _ = _draw(*six_grids)
    scripts = []
    for _ in range(3):
        m.get_root().render()
        scripts.append(streamlit_folium._get_map_string(m))
    assert scripts[0] == scripts[1] == scripts[2]
    # One choropleth on the map (st_folium numbers the elements it renames).
    added = re.findall(r"(\w+?)_\d+\.addTo\(map_div\)", scripts[2])
    assert added == ["grid_choropleth_div"]
