"""Fixtures for layers/ tests: hand-built coverages, a tiny TopoJSON decoder, a node runner.

Fixtures
--------
decode_topology
    ``decode_topology(topology, name) -> list[shapely geometry | None]``: a
    20-line TopoJSON reader written from the specification, independent of
    layers/, that also checks consecutive arcs meet.
lattice_2x2
    Four 0.01° squares in a 2×2 lattice near Sheyang (EPSG:4326), plus their
    hand-dissolved outline (which keeps the edge midpoints, as a coverage
    union does).
small_coverage
    60 Voronoi cells clipped to a polygon with a hole (EPSG:4549), with a
    ``village`` column and the villages dissolved from them.
run_node
    ``run_node(script: str) -> Any``: runs JavaScript with node, returns the
    JSON it prints. Skips (fails under CI) without node.
"""

from __future__ import annotations

import itertools
import json
import shutil
import subprocess
from collections.abc import Callable
from typing import Any

import geopandas as gpd
import numpy as np
import pytest
import shapely

Decoder = Callable[[dict[str, Any], str], list[Any]]


def _decode(topology: dict[str, Any], name: str) -> list[Any]:
    (sx, sy), (tx, ty) = topology["transform"]["scale"], topology["transform"]["translate"]
    arcs = [
        np.cumsum(np.asarray(a, dtype=float), axis=0) * [sx, sy] + [tx, ty]
        for a in topology["arcs"]
    ]

    def ring(refs: list[int]) -> np.ndarray:
        pieces = [arcs[r] if r >= 0 else arcs[~r][::-1] for r in refs]
        for before, after in itertools.pairwise(pieces):
            assert np.allclose(before[-1], after[0], rtol=0, atol=1e-12), (
                "consecutive arcs must meet"
            )
        pts = np.vstack([pieces[0], *(p[1:] for p in pieces[1:])])
        assert np.allclose(pts[0], pts[-1], rtol=0, atol=1e-12), "a ring must close"
        return pts

    out: list[Any] = []
    for g in topology["objects"][name]["geometries"]:
        if g["type"] is None:
            out.append(None)
        elif g["type"] == "Polygon":
            rings = [ring(r) for r in g["arcs"]]
            out.append(shapely.Polygon(rings[0], rings[1:]))
        else:
            polys = [[ring(r) for r in p] for p in g["arcs"]]
            out.append(shapely.MultiPolygon([shapely.Polygon(p[0], p[1:]) for p in polys]))
    return out


@pytest.fixture(scope="session")
def decode_topology() -> Decoder:
    return _decode


@pytest.fixture(scope="session")
def lattice_2x2() -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    x0, y0, d = 120.20, 33.70, 0.01
    squares = [
        shapely.box(x0 + i * d, y0 + j * d, x0 + (i + 1) * d, y0 + (j + 1) * d)
        for j in range(2)
        for i in range(2)
    ]
    grids = gpd.GeoDataFrame(
        {"code": ["a", "b", "c", "d"], "value": [1, 2, 3, 4]}, geometry=squares, crs=4326
    )
    ring = [(x0 + i * d, y0) for i in range(3)] + [(x0 + 2 * d, y0 + j * d) for j in (1, 2)]
    ring += [(x0 + i * d, y0 + 2 * d) for i in (1, 0)] + [(x0, y0 + d)]
    outline = gpd.GeoDataFrame({"name": ["all"]}, geometry=[shapely.Polygon(ring)], crs=4326)
    return grids, outline


@pytest.fixture(scope="session")
def small_coverage() -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    rng = np.random.default_rng(0)
    x0, y0 = 500_000.0, 3_740_000.0  # EPSG:4549, near 合德镇
    area = shapely.Polygon(
        [
            (x0, y0),
            (x0 + 5000, y0),
            (x0 + 5000, y0 + 4000),
            (x0 + 2500, y0 + 2500),
            (x0, y0 + 4000),
        ],
        holes=[shapely.Point(x0 + 1500, y0 + 1200).buffer(500, quad_segs=4).exterior.coords],
    )
    pts = rng.uniform([x0, y0], [x0 + 5000, y0 + 4000], size=(60, 2))
    cells = shapely.get_parts(shapely.voronoi_polygons(shapely.multipoints(pts), extend_to=area))
    geoms = shapely.intersection(np.asarray(cells), area)
    geoms = geoms[~shapely.is_empty(geoms)]
    cx = shapely.get_coordinates(shapely.centroid(geoms))[:, 0]
    grids = gpd.GeoDataFrame(
        {
            "code": [f"g{i:02d}" for i in range(len(geoms))],
            "village": np.where(cx < x0 + 2500, "west", "east"),
        },
        geometry=geoms,
        crs=4549,
    )
    villages = grids.dissolve(by="village", method="coverage", as_index=False)[
        ["village", "geometry"]
    ]
    return grids, villages


@pytest.fixture(scope="session")
def run_node(require: Callable[[bool, str], None]) -> Callable[[str], Any]:
    node = shutil.which("node")
    require(
        node is not None,
        "node (Node.js) is needed to run static/gridgov/*.js; apt-get install nodejs",
    )

    def run(script: str) -> Any:
        done = subprocess.run(
            [str(node), "-e", script], capture_output=True, text=True, timeout=60, check=False
        )
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout)

    return run
