"""`python -m geo coverage` and `python -m geo site` on the hand-counted lattice of test_coverage.

The lattice: 10 × 10 households 100 m apart (2 residents each) in four 500 m grids, two
villages, two towns; one 党群服务中心 at the south-west corner household (0, 0). Walking is
75 m a minute, so 15 minutes reach 1,125 m in a straight line (detour 1).
"""

from __future__ import annotations

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
from geo.core.settings import ROOT
from tests.geo.test_coverage import (
    COVERED_10,
    COVERED_15,
    COVERED_15_BY_GRID,
    ELDERLY,
    METRIC,
    NE,
    NW,
    PARTY,
    RESIDENTS,
    SE,
    SW,
    T1,
    T2,
    UNCOVERED_DETOUR_BY_GRID,
    WALK_M_PER_MIN,
    X0,
    Y0,
    lattice_grids,
    lattice_households,
    services_at,
)

ESSENTIAL = ["党群服务中心", "非诉讼服务中心", "新时代文明实践站", "卫生室", "养老服务站"]
COVERAGE_COLUMNS = [
    "grid_code",
    "service_type",
    "target_minutes",
    "households",
    "residents",
    "covered_residents",
    "uncovered_residents",
    "coverage",
    "nearest_minutes_median",
    "meets_target",
]


@pytest.fixture
def files(tmp_path):
    """Grids, the corner 党群服务中心 and the households, one GeoPackage each."""
    paths = {
        "grids": tmp_path / "grids.gpkg",
        "services": tmp_path / "services.gpkg",
        "households": tmp_path / "households.gpkg",
    }
    lattice_grids().to_file(paths["grids"], layer="grids")
    services_at([(PARTY, 0, 0)]).to_file(paths["services"], layer="service_points")
    lattice_households().to_file(paths["households"], layer="households")
    return paths


def inputs(paths) -> list[str]:
    return [
        "--grids",
        str(paths["grids"]),
        "--services",
        str(paths["services"]),
        "--households",
        str(paths["households"]),
    ]


def read_csv(path) -> pd.DataFrame:
    return pd.read_csv(path, encoding="utf-8-sig", dtype={"grid_code": str, "town_code": str})


# --------------------------------------------------------------------------- help


def test_coverage_help_in_a_real_process():
    env = {**os.environ, "PYTHONIOENCODING": "utf-8"}
    done = subprocess.run(
        [sys.executable, "-m", "geo", "coverage", "--help"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        encoding="utf-8",
        check=False,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    out = " ".join(done.stdout.split())  # argparse wraps lines to the terminal's width
    assert "usage: python -m geo coverage" in out
    for zh, en in (
        ("服务设施点", "service points file"),
        ("服务类型", "service type"),
        ("全部基本服务", "every essential type"),
        ("道路图层", "road lines for --engine network"),
        ("汇总层级", "level of the rows"),
    ):
        assert zh in out and en in out


def test_site_is_listed_in_the_main_help(capsys):
    with pytest.raises(SystemExit) as info:
        main(["--help"])
    assert info.value.code == 0
    out = capsys.readouterr().out
    assert "15分钟服务圈覆盖率" in out and "15-minute service coverage" in out
    assert "新增服务点选址" in out and "propose new service points" in out


# --------------------------------------------------------------------------- coverage


def test_coverage_per_grid_counted_by_hand(files, tmp_path, capsys):
    out = tmp_path / "coverage.csv"
    args = ["coverage", *inputs(files), "--type", PARTY, "--detour", "1", "--out", str(out)]
    assert main(args) == 0
    table = read_csv(out)
    assert table.columns.tolist() == COVERAGE_COLUMNS
    assert table["grid_code"].tolist() == [SW, NW, SE, NE]
    got = dict(zip(table["grid_code"], table["covered_residents"], strict=True))
    assert got == {g: n * RESIDENTS for g, n in COVERED_15_BY_GRID.items()}
    assert (table["residents"] == 25 * RESIDENTS).all()
    assert (table["target_minutes"] == 15).all()
    assert table.set_index("grid_code")["coverage"][NE] == pytest.approx(19 / 25)
    assert table["meets_target"].tolist() == [True, True, True, False]  # 0.76 < 0.85
    # Median minutes: the 13th nearest of each grid's 25 equal-weight households.
    homes = lattice_households()
    dist = np.hypot(100.0 * homes["i"], 100.0 * homes["j"])
    median = dist.groupby(homes["grid_code"]).apply(lambda d: np.sort(d)[12]) / WALK_M_PER_MIN
    np.testing.assert_allclose(table["nearest_minutes_median"], median[table["grid_code"]])
    line = capsys.readouterr().out.strip()
    assert line.startswith(f"{PARTY}: 全县覆盖率 94.0%（188 / 200 人），目标 85%：达标")
    assert "county coverage 94.0% (188 / 200 residents), target 85%: met" in line


def test_a_grid_where_nobody_lives_has_a_row_with_no_residents(files, tmp_path, capsys):
    homes = lattice_households()
    homes[homes["grid_code"] != NE].to_file(files["households"], layer="households")
    out = tmp_path / "coverage.csv"
    args = ["coverage", *inputs(files), "--type", PARTY, "--detour", "1", "--out", str(out)]
    assert main(args) == 0
    table = read_csv(out).set_index("grid_code")
    assert sorted(table.index) == sorted([SW, NW, SE, NE])  # every grid of the layer
    assert table.loc[NE, ["households", "residents", "covered_residents"]].tolist() == [0, 0, 0]
    assert np.isnan(table.loc[NE, "coverage"]) and not table.loc[NE, "meets_target"]
    assert (table.drop(index=NE)["residents"] == 25 * RESIDENTS).all()
    assert "；4 行" in capsys.readouterr().out


def test_coverage_default_detour_is_the_settings_one(files, tmp_path, capsys):
    out = tmp_path / "coverage.csv"
    assert main(["coverage", *inputs(files), "--type", PARTY, "--out", str(out)]) == 0
    table = read_csv(out)
    got = dict(zip(table["grid_code"], table["uncovered_residents"], strict=True))
    assert got == {g: n * RESIDENTS for g, n in UNCOVERED_DETOUR_BY_GRID.items()}
    line = capsys.readouterr().out
    assert "county coverage 69.0%" in line  # 100 - 31 households
    assert "目标 85%：未达标" in line and "target 85%: not met" in line


def test_coverage_of_every_essential_type_by_default(tmp_path, files, capsys):
    """With every essential type at the corner, the 10-minute 养老服务站 decides."""
    services_at([(kind, 0, 0) for kind in ESSENTIAL]).to_file(
        files["services"], layer="service_points"
    )
    out = tmp_path / "all.csv"
    args = ["coverage", *inputs(files), "--detour", "1", "--by", "county", "--out", str(out)]
    assert main(args) == 0
    table = read_csv(out)
    assert table["county_code"].astype(str).tolist() == ["320924"]
    assert table["service_type"].tolist() == ["全部基本服务"]
    assert table["covered_residents"].tolist() == [COVERED_10 * RESIDENTS]
    assert np.isnan(table["target_minutes"].iloc[0])  # each type keeps its own
    assert "全部基本服务: 全县覆盖率 52.0%" in capsys.readouterr().out


def test_coverage_notes_a_type_without_service_points(files, tmp_path, capsys):
    out = tmp_path / "elderly.csv"
    assert main(["coverage", *inputs(files), "--type", ELDERLY, "--out", str(out)]) == 0
    assert read_csv(out)["covered_residents"].sum() == 0
    captured = capsys.readouterr()
    assert f"has no {ELDERLY} point" in captured.err and f"['{PARTY}']" in captured.err
    assert "county coverage 0.0%" in captured.out


def test_coverage_by_town_and_minutes(files, tmp_path):
    out = tmp_path / "towns.csv"
    args = ["coverage", *inputs(files), "--type", PARTY, "--detour", "1", "--by", "town"]
    assert main([*args, "--out", str(out)]) == 0
    table = read_csv(out)
    assert table.columns[0] == "town_code"
    assert table["town_code"].tolist() == [T1, T2]
    assert table["covered_residents"].tolist() == [50 * RESIDENTS, 44 * RESIDENTS]
    assert table["coverage"].tolist() == pytest.approx([1.0, 0.88])
    ten = tmp_path / "county10.csv"
    assert main([*args[:-2], "--by", "county", "--minutes", "10", "--out", str(ten)]) == 0
    county = read_csv(ten)
    assert county["covered_residents"].tolist() == [COVERED_10 * RESIDENTS]
    assert county["target_minutes"].tolist() == [10]


def test_coverage_assigns_households_to_grids_and_reads_csv(files, tmp_path, capsys):
    """Households as the county exports them: lon/lat and 人口, no grid code."""
    homes = lattice_households().to_crs("EPSG:4326")
    pd.DataFrame(
        {"户编号": homes["household_id"], "经度": homes.geometry.x, "纬度": homes.geometry.y}
    ).assign(人口=RESIDENTS).to_csv(tmp_path / "homes.csv", index=False, encoding="gb18030")
    out = tmp_path / "coverage.gpkg"
    args = [
        "coverage",
        "--grids",
        str(files["grids"]),
        "--services",
        str(files["services"]),
        "--households",
        str(tmp_path / "homes.csv"),
        "--type",
        PARTY,
        "--detour",
        "1",
        "--out",
        str(out),
    ]
    assert main(args) == 0
    back = pyogrio.read_dataframe(out, layer="coverage")
    assert back.crs.to_epsg() == 4549
    got = dict(zip(back["grid_code"], back["covered_residents"], strict=True))
    assert got == {g: n * RESIDENTS for g, n in COVERED_15_BY_GRID.items()}
    grids = lattice_grids().set_index("grid_code")
    assert all(
        shapely.equals(geom, grids.geometry[code])
        for code, geom in zip(back["grid_code"], back.geometry, strict=True)
    )
    # Neither the households nor these grids carry town codes: --by town says what to add.
    assert main([*args[:-2], "--by", "town", "--out", str(tmp_path / "t.csv")]) == 2
    err = capsys.readouterr().err
    assert f"{tmp_path / 'homes.csv'}: 缺少镇编码" in err and "no town_code for --by town" in err
    assert "--columns town_code=<column>" in err


def comb_roads() -> gpd.GeoDataFrame:
    """A road along the southern row of households and one up every column: a trip from
    household (i, j) to the corner runs 100 m × (i + j)."""
    lines = [shapely.LineString([(X0, Y0), (X0 + 900.0, Y0)])]
    lines += [
        shapely.LineString([(X0 + 100.0 * i, Y0), (X0 + 100.0 * i, Y0 + 900.0)]) for i in range(10)
    ]
    return gpd.GeoDataFrame({"road_class": ["村道"] * len(lines)}, geometry=lines, crs=METRIC)


@pytest.fixture
def county_gpkg(tmp_path):
    """One GeoPackage with the standard layers grids, service_points, households and roads."""
    path = tmp_path / "county.gpkg"
    lattice_grids().to_file(path, layer="grids")
    services_at([(PARTY, 0, 0)]).to_file(path, layer="service_points")
    lattice_households().to_file(path, layer="households")
    comb_roads().to_file(path, layer="roads")
    return path


def test_coverage_over_the_road_network(county_gpkg, tmp_path, capsys):
    """15 minutes = 1,125 m of road: covered when i + j ≤ 11. Uncovered: i + j = 12..18 holds
    7, 6, 5, 4, 3, 2, 1 households = 28 (NW: (3, 9), (4, 8), (4, 9); SE the mirror; NE 22)."""
    out = tmp_path / "net.csv"
    one = str(county_gpkg)
    args = ["coverage", "--grids", one, "--services", one, "--households", one, "--type", PARTY]
    assert main([*args, "--engine", "network", "--roads", one, "--out", str(out)]) == 0
    table = read_csv(out)
    got = dict(zip(table["grid_code"], table["uncovered_residents"], strict=True))
    assert got == {SW: 0, NW: 3 * RESIDENTS, SE: 3 * RESIDENTS, NE: 22 * RESIDENTS}
    # The median household of SW (5 × 5, i + j = 0..8) is 4 road blocks away: 400 m.
    assert table.set_index("grid_code")["nearest_minutes_median"][SW] == pytest.approx(
        400 / WALK_M_PER_MIN
    )
    assert "county coverage 72.0%" in capsys.readouterr().out
    # The network never beats the straight line: the same run with --engine line covers more.
    line = tmp_path / "line.csv"
    assert main([*args, "--detour", "1", "--out", str(line)]) == 0
    assert read_csv(line)["covered_residents"].sum() == COVERED_15 * RESIDENTS


# --------------------------------------------------------------------------- site


@pytest.fixture
def weighted(files):
    """The lattice with 5 residents in every NE household (2 elsewhere), as in
    test_service_view."""
    homes = lattice_households()
    homes.loc[(homes["i"] >= 5) & (homes["j"] >= 5), "residents"] = 5
    homes.to_file(files["households"], layer="households")
    return files


SITE_5MIN = ["--type", PARTY, "--minutes", "5", "--detour", "1"]


def test_site_new_one_reaches_the_heaviest_corner(weighted, tmp_path, capsys):
    """5 minutes on foot = 375 m. The corner service reaches 15 households (30 residents). The
    NE grid's point (700 m, 700 m) reaches 35 households the corner does not: the 25 NE ones
    (5 residents) and 10 on row or column 4 (2 residents), 145 residents; the NW or SE point
    reach at most 35 × 2 = 70. Residents: 75 × 2 + 25 × 5 = 275."""
    out = tmp_path / "sites.csv"
    assert main(["site", *inputs(weighted), *SITE_5MIN, "--new", "1", "--out", str(out)]) == 0
    table = pd.read_csv(out, encoding="utf-8-sig", dtype={"ref": str})
    assert table.columns[:11].tolist() == [
        "rank",
        "candidate_id",
        "ref",
        "name",
        "added_residents",
        "covered_after",
        "coverage_after",
        "x",
        "y",
        "lon",
        "lat",
    ]
    assert table["ref"].tolist() == [NE]
    assert table["candidate_id"].tolist() == [f"grid:{NE}"]
    assert table["added_residents"].tolist() == [145]
    assert table["covered_after"].tolist() == [30 + 145]
    assert table["coverage_after"].tolist() == pytest.approx([175 / 275])
    assert (table["x"].iloc[0], table["y"].iloc[0]) == (X0 + 700.0, Y0 + 700.0)
    assert 120.0 < table["lon"].iloc[0] < 121.0 and 33.0 < table["lat"].iloc[0] < 34.5
    assert table["method"].tolist() == ["greedy"]
    line = capsys.readouterr().out
    assert (
        "覆盖率 10.9% → 63.6%，新增 1 处" in line
        and "coverage 10.9% → 63.6%, 1 new site(s)" in line
    )


def test_site_exact_agrees_and_writes_a_geopackage(weighted, tmp_path):
    out = tmp_path / "sites.gpkg"
    args = ["site", *inputs(weighted), *SITE_5MIN, "--new", "1", "--exact", "--out", str(out)]
    assert main(args) == 0
    back = pyogrio.read_dataframe(out, layer="proposals")
    assert back.crs.to_epsg() == 4549
    assert back["ref"].tolist() == [NE] and back["method"].tolist() == ["cbc"]
    assert back["added_residents"].tolist() == [145]
    assert back.geometry.x.tolist() == [X0 + 700.0] and back.geometry.y.tolist() == [Y0 + 700.0]


@pytest.mark.parametrize("exact", [[], ["--exact"]])
def test_site_target_needs_one_site(weighted, tmp_path, capsys, exact):
    """63.6 % with the NE point alone: one site reaches a 60 % target."""
    out = tmp_path / "target.csv"
    args = ["site", *inputs(weighted), *SITE_5MIN, "--target", "0.6", *exact, "--out", str(out)]
    assert main(args) == 0
    table = pd.read_csv(out, encoding="utf-8-sig", dtype={"ref": str})
    assert table["ref"].tolist() == [NE]
    assert "10.9% → 63.6%" in capsys.readouterr().out


def test_site_target_out_of_reach_from_a_candidate_file(weighted, tmp_path, capsys):
    """One candidate of the user's own (a CSV row at the NE point): 63.6 % at most, so an 85 %
    target is not reached: the site is still written, and the exit code is 1."""
    point = gpd.GeoSeries([shapely.Point(X0 + 700.0, Y0 + 700.0)], crs=METRIC).to_crs(4326)
    pd.DataFrame({"name": ["东村广场"], "lon": point.x, "lat": point.y}).to_csv(
        tmp_path / "candidates.csv", index=False, encoding="utf-8-sig"
    )
    out = tmp_path / "target.csv"
    args = ["site", *inputs(weighted), *SITE_5MIN, "--target", "0.85"]
    args += ["--candidates", str(tmp_path / "candidates.csv"), "--out", str(out)]
    assert main(args) == 1
    table = pd.read_csv(out, encoding="utf-8-sig")
    assert table["candidate_id"].tolist() == ["point:2"]  # the CSV's row 2
    assert table["name"].tolist() == ["东村广场"]
    assert table["added_residents"].tolist() == [145]
    captured = capsys.readouterr()
    assert "10.9% → 63.6%" in captured.out
    assert "target 85% not reached" in captured.err and "at most 63.6%" in captured.err


def test_site_on_the_road_network_prefers_the_point_on_the_trunk_road(
    county_gpkg, tmp_path, capsys
):
    """Network, 15 minutes: 28 households are out of reach (test above). The SE grid's point
    (7, 2) is on column 7's road, 200 m from the trunk, and reaches 19 of them (column 7: j 5..9;
    i = 8: j 4..8; i = 9: j 3..7; i = 6: j 6..8; i = 5: j 7); the NE point (7, 7) reaches only
    column 7's five, NW and SW none. In a straight line only six households are out of reach
    ((7, 9), (8, 8), (8, 9), (9, 7..9)) and every point reaches all six (the farthest, SW's
    (2, 2) to (9, 9), is 990 m), so the tie goes to the first candidate, SW."""
    one = str(county_gpkg)
    base = ["site", "--grids", one, "--services", one, "--households", one, "--type", PARTY]
    out = tmp_path / "net.csv"
    args = [*base, "--engine", "network", "--roads", one, "--new", "1", "--out", str(out)]
    assert main(args) == 0
    table = pd.read_csv(out, encoding="utf-8-sig", dtype={"ref": str})
    assert table["ref"].tolist() == [SE]
    assert table["added_residents"].tolist() == [19 * RESIDENTS]
    assert "72.0% → 91.0%" in capsys.readouterr().out
    straight = tmp_path / "line.csv"
    assert main([*base, "--detour", "1", "--new", "1", "--out", str(straight)]) == 0
    table = pd.read_csv(straight, encoding="utf-8-sig", dtype={"ref": str})
    assert table["ref"].tolist() == [SW]
    assert table["added_residents"].tolist() == [(100 - COVERED_15) * RESIDENTS]
    assert "94.0% → 100.0%" in capsys.readouterr().out


# --------------------------------------------------------------------------- errors


def test_unknown_type_lists_the_valid_ones(files, tmp_path, capsys):
    args = ["coverage", *inputs(files), "--type", "会所", "--out", str(tmp_path / "o.csv")]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert err.startswith("错误 / error: --type '会所'：未知服务类型，请使用 ")
    assert "--type '会所': unknown service type; use one of" in err
    assert "卫生室" in err and "警务室" in err and "全部基本服务" in err
    assert not (tmp_path / "o.csv").exists()


def test_site_needs_one_type(files, tmp_path, capsys):
    args = ["site", *inputs(files), "--type", "全部基本服务", "--new", "1"]
    assert main([*args, "--out", str(tmp_path / "o.csv")]) == 2
    err = capsys.readouterr().err
    assert "siting plans one service type" in err and "党群服务中心" in err


def test_network_engine_needs_roads(files, tmp_path, capsys):
    args = ["coverage", *inputs(files), "--engine", "network", "--out", str(tmp_path / "o.csv")]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert "--engine network 需要道路图层" in err and "--engine network needs --roads FILE" in err


def test_missing_file_is_named(files, tmp_path, capsys):
    missing = tmp_path / "nowhere.gpkg"
    files = {**files, "households": missing}
    assert main(["coverage", *inputs(files), "--out", str(tmp_path / "o.csv")]) == 2
    assert f"{missing}: 文件不存在 / file not found" in capsys.readouterr().err


def test_wrong_layer_is_named(files, tmp_path, capsys):
    wrong = {**files, "grids": f"{files['grids']}:roads"}
    assert main(["coverage", *inputs(wrong), "--out", str(tmp_path / "o.csv")]) == 2
    err = capsys.readouterr().err
    assert f"{files['grids']}:roads: 没有图层 'roads'" in err
    assert "/ no layer 'roads'; it has ['grids']" in err
    # A GeoPackage without a households layer, given as the households file.
    with_two = tmp_path / "two.gpkg"
    lattice_grids().to_file(with_two, layer="grids")
    services_at([(PARTY, 0, 0)]).to_file(with_two, layer="service_points")
    other = {**files, "households": with_two}
    assert main(["coverage", *inputs(other), "--out", str(tmp_path / "o.csv")]) == 2
    assert "none is called 'households'" in capsys.readouterr().err


def test_site_option_errors(files, tmp_path, capsys):
    out = ["--out", str(tmp_path / "o.csv")]
    assert main(["site", *inputs(files), "--candidates", "villages", "--new", "1", *out]) == 2
    assert "--candidates villages needs --villages FILE" in capsys.readouterr().err
    assert main(["site", *inputs(files), "--target", "85", *out]) == 2
    assert "--target must be a share in (0, 1], e.g. 0.85, got 85" in capsys.readouterr().err
    assert main(["site", *inputs(files), "--new", "0", *out]) == 2
    assert "--new must be a number of new sites ≥ 1" in capsys.readouterr().err
    with pytest.raises(SystemExit) as info:
        main(["site", *inputs(files), "--new", "1", "--target", "0.85", *out])
    assert info.value.code == 2
    assert "not allowed with argument" in capsys.readouterr().err
    assert not (tmp_path / "o.csv").exists()
