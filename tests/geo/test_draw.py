"""geo.planning.draw: drawings in WGS84 GeoJSON become exact edits of grids in EPSG:4549."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
import shapely

from geo.planning.draw import (
    crossed_grids,
    drawn_geometry,
    latest_drawing,
    redraw_with,
    split_along,
)
from geo.planning.edit import EditError

METRIC = "EPSG:4549"
X0, Y0 = 524_000.0, 3_737_000.0
VILLAGE = "320924101001"


@pytest.fixture
def grids() -> gpd.GeoDataFrame:
    """A village of three 100 m grids in a row, west to east: 001, 002, 003."""
    cells = [shapely.box(X0 + 100 * i, Y0, X0 + 100 * (i + 1), Y0 + 100) for i in range(3)]
    return gpd.GeoDataFrame(
        {
            "grid_code": [f"{VILLAGE}{i:03d}" for i in (1, 2, 3)],
            "grid_name": ["第1网格", "第2网格", "第3网格"],
            "village_code": VILLAGE,
            "town_code": VILLAGE[:9],
            "grid_worker": ["甲", "乙", "丙"],
            "households": [100, 100, 100],
            "residents": [270, 270, 270],
        },
        geometry=cells,
        crs=METRIC,
    )


def drawn(shape: shapely.Geometry) -> dict:
    """A metric shape as Leaflet would report it: a GeoJSON Feature in WGS84."""
    lonlat = gpd.GeoSeries([shape], crs=METRIC).to_crs(4326).iloc[0]
    return {"type": "Feature", "properties": {}, "geometry": shapely.geometry.mapping(lonlat)}


def test_drawn_geometry_comes_back_in_metres():
    line = shapely.LineString([(X0 - 20, Y0 + 50), (X0 + 120, Y0 + 50)])
    got = drawn_geometry(drawn(line))
    assert got.geom_type == "LineString"
    assert np.abs(shapely.get_coordinates(got) - shapely.get_coordinates(line)).max() < 1e-6
    bare = drawn(line)["geometry"]  # a bare geometry works too
    assert drawn_geometry(bare).equals_exact(got, 1e-9)


@pytest.mark.parametrize(
    ("feature", "match"),
    [
        ({"type": "Feature", "geometry": {"type": "Point", "coordinates": [120.3, 33.7]}}, "Point"),
        ("LINESTRING (0 0, 1 1)", "not a GeoJSON geometry"),
        ({"type": "LineString", "coordinates": [[120.3, 33.7], [120.3, 33.7]]}, "empty"),
        (
            {"type": "LineString", "coordinates": [[524000, 3737000], [524100, 3737000]]},
            "longitude/latitude",
        ),
        (
            {
                "type": "Polygon",
                "coordinates": [
                    [
                        [120.30, 33.70],
                        [120.31, 33.71],
                        [120.31, 33.70],
                        [120.30, 33.71],
                        [120.30, 33.70],
                    ]
                ],
            },
            "crosses itself",
        ),
    ],
)
def test_drawn_geometry_refuses_unusable_drawings(feature, match):
    with pytest.raises(EditError, match=match) as info:
        drawn_geometry(feature)
    assert info.value.hint  # always says what to do instead


def test_crossed_grids_lists_only_grids_cut_in_two(grids):
    across_first = shapely.LineString([(X0 - 20, Y0 + 50), (X0 + 150, Y0 + 50)])
    assert crossed_grids(grids, across_first) == [f"{VILLAGE}001"]  # ends inside 002
    across_two = shapely.LineString([(X0 + 50, Y0 - 10), (X0 + 50, Y0 + 110)])
    assert crossed_grids(grids, across_two) == [f"{VILLAGE}001"]
    diagonal = shapely.LineString([(X0 - 10, Y0 + 40), (X0 + 310, Y0 + 60)])
    assert crossed_grids(grids, diagonal) == [f"{VILLAGE}{i:03d}" for i in (1, 2, 3)]
    along_edge = shapely.LineString([(X0 + 100, Y0 - 10), (X0 + 100, Y0 + 110)])
    assert crossed_grids(grids, along_edge) == []


def test_split_along_a_drawn_line(grids):
    line = shapely.LineString([(X0 + 130, Y0 - 10), (X0 + 130, Y0 + 110)])  # through 002
    out, change = split_along(grids, drawn(line))
    assert change.op == "split" and change.modified == (f"{VILLAGE}002",)
    assert change.added == (f"{VILLAGE}004",)
    assert len(out) == 4 and len(grids) == 3  # the input is left alone
    areas = dict(zip(out.grid_code, out.area.round(6), strict=True))
    assert areas[f"{VILLAGE}002"] == pytest.approx(7000, abs=1e-3)  # the larger piece keeps it
    assert areas[f"{VILLAGE}004"] == pytest.approx(3000, abs=1e-3)
    assert shapely.coverage_is_valid(out.geometry.to_numpy())
    assert out.union_all().area == pytest.approx(grids.union_all().area, abs=1e-6)
    assert out.households.sum() == 300  # apportioned by area, total kept


def test_split_along_several_grids_and_a_chosen_one(grids):
    line = shapely.LineString([(X0 - 10, Y0 + 40), (X0 + 310, Y0 + 40)])
    out, change = split_along(grids, drawn(line))
    assert len(out) == 6 and len(change.added) == 3
    assert "；" in change.note.zh and "; " in change.note.en
    out, change = split_along(grids, drawn(line), grid_codes=[f"{VILLAGE}003"])
    assert len(out) == 4 and change.modified == (f"{VILLAGE}003",)


def test_split_along_refuses_lines_that_cut_nothing_asked(grids):
    inside = shapely.LineString([(X0 + 20, Y0 + 50), (X0 + 80, Y0 + 50)])
    with pytest.raises(EditError, match="cuts no grid in two"):
        split_along(grids, drawn(inside))
    line = shapely.LineString([(X0 + 130, Y0 - 10), (X0 + 130, Y0 + 110)])
    with pytest.raises(EditError, match=f"does not cut grid\\(s\\) {VILLAGE}001") as info:
        split_along(grids, drawn(line), grid_codes=[f"{VILLAGE}001"])
    assert f"{VILLAGE}002" in str(info.value.hint)  # names the grid it does cut
    polygon = shapely.box(X0 + 10, Y0 + 10, X0 + 50, Y0 + 50)
    with pytest.raises(EditError, match="Polygon"):
        split_along(grids, drawn(polygon))


def test_redraw_with_a_drawn_polygon_moves_area_between_neighbours(grids):
    grab = shapely.box(X0 + 80, Y0 - 20, X0 + 150, Y0 + 120)  # from 001's edge into 002
    out, change = redraw_with(grids, drawn(grab), grid_code=f"{VILLAGE}001")
    assert change.op == "redraw"
    areas = dict(zip(out.grid_code, out.area, strict=True))
    assert areas[f"{VILLAGE}001"] == pytest.approx(15_000, abs=1e-3)
    assert areas[f"{VILLAGE}002"] == pytest.approx(5_000, abs=1e-3)
    assert shapely.coverage_is_valid(out.geometry.to_numpy())
    line = shapely.LineString([(X0 + 10, Y0 + 10), (X0 + 50, Y0 + 50)])
    with pytest.raises(EditError, match="LineString"):
        redraw_with(grids, drawn(line), grid_code=f"{VILLAGE}001")


def test_latest_drawing_takes_the_newest_of_a_kind():
    line = {"type": "Feature", "geometry": {"type": "LineString", "coordinates": []}}
    poly = {"type": "Feature", "geometry": {"type": "Polygon", "coordinates": []}}
    newer = {"type": "Feature", "geometry": {"type": "LineString", "coordinates": [[0, 0]]}}
    drawings = [line, poly, newer]
    assert latest_drawing(drawings, ("LineString",)) is newer
    assert latest_drawing(drawings, ("Polygon",)) is poly
    assert latest_drawing(None, ("Polygon",)) is None
    assert latest_drawing([line], ("Polygon", "MultiPolygon")) is None
