"""geo.planning.grid_files: a grid layer written for QGIS and read back, on six hand-made grids."""

from __future__ import annotations

import io
import json
import zipfile

import geopandas as gpd
import pyogrio
import pytest
import shapely
from geopandas.testing import assert_geodataframe_equal

from geo.core.errors import InputFileError
from geo.planning import grid_files as gf
from tests.geo.test_plan_view import TOWN, X0, Y0, A, B, county_layers


def grids() -> gpd.GeoDataFrame:
    """Villages A and B of the planner's tiny county, with a column GridGov does not know."""
    layer = county_layers()["grids"]
    layer.insert(2, "responsible_unit", layer.village_code + "党支部")
    return layer


def test_shapefile_fields_are_short_unique_and_known_names_keep_their_cut():
    fields = gf.shapefile_fields(
        ["grid_worker_phone", "grid_worker", "village_code", "x", "geometry"]
    )
    assert fields == {
        "grid_worker_phone": "grid_wor_1",  # grid_worker, a known column, keeps "grid_worke"
        "grid_worker": "grid_worke",
        "village_code": "village_co",
        "x": "x",
    }


def test_zipped_shapefile_has_short_fields_a_cpg_and_the_full_names(tmp_path):
    path = gf.write_grids(grids(), tmp_path / "v1.zip")
    with zipfile.ZipFile(path) as zf:
        names = set(zf.namelist())
        assert {f"v1.{ext}" for ext in ("shp", "shx", "dbf", "prj", "cpg")} | {
            "fields.csv"
        } == names
        assert zf.read("v1.cpg").decode().strip() == "UTF-8"
        legend = zf.read(gf.FIELDS_CSV).decode("utf-8-sig")
    assert "responsibl,responsible_unit" in legend and "grid_wor_1,grid_worker_phone" in legend
    fields = list(pyogrio.read_info(f"/vsizip/{path}/v1.shp")["fields"])
    assert all(len(f) <= 10 for f in fields) and len(set(fields)) == len(fields)
    raw = pyogrio.read_dataframe(f"/vsizip/{path}/v1.shp")
    assert raw["grid_name"].tolist() == grids()["grid_name"].tolist()  # Chinese intact


@pytest.mark.parametrize("fmt", ["gpkg", "geojson", "shp"])
def test_write_then_read_gives_the_layer_back(tmp_path, fmt):
    layer = grids()
    path = gf.write_grids(layer, tmp_path / f"out{gf.FORMATS[fmt].suffixes[0]}")
    back, left_out = gf.read_grid_file(path, layer)
    assert left_out == []
    assert list(back.columns) == list(layer.columns)  # full names, the layer's order
    got = gf.take_scope(back, layer, column="town_code", code=TOWN, name=str(path))
    assert got.unchanged.all() and got.left_out == []
    assert_geodataframe_equal(got.grids, layer, check_dtype=False, check_geom_type=False)


def test_full_names_come_from_fields_csv_or_else_from_the_published_columns(tmp_path):
    layer = grids()
    path = gf.write_grids(layer, tmp_path / "v.zip")
    # A planner's layer with a column the published one does not have.
    published = layer.drop(columns="responsible_unit")
    back, left_out = gf.read_grid_file(path, published)
    assert left_out == ["responsible_unit"] and "grid_worker_phone" in back.columns
    # Re-zipped in QGIS without fields.csv: the published columns say what the cuts were.
    bare = tmp_path / "bare.zip"
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(bare, "w") as dst:
        for name in src.namelist():
            if name != gf.FIELDS_CSV:
                dst.writestr(name.replace("v.", "bare."), src.read(name))
    back, _ = gf.read_grid_file(bare, layer)
    assert back["responsible_unit"].tolist() == layer["responsible_unit"].tolist()
    assert back["grid_worker_phone"].tolist() == layer["grid_worker_phone"].tolist()


def test_export_bytes_match_the_file_and_geojson_is_wgs84():
    data = gf.export_bytes(grids(), "shp")
    assert {"grids.shp", "grids.dbf", "fields.csv"} <= set(
        zipfile.ZipFile(io.BytesIO(data)).namelist()
    )
    feature = json.loads(gf.export_bytes(grids(), "geojson"))["features"][0]
    lon, lat = feature["geometry"]["coordinates"][0][0]
    assert 120 < lon < 121 and 33 < lat < 34
    with pytest.raises(ValueError, match=r"fmt must be one of \['gpkg', 'geojson', 'shp'\]"):
        gf.export_bytes(grids(), "kml")


def test_write_refuses_file_names_that_do_not_fit(tmp_path):
    with pytest.raises(InputFileError, match=r"a\.shp: .*name the file a\.zip \(a Shapefile"):
        gf.write_grids(grids(), tmp_path / "a.shp", fmt="shp")
    with pytest.raises(InputFileError, match=r"unknown export type \.kml") as info:
        gf.write_grids(grids(), tmp_path / "a.kml")
    assert "文件名以 .gpkg" in str(info.value.hint)


def test_snap_puts_round_trip_noise_back_and_keeps_real_edits():
    layer = grids()
    moved = layer.copy()
    moved["geometry"] = shapely.transform(layer.geometry.to_numpy(), lambda xy: xy + 0.0004)
    back, same = gf.snap_to_layer(moved, layer)
    assert same.all()
    assert (
        shapely.to_wkb(back.geometry.to_numpy()) == shapely.to_wkb(layer.geometry.to_numpy())
    ).all()
    edited = layer.copy()
    edited.loc[0, "geometry"] = shapely.box(X0, Y0, X0 + 200, Y0 + 300)
    _, same = gf.snap_to_layer(edited, layer)
    assert same.tolist() == [False, True, True, True, True, True]


def test_take_scope_names_edits_it_leaves_out_and_refuses_a_file_without_the_scope():
    layer = grids()
    edited = layer.copy()
    edited.loc[3, "geometry"] = shapely.box(X0 + 600, Y0, X0 + 800, Y0 + 300)  # B001
    got = gf.take_scope(edited, layer, column="village_code", code=A, name="e.gpkg")
    assert got.grids.grid_code.tolist() == [f"{A}00{i}" for i in (1, 2, 3)]
    assert got.left_out == [f"{B}00{i}" for i in (1, 2, 3)] and got.edited_left_out == [f"{B}001"]
    with pytest.raises(InputFileError, match=rf"e\.gpkg: .*no grid of village {TOWN}009") as info:
        gf.take_scope(edited, layer, column="village_code", code=TOWN + "009", name="e.gpkg")
    assert A in str(info.value) and B in str(info.value)


def test_uploads_are_read_by_their_ending_and_refusals_name_the_upload():
    layer = grids()
    back, _ = gf.read_grid_bytes("mine.geojson", gf.export_bytes(layer, "geojson"), layer)
    assert back.grid_code.tolist() == layer.grid_code.tolist()
    with pytest.raises(InputFileError, match=r"grids\.csv: 不支持的文件类型 \.csv / unsupported"):
        gf.read_grid_bytes("grids.csv", b"a,b\n", layer)
    with pytest.raises(
        InputFileError, match=r"^broken\.gpkg: 文件无法读取.* / cannot read the file"
    ):
        gf.read_grid_bytes("broken.gpkg", b"not a geopackage", layer)
    bare = gf.export_bytes(layer.drop(columns="town_code"), "gpkg")
    with pytest.raises(InputFileError, match="缺少列 town_code / no column town_code") as info:
        gf.read_grid_bytes("bare.gpkg", bare, layer)
    assert "keep these columns when editing in QGIS" in str(info.value.hint)
