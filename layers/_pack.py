"""Pack a TopoJSON topology into a smaller transport form; grid-choropleth.js unpacks it.

TopoJSON already stores each shared edge once; what is left in a 3,689-grid
layer is JSON punctuation and repetition. The packed form (version 1) keeps
TopoJSON's transform and delta-encoded arcs and changes only how they are
written down:

``arcs``
    One flat list of integers. For each arc: its number of points ``n``, then
    ``n`` ``(dx, dy)`` pairs. As in TopoJSON every pair is relative to the
    previous point, but the first pair of an arc is relative to the last point
    of the previous arc (arcs are found walking rings, so that is usually the
    same junction and the pair is ``0, 0``).
``objects[name].geometries``
    Per feature ``null``, a polygon (list of rings) or a multipolygon (list of
    polygons). A ring is its list of arc references with each reference
    ``i`` (or ``~i`` walked backwards) written as ``2 * (i - previous i) + backwards``;
    the previous ``i`` runs on through the whole object, starting at 0.
``objects[name].properties``
    Columns instead of per-feature dicts, each one of
    ``["v", values]`` (plain list), ``["d", distinct values, codes]`` (dictionary)
    or ``["f", prefix lengths, suffixes]`` (front coding: a string shares its first
    ``prefix`` UTF-16 code units with the string before it), whichever is shortest.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["PACK_VERSION", "pack_topology"]

PACK_VERSION = 1


def pack_topology(
    topology: Mapping[str, Any], *, properties: Mapping[str, Sequence[str]]
) -> dict[str, Any]:
    """Pack a TopoJSON topology (as made by ``layers.topology.encode_topology``).

    Parameters
    ----------
    topology : dict
        A quantized TopoJSON ``Topology`` whose objects are ``GeometryCollection``.
    properties : mapping of str to sequence of str
        Object name → property columns to carry, in this order. Features
        missing a column get ``null``.

    Returns
    -------
    dict
        The packed form described in this module's docstring, with ``"v": 1``.
    """
    if "transform" not in topology:
        raise ValueError("pack_topology needs a quantized topology (one with a 'transform')")
    objects: dict[str, Any] = {}
    for name, collection in topology["objects"].items():
        geometries = collection["geometries"]
        state = [0]
        packed_geoms = [_pack_geometry(g, state) for g in geometries]
        columns = {
            column: _pack_column([(g.get("properties") or {}).get(column) for g in geometries])
            for column in properties.get(name, ())
        }
        objects[name] = {"geometries": packed_geoms, "properties": columns}
    return {
        "v": PACK_VERSION,
        "bbox": topology.get("bbox"),
        "transform": topology["transform"],
        "arcs": _pack_arcs(topology["arcs"]),
        "objects": objects,
    }


def pack_columns(frame: pd.DataFrame, columns: Sequence[str]) -> dict[str, Any]:
    """Pack property columns of ``frame`` as :func:`pack_topology` does (NaN/NA → null)."""
    out = {}
    for column in columns:
        values = frame[column].astype(object)
        values = values.where(pd.notna(values), None)
        out[column] = _pack_column(
            [v.item() if isinstance(v, np.generic) else v for v in values.tolist()]
        )
    return out


def _pack_arcs(arcs: Sequence[Sequence[Sequence[int]]]) -> list[int]:
    flat: list[int] = []
    last_x = last_y = 0
    for arc in arcs:
        x, y = arc[0][0], arc[0][1]
        flat += [len(arc), x - last_x, y - last_y]
        for dx, dy in arc[1:]:
            flat += [dx, dy]
            x += dx
            y += dy
        last_x, last_y = x, y
    return flat


def _pack_geometry(geometry: dict[str, Any], state: list[int]) -> Any:
    kind = geometry.get("type")
    if kind is None:
        return None
    if kind == "Polygon":
        return [_pack_ring(ring, state) for ring in geometry["arcs"]]
    if kind == "MultiPolygon":
        return [[_pack_ring(ring, state) for ring in polygon] for polygon in geometry["arcs"]]
    raise ValueError(f"pack_topology handles Polygon and MultiPolygon geometries, got {kind!r}")


def _pack_ring(ring: Sequence[int], state: list[int]) -> list[int]:
    out = []
    for ref in ring:
        index, backwards = (ref, 0) if ref >= 0 else (~ref, 1)
        out.append(2 * (index - state[0]) + backwards)
        state[0] = index
    return out


def _pack_column(values: list[Any]) -> list[Any]:
    candidates: list[list[Any]] = [["v", values]]
    try:
        distinct = list(dict.fromkeys(values))
    except TypeError:  # unhashable values (lists, dicts): ship as they are
        distinct = None
    if distinct is not None and len(distinct) < len(values):
        code = {value: i for i, value in enumerate(distinct)}
        candidates.append(["d", distinct, [code[v] for v in values]])
    if values and all(isinstance(v, str) for v in values):
        candidates.append(["f", *_front_code(values)])
    return min(candidates, key=_json_size)


def _front_code(values: Sequence[str]) -> tuple[list[int], list[str]]:
    prefixes, suffixes = [], []
    previous = ""
    for value in values:
        shared = 0
        for a, b in zip(previous, value, strict=False):
            if a != b:
                break
            shared += 1
        # count in UTF-16 code units: that is how JavaScript's String.slice counts
        prefixes.append(len(value[:shared].encode("utf-16-le")) // 2)
        suffixes.append(value[shared:])
        previous = value
    return prefixes, suffixes


def _json_size(candidate: list[Any]) -> int:
    return len(json.dumps(candidate, ensure_ascii=False, separators=(",", ":")).encode())
