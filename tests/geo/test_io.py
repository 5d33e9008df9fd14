"""Known-answer tests for geo.store.readers: every supported format read back, with the errors
users meet."""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
import shapely
from pyproj import Transformer

from geo.core import crs
from geo.core.crs import bd09_to_wgs84, gcj02_to_wgs84
from geo.core.errors import InputFileError
from geo.store.readers import (
    NO_COORDS,
    SWAPPED,
    parse_columns,
    read_layer,
    read_outline,
    split_spec,
    write_output,
)

METRIC = "EPSG:4549"
X0, Y0 = 524_000.0, 3_737_000.0
TO_METRIC = Transformer.from_crs("EPSG:4326", METRIC, always_xy=True)
# A point in 合德镇 (lon, lat, WGS84).
LON, LAT = 120.262, 33.778


@pytest.fixture
def grids() -> gpd.GeoDataFrame:
    """Two 100 m grids in EPSG:4549; the first code has a leading zero on purpose."""
    return gpd.GeoDataFrame(
        {
            "grid_code": ["0320924101001001", "320924101001002"],
            "village_code": ["320924101001", "320924101001"],
            "grid_worker": ["张三", "李四"],
            "households": [95, 120],
        },
        geometry=[
            shapely.box(X0, Y0, X0 + 100, Y0 + 100),
            shapely.box(X0 + 100, Y0, X0 + 200, Y0 + 100),
        ],
        crs=METRIC,
    )


def assert_same_grids(got: gpd.GeoDataFrame, expected: gpd.GeoDataFrame) -> None:
    assert got.crs == METRIC
    assert list(got.source_row) == list(range(1, len(expected) + 1))
    assert list(got.grid_code) == list(expected.grid_code)
    assert list(got.village_code) == list(expected.village_code)
    assert list(got.grid_worker) == list(expected.grid_worker)
    # Formats in WGS84 come back through degrees: nanometre noise, vertex order may change.
    distance = got.geometry.hausdorff_distance(expected.geometry, align=False)
    assert (distance < 1e-6).all()


# --------------------------------------------------------------------------- helpers


def test_split_spec():
    assert split_spec("data/a.gpkg:grids") == (Path("data/a.gpkg"), "grids")
    assert split_spec("A.GPKG:Grids") == (Path("A.GPKG"), "Grids")
    assert split_spec("shapes.zip:roads") == (Path("shapes.zip"), "roads")
    assert split_spec("data/a.gpkg") == (Path("data/a.gpkg"), None)
    assert split_spec("C:/data/a.gpkg") == (Path("C:/data/a.gpkg"), None)  # a drive letter
    assert split_spec("C:/data/a.gpkg:issues") == (Path("C:/data/a.gpkg"), "issues")
    assert split_spec("events.csv:sheet") == (Path("events.csv:sheet"), None)


def test_parse_columns():
    assert parse_columns(None) == {}
    assert parse_columns("") == {}
    assert parse_columns("grid_code=WGBM, lon = 经度，lat=纬度,") == {
        "grid_code": "WGBM",
        "lon": "经度",
        "lat": "纬度",
    }
    assert parse_columns("name=a=b") == {"name": "a=b"}
    assert parse_columns({"grid_code": "WGBM"}) == {"grid_code": "WGBM"}


def test_parse_columns_rejects_a_pair_without_equals():
    with pytest.raises(ValueError, match=r"--columns: 'WGBM' is not our_name=their_name"):
        parse_columns("grid_code=WGBM,WGBM")


def test_unknown_kind():
    with pytest.raises(ValueError, match=r"kind must be one of .*'grids'.*got 'grid'"):
        read_layer("whatever.gpkg", "grid")


# --------------------------------------------------------------------------- geo formats


def write_shapefile(frame: gpd.GeoDataFrame, path: Path) -> None:
    """Write a Shapefile; DBF cuts village_code and grid_worker to 10 characters."""
    with pytest.warns(RuntimeWarning, match="laundered field name: '(village_code|grid_worker)'"):
        pyogrio.write_dataframe(frame, path, encoding="UTF-8")


@pytest.fixture
def multi_gpkg(tmp_path, grids) -> Path:
    path = tmp_path / "county.gpkg"
    villages = gpd.GeoDataFrame(
        {"village_code": ["320924101001"]},
        geometry=[shapely.box(X0, Y0, X0 + 200, Y0 + 100)],
        crs=METRIC,
    )
    pyogrio.write_dataframe(villages, path, layer="villages")
    pyogrio.write_dataframe(grids, path, layer="grids")
    pyogrio.write_dataframe(grids.iloc[:1], path, layer="grids_2025")
    return path


def test_geopackage_default_layer_by_kind(multi_gpkg, grids):
    assert_same_grids(read_layer(multi_gpkg, "grids"), grids)
    villages = read_layer(multi_gpkg, "villages")
    assert list(villages.village_code) == ["320924101001"]


def test_geopackage_named_layer(multi_gpkg, grids):
    got = read_layer(f"{multi_gpkg}:grids_2025", "grids")
    assert_same_grids(got, grids.iloc[:1])


def test_geopackage_unknown_layer_lists_the_layers(multi_gpkg):
    with pytest.raises(
        InputFileError,
        match=re.escape("no layer 'roads'; it has ['villages', 'grids', 'grids_2025']"),
    ) as info:
        read_layer(f"{multi_gpkg}:roads", "grids")
    assert info.value.path == f"{multi_gpkg}:roads"


def test_geopackage_several_layers_none_named(multi_gpkg):
    with pytest.raises(
        InputFileError, match=r"several layers \[.*\] and none is called 'issues'.*name one: "
    ):
        read_layer(multi_gpkg, "issues")


def test_geopackage_single_layer_of_any_name(tmp_path, grids):
    path = tmp_path / "wg.gpkg"
    pyogrio.write_dataframe(grids, path, layer="网格2026")
    assert_same_grids(read_layer(path, "grids"), grids)


def test_geojson(tmp_path, grids):
    path = tmp_path / "grids.geojson"
    pyogrio.write_dataframe(grids.to_crs("EPSG:4326"), path, driver="GeoJSON")
    assert_same_grids(read_layer(path, "grids"), grids)


def test_shapefile(tmp_path, grids):
    path = tmp_path / "grids.shp"
    write_shapefile(grids, path)
    fields = pyogrio.read_info(path)["fields"]
    assert list(fields) == ["grid_code", "village_co", "grid_worke", "households"]
    # Regression: the 10-character DBF names are mapped back to ours.
    assert_same_grids(read_layer(path, "grids"), grids)


def test_zipped_shapefile(tmp_path, grids):
    write_shapefile(grids, tmp_path / "wg.shp")
    path = tmp_path / "wg.zip"
    with zipfile.ZipFile(path, "w") as zf:
        for part in tmp_path.glob("wg.*"):
            if part.suffix != ".zip":
                zf.write(part, f"export/{part.name}")
    assert_same_grids(read_layer(path, "grids"), grids)


def test_zip_with_two_layers_needs_a_name(tmp_path, grids):
    for stem in ("a", "b"):
        write_shapefile(grids, tmp_path / f"{stem}.shp")
    path = tmp_path / "two.zip"
    with zipfile.ZipFile(path, "w") as zf:
        for part in sorted(tmp_path.glob("[ab].*")):
            zf.write(part, part.name)
    with pytest.raises(
        InputFileError, match=r"the zip holds several layers .*name one: .*two\.zip:a"
    ):
        read_layer(path, "grids")
    assert_same_grids(read_layer(f"{path}:b", "grids"), grids)


def test_zip_without_layers(tmp_path):
    path = tmp_path / "empty.zip"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("readme.txt", "nothing here")
    with pytest.raises(InputFileError, match=r"the zip holds no \.shp, \.geojson or \.gpkg file"):
        read_layer(path, "grids")


def test_shapefile_without_prj(tmp_path, grids):
    path = tmp_path / "noprj.shp"
    write_shapefile(grids, path)
    path.with_suffix(".prj").unlink()
    with pytest.raises(InputFileError, match=r"noprj\.shp: .*coordinate system.*--crs EPSG:4549"):
        read_layer(path, "grids")
    assert_same_grids(read_layer(path, "grids", crs=METRIC), grids)
    # The same file declared as lon/lat would be nonsense in degrees; crs= is trusted as given.
    wgs = grids.to_crs("EPSG:4326")
    write_shapefile(wgs, tmp_path / "wgs.shp")
    (tmp_path / "wgs.prj").unlink()
    assert_same_grids(read_layer(tmp_path / "wgs.shp", "grids", crs="EPSG:4326"), grids)


def test_geoparquet(tmp_path, grids):
    path = tmp_path / "grids.parquet"
    grids.to_parquet(path)
    assert_same_grids(read_layer(path, "grids"), grids)


def test_layer_in_another_metric_crs_is_reprojected(tmp_path, grids):
    path = tmp_path / "utm.gpkg"
    pyogrio.write_dataframe(grids.to_crs("EPSG:32651"), path, layer="grids")
    got = read_layer(path, "grids")
    assert got.crs == METRIC
    np.testing.assert_allclose(got.area, [10_000, 10_000], rtol=1e-6)


def test_codes_keep_leading_zeros_and_lose_float_suffix(tmp_path, grids):
    frame = grids.assign(
        grid_code=[320924101001001.0, np.nan],  # a float column, as Excel-born data arrive
        village_code=["0320924101", "320924101001"],
    )
    path = tmp_path / "float_codes.gpkg"
    pyogrio.write_dataframe(frame, path, layer="grids")
    got = read_layer(path, "grids")
    assert texts(got.grid_code) == ["320924101001001", None]
    assert list(got.village_code) == ["0320924101", "320924101001"]


def test_missing_required_column_names_file_and_column(tmp_path, grids):
    path = tmp_path / "nocode.geojson"
    pyogrio.write_dataframe(
        grids.drop(columns="grid_code").rename(columns={"grid_worker": "负责人"}),
        path,
        driver="GeoJSON",
    )
    with pytest.raises(
        InputFileError,
        match=r"nocode\.geojson: 缺少必填列 grid_code.* / no column grid_code for layer 'grids'"
        r".*--columns, e\.g\. "
        r"grid_code=<your column>",
    ):
        read_layer(path, "grids")


def test_columns_mapping(tmp_path, grids):
    # WGBM would be picked by alias anyway; the explicit pair must win over another alias.
    frame = grids.rename(columns={"grid_code": "WGBM", "grid_worker": "网格员姓名"})
    frame["网格编码"] = ["decoy-1", "decoy-2"]
    path = tmp_path / "wgbm.gpkg"
    pyogrio.write_dataframe(frame, path, layer="grids")
    got = read_layer(path, "grids", columns="grid_code=WGBM")
    assert list(got.grid_code) == list(grids.grid_code)
    assert list(got.grid_worker) == ["张三", "李四"]  # alias 网格员姓名
    assert list(got["网格编码"]) == ["decoy-1", "decoy-2"]  # left alone
    # Without the mapping the alias 网格编码 is as good as WGBM; a non-alias name needs it.
    frame = grids.rename(columns={"grid_code": "BIANHAO_X"})
    pyogrio.write_dataframe(frame, tmp_path / "x.gpkg", layer="grids")
    got = read_layer(tmp_path / "x.gpkg", "grids", columns={"grid_code": "BIANHAO_X"})
    assert list(got.grid_code) == list(grids.grid_code)


def test_columns_mapping_that_fits_nothing_in_the_file(tmp_path, grids):
    path = tmp_path / "g.gpkg"
    pyogrio.write_dataframe(grids, path, layer="grids")
    with pytest.raises(
        InputFileError,
        match=r"g\.gpkg: --columns .* / --columns names column\(s\) \['WGBM', '经度'\] that the "
        r"file does not have — .* / the file's columns are \['grid_code', ",
    ):
        read_layer(path, "grids", columns="grid_code=WGBM,lon=经度")


def test_columns_mapping_shared_by_several_inputs(tmp_path, grids):
    # The CLI passes one --columns to the grids and the events: pairs a file lacks are skipped.
    path = tmp_path / "g.gpkg"
    pyogrio.write_dataframe(grids.rename(columns={"grid_code": "WGBM"}), path, layer="grids")
    got = read_layer(path, "grids", columns="grid_code=WGBM,lon=经度,lat=纬度")
    assert list(got.grid_code) == list(grids.grid_code)


def test_wrong_extension_lists_allowed_types(tmp_path):
    path = tmp_path / "grids.dwg"
    path.write_bytes(b"AC1032")
    with pytest.raises(
        InputFileError,
        match=r"unknown file type '\.dwg'.*use one of \.gpkg, .*\.shp, .*\.csv.*\.xlsx",
    ):
        read_layer(path, "grids")


def test_missing_file(tmp_path):
    with pytest.raises(InputFileError, match=r"nothere\.gpkg: 文件不存在 / file not found"):
        read_layer(tmp_path / "nothere.gpkg", "grids")


def test_corrupt_geopackage(tmp_path):
    path = tmp_path / "broken.gpkg"
    path.write_bytes(np.random.default_rng(0).bytes(8192))
    with pytest.raises(
        InputFileError, match=r"broken\.gpkg: 文件无法读取.* / cannot read the file"
    ) as info:
        read_layer(path, "grids")
    assert info.value.hint


def test_truncated_geoparquet(tmp_path, grids):
    path = tmp_path / "cut.parquet"
    grids.to_parquet(path)
    path.write_bytes(path.read_bytes()[:200])
    with pytest.raises(
        InputFileError, match=r"cut\.parquet: 文件无法读取.* / cannot read the file"
    ):
        read_layer(path, "grids")


def test_table_in_a_geo_format_without_geometry(tmp_path):
    path = tmp_path / "table.gpkg"
    pyogrio.write_dataframe(pd.DataFrame({"grid_code": ["1"]}), path, layer="grids")
    with pytest.raises(InputFileError, match=r"the layer has no geometry.*use CSV or XLSX"):
        read_layer(path, "grids")


def test_read_outline(tmp_path):
    halves = gpd.GeoDataFrame(
        geometry=[
            shapely.box(X0, Y0, X0 + 500, Y0 + 1000),
            shapely.box(X0 + 500, Y0, X0 + 1000, Y0 + 1000),
        ],
        crs=METRIC,
    ).to_crs("EPSG:4326")
    path = tmp_path / "outline.geojson"
    pyogrio.write_dataframe(halves, path, driver="GeoJSON")
    outline = read_outline(path)
    assert outline.geom_type == "Polygon"
    assert outline.area == pytest.approx(1_000_000, rel=1e-6)
    np.testing.assert_allclose(outline.bounds, (X0, Y0, X0 + 1000, Y0 + 1000), atol=1e-3)
    with pytest.raises(InputFileError, match=r"file not found"):
        read_outline(tmp_path / "nope.geojson")


# --------------------------------------------------------------------------- tables


def texts(values) -> list[str | None]:
    """Values as a list, missing ones as None (pandas 3 stores them as NaN in str columns)."""
    return [None if pd.isna(v) else v for v in values]


def expected_metric(lon, lat):
    x, y = TO_METRIC.transform(np.asarray(lon, dtype=float), np.asarray(lat, dtype=float))
    return np.column_stack([x, y])


def issue_table() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "工单号": ["0012", "0013", "0014"],
            "经度": [f"{LON}", f"{LON + 0.01}", f"{LON - 0.01}"],
            "纬度": [f"{LAT}", f"{LAT + 0.01}", f"{LAT - 0.01}"],
            "网格编码": ["0320924101001001", "320924101001002", ""],
        }
    )


@pytest.mark.parametrize("encoding", ["utf-8-sig", "gb18030"])
def test_csv_with_chinese_headers(tmp_path, encoding):
    path = tmp_path / "issues.csv"
    issue_table().to_csv(path, index=False, encoding=encoding)
    if encoding == "gb18030":
        with pytest.raises(UnicodeDecodeError):
            path.read_bytes().decode("utf-8")  # really not UTF-8
    got = read_layer(path, "issues")
    assert list(got.source_row) == [2, 3, 4]  # the header is row 1
    assert texts(got.ticket_id) == ["0012", "0013", "0014"]
    assert texts(got.grid_code) == ["0320924101001001", "320924101001002", None]
    assert list(got.coord_problem) == ["", "", ""]
    np.testing.assert_allclose(got.lon, [LON, LON + 0.01, LON - 0.01])
    assert got.crs == METRIC
    xy = shapely.get_coordinates(got.geometry.to_numpy())
    np.testing.assert_allclose(xy, expected_metric(got.lon, got.lat), atol=1e-6)


def test_xlsx(tmp_path):
    path = tmp_path / "issues.xlsx"
    table = issue_table()
    table["经度"] = table["经度"].astype(float)  # numbers in Excel cells
    table["纬度"] = table["纬度"].astype(float)
    table["网格编码"] = [320924101001001.0, 320924101001002.0, np.nan]
    table.to_excel(path, index=False)
    got = read_layer(path, "issues")
    assert list(got.source_row) == [2, 3, 4]
    assert texts(got.ticket_id) == ["0012", "0013", "0014"]  # text cells keep their zeros
    assert texts(got.grid_code) == ["320924101001001", "320924101001002", None]
    xy = shapely.get_coordinates(got.geometry.to_numpy())
    np.testing.assert_allclose(xy, expected_metric(got.lon, got.lat), atol=1e-6)


def test_csv_codes_written_as_floats_lose_dot_zero(tmp_path):
    path = tmp_path / "floats.csv"
    path.write_text(
        "lon,lat,grid_code,ticket_id\n"
        f"{LON},{LAT},320924101001001.0,0007\n"
        f"{LON},{LAT},320924101001002,A12.0\n",
        encoding="utf-8",
    )
    got = read_layer(path, "issues")
    assert texts(got.grid_code) == ["320924101001001", "320924101001002"]
    assert texts(got.ticket_id) == ["0007", "A12.0"]  # not a number: left as typed


def test_csv_columns_mapping(tmp_path):
    path = tmp_path / "mapped.csv"
    path.write_text(f"E,N,WGBM\n{LON},{LAT},320924101001001\n", encoding="utf-8")
    with pytest.raises(InputFileError, match=r"no lon column.*--columns lon=<column>"):
        read_layer(path, "issues")
    got = read_layer(path, "issues", columns="lon=E,lat=N,grid_code=WGBM")
    assert texts(got.grid_code) == ["320924101001001"]
    np.testing.assert_allclose(
        shapely.get_coordinates(got.geometry.to_numpy()), expected_metric([LON], [LAT]), atol=1e-6
    )


def test_csv_per_row_coord_sys(tmp_path):
    lon = np.array([LON, LON + 0.02, LON - 0.02, LON + 0.03, LON])
    lat = np.array([LAT, LAT + 0.01, LAT - 0.01, LAT + 0.02, LAT + 0.005])
    systems = ["gcj02", "bd09", "wgs84", "cgcs2000", ""]  # empty: the --coords default
    path = tmp_path / "mixed.csv"
    pd.DataFrame({"lon": lon, "lat": lat, "coord_sys": systems}).to_csv(path, index=False)
    got = read_layer(path, "issues", coords="gcj02")
    want_lon, want_lat = lon.copy(), lat.copy()
    want_lon[0], want_lat[0] = gcj02_to_wgs84(lon[0], lat[0])
    want_lon[1], want_lat[1] = bd09_to_wgs84(lon[1], lat[1])
    want_lon[4], want_lat[4] = gcj02_to_wgs84(lon[4], lat[4])
    xy = shapely.get_coordinates(got.geometry.to_numpy())
    np.testing.assert_allclose(xy, expected_metric(want_lon, want_lat), atol=1e-3)
    assert list(got.coord_sys) == ["gcj02", "bd09", "wgs84", "cgcs2000", "gcj02"]
    np.testing.assert_array_equal(got.lon, lon)  # the columns keep what the file said
    # GCJ-02 is hundreds of metres off WGS84 here: the conversion really happened.
    raw = expected_metric(lon[:1], lat[:1])
    assert 300 < np.hypot(*(raw[0] - xy[0])) < 700


def test_csv_unknown_coord_sys(tmp_path):
    path = tmp_path / "mars.csv"
    path.write_text(f"lon,lat,coord_sys\n{LON},{LAT},mars\n", encoding="utf-8")
    with pytest.raises(InputFileError, match=r"mars\.csv: coord_sys has unknown value\(s\) 'mars'"):
        read_layer(path, "issues")


def test_csv_bad_coordinates_are_kept_and_flagged(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text(
        "工单号,经度,纬度\n"
        f"A,{LON},{LAT}\n"  # row 2: fine
        f"B,,{LAT}\n"  # row 3: empty lon
        f"C,东经120度,{LAT}\n"  # row 4: not a number
        f"D,{LON},95\n"  # row 5: latitude out of range
        f"E,190,{LAT}\n"  # row 6: longitude out of range
        f"F,{LAT},{LON}\n"  # row 7: swapped
        ",,\n"  # row 8: nothing at all
        f"H,{LON},{LAT}\n",  # row 9: fine
        encoding="utf-8-sig",
    )
    got = read_layer(path, "issues")
    assert list(got.source_row) == [2, 3, 4, 5, 6, 7, 8, 9]
    assert texts(got.ticket_id) == ["A", "B", "C", "D", "E", "F", None, "H"]
    assert list(got.coord_problem) == [
        "",
        NO_COORDS,
        NO_COORDS,
        NO_COORDS,
        NO_COORDS,
        SWAPPED,
        NO_COORDS,
        "",
    ]
    usable = got.coord_problem == ""
    assert got.geometry[usable].notna().all()
    assert got.geometry[~usable].isna().all()


def test_csv_neither_utf8_nor_gb18030(tmp_path):
    path = tmp_path / "utf16.csv"
    path.write_bytes("经度,纬度\n120,33\n".encode("utf-16"))
    with pytest.raises(InputFileError, match=r"neither UTF-8 nor GB18030.*save the file as UTF-8"):
        read_layer(path, "issues")


def test_geo_points_in_gcj02(tmp_path):
    lon, lat = np.array([LON, LON + 0.01]), np.array([LAT, LAT])
    frame = gpd.GeoDataFrame(
        {"ticket_id": ["1", "2"]}, geometry=gpd.points_from_xy(lon, lat), crs="EPSG:4326"
    )
    path = tmp_path / "gcj.geojson"
    pyogrio.write_dataframe(frame, path, driver="GeoJSON")
    got = read_layer(path, "issues", coords="gcj02")
    want = np.column_stack(gcj02_to_wgs84(lon, lat))
    np.testing.assert_allclose(
        shapely.get_coordinates(got.geometry.to_numpy()),
        expected_metric(want[:, 0], want[:, 1]),
        atol=1e-3,
    )


def test_coords_option_refuses_polygons(tmp_path, grids):
    path = tmp_path / "g.geojson"
    pyogrio.write_dataframe(grids.to_crs("EPSG:4326"), path, driver="GeoJSON")
    with pytest.raises(InputFileError, match=r"--coords gcj02 applies to points only"):
        read_layer(path, "grids", coords="gcj02")


# --------------------------------------------------------------------------- writing


@pytest.fixture
def result() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {
            "ticket_id": ["0012", "0013"],
            "grid_code": ["0320924101001001", ""],
            "备注": ["甲", "乙"],
        },
        geometry=[shapely.Point(X0 + 10, Y0 + 10), None],
        crs=METRIC,
    )


def test_write_csv_has_bom_and_no_geometry(tmp_path, result):
    path = write_output(result, tmp_path / "out" / "r.csv")
    assert path == tmp_path / "out" / "r.csv"
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    back = pd.read_csv(path, dtype=str, encoding="utf-8-sig", keep_default_na=False)
    assert list(back.columns) == ["ticket_id", "grid_code", "备注"]
    assert list(back.grid_code) == ["0320924101001001", ""]


def test_write_xlsx(tmp_path, result):
    path = write_output(result, tmp_path / "r.xlsx")
    back = pd.read_excel(path, dtype=str)
    assert list(back.columns) == ["ticket_id", "grid_code", "备注"]
    assert list(back.ticket_id) == ["0012", "0013"]


def test_write_gpkg_named_layer(tmp_path, result):
    write_output(result, f"{tmp_path / 'r.gpkg'}:assigned")
    assert [str(n) for n in pyogrio.list_layers(tmp_path / "r.gpkg")[:, 0]] == ["assigned"]
    back = read_layer(f"{tmp_path / 'r.gpkg'}:assigned", "issues")
    assert list(back.ticket_id) == ["0012", "0013"]
    assert back.geometry.iloc[0].equals(result.geometry.iloc[0])
    write_output(result, tmp_path / "d.gpkg", layer="issues")
    assert [str(n) for n in pyogrio.list_layers(tmp_path / "d.gpkg")[:, 0]] == ["issues"]


def test_write_geojson_is_wgs84(tmp_path, result):
    path = write_output(result, tmp_path / "r.geojson")
    back = pyogrio.read_dataframe(path)
    assert back.crs == "EPSG:4326"
    assert back.geometry.iloc[0].x == pytest.approx(result.to_crs("EPSG:4326").geometry.iloc[0].x)


def test_write_parquet(tmp_path, result):
    path = write_output(result, tmp_path / "r.parquet")
    back = gpd.read_parquet(path)
    assert back.crs == METRIC
    assert list(back.ticket_id) == ["0012", "0013"]


def test_write_unknown_type(tmp_path, result):
    with pytest.raises(InputFileError, match=r"cannot write '\.shp'.*use \.csv, \.xlsx, \.gpkg"):
        write_output(result, tmp_path / "r.shp")


@pytest.mark.parametrize("epsg", [4490, 4549, 4326, 3857])
def test_any_crs_is_read_into_the_metric_crs(tmp_path, epsg):
    """CGCS2000 (geographic and GK zone 40), WGS84 and Web Mercator all land in EPSG:4549."""
    square = shapely.box(520_000, 3_735_000, 520_500, 3_735_400)
    truth = gpd.GeoDataFrame({"grid_code": ["320924101001001"]}, geometry=[square], crs="EPSG:4549")
    path = tmp_path / f"grids_{epsg}.gpkg"
    truth.to_crs(epsg=epsg).to_file(path, layer="grids")
    got = read_layer(path, "grids")
    assert got.crs == "EPSG:4549"
    assert got.geometry.iloc[0].equals_exact(square, tolerance=1e-3)  # within a millimetre


def test_service_points_from_a_chinese_csv_in_gcj02(tmp_path):
    wgs = (120.26, 33.78)
    lon, lat = crs.wgs84_to_gcj02(*wgs)
    path = tmp_path / "设施.csv"
    pd.DataFrame(
        {
            "设施编码": ["S1"],
            "设施类型": ["党群服务中心"],
            "名称": ["甲社区党群服务中心"],
            "经度": [float(lon)],
            "纬度": [float(lat)],
        }
    ).to_csv(path, index=False, encoding="gb18030")
    got = read_layer(path, "service_points", coords="gcj02")
    assert list(got.columns[:4]) == ["source_row", "service_id", "service_type", "name"]
    back = got.to_crs("EPSG:4326").geometry.iloc[0]
    assert abs(back.x - wgs[0]) < 1e-8 and abs(back.y - wgs[1]) < 1e-8
