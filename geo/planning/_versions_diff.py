"""Diffs of grid layers: per-grid status, where area went (overlaps), which points change
grid inside the changed area, and one grid's life across versions."""

from __future__ import annotations

from typing import cast

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo.core.errors import GridGovError
from geo.core.i18n import Text
from geo.core.settings import get_settings
from geo.grids.assign import PROBLEM_OUTSIDE, assign_events, grid_index
from geo.planning._versions_model import (
    GRID_KEYS,
    HOUSEHOLD_ID,
    VersionDiff,
    VersionError,
    as_multi,
    as_text,
    from_cell,
    isin,
)
from geo.planning._versions_repository import read_version
from geo.store.base import Store, Transaction

_SHARE_TOLERANCE = 1e-9  # relative area below which an overlap is a shared edge


def compare(old: gpd.GeoDataFrame, new: gpd.GeoDataFrame) -> pd.DataFrame:
    """Per grid code: status, geometry_changed and changed_columns between two layers."""
    a_codes, b_codes = as_text(old["grid_code"]), as_text(new["grid_code"])
    codes = np.union1d(a_codes, b_codes).astype(object)
    ia = pd.Index(a_codes).get_indexer(codes)
    ib = pd.Index(b_codes).get_indexer(codes)
    both = np.flatnonzero((ia >= 0) & (ib >= 0))
    ja, jb = ia[both], ib[both]
    geometry_changed = np.zeros(len(codes), dtype=bool)
    geometry_changed[both] = shapely.to_wkb(
        old.geometry.to_numpy()[ja], byte_order=1
    ) != shapely.to_wkb(new.geometry.to_numpy()[jb], byte_order=1)
    changed: list[list[str]] = [[] for _ in codes]
    for col in (c for c in new.columns if c != new.geometry.name):
        left = as_text(old[col])[ja] if col in old.columns else np.full(len(both), "", dtype=object)
        for i in both[left != as_text(new[col])[jb]]:
            changed[i].append(col)
    columns = np.array([",".join(c) for c in changed], dtype=object)
    status = np.where(ia < 0, "added", np.where(ib < 0, "removed", "unchanged")).astype(object)
    status[(ia >= 0) & (ib >= 0) & (geometry_changed | (columns != ""))] = "changed"
    return pd.DataFrame(
        {
            "grid_code": codes,
            "status": status,
            "geometry_changed": geometry_changed,
            "changed_columns": columns,
        }
    )


def overlaps(old: gpd.GeoDataFrame, new: gpd.GeoDataFrame) -> pd.DataFrame:
    """Area (m²) of every old × new intersection, plus each side's area in no grid of the other.

    Returns ``old_grid_code``, ``new_grid_code`` (empty code = no grid) and ``area_m2``.
    """
    og, ng = _valid(old.geometry.to_numpy()), _valid(new.geometry.to_numpy())
    oi, ni = shapely.STRtree(ng).query(og, predicate="intersects") if len(ng) else ([], [])
    oi, ni = np.asarray(oi, dtype=np.int64), np.asarray(ni, dtype=np.int64)
    area = shapely.area(shapely.intersection(og[oi], ng[ni])) if len(oi) else np.zeros(0)
    scale = np.maximum(shapely.area(og[oi]), shapely.area(ng[ni])) if len(oi) else area
    keep = area > _SHARE_TOLERANCE * scale
    pairs = pd.DataFrame(
        {
            "old_grid_code": old["grid_code"].to_numpy()[oi[keep]],
            "new_grid_code": new["grid_code"].to_numpy()[ni[keep]],
            "area_m2": area[keep],
        }
    )
    rest = []
    for frame, side, other in (
        (old, "old_grid_code", "new_grid_code"),
        (new, "new_grid_code", "old_grid_code"),
    ):
        total = pd.Series(
            shapely.area(frame.geometry.to_numpy()), index=frame["grid_code"].to_numpy()
        )
        covered = pairs.groupby(side)["area_m2"].sum().reindex(total.index, fill_value=0.0)
        gap = total - covered
        gap = gap[gap > 1e-6 * total.clip(lower=1.0)]
        rest.append(pd.DataFrame({side: gap.index, other: "", "area_m2": gap.to_numpy()}))
    return pd.concat([pairs, *rest], ignore_index=True)


def _valid(geoms: np.ndarray) -> np.ndarray:
    """Invalid polygons made valid for measuring overlaps (a draft may hold broken ones)."""
    bad = ~shapely.is_valid(geoms) & ~shapely.is_missing(geoms)
    if not bad.any():
        return geoms
    out = geoms.copy()
    out[bad] = shapely.make_valid(geoms[bad])
    return out


def bounds_of(*frames: gpd.GeoDataFrame) -> tuple[float, float, float, float] | None:
    """The bounds of the frames' geometries together (None when every one is empty)."""
    geoms = np.concatenate([f.geometry.to_numpy() for f in frames])
    geoms = geoms[~shapely.is_empty(geoms)] if len(geoms) else geoms
    if not len(geoms):
        return None
    x0, y0, x1, y1 = shapely.total_bounds(geoms)
    return (float(x0), float(y0), float(x1), float(y1))


def assign_in_area(
    tx: Transaction,
    table: str,
    key: str,
    grids: gpd.GeoDataFrame,
    bbox: tuple[float, float, float, float],
) -> tuple[pd.DataFrame, pd.DataFrame] | None:
    """The points of ``table`` inside ``bbox``: stored codes and codes under ``grids``.

    Exact for every point in the box: each grid that can contain one meets the box, and
    those grids keep their codes, so ties on shared edges go the same way as with all grids.
    Returns None when the table is absent or lacks the key or ``grid_code``.
    """
    try:
        available = tx.columns(table)
    except GridGovError:
        return None
    if key not in available or "grid_code" not in available or "geometry" not in available:
        return None
    codes = [c for c in (*GRID_KEYS, "assign_problem") if c in available]
    points = tx.read(table, columns=[key, *codes, "geometry"], bbox=bbox, bbox_crs=grids.crs)
    stored = pd.DataFrame({c: as_text(points[c]) for c in [key, *codes]}, index=points.index)
    near = grids[grids.intersects(shapely.box(*bbox))]
    if len(near):
        got = assign_events(points, near, index=grid_index(near))
        fresh = pd.DataFrame({c: got[c].astype(str).to_numpy() for c in codes}, index=points.index)
    else:  # the changed area holds no grid any more: every point there is outside
        fresh = pd.DataFrame({c: "" for c in codes}, index=points.index)
        if "assign_problem" in codes:
            fresh["assign_problem"] = PROBLEM_OUTSIDE
    fresh.insert(0, key, stored[key].to_numpy())
    return stored, fresh


def version_diff(store: Store, a: int | gpd.GeoDataFrame, b: int | gpd.GeoDataFrame) -> VersionDiff:
    """What changed from ``a`` to ``b`` (see :meth:`VersionedGrids.diff`)."""
    with store.transaction(readonly=True) as tx:
        old, new = _diff_sides(tx, a, b)
        table = compare(old, new)
        moving = table[table.status.isin(["added", "removed"]) | table.geometry_changed]
        codes = set(moving.grid_code)
        old_part = old[isin(old.grid_code, codes)]
        new_part = new[isin(new.grid_code, codes)]
        flows = overlaps(old_part, new_part)
        households = pd.DataFrame(
            {
                "from_grid": pd.Series([], dtype="str"),
                "to_grid": pd.Series([], dtype="str"),
                "households": pd.Series([], dtype="int64"),
            }
        )
        counts: dict[str, pd.Series | None] = {}
        box = bounds_of(old_part, new_part)
        before = after = None
        if box is not None:
            before = assign_in_area(tx, "households", HOUSEHOLD_ID, old, box)
            after = assign_in_area(tx, "households", HOUSEHOLD_ID, new, box)
        if before is not None and after is not None:
            pair = pd.DataFrame(
                {"from_grid": before[1]["grid_code"], "to_grid": after[1]["grid_code"]}
            )
            pair = pair[isin(pair.from_grid, codes) | isin(pair.to_grid, codes)]
            households = pair.value_counts().rename("households").reset_index()
        different = table.grid_code[table.status != "unchanged"]
        for side, grids in (("a", old), ("b", new)):
            counts[side] = _household_counts(tx, grids, different)
    flows = flows.rename(columns={"old_grid_code": "from_grid", "new_grid_code": "to_grid"})
    flows = flows.merge(households, on=["from_grid", "to_grid"], how="outer")
    flows["area_m2"] = flows["area_m2"].fillna(0.0)
    flows["households"] = flows["households"].fillna(0).astype(np.int64)
    flows = flows.sort_values(["from_grid", "to_grid"]).reset_index(drop=True)
    area_a = old.set_index("grid_code").geometry.area
    area_b = new.set_index("grid_code").geometry.area
    table["area_a_m2"] = table.grid_code.map(area_a)
    table["area_b_m2"] = table.grid_code.map(area_b)
    for side, count in counts.items():
        table[f"households_{side}"] = np.nan if count is None else table.grid_code.map(count)
    return VersionDiff(a=_number(a), b=_number(b), grids=table, flows=flows)


def _diff_sides(
    tx: Transaction, a: int | gpd.GeoDataFrame, b: int | gpd.GeoDataFrame
) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """Both sides of a diff as layers in one CRS (that of the versions, if one is)."""
    read = [None if isinstance(s, gpd.GeoDataFrame) else read_version(tx, int(s)) for s in (a, b)]
    crs = next((f.crs for f in read if f is not None), None)
    if crs is None and isinstance(a, gpd.GeoDataFrame):
        crs = a.crs
    old, new = (
        f if f is not None else _diff_layer(cast(gpd.GeoDataFrame, s), crs)
        for f, s in zip(read, (a, b), strict=True)
    )
    return as_multi(old), as_multi(new)


def _household_counts(
    tx: Transaction, grids: gpd.GeoDataFrame, codes: pd.Series
) -> pd.Series | None:
    """Household points per grid code of ``grids``, counted only for ``codes``.

    None when the store has no households layer (with ``household_id``).
    """
    wanted = grids[isin(grids.grid_code, codes)]
    box = bounds_of(wanted)
    got = assign_in_area(tx, "households", HOUSEHOLD_ID, grids, box) if box else None
    if got is None:
        return None if box else pd.Series(dtype=np.int64)
    return got[1]["grid_code"].value_counts().reindex(wanted.grid_code, fill_value=0)


def _diff_layer(layer: gpd.GeoDataFrame, crs: object) -> gpd.GeoDataFrame:
    """A layer given to :meth:`VersionedGrids.diff`, checked and in ``crs``."""
    if "grid_code" not in layer.columns:
        raise VersionError(
            Text(
                "要比较的图层缺少 grid_code 列，请给每个网格填写",
                "the layer to compare has no grid_code column; add it to every grid",
            )
        )
    if layer.crs is None:
        metric = get_settings().metric_crs
        raise VersionError(
            Text(
                f"要比较的图层没有坐标系，请设置，如 set_crs('{metric}')",
                f"the layer to compare has no CRS; set it, e.g. set_crs('{metric}')",
            )
        )
    codes = pd.Series(as_text(layer["grid_code"]))
    twice = sorted(set(codes[codes.duplicated()]))
    if twice:
        raise VersionError(
            Text(
                f"网格编码重复 {twice[:10]}",
                f"the layer to compare has grid code(s) {twice[:10]} twice; give each grid its "
                "own code",
            )
        )
    out = layer.to_crs(crs) if crs is not None and layer.crs != crs else layer
    return out.rename_geometry("geometry") if out.geometry.name != "geometry" else out


def _number(side: int | gpd.GeoDataFrame) -> int | None:
    return None if isinstance(side, gpd.GeoDataFrame) else int(side)


def grid_history(store: Store, grid_code: str) -> pd.DataFrame:
    """The life of one grid across versions (see :meth:`VersionedGrids.history`)."""
    with store.transaction(readonly=True) as tx:
        rows = tx.read("grid_version_features", where={"grid_code": grid_code})
        versions = tx.read("grid_versions").sort_values("version")
        moved_in = tx.read(
            "issue_grid_history", columns=["version"], where={"grid_code": grid_code}
        )
        moved_out = tx.read(
            "issue_grid_history", columns=["version"], where={"old_grid_code": grid_code}
        )
    by_version = {int(str(v)): r for v, r in rows.groupby("version")}
    records = []
    previous: gpd.GeoDataFrame | None = None
    for _, meta in versions.iterrows():
        v = int(meta["version"])
        now = by_version.get(v)
        if now is None:
            if previous is not None:
                status, columns, area, households = "removed", "", np.nan, np.nan
                previous = None
            else:
                continue
        else:
            now = as_multi(gpd.GeoDataFrame(now.drop(columns=["version"]), crs=rows.crs))
            if previous is None:
                status, columns = "added", ""
            else:
                diff = compare(previous, now).iloc[0]
                status, columns = str(diff["status"]), str(diff["changed_columns"])
                if diff["geometry_changed"]:
                    columns = ",".join(filter(None, ["geometry", columns]))
            area = float(now.geometry.area.iloc[0])
            households = now["households"].iloc[0] if "households" in now else np.nan
            previous = now
        records.append(
            {
                "version": v,
                "published_at": meta["published_at"],
                "published_by": meta["published_by"],
                "reason": from_cell(meta["reason"]),
                "status": status,
                "changed_columns": columns,
                "area_m2": area,
                "households": households,
                "issues_in": int((moved_in["version"] == v).sum()),
                "issues_out": int((moved_out["version"] == v).sum()),
            }
        )
    if not records:
        raise VersionError(
            Text(
                f"网格 {grid_code} 不在任何已发布版本中",
                f"grid {grid_code!r} is in no published version",
            )
        )
    return pd.DataFrame(records)
