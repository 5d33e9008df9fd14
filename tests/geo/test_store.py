"""The same store tests against a GeoPackage file and a PostGIS schema (geo.store.gpkg and
geo.store.postgis)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import geopandas as gpd
import pandas as pd
import pytest
import shapely
from geopandas.testing import assert_geodataframe_equal

from geo.store.base import Store, StoreError, open_store
from geo.store.gpkg import GeoPackageStore
from geo.store.postgis import PostGISStore

METRIC = "EPSG:4549"
X0, Y0 = 524_000.0, 3_737_000.0


@pytest.fixture(params=["gpkg", pytest.param("postgis", marks=pytest.mark.postgis)])
def store(request: pytest.FixtureRequest, tmp_path) -> Iterator[Store]:
    """An empty store of each kind; PostGIS gets a schema of its own, dropped afterwards."""
    if request.param == "gpkg":
        yield GeoPackageStore(tmp_path / "store.gpkg")
        return
    from sqlalchemy import text

    url = request.getfixturevalue("postgis_url")
    schema = f"gridgov_test_{uuid.uuid4().hex[:12]}"
    pg = PostGISStore(url, schema=schema)
    try:
        yield pg
    finally:
        with pg.engine.begin() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        pg.engine.dispose()


@pytest.fixture
def grids() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {
            "grid_code": ["0320924101001001", "320924101001002", "320924101001003"],
            "grid_name": ["振阳社区第1网格", "振阳社区第2网格", "黄沙港村第3网格"],
            "households": [95, 120, 0],
            "share": [0.25, 1.5, float("nan")],
            "updated_at": pd.to_datetime(
                ["2026-11-20 18:00:01", "2025-01-28 09:30:00", "2024-11-21 00:00:00"]
            ),
        },
        geometry=[
            shapely.box(X0, Y0, X0 + 100, Y0 + 100),
            shapely.Polygon(
                [(X0 + 100, Y0), (X0 + 200, Y0), (X0 + 200, Y0 + 100), (X0 + 100, Y0 + 100)],
                holes=[[(X0 + 140, Y0 + 40), (X0 + 160, Y0 + 40), (X0 + 160, Y0 + 60)]],
            ),
            shapely.MultiPolygon(
                [
                    shapely.box(X0 + 200, Y0, X0 + 300, Y0 + 100),
                    shapely.box(X0, Y0 + 200, X0 + 50, Y0 + 250),
                ]
            ),
        ],
        crs=METRIC,
    )


@pytest.fixture
def meta() -> pd.DataFrame:
    return pd.DataFrame(
        {"key": ["synthetic", "seed", "note"], "value": ["true", "0", "示例数据（合成）"]}
    )


def assert_same_layer(got: pd.DataFrame, expected: pd.DataFrame) -> None:
    if isinstance(expected, gpd.GeoDataFrame):
        assert isinstance(got, gpd.GeoDataFrame)
        assert got.crs == expected.crs
        # check_dtype=False: the backends legitimately differ in datetime resolution
        # (GeoPackage ms, PostGIS us, pandas s/us); check_geom_type=False: a GeoPackage
        # layer mixing Polygon and MultiPolygon is stored as MultiPolygon.
        assert_geodataframe_equal(
            got, expected, check_dtype=False, check_geom_type=False, check_like=False
        )
    else:
        assert not isinstance(got, gpd.GeoDataFrame)
        pd.testing.assert_frame_equal(got, expected, check_dtype=False)


def test_empty_store(store):
    assert store.layers() == []
    with pytest.raises(StoreError, match=r"no (layer|table) 'grids'; it has \[\]"):
        store.read("grids")


def test_round_trip(store, grids, meta):
    store.write({"grids": grids, "meta": meta})
    assert sorted(store.layers()) == ["grids", "meta"]
    back = store.read("grids")
    assert_same_layer(back, grids)
    assert back.crs.to_epsg() == 4549
    assert list(back.grid_code) == ["0320924101001001", "320924101001002", "320924101001003"]
    assert back.grid_name.iloc[2] == "黄沙港村第3网格"
    assert back.updated_at.iloc[0] == pd.Timestamp("2026-11-20 18:00:01")
    assert_same_layer(store.read("meta"), meta)


def test_version_changes_after_each_write(store, grids, meta):
    before = store.version()
    store.write({"grids": grids})
    first = store.version()
    assert first != before
    store.write({"meta": meta})
    second = store.version()
    assert second != first
    store.write({"grids": grids.iloc[:1]})  # replacing a geometry layer a second time
    third, third_grids = store.version(), store.version(["grids"])
    assert third != second
    # reading changes nothing
    assert_same_layer(store.read("grids"), grids.iloc[:1])
    assert_same_layer(store.read("meta"), meta)
    assert sorted(store.layers()) == ["grids", "meta"]
    assert store.version() == third
    assert store.version(["grids"]) == third_grids


def test_layer_version_ignores_other_tables(store, grids, meta):
    """The county cache keys on its layers' version: a draft table's write must not move it."""
    store.write({"grids": grids, "meta": meta})
    before = store.version(["grids"])
    whole = store.version()
    with store.transaction() as tx:  # like a planner saving a draft
        tx.append("meta", meta.iloc[:1])
    assert store.version() != whole
    assert store.version(["grids"]) == before
    with store.transaction() as tx:
        tx.update(
            "grids",
            pd.DataFrame({"grid_code": [grids.grid_code.iloc[0]], "households": [999]}),
            key="grid_code",
        )
    assert store.version(["grids"]) != before


def test_writing_one_layer_keeps_the_others(store, grids, meta):
    store.write({"grids": grids, "meta": meta})
    store.write({"meta": meta.iloc[:1]})
    assert sorted(store.layers()) == ["grids", "meta"]
    assert_same_layer(store.read("grids"), grids)
    assert_same_layer(store.read("meta"), meta.iloc[:1])


def test_writing_several_layers_at_once(store, grids, meta):
    villages = gpd.GeoDataFrame(
        {"village_code": ["320924101001"]},
        geometry=[shapely.box(X0, Y0, X0 + 300, Y0 + 300)],
        crs=METRIC,
    )
    store.write({"grids": grids, "villages": villages, "meta": meta})
    assert sorted(store.layers()) == ["grids", "meta", "villages"]
    assert_same_layer(store.read("villages"), villages)
    assert_same_layer(store.read("grids"), grids)


BAD_FRAMES = {
    # A column of Python dicts: PostGIS cannot adapt them, a GeoPackage would keep repr text.
    "dicts": pd.DataFrame({"key": ["a", "b"], "value": [{"x": 1}, {"y": 2}]}),
    "lists": pd.DataFrame({"key": ["a", "b"], "value": ["ok", [1, 2]]}),
    # Complex numbers fail inside the backend's own writer, after earlier layers were written.
    "complex": pd.DataFrame({"key": ["a", "b"], "value": [1 + 2j, 3j]}),
}
BAD_MESSAGES = {
    "dicts": r"layer 'meta': column 'value' holds dict values \(first in row 1\)",
    "lists": r"layer 'meta': column 'value' holds list values \(first in row 2\)",
    "complex": r"saving failed, the previous version is kept",
}


@pytest.mark.parametrize("bad", list(BAD_FRAMES))
def test_failed_write_keeps_the_previous_content(store, grids, meta, bad):
    store.write({"grids": grids, "meta": meta})
    version = store.version()
    changed = grids.assign(households=[1, 2, 3])
    with pytest.raises(StoreError, match=BAD_MESSAGES[bad]):
        # grids comes first and is fine: all layers or none must still hold.
        store.write({"grids": changed, "meta": BAD_FRAMES[bad]})
    assert store.version() == version
    assert sorted(store.layers()) == ["grids", "meta"]
    assert_same_layer(store.read("grids"), grids)
    assert_same_layer(store.read("meta"), meta)


def test_nested_values_are_refused_before_anything_is_written(store):
    with pytest.raises(StoreError, match=BAD_MESSAGES["dicts"] + r".*json\.dumps"):
        store.write({"meta": BAD_FRAMES["dicts"]})
    assert store.layers() == []


@pytest.mark.parametrize(
    "name", ["Grids", "grids-2026", "1grids", "网格", "grids; DROP TABLE meta", "", "a" * 64]
)
def test_bad_layer_names_are_refused(store, meta, name):
    store.write({"meta": meta})
    with pytest.raises(StoreError, match=r"layer name .* is not allowed; use lower-case letters"):
        store.write({name: meta})
    assert store.layers() == ["meta"]


def test_gpkg_failed_write_leaves_no_temporary_file(tmp_path, grids):
    store = GeoPackageStore(tmp_path / "store.gpkg")
    store.write({"grids": grids})
    with pytest.raises(StoreError, match=r"saving failed"):
        store.write({"meta": BAD_FRAMES["complex"]})
    assert sorted(p.name for p in tmp_path.iterdir()) == ["store.gpkg"]


@pytest.mark.postgis
def test_postgis_error_does_not_echo_row_values(postgis_url):
    # A failed INSERT must not put a caller's phone number into the message a page shows.
    from sqlalchemy import make_url, text

    schema = f"gridgov_test_{uuid.uuid4().hex[:12]}"
    pg = PostGISStore(postgis_url, schema=schema)
    try:
        frame = pd.DataFrame({"caller_phone": ["13812345678"], "value": [1 + 2j]})
        with pytest.raises(StoreError, match=r"saving failed") as info:
            pg.write({"issues": frame})
        assert "13812345678" not in str(info.value)
        password = make_url(postgis_url).password  # whatever database the tests were given
        assert not password or str(password) not in str(info.value)
    finally:
        with pg.engine.begin() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        pg.engine.dispose()


@pytest.mark.postgis
def test_postgis_accepts_libpq_style_urls(postgis_url):
    from sqlalchemy import make_url, text

    libpq = make_url(postgis_url).set(drivername="postgresql").render_as_string(hide_password=False)
    assert libpq.startswith("postgresql://")
    schema = f"gridgov_test_{uuid.uuid4().hex[:12]}"
    pg = PostGISStore(libpq, schema=schema)
    try:
        assert pg.layers() == []
        assert ":***@" in pg.location
    finally:
        with pg.engine.begin() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        pg.engine.dispose()


def test_open_store_dispatch(tmp_path):
    gpkg = open_store(tmp_path / "a.gpkg")
    assert isinstance(gpkg, GeoPackageStore)
    assert gpkg.location == str(tmp_path / "a.gpkg")
    assert isinstance(open_store(str(tmp_path / "b.gpkg")), GeoPackageStore)
    # A PostgreSQL URL goes to PostGIS: nothing listens on port 9, so opening fails, and
    # the message hides the password.
    for url in (
        "postgresql+psycopg://gridgov:s3cret@127.0.0.1:9/gridgov",
        "postgresql://gridgov:s3cret@127.0.0.1:9/gridgov",
        "postgres://gridgov:s3cret@127.0.0.1:9/gridgov",
    ):
        with pytest.raises(
            StoreError,
            match=r"cannot open PostGIS store postgresql\+psycopg://gridgov:\*\*\*@127\.0\.0\.1:9",
        ) as info:
            open_store(url)
        assert "s3cret" not in str(info.value)


def test_postgis_schema_name_is_checked():
    with pytest.raises(StoreError, match=r"layer name 'My Schema' is not allowed"):
        PostGISStore("postgresql+psycopg://u:p@127.0.0.1:9/db", schema="My Schema")


def test_point_envelopes_are_read_from_the_blob_in_either_byte_order():
    import struct

    import shapely

    from geo.store.gpkg import _gpkg_encode, _gpkg_envelope

    points = shapely.points([[524_001.5, 3_737_002.25], [-1.0, 2.0]])
    for blob, point in zip(_gpkg_encode(points, 4549), points, strict=True):
        x, y = point.x, point.y
        assert _gpkg_envelope(blob) == (x, x, y, y)
        big = blob[:8] + shapely.to_wkb(point, byte_order=0, flavor="iso")
        assert _gpkg_envelope(big) == (x, x, y, y)
    line = _gpkg_encode(shapely.linestrings([[[0, 0], [3, 4]]]), 4549)[0]
    assert _gpkg_envelope(line) == (0.0, 3.0, 0.0, 4.0)
    assert struct.unpack_from("<i", line, 4)[0] == 4549
