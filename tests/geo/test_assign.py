"""Known-answer tests for geo.grids.assign: points to grids, ties on shared edges, nothing
dropped."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from geopandas.testing import assert_geodataframe_equal

from geo.grids.assign import (
    PROBLEM_NO_COORDS,
    PROBLEM_OUTSIDE,
    GridIndex,
    assign_events,
    grid_index,
)

METRIC = "EPSG:4549"
# Lower-left corner of the fixtures: inside Sheyang in CGCS2000 / 3-degree GK CM 120E.
X0, Y0 = 524_000.0, 3_737_000.0
TOWN = "320924101"
VILLAGE = "320924101001"


def code(seq: int) -> str:
    return f"{VILLAGE}{seq:03d}"


@pytest.fixture
def lattice() -> gpd.GeoDataFrame:
    """3x3 lattice of 100 m squares; codes run backwards so row order != code order.

    Row r (south to north), column c (west to east) has code ``...{9 - 3r - c:03d}``::

        003 002 001     (r = 2)
        006 005 004     (r = 1)
        009 008 007     (r = 0)
    """
    rows = []
    for r in range(3):
        for c in range(3):
            rows.append(
                {
                    "grid_code": code(9 - 3 * r - c),
                    "village_code": VILLAGE,
                    "town_code": TOWN,
                    "geometry": shapely.box(
                        X0 + 100 * c, Y0 + 100 * r, X0 + 100 * (c + 1), Y0 + 100 * (r + 1)
                    ),
                }
            )
    return gpd.GeoDataFrame(rows, crs=METRIC)


def points(xy, *, crs: str = METRIC, index=None) -> gpd.GeoDataFrame:
    geoms = [None if p is None else shapely.Point(X0 + p[0], Y0 + p[1]) for p in xy]
    return gpd.GeoDataFrame(geometry=geoms, crs=crs, index=index)


# (offset from the lattice corner in metres, expected grid code) — interior, edges, corners.
KNOWN = [
    ((50, 50), code(9)),
    ((150, 50), code(8)),
    ((250, 50), code(7)),
    ((50, 150), code(6)),
    ((150, 150), code(5)),
    ((250, 250), code(1)),
    ((0.001, 299.999), code(3)),
    # Shared edge between 009 and 008 (x = 100): the smaller code wins.
    ((100, 50), code(8)),
    # Shared edge between 008 and 005 (y = 100).
    ((150, 100), code(5)),
    # Shared corner of 009, 008, 006, 005.
    ((100, 100), code(5)),
    # Shared corner of 005, 004, 002, 001.
    ((200, 200), code(1)),
    # Outer boundary belongs to its only grid.
    ((0, 0), code(9)),
    ((300, 300), code(1)),
    ((300, 150), code(4)),
]


@pytest.mark.parametrize(("offset", "expected"), KNOWN)
@pytest.mark.parametrize("cell_m", [7.0, 20.0, 50.0, 100.0])
def test_grid_index_known_answers(lattice, offset, expected, cell_m):
    # cell_m = 50 and 100 put every lattice edge exactly on a raster line.
    index = grid_index(lattice, cell_m=cell_m)
    pos = index.lookup(np.array([X0 + offset[0]]), np.array([Y0 + offset[1]]))
    assert lattice.grid_code.iloc[pos[0]] == expected


def exact_strtree(grids: gpd.GeoDataFrame, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Reference answer without any raster: STRtree intersects, smallest grid code wins."""
    tree = shapely.STRtree(grids.geometry.to_numpy())
    pt, poly = tree.query(shapely.points(x, y), predicate="intersects")
    codes = grids.grid_code.to_numpy()
    out = np.full(len(x), -1)
    for p, g in sorted(zip(pt, poly, strict=True), key=lambda pg: (pg[0], codes[pg[1]])):
        if out[p] == -1:
            out[p] = g
    return out


@pytest.mark.parametrize("cell_m", [7.0, 20.0, 100.0])
def test_grid_index_agrees_with_exact_strtree_path(lattice, cell_m):
    index = grid_index(lattice, cell_m=cell_m)
    # A 2.5 m sweep hits every edge and corner of the lattice and the outside around it.
    dx, dy = np.meshgrid(np.arange(-10, 311, 2.5), np.arange(-10, 311, 2.5))
    x, y = X0 + dx.ravel(), Y0 + dy.ravel()
    fast = index.lookup(x, y)
    np.testing.assert_array_equal(fast, exact_strtree(lattice, x, y))
    assert (fast == -1).any()
    assert set(fast[fast >= 0]) == set(range(9))


def test_assign_events_known_answers(lattice):
    events = points([p for p, _ in KNOWN])
    out = assign_events(events, lattice)
    assert list(out.grid_code.astype(str)) == [c for _, c in KNOWN]
    assert (out.village_code.astype(str) == VILLAGE).all()
    assert (out.town_code.astype(str) == TOWN).all()
    assert (out.assign_problem.astype(str) == "").all()


def test_prebuilt_index_gives_the_same_answer(lattice):
    events = points([p for p, _ in KNOWN])
    assert assign_events(events, lattice, index=grid_index(lattice, cell_m=33.0)).equals(
        assign_events(events, lattice)
    )


def test_unassignable_rows_are_kept_and_flagged(lattice):
    events = gpd.GeoDataFrame(
        geometry=[
            shapely.Point(X0 + 50, Y0 + 50),
            shapely.Point(X0 - 0.5, Y0 + 50),  # just west of the lattice
            shapely.Point(X0 + 5_000, Y0 + 5_000),  # far away
            shapely.Point(np.nan, np.nan),
            None,
            shapely.Point(),  # empty point
            shapely.Point(X0 + 250, Y0 + 250),
        ],
        crs=METRIC,
    )
    out = assign_events(events, lattice)
    assert len(out) == len(events)
    assert list(out.assign_problem.astype(str)) == [
        "",
        PROBLEM_OUTSIDE,
        PROBLEM_OUTSIDE,
        PROBLEM_NO_COORDS,
        PROBLEM_NO_COORDS,
        PROBLEM_NO_COORDS,
        "",
    ]
    assert list(out.grid_code.astype(str)) == [code(9), "", "", "", "", "", code(1)]
    assert list(out.village_code.astype(str)) == [VILLAGE, "", "", "", "", "", VILLAGE]


def test_grids_with_blank_village_or_town_codes(lattice):
    """A grid layer with missing codes still assigns (blank codes read as "")."""
    grids = lattice.copy()
    grids.loc[grids.index[:3], "village_code"] = None
    grids.loc[grids.index[:3], "town_code"] = ""
    events = points([p for p, _ in KNOWN])
    out = assign_events(events, grids)
    assert list(out.grid_code.astype(str)) == [c for _, c in KNOWN]
    blank = out.grid_code.astype(str).isin(grids.grid_code.iloc[:3])
    assert (out.village_code.astype(str)[blank] == "").all()
    assert (out.village_code.astype(str)[~blank] == VILLAGE).all()


def test_output_keeps_index_and_order(lattice):
    index = pd.Index(["t9", "a1", "m5", "b0", "z"], name="ticket_id")
    events = points([(250, 250), (50, 50), None, (150, 150), (-40, 0)], index=index)
    out = assign_events(events, lattice)
    pd.testing.assert_index_equal(out.index, index)
    assert list(out.columns) == ["grid_code", "village_code", "town_code", "assign_problem"]
    assert list(out.grid_code.astype(str)) == [code(1), code(9), "", code(5), ""]


def test_events_in_wgs84_are_reprojected(lattice):
    interior = [(50, 50), (150, 50), (250, 150), (150, 250), (10, 290)]
    metric = points(interior)
    wgs84 = metric.to_crs("EPSG:4326")
    assert wgs84.geometry.x.between(120, 121).all()  # really lon/lat now
    out = assign_events(wgs84, lattice)
    assert list(out.grid_code.astype(str)) == [code(9), code(8), code(4), code(2), code(3)]
    assert assign_events(wgs84, lattice).equals(assign_events(metric, lattice))


def test_events_are_not_modified(lattice):
    events = points([(50, 50), None]).to_crs("EPSG:4326")
    before = events.copy()
    assign_events(events, lattice)
    assert_geodataframe_equal(events, before)


def test_multipolygon_grid():
    # Grid 001 is two squares on a diagonal; grid 002 fills one of the other two cells.
    multi = shapely.MultiPolygon(
        [
            shapely.box(X0, Y0, X0 + 100, Y0 + 100),
            shapely.box(X0 + 100, Y0 + 100, X0 + 200, Y0 + 200),
        ]
    )
    grids = gpd.GeoDataFrame(
        {
            "grid_code": [code(2), code(1)],
            "village_code": VILLAGE,
            "town_code": TOWN,
        },
        geometry=[shapely.box(X0 + 100, Y0, X0 + 200, Y0 + 100), multi],
        crs=METRIC,
    )
    events = points([(50, 50), (150, 150), (150, 50), (50, 150), (100, 100), (150, 100)])
    out = assign_events(events, grids)
    assert list(out.grid_code.astype(str)) == [code(1), code(1), code(2), "", code(1), code(1)]
    assert list(out.assign_problem.astype(str)) == ["", "", "", PROBLEM_OUTSIDE, "", ""]


@pytest.mark.parametrize("crs", ["EPSG:4326", "EPSG:4490"])
def test_geographic_grids_are_refused(lattice, crs):
    geographic = lattice.to_crs(crs)
    with pytest.raises(ValueError, match=r"not a metric CRS \(metres\).*to_crs\('EPSG:4549'\)"):
        grid_index(geographic)
    with pytest.raises(ValueError, match=r"to_crs"):
        assign_events(points([(50, 50)]), geographic)


def test_grids_without_crs_are_refused(lattice):
    with pytest.raises(ValueError, match=r"grids has no CRS.*set_crs\('EPSG:4549'\)"):
        grid_index(lattice.set_crs(None, allow_override=True))


def test_build_with_default_order_breaks_ties_by_position():
    a = shapely.box(0, 0, 10, 10)
    b = shapely.box(10, 0, 20, 10)
    first = GridIndex.build(np.array([a, b]), cell_m=5.0)
    assert list(first.lookup(np.array([10.0]), np.array([5.0]))) == [0]
    swapped = GridIndex.build(np.array([a, b]), order=np.array([1, 0]), cell_m=5.0)
    assert list(swapped.lookup(np.array([10.0]), np.array([5.0]))) == [1]


# --------------------------------------------------------------------- against geopandas.sjoin


def voronoi_coverage(rng: np.random.Generator, n: int = 60) -> gpd.GeoDataFrame:
    """Voronoi cells of random seeds clipped to a 2 km square: a gap-free coverage."""
    square = shapely.box(X0, Y0, X0 + 2_000, Y0 + 2_000)
    seeds = shapely.multipoints(
        np.column_stack([rng.uniform(X0, X0 + 2_000, n), rng.uniform(Y0, Y0 + 2_000, n)])
    )
    cells = shapely.get_parts(shapely.voronoi_polygons(seeds, extend_to=square))
    cells = shapely.intersection(cells, square)
    # Codes in a random order, so position and code disagree.
    seq = rng.permutation(len(cells)) + 1
    return gpd.GeoDataFrame(
        {"grid_code": [code(int(s)) for s in seq], "village_code": VILLAGE, "town_code": TOWN},
        geometry=cells,
        crs=METRIC,
    )


def sjoin_reference(events: gpd.GeoDataFrame, grids: gpd.GeoDataFrame) -> pd.Series:
    """Grid code per event by ``geopandas.sjoin(predicate="intersects")``, smallest code wins."""
    joined = gpd.sjoin(events, grids[["grid_code", "geometry"]], how="left", predicate="intersects")
    best = joined.groupby(level=0)["grid_code"].min()
    return best.reindex(events.index).fillna("")


def test_random_points_match_sjoin_with_min_code_tie_break():
    rng = np.random.default_rng(20261120)
    grids = voronoi_coverage(rng)
    assert shapely.coverage_is_valid(grids.geometry.to_numpy())
    # Random points (some outside the square), plus every vertex of the coverage: vertices
    # are shared by two or three cells, so the tie-break decides them.
    n = 4_000
    random_xy = np.column_stack(
        [rng.uniform(X0 - 100, X0 + 2_100, n), rng.uniform(Y0 - 100, Y0 + 2_100, n)]
    )
    vertices = np.unique(shapely.get_coordinates(grids.geometry.to_numpy()), axis=0)
    xy = np.concatenate([random_xy, vertices])
    events = gpd.GeoDataFrame(geometry=shapely.points(xy), crs=METRIC)
    expected = sjoin_reference(events, grids)
    got = assign_events(events, grids).grid_code.astype(str)
    assert (expected != "").sum() > n * 0.8  # most points fall inside
    pd.testing.assert_series_equal(got, expected, check_names=False, check_dtype=False)
