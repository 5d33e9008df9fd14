"""Packed transport form: Python packs, the shipped JS (run in node) unpacks the same TopoJSON."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from layers._pack import pack_topology
from layers.topology import encode_topology

STATIC = Path(__file__).resolve().parents[2] / "static"
GRIDGOV_JS = STATIC / "gridgov" / "grid-choropleth.js"
TOPOJSON_CLIENT_JS = STATIC / "vendor" / "topojson-client" / "topojson-client.min.js"


def test_columns_take_the_shortest_encoding() -> None:
    from layers._pack import _pack_column

    assert _pack_column([1, 2, 3]) == ["v", [1, 2, 3]]
    assert _pack_column(["合德镇"] * 4 + ["临海镇"]) == ["d", ["合德镇", "临海镇"], [0, 0, 0, 0, 1]]
    codes = ["320924101201001", "320924101201002", "320924101201010", "320924102201001"]
    assert _pack_column(codes) == [
        "f",
        [0, 14, 13, 8],
        ["320924101201001", "2", "10", "2201001"],
    ]


def test_front_coding_counts_utf16_units() -> None:
    from layers._pack import _front_code

    # U+20BB7 (𠮷) is two UTF-16 code units: JavaScript's slice must keep both
    prefixes, suffixes = _front_code(["𠮷村1", "𠮷村2"])
    assert prefixes == [0, 3]
    assert suffixes == ["𠮷村1", "2"]


def test_ring_references_are_delta_coded() -> None:
    topo = {
        "type": "Topology",
        "transform": {"scale": [1, 1], "translate": [0, 0]},
        "arcs": [[[0, 0], [1, 0]], [[1, 0], [0, 1]], [[1, 1], [-1, -1]]],
        "objects": {
            "o": {
                "type": "GeometryCollection",
                "geometries": [
                    {"type": "Polygon", "arcs": [[0, 1, 2]]},
                    {"type": "Polygon", "arcs": [[~2, ~1, ~0]]},
                    {"type": None},
                ],
            }
        },
    }
    packed = pack_topology(topo, properties={})
    # refs 0,1,2 → deltas 0,1,1 → 0,2,2; then ~2,~1,~0 → idx 2,1,0 backwards → 1,-1,-1
    assert packed["objects"]["o"]["geometries"] == [[[0, 2, 2]], [[1, -1, -1]], None]
    # arcs: n, then the first point relative to the previous arc's last point
    assert packed["arcs"] == [2, 0, 0, 1, 0, 2, 0, 0, 0, 1, 2, 0, 0, -1, -1]


@pytest.fixture(scope="module")
def coverage_topology(small_coverage) -> dict:
    grids, villages = small_coverage
    grids = grids.assign(
        name=[f"射阳县合德镇{v}第{i}网格" for i, v in enumerate(grids["village"])],
        n=np.arange(len(grids)),
        x=np.where(np.arange(len(grids)) % 7 == 0, np.nan, np.arange(len(grids)) / 4),
    )
    return encode_topology(
        {"grids": grids.to_crs(4326), "villages": villages.to_crs(4326)},
        properties={"grids": ["code", "name", "village", "n", "x"], "villages": ["village"]},
    )


def test_javascript_unpacks_to_the_same_topology(coverage_topology, run_node, tmp_path) -> None:
    columns = {"grids": ["code", "name", "village", "n", "x"], "villages": ["village"]}
    packed = pack_topology(coverage_topology, properties=columns)
    assert len(json.dumps(packed)) < 0.5 * len(json.dumps(coverage_topology))
    src = tmp_path / "packed.json"
    src.write_text(json.dumps(packed, ensure_ascii=False), encoding="utf-8")
    out = run_node(
        f"const api = require({json.dumps(str(GRIDGOV_JS))});"
        f"const packed = JSON.parse(require('fs').readFileSync({json.dumps(str(src))}, 'utf8'));"
        "console.log(JSON.stringify(api.unpackTopology(packed)));"
    )
    topo = out["topology"]
    assert topo["arcs"] == coverage_topology["arcs"]
    assert topo["transform"] == coverage_topology["transform"]
    for name in columns:
        want = coverage_topology["objects"][name]["geometries"]
        got = topo["objects"][name]["geometries"]
        assert [{k: v for k, v in g.items() if k != "properties"} for g in want] == got
        assert [g["properties"] for g in want] == out["properties"][name]


def test_topojson_client_decodes_what_python_decodes(
    coverage_topology, decode_topology, run_node, tmp_path
) -> None:
    packed = pack_topology(coverage_topology, properties={"grids": ["code"]})
    src = tmp_path / "packed.json"
    src.write_text(json.dumps(packed), encoding="utf-8")
    out = run_node(
        f"globalThis.topojson = require({json.dumps(str(TOPOJSON_CLIENT_JS))});"
        f"const api = require({json.dumps(str(GRIDGOV_JS))});"
        f"const text = require('fs').readFileSync({json.dumps(str(src))}, 'utf8');"
        "const u = api.unpackTopology(JSON.parse(text));"
        "const o = u.topology.objects.grids;"
        "o.geometries.forEach((g, i) => { g.properties = u.properties.grids[i]; });"
        "console.log(JSON.stringify(topojson.feature(u.topology, o)));"
    )
    expected = decode_topology(coverage_topology, "grids")
    assert len(out["features"]) == len(expected)
    for feature, geom in zip(out["features"], expected, strict=True):
        assert feature["geometry"]["type"] == geom.geom_type
        rings = feature["geometry"]["coordinates"]
        np.testing.assert_allclose(rings[0], np.asarray(geom.exterior.coords), rtol=0, atol=1e-9)
    assert [f["properties"]["code"] for f in out["features"]][:3] == ["g00", "g01", "g02"]


def test_class_of_matches_python(run_node) -> None:
    from layers.classify import class_breaks

    values = [0, 0, 1, 1, 2, 3, 5, 8, 13, 21]
    breaks = class_breaks(values, classes=4)
    probes = [0, 0.5, 1, 1.5, 2, 3, 4, 5, 13, 21, 99, None]
    out = run_node(
        f"const api = require({json.dumps(str(GRIDGOV_JS))});"
        f"const bins = {json.dumps(list(breaks.bins))};"
        f"console.log(JSON.stringify({json.dumps(probes)}.map(v => api.classOf(v, bins))));"
    )
    expected = breaks.classify([np.nan if v is None else v for v in probes]).tolist()
    assert out == expected
    assert expected[-2:] == [len(breaks.bins) - 1, -1]  # above the top: last class; missing: -1
