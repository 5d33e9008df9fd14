"""Overview map payload for 3,689 grids: GridGov's packed TopoJSON layer vs folium GeoJson.

Builds a synthetic coverage (3,689 Voronoi cells clipped to the real Sheyang outline of
``data/sheyang_outline.geojson``, seeded), dissolves it into 238 villages and 15 towns,
renders the full map HTML both ways (GridGov: layers.offline.base_map +
layers.choropleth.grid_choropleth; peer: folium.GeoJson + GeoJsonTooltip + style_function,
the default folium way) and prints sizes, build times (median of 3; GridGov's also on the first
build, before layers.choropleth caches the packed geometry) and ratios. It also
times the PyPI package ``topojson`` (in requirements-dev.txt) against layers.topology.

Like with like: GridGov moves no vertex more than 1 m (quantized TopoJSON), so the peer's
coordinates are rounded too, to 5 decimals of a degree (at most 0.72 m at Sheyang's
latitude), and its float columns to GridGov's 2 decimals. Both maps must carry the same grids:
the same codes and values, and each grid's shape within 2 m of the other's (GridGov's
topology decoded here; exit 1 otherwise).

Run: ``python bench/bench_payload.py [--quick]`` from the repository root (``--quick``: 400
grids, 40 villages, one run).
"""

from __future__ import annotations

import json
import statistics
import time
from collections.abc import Callable
from typing import TypeVar

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
import topojson
from _demo import ROOT, arguments, check

from layers.choropleth import GridChoropleth, OutlineSpec, grid_choropleth
from layers.classify import ClassBreaks
from layers.offline import base_map
from layers.topology import encode_topology

OUTLINE = ROOT / "data" / "sheyang_outline.geojson"
METRIC_CRS = 4549
N_GRIDS, N_VILLAGES = 3_689, 238
QUICK_GRIDS, QUICK_VILLAGES = 400, 40
BUDGET_BYTES = 600_000
REPEATS = 3
DECIMALS = 5  # the peer's coordinates: 1e-5 degree, at most 0.72 m off at 33.8° N
FLOAT_DECIMALS = 2  # grid_choropleth's float_decimals default
SAME_SHAPE_M = 2.0  # GridGov's 1 m quantization plus the peer's rounding, with room
T = TypeVar("T")
TOWNS = [
    "合德镇", "临海镇", "千秋镇", "四明镇", "海河镇", "海通镇", "兴桥镇", "新坍镇",
    "长荡镇", "盘湾镇", "特庸镇", "洋马镇", "黄沙港镇", "射阳经济开发区", "射阳港经济开发区",
]  # fmt: skip
_VILLAGE_CHARS = "新海东西南北中兴富裕民安和平丰收永红光明幸福五七八里河港洋湾桥庄园"
_SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾"
_GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰建国志红"


def synthetic_county(
    seed: int = 0, *, n_grids: int = N_GRIDS, n_villages: int = N_VILLAGES
) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """Grids, villages and towns of a synthetic Sheyang, EPSG:4549 (metres).

    Grids are Voronoi cells of seeded uniform points clipped to the county
    outline; villages are Voronoi groups of grids, towns groups of villages,
    both dissolved so their edges are exactly the grids' edges.
    """
    rng = np.random.default_rng(seed)
    outline = gpd.read_file(OUTLINE).to_crs(METRIC_CRS).geometry.union_all()
    seeds = _points_in(outline, n_grids, rng)
    cells = shapely.voronoi_polygons(shapely.multipoints(seeds), extend_to=outline.envelope)
    grid_geoms = shapely.intersection(np.asarray(shapely.get_parts(cells)), outline)
    grid_geoms = grid_geoms[~shapely.is_empty(grid_geoms)]
    centroids = shapely.get_coordinates(shapely.centroid(grid_geoms))

    village_seeds = centroids[rng.choice(len(centroids), n_villages, replace=False)]
    village_of = _nearest(centroids, village_seeds)
    town_seeds = village_seeds[rng.choice(n_villages, len(TOWNS), replace=False)]
    town_of_village = _nearest(village_seeds, town_seeds)

    village_names = _village_names(rng, n_villages)
    grids = gpd.GeoDataFrame({"village": village_of}, geometry=grid_geoms, crs=METRIC_CRS)
    grids["town"] = town_of_village[grids["village"]]
    grids = grids.sort_values(["town", "village"], kind="stable").reset_index(drop=True)
    grids["seq"] = grids.groupby("village").cumcount() + 1
    village_no = grids.groupby("town")["village"].rank(method="dense").astype(int)
    town_name = np.asarray(TOWNS, dtype=object)[grids["town"]]
    # county 320924 + town 101.. + village 200.. + grid 001.. (15 digits, as Beijing's DB11)
    grids["grid_code"] = [
        f"320924{101 + t:03d}{200 + v:03d}{s:03d}"
        for t, v, s in zip(grids["town"], village_no, grids["seq"], strict=True)
    ]
    grids["grid_name"] = [
        f"{tn}{village_names[v]}第{s}网格"
        for tn, v, s in zip(town_name, grids["village"], grids["seq"], strict=True)
    ]
    grids["worker"] = [
        _SURNAMES[a] + _GIVEN[b] + (_GIVEN[c] if c % 2 else "")
        for a, b, c in rng.integers(
            [0, 0, 0], [len(_SURNAMES), len(_GIVEN), len(_GIVEN)], size=(len(grids), 3)
        )
    ]
    grids["households"] = rng.integers(40, 251, size=len(grids))
    grids["open_issues"] = rng.poisson(lam=rng.gamma(2.0, 2.0, size=len(grids)))
    grids["town_name"] = town_name
    grids["village_name"] = np.asarray(village_names, dtype=object)[grids["village"]]

    villages = grids.dissolve(by=["town_name", "village_name"], method="coverage", as_index=False)
    villages = villages[["town_name", "village_name", "geometry"]]
    towns = villages.dissolve(by="town_name", method="coverage", as_index=False)[
        ["town_name", "geometry"]
    ]
    return grids.drop(columns=["village", "town", "seq"]), villages, towns


def _points_in(polygon: shapely.Geometry, n: int, rng: np.random.Generator) -> np.ndarray:
    minx, miny, maxx, maxy = shapely.bounds(polygon)
    shapely.prepare(polygon)
    found = np.zeros((0, 2))
    while len(found) < n:
        xy = rng.uniform([minx, miny], [maxx, maxy], size=(2 * n, 2))
        found = np.vstack([found, xy[shapely.contains_xy(polygon, xy[:, 0], xy[:, 1])]])
    return found[:n]


def _nearest(points: np.ndarray, centres: np.ndarray) -> np.ndarray:
    d2 = ((points[:, None, :] - centres[None, :, :]) ** 2).sum(axis=2)
    return np.asarray(d2.argmin(axis=1))


def _village_names(rng: np.random.Generator, n: int) -> list[str]:
    names: list[str] = []
    while len(names) < n:
        name = "".join(rng.choice(list(_VILLAGE_CHARS), size=2)) + (
            "村" if rng.random() < 0.8 else "社区"
        )
        if name not in names:
            names.append(name)
    return names


TOOLTIP_FIELDS = {
    "grid_name": "网格名称",
    "grid_code": "网格编码",
    "worker": "网格员",
    "households": "户数",
    "open_issues": "未办结事项",
}


def gridgov_map(
    grids: gpd.GeoDataFrame, villages: gpd.GeoDataFrame, towns: gpd.GeoDataFrame
) -> tuple[folium.Map, GridChoropleth]:
    """The Overview map as the page builds it."""
    m = base_map(bounds_wgs84=tuple(towns.to_crs(4326).total_bounds))
    layer = grid_choropleth(
        m,
        grids,
        value_column="open_issues",
        tooltip_fields=TOOLTIP_FIELDS,
        legend_title="未办结事项（件）",
        outlines=[
            OutlineSpec.villages(villages),
            OutlineSpec.towns(towns, name_column="town_name"),
        ],
    )
    return m, layer


def folium_peer_map(
    grids: gpd.GeoDataFrame,
    villages: gpd.GeoDataFrame | None,
    towns: gpd.GeoDataFrame | None,
    breaks: ClassBreaks,
) -> folium.Map:
    """The same map the default folium way: GeoJson + GeoJsonTooltip + style_function.

    Coordinates rounded to :data:`DECIMALS` and floats to :data:`FLOAT_DECIMALS`, as GridGov
    trims its payload.
    """
    g84 = rounded(grids[[*TOOLTIP_FIELDS, "geometry"]])
    classes = breaks.classify(g84["open_issues"].to_numpy())
    colour = dict(zip(g84["grid_code"], np.asarray(breaks.colors)[classes], strict=True))
    minx, miny, maxx, maxy = g84.total_bounds
    m = folium.Map(tiles=None)
    m.fit_bounds([[miny, minx], [maxy, maxx]])
    folium.GeoJson(
        g84,
        style_function=lambda f: {
            "fillColor": colour[f["properties"]["grid_code"]],
            "color": "#ffffff",
            "weight": 0.5,
            "fillOpacity": 0.85,
        },
        tooltip=folium.GeoJsonTooltip(
            fields=list(TOOLTIP_FIELDS), aliases=list(TOOLTIP_FIELDS.values())
        ),
    ).add_to(m)
    if villages is not None:
        folium.GeoJson(
            rounded(villages[["geometry"]]),
            style_function=lambda f: {"color": "#5f6b7a", "weight": 1, "fill": False},
        ).add_to(m)
    if towns is not None:
        folium.GeoJson(
            rounded(towns[["town_name", "geometry"]]),
            style_function=lambda f: {"color": "#1f2d3d", "weight": 3, "fill": False},
            tooltip=folium.GeoJsonTooltip(fields=["town_name"], labels=False),
        ).add_to(m)
    return m


def rounded(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """``frame`` in EPSG:4326 with coordinates to :data:`DECIMALS`, floats to 2 decimals."""
    out = frame.to_crs(4326)
    out["geometry"] = shapely.transform(out.geometry.to_numpy(), lambda xy: xy.round(DECIMALS))
    floats = out.select_dtypes("float").columns
    out[floats] = out[floats].round(FLOAT_DECIMALS)
    return out


def decode(topology: dict, name: str) -> list[shapely.Geometry | None]:
    """The polygons of object ``name`` of a quantized TopoJSON topology (EPSG:4326)."""
    (sx, sy), (tx, ty) = topology["transform"]["scale"], topology["transform"]["translate"]
    arcs = [
        np.cumsum(np.asarray(a, dtype=float), axis=0) * [sx, sy] + [tx, ty]
        for a in topology["arcs"]
    ]

    def ring(refs: list[int]) -> np.ndarray:
        pieces = [arcs[r] if r >= 0 else arcs[~r][::-1] for r in refs]
        return np.vstack([pieces[0], *(p[1:] for p in pieces[1:])])

    out: list[shapely.Geometry | None] = []
    for g in topology["objects"][name]["geometries"]:
        if g["type"] is None:
            out.append(None)
            continue
        polygons = [g["arcs"]] if g["type"] == "Polygon" else g["arcs"]
        parts = [shapely.Polygon(ring(p[0]), [ring(r) for r in p[1:]]) for p in polygons]
        out.append(parts[0] if g["type"] == "Polygon" else shapely.MultiPolygon(parts))
    return out


def same_map(topo: dict, grids: gpd.GeoDataFrame) -> tuple[bool, float]:
    """Whether GridGov's topology and the peer's rounded grids hold the same grids.

    Same codes and values in the same order, and every grid within :data:`SAME_SHAPE_M`
    of the other's (Hausdorff distance, in EPSG:4549 metres). Returns the verdict and the
    largest distance.
    """
    peer = rounded(grids[[*TOOLTIP_FIELDS, "geometry"]])
    props = pd.DataFrame([g["properties"] for g in topo["objects"]["grids"]["geometries"]])
    same_values = all(
        props[c].astype(str).tolist() == peer[c].astype(str).tolist()
        for c in ("grid_code", "open_issues", "households")
    )
    ours = gpd.GeoSeries(decode(topo, "grids"), crs=4326).to_crs(METRIC_CRS).to_numpy()
    theirs = peer.geometry.to_crs(METRIC_CRS).to_numpy()
    worst = float(np.max(shapely.hausdorff_distance(ours, theirs)))
    return same_values and len(ours) == len(theirs) and worst <= SAME_SHAPE_M, worst


def _median_time(run: Callable[[], T], repeats: int = REPEATS) -> tuple[float, T]:
    times, result = [], None
    for _ in range(repeats):
        t0 = time.perf_counter()
        result = run()
        times.append(time.perf_counter() - t0)
    assert result is not None
    return statistics.median(times), result


def _html_bytes(m: folium.Map) -> int:
    return len(m.get_root().render().encode())


def _topojson_package_seconds(layers: dict[str, gpd.GeoDataFrame], repeats: int) -> float:
    """Time the PyPI topojson package on the same layers."""
    frames = list(layers.values())
    seconds, _ = _median_time(
        lambda: topojson.Topology(frames, object_name=list(layers), prequantize=True).to_dict(),
        repeats,
    )
    return seconds


def main() -> None:
    args = arguments(__doc__)
    repeats = 1 if args.quick else REPEATS
    size = {"n_grids": QUICK_GRIDS, "n_villages": QUICK_VILLAGES} if args.quick else {}
    t0 = time.perf_counter()
    grids, villages, towns = synthetic_county(**size)
    print(
        f"synthetic county: {len(grids):,} grids, {len(villages)} villages, {len(towns)} towns "
        f"(Voronoi in EPSG:{METRIC_CRS}, seed 0; {time.perf_counter() - t0:.2f} s)"
    )

    def ours() -> tuple[int, GridChoropleth]:
        m, layer = gridgov_map(grids, villages, towns)
        return _html_bytes(m), layer

    start = time.perf_counter()
    ours()  # the first build encodes the topology; layers.choropleth then caches the geometry
    cold_s = time.perf_counter() - start
    ours_s, (ours_bytes, layer) = _median_time(ours, repeats)
    peer_s, peer_bytes = _median_time(
        lambda: _html_bytes(folium_peer_map(grids, villages, towns, layer.breaks)), repeats
    )
    peer_grids_bytes = _html_bytes(folium_peer_map(grids, None, None, layer.breaks))
    payload_bytes = len(layer.payload_js.encode())

    layers84 = {
        "grids": grids.to_crs(4326),
        "villages": villages.to_crs(4326),
        "towns": towns.to_crs(4326),
    }
    columns = list(dict.fromkeys(["grid_code", "open_issues", *TOOLTIP_FIELDS]))
    topo_s, topo = _median_time(
        lambda: encode_topology(layers84, properties={"grids": columns}), repeats
    )
    plain_bytes = len(json.dumps(topo, ensure_ascii=False, separators=(",", ":")).encode())
    package_s = _topojson_package_seconds(layers84, repeats)
    same, worst_m = same_map(topo, grids)

    rows = [
        ("GridGov map HTML (grids, villages, towns, legend)", ours_bytes, ours_s),
        ("  of which the packed TopoJSON payload", payload_bytes, None),
        ("  same topology written as plain TopoJSON", plain_bytes, None),
        (f"folium peer: same map, coordinates to {DECIMALS} decimals", peer_bytes, peer_s),
        ("folium peer: grids layer only", peer_grids_bytes, None),
    ]
    print(f"{'':56} {'bytes':>11} {'MB':>7} {'build s':>8}")
    for label, size, seconds in rows:
        took = f"{seconds:8.2f}" if seconds is not None else ""
        print(f"{label:56} {size:>11,} {size / 1e6:7.3f} {took}")
    print(f"shared arcs: {len(topo['arcs']):,}; encode_topology {topo_s:.2f} s", end="")
    print(f"; PyPI topojson on the same layers {package_s:.2f} s")
    print(
        f"ratio GridGov / folium peer: {ours_bytes / peer_bytes:.3f} "
        f"(peer {peer_bytes / ours_bytes:.1f}x larger); build time ratio GridGov / peer "
        f"{cold_s / peer_s:.2f} on the first build ({cold_s:.2f} s), {ours_s / peer_s:.2f} with "
        "the grid geometry cached (a page rerun)"
    )
    verdict = "within" if ours_bytes <= BUDGET_BYTES else "OVER"
    print(f"budget {BUDGET_BYTES:,} B: {verdict} ({ours_bytes / BUDGET_BYTES:.0%} of it)")
    print(
        f"same grids on both maps (codes, values, shapes within {SAME_SHAPE_M:g} m): {same} "
        f"(largest shape difference {worst_m:.2f} m)"
    )
    check(same, "GridGov's map and the folium peer's do not carry the same grids")


if __name__ == "__main__":
    main()
