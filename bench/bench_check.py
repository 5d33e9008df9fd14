"""check_draft on the 3,689 demo grids (with households and issues) vs a naive geopandas peer.

Ours: :func:`geo.planning.check.check_draft` with the 348k household points and the 302k issues
(workload = households + issues of the last 365 days), printed with its parts:
:func:`geo.grids.validate.validate_grids` (which it reuses) and
:func:`geo.planning.check.grid_metrics`. Also timed on an edited draft (a split, a merge and a
redraw in one village), where points whose recorded grid no longer holds them are looked up
spatially. Goal: at most 1 s.

Peer, same run: the textbook approach — ``geopandas.overlay`` of the layer with itself for
overlaps, ``union_all`` differences for gaps, ``sjoin`` with the villages plus a loop over
the pairs for "in two villages", ``sjoin`` of the points for households and workload, and
per-grid loops for validity, parts, codes, compactness and balance. It checks the same rules
(not the worker/missing-code checks of validate_grids), so the counts of findings per rule are
printed side by side.

Run: ``python bench/bench_check.py`` from the repository root (``GRIDGOV_DATA_DIR`` picks the
folder of an existing demo GeoPackage).
"""

from __future__ import annotations

import re
from collections import Counter

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely
from _demo import demo_gpkg, median_time

from geo.core.settings import get_settings
from geo.grids.validate import validate_grids
from geo.planning.check import (
    AREA_BALANCE_HIGH,
    AREA_BALANCE_LOW,
    BALANCE_HIGH,
    BALANCE_LOW,
    BALANCE_MIN_GRIDS,
    COMPACTNESS_MIN,
    check_draft,
    grid_metrics,
)
from geo.planning.edit import merge_grids, redraw_boundary, split_grid
from geo.planning.metrics import ISSUE_WEIGHT, WORKLOAD_WINDOW_DAYS

RULES = ("overlap", "gap", "spans_villages", "not_contiguous", "malformed_code", "compactness")
BALANCE = ("balance_households", "balance_workload", "balance_area")


def main() -> None:
    path = demo_gpkg()
    read = {"use_arrow": True}
    grids = pyogrio.read_dataframe(path, layer="grids", **read)
    villages = pyogrio.read_dataframe(path, layer="villages", **read)
    homes = pyogrio.read_dataframe(path, layer="households", **read)
    issues = pyogrio.read_dataframe(
        path, layer="issues", columns=["received_at", "grid_code"], **read
    )

    def ours():
        return check_draft(grids, villages=villages, households=homes, issues=issues)

    t_ours, report = median_time(ours, repeat=5)
    outline = shapely.union_all(villages.geometry.to_numpy())
    t_validate, _ = median_time(
        lambda: validate_grids(grids, outline=outline, villages=villages), repeat=5
    )
    t_metrics, _ = median_time(lambda: grid_metrics(grids, households=homes, issues=issues), 5)

    draft = _edited(grids, homes)
    t_draft, draft_report = median_time(
        lambda: check_draft(draft, villages=villages, households=homes, issues=issues), repeat=5
    )
    t_peer, peer = median_time(lambda: naive(grids, villages, homes, issues), repeat=1)

    found = Counter(p.code for p in report.problems)
    print(
        f"grids: {len(grids):,}; villages: {len(villages)}; household points: {len(homes):,}; "
        f"issues: {len(issues):,} (workload window {WORKLOAD_WINDOW_DAYS} days to "
        f"{report.as_of})"
    )
    print(f"check_draft (GridGov):                 {t_ours:.3f} s  (goal ≤ 1 s)")
    print(f"  its validate_grids call, alone:      {t_validate:.3f} s")
    print(f"  its grid_metrics call, alone:        {t_metrics:.3f} s")
    print(f"check_draft on an edited draft:        {t_draft:.3f} s  ({len(draft):,} grids)")
    print(f"naive geopandas peer:                  {t_peer:.3f} s")
    print(f"ratio peer / GridGov: {t_peer / t_ours:.1f}x")
    print("findings per rule (GridGov / peer):")
    for rule in (*RULES, *BALANCE):
        print(f"  {rule:<20} {found.get(rule, 0):>5} / {peer.get(rule, 0):>5}")
    same = all(found.get(r, 0) == peer.get(r, 0) for r in (*RULES, *BALANCE))
    print(
        f"same counts: {same}; publishable: {report.publishable} (the demo has one grid in two "
        f"parts); edited draft publishable: {draft_report.publishable}"
    )


def _edited(grids: gpd.GeoDataFrame, homes: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """The demo with one village edited: a grid split, two merged, a boundary redrawn."""
    village = grids["village_code"].iloc[0]
    members = grids[grids["village_code"] == village]
    first = members.geometry.iloc[0]
    c = first.centroid
    x0, y0, x1, y1 = first.bounds
    line = shapely.LineString([(c.x, y0 - 10), (c.x, y1 + 10)])
    draft, _ = split_grid(grids, members["grid_code"].iloc[0], line, households=homes)
    a, b = members["grid_code"].iloc[[2, 3]]
    if shapely.relate_pattern(members.geometry.iloc[2], members.geometry.iloc[3], "****1****"):
        draft, _ = merge_grids(draft, [a, b])
    grab = shapely.Point(x1, c.y).buffer(0.2 * (x1 - x0))
    draft, _ = redraw_boundary(draft, members["grid_code"].iloc[0], grab, households=homes)
    return draft


def naive(
    grids: gpd.GeoDataFrame,
    villages: gpd.GeoDataFrame,
    homes: gpd.GeoDataFrame,
    issues: gpd.GeoDataFrame,
) -> Counter[str]:
    """The same rules, written the way most of us would first write them."""
    tol = get_settings().boundary_tolerance_m2
    found: Counter[str] = Counter()
    layer = grids[["grid_code", "village_code", "geometry"]]
    # overlaps: the layer intersected with itself
    pairs = gpd.overlay(layer, layer, how="intersection", keep_geom_type=True)
    pairs = pairs[pairs["grid_code_1"] != pairs["grid_code_2"]]
    found["overlap"] = int((pairs.area > tol).sum())
    # gaps: the villages minus the grids
    holes = shapely.get_parts(villages.union_all().difference(grids.union_all()))
    found["gap"] = int((shapely.area(holes) > tol).sum())
    # a grid in two villages
    joined = gpd.sjoin(layer, villages[["village_code", "geometry"]], predicate="intersects")
    shares: dict[int, int] = {}
    for idx, row in joined.iterrows():
        village = villages.loc[row["index_right"], "geometry"]
        if row.geometry.intersection(village).area > tol:
            shares[idx] = shares.get(idx, 0) + 1
    found["spans_villages"] = sum(1 for n in shares.values() if n > 1)
    # households and workload: points joined to the grids
    hh = gpd.sjoin(homes[["residents", "geometry"]], layer, predicate="within")
    households = hh.groupby("grid_code").size().reindex(grids["grid_code"], fill_value=0)
    when = pd.to_datetime(issues["received_at"])
    recent = issues[when > when.max() - pd.Timedelta(days=WORKLOAD_WINDOW_DAYS)]
    recent = recent[~recent.geometry.is_empty & recent.geometry.notna()]
    iss = gpd.sjoin(recent[["geometry"]], layer, predicate="within")
    recent_n = iss.groupby("grid_code").size().reindex(grids["grid_code"], fill_value=0)
    workload = households + ISSUE_WEIGHT * recent_n
    # per-grid loops
    for _, row in grids.iterrows():
        g = row.geometry
        if g.geom_type == "MultiPolygon" and len(g.geoms) > 1:
            found["not_contiguous"] += 1
        code = str(row["grid_code"])
        if not re.fullmatch(r"\d{15}", code) or not code.startswith(str(row["village_code"])):
            found["malformed_code"] += 1
        if 4 * np.pi * g.area / g.length**2 < COMPACTNESS_MIN:
            found["compactness"] += 1
    # balance within each village
    table = pd.DataFrame(
        {
            "village": grids["village_code"].to_numpy(),
            "households": households.to_numpy(),
            "workload": workload.to_numpy(),
            "area": grids.area.to_numpy(),
        }
    )
    for _, part in table.groupby("village"):
        if len(part) < BALANCE_MIN_GRIDS:
            continue
        for col, hi, lo in (
            ("households", BALANCE_HIGH, BALANCE_LOW),
            ("workload", BALANCE_HIGH, BALANCE_LOW),
            ("area", AREA_BALANCE_HIGH, AREA_BALANCE_LOW),
        ):
            median = part[col].median()
            if median <= 0:
                continue
            for value in part[col]:
                if value / median > hi or value / median < lo:
                    found[f"balance_{col}"] += 1
    return found


if __name__ == "__main__":
    main()
