"""The 15分钟服务圈 map: a service point's name is text in its tooltip, never markup."""

from __future__ import annotations

import geopandas as gpd
from shapely.geometry import Point, box

from layers.service_map import service_map

CRS = "EPSG:4549"
EVIL = '<img src=x onerror="parent.alert(1)">'


def test_a_service_points_name_cannot_run_in_the_tooltip() -> None:
    grids = gpd.GeoDataFrame(
        {"grid_code": ["g1"], "grid_name": ["一网格"], "village_code": ["v1"], "coverage": [0.5]},
        geometry=[box(520_000, 3_730_000, 521_000, 3_731_000)],
        crs=CRS,
    )
    villages = gpd.GeoDataFrame(
        {"village_code": ["v1"], "village_name": ["村"]}, geometry=[grids.geometry.iloc[0]], crs=CRS
    )
    services = gpd.GeoDataFrame(
        {"name": [EVIL], "service_type": ["卫生室"]}, geometry=[Point(520_500, 3_730_500)], crs=CRS
    )
    m = service_map(
        grids, villages, services, tooltip_fields={"grid_name": "网格"}, legend_title="覆盖率",
        no_data_label="—", proposal_label="新增", gap_label="缺口",
    )  # fmt: skip
    html = m.get_root().render()
    # The GeoJSON is written with JSON's own escapes: read them back to see the text.
    text = html.replace("\\u0026", "&")
    assert "&lt;img src=x onerror=&quot;parent.alert(1)&quot;&gt;" in text
    assert "<img src=x" not in html and 'onerror=\\"parent' not in html
