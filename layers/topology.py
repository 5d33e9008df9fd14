"""Encode polygon coverages as compact TopoJSON: shared edges once, quantized, delta-encoded."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

__all__ = ["METRES_PER_DEGREE_LAT", "encode_topology", "quantization_steps"]

#: Length of one degree of latitude in metres (mean; good to 0.5 % everywhere).
METRES_PER_DEGREE_LAT = 111_320.0

_POLYGONAL = {"Polygon", "MultiPolygon"}

# TopoJSON shapes, for readers: an arc is a list of [dx, dy] integer pairs, the
# first absolute; a ring is a list of arc indices (~i = arc i walked backwards).
Arc = list[list[int]]
Ring = list[int]


def quantization_steps(
    bounds_wgs84: tuple[float, float, float, float], *, tolerance_m: float
) -> tuple[float, float]:
    """Grid steps in degrees that keep every quantized vertex within ``tolerance_m``.

    A vertex moves by at most half a step on each axis, so the worst-case
    displacement is ``sqrt(2) / 2`` steps; the longitude step is sized at the
    latitude nearest the equator inside the bounds, where a degree is longest.

    Parameters
    ----------
    bounds_wgs84 : tuple of float
        ``(min_lon, min_lat, max_lon, max_lat)`` in degrees (EPSG:4326).
    tolerance_m : float
        Largest allowed displacement of a vertex, in metres; must be > 0.

    Returns
    -------
    tuple of float
        ``(step_lon_deg, step_lat_deg)``.
    """
    if not tolerance_m > 0:
        raise ValueError(f"tolerance_m must be a positive number of metres, got {tolerance_m!r}")
    _, min_lat, _, max_lat = bounds_wgs84
    nearest_equator = 0.0 if min_lat <= 0.0 <= max_lat else min(abs(min_lat), abs(max_lat))
    step_m = math.sqrt(2.0) * tolerance_m
    step_lat = step_m / METRES_PER_DEGREE_LAT
    step_lon = step_m / (METRES_PER_DEGREE_LAT * math.cos(math.radians(nearest_equator)))
    return step_lon, step_lat


def encode_topology(
    layers: Mapping[str, gpd.GeoDataFrame],
    *,
    properties: Mapping[str, Sequence[str]] | None = None,
    tolerance_m: float = 1.0,
) -> dict[str, Any]:
    """Encode polygon layers as one TopoJSON topology whose arcs they share.

    Vertices are quantized onto a grid fine enough that no vertex moves more
    than ``tolerance_m``; rings are cut at junctions (points where the set of
    neighbouring vertices changes) and every arc is stored once, however many
    rings of however many layers walk it. Layers that nest (grids, the villages
    dissolved from them, the towns dissolved from those) therefore cost little
    more than their arc indices.

    Parameters
    ----------
    layers : mapping of str to GeoDataFrame
        Object name → polygon layer in EPSG:4326 (longitude, latitude). Rows
        with empty or missing geometry become null geometries.
    properties : mapping of str to sequence of str, optional
        Object name → columns to copy into each geometry's ``properties``.
        Layers not named get no properties.
    tolerance_m : float, default 1.0
        Largest displacement of any vertex by quantization, in metres.

    Returns
    -------
    dict
        A TopoJSON ``Topology`` (``transform``, delta-encoded ``arcs``,
        ``objects`` of type ``GeometryCollection``, ``bbox``), ready for
        ``json.dumps`` and topojson-client's ``topojson.feature``.

    Raises
    ------
    ValueError
        Listing every problem found: a layer not in EPSG:4326, non-polygonal
        geometries, unknown property columns.
    """
    properties = dict(properties or {})
    _check_layers(layers, properties)
    non_empty = [
        frame.geometry[~(frame.geometry.isna() | frame.geometry.is_empty)]
        for frame in layers.values()
    ]
    bounds = _total_bounds(non_empty)
    step_lon, step_lat = quantization_steps(bounds, tolerance_m=tolerance_m)
    translate = (bounds[0], bounds[1])

    rings = _RingTable.from_layers(layers, translate=translate, steps=(step_lon, step_lat))
    arcs, ring_arcs = _cut_and_dedup(rings)

    objects: dict[str, Any] = {}
    for name, frame in layers.items():
        columns = list(properties.get(name, ()))
        records = _property_records(frame, columns) if columns else None
        geometries = []
        for row in range(len(frame)):
            geometry = _geometry(rings, ring_arcs, layer=name, row=row)
            if records is not None:
                geometry["properties"] = records[row]
            geometries.append(geometry)
        objects[name] = {"type": "GeometryCollection", "geometries": geometries}

    return {
        "type": "Topology",
        "bbox": list(bounds),
        "transform": {"scale": [step_lon, step_lat], "translate": list(translate)},
        "objects": objects,
        "arcs": arcs,
    }


def _check_layers(
    layers: Mapping[str, gpd.GeoDataFrame], properties: Mapping[str, Sequence[str]]
) -> None:
    problems: list[str] = []
    if not layers:
        problems.append("layers is empty: pass at least one name → GeoDataFrame")
    for name in properties:
        if name not in layers:
            problems.append(
                f"properties names layer {name!r}, which is not in layers {sorted(layers)}"
            )
    for name, frame in layers.items():
        if frame.crs is None or frame.crs.to_epsg() != 4326:
            problems.append(
                f"layer {name!r} is in {frame.crs!s}, not EPSG:4326: "
                "call .to_crs(4326) before encoding"
            )
        types = set(frame.geometry.dropna().geom_type) - _POLYGONAL
        if types:
            problems.append(
                f"layer {name!r} has {sorted(types)} geometries; "
                "only Polygon and MultiPolygon are encoded"
            )
        missing = [c for c in properties.get(name, ()) if c not in frame.columns]
        if missing:
            problems.append(
                f"layer {name!r} has no column(s) {missing}; it has {list(frame.columns)}"
            )
    if problems:
        raise ValueError("cannot encode topology:\n- " + "\n- ".join(problems))


def _total_bounds(geometries: Sequence[gpd.GeoSeries]) -> tuple[float, float, float, float]:
    boxes = [g.total_bounds for g in geometries if len(g)]
    if not boxes:
        return (0.0, 0.0, 0.0, 0.0)
    stacked = np.vstack(boxes)
    return (
        float(stacked[:, 0].min()),
        float(stacked[:, 1].min()),
        float(stacked[:, 2].max()),
        float(stacked[:, 3].max()),
    )


def _property_records(frame: gpd.GeoDataFrame, columns: Sequence[str]) -> list[dict[str, Any]]:
    """Rows as JSON-ready dicts: numpy scalars to Python, NaN/NA/NaT to None."""
    values = pd.DataFrame(frame[list(columns)]).astype(object)
    values = values.where(pd.notna(values), None)
    return [
        {c: _plain(v) for c, v in zip(columns, row, strict=True)}
        for row in values.itertuples(index=False)
    ]


def _plain(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, pd.Timestamp):
        return value.isoformat()
    return value


class _RingTable:
    """Every ring of every layer, quantized, as one flat array of point ids.

    Attributes
    ----------
    points : ndarray of int64, shape (n, 2)
        Distinct quantized vertices.
    ids : ndarray of int64
        Point id of each ring vertex, rings concatenated, closing vertex dropped.
    starts, lengths : ndarray of int64
        Where each ring starts in ``ids`` and how many vertices it has.
    keys : list of tuple
        ``(layer, row, part, ring)`` of each ring; ring 0 is the exterior.
    by_row : dict
        ``(layer, row)`` → indices of that row's rings, in order.
    """

    def __init__(
        self,
        points: np.ndarray,
        ids: np.ndarray,
        starts: np.ndarray,
        lengths: np.ndarray,
        keys: list[tuple[str, int, int, int]],
    ) -> None:
        self.points = points
        self.ids = ids
        self.starts = starts
        self.lengths = lengths
        self.keys = keys
        self.by_row: dict[tuple[str, int], list[int]] = {}
        for i, (layer, row, _, _) in enumerate(keys):
            self.by_row.setdefault((layer, row), []).append(i)

    @classmethod
    def from_layers(
        cls,
        layers: Mapping[str, gpd.GeoDataFrame],
        *,
        translate: tuple[float, float],
        steps: tuple[float, float],
    ) -> _RingTable:
        keys: list[tuple[str, int, int, int]] = []
        coords: list[np.ndarray] = []
        ring_index: list[np.ndarray] = []
        offset = 0
        for name, frame in layers.items():
            geoms = np.asarray(frame.geometry.values, dtype=object)
            parts, part_row = shapely.get_parts(geoms, return_index=True)
            rings, ring_part = shapely.get_rings(parts, return_index=True)
            if len(rings) == 0:
                continue
            xy, coord_ring = shapely.get_coordinates(rings, return_index=True)
            # ring number within its part: 0 for the exterior, 1.. for holes
            first_of_part = np.r_[True, ring_part[1:] != ring_part[:-1]]
            part_start = np.maximum.accumulate(np.where(first_of_part, np.arange(len(rings)), 0))
            ring_no = np.arange(len(rings)) - part_start
            # part number within its row
            first_of_row = np.r_[True, part_row[1:] != part_row[:-1]]
            row_start = np.maximum.accumulate(np.where(first_of_row, np.arange(len(parts)), 0))
            part_no = np.arange(len(parts)) - row_start
            keys.extend(
                (name, int(part_row[p]), int(part_no[p]), int(r))
                for p, r in zip(ring_part, ring_no, strict=True)
            )
            coords.append(xy)
            ring_index.append(coord_ring + offset)
            offset += len(rings)
        if not coords:
            empty = np.zeros(0, dtype=np.int64)
            return cls(np.zeros((0, 2), dtype=np.int64), empty, empty, empty, [])

        xy = np.vstack(coords)
        ring_of = np.concatenate(ring_index)
        q = np.rint((xy - np.asarray(translate)) / np.asarray(steps)).astype(np.int64)
        # Drop each ring's closing vertex, then vertices equal to their cyclic
        # predecessor (quantization can merge neighbours).
        last_of_ring = np.r_[ring_of[1:] != ring_of[:-1], True]
        q, ring_of = q[~last_of_ring], ring_of[~last_of_ring]
        q, ring_of = _drop_cyclic_repeats(q, ring_of, n_rings=offset)

        points, ids = np.unique(q, axis=0, return_inverse=True)
        lengths = np.bincount(ring_of, minlength=offset).astype(np.int64)
        starts = np.r_[0, np.cumsum(lengths)[:-1]].astype(np.int64)
        return cls(points, ids.reshape(-1).astype(np.int64), starts, lengths, keys)


def _drop_cyclic_repeats(
    q: np.ndarray, ring_of: np.ndarray, *, n_rings: int
) -> tuple[np.ndarray, np.ndarray]:
    lengths = np.bincount(ring_of, minlength=n_rings)
    starts = np.r_[0, np.cumsum(lengths)[:-1]]
    index = np.arange(len(q))
    first = index == starts[ring_of]
    prev = np.where(first, starts[ring_of] + lengths[ring_of] - 1, index - 1)
    same = np.all(q == q[prev], axis=1)
    keep = ~same
    # a ring whose vertices all coincide keeps none; one that keeps < 3 is degenerate
    kept = np.bincount(ring_of[keep], minlength=n_rings)
    keep &= kept[ring_of] >= 3
    return q[keep], ring_of[keep]


def _junctions(rings: _RingTable) -> np.ndarray:
    """Boolean per point id: True where rings meeting there have different neighbours."""
    n = len(rings.ids)
    if n == 0:
        return np.zeros(len(rings.points), dtype=bool)
    ring_of = np.repeat(np.arange(len(rings.lengths)), rings.lengths)
    index = np.arange(n)
    start, length = rings.starts[ring_of], rings.lengths[ring_of]
    prev = np.where(index == start, start + length - 1, index - 1)
    nxt = np.where(index == start + length - 1, start, index + 1)
    a, b = rings.ids[prev], rings.ids[nxt]
    neighbours = np.column_stack([rings.ids, np.minimum(a, b), np.maximum(a, b)])
    distinct = np.unique(neighbours, axis=0)
    return np.bincount(distinct[:, 0], minlength=len(rings.points)) > 1


def _cut_and_dedup(rings: _RingTable) -> tuple[list[Arc], list[Ring]]:
    """Cut rings at junctions into arcs kept once; return the arcs and each ring's arc indices."""
    is_junction = _junctions(rings)
    arcs: list[Arc] = []
    by_key: dict[tuple[int, int], int] = {}
    ring_arcs: list[Ring] = []
    for start, length in zip(rings.starts.tolist(), rings.lengths.tolist(), strict=True):
        ids = rings.ids[start : start + length]
        if length == 0:
            ring_arcs.append([])
            continue
        cuts = np.flatnonzero(is_junction[ids])
        if len(cuts) == 0:  # a ring that touches nothing: start at its smallest point id
            cuts = np.array([int(np.argmin(ids))])
        rotated = np.roll(ids, -int(cuts[0]))
        bounds = np.r_[cuts - cuts[0], length]
        refs: Ring = []
        for lo, hi in zip(bounds[:-1].tolist(), bounds[1:].tolist(), strict=True):
            piece = rotated[lo : hi + 1] if hi < length else np.r_[rotated[lo:], rotated[:1]]
            forward = (int(piece[0]), int(piece[1]))
            backward = (int(piece[-1]), int(piece[-2]))
            if forward in by_key:
                refs.append(by_key[forward])
            elif backward in by_key:
                refs.append(~by_key[backward])
            else:
                by_key[forward] = len(arcs)
                refs.append(len(arcs))
                arcs.append(_delta(rings.points[piece]))
        ring_arcs.append(refs)
    return arcs, ring_arcs


def _delta(points: np.ndarray) -> Arc:
    out = points.copy()
    out[1:] -= points[:-1]
    arc: Arc = out.tolist()
    return arc


def _geometry(rings: _RingTable, ring_arcs: list[Ring], *, layer: str, row: int) -> dict[str, Any]:
    """TopoJSON geometry of one row, without parts whose exterior collapsed or collapsed holes."""
    polygons: dict[int, list[Ring]] = {}
    for i in rings.by_row.get((layer, row), []):
        _, _, part, ring_no = rings.keys[i]
        refs = ring_arcs[i]
        if ring_no == 0:
            if refs:
                polygons[part] = [refs]
        elif refs and part in polygons:
            polygons[part].append(refs)
    kept = list(polygons.values())
    if not kept:
        return {"type": None}
    if len(kept) == 1:
        return {"type": "Polygon", "arcs": kept[0]}
    return {"type": "MultiPolygon", "arcs": kept}
