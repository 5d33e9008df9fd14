"""layers.offline: local Leaflet links per map instance, vendored files present, argument errors."""

from __future__ import annotations

import re

import folium
import pytest

from layers.offline import STATIC_DIR, STATIC_URL_PREFIX, base_map, external_links, static_url

SHEYANG = (119.916, 33.454, 120.597, 34.124)


def _links(html: str) -> list[str]:
    return re.findall(r'<(?:script|link)\b[^>]*\b(?:src|href)="([^"]+)"', html)


def test_base_map_links_only_local_files() -> None:
    m = base_map(bounds_wgs84=SHEYANG)
    html = m.get_root().render()
    links = _links(html)
    assert links, "the map must load Leaflet from somewhere"
    assert all(url.startswith(STATIC_URL_PREFIX + "/") for url in links), links
    assert f"{STATIC_URL_PREFIX}/vendor/leaflet/leaflet.js" in links
    assert not re.search(r"https?://", html)
    assert external_links(m) == []
    assert "fitBounds" in html and "[33.454, 119.916]" in html


def test_folium_class_defaults_are_left_alone() -> None:
    before_js, before_css = list(folium.Map.default_js), list(folium.Map.default_css)
    m = base_map(bounds_wgs84=SHEYANG)
    m.add_js_link("extra", "/app/static/extra.js")
    assert folium.Map.default_js == before_js
    assert folium.Map.default_css == before_css
    assert any(url.startswith("https://") for _, url in folium.Map().default_js)
    assert external_links(folium.Map()) != []  # the check does catch CDN links


def test_intranet_tiles_are_the_only_http_url() -> None:
    tiles = "http://tiles.county.lan/{z}/{x}/{y}.png"
    m = base_map(bounds_wgs84=SHEYANG, tile_url=tiles, tile_attribution="县自然资源局")
    html = m.get_root().render()
    assert set(re.findall(r"https?://[^\s\"'<>]+", html)) == {tiles}
    assert all(url.startswith(STATIC_URL_PREFIX) for url in _links(html))


def test_static_prefix_is_configurable() -> None:
    m = base_map(bounds_wgs84=SHEYANG, static_url_prefix="/gridgov/app/static/")
    assert _links(m.get_root().render())[0] == "/gridgov/app/static/vendor/leaflet/leaflet.js"


def test_own_files_carry_a_content_hash_and_vendored_files_exist() -> None:
    assert re.fullmatch(
        r"/app/static/gridgov/grid-choropleth\.js\?v=[0-9a-f]{10}",
        static_url("gridgov/grid-choropleth.js"),
    )
    assert static_url("vendor/leaflet/leaflet.js") == "/app/static/vendor/leaflet/leaflet.js"
    for path in [
        "vendor/leaflet/leaflet.js",
        "vendor/leaflet/leaflet.css",
        "vendor/leaflet/images/layers.png",
        "vendor/leaflet/images/marker-icon.png",
        "vendor/leaflet/LICENSE",
        "vendor/topojson-client/topojson-client.min.js",
        "vendor/topojson-client/LICENSE",
        "gridgov/grid-choropleth.js",
        "gridgov/grid-choropleth.css",
        "gridgov/map.css",
    ]:
        assert (STATIC_DIR / path).is_file(), path
    assert (
        "Leaflet 1.9.4"
        in (STATIC_DIR / "vendor/leaflet/leaflet.js").read_text(encoding="utf-8")[:200]
    )


def test_argument_errors_are_collected() -> None:
    with pytest.raises(
        ValueError,
        match=r"(?s)metres\? reproject to EPSG:4326.*lacks \['\{y\}'\]"
        r".*tile_attribution is required",
    ):
        base_map(
            bounds_wgs84=(492_212.9, 3_703_181.7, 555_353.4, 3_777_492.6),
            tile_url="http://tiles.county.lan/{z}/{x}.png",
        )
    with pytest.raises(ValueError, match="tile_attribution was given without tile_url"):
        base_map(bounds_wgs84=SHEYANG, tile_attribution="x")
    with pytest.raises(ValueError, match="bounds_wgs84 must be four numbers"):
        base_map(bounds_wgs84=(1.0, 2.0))  # type: ignore[arg-type]


def test_the_scale_bar_is_metric_only() -> None:
    # Leaflet's default scale bar adds miles under the kilometres.
    html = base_map(bounds_wgs84=SHEYANG).get_root().render()
    assert re.findall(r"L\.control\.scale\(([^)]*)\)", html) == ["{imperial: false}"]
