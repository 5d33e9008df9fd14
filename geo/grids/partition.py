"""Split a polygon into Voronoi cells around seed points, as a clean shared-edge coverage."""

from __future__ import annotations

from typing import cast

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry


def partition(region: BaseGeometry, seeds: np.ndarray) -> np.ndarray:
    """Cut ``region`` into one polygon per seed (Voronoi cells clipped to the region).

    A clipped cell that falls apart keeps the piece holding its seed (or its largest piece);
    the other pieces join the neighbouring cell they share the longest edge with, so cells
    are single polygons wherever the region allows it. Neighbouring cells share their edge
    vertices exactly, so the result has no gaps or overlaps.

    Parameters
    ----------
    region
        Polygon or MultiPolygon in a projected CRS (metres).
    seeds
        ``(n, 2)`` array of distinct points inside the region.

    Returns
    -------
    numpy.ndarray
        ``n`` geometries, in the order of ``seeds``.
    """
    seeds = np.asarray(seeds, dtype=float)
    if len(seeds) == 1:
        return np.array([region], dtype=object)
    cells = shapely.voronoi_polygons(shapely.multipoints(seeds), extend_to=region, ordered=True)
    clipped = shapely.intersection(shapely.get_parts(cells), region)
    seed_pts = cast("np.ndarray", shapely.points(seeds))  # (n, 2) coordinates: n points
    mains = np.empty(len(seeds), dtype=object)
    fragments: list[tuple[int, BaseGeometry]] = []
    for i, cell in enumerate(clipped):
        pieces = shapely.get_parts(shapely.get_parts(cell))
        pieces = pieces[shapely.get_type_id(pieces) == 3]
        if len(pieces) == 0:
            mains[i] = shapely.Polygon()
            continue
        holds = shapely.intersects(pieces, seed_pts[i])
        keep = int(np.argmax(holds)) if holds.any() else int(np.argmax(shapely.area(pieces)))
        mains[i] = pieces[keep]
        fragments.extend((i, p) for j, p in enumerate(pieces) if j != keep)
    extra: dict[int, list[BaseGeometry]] = {}
    tree = shapely.STRtree(mains)
    for owner, piece in fragments:
        near = tree.query(piece, predicate="intersects")
        near = near[near != owner]
        shared = (
            shapely.length(shapely.intersection(mains[near], piece.boundary)) if len(near) else []
        )
        target = int(near[int(np.argmax(shared))]) if len(near) and max(shared) > 0 else owner
        extra.setdefault(target, []).append(piece)
    for target, joined in extra.items():
        mains[target] = shapely.union_all([mains[target], *joined])
    return mains


def node_coverage(geometries: np.ndarray) -> np.ndarray:
    """Rebuild polygons so that neighbours share every vertex of their common edges.

    Cells clipped separately can meet along an edge where one has a vertex the other
    lacks; noding all boundaries together and polygonizing gives each shared edge the
    same vertices on both sides (what TopoJSON and coverage checks expect).
    """
    geoms = np.asarray(geometries, dtype=object)
    lines = shapely.union_all(shapely.boundary(geoms))
    faces = shapely.get_parts(shapely.polygonize(shapely.get_parts(lines)))
    inner = shapely.point_on_surface(faces)
    face_i, owner = shapely.STRtree(geoms).query(inner, predicate="within")
    out = np.empty(len(geoms), dtype=object)
    order = np.argsort(owner, kind="stable")
    owner, face_i = owner[order], face_i[order]
    splits = np.flatnonzero(np.diff(owner)) + 1
    for grid, members in zip(owner[np.r_[0, splits]], np.split(face_i, splits), strict=True):
        out[grid] = (
            faces[members[0]] if len(members) == 1 else shapely.coverage_union_all(faces[members])
        )
    return out


def dissolve(geometries: np.ndarray, keys: np.ndarray) -> dict[str, BaseGeometry]:
    """Union a clean coverage by key, keeping shared vertices (``coverage_union_all``)."""
    keys = np.asarray(keys)
    return {
        str(k): shapely.coverage_union_all(np.asarray(geometries)[keys == k])
        for k in np.unique(keys)
    }
