"""The command line (``python -m geo``) on tiny files: exit codes, output files and messages."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
import shapely

from geo.cli.main import main
from geo.core.crs import wgs84_to_bd09, wgs84_to_gcj02
from geo.core.settings import ROOT
from geo.grids.assign import PROBLEM_NO_COORDS, PROBLEM_OUTSIDE, problem_words
from geo.store.readers import SWAPPED

METRIC = "EPSG:4549"
X0, Y0 = 524_000.0, 3_737_000.0
TOWN = "320924101"
VILLAGE = TOWN + "001"
N = 10  # a 10 x 10 lattice of 100 m grids: 1 km², wider than the GCJ-02 shift (~500 m)


def grid_code(r: int, c: int) -> str:
    return f"{VILLAGE}{r * N + c + 1:03d}"


@pytest.fixture
def grids() -> gpd.GeoDataFrame:
    rows = [
        {
            "grid_code": grid_code(r, c),
            "village_code": VILLAGE,
            "town_code": TOWN,
            "grid_worker": f"网格员{r * N + c + 1}",
            "households": 100,
            "residents": 270,
            "geometry": shapely.box(
                X0 + 100 * c, Y0 + 100 * r, X0 + 100 * (c + 1), Y0 + 100 * (r + 1)
            ),
        }
        for r in range(N)
        for c in range(N)
    ]
    return gpd.GeoDataFrame(rows, crs=METRIC)


@pytest.fixture
def grids_file(tmp_path, grids):
    path = tmp_path / "grids.gpkg"
    pyogrio.write_dataframe(grids, path, layer="grids")
    return path


@pytest.fixture
def broken_file(tmp_path, grids):
    broken = grids.copy()
    broken.loc[1, "grid_code"] = broken.loc[0, "grid_code"]  # duplicate
    broken.loc[2, "grid_worker"] = ""  # no worker
    broken.loc[3, "geometry"] = shapely.box(X0 + 250, Y0, X0 + 450, Y0 + 100)  # overlaps
    broken.loc[4, "households"] = 900  # too many: a warning only
    path = tmp_path / "broken.gpkg"
    pyogrio.write_dataframe(broken, path, layer="grids")
    return path


def interior_points(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """WGS84 lon/lat of ``n`` points at least 5 m inside their grid, and that grid's code."""
    r, c = rng.integers(0, N, n), rng.integers(0, N, n)
    x = X0 + 100 * c + rng.uniform(5, 95, n)
    y = Y0 + 100 * r + rng.uniform(5, 95, n)
    ll = gpd.GeoSeries(gpd.points_from_xy(x, y), crs=METRIC).to_crs("EPSG:4326")
    return ll.x.to_numpy(), ll.y.to_numpy(), [grid_code(i, j) for i, j in zip(r, c, strict=True)]


# --------------------------------------------------------------------------- help


def test_help_in_a_real_process():
    env = {**os.environ, "PYTHONIOENCODING": "utf-8"}
    done = subprocess.run(
        [sys.executable, "-m", "geo", "--help"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        encoding="utf-8",
        check=False,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert "usage: python -m geo" in out
    assert "网格治理一张图" in out and "GridGov command line" in out
    for command, zh, en in (
        ("check-grids", "检查网格图层", "validate a grid layer"),
        ("assign", "事件落格", "assign events to grids"),
        ("demo", "生成射阳示例县", "build the synthetic Sheyang demo"),
        ("import", "导入数据到存储", "import layers into the store"),
    ):
        assert command in out and zh in out and en in out


def test_subcommand_help(capsys):
    with pytest.raises(SystemExit) as info:
        main(["assign", "--help"])
    assert info.value.code == 0
    out = capsys.readouterr().out
    assert (
        "列名映射" in out and "column mapping" in out and "grid_code=WGBM,lon=经度,lat=纬度" in out
    )


def test_unknown_command_is_a_usage_error(capsys):
    with pytest.raises(SystemExit) as info:
        main(["frobnicate"])
    assert info.value.code == 2
    assert "invalid choice: 'frobnicate'" in capsys.readouterr().err


# --------------------------------------------------------------------------- check-grids


def test_check_grids_clean(grids_file, capsys):
    assert main(["check-grids", str(grids_file)]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0] == (
        "100 个网格：0 个错误，0 个提醒 / 100 grids: 0 error(s), 0 warning(s)"
    )


def test_check_grids_with_outline_and_villages(tmp_path, grids_file, capsys):
    outline = gpd.GeoDataFrame(geometry=[shapely.box(X0, Y0, X0 + 1000, Y0 + 1000)], crs=METRIC)
    villages = gpd.GeoDataFrame({"village_code": [VILLAGE]}, geometry=outline.geometry, crs=METRIC)
    pyogrio.write_dataframe(
        outline.to_crs("EPSG:4326"), tmp_path / "outline.geojson", driver="GeoJSON"
    )
    pyogrio.write_dataframe(villages, tmp_path / "villages.gpkg", layer="villages")
    code = main(
        [
            "check-grids",
            str(grids_file),
            "--outline",
            str(tmp_path / "outline.geojson"),
            "--villages",
            str(tmp_path / "villages.gpkg"),
        ]
    )
    assert code == 0, capsys.readouterr().out
    # A bigger outline leaves a gap.
    bigger = gpd.GeoDataFrame(geometry=[shapely.box(X0, Y0, X0 + 1100, Y0 + 1000)], crs=METRIC)
    pyogrio.write_dataframe(bigger, tmp_path / "bigger.gpkg", layer="towns")
    capsys.readouterr()
    assert main(["check-grids", str(grids_file), "--outline", str(tmp_path / "bigger.gpkg")]) == 1
    assert "[gap]" in capsys.readouterr().out


def test_check_grids_with_errors(broken_file, capsys):
    assert main(["check-grids", str(broken_file)]) == 1
    out = capsys.readouterr().out
    assert out.splitlines()[0].startswith("100 个网格：")
    assert "[duplicate_code]" in out and grid_code(0, 0) in out
    assert "[missing_worker]" in out and "[overlap]" in out
    assert "WARNING" in out and "[size_households]" in out


def test_check_grids_json(broken_file, capsys):
    assert main(["check-grids", str(broken_file), "--json"]) == 1
    report = json.loads(capsys.readouterr().out)
    assert report["grids"] == 100
    found = sorted((p["code"], p["feature"]) for p in report["problems"])
    assert found == sorted(
        [
            ("duplicate_code", grid_code(0, 0)),
            ("missing_worker", grid_code(0, 2)),
            ("overlap", grid_code(0, 2)),  # the widened 004 overlaps 003 and 005 by 50 m each
            ("overlap", grid_code(0, 3)),
            ("overlap", grid_code(0, 3)),
            ("overlap", grid_code(0, 4)),
            ("size_households", grid_code(0, 4)),
        ]
    )
    assert report["errors"] == 6 and report["warnings"] == 1
    assert all(
        p["hint"] and p["message"] and p["severity"] in ("error", "warning")
        for p in report["problems"]
    )


def test_check_grids_missing_file(tmp_path, capsys):
    missing = tmp_path / "nowhere" / "grids.gpkg"
    assert main(["check-grids", str(missing)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("错误 / error: ")
    assert str(missing) in err and "file not found" in err


def test_check_grids_file_without_crs_needs_crs(tmp_path, grids, capsys):
    path = tmp_path / "noprj.shp"
    with pytest.warns(RuntimeWarning, match="laundered field name"):
        pyogrio.write_dataframe(grids, path, encoding="UTF-8")
    path.with_suffix(".prj").unlink()
    assert main(["check-grids", str(path)]) == 2
    assert "--crs EPSG:4549" in capsys.readouterr().err
    assert main(["check-grids", str(path), "--crs", METRIC]) == 0


# --------------------------------------------------------------------------- assign


ASSIGNED_COLUMNS = ["grid_code", "village_code", "town_code", "assign_problem"]


def read_csv(path) -> pd.DataFrame:
    return pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")


def test_assign_keeps_every_row(tmp_path, grids_file, capsys):
    rng = np.random.default_rng(7)
    lon, lat, truth = interior_points(rng, 40)
    table = pd.DataFrame({"ticket_id": [f"RX{i:04d}" for i in range(40)], "lon": lon, "lat": lat})
    bad = pd.DataFrame(
        {
            "ticket_id": ["BAD1", "BAD2", "BAD3", "BAD4"],
            "lon": ["", "abc", str(lat[0]), str(lon[0] - 0.5)],
            "lat": ["", "33.7", str(lon[0]), str(lat[0])],
        }
    )
    events = pd.concat([table.astype(str), bad], ignore_index=True)
    events.to_csv(tmp_path / "events.csv", index=False, encoding="utf-8-sig")
    out = tmp_path / "out" / "assigned.csv"
    code = main(
        [
            "assign",
            "--grids",
            str(grids_file),
            "--events",
            str(tmp_path / "events.csv"),
            "--out",
            str(out),
        ]
    )
    assert code == 0
    assert "44 行：40 已落格，4 未落格" in capsys.readouterr().out
    got = read_csv(out)
    assert len(got) == len(events)
    assert got.columns[-4:].tolist() == ASSIGNED_COLUMNS
    assert list(got.ticket_id) == list(events.ticket_id)
    assert list(got.source_row) == [str(i) for i in range(2, 46)]
    assert list(got.grid_code[:40]) == truth
    assert (got.village_code[:40] == VILLAGE).all() and (got.town_code[:40] == TOWN).all()
    reasons = [
        PROBLEM_NO_COORDS,
        PROBLEM_NO_COORDS,
        SWAPPED,  # the reader's specific reason wins over "no coordinates"
        PROBLEM_OUTSIDE,  # 0.5° west: outside every grid
    ]
    # The file is for people: each reason in both languages, as the catalog words it.
    assert list(got.assign_problem) == [""] * 40 + [str(problem_words(r)) for r in reasons]
    assert got.assign_problem.iloc[-1] == "坐标不在任何网格内 / outside every grid"
    assert list(got.grid_code[40:]) == ["", "", "", ""]


def test_assign_gcj02_and_bd09_rows_land_like_their_wgs84_truth(tmp_path, grids_file):
    rng = np.random.default_rng(11)
    lon, lat, truth = interior_points(rng, 60)
    systems = np.array(["gcj02", "bd09", "wgs84"] * 20)
    given_lon, given_lat = lon.copy(), lat.copy()
    for name, fn in (("gcj02", wgs84_to_gcj02), ("bd09", wgs84_to_bd09)):
        sel = systems == name
        given_lon[sel], given_lat[sel] = fn(lon[sel], lat[sel])
    pd.DataFrame({"lon": given_lon, "lat": given_lat, "coord_sys": systems}).to_csv(
        tmp_path / "mixed.csv", index=False
    )
    out = tmp_path / "mixed_out.csv"
    assert (
        main(
            [
                "assign",
                "--grids",
                str(grids_file),
                "--events",
                str(tmp_path / "mixed.csv"),
                "--out",
                str(out),
            ]
        )
        == 0
    )
    got = read_csv(out)
    assert list(got.grid_code) == truth
    # Read as if WGS84, the web-map rows would land elsewhere (the shift is ~500 m).
    pd.DataFrame({"lon": given_lon, "lat": given_lat}).to_csv(tmp_path / "naive.csv", index=False)
    assert (
        main(
            [
                "assign",
                "--grids",
                str(grids_file),
                "--events",
                str(tmp_path / "naive.csv"),
                "--out",
                str(tmp_path / "n.csv"),
            ]
        )
        == 0
    )
    naive = read_csv(tmp_path / "n.csv")
    shifted = systems != "wgs84"
    assert (naive.grid_code[shifted] != np.array(truth)[shifted]).all()
    assert (naive.grid_code[~shifted] == np.array(truth)[~shifted]).all()


def test_assign_coords_option_for_a_whole_file(tmp_path, grids_file):
    rng = np.random.default_rng(3)
    lon, lat, truth = interior_points(rng, 12)
    g_lon, g_lat = wgs84_to_gcj02(lon, lat)
    pd.DataFrame({"lon": g_lon, "lat": g_lat}).to_csv(tmp_path / "gcj.csv", index=False)
    out = tmp_path / "gcj_out.csv"
    assert (
        main(
            [
                "assign",
                "--grids",
                str(grids_file),
                "--events",
                str(tmp_path / "gcj.csv"),
                "--coords",
                "gcj02",
                "--out",
                str(out),
            ]
        )
        == 0
    )
    assert list(read_csv(out).grid_code) == truth


def test_assign_with_columns_mapping(tmp_path, grids):
    # The county's own headers: WGBM in the grid file, 经度/纬度 in a GB18030 event table.
    pyogrio.write_dataframe(
        grids.rename(columns={"grid_code": "WGBM"}), tmp_path / "wg.gpkg", layer="grids"
    )
    rng = np.random.default_rng(5)
    lon, lat, truth = interior_points(rng, 15)
    pd.DataFrame({"工单号": [f"{i:05d}" for i in range(15)], "经度": lon, "纬度": lat}).to_csv(
        tmp_path / "sj.csv", index=False, encoding="gb18030"
    )
    out = tmp_path / "sj_out.csv"
    code = main(
        [
            "assign",
            "--grids",
            str(tmp_path / "wg.gpkg"),
            "--events",
            str(tmp_path / "sj.csv"),
            "--columns",
            "grid_code=WGBM,lon=经度,lat=纬度",
            "--out",
            str(out),
        ]
    )
    assert code == 0
    got = read_csv(out)
    assert list(got.grid_code) == truth
    assert list(got.ticket_id) == [f"{i:05d}" for i in range(15)]


def test_assign_writes_gpkg(tmp_path, grids_file):
    rng = np.random.default_rng(9)
    lon, lat, truth = interior_points(rng, 5)
    pd.DataFrame({"lon": lon, "lat": lat}).to_csv(tmp_path / "e.csv", index=False)
    out = tmp_path / "assigned.gpkg"
    assert (
        main(
            [
                "assign",
                "--grids",
                str(grids_file),
                "--events",
                str(tmp_path / "e.csv"),
                "--out",
                str(out),
            ]
        )
        == 0
    )
    back = pyogrio.read_dataframe(out, layer="issues")
    assert back.crs == METRIC
    assert list(back.grid_code) == truth


@pytest.mark.parametrize("which", ["grids", "events"])
def test_assign_missing_file(tmp_path, grids_file, capsys, which):
    events = tmp_path / "events.csv"
    pd.DataFrame({"lon": [120.26], "lat": [33.77]}).to_csv(events, index=False)
    missing = tmp_path / f"missing_{which}.csv"
    args = {"grids": str(grids_file), "events": str(events)}
    args[which] = str(missing)
    code = main(
        [
            "assign",
            "--grids",
            args["grids"],
            "--events",
            args["events"],
            "--out",
            str(tmp_path / "o.csv"),
        ]
    )
    assert code == 2
    err = capsys.readouterr().err
    assert f"{missing}: 文件不存在 / file not found" in err
    assert not (tmp_path / "o.csv").exists()


def test_assign_bad_columns_spec(tmp_path, grids_file, capsys):
    events = tmp_path / "events.csv"
    pd.DataFrame({"lon": [120.26], "lat": [33.77]}).to_csv(events, index=False)
    code = main(
        [
            "assign",
            "--grids",
            str(grids_file),
            "--events",
            str(events),
            "--columns",
            "WGBM",
            "--out",
            str(tmp_path / "o.csv"),
        ]
    )
    assert code == 2
    assert "'WGBM' is not our_name=their_name" in capsys.readouterr().err


# --------------------------------------------------------------------------- import


def test_import_into_a_geopackage_store(tmp_path, grids_file, capsys):
    rng = np.random.default_rng(1)
    lon, lat, truth = interior_points(rng, 8)
    pd.DataFrame({"lon": lon, "lat": lat}).to_csv(tmp_path / "e.csv", index=False)
    store = tmp_path / "store.gpkg"
    code = main(
        [
            "import",
            "--grids",
            str(grids_file),
            "--issues",
            str(tmp_path / "e.csv"),
            "--store",
            str(store),
        ]
    )
    assert code == 0
    out = capsys.readouterr().out
    assert "grids: 100 行 / 100 rows" in out and "issues: 8 行 / 8 rows" in out
    issues = pyogrio.read_dataframe(store, layer="issues")
    assert list(issues.grid_code) == truth


def test_import_nothing(tmp_path, capsys):
    assert main(["import", "--store", str(tmp_path / "s.gpkg")]) == 2
    assert "nothing to import" in capsys.readouterr().err


def test_import_never_replaces_a_layer_by_accident(tmp_path, grids_file, capsys):
    rng = np.random.default_rng(1)
    lon, lat, _ = interior_points(rng, 8)
    pd.DataFrame({"lon": lon, "lat": lat}).to_csv(tmp_path / "e.csv", index=False)
    pd.DataFrame({"lon": lon[:2], "lat": lat[:2]}).to_csv(tmp_path / "two.csv", index=False)
    store = tmp_path / "store.gpkg"
    args = ["import", "--grids", str(grids_file), "--store", str(store)]
    assert main([*args, "--issues", str(tmp_path / "e.csv")]) == 0
    capsys.readouterr()
    assert main([*args, "--issues", str(tmp_path / "two.csv")]) == 2
    err = capsys.readouterr().err
    assert "already holds ['grids', 'issues']" in err and "python -m geo intake" in err
    assert len(pyogrio.read_dataframe(store, layer="issues")) == 8  # untouched
    assert main([*args, "--issues", str(tmp_path / "two.csv"), "--replace"]) == 0
    out = capsys.readouterr().out
    kept = [n for n in pyogrio.list_layers(store)[:, 0] if n.startswith("issues_before_")]
    assert len(kept) == 1 and f"the previous layer is kept as {kept[0]}" in out
    assert len(pyogrio.read_dataframe(store, layer="issues")) == 2
    assert len(pyogrio.read_dataframe(store, layer=kept[0])) == 8  # recoverable


def test_assign_masks_callers(tmp_path, grids_file):
    rng = np.random.default_rng(2)
    lon, lat, _ = interior_points(rng, 2)
    pd.DataFrame(
        {"lon": lon, "lat": lat, "来电人": ["张三丰", "李四"], "联系电话": ["13812345678"] * 2}
    ).to_csv(tmp_path / "e.csv", index=False)
    out = tmp_path / "out.csv"
    assert main(["assign", "--grids", str(grids_file), "--events", str(tmp_path / "e.csv"),
                 "--out", str(out)]) == 0  # fmt: skip
    text = out.read_text("utf-8-sig")
    assert "张三丰" not in text and "13812345678" not in text
    written = pd.read_csv(out, dtype=str)
    assert written["caller_name"].tolist() == ["张**", "李*"]
    assert written["caller_phone"].tolist() == ["138****5678"] * 2
