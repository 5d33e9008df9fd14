"""geo.views.services on the hand-counted lattice of test_coverage: what the page shows."""

from __future__ import annotations

import io

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest

from geo.services.coverage import ALL_ESSENTIAL, service_access
from geo.store.county import County
from geo.views.services import propose, service_minutes, service_view
from tests.geo.test_coverage import (
    COVERED_15_BY_GRID,
    METRIC,
    NE,
    PARTY,
    RESIDENTS,
    T1,
    T2,
    V1,
    V2,
    X0,
    Y0,
    lattice_grids,
    lattice_households,
)


def lattice_county() -> County:
    grids = lattice_grids()
    grids = grids.assign(
        grid_name=grids.grid_code,
        village_code=grids.grid_code.str[:12],
        town_code=grids.grid_code.str[:9],
        grid_worker="张三",
        households=25,
        residents=50,
    )
    villages = grids.dissolve("village_code", as_index=False)[["village_code", "geometry"]]
    villages = villages.assign(
        village_name=["东村" if c == V2 else "西村" for c in villages.village_code],
        town_code=villages.village_code.str[:9],
        centre_x=villages.geometry.centroid.x,
        centre_y=villages.geometry.centroid.y,
    )
    towns = villages.dissolve("town_code", as_index=False)[["town_code", "geometry"]]
    towns = towns.assign(town_name=towns.town_code.map({T1: "西镇", T2: "东镇"}))
    services = gpd.GeoDataFrame(
        {"service_type": [PARTY], "name": ["西村党群服务中心"], "village_code": [V1]},
        geometry=gpd.points_from_xy([X0], [Y0]),
        crs=METRIC,
    )
    return County(
        towns=towns,
        villages=villages,
        grids=grids,
        service_points=services,
        issues=gpd.GeoDataFrame(geometry=[], crs=METRIC),
        meta={},
        store_location="memory",
    )


@pytest.fixture(scope="module")
def setup():
    data = lattice_county()
    households = lattice_households()
    access = service_access(households, data.service_points, types=[PARTY], detour_factor=1.0)
    return data, households, access


def test_view_counts_match_the_hand_count(setup):
    data, households, access = setup
    view = service_view(data, households, access, service_type=PARTY)
    covered = view.grids.set_index("grid_code")["covered_residents"]
    assert covered.to_dict() == {g: n * RESIDENTS for g, n in COVERED_15_BY_GRID.items()}
    assert view.county["covered_residents"] == 94 * RESIDENTS
    assert view.county["coverage"] == pytest.approx(0.94)
    assert bool(view.county["meets_target"])
    assert view.gaps["grid_code"].tolist() == [NE]  # the only grid with people outside
    assert view.radius_m == pytest.approx(1125.0)  # 15 min × 75 m/min, detour 1
    # per town: the west town (SW, NW) is fully covered, the east one is not
    towns = view.towns.set_index("town_code")["coverage"]
    assert towns[T1] == 1.0 and towns[T2] == pytest.approx(44 / 50)
    assert view.towns["town_code"].iloc[0] == T2  # lowest coverage first


def test_scope_narrows_grids_but_not_the_county(setup):
    data, households, access = setup
    view = service_view(data, households, access, service_type=PARTY, town_code=T2)
    assert set(view.grids["town_code"]) == {T2}
    assert view.scope["residents"] == 50 * RESIDENTS
    assert view.scope["coverage"] == pytest.approx(44 / 50)
    assert view.county["coverage"] == pytest.approx(0.94)
    assert view.gap_areas["uncovered_residents"].sum() == 6 * RESIDENTS


def test_minutes_override_and_the_standard():
    assert service_minutes(PARTY, None) == 15.0
    assert service_minutes("养老服务站", None) == 10.0
    assert service_minutes(PARTY, 5) == 5.0
    assert service_minutes(ALL_ESSENTIAL, None) is None
    with pytest.raises(ValueError, match="unknown service type '会所'"):
        service_minutes("会所", None)


@pytest.fixture(scope="module")
def weighted():
    """The lattice with 5 residents in every NE household (2 elsewhere)."""
    data = lattice_county()
    households = lattice_households()
    ne = (households["i"] >= 5) & (households["j"] >= 5)
    households.loc[ne, "residents"] = 5
    access = service_access(households, data.service_points, types=[PARTY], detour_factor=1.0)
    return data, households, access


def test_propose_reaches_the_heaviest_corner(weighted):
    """5 minutes on foot = 375 m. The corner service reaches 15 households (i, j ≤ 3 with
    i² + j² ≤ 14.06: 4 + 4 + 4 + 3). The NE grid's centre (700 m, 700 m) reaches 35 households
    none of which the corner reaches: the 25 NE ones (5 residents) and 10 on row or column 4
    (2 residents): 145 residents, more than the NW or SE centres (35 × 2 = 70)."""
    data, households, access = weighted
    plan = propose(data, households, access, service_type=PARTY, minutes=5, k=1, source="grids")
    sites = plan.sites(1)
    assert sites["ref"].tolist() == [NE]
    assert plan.covered(0) == 15 * RESIDENTS
    assert plan.covered(1) == 15 * RESIDENTS + 145
    assert sites["added_residents"].tolist() == [145]
    assert plan.residents == 75 * 2 + 25 * 5
    exact = propose(
        data, households, access, service_type=PARTY, minutes=5, k=1, source="grids", exact=True
    )
    assert exact.covered(1) == plan.covered(1) and exact.result.proven_optimal


def test_proposals_export_as_gpkg_and_csv(weighted, tmp_path):
    data, households, access = weighted
    plan = propose(data, households, access, service_type=PARTY, minutes=5, k=1, source="grids")
    table = pd.read_csv(io.BytesIO(plan.export(1, ".csv")), encoding="utf-8-sig", dtype=str)
    assert table["ref"].tolist() == [NE]
    lon, lat = float(table["lon"].iloc[0]), float(table["lat"].iloc[0])
    assert 120.0 < lon < 121.0 and 33.0 < lat < 34.5
    path = tmp_path / "p.gpkg"
    path.write_bytes(plan.export(1, ".gpkg"))
    back = pyogrio.read_dataframe(path, layer="proposals")
    assert back.crs.to_epsg() == 4549 and len(back) == 1
    assert np.isclose(back.geometry.x.iloc[0], X0 + 700.0)
    assert np.isclose(back.geometry.y.iloc[0], Y0 + 700.0)


def test_siting_needs_one_type(setup):
    data, households, access = setup
    with pytest.raises(ValueError, match="pick a type"):
        propose(data, households, access, service_type=ALL_ESSENTIAL, k=1)
