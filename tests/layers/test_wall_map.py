"""layers.wall_map: the wall's deck spec — columns, outlines, names, and nothing to fetch."""

from __future__ import annotations

import json

import geopandas as gpd
import pandas as pd
import pydeck as pdk
import pytest
from shapely.geometry import Point, box

from geo.views.wall import wall_outlines
from layers.wall_map import SHARE_STOPS, external_urls, share_colors, share_legend, wall_deck

CRS = "EPSG:4549"


@pytest.fixture
def towns() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"town_code": ["1", "2"], "town_name": ["合德镇", "临海镇"]},
        geometry=[
            box(520_000, 3_730_000, 530_000, 3_740_000),
            box(530_000, 3_730_000, 540_000, 3_740_000),
        ],
        crs=CRS,
    )


@pytest.fixture
def grids() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {
            "grid_code": ["g1", "g2", "g3"],
            "grid_name": ["一网格", "二网格", "三网格"],
            "town_name": ["合德镇", "合德镇", "临海镇"],
            "open": [4, 0, 2],
            "overdue": [1, 0, 2],
            "overdue_share": [0.25, 0.0, 1.0],
        },
        geometry=[Point(522_000, 3_732_000), Point(524_000, 3_732_000), Point(532_000, 3_732_000)],
        crs=CRS,
    )


def _spec(deck: pdk.Deck) -> dict:
    return json.loads(deck.to_json())


def _layer(spec: dict, layer_id: str) -> dict:
    return next(layer for layer in spec["layers"] if layer["id"] == layer_id)


def test_columns_only_where_tickets_are_open(grids, towns):
    spec = _spec(wall_deck(grids, wall_outlines(towns), tooltip=str, max_height_m=8000))
    columns = _layer(spec, "grid-columns")["data"]
    assert [c["name"] for c in columns] == ["合德镇 · 一网格", "临海镇 · 三网格"]
    assert [c["h"] for c in columns] == [8000, 4000]  # the busiest grid is max_height_m tall
    assert [(c["o"], c["d"]) for c in columns] == [(4, 1), (2, 2)]
    assert columns[1]["c"] == list(SHARE_STOPS[-1][1])  # all overdue: red
    lon, lat = columns[0]["p"]
    assert 119.5 < lon < 121 and 33 < lat < 34.5  # WGS84, not metres


def test_no_basemap_and_nothing_to_fetch(grids, towns):
    deck = wall_deck(grids, wall_outlines(towns), tooltip=str)
    spec = _spec(deck)
    # pydeck's "no style" marker: Streamlit's frontend then draws no basemap. A missing
    # or empty mapStyle would make it fetch a CARTO style from the internet.
    assert spec["mapStyle"] == "__MAP_STYLE__"
    assert "mapProvider" not in spec
    assert external_urls(deck) == []


def test_external_urls_finds_a_basemap():
    carto = pdk.Deck(layers=[], map_style="light")  # pydeck's default provider is CARTO
    assert any("cartocdn" in url for url in external_urls(carto))
    local_style = pdk.Deck(layers=[], map_style="/app/static/x.json", map_provider=None)
    assert external_urls(local_style) == ["mapStyle='/app/static/x.json'"]


def test_text_props_reach_deck_gl_as_text(grids, towns):
    spec = _spec(wall_deck(grids, wall_outlines(towns), tooltip=str))
    outlines = _layer(spec, "outlines")
    assert outlines["widthUnits"] == "pixels"  # not the expression "@@=pixels"
    names = _layer(spec, "town-names")
    assert names["fontFamily"].startswith("WenQuanYi Micro Hei")
    assert set(names["characterSet"]) == set("合德镇临海")  # the atlas holds the names
    assert [d["t"] for d in names["data"]] == ["合德镇", "临海镇"]


def test_outline_paths(grids, towns):
    spec = _spec(wall_deck(grids, wall_outlines(towns), tooltip=str))
    paths = _layer(spec, "outlines")["data"]
    widths = sorted({p["w"] for p in paths})
    assert widths == [1.2, 3.0]  # towns thin, county wide
    county = [p for p in paths if p["w"] == 3.0]
    assert len(county) == 1 and county[0]["path"][0] == county[0]["path"][-1]  # a closed ring


def test_view_is_centred_on_the_county(grids, towns):
    spec = _spec(wall_deck(grids, wall_outlines(towns), tooltip=str))
    view = spec["initialViewState"]
    centre = gpd.GeoSeries([towns.union_all().centroid], crs=CRS).to_crs(4326).iloc[0]
    assert view["longitude"] == pytest.approx(centre.x, abs=1e-3)
    assert abs(view["latitude"] - centre.y) < 0.01
    assert 9 < view["zoom"] < 13 and view["pitch"] == 50


def test_tooltip_words_are_translated(grids, towns):
    words = {"open": "在办", "kpi_overdue": "超期"}
    deck = wall_deck(grids, wall_outlines(towns), tooltip=words.__getitem__)
    assert deck._tooltip == {"html": "<b>{name}</b><br/>在办 {o} · 超期 {d}"}


def test_nothing_open_draws_no_column(grids, towns):
    quiet = grids.assign(open=0, overdue=0, overdue_share=0.0)
    spec = _spec(wall_deck(quiet, wall_outlines(towns), tooltip=str))
    assert _layer(spec, "grid-columns")["data"] == []


def test_bad_inputs_are_listed_together(grids, towns):
    with pytest.raises(ValueError) as info:
        wall_deck(grids.drop(columns=["open"]), pd.DataFrame(), tooltip=str, radius_m=0)
    text = str(info.value)
    assert "grids lack the column(s) ['open']" in text
    assert "outlines need 'kind' and 'name'" in text
    assert "must be > 0, got 9000.0, 0" in text


def test_share_colours_follow_the_stops():
    got = share_colors([0.0, 0.5, 1.0, float("nan"), 2.0])
    assert got.tolist() == [
        list(SHARE_STOPS[0][1]),
        list(SHARE_STOPS[1][1]),
        list(SHARE_STOPS[2][1]),
        list(SHARE_STOPS[0][1]),  # no share: as nothing overdue
        list(SHARE_STOPS[2][1]),  # clipped
    ]


def test_legend_names_the_maximum():
    html = share_legend(lambda key: key, max_open=7)
    assert "wall_legend_height (wall_legend_max 7)" in html
    assert "linear-gradient" in html


def test_names_from_data_reach_the_html_tooltip_as_text(grids, towns):
    grids = grids.assign(grid_name=['<img src=x onerror="alert(1)">', "二网格", "三网格"])
    deck = wall_deck(grids, wall_outlines(towns), tooltip=str, max_height_m=8000)
    assert deck._tooltip["html"].startswith("<b>{name}</b>")  # pydeck inserts it as HTML
    spec = _spec(deck)
    names = [row["name"] for layer in spec["layers"] for row in layer.get("data", [])
             if isinstance(row, dict) and "name" in row]  # fmt: skip
    assert any("&lt;img src=x onerror=&quot;alert(1)&quot;&gt;" in n for n in names)
    assert not any("<img" in n for n in names)
