"""Onboarding a real county: zone choice, code and name inference, layers made from the grids,
meta written and read back, version 1, blocking errors, refusing a filled store, the CLI and
``GRIDGOV_STORE``. The county is :mod:`tests.synthetic_county` (中原测试县, 113.6°E)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pyogrio
import pytest
import shapely

from geo.cli.main import main as cli_main
from geo.core.crs import gauss_kruger_crs
from geo.core.errors import InputProblems
from geo.core.scope import Scope
from geo.core.settings import get_settings, reset_county
from geo.intake import onboard_county
from geo.planning._versions_model import content_hash
from geo.planning.versions import VersionedGrids
from geo.store.base import StoreError, open_store
from geo.store.county import default_store, load_county, read_meta
from tests.synthetic_county import (
    COUNTY_CODE,
    COUNTY_NAME,
    ZONE_CRS,
    synthetic_grids,
    write_synthetic_grids,
)

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    ("lon", "epsg"),
    [
        (75.0, 4534),  # CM 75E, the first zone
        (87.6, 4538),  # Urumqi: CM 87E
        (101.7, 4543),  # Xining: CM 102E
        (113.6, 4547),  # Zhengzhou: CM 114E
        (118.49, 4548),  # just west of the 118.5° boundary: CM 117E
        (118.5, 4549),  # on the boundary: the eastern zone
        (120.25, 4549),  # Sheyang: CM 120E
        (126.6, 4551),  # Harbin: CM 126E
        (135.0, 4554),  # CM 135E, the last zone
    ],
)
def test_the_zone_is_the_nearest_central_meridian(lon: float, epsg: int) -> None:
    import pyproj

    crs = gauss_kruger_crs(lon)
    assert crs == f"EPSG:{epsg}"
    cm = [
        p.value
        for p in pyproj.CRS(crs).coordinate_operation.params
        if p.name == "Longitude of natural origin"
    ]
    assert abs(cm[0] - lon) <= 1.5


@pytest.mark.parametrize("lon", [10.0, 73.0, 136.6, float("nan")])
def test_a_longitude_outside_the_zones_is_refused(lon: float) -> None:
    with pytest.raises(ValueError, match=r"outside China's 3-degree Gauss-Kruger zones"):
        gauss_kruger_crs(lon)


@pytest.fixture
def grids_file(tmp_path: Path) -> Path:
    """The synthetic county's grids in WGS84, without village or town names."""
    return write_synthetic_grids(tmp_path / "grids.gpkg")


def _codes(report) -> set[str]:
    return {p.code for p in report.warnings}


def test_onboarding_infers_the_county_and_makes_the_missing_layers(
    grids_file: Path, tmp_path: Path
) -> None:
    store = open_store(tmp_path / "county.gpkg")
    report = onboard_county(grids_file, store=store)
    assert report.written and report.ok and report.version == 1
    assert (report.county_code, report.metric_crs) == (COUNTY_CODE, ZONE_CRS)
    assert report.county_name == COUNTY_CODE  # no name given: the code stands in …
    assert {"county_name_missing", "villages_dissolved", "towns_dissolved"} <= _codes(report)
    assert "households_stand_in" in _codes(report)  # … and each stand-in is said
    assert (report.grids, report.villages, report.towns) == (48, 3, 2)

    villages = store.read("villages")
    assert sorted(villages.village_code) == ["410199001001", "410199001002", "410199002001"]
    assert (villages.village_name == villages.village_code).all()  # names fall back to codes
    assert villages.crs == ZONE_CRS
    grids = store.read("grids")
    towns = store.read("towns").set_index("town_code")
    assert (
        towns.loc["410199001", "residents"] == grids[grids.town_code == "410199001"].residents.sum()
    )
    # The towns tile the grids exactly: same area, one polygon each.
    assert towns.geometry.area.sum() == pytest.approx(grids.geometry.area.sum(), rel=1e-9)
    assert grids.geometry.area.sum() == pytest.approx(48 * 400 * 300, rel=1e-6)
    outline = store.read("outline")
    assert outline.geometry.iloc[0].area == pytest.approx(48 * 400 * 300, rel=1e-6)


def test_names_in_the_grid_layer_name_the_dissolved_villages_and_towns(tmp_path: Path) -> None:
    store = open_store(tmp_path / "county.gpkg")
    report = onboard_county(synthetic_grids(with_names=True), store=store, county_name=COUNTY_NAME)
    assert report.county_name == COUNTY_NAME and "county_name_missing" not in _codes(report)
    towns = store.read("towns").set_index("town_code")["town_name"].to_dict()
    assert towns == {"410199001": "东城镇", "410199002": "西河乡"}
    villages = store.read("villages").set_index("village_code")["village_name"]
    assert villages["410199001002"] == "南街社区"


def test_stand_in_households_keep_each_grids_residents(tmp_path: Path) -> None:
    given = synthetic_grids()
    store = open_store(tmp_path / "county.gpkg")
    report = onboard_county(given, store=store, county_name=COUNTY_NAME)
    homes = store.read("households")
    assert report.population_approximate and report.households == len(homes) == 48 * 4
    per_grid = homes.groupby("grid_code")["residents"].sum()
    expected = given.set_index("grid_code")["residents"]
    pd.testing.assert_series_equal(
        per_grid.sort_index(), expected.sort_index(), check_names=False, check_dtype=False
    )
    grids = store.read("grids").set_index("grid_code")
    inside = [
        grids.geometry[code].covers(point)
        for code, point in zip(homes.grid_code, homes.geometry, strict=True)
    ]
    assert all(inside)  # every point lies in the grid whose residents it carries
    assert read_meta(store)["population_approximate"] == "true"
    assert "geometry" in given and "village_code" not in given.columns  # caller's frame untouched


def test_given_households_are_placed_and_population_is_exact(tmp_path: Path) -> None:
    grids = synthetic_grids()
    points = grids.geometry.representative_point()
    homes = grids[["residents"]].assign(geometry=points).set_geometry("geometry")
    homes = homes.set_crs(ZONE_CRS).to_crs("EPSG:4326")
    store = open_store(tmp_path / "county.gpkg")
    report = onboard_county(grids, store=store, households=homes, county_name=COUNTY_NAME)
    assert not report.population_approximate and report.households == 48
    assert read_meta(store)["population_approximate"] == "false"
    placed = store.read("households")
    assert set(placed.grid_code) == set(grids.grid_code)


def test_meta_is_written_and_is_the_county_afterwards(grids_file: Path, tmp_path: Path) -> None:
    store = open_store(tmp_path / "county.gpkg")
    onboard_county(grids_file, store=store, county_name=COUNTY_NAME)
    meta = read_meta(store)
    assert meta["county_code"] == COUNTY_CODE and meta["county_name"] == COUNTY_NAME
    assert meta["metric_crs"] == ZONE_CRS and meta["synthetic"] == "false"
    reset_county()
    assert get_settings().metric_crs != ZONE_CRS  # the defaults, before the store is opened
    county = load_county(open_store(tmp_path / "county.gpkg"), scope=Scope.county())
    assert get_settings().metric_crs == ZONE_CRS and get_settings().county_code == COUNTY_CODE
    assert county.grids.crs == ZONE_CRS and county.name() == COUNTY_NAME
    assert not county.synthetic and county.population_approximate
    assert len(county.issues) == 0 and "received_at" in county.issues.columns


def test_the_grid_layer_is_version_1(grids_file: Path, tmp_path: Path, monkeypatch) -> None:
    store = open_store(tmp_path / "county.gpkg")
    writes: list[set[str]] = []
    write = type(store).write
    monkeypatch.setattr(
        type(store), "write", lambda self, layers: writes.append(set(layers)) or write(self, layers)
    )
    onboard_county(grids_file, store=store, county_name=COUNTY_NAME)
    # Version 1 lands in the one write that lands the grids: no state with grids unversioned.
    assert len(writes) == 1 and {"grids", "grid_versions", "grid_version_features"} <= writes[0]
    with store.transaction(readonly=True) as tx:
        assert len(tx.read("grid_versions")) == 1 and len(tx.read("change_log")) == 1
    versions = VersionedGrids(store).versions()
    assert versions["version"].tolist() == [1] and int(versions["n_grids"].iloc[0]) == 48
    assert versions["source"].tolist() == ["initial"]
    assert versions["content_hash"].iloc[0] == content_hash(store.read("grids"))
    assert VersionedGrids(store).read_version(1)["grid_code"].tolist() == sorted(
        store.read("grids")["grid_code"]
    )


def test_a_grid_error_blocks_onboarding_and_writes_nothing(tmp_path: Path) -> None:
    grids = synthetic_grids()
    grids.loc[5, "grid_worker"] = ""  # no grid worker: an error
    moved = shapely.affinity.translate(grids.geometry.iloc[7], xoff=50)  # overlaps its neighbours
    grids.loc[7, "geometry"] = moved
    path = tmp_path / "county.gpkg"
    report = onboard_county(grids, store=open_store(path), county_name=COUNTY_NAME)
    assert not report.written and report.version is None
    assert not path.exists()
    errors = {(p.code, p.feature) for p in report.errors}
    assert ("missing_worker", grids.grid_code[5]) in errors
    assert any(code == "overlap" for code, _ in errors)
    assert grids.grid_code[5] in report.as_dict()["error_grids"]


def test_a_store_with_grids_is_refused_unless_replace(grids_file: Path, tmp_path: Path) -> None:
    path = tmp_path / "county.gpkg"
    onboard_county(grids_file, store=open_store(path), county_name=COUNTY_NAME)
    before = path.stat().st_mtime_ns
    with pytest.raises(StoreError, match=r"already holds grids .* add --replace"):
        onboard_county(grids_file, store=open_store(path))
    assert path.stat().st_mtime_ns == before
    # With replace: every old table is named, the versions start again at 1.
    report = onboard_county(
        synthetic_grids().head(16), store=open_store(path), county_name="新名", replace=True
    )
    assert report.written and {"grids", "meta", "grid_versions"} <= set(report.replaced)
    store = open_store(path)
    assert read_meta(store)["county_name"] == "新名"
    assert VersionedGrids(store).versions()["n_grids"].tolist() == [16]


def test_onboarding_is_audited_and_a_replace_keeps_the_trail(grids_file: Path, tmp_path) -> None:
    from geo.access import read_audit

    path = tmp_path / "county.gpkg"
    onboard_county(grids_file, store=open_store(path), county_name=COUNTY_NAME, who="ops@server")
    onboard_county(synthetic_grids().head(16), store=open_store(path), replace=True, who="ops@2")
    rows = read_audit(open_store(path), action="onboard")  # the first row survived the replace
    assert rows.username.tolist() == ["ops@server", "ops@2"]
    assert rows.role.tolist() == ["operator", "operator"]
    first, second = (json.loads(d) for d in rows.detail)
    assert first == {"grids": 48, "replaced": []}
    assert second["grids"] == 16 and "grids" in second["replaced"]


def test_codes_of_two_counties_need_a_county_code(tmp_path: Path) -> None:
    grids = synthetic_grids()
    grids.loc[0, "grid_code"] = "410200001001001"
    with pytest.raises(InputProblems, match=r"2 different six-digit county codes"):
        onboard_county(grids, store=open_store(tmp_path / "x.gpkg"))
    report = onboard_county(grids, store=open_store(tmp_path / "x.gpkg"), county_code="410199")
    assert "county_code_mismatch" in _codes(report)


def test_a_crs_in_degrees_is_refused(grids_file: Path, tmp_path: Path) -> None:
    with pytest.raises(InputProblems, match=r"does not measure in metres"):
        onboard_county(grids_file, store=open_store(tmp_path / "x.gpkg"), metric_crs="EPSG:4490")


def test_cli_json_summary(grids_file: Path, tmp_path: Path, capsys) -> None:
    store = tmp_path / "county.gpkg"
    grids_args = ["onboard", "--grids", str(grids_file), "--store", str(store)]
    code = cli_main([*grids_args, "--json", "--county-name", COUNTY_NAME])
    assert code == 0
    summary = json.loads(capsys.readouterr().out)
    keys = {"county_code", "county_name", "metric_crs", "grids", "villages", "towns"}
    assert keys | {"errors", "warnings"} <= set(summary)
    assert summary["metric_crs"] == ZONE_CRS and summary["grids"] == 48
    assert summary["errors"] == [] and all(isinstance(w, str) for w in summary["warnings"])
    # Again into the same store: refused, exit 2 (the store cannot be used).
    assert cli_main(["onboard", "--grids", str(grids_file), "--store", str(store)]) == 2
    assert "--replace" in capsys.readouterr().err


def test_cli_exit_codes_for_errors_and_unreadable_files(tmp_path: Path, capsys) -> None:
    grids = synthetic_grids()
    grids.loc[3, "grid_worker"] = None
    bad = tmp_path / "bad.gpkg"
    grids.to_file(bad)
    args = ["onboard", "--store", str(tmp_path / "s.gpkg"), "--json", "--grids"]
    assert cli_main([*args, str(bad)]) == 1
    summary = json.loads(capsys.readouterr().out)
    assert summary["errors"] and grids.grid_code[3] in summary["error_grids"]
    assert not (tmp_path / "s.gpkg").exists()
    assert cli_main([*args, str(tmp_path / "missing.shp")]) == 2


def test_cli_in_a_subprocess_then_gridgov_store_opens_that_county(
    grids_file: Path, tmp_path: Path
) -> None:
    store = tmp_path / "county.gpkg"
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "GRIDGOV_STORE")}
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "geo",
            "onboard",
            "--grids",
            str(grids_file),
            "--store",
            str(store),
            "--county-name",
            COUNTY_NAME,
            "--json",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["county_code"] == COUNTY_CODE
    layers = {str(name) for name in pyogrio.list_layers(store)[:, 0]}
    assert {"grids", "villages", "towns", "households", "outline", "meta"} <= layers

    os.environ["GRIDGOV_STORE"] = str(store)
    try:
        county = load_county(default_store(), scope=Scope.county())
    finally:
        del os.environ["GRIDGOV_STORE"]
    assert county.store_location == str(store)
    assert county.grids.crs == ZONE_CRS and get_settings().metric_crs == ZONE_CRS
    assert county.name() == COUNTY_NAME


def test_gridgov_store_that_does_not_exist_names_the_command(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("GRIDGOV_STORE", str(tmp_path / "none.gpkg"))
    with pytest.raises(StoreError, match=r"python -m geo onboard"):
        default_store()


def test_the_demo_store_keeps_its_defaults(tmp_path: Path) -> None:
    """A store whose meta has no metric_crs (the demo's) falls back to the settings."""
    onboard_county(synthetic_grids(), store=open_store(tmp_path / "a.gpkg"))
    assert get_settings().metric_crs == ZONE_CRS
    from geo.core.settings import use_county

    use_county({"county_code": "320924", "synthetic": "true"})
    assert get_settings().metric_crs == "EPSG:4549" and get_settings().county_code == "320924"
