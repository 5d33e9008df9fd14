"""Walking minutes to the nearest of ~1,000 facilities over the demo roads: GridGov vs networkx.

The demo county's synthetic road network (about 80,000 nodes, EPSG:4549), every household
as an origin and 1,000 service points drawn at random (seed 0) as facilities. GridGov's
``RoadNetwork.nearest_minutes`` runs one multi-source Dijkstra in scipy. The peer, in the same
run on the same graph, is ``networkx.multi_source_dijkstra_path_length``: each facility is a
source node joined to its nearest road node by its walk off the road, exactly as GridGov
does it, and the same snapping (cKDTree) serves the origins. Prints medians of 3 runs, the
ratio, and whether both give the same distances.

The distances must be identical (same reachable households, largest difference under
1e-6 m; exit 1 otherwise).

Run: ``python bench/bench_network.py [N_FACILITIES] [--quick]`` from the repository root
(``--quick``: the small county's roads and service points, one run each). A cached demo
without the ``roads`` layer (built before roads existed) gets its roads regenerated in
memory from its towns and villages (the same roads, seed 0).
"""

from __future__ import annotations

import sys
import time

import geopandas as gpd
import networkx as nx
import numpy as np
import pyogrio
from _demo import arguments, check, county_gpkg, median_time
from scipy.sparse.csgraph import dijkstra

from geo.core.settings import TRAVEL_SPEEDS_KMH
from geo.services.network import RoadNetwork, read_roads

GOAL_S = 2.0
SAME_M = 1e-6


def _roads(path: str) -> gpd.GeoDataFrame:
    if "roads" in set(pyogrio.list_layers(path)[:, 0]):
        return read_roads(path)
    from geo.demo.build import _outline
    from geo.demo.roads import road_layers

    print(f"{path} has no roads layer: generating the seed-0 roads in memory", file=sys.stderr)
    towns = pyogrio.read_dataframe(path, layer="towns")
    villages = pyogrio.read_dataframe(path, layer="villages")
    return road_layers(_outline(), towns, villages, seed=0)["roads"]


def main() -> None:
    args = arguments(
        __doc__,
        add=lambda p: p.add_argument("n_facilities", nargs="?", type=int, default=1000),
    )
    n_facilities = args.n_facilities
    repeat = 1 if args.quick else 3
    path = str(county_gpkg(args.quick))
    roads = _roads(path)
    homes = pyogrio.read_dataframe(path, layer="households", columns=[])
    services = pyogrio.read_dataframe(path, layer="service_points", columns=[])
    origins = np.column_stack([homes.geometry.x, homes.geometry.y])
    rng = np.random.default_rng(0)
    pick = rng.choice(len(services), min(n_facilities, len(services)), replace=False)
    facilities = np.column_stack([services.geometry.x, services.geometry.y])[pick]
    speed = TRAVEL_SPEEDS_KMH["walk"]
    per_min = speed * 1000 / 60

    start = time.perf_counter()
    net = RoadNetwork.from_lines(roads)
    t_build = time.perf_counter() - start
    t_ours, (ours, _) = median_time(
        lambda: net.nearest_minutes(origins, facilities, speed_kmh=speed), repeat
    )
    t_reach, reach = median_time(
        lambda: net.reach_matrix(origins, facilities, speed_kmh=speed, minutes=15), repeat=1
    )

    start = time.perf_counter()
    graph = nx.Graph()
    graph.add_weighted_edges_from(
        zip(net.edges[:, 0].tolist(), net.edges[:, 1].tolist(), net.lengths_m.tolist(), strict=True)
    )
    t_nx_build = time.perf_counter() - start

    def peer() -> np.ndarray:
        o_dist, o_node = net._tree.query(origins)
        f_dist, f_node = net._tree.query(facilities)
        sources = []
        for j, (node, walk) in enumerate(zip(f_node.tolist(), f_dist.tolist(), strict=True)):
            graph.add_edge(("facility", j), node, weight=walk)
            sources.append(("facility", j))
        try:
            dist = nx.multi_source_dijkstra_path_length(graph, sources, weight="weight")
        finally:
            graph.remove_nodes_from(sources)
        on_road = np.array([dist.get(int(n), np.inf) for n in o_node])
        return (on_road + o_dist) / per_min

    t_peer, theirs = median_time(peer, repeat)

    # The graph search alone (no snapping of the 348,000 origins, which both sides share).
    f_dist, f_node = net._tree.query(facilities)
    sources = net.n_nodes + np.arange(len(facilities))
    t_search, _ = median_time(
        lambda: dijkstra(
            net._graph(f_node, f_dist),
            directed=True,
            indices=sources,
            min_only=True,
            return_predecessors=True,
        ),
        repeat,
    )
    for j, (node, walk) in enumerate(zip(f_node.tolist(), f_dist.tolist(), strict=True)):
        graph.add_edge(("facility", j), node, weight=walk)
    nx_sources = [("facility", j) for j in range(len(facilities))]
    t_nx_search, _ = median_time(
        lambda: nx.multi_source_dijkstra_path_length(graph, nx_sources, weight="weight"), repeat
    )
    finite = np.isfinite(ours)
    same_reach = np.array_equal(np.isfinite(ours), np.isfinite(theirs))
    diff_m = float(np.max(np.abs(ours[finite] - theirs[finite]))) * per_min if finite.any() else 0.0
    print(
        f"road graph: {net.n_nodes:,} nodes, {net.n_edges:,} edges ({len(roads):,} road lines); "
        f"origins: {len(origins):,} households; facilities: {len(facilities):,}; walk {speed} km/h"
    )
    print(f"GridGov RoadNetwork.from_lines (once):        {t_build:.3f} s")
    print(f"networkx graph build (once):                  {t_nx_build:.3f} s")
    print(f"GridGov nearest_minutes:                      {t_ours:.3f} s  (goal ≤ {GOAL_S:g} s)")
    print(f"networkx multi_source_dijkstra_path_length:   {t_peer:.3f} s")
    print(f"ratio networkx / GridGov: {t_peer / t_ours:.1f}x")
    print(
        f"graph search alone: scipy {t_search * 1000:.1f} ms, "
        f"networkx {t_nx_search * 1000:.0f} ms, ratio {t_nx_search / t_search:.0f}x "
        "(the rest is snapping the origins, shared by both)"
    )
    print(
        f"GridGov reach_matrix (15 min walk, {reach.shape[0]:,} × {reach.shape[1]:,}): "
        f"{t_reach:.3f} s, {reach.nnz:,} pairs"
    )
    same = same_reach and diff_m < SAME_M
    print(
        f"identical distances: {same} (same reachable set: {same_reach}; "
        f"max |difference| {diff_m:.2e} m); median walk {np.median(ours[finite]):.1f} min, "
        f"{np.mean(ours <= 15):.1%} of households within 15 min"
    )
    check(same, f"walking minutes differ from networkx (max {diff_m:.2e} m, same set {same_reach})")


if __name__ == "__main__":
    main()
