"""The demo county's synthetic rivers and roads: a coastal-plain lattice with bridges."""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import connected_components, minimum_spanning_tree
from scipy.spatial import Delaunay, cKDTree
from shapely.geometry.base import BaseGeometry

from geo.demo.facts import METRIC_CRS

#: Second seed word of the road generator's own random stream, so that adding roads leaves
#: every other demo layer exactly as it was for the same seed.
ROAD_STREAM = 7

#: Road classes, most important first (the order decides the class where two roads overlap).
ARTERIAL, TOWNSHIP, VILLAGE = "干线/县道", "乡道", "村道"
CLASSES = (ARTERIAL, TOWNSHIP, VILLAGE)

#: Rivers and canals: name, kind, start and end as fractions of the outline's bounds
#: (beyond the outline, so that the clipped river runs from border to border or to the
#: sea), and the meander amplitude in metres. Positions are synthetic.
RIVERS: tuple[tuple[str, str, tuple[float, float], tuple[float, float], float], ...] = (
    ("射阳河", "河流", (-0.05, 0.62), (1.05, 0.80), 600.0),
    ("黄沙港", "河流", (-0.05, 0.47), (1.05, 0.62), 450.0),
    ("新洋港", "河流", (-0.05, 0.27), (1.05, 0.33), 450.0),
    ("通榆河", "干渠", (0.25, -0.05), (0.27, 1.05), 60.0),
    ("一干渠", "干渠", (0.60, -0.05), (0.58, 1.05), 40.0),
    ("二干渠", "干渠", (-0.05, 0.14), (1.05, 0.16), 40.0),
)

LATTICE_M = 800.0  # spacing of the rural road lattice (村道), metres
STREET_M = 250.0  # spacing of town streets, metres
VERTEX_M = 100.0  # roads get a vertex at least every this many metres
BRIDGE_EVERY = 3  # every third lattice road (and every second town street) has its bridges
RIVER_ZONE_M = 20.0  # half-width of the river: bridge pieces, or the gap of a bridgeless road
LONG_BRIDGE_M = 150.0  # only county and township roads have bridges longer than this
MIN_COMPONENT_M = 1500.0  # road pieces cut off from everything, shorter in total, are dropped


@dataclass(frozen=True)
class _Road:
    """A road line before the river crossings are resolved."""

    geometry: shapely.LineString
    road_class: str
    name: str | None
    bridges: bool  # crosses rivers on bridges (else it stops short of each bank)
    long_bridges: bool = False  # also where it meets the river at a shallow angle


def road_layers(
    outline: BaseGeometry,
    towns: pd.DataFrame,
    villages: pd.DataFrame,
    *,
    seed: int = 0,
) -> dict[str, gpd.GeoDataFrame]:
    """Synthetic ``rivers`` and ``roads`` for the demo county (EPSG:4549).

    Parameters
    ----------
    outline
        The county outline in EPSG:4549.
    towns
        ``town_name``, ``kind``, ``communities``, ``seat_x``, ``seat_y`` (metres).
    villages
        ``village_name``, ``centre_x``, ``centre_y`` (metres).
    seed
        With :data:`ROAD_STREAM`, seeds ``numpy.random.default_rng``.

    Returns
    -------
    dict
        ``rivers`` (``name``, ``kind``; LineStrings) and ``roads`` (``road_class``,
        ``name``, ``bridge``; LineStrings with a vertex at least every 100 m). Roads meet
        only at shared vertices; a road crosses a river only on a ``bridge`` piece.
    """
    rng = np.random.default_rng([seed, ROAD_STREAM])
    rivers = _rivers(outline, rng)
    seats = towns[["seat_x", "seat_y"]].to_numpy(dtype=float)
    centres = villages[["centre_x", "centre_y"]].to_numpy(dtype=float)
    arterials = _arterials(
        seats, list(towns["town_name"]), towns["communities"].to_numpy(dtype=float), rng
    )
    roads = [
        *arterials,
        *_village_roads(centres, list(villages["village_name"]), arterials, rng),
        *_town_streets(towns, rng),
        *_lattice(outline, rng),
    ]
    pieces = _cross_rivers(roads, outline, rivers.geometry.to_numpy())
    frame = _node(pieces)
    frame = _drop_islands(frame)
    frame["geometry"] = shapely.segmentize(frame.geometry.to_numpy(), VERTEX_M)
    return {"rivers": rivers, "roads": frame}


# --------------------------------------------------------------------------- shapes


def _meander(
    a: np.ndarray, b: np.ndarray, amplitude_m: float, rng: np.random.Generator, *, step_m: float
) -> np.ndarray:
    """Points from ``a`` to ``b`` swinging sideways by up to about ``amplitude_m``.

    Three sine waves of random wavelength (4–14 km) and phase, so the line is smooth.
    """
    length = float(np.hypot(*(b - a)))
    t = np.linspace(0.0, 1.0, max(int(length / step_m), 2) + 1)
    along = (b - a) / length
    normal = np.array([-along[1], along[0]])
    wave = np.zeros_like(t)
    for _ in range(3):
        wavelength = rng.uniform(4000.0, 14000.0)
        wave += rng.uniform(0.3, 1.0) * np.sin(
            2 * np.pi * t * length / wavelength + rng.uniform(0, 6.3)
        )
    offset = amplitude_m * wave / 2.0
    return a + t[:, None] * (b - a) + offset[:, None] * normal


def _wiggle(a: np.ndarray, b: np.ndarray, rng: np.random.Generator, *, share: float) -> np.ndarray:
    """A road from ``a`` to ``b`` bent sideways (by up to ``share`` of its length, ≤ 400 m).

    The ends stay where they are (a sum of ``sin(kπt)``, which is zero at both ends).
    """
    length = float(np.hypot(*(b - a)))
    t = np.linspace(0.0, 1.0, max(int(length / 400.0), 2) + 1)
    along = (b - a) / max(length, 1e-9)
    normal = np.array([-along[1], along[0]])
    amp = min(share * length, 400.0)
    offset = sum(rng.normal(0, amp / (k * 1.5)) * np.sin(k * np.pi * t) for k in (1, 2, 3))
    return a + t[:, None] * (b - a) + np.asarray(offset)[:, None] * normal


def _rivers(outline: BaseGeometry, rng: np.random.Generator) -> gpd.GeoDataFrame:
    minx, miny, maxx, maxy = outline.bounds
    size = np.array([maxx - minx, maxy - miny])
    origin = np.array([minx, miny])
    names, kinds, geoms = [], [], []
    for name, kind, start, end, amplitude in RIVERS:
        a, b = origin + np.array(start) * size, origin + np.array(end) * size
        line = shapely.LineString(_meander(a, b, amplitude, rng, step_m=100.0))
        for part in shapely.get_parts(shapely.intersection(line, outline)):
            if part.geom_type == "LineString" and part.length >= 1000.0:
                names.append(name)
                kinds.append(kind)
                geoms.append(part)
    return gpd.GeoDataFrame({"name": names, "kind": kinds}, geometry=geoms, crs=METRIC_CRS)


# --------------------------------------------------------------------------- roads


def _arterials(
    seats: np.ndarray, names: list[str], hub_weight: np.ndarray, rng: np.random.Generator
) -> list[_Road]:
    """County roads between town seats: a minimum spanning tree, the shortest loops and a
    road from the largest seat (``hub_weight``, e.g. communities) to each of its neighbours.
    """
    tri = Delaunay(seats)
    pairs = {
        (min(int(i), int(j)), max(int(i), int(j)))
        for simplex in tri.simplices
        for i, j in ((simplex[0], simplex[1]), (simplex[1], simplex[2]), (simplex[0], simplex[2]))
    }
    edges = np.array(sorted(pairs))
    length = np.hypot(*(seats[edges[:, 0]] - seats[edges[:, 1]]).T)
    n = len(seats)
    tree = minimum_spanning_tree(csr_matrix((length, (edges[:, 0], edges[:, 1])), shape=(n, n)))
    in_tree = {(min(i, j), max(i, j)) for i, j in zip(*tree.nonzero(), strict=True)}
    hub = int(np.argmax(hub_weight))  # the county seat: a road to every neighbour
    spokes = [k for k in range(len(edges)) if hub in edges[k] and tuple(edges[k]) not in in_tree]
    extra = [k for k in np.argsort(length) if tuple(edges[k]) not in in_tree][:6]
    chosen = sorted(
        {k for k in range(len(edges)) if tuple(edges[k]) in in_tree} | {*spokes, *extra}
    )
    roads = []
    for k in chosen:
        i, j = edges[k]
        line = shapely.LineString(_wiggle(seats[i], seats[j], rng, share=0.03))
        roads.append(_Road(line, ARTERIAL, f"{names[i]}—{names[j]}公路", True, True))
    return roads


def _village_roads(
    centres: np.ndarray, names: list[str], arterials: list[_Road], rng: np.random.Generator
) -> list[_Road]:
    """乡道 from each village centre to the nearest arterial (≤ 2.5 km) and nearest village."""
    roads = []
    network = shapely.union_all([r.geometry for r in arterials])
    points = shapely.points(centres)
    near = shapely.get_coordinates(shapely.shortest_line(points, network)).reshape(-1, 2, 2)[:, 1]
    for k in range(len(centres)):
        a, b = centres[k], near[k]
        if 30.0 < np.hypot(*(b - a)) <= 2500.0:
            line = shapely.LineString(_wiggle(a, b, rng, share=0.05))
            roads.append(_Road(line, TOWNSHIP, f"{names[k]}路", True, True))
    dist, nearest = cKDTree(centres).query(centres, k=2)
    done: set[tuple[int, int]] = set()
    for k in range(len(centres)):
        j = int(nearest[k, 1])
        pair = (min(k, j), max(k, j))
        if pair in done or dist[k, 1] > 4000.0:
            continue
        done.add(pair)
        line = shapely.LineString(_wiggle(centres[k], centres[j], rng, share=0.05))
        roads.append(_Road(line, TOWNSHIP, f"{names[k]}—{names[j]}路", True, True))
    return roads


def _town_streets(towns: pd.DataFrame, rng: np.random.Generator) -> list[_Road]:
    """A street grid around each seat (5 km across the county seat, 2 km in towns)."""
    roads = []
    seats = towns[["seat_x", "seat_y"]].to_numpy(dtype=float)
    kinds = towns["kind"].astype(str).to_numpy()
    communities = towns["communities"].to_numpy(dtype=int)
    for (sx, sy), kind, n_comm in zip(seats, kinds, communities, strict=True):
        town = kind in ("镇", "开发区")
        half = (2500.0 if n_comm > 10 else 1000.0) if town else 500.0
        half *= rng.uniform(0.85, 1.15)
        x0, y0 = sx - half * rng.uniform(0.8, 1.2), sy - half * rng.uniform(0.8, 1.2)
        x1, y1 = sx + half * rng.uniform(0.8, 1.2), sy + half * rng.uniform(0.8, 1.2)
        xs = np.arange(x0, x1 + 1.0, STREET_M)
        ys = np.arange(y0, y1 + 1.0, STREET_M)
        for i, x in enumerate(xs):
            line = shapely.LineString([(x, ys[0]), (x, ys[-1])])
            roads.append(_Road(line, TOWNSHIP, None, i % 2 == 0))
        for i, y in enumerate(ys):
            line = shapely.LineString([(xs[0], y), (xs[-1], y)])
            roads.append(_Road(line, TOWNSHIP, None, i % 2 == 0))
    return roads


def _lattice(outline: BaseGeometry, rng: np.random.Generator) -> list[_Road]:
    """The rural 村道 lattice: east–west and north–south roads about 800 m apart."""
    minx, miny, maxx, maxy = outline.bounds
    roads = []
    for axis, (lo, hi) in enumerate(((minx, maxx), (miny, maxy))):
        cuts = np.arange(lo + LATTICE_M / 2, hi, LATTICE_M)
        cuts = cuts + rng.normal(0, 60.0, len(cuts))
        for i, c in enumerate(cuts):
            if axis == 0:
                line = shapely.LineString([(c, miny - 10), (c, maxy + 10)])
            else:
                line = shapely.LineString([(minx - 10, c), (maxx + 10, c)])
            roads.append(_Road(line, VILLAGE, None, i % BRIDGE_EVERY == 0))
    return roads


# --------------------------------------------------------------------------- crossings


def _cross_rivers(
    roads: list[_Road], outline: BaseGeometry, rivers: np.ndarray
) -> gpd.GeoDataFrame:
    """Clip to the outline and resolve river crossings.

    Where a road crosses a river, the piece within :data:`RIVER_ZONE_M` of it is a bridge on
    a bridging road and is cut out (a gap, no connection) on any other. A road that only
    runs along a bank within that distance, without crossing, stays as it is.
    """
    geoms = shapely.intersection(np.array([r.geometry for r in roads], dtype=object), outline)
    water = shapely.union_all(rivers)
    zone = water.buffer(RIVER_ZONE_M)
    shapely.prepare(zone)
    shapely.prepare(water)
    crossing = shapely.intersects(geoms, water)
    rows: list[tuple[str, str | None, bool, BaseGeometry]] = []
    for road, geom, crosses in zip(roads, geoms, crossing, strict=True):
        if not crosses:
            rows.extend((road.road_class, road.name, False, p) for p in shapely.get_parts(geom))
            continue
        dry = list(shapely.get_parts(shapely.difference(geom, zone)))
        wet = shapely.get_parts(shapely.intersection(geom, zone))
        over = shapely.intersects(wet, water)
        dry.extend(wet[~over])
        rows.extend((road.road_class, road.name, False, p) for p in dry)
        if road.bridges:
            short = shapely.length(wet) <= LONG_BRIDGE_M
            bridged = wet[over & (short | road.long_bridges)]
            rows.extend((road.road_class, road.name, True, p) for p in bridged)
    frame = pd.DataFrame(rows, columns=["road_class", "name", "bridge", "geometry"])
    keep = (shapely.get_type_id(frame.geometry.to_numpy()) == 1) & (
        shapely.length(frame.geometry.to_numpy()) > 0
    )
    return gpd.GeoDataFrame(frame[keep].reset_index(drop=True), crs=METRIC_CRS)


def _node(pieces: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Split every road where it meets another (a shared vertex at each crossing, at grade).

    Overlapping roads become one; a noded piece takes the most important class among the
    roads under it and is a bridge if any of them is.
    """
    geoms = pieces.geometry.to_numpy()
    noded = shapely.get_parts(shapely.union_all(geoms))
    mid = shapely.line_interpolate_point(noded, 0.5, normalized=True)
    seg, src = shapely.STRtree(geoms).query(mid, predicate="dwithin", distance=0.01)
    rank = pieces.road_class.map({c: i for i, c in enumerate(CLASSES)}).to_numpy()
    best = np.full(len(noded), len(CLASSES), dtype=int)
    np.minimum.at(best, seg, rank[src])
    bridge = np.zeros(len(noded), dtype=bool)
    np.logical_or.at(bridge, seg, pieces.bridge.to_numpy()[src])
    # The name of the first matching road of the chosen class.
    is_best = rank[src] == best[seg]
    name = pd.Series(pieces.name.to_numpy()[src[is_best]]).groupby(seg[is_best]).first()
    found = best < len(CLASSES)
    out = gpd.GeoDataFrame(
        {
            "road_class": np.array((*CLASSES, ""), dtype=object)[best],
            "name": name.reindex(np.arange(len(noded))).to_numpy(),
            "bridge": bridge,
        },
        geometry=noded,
        crs=METRIC_CRS,
    )
    return gpd.GeoDataFrame(out[found].reset_index(drop=True), crs=METRIC_CRS)


def _drop_islands(roads: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Drop groups of road pieces that touch nothing else and are short in total."""
    geoms = roads.geometry.to_numpy()
    a, b = shapely.STRtree(geoms).query(geoms, predicate="intersects")
    n = len(geoms)
    _, label = connected_components(
        csr_matrix((np.ones(len(a), dtype=bool), (a, b)), shape=(n, n)), directed=False
    )
    total = np.bincount(label, weights=shapely.length(geoms))
    keep = total[label] >= MIN_COMPONENT_M
    return gpd.GeoDataFrame(roads[keep].reset_index(drop=True), crs=METRIC_CRS)
