"""The dashboard's store and county loading: GeoPackage by default, PostGIS when configured."""

from __future__ import annotations

import uuid
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
import shapely

from geo.cli import main as cli_main
from geo.core.scope import Scope
from geo.core.settings import DEMO_FILENAME, Settings
from geo.demo import build as demo_build
from geo.store.base import StoreError, open_store
from geo.store.county import default_store, load_county
from geo.store.gpkg import GeoPackageStore, write_geopackage
from geo.store.postgis import PostGISStore

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
            "assign_problem": ["", "", "no_coords"],
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
    county = load_county(store, scope=Scope.county())
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
    with pytest.raises(ValueError, match=r"missing layers \['towns', 'villages'\]"):
        load_county(store, scope=Scope.county())


def test_a_missing_demo_file_is_an_error_that_names_the_command(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match=r"does not exist: python -m geo demo --out"):
        default_store(Settings(data_dir=tmp_path))
    assert not (tmp_path / DEMO_FILENAME).exists()  # nothing was generated on the side


@pytest.mark.postgis
def test_an_empty_postgis_is_never_seeded_behind_the_users_back(
    data_dir: Path, postgis_url: str, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    schema = f"t_county_{uuid.uuid4().hex[:8]}"
    settings = Settings(data_dir=data_dir, database_url=postgis_url, db_schema=schema)
    try:
        # A mistyped schema of a real deployment: an error naming the way out, no demo data.
        with pytest.raises(StoreError, match=r"holds no grid layer.*python -m geo demo --store"):
            default_store(settings)
        assert "grids" not in open_store(postgis_url, schema=schema).layers()

        # Seeding is explicit: `python -m geo demo --store URL` (a tiny county stands in).
        monkeypatch.setattr(demo_build, "generate", lambda **_: _tiny_county())
        assert cli_main(["demo", "--store", postgis_url, "--schema", schema]) == 0
        store = default_store(settings)
        assert isinstance(store, PostGISStore)
        version = store.version()
        _check_county(store)
        # A second run refuses to write over a county.
        assert cli_main(["demo", "--store", postgis_url, "--schema", schema]) == 2
        assert "already holds grids" in capsys.readouterr().err
        assert default_store(settings).version() == version
    finally:
        from sqlalchemy import create_engine, text

        with create_engine(postgis_url).begin() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))


def test_a_ticket_stored_twice_counts_once(tmp_path: Path) -> None:
    from geo.core.settings import reset_county
    from tests.synthetic_county import onboard_synthetic_county

    store = onboard_synthetic_county(open_store(tmp_path / "county.gpkg"))
    try:
        issues = store.read("issues")
        store.write({"issues": pd.concat([issues, issues.iloc[:20]], ignore_index=True)})
        county = load_county(store, scope=Scope.county())
        assert len(county.issues) == len(issues)
        assert county.issues["ticket_id"].is_unique
    finally:
        reset_county()
