"""Known-answer tests for geo.services.network (road travel times) and the demo county's roads."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import shapely
from scipy.sparse import csr_matrix

from geo.core.errors import InputFileError
from geo.demo import build as demo
from geo.demo import roads as _roads
from geo.services.network import RoadNetwork, read_roads

WALK = 4.5  # km/h: 75 m a minute
PER_MIN = WALK * 1000 / 60
X0, Y0 = 524_000.0, 3_737_000.0  # in 合德镇, EPSG:4549

METRIC_CRS = "EPSG:4549"  # the test data's CRS (Sheyang's zone)


def lines(*coords: list[tuple[float, float]], crs: str | None = METRIC_CRS) -> gpd.GeoDataFrame:
    """Road lines from coordinate lists relative to (X0, Y0)."""
    geoms = [shapely.LineString([(X0 + x, Y0 + y) for x, y in c]) for c in coords]
    return gpd.GeoDataFrame({"name": [f"r{i}" for i in range(len(geoms))]}, geometry=geoms, crs=crs)


def xy(*points: tuple[float, float]) -> np.ndarray:
    return np.array([(X0 + x, Y0 + y) for x, y in points], dtype=float)


@pytest.fixture
def ell() -> RoadNetwork:
    """An L: 3,000 m east, then 4,000 m north; plus a 1 km road off on its own."""
    roads = lines(
        [(0, 0), (3000, 0)],
        [(3000, 0), (3000, 4000)],
        [(10_000, 0), (11_000, 0)],
    )
    return RoadNetwork.from_lines(roads, max_edge_m=None)


# --------------------------------------------------------------------------- building


def test_graph_of_the_ell(ell):
    assert ell.n_nodes == 5  # the shared corner is one node
    assert ell.n_edges == 3
    assert sorted(ell.lengths_m) == [1000.0, 3000.0, 4000.0]
    assert ell.crs == METRIC_CRS
    labels = ell.component_labels()
    assert np.bincount(labels).tolist() == [3, 2]


def test_densify_adds_nodes_not_length():
    net = RoadNetwork.from_lines(lines([(0, 0), (1000, 0)]), max_edge_m=100)
    assert net.n_nodes == 11 and net.n_edges == 10
    assert net.lengths_m.sum() == pytest.approx(1000.0)


def test_duplicate_lines_are_one_road():
    # Summing duplicate matrix entries would make this road 2,000 m long.
    net = RoadNetwork.from_lines(lines([(0, 0), (1000, 0)], [(1000, 0), (0, 0)]), max_edge_m=None)
    assert net.n_edges == 1
    minutes, _ = net.nearest_minutes(xy((0, 0)), xy((1000, 0)), speed_kmh=WALK)
    assert minutes[0] == pytest.approx(1000 / PER_MIN)


def test_ends_within_the_snap_tolerance_join():
    roads = lines([(0, 0), (1000, 0)], [(1000.4, 0.3), (1000.4, 1000)])
    joined = RoadNetwork.from_lines(roads, snap_tolerance_m=1.0, max_edge_m=None)
    apart = RoadNetwork.from_lines(roads, snap_tolerance_m=0.1, max_edge_m=None)
    assert joined.n_nodes == 3 and apart.n_nodes == 4
    origin, facility = xy((0, 0)), xy((1000.4, 1000))
    assert np.isfinite(joined.nearest_minutes(origin, facility, speed_kmh=WALK)[0][0])
    assert np.isinf(apart.nearest_minutes(origin, facility, speed_kmh=WALK)[0][0])


@pytest.mark.parametrize(
    ("crs", "match"),
    [
        (None, "roads has no CRS"),
        ("EPSG:4326", r"roads is in EPSG:4326, not a metric CRS.*to_crs\('EPSG:4549'\)"),
    ],
)
def test_refuses_degrees_and_unknown_crs(crs, match):
    roads = gpd.GeoDataFrame(geometry=[shapely.LineString([(120.2, 33.7), (120.3, 33.7)])], crs=crs)
    with pytest.raises(ValueError, match=match):
        RoadNetwork.from_lines(roads)


def test_refuses_a_layer_without_lines():
    points = gpd.GeoDataFrame(geometry=[shapely.Point(X0, Y0)], crs=METRIC_CRS)
    with pytest.raises(ValueError, match="no LineString"):
        RoadNetwork.from_lines(points)


# --------------------------------------------------------------------------- travel times


def test_known_minutes_over_the_ell(ell):
    # 30 m off the road to the corner node, 3,000 + 4,000 m of road, 0 m to the facility.
    minutes, facility = ell.nearest_minutes(xy((0, -30)), xy((3000, 4000)), speed_kmh=WALK)
    assert minutes[0] == pytest.approx((30 + 7000) / PER_MIN)  # 93.7 min
    assert facility.tolist() == [0]
    straight = np.hypot(3000, 4030) / PER_MIN
    assert minutes[0] > straight


def test_multi_source_picks_the_nearest_facility(ell):
    # Nodes sit only at the vertices here: (0, 0), the corner (3000, 0), (3000, 4000).
    facilities = xy((3000, 4000), (3000, 0))
    origins = xy((0, 0), (3000, 3500), (2900, 1000))
    minutes, facility = ell.nearest_minutes(origins, facilities, speed_kmh=WALK)
    assert facility.tolist() == [1, 0, 1]
    walk_off = np.hypot(100, 1000)  # (2900, 1000) to the corner node
    assert minutes == pytest.approx([3000 / PER_MIN, 500 / PER_MIN, walk_off / PER_MIN])


def test_multi_source_adds_the_facility_walk_off_the_road():
    net = RoadNetwork.from_lines(lines([(0, 0), (1000, 0), (2000, 0)]), max_edge_m=None)
    # Facility 0 is 1,000 m along the road but 1,200 m off it; facility 1 is 2,000 m along.
    facilities = xy((1000, 1200), (2000, 0))
    minutes, facility = net.nearest_minutes(xy((0, 0)), facilities, speed_kmh=WALK)
    assert facility.tolist() == [1]
    assert minutes[0] == pytest.approx(2000 / PER_MIN)
    minutes, facility = net.nearest_minutes(xy((0, 0)), facilities[:1], speed_kmh=WALK)
    assert minutes[0] == pytest.approx(2200 / PER_MIN)


def test_unreachable_component_gives_inf_and_minus_one(ell):
    origins = xy((10_500, 10), (np.nan, np.nan), (0, 0))
    minutes, facility = ell.nearest_minutes(origins, xy((3000, 4000)), speed_kmh=WALK)
    assert np.isinf(minutes[:2]).all()
    assert facility.tolist() == [-1, -1, 0]
    none, idx = ell.nearest_minutes(origins, np.empty((0, 2)), speed_kmh=WALK)
    assert np.isinf(none).all() and (idx == -1).all()


def test_crossing_without_a_shared_vertex_is_not_a_junction():
    # An east-west road and a north-south road cross at (1000, 0) with no vertex there
    # (a bridge over it, or a river road beneath): no turning from one onto the other.
    crossing = lines([(0, 0), (2000, 0)], [(1000, -1000), (1000, 1000)])
    net = RoadNetwork.from_lines(crossing, max_edge_m=None)
    minutes, facility = net.nearest_minutes(xy((1000, -1000)), xy((2000, 0)), speed_kmh=WALK)
    assert np.isinf(minutes[0]) and facility[0] == -1
    # The same roads with a shared vertex at the crossing: an at-grade junction.
    junction = lines([(0, 0), (1000, 0), (2000, 0)], [(1000, -1000), (1000, 0), (1000, 1000)])
    net = RoadNetwork.from_lines(junction, max_edge_m=None)
    minutes, _ = net.nearest_minutes(xy((1000, -1000)), xy((2000, 0)), speed_kmh=WALK)
    assert minutes[0] == pytest.approx(2000 / PER_MIN)


def test_speed_must_be_positive(ell):
    with pytest.raises(ValueError, match="speed_kmh must be a positive"):
        ell.nearest_minutes(xy((0, 0)), xy((0, 0)), speed_kmh=0)
    with pytest.raises(ValueError, match=r"origins_xy must have shape \(n, 2\)"):
        ell.nearest_minutes(np.zeros((3, 3)), xy((0, 0)), speed_kmh=WALK)


@pytest.fixture(scope="module")
def lattice() -> RoadNetwork:
    """A 12 × 12 km lattice every 800 m (crossings noded) with a few diagonal roads."""
    rng = np.random.default_rng(1)
    grid = [
        shapely.LineString([(X0 + c, Y0), (X0 + c, Y0 + 12_000)]) for c in range(0, 12_001, 800)
    ]
    grid += [
        shapely.LineString([(X0, Y0 + c), (X0 + 12_000, Y0 + c)]) for c in range(0, 12_001, 800)
    ]
    for _ in range(5):
        a, b = rng.uniform(0, 12_000, (2, 2))
        grid.append(shapely.LineString([(X0 + a[0], Y0 + a[1]), (X0 + b[0], Y0 + b[1])]))
    noded = shapely.get_parts(shapely.node(shapely.MultiLineString(grid)))
    return RoadNetwork.from_lines(gpd.GeoSeries(noded, crs=METRIC_CRS), max_edge_m=100)


def test_network_is_never_shorter_than_the_straight_line(lattice):
    rng = np.random.default_rng(2)
    origins = xy(*rng.uniform(-500, 12_500, (3000, 2)))
    facilities = xy(*rng.uniform(0, 12_000, (40, 2)))
    minutes, facility = lattice.nearest_minutes(origins, facilities, speed_kmh=WALK)
    assert np.isfinite(minutes).all()
    straight_to_it = np.hypot(*(origins - facilities[facility]).T) / PER_MIN
    straight_nearest = np.min(np.hypot(*(origins[:, None] - facilities[None]).T), axis=0)
    assert (minutes >= straight_to_it - 1e-9).all()
    assert (minutes >= straight_nearest / PER_MIN - 1e-9).all()
    # A lattice detours: on average clearly more than the straight line, less than 2x.
    assert 1.1 < np.median(minutes / (straight_nearest / PER_MIN)) < 2.0


@pytest.mark.parametrize("limit", [5.0, 15.0, 40.0])
def test_reach_matrix_agrees_with_nearest_minutes(lattice, limit):
    rng = np.random.default_rng(3)
    origins = xy(*rng.uniform(-300, 12_300, (1500, 2)))
    origins[7] = np.nan
    facilities = xy(*rng.uniform(0, 12_000, (12, 2)))
    reach = lattice.reach_matrix(origins, facilities, speed_kmh=WALK, minutes=limit)
    assert isinstance(reach, csr_matrix)
    assert reach.shape == (1500, 12) and reach.dtype == bool
    dense = reach.toarray()
    nearest, facility = lattice.nearest_minutes(origins, facilities, speed_kmh=WALK)
    assert np.array_equal(dense.any(axis=1), nearest <= limit)
    inside = nearest <= limit
    assert dense[np.flatnonzero(inside), facility[inside]].all()
    for j in range(len(facilities)):  # each column is that facility alone
        alone, _ = lattice.nearest_minutes(origins, facilities[j : j + 1], speed_kmh=WALK)
        assert np.array_equal(dense[:, j], alone <= limit), j


def test_reach_matrix_in_small_batches_is_the_same(lattice, monkeypatch):
    from geo.services import network

    rng = np.random.default_rng(4)
    origins, facilities = xy(*rng.uniform(0, 12_000, (500, 2))), xy(*rng.uniform(0, 12_000, (9, 2)))
    whole = lattice.reach_matrix(origins, facilities, speed_kmh=WALK, minutes=20)
    monkeypatch.setattr(network, "_REACH_CELLS", lattice.n_nodes * 2)  # two facilities a batch
    batched = lattice.reach_matrix(origins, facilities, speed_kmh=WALK, minutes=20)
    assert (whole != batched).nnz == 0
    assert whole.nnz > 0


def test_reach_matrix_known_answer(ell):
    origins = xy((0, 0), (3000, 3000), (10_000, 0))
    facilities = xy((3000, 4000), (3000, 0))
    reach = ell.reach_matrix(origins, facilities, speed_kmh=WALK, minutes=40).toarray()
    # (0, 0): 3,000 m = 40 min to facility 1 (inclusive), 7,000 m to facility 0.
    # (3000, 3000) snaps to the node (3000, 4000), 1,000 m off: 13 min to facility 0,
    # 1,000 + 4,000 m = 67 min to facility 1. (10000, 0): on the road cut off from both.
    assert reach.tolist() == [[False, True], [True, False], [False, False]]


# --------------------------------------------------------------------------- reading


OSM_XML = """<?xml version="1.0" encoding="UTF-8"?>
<osm version="0.6" generator="GridGov test">
  <node id="1" lat="33.77" lon="120.25" version="1"/>
  <node id="2" lat="33.77" lon="120.26" version="1"/>
  <node id="3" lat="33.78" lon="120.26" version="1"/>
  <node id="4" lat="33.78" lon="120.27" version="1"/>
  <way id="10" version="1"><nd ref="1"/><nd ref="2"/>
    <tag k="highway" v="residential"/><tag k="name" v="人民路"/></way>
  <way id="11" version="1"><nd ref="2"/><nd ref="3"/>
    <tag k="highway" v="primary"/><tag k="bridge" v="yes"/></way>
  <way id="12" version="1"><nd ref="3"/><nd ref="4"/><tag k="waterway" v="river"/></way>
  <way id="13" version="1"><nd ref="1"/><nd ref="4"/><tag k="highway" v="footway"/></way>
</osm>
"""


@pytest.mark.parametrize("suffix", [".gpkg", ".shp"])
def test_read_roads_from_gis_files(tmp_path, suffix):
    roads = lines([(0, 0), (1000, 0)], [(1000, 0), (1000, 500)]).to_crs("EPSG:4326")
    path = tmp_path / f"roads{suffix}"
    roads.to_file(path)
    got = read_roads(path)
    assert got.crs == METRIC_CRS
    assert list(got.name) == ["r0", "r1"]
    assert shapely.length(got.geometry.to_numpy()) == pytest.approx([1000, 500], abs=0.01)
    net = RoadNetwork.from_lines(got, max_edge_m=None)
    minutes, _ = net.nearest_minutes(xy((0, 0)), xy((1000, 500)), speed_kmh=WALK)
    assert minutes[0] == pytest.approx(1500 / PER_MIN, abs=1e-3)


def test_read_roads_picks_the_roads_layer_of_a_geopackage(tmp_path):
    path = tmp_path / "county.gpkg"
    lines([(0, 0), (1000, 0)]).to_file(path, layer="roads")
    gpd.GeoDataFrame(geometry=[shapely.Point(X0, Y0)], crs=METRIC_CRS).to_file(path, layer="towns")
    assert len(read_roads(path)) == 1
    with pytest.raises(
        InputFileError, match=r"county\.gpkg:towns: 没有道路线.* / no road lines.*Point"
    ):
        read_roads(f"{path}:towns")


def test_read_roads_explodes_multilines(tmp_path):
    multi = shapely.MultiLineString([[(X0, Y0), (X0 + 10, Y0)], [(X0, Y0 + 5), (X0 + 10, Y0 + 5)]])
    path = tmp_path / "multi.gpkg"
    gpd.GeoDataFrame({"name": ["m"]}, geometry=[multi], crs=METRIC_CRS).to_file(path)
    got = read_roads(path)
    assert len(got) == 2 and (got.geom_type == "LineString").all()


def test_read_roads_says_which_file_has_no_lines(tmp_path):
    path = tmp_path / "shops.shp"
    gpd.GeoDataFrame(geometry=[shapely.Point(X0, Y0)], crs=METRIC_CRS).to_file(path)
    with pytest.raises(
        InputFileError, match=r"shops\.shp: .* / no road lines: the layer holds Point"
    ):
        read_roads(path)


def test_read_roads_from_openstreetmap(tmp_path):
    path = tmp_path / "sheyang.osm"
    path.write_text(OSM_XML, encoding="utf-8")
    got = read_roads(path)
    assert got.crs == METRIC_CRS
    assert list(got.highway) == ["residential", "primary"]  # no footway, no river
    assert list(got.road_class) == ["村道", "干线/县道"]
    assert list(got.bridge) == [False, True]
    assert got.name.iloc[0] == "人民路"
    assert shapely.length(got.geometry.iloc[0]) == pytest.approx(927, abs=5)  # 0.01° at 33.77°N


def test_read_roads_openstreetmap_without_roads(tmp_path):
    path = tmp_path / "rivers.osm.pbf"
    path.write_text(OSM_XML.replace('k="highway"', 'k="waterway"'), encoding="utf-8")
    with pytest.raises(InputFileError, match=r"rivers\.osm\.pbf: .* / no road lines: no way has a"):
        read_roads(path)
    broken = tmp_path / "broken.osm.pbf"
    broken.write_bytes(b"\x00\x01 not OpenStreetMap")
    with pytest.raises(
        InputFileError,
        match=r"broken\.osm\.pbf: OpenStreetMap 文件无法读取.* / cannot read the OpenStreetMap",
    ):
        read_roads(broken)
    with pytest.raises(InputFileError, match=r"missing\.osm\.pbf: 文件不存在 / file not found"):
        read_roads(tmp_path / "missing.osm.pbf")


# --------------------------------------------------------------------------- the demo roads


@pytest.fixture(scope="module")
def demo_roads() -> dict[str, object]:
    """Towns, villages, rivers and roads of the seed-0 demo county (a few seconds)."""
    rng = np.random.default_rng(0)  # the same draws as demo.generate for towns and villages
    outline = demo._outline()
    towns = demo._towns(outline)
    villages = demo._villages(towns, demo._Names(rng), rng)
    layers = _roads.road_layers(outline, towns, villages, seed=0)
    return {"outline": outline, "towns": towns, "villages": villages, **layers}


@pytest.fixture(scope="module")
def demo_network(demo_roads) -> RoadNetwork:
    return RoadNetwork.from_lines(demo_roads["roads"])


def test_demo_roads_and_rivers_layers(demo_roads):
    roads, rivers = demo_roads["roads"], demo_roads["rivers"]
    assert roads.crs == METRIC_CRS and rivers.crs == METRIC_CRS
    assert set(roads.road_class) == {"干线/县道", "乡道", "村道"}
    assert roads.bridge.dtype == bool and 0 < roads.bridge.sum() < len(roads)
    assert (roads.geom_type == "LineString").all() and (rivers.geom_type == "LineString").all()
    assert {"射阳河", "黄沙港", "新洋港"} <= set(rivers.name)
    inside = demo_roads["outline"].buffer(1.0)
    assert shapely.within(roads.geometry.to_numpy(), inside).all()
    assert shapely.within(rivers.geometry.to_numpy(), inside).all()
    # 射阳河 reaches the sea: its east end lies on the coast (the outline's edge).
    east_end = max(
        (shapely.get_point(g, -1) for g in rivers[rivers.name == "射阳河"].geometry),
        key=lambda p: p.x,
    )
    assert demo_roads["outline"].boundary.distance(east_end) < 1.0


def test_demo_network_is_large_and_connected(demo_roads, demo_network):
    assert demo_network.n_nodes >= 50_000
    villages = demo_roads["villages"]
    centres = villages[["centre_x", "centre_y"]].to_numpy()
    node, _ = demo_network._snap(centres, "centres")
    labels = demo_network.component_labels()[node]
    assert (labels == 0).mean() >= 0.95
    seat = demo_roads["towns"][["seat_x", "seat_y"]].to_numpy()[:1]  # 合德镇
    minutes, _ = demo_network.nearest_minutes(centres, seat, speed_kmh=30.0)
    assert (np.isfinite(minutes)).mean() >= 0.95
    assert np.nanmax(minutes[np.isfinite(minutes)]) < 120  # by car, within two hours


def test_demo_roads_cross_rivers_only_on_bridges(demo_roads, demo_network):
    roads = demo_roads["roads"]
    water = shapely.union_all(demo_roads["rivers"].geometry.to_numpy())
    assert not shapely.intersects(roads.geometry[~roads.bridge].to_numpy(), water).any()
    # Every graph edge over the water lies on a bridge (give or take the 1 m snap tolerance).
    a, b = demo_network.nodes_xy[demo_network.edges.T]
    edges = shapely.linestrings(np.stack([a, b], axis=1))
    wet = shapely.intersects(edges, water)
    assert wet.sum() > 0
    bridges = shapely.union_all(roads.geometry[roads.bridge].to_numpy()).buffer(1.0)
    assert shapely.within(edges[wet], bridges).all()
    # Without the bridges no edge touches the water: the two banks are not joined there.
    dry = RoadNetwork.from_lines(roads[~roads.bridge])
    a, b = dry.nodes_xy[dry.edges.T]
    assert not shapely.intersects(shapely.linestrings(np.stack([a, b], axis=1)), water).any()


def test_demo_has_gaps_where_lattice_roads_meet_a_river(demo_roads):
    # Bridgeless lattice roads stop short of the banks: road ends within the river zone.
    roads, rivers = demo_roads["roads"], demo_roads["rivers"]
    water = shapely.union_all(rivers.geometry.to_numpy())
    village = roads[(roads.road_class == "村道") & ~roads.bridge].geometry.to_numpy()
    ends = np.concatenate([shapely.get_point(village, 0), shapely.get_point(village, -1)])
    near = shapely.distance(ends, water)
    at_gap = (near > _roads.RIVER_ZONE_M - 0.5) & (near < _roads.RIVER_ZONE_M + 0.5)
    assert at_gap.sum() > 100


def test_demo_roads_are_deterministic(demo_roads):
    again = _roads.road_layers(
        demo_roads["outline"], demo_roads["towns"], demo_roads["villages"], seed=0
    )
    for layer in ("roads", "rivers"):
        got, want = again[layer], demo_roads[layer]
        assert len(got) == len(want), layer
        assert shapely.equals_exact(got.geometry.to_numpy(), want.geometry.to_numpy(), 0).all()
    other = _roads.road_layers(
        demo_roads["outline"], demo_roads["towns"], demo_roads["villages"], seed=1
    )
    assert not other["rivers"].geometry.geom_equals(demo_roads["rivers"].geometry).all()


def test_read_roads_reads_the_demo_layer(demo_roads, tmp_path):
    path = Path(tmp_path) / "demo.gpkg"
    demo_roads["roads"].to_file(path, layer="roads")
    demo_roads["rivers"].to_file(path, layer="rivers")
    got = read_roads(path)
    assert len(got) == len(demo_roads["roads"])
    assert got.bridge.dtype == bool
