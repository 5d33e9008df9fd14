"""The dashboard's store and county loading: GeoPackage by default, PostGIS when configured."""

from __future__ import annotations

import uuid
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
import shapely

from geo.county import default_store, load_county
from geo.demo import DEMO_FILENAME
from geo.settings import Settings
from geo.store import GeoPackageStore, PostGISStore, write_geopackage

CRS = "EPSG:4549"


def _square(x: float, y: float, size: float = 100.0) -> shapely.Polygon:
    return shapely.box(x, y, x + size, y + size)


def _tiny_county() -> dict[str, pd.DataFrame]:
    """Two grids in one village in one town, three issues (one without coordinates)."""
    base_x, base_y = 500_000.0, 3_740_000.0
    g1, g2 = _square(base_x, base_y), _square(base_x + 100, base_y)
    grids = gpd.GeoDataFrame(
        {
            "grid_code": ["320924101001001", "320924101001002"],
            "grid_name": ["甲社区第1网格", "甲社区第2网格"],
            "village_code": ["320924101001"] * 2,
            "town_code": ["320924101"] * 2,
            "households": [80, 90],
            "residents": [200, 250],
            "grid_worker": ["张三", "李四"],
        },
        geometry=[g1, g2],
        crs=CRS,
    )
    villages = gpd.GeoDataFrame(
        {
            "village_code": ["320924101001"],
            "village_name": ["甲社区"],
            "town_code": ["320924101"],
            "kind": ["社区"],
            "residents": [450],
        },
        geometry=[shapely.union_all([g1, g2])],
        crs=CRS,
    )
    towns = gpd.GeoDataFrame(
        {"town_code": ["320924101"], "town_name": ["合德镇"], "kind": ["镇"], "residents": [450]},
        geometry=[shapely.union_all([g1, g2])],
        crs=CRS,
    )
    issues = gpd.GeoDataFrame(
        {
            "ticket_id": ["RX1", "RX2", "RX3"],
            "source": ["12345"] * 3,
            "request_type": ["投诉", "咨询", "求助"],
            "received_at": pd.to_datetime(
                ["2026-11-02 09:00", "2026-11-03 10:00", "2026-11-04 11:00"]
            ),
            "category": ["环境卫生", "噪音扰民", "环境卫生"],
            "status": ["已办结", "处理中", "处理中"],
            "closed_at": pd.to_datetime(["2026-11-05 09:00", None, None]),
            "resolution_level": ["网格", "", ""],
            "satisfaction": ["满意", "", ""],
            "grid_code": ["320924101001001", "320924101001002", ""],
            "village_code": ["320924101001", "320924101001", ""],
            "town_code": ["320924101", "320924101", ""],
            "assign_problem": ["", "", "无坐标或坐标无法解析 / missing or unparseable coordinates"],
        },
        geometry=[
            shapely.Point(base_x + 50, base_y + 50),
            shapely.Point(base_x + 150, base_y + 50),
            None,
        ],
        crs=CRS,
    )
    meta = pd.DataFrame({"key": ["synthetic", "as_of"], "value": ["true", "2026-11-20T23:59:59"]})
    return {"towns": towns, "villages": villages, "grids": grids, "issues": issues, "meta": meta}


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    """A data folder that already holds a (tiny) demo GeoPackage, so nothing is generated."""
    write_geopackage(tmp_path / DEMO_FILENAME, _tiny_county())
    return tmp_path


def _check_county(store) -> None:
    county = load_county(store)
    assert list(county.grids.grid_code) == ["320924101001001", "320924101001002"]
    assert county.synthetic
    assert county.as_of == pd.Timestamp("2026-11-20 23:59:59")
    assert len(county.issues) == 3  # the row without coordinates is kept
    assert isinstance(county.issues["category"].dtype, pd.CategoricalDtype)
    # 咨询 received Tuesday 2026-11-03 is due 3 working days later, Friday 11-06.
    due = county.issues.set_index("ticket_id")["due_at"]
    assert due["RX2"] == pd.Timestamp("2026-11-06 23:59:59")


def test_geopackage_store_by_default(data_dir: Path) -> None:
    store = default_store(Settings(data_dir=data_dir))
    assert isinstance(store, GeoPackageStore)
    assert Path(store.location) == data_dir / DEMO_FILENAME
    _check_county(store)


def test_missing_layers_are_named(tmp_path: Path) -> None:
    write_geopackage(tmp_path / DEMO_FILENAME, {"grids": _tiny_county()["grids"]})
    store = default_store(Settings(data_dir=tmp_path))
    with pytest.raises(ValueError, match=r"missing layers \['towns', 'villages', 'issues'\]"):
        load_county(store)


@pytest.mark.postgis
def test_empty_postgis_is_seeded_with_the_demo_once(data_dir: Path, postgis_url: str) -> None:
    schema = f"t_county_{uuid.uuid4().hex[:8]}"
    settings = Settings(data_dir=data_dir, database_url=postgis_url, db_schema=schema)
    try:
        store = default_store(settings)
        assert isinstance(store, PostGISStore)
        assert {"towns", "villages", "grids", "issues", "meta"} <= set(store.layers())
        version = store.version()
        _check_county(store)
        again = default_store(settings)
        assert again.version() == version  # not seeded a second time
    finally:
        from sqlalchemy import create_engine, text

        with create_engine(postgis_url).begin() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
