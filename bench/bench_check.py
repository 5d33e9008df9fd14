"""check_draft on the 3,689 demo grids (with households and issues) vs a vectorised geopandas peer.

Ours: :func:`geo.planning.check.check_draft` with the 348k household points and the 302k issues
(workload = households + issues of the last 365 days), printed with its parts:
:func:`geo.grids.validate.validate_grids` (which it reuses) and
:func:`geo.planning.check.grid_metrics`. Also timed on an edited draft (a split, a merge and a
redraw in one village), where points whose recorded grid no longer holds them are looked up
spatially. Goal: at most 1 s.

Peer, same run and the same number of repeats (median of 5): the same rules written with
vectorised geopandas and shapely, no Python loop over rows — an ``STRtree`` query of the
layer against itself and the intersection areas of the pairs that do more than touch for
overlaps, ``union_all`` differences for gaps, ``sjoin`` with the villages and the
intersection areas of the pairs for "in two villages", ``sjoin`` of the points for
households and workload, array expressions for parts, codes and compactness, and
``groupby(...).transform("median")`` for balance. It checks the same rules (not the
worker/missing-code checks of validate_grids); the counts of findings per rule, on the demo
and on the edited draft, must be equal (exit 1 otherwise).

Run: ``python bench/bench_check.py [--quick]`` from the repository root (``GRIDGOV_DATA_DIR``
picks the folder of an existing demo GeoPackage; ``--quick``: the small county, one run).
"""

from __future__ import annotations

from collections import Counter

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely
from _demo import arguments, check, county_gpkg, median_time

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
from geo.planning.edit import EditError, merge_grids, redraw_boundary, split_grid
from geo.planning.metrics import ISSUE_WEIGHT, WORKLOAD_WINDOW_DAYS

RULES = ("overlap", "gap", "spans_villages", "not_contiguous", "malformed_code", "compactness")
BALANCE = ("balance_households", "balance_workload", "balance_area")
REPEATS = 5


def main() -> None:
    args = arguments(__doc__)
    repeat = 1 if args.quick else REPEATS
    path = county_gpkg(args.quick)
    read = {"use_arrow": True}
    grids = pyogrio.read_dataframe(path, layer="grids", **read)
    villages = pyogrio.read_dataframe(path, layer="villages", **read)
    homes = pyogrio.read_dataframe(path, layer="households", **read)
    issues = pyogrio.read_dataframe(
        path, layer="issues", columns=["received_at", "grid_code"], **read
    )

    def ours():
        return check_draft(grids, villages=villages, households=homes, issues=issues)

    t_ours, report = median_time(ours, repeat)
    outline = shapely.union_all(villages.geometry.to_numpy())
    t_validate, _ = median_time(
        lambda: validate_grids(grids, outline=outline, villages=villages), repeat
    )
    t_metrics, _ = median_time(lambda: grid_metrics(grids, households=homes, issues=issues), repeat)
    t_peer, theirs = median_time(lambda: peer(grids, villages, homes, issues), repeat)

    draft = _edited(grids, homes)
    t_draft, draft_report = median_time(
        lambda: check_draft(draft, villages=villages, households=homes, issues=issues), repeat
    )
    t_draft_peer, draft_theirs = median_time(lambda: peer(draft, villages, homes, issues), repeat)
    faulty = _faulty(grids)
    t_faulty, faulty_report = median_time(
        lambda: check_draft(faulty, villages=villages, households=homes, issues=issues), repeat
    )
    t_faulty_peer, faulty_theirs = median_time(
        lambda: peer(faulty, villages, homes, issues), repeat
    )

    found = Counter(p.code for p in report.problems)
    draft_found = Counter(p.code for p in draft_report.problems)
    faulty_found = Counter(p.code for p in faulty_report.problems)
    print(
        f"grids: {len(grids):,}; villages: {len(villages)}; household points: {len(homes):,}; "
        f"issues: {len(issues):,} (workload window {WORKLOAD_WINDOW_DAYS} days to "
        f"{report.as_of}); median of {repeat} on both sides"
    )
    print(f"check_draft (GridGov):                 {t_ours:.3f} s  (goal ≤ 1 s)")
    print(f"  its validate_grids call, alone:      {t_validate:.3f} s")
    print(f"  its grid_metrics call, alone:        {t_metrics:.3f} s")
    print(f"vectorised geopandas/shapely peer:     {t_peer:.3f} s")
    print(f"ratio peer / GridGov: {t_peer / t_ours:.1f}x")
    print(
        f"edited draft ({len(draft):,} grids): GridGov {t_draft:.3f} s, peer "
        f"{t_draft_peer:.3f} s, ratio {t_draft_peer / t_draft:.1f}x"
    )
    print(
        f"faulty draft (one grid moved 30 m, one code ending 000): GridGov {t_faulty:.3f} s, "
        f"peer {t_faulty_peer:.3f} s, ratio {t_faulty_peer / t_faulty:.1f}x"
    )
    layers = (
        ("demo", found, theirs),
        ("edited", draft_found, draft_theirs),
        ("faulty", faulty_found, faulty_theirs),
    )
    print(f"{'findings per rule, GridGov / peer:':<33}" + "".join(f"{n:>15}" for n, _, _ in layers))
    for rule in (*RULES, *BALANCE):
        cells = "".join(f"  {m.get(rule, 0):>5} / {o.get(rule, 0):>5}" for _, m, o in layers)
        print(f"  {rule:<31}{cells}")
    differ = [
        f"{name} {rule}"
        for name, mine, other in layers
        for rule in (*RULES, *BALANCE)
        if mine.get(rule, 0) != other.get(rule, 0)
    ]
    print(
        f"same counts: {not differ}; publishable: demo {report.publishable} "
        f"({found.get('not_contiguous', 0)} grid(s) in several parts), edited draft "
        f"{draft_report.publishable}, faulty draft {faulty_report.publishable}"
    )
    check(not differ, f"GridGov and the peer count different findings: {', '.join(differ)}")


def _edited(grids: gpd.GeoDataFrame, homes: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """The layer with one village edited: a grid split, two merged, a boundary redrawn.

    The first village (in layer order) where the three edits apply; on the demo, the first.
    """
    for village in grids["village_code"].unique():
        try:
            return _edit_village(grids, homes, village)
        except EditError:
            continue
    raise SystemExit("no village of the layer takes the split, merge and redraw")


def _edit_village(
    grids: gpd.GeoDataFrame, homes: gpd.GeoDataFrame, village: str
) -> gpd.GeoDataFrame:
    members = grids[grids["village_code"] == village]
    if len(members) < 4:
        raise EditError(village, "fewer than 4 grids", "take another village")
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


def _faulty(grids: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """The layer with a grid moved 30 m east (overlaps, a gap) and a code ending in 000."""
    out = grids.copy()
    row = len(out) // 2
    out.loc[out.index[row], "geometry"] = shapely.affinity.translate(
        out.geometry.iloc[row], xoff=30.0
    )
    code = str(out["grid_code"].iloc[row + 1])
    out.loc[out.index[row + 1], "grid_code"] = code[:-3] + "000"
    return out


def peer(
    grids: gpd.GeoDataFrame,
    villages: gpd.GeoDataFrame,
    homes: gpd.GeoDataFrame,
    issues: gpd.GeoDataFrame,
) -> Counter[str]:
    """The same rules with vectorised geopandas/shapely: STRtree pairs, sjoin, groupby."""
    tol = get_settings().boundary_tolerance_m2
    found: Counter[str] = Counter()
    geoms = grids.geometry.to_numpy()
    # overlaps: intersecting pairs that do more than touch, by the area they share (one
    # finding per grid of each pair, as check_draft reports them)
    left, right = shapely.STRtree(geoms).query(geoms, predicate="intersects")
    keep = left != right
    left, right = left[keep], right[keep]
    keep = ~shapely.touches(geoms[left], geoms[right])
    shared = shapely.area(shapely.intersection(geoms[left[keep]], geoms[right[keep]]))
    found["overlap"] = int((shared > tol).sum())
    # gaps: the villages minus the grids
    holes = shapely.get_parts(villages.union_all().difference(grids.union_all()))
    found["gap"] = int((shapely.area(holes) > tol).sum())
    # a grid in two villages: grid × village pairs sharing more than the tolerance
    layer = grids[["grid_code", "village_code", "geometry"]]
    pairs = gpd.sjoin(layer, villages[["geometry"]], predicate="intersects")
    inside = shapely.area(
        shapely.intersection(
            pairs.geometry.to_numpy(), villages.geometry.loc[pairs["index_right"]].to_numpy()
        )
    )
    per_grid = pd.Series(inside > tol).groupby(pairs.index.to_numpy()).sum()
    found["spans_villages"] = int((per_grid > 1).sum())
    # households and workload: points joined to the grids
    hh = gpd.sjoin(homes[["geometry"]], layer, predicate="within")
    households = hh.groupby("grid_code").size().reindex(grids["grid_code"], fill_value=0)
    when = pd.to_datetime(issues["received_at"])
    recent = issues[when > when.max() - pd.Timedelta(days=WORKLOAD_WINDOW_DAYS)]
    recent = recent[~recent.geometry.is_empty & recent.geometry.notna()]
    iss = gpd.sjoin(recent[["geometry"]], layer, predicate="within")
    recent_n = iss.groupby("grid_code").size().reindex(grids["grid_code"], fill_value=0)
    workload = households + ISSUE_WEIGHT * recent_n
    # per grid, as arrays
    found["not_contiguous"] = int((shapely.get_num_geometries(geoms) > 1).sum())
    codes = grids["grid_code"].astype(str)
    village = grids["village_code"].astype(str).to_numpy()
    well_formed = (
        codes.str.fullmatch(r"\d{15}").to_numpy()
        & np.char.startswith(codes.to_numpy().astype(str), village.astype(str))
        & ~codes.str.endswith("000").to_numpy()
    )
    found["malformed_code"] = int((~well_formed).sum())
    area, length = shapely.area(geoms), shapely.length(geoms)
    found["compactness"] = int((4 * np.pi * area / length**2 < COMPACTNESS_MIN).sum())
    # balance within each village of at least BALANCE_MIN_GRIDS grids
    table = pd.DataFrame(
        {
            "households": households.to_numpy(),
            "workload": workload.to_numpy(),
            "area": area,
        }
    )
    by_village = table.groupby(village)
    big = by_village["area"].transform("size").to_numpy() >= BALANCE_MIN_GRIDS
    for col, hi, lo in (
        ("households", BALANCE_HIGH, BALANCE_LOW),
        ("workload", BALANCE_HIGH, BALANCE_LOW),
        ("area", AREA_BALANCE_HIGH, AREA_BALANCE_LOW),
    ):
        median = by_village[col].transform("median").to_numpy()
        ratio = table[col].to_numpy() / np.where(median > 0, median, np.nan)
        found[f"balance_{col}"] = int((big & ((ratio > hi) | (ratio < lo))).sum())
    return found


if __name__ == "__main__":
    main()
