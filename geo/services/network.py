"""Travel times over a road network: nearest facility and reach within a time limit."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely
from numpy.typing import ArrayLike
from scipy import sparse
from scipy.sparse.csgraph import connected_components, dijkstra
from scipy.spatial import cKDTree

from geo.core.errors import InputFileError
from geo.core.i18n import Text
from geo.core.settings import get_settings
from geo.core.validate import require_metric_crs
from geo.store.readers import read_layer, split_spec

#: OpenStreetMap ``highway`` values kept as roads (motor, farm and residential roads; paths,
#: footways and cycleways are left out, as are roads under construction).
OSM_ROAD_TYPES: dict[str, str] = {
    **dict.fromkeys(
        ("motorway", "trunk", "primary", "secondary", "motorway_link", "trunk_link"),
        "干线/县道",
    ),
    **dict.fromkeys(("primary_link", "secondary_link"), "干线/县道"),
    **dict.fromkeys(("tertiary", "tertiary_link"), "乡道"),
    **dict.fromkeys(
        ("unclassified", "residential", "living_street", "service", "track", "road"), "村道"
    ),
}

#: File name endings read through GDAL's OpenStreetMap driver.
OSM_SUFFIXES = (".osm.pbf", ".pbf", ".osm")

#: Largest distance matrix (facilities × nodes, float64 cells) held at once by reach_matrix.
_REACH_CELLS = 4_000_000


@dataclass(frozen=True, eq=False)
class RoadNetwork:
    """An undirected road graph in a metric CRS, for travel times to the nearest facility.

    Build it with :meth:`from_lines`. A trip is: a straight walk from the origin to the
    nearest graph node, the shortest path over the roads, a straight walk from the node
    nearest the facility to the facility. Every leg is at least as long as the straight
    line it replaces, so network minutes are never below straight-line minutes (detour
    factor 1).

    Attributes
    ----------
    nodes_xy
        Node coordinates, shape ``(n_nodes, 2)``, metres in :attr:`crs`.
    edges
        Node pairs ``(u, v)`` with ``u < v``, shape ``(n_edges, 2)``; each pair once.
    lengths_m
        Edge lengths in metres, shape ``(n_edges,)``: the straight distance between the two
        nodes (the road between consecutive vertices is straight).
    crs
        The CRS of the coordinates (projected, metres), e.g. ``EPSG:4549``.
    """

    nodes_xy: np.ndarray
    edges: np.ndarray
    lengths_m: np.ndarray
    crs: str

    # ------------------------------------------------------------------ building

    @classmethod
    def from_lines(
        cls,
        roads: gpd.GeoDataFrame | gpd.GeoSeries,
        *,
        snap_tolerance_m: float = 1.0,
        max_edge_m: float | None = 100.0,
    ) -> RoadNetwork:
        """Build the graph from road lines, joined only where they share a vertex.

        Parameters
        ----------
        roads
            LineStrings or MultiLineStrings in a projected CRS in metres (GridGov uses
            EPSG:4549). Other geometries and empty rows are ignored; the frame is not
            changed.
        snap_tolerance_m
            Vertices closer than this (metres) become one node, so lines whose ends were
            digitised a little apart still join. Lines that merely cross, with no vertex
            within the tolerance of each other there (a bridge over a river road, an
            overpass), stay unconnected.
        max_edge_m
            Extra vertices are put on straight stretches longer than this (metres) so that
            origins snap to a nearby node; ``None`` keeps the vertices as they are. Path
            lengths do not change.

        Returns
        -------
        RoadNetwork

        Raises
        ------
        ValueError
            ``roads`` has no CRS or a geographic one (degrees), no line, or a tolerance is
            negative.
        """
        crs = roads.crs
        if crs is None:
            raise ValueError(
                f"roads has no CRS; set it (e.g. roads.set_crs('{get_settings().metric_crs}')) or "
                "read the file with geo.services.network.read_roads, which converts to the "
                "county's metric CRS"
            )
        require_metric_crs(roads, "roads", task="build the road network")
        if not snap_tolerance_m >= 0:
            raise ValueError(f"snap_tolerance_m must be ≥ 0 metres, got {snap_tolerance_m!r}")
        if max_edge_m is not None and not max_edge_m > 0:
            raise ValueError(f"max_edge_m must be > 0 metres or None, got {max_edge_m!r}")
        geoms = np.asarray(roads.geometry if hasattr(roads, "geometry") else roads, dtype=object)
        geoms = shapely.get_parts(geoms[~shapely.is_missing(geoms)])
        geoms = geoms[(shapely.get_type_id(geoms) == 1) & ~shapely.is_empty(geoms)]
        if len(geoms) == 0:
            raise ValueError("roads holds no LineString; give a layer of road lines")
        if max_edge_m is not None:
            geoms = shapely.segmentize(geoms, max_edge_m)
        coords, line = shapely.get_coordinates(geoms, return_index=True)
        node_of_vertex, nodes_xy = _merge_vertices(coords, snap_tolerance_m)
        same_line = line[1:] == line[:-1]
        u = node_of_vertex[:-1][same_line]
        v = node_of_vertex[1:][same_line]
        pairs = np.column_stack([np.minimum(u, v), np.maximum(u, v)])
        pairs = pairs[pairs[:, 0] != pairs[:, 1]]
        pairs = np.unique(pairs, axis=0)
        a, b = nodes_xy[pairs[:, 0]], nodes_xy[pairs[:, 1]]
        lengths = np.hypot(b[:, 0] - a[:, 0], b[:, 1] - a[:, 1])
        return cls(nodes_xy=nodes_xy, edges=pairs, lengths_m=lengths, crs=crs.to_string())

    # ------------------------------------------------------------------ facts

    @property
    def n_nodes(self) -> int:
        """Number of graph nodes."""
        return len(self.nodes_xy)

    @property
    def n_edges(self) -> int:
        """Number of (undirected) graph edges."""
        return len(self.edges)

    def component_labels(self) -> np.ndarray:
        """Connected component of each node, numbered from 0 by decreasing size."""
        _, labels = connected_components(self._graph(), directed=False)
        sizes = np.bincount(labels)
        rank = np.empty_like(sizes)
        rank[np.argsort(-sizes, kind="stable")] = np.arange(len(sizes))
        return np.asarray(rank[labels])

    # ------------------------------------------------------------------ travel times

    def nearest_minutes(
        self, origins_xy: ArrayLike, facilities_xy: ArrayLike, *, speed_kmh: float
    ) -> tuple[np.ndarray, np.ndarray]:
        """Minutes from each origin to its nearest facility over the roads.

        One multi-source Dijkstra run from all facilities at once
        (``scipy.sparse.csgraph.dijkstra(..., min_only=True)``).

        Parameters
        ----------
        origins_xy
            Origin coordinates, shape ``(n, 2)``, metres in :attr:`crs` (EPSG:4549).
            Rows with a NaN are unreachable.
        facilities_xy
            Facility coordinates, shape ``(m, 2)``, metres in :attr:`crs`.
        speed_kmh
            Travel speed in km/h, the same on and off the road (e.g.
            ``TRAVEL_SPEEDS_KMH["walk"]``).

        Returns
        -------
        minutes : numpy.ndarray
            Shape ``(n,)``: minutes to the nearest facility; ``inf`` when none can be
            reached (another road component, no facilities, no coordinates).
        facility : numpy.ndarray
            Shape ``(n,)``, int: index (row of ``facilities_xy``) of that facility; ``-1``
            when none can be reached.
        """
        per_min = _metres_per_minute(speed_kmh)
        o_node, o_snap = self._snap(origins_xy, "origins_xy")
        f_node, f_snap = self._snap(facilities_xy, "facilities_xy")
        minutes = np.full(len(o_node), np.inf)
        facility = np.full(len(o_node), -1, dtype=np.int64)
        f_ok = np.flatnonzero(f_node >= 0)
        o_ok = np.flatnonzero(o_node >= 0)
        if len(f_ok) == 0 or len(o_ok) == 0:
            return minutes, facility
        graph = self._graph(f_node[f_ok], f_snap[f_ok])
        sources = self.n_nodes + np.arange(len(f_ok))
        dist, _, source = dijkstra(
            graph, directed=True, indices=sources, min_only=True, return_predecessors=True
        )
        d = dist[o_node[o_ok]]
        reached = np.isfinite(d)
        minutes[o_ok] = (d + o_snap[o_ok]) / per_min  # inf where not reached
        facility[o_ok[reached]] = f_ok[source[o_node[o_ok[reached]]] - self.n_nodes]
        return minutes, facility

    def reach_matrix(
        self,
        origins_xy: ArrayLike,
        facilities_xy: ArrayLike,
        *,
        speed_kmh: float,
        minutes: float,
    ) -> sparse.csr_matrix:
        """Which facilities each origin reaches within ``minutes`` over the roads.

        One Dijkstra run per facility, stopped at ``minutes`` (``limit=``), in batches that
        keep memory bounded. Agrees with :meth:`nearest_minutes`: an origin reaches some
        facility exactly when its nearest-facility minutes are ``≤ minutes``.

        Parameters
        ----------
        origins_xy
            Origin coordinates, shape ``(n, 2)``, metres in :attr:`crs` (EPSG:4549).
        facilities_xy
            Candidate or existing facility coordinates, shape ``(m, 2)``, same CRS.
        speed_kmh
            Travel speed in km/h.
        minutes
            Time limit in minutes (inclusive).

        Returns
        -------
        scipy.sparse.csr_matrix
            Boolean, shape ``(n, m)``: ``True`` where origin ``i`` reaches facility ``j``
            within the limit.
        """
        per_min = _metres_per_minute(speed_kmh)
        if not minutes >= 0:
            raise ValueError(f"minutes must be ≥ 0, got {minutes!r}")
        o_node, o_snap = self._snap(origins_xy, "origins_xy")
        f_node, f_snap = self._snap(facilities_xy, "facilities_xy")
        n, m = len(o_node), len(f_node)
        f_ok = np.flatnonzero(f_node >= 0)
        o_ok = np.flatnonzero(o_node >= 0)
        if len(f_ok) == 0 or len(o_ok) == 0:
            return sparse.csr_matrix((n, m), dtype=bool)
        # A search limit a hair above the time limit; the exact test below is the same sum
        # as nearest_minutes makes, so both agree to the last bit.
        limit_m = minutes * per_min * (1 + 1e-9) + 1e-6
        # Origins grouped by their node, so that each reached node lists its origins at once.
        order = o_ok[np.argsort(o_node[o_ok], kind="stable")]
        per_node = np.bincount(o_node[o_ok], minlength=self.n_nodes)
        first = np.concatenate([[0], np.cumsum(per_node)[:-1]])
        graph = self._graph(f_node[f_ok], f_snap[f_ok])
        batch = max(1, min(len(f_ok), _REACH_CELLS // graph.shape[0]))
        rows: list[np.ndarray] = []
        cols: list[np.ndarray] = []
        for start in range(0, len(f_ok), batch):
            sources = self.n_nodes + np.arange(start, min(start + batch, len(f_ok)))
            dist = dijkstra(graph, directed=True, indices=sources, limit=limit_m)
            dist = np.atleast_2d(dist)[:, : self.n_nodes]
            src, node = np.nonzero(np.isfinite(dist) & (per_node > 0)[None, :])
            count = per_node[node]
            total = int(count.sum())
            step = np.arange(total) - np.repeat(np.cumsum(count) - count, count)
            origin = order[np.repeat(first[node], count) + step]
            d = np.repeat(dist[src, node], count)
            ok = (d + o_snap[origin]) / per_min <= minutes
            rows.append(origin[ok])
            cols.append(f_ok[np.repeat(src, count)[ok] + start])
        r, c = np.concatenate(rows), np.concatenate(cols)
        return sparse.csr_matrix((np.ones(len(r), dtype=bool), (r, c)), shape=(n, m))

    # ------------------------------------------------------------------ plumbing

    def _graph(
        self, attach: np.ndarray | None = None, offsets_m: np.ndarray | None = None
    ) -> sparse.csr_matrix:
        """Directed CSR matrix of the roads (both ways), plus one-way virtual source nodes.

        Virtual node ``n_nodes + j`` leads to node ``attach[j]`` with weight
        ``offsets_m[j]`` (the facility's snap distance); nothing leads back into it.
        """
        u, v, w = self.edges[:, 0], self.edges[:, 1], self.lengths_m
        rows, cols, data = [u, v], [v, u], [w, w]
        size = self.n_nodes
        if attach is not None and offsets_m is not None:
            rows.append(self.n_nodes + np.arange(len(attach)))
            cols.append(attach)
            data.append(offsets_m)  # an explicit 0 (a facility on a node) stays an edge
            size += len(attach)
        return sparse.csr_matrix(
            (np.concatenate(data), (np.concatenate(rows), np.concatenate(cols))),
            shape=(size, size),
        )

    def _snap(self, xy: ArrayLike, name: str) -> tuple[np.ndarray, np.ndarray]:
        """Nearest node of each point and the straight distance to it (node -1 for NaN rows)."""
        arr = np.asarray(xy, dtype=float)
        if arr.ndim != 2 or arr.shape[1] != 2:
            if arr.size == 0:
                arr = arr.reshape(0, 2)
            else:
                raise ValueError(f"{name} must have shape (n, 2) (x, y in metres), got {arr.shape}")
        node = np.full(len(arr), -1, dtype=np.int64)
        dist = np.full(len(arr), np.inf)
        ok = np.isfinite(arr).all(axis=1)
        if ok.any():
            d, i = self._tree.query(arr[ok])
            node[ok], dist[ok] = i, d
        return node, dist

    @property
    def _tree(self) -> cKDTree:
        tree = self.__dict__.get("_kdtree")
        if tree is None:
            tree = cKDTree(self.nodes_xy)
            object.__setattr__(self, "_kdtree", tree)
        return tree


def _metres_per_minute(speed_kmh: float) -> float:
    if not (np.isfinite(speed_kmh) and speed_kmh > 0):
        raise ValueError(f"speed_kmh must be a positive number of km/h, got {speed_kmh!r}")
    return float(speed_kmh) * 1000.0 / 60.0


def _merge_vertices(coords: np.ndarray, tolerance_m: float) -> tuple[np.ndarray, np.ndarray]:
    """Node id of each vertex and node coordinates: vertices within the tolerance merge.

    Chains of close vertices merge transitively; a node sits on its first vertex.
    """
    unique, inverse = np.unique(coords, axis=0, return_inverse=True)
    inverse = inverse.ravel()
    if tolerance_m > 0 and len(unique) > 1:
        pairs = cKDTree(unique).query_pairs(tolerance_m, output_type="ndarray")
    else:
        pairs = np.empty((0, 2), dtype=np.int64)
    if len(pairs):
        k = len(unique)
        adj = sparse.csr_matrix(
            (np.ones(len(pairs), dtype=bool), (pairs[:, 0], pairs[:, 1])), shape=(k, k)
        )
        _, label = connected_components(adj, directed=False)
        _, rep = np.unique(label, return_index=True)
        return label[inverse], unique[rep]
    return inverse, unique


# --------------------------------------------------------------------------- reading


def read_roads(spec: str | Path, *, crs: str | None = None) -> gpd.GeoDataFrame:
    """Read road lines from a GIS file or an OpenStreetMap extract, in EPSG:4549.

    Parameters
    ----------
    spec
        A road layer in any format :func:`geo.store.readers.read_layer` reads (Shapefile, GeoPackage
        with an optional ``:layer``, …), or an OpenStreetMap ``.osm.pbf`` / ``.osm`` file
        read through GDAL's OSM driver (its ``lines`` layer, rows whose ``highway`` tag is
        one of :data:`OSM_ROAD_TYPES`).
    crs
        CRS to assume for a file that carries none.

    Returns
    -------
    geopandas.GeoDataFrame
        One LineString per row in EPSG:4549 (multi-part lines are split). From OSM:
        ``osm_id``, ``name``, ``highway``, ``road_class`` (干线/县道, 乡道, 村道) and
        ``bridge`` (bool, from OSM's ``bridge`` tag).

    Raises
    ------
    InputFileError
        The file is missing or unreadable, or holds no road lines; the message names it.
    """
    path, _ = split_spec(spec)
    where = str(spec)
    if path.name.lower().endswith(OSM_SUFFIXES):
        if not path.exists():
            raise InputFileError(
                where, Text("文件不存在", "file not found"), Text("检查路径", "check the path")
            )
        frame = _read_osm(path, where)
    else:
        frame = read_layer(spec, "roads", crs=crs)
    geoms = frame.geometry.to_numpy()
    is_line = np.isin(shapely.get_type_id(geoms), (1, 5)) & ~shapely.is_empty(geoms)
    if not is_line.any():
        kinds = sorted({str(t) for t in frame.geom_type.dropna().unique()}) or ["none"]
        raise InputFileError(
            where,
            Text(
                f"没有道路线：图层只含 {'、'.join(kinds)} 几何（{len(frame)} 行）",
                f"no road lines: the layer holds {', '.join(kinds)} geometries ({len(frame)} rows)",
            ),
            Text(
                "给出道路线图层（Shapefile、GeoPackage）或 OpenStreetMap 的 .osm.pbf 数据",
                "give a layer of road LineStrings (Shapefile, GeoPackage) or an OpenStreetMap "
                ".osm.pbf extract",
            ),
        )
    lines = frame[is_line].explode(index_parts=False, ignore_index=True)
    return gpd.GeoDataFrame(lines, geometry="geometry", crs=frame.crs)


def _read_osm(path: Path, where: str) -> gpd.GeoDataFrame:
    """Road rows of an OpenStreetMap file's ``lines`` layer, in EPSG:4549."""
    types = ", ".join(f"'{t}'" for t in OSM_ROAD_TYPES)
    try:
        frame = pyogrio.read_dataframe(
            path,
            layer="lines",
            columns=["osm_id", "name", "highway", "other_tags"],
            where=f"highway IN ({types})",
        )
    except Exception as exc:
        raise InputFileError(
            where,
            Text(
                f"OpenStreetMap 文件无法读取（{exc}）",
                f"cannot read the OpenStreetMap file ({exc})",
            ),
            Text(
                "检查是否为完整的 .osm.pbf 或 .osm 数据",
                "check that it is a complete .osm.pbf or .osm extract",
            ),
        ) from exc
    if len(frame) == 0:
        raise InputFileError(
            where,
            Text(
                "没有道路线：没有一条路线带有道路类型的 highway 标签",
                "no road lines: no way has a highway tag of a road type",
            ),
            Text(
                f"数据中应有 highway= 为以下之一的路线：{', '.join(OSM_ROAD_TYPES)}",
                f"the extract should hold ways tagged highway= one of {', '.join(OSM_ROAD_TYPES)}",
            ),
        )
    tags = frame["other_tags"].fillna("").astype(str)
    out = gpd.GeoDataFrame(
        {
            "osm_id": frame["osm_id"].astype(str),
            "name": frame["name"],
            "highway": frame["highway"].astype(str),
            "road_class": frame["highway"].map(OSM_ROAD_TYPES),
            "bridge": tags.str.contains(r'"bridge"=>"(?!no")', regex=True).to_numpy(),
        },
        geometry=frame.geometry.to_numpy(),
        crs=frame.crs or "EPSG:4326",
    )
    metric = get_settings().metric_crs
    out = out.to_crs(metric)
    out.insert(0, "source_row", np.arange(1, len(out) + 1))
    return gpd.GeoDataFrame(pd.DataFrame(out), geometry="geometry", crs=metric)
