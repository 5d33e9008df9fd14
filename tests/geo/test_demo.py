"""The Sheyang demo county keeps its promises (geo.demo.build.generate) for seed 0 and a second
seed (each built once per session, see conftest.demo_county)."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from geo.core.settings import ROOT
from geo.demo import build as demo
from geo.grids.assign import (
    PROBLEM_NO_ADDRESS_MATCH,
    PROBLEM_NO_COORDS,
    PROBLEM_OUTSIDE,
    PROBLEM_VILLAGE_LEVEL,
)
from geo.grids.partition import node_coverage
from geo.grids.validate import validate_grids

SIMING = "320924104"  # 四明镇
LAYERS = [
    "towns",
    "villages",
    "grids",
    "households",
    "service_points",
    "issues",
    "gazetteer",
    "planted",
    "address_truth",
    "meta",
]

METRIC_CRS = "EPSG:4549"  # the test data's CRS (Sheyang's zone)


@pytest.fixture
def county(demo_county) -> dict[str, pd.DataFrame]:
    """Every layer of the demo, for each of the two seeds."""
    return demo_county.layers


@pytest.fixture(scope="module")
def outline() -> shapely.Geometry:
    frame = gpd.read_file(ROOT / "data" / "sheyang_outline.geojson").to_crs(METRIC_CRS)
    return shapely.union_all(frame.geometry.to_numpy())


def test_layers(county):
    assert list(county) == LAYERS
    for name in LAYERS[:7]:
        assert isinstance(county[name], gpd.GeoDataFrame), name
        assert county[name].crs == METRIC_CRS, name


def test_towns_are_the_real_ones(county):
    real = pd.read_csv(ROOT / "data" / "sheyang_towns.csv", dtype={"town_code": str})
    towns = county["towns"]
    assert len(towns) == 19
    assert list(towns.town_code) == list(real.town_code)
    assert list(towns.town_name) == list(real.town_name)
    assert {"合德镇", "四明镇", "黄沙港镇", "射阳经济开发区", "临海农场", "射阳盐场"} <= set(
        towns.town_name
    )
    assert towns.kind.value_counts().to_dict() == {"镇": 13, "开发区": 2, "农场": 3, "盐场": 1}


def test_totals(county):
    assert len(county["villages"]) == 238
    assert len(county["grids"]) == 3689
    grids = county["grids"]
    assert (grids.town_code == SIMING).sum() == 181
    assert (county["villages"].town_code == SIMING).sum() == 23
    for name in ("towns", "villages", "grids", "households"):
        assert county[name].residents.sum() == 962_300, name
    assert county["towns"].households.sum() == len(county["households"])


def test_codes_are_hierarchical(county):
    towns, villages, grids = county["towns"], county["villages"], county["grids"]
    assert towns.town_code.str.fullmatch(r"320924\d{3}").all()
    assert villages.village_code.str.fullmatch(r"\d{12}").all()
    assert grids.grid_code.str.fullmatch(r"\d{15}").all()
    assert grids.grid_code.is_unique and villages.village_code.is_unique
    assert all(g.startswith(v) for g, v in zip(grids.grid_code, grids.village_code, strict=True))
    assert all(v.startswith(t) for v, t in zip(grids.village_code, grids.town_code, strict=True))
    assert all(
        v.startswith(t) for v, t in zip(villages.village_code, villages.town_code, strict=True)
    )
    assert set(grids.village_code) == set(villages.village_code)


@pytest.mark.parametrize("layer", ["grids", "villages", "towns"])
def test_coverages_are_valid(county, layer):
    geoms = county[layer].geometry.to_numpy()
    assert shapely.is_valid(geoms).all()
    assert shapely.coverage_is_valid(geoms)


def test_each_grid_lies_in_its_village(county):
    grids = county["grids"]
    village = county["villages"].set_index("village_code").geometry
    outside = shapely.area(
        shapely.difference(grids.geometry.to_numpy(), village.loc[grids.village_code].to_numpy())
    )
    assert outside.max() < 1.0  # m²


def test_grids_cover_the_outline(county, outline):
    union = shapely.union_all(county["grids"].geometry.to_numpy())
    assert union.area == pytest.approx(outline.area, rel=1e-4)
    assert outline.area == pytest.approx(2_545e6, rel=0.01)  # 2,545 km² (FACTS.md)


def test_grids_pass_validation(county, outline):
    report = validate_grids(county["grids"], outline=outline, villages=county["villages"])
    assert report.errors == []


def test_every_grid_has_a_worker(county):
    workers = county["grids"].grid_worker
    assert workers.notna().all()
    assert (workers.str.strip() != "").all()
    assert county["grids"].grid_worker_phone.str.fullmatch(r"1\d{10}").all()


def test_service_points(county):
    points = county["service_points"]
    kinds = points.service_type.value_counts()
    assert kinds["非诉讼服务中心"] == 254
    assert kinds["新时代文明实践站"] == 254
    party = points[points.service_type == "党群服务中心"]
    assert sorted(party.village_code) == sorted(county["villages"].village_code)
    assert points.service_id.is_unique
    assert (points.geom_type == "Point").all()


def test_issues_volume_and_span(county):
    issues = county["issues"]
    assert 280_000 <= len(issues) <= 320_000
    first, last = issues.received_at.min(), issues.received_at.max()
    assert first >= demo.AS_OF.normalize() - pd.Timedelta(days=demo.HISTORY_DAYS - 1)
    assert last.normalize() == demo.AS_OF.normalize()
    assert issues.ticket_id.is_unique
    assert issues.received_at.is_monotonic_increasing


def test_no_issue_is_received_after_as_of(county):
    # Regression: with AS_OF at 18:00 the last day held tickets received until ~21:37.
    issues = county["issues"]
    assert issues.received_at.max() <= demo.AS_OF
    assert (issues.status[issues.dispatched_at > demo.AS_OF] == "待派单").all()
    closed = issues.closed_at.notna()
    assert (issues.closed_at[closed] <= demo.AS_OF).all()
    assert (issues.status[closed] == "已办结").all()


def test_issues_carry_web_map_coordinates(county):
    issues = county["issues"]
    systems = issues.coord_sys.value_counts()
    assert systems["gcj02"] > 50_000 and systems["bd09"] > 5_000
    assert set(systems.index) == {"wgs84", "gcj02", "bd09", "cgcs2000", ""}
    # "": delivered with an address only (no coordinates), the hotline's address-only share.
    only = issues.coord_sys == ""
    assert (issues.source[only] == "12345").all() and issues.lon[only].isna().all()
    assert 0.25 < only.sum() / (issues.source == "12345").sum() < 0.35
    # Rows the web maps geocoded are stored as delivered (shifted) with the true geometry.
    gcj = issues[(issues.coord_sys == "gcj02") & issues.geometry.notna()].head(200)
    true_ll = gcj.geometry.to_crs("EPSG:4326")
    shift = np.hypot(gcj.lon - true_ll.x, gcj.lat - true_ll.y)
    assert (shift > 0.002).all()  # hundreds of metres


def test_imperfect_rows_are_kept_and_flagged(county):
    issues = county["issues"]
    problems = issues.assign_problem.value_counts()
    coordinates = problems.reindex([PROBLEM_OUTSIDE, PROBLEM_NO_COORDS]).sum()
    assert 0 < coordinates < 0.01 * len(issues)
    assert set(problems.index) == {
        "",
        PROBLEM_OUTSIDE,
        PROBLEM_NO_COORDS,
        PROBLEM_VILLAGE_LEVEL,
        PROBLEM_NO_ADDRESS_MATCH,
    }
    # The address codes only on tickets delivered with an address alone.
    by_address = issues.assign_problem.isin([PROBLEM_VILLAGE_LEVEL, PROBLEM_NO_ADDRESS_MATCH])
    assert (issues.coord_sys[by_address] == "").all()


def test_planted_patterns(county):
    planted, issues = county["planted"], county["issues"]
    assert list(planted.pattern_id) == ["P1", "P2", "P3", "P4", "P5", "P6"]
    assert list(planted.kind) == [
        "persistent",
        "new_intensifying",
        "seasonal",
        "diminishing",
        "burst",
        "repeat",
    ]
    per_pattern = issues.demo_pattern[issues.demo_pattern != ""].value_counts()
    assert per_pattern.sort_index().to_dict() == dict(
        zip(planted.pattern_id, planted.n_events, strict=True)
    )
    assert (planted.n_events > 0).all()
    assert (planted.top_grids != "").all()
    p6 = issues[issues.demo_pattern == "P6"]
    assert set(p6.caller_name) == {"周建华"}  # one caller, the same place, again and again


def test_meta_says_synthetic(county, demo_county):
    meta = dict(zip(county["meta"].key, county["meta"].value, strict=True))
    assert meta["synthetic"] == "true"
    assert meta["seed"] == str(demo_county.seed)
    assert meta["county_code"] == "320924"
    assert "synthetic" in meta["note"] and "示例数据" in meta["note"]


def test_same_seed_gives_identical_grids(county, demo_county):
    # A cheap replay of the first steps of generate() (≈ 3 s instead of a second 10 s run):
    # the same seed must give the same grids, codes, names, workers and noded boundaries.
    # It mirrors generate()'s order of random draws; update it if generate() changes.
    rng = np.random.default_rng(demo_county.seed)
    names = demo._Names(rng)
    villages = demo._villages(demo._towns(demo._outline()), names, rng)
    households = demo._households(villages, rng)
    grids = demo._grids(villages, households, names, rng)
    got = county["grids"]
    for column in ("grid_code", "grid_name", "village_code", "grid_worker", "grid_worker_phone"):
        assert list(grids[column]) == list(got[column]), column
    noded = node_coverage(grids.geometry.to_numpy())
    assert shapely.equals_exact(noded, got.geometry.to_numpy(), tolerance=0).all()
