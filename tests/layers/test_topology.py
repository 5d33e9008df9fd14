"""Known-answer tests for layers.topology: arc counts, round trips within tolerance, errors."""

from __future__ import annotations

import math

import geopandas as gpd
import numpy as np
import pytest
import shapely

from layers.topology import METRES_PER_DEGREE_LAT, encode_topology, quantization_steps


def _refs(topology: dict, name: str) -> list[int]:
    out: list[int] = []
    for g in topology["objects"][name]["geometries"]:
        rings = g["arcs"] if g["type"] == "Polygon" else [r for p in g["arcs"] for r in p]
        for ring in rings:
            out.extend(ring)
    return out


def test_2x2_lattice_has_8_arcs_and_inner_edges_are_shared(lattice_2x2) -> None:
    grids, _ = lattice_2x2
    topo = encode_topology({"grids": grids})
    # 5 junctions (centre + 4 edge midpoints): 4 inner edges centre→midpoint,
    # 4 outer arcs midpoint→corner→midpoint.
    assert len(topo["arcs"]) == 8
    assert sorted(len(a) for a in topo["arcs"]) == [2, 2, 2, 2, 3, 3, 3, 3]
    refs = _refs(topo, "grids")
    assert len(refs) == 12  # 3 arcs per square
    used = np.bincount([r if r >= 0 else ~r for r in refs])
    assert sorted(used.tolist()) == [1, 1, 1, 1, 2, 2, 2, 2]
    for arc in np.flatnonzero(used == 2):  # a shared edge is walked once each way
        assert {r for r in refs if r in (arc, ~arc)} == {int(arc), ~int(arc)}


def test_dissolved_outline_reuses_the_grid_arcs(lattice_2x2) -> None:
    grids, outline = lattice_2x2
    topo = encode_topology({"grids": grids, "outline": outline})
    assert len(topo["arcs"]) == 8
    outline_refs = _refs(topo, "outline")
    assert len(outline_refs) == 4
    assert {r if r >= 0 else ~r for r in outline_refs} == {
        i for i, a in enumerate(topo["arcs"]) if len(a) == 3
    }


def test_round_trip_2x2(lattice_2x2, decode_topology) -> None:
    grids, outline = lattice_2x2
    topo = encode_topology({"grids": grids, "outline": outline}, properties={"grids": ["code"]})
    decoded = decode_topology(topo, "grids")
    for got, want in zip(decoded, grids.geometry, strict=True):
        assert got.normalize().equals_exact(want.normalize(), tolerance=1e-5)
    got = decode_topology(topo, "outline")[0]
    assert got.normalize().equals_exact(outline.geometry.iloc[0].normalize(), tolerance=1e-5)
    assert [g["properties"] for g in topo["objects"]["grids"]["geometries"]] == [
        {"code": c} for c in "abcd"
    ]
    assert "properties" not in topo["objects"]["outline"]["geometries"][0]


@pytest.mark.parametrize("tolerance_m", [0.5, 1.0, 2.0])
def test_round_trip_within_tolerance_in_metres(
    small_coverage, decode_topology, tolerance_m
) -> None:
    grids, villages = small_coverage
    layers = {"grids": grids.to_crs(4326), "villages": villages.to_crs(4326)}
    topo = encode_topology(layers, tolerance_m=tolerance_m)
    for name, frame in [("grids", grids), ("villages", villages)]:
        decoded = gpd.GeoSeries(decode_topology(topo, name), crs=4326).to_crs(4549)
        assert decoded.is_valid.all()
        distance = shapely.hausdorff_distance(decoded.values, frame.geometry.values)
        assert distance.max() <= tolerance_m * 1.01, name  # 1 % for the ellipsoid vs 111.32 km/°
        # moving every vertex by at most t changes an area by at most perimeter × t
        assert (np.abs(decoded.area - frame.area) <= frame.length * tolerance_m).all(), name


def test_shared_edges_are_stored_once(small_coverage) -> None:
    grids, villages = small_coverage
    # 0.1 m: finer than the shortest edge (0.72 m), so no edge collapses
    alone = encode_topology({"grids": grids.to_crs(4326)}, tolerance_m=0.1)
    both = encode_topology(
        {"grids": grids.to_crs(4326), "villages": villages.to_crs(4326)}, tolerance_m=0.1
    )
    # every village edge is a grid edge: the villages add no arc
    assert len(both["arcs"]) == len(alone["arcs"])
    # each distinct input segment is in exactly one arc
    xy, ring = shapely.get_coordinates(shapely.get_rings(grids.geometry.values), return_index=True)
    same_ring = ring[1:] == ring[:-1]
    a, b = np.round(xy[:-1][same_ring], 3), np.round(xy[1:][same_ring], 3)
    segments = {tuple(sorted([tuple(p), tuple(q)])) for p, q in zip(a, b, strict=True)}
    assert sum(len(arc) - 1 for arc in alone["arcs"]) == len(segments)
    counts = np.bincount([r if r >= 0 else ~r for r in _refs(alone, "grids")])
    assert counts.max() == 2  # an arc serves at most the two grids beside it
    assert (counts == 2).sum() > len(alone["arcs"]) / 2


def test_hole_island_and_multipolygon(decode_topology) -> None:
    ring_with_hole = shapely.Polygon(
        [(120.0, 33.0), (120.1, 33.0), (120.1, 33.1), (120.0, 33.1)],
        holes=[[(120.03, 33.03), (120.03, 33.07), (120.07, 33.07), (120.07, 33.03)]],
    )
    island = shapely.Polygon([(120.03, 33.03), (120.07, 33.03), (120.07, 33.07), (120.03, 33.07)])
    pair = shapely.MultiPolygon(
        [shapely.box(120.2, 33.0, 120.25, 33.05), shapely.box(120.3, 33.0, 120.35, 33.05)]
    )
    frame = gpd.GeoDataFrame(
        {"k": [1, 2, 3, 4]}, geometry=[ring_with_hole, island, pair, None], crs=4326
    )
    topo = encode_topology({"f": frame})
    assert len(topo["arcs"]) == 4  # outer ring, hole = island (once), two squares
    geoms = topo["objects"]["f"]["geometries"]
    assert [g["type"] for g in geoms] == ["Polygon", "Polygon", "MultiPolygon", None]
    hole_arc, island_arc = geoms[0]["arcs"][1][0], geoms[1]["arcs"][0][0]
    assert hole_arc in (island_arc, ~island_arc)
    decoded = decode_topology(topo, "f")
    for got, want in zip(decoded[:3], frame.geometry[:3], strict=True):
        assert shapely.hausdorff_distance(got, want) < 1e-5
        assert got.geom_type == want.geom_type
    assert decoded[3] is None


def test_properties_are_plain_json_values() -> None:
    frame = gpd.GeoDataFrame(
        {"n": np.array([1, 2], dtype="int64"), "x": [0.5, np.nan], "s": ["甲", None]},
        geometry=[shapely.box(120, 33, 120.01, 33.01), shapely.box(120.01, 33, 120.02, 33.01)],
        crs=4326,
    )
    topo = encode_topology({"f": frame}, properties={"f": ["n", "x", "s"]})
    props = [g["properties"] for g in topo["objects"]["f"]["geometries"]]
    assert props == [{"n": 1, "x": 0.5, "s": "甲"}, {"n": 2, "x": None, "s": None}]
    assert type(props[0]["n"]) is int


def test_quantization_steps_known_values() -> None:
    step_lon, step_lat = quantization_steps((0.0, -1.0, 1.0, 1.0), tolerance_m=1.0)
    assert step_lat == pytest.approx(math.sqrt(2) / METRES_PER_DEGREE_LAT)
    assert step_lon == pytest.approx(step_lat)  # the bounds cross the equator
    step_lon, step_lat = quantization_steps((119.9, 33.45, 120.6, 34.12), tolerance_m=1.0)
    assert step_lon == pytest.approx(step_lat / math.cos(math.radians(33.45)))
    # worst-case displacement of a vertex: half a step on each axis
    worst_m = (
        math.hypot(
            step_lon * METRES_PER_DEGREE_LAT * math.cos(math.radians(33.45)),
            step_lat * METRES_PER_DEGREE_LAT,
        )
        / 2
    )
    assert worst_m == pytest.approx(1.0)


def test_errors_are_collected_and_say_what_to_do(lattice_2x2) -> None:
    grids, _ = lattice_2x2
    points = gpd.GeoDataFrame(geometry=[shapely.Point(120, 33)], crs=4326)
    with pytest.raises(
        ValueError,
        match=r"(?s)not EPSG:4326: call \.to_crs\(4326\).*only Polygon and MultiPolygon"
        r".*no column\(s\) \['nope'\]",
    ):
        encode_topology(
            {"metric": grids.to_crs(4549), "points": points, "grids": grids},
            properties={"grids": ["nope"]},
        )
    with pytest.raises(
        ValueError, match="properties names layer 'villages', which is not in layers"
    ):
        encode_topology({"grids": grids}, properties={"villages": ["name"]})
    with pytest.raises(ValueError, match="tolerance_m must be a positive number of metres"):
        encode_topology({"grids": grids}, tolerance_m=0)
