"""Publishing a grid version of the demo county: GridGov's VersionedGrids vs sjoin + to_file.

One village of the 3,689 demo grids (the one with the most issues) is split differently:
the same number of grids, redrawn as Voronoi cells of seeded points inside the village.
GridGov publishes that as a new version, incrementally: it rewrites the ``grids`` layer,
re-assigns only the issues and households inside the changed area, updates the rows that
move and records the version, the old → new grid mapping and the issue moves, all in one
transaction (goal: ≤ 2 s on the GeoPackage). The peer does the plain geopandas thing for
the same result, a **full rewrite**: ``sjoin`` of all ~300,000 issues onto the new grids (the
smallest code on shared edges) and ``to_file`` of the grids and issues layers; it is given
the issues already in memory. The scopes differ (incremental vs full rewrite) and the ratio
line says so; for scale, the peer's ``sjoin`` of only the issues in the changed area's
bounding box (the scope GridGov re-assigns, no writing) is printed too.

Timed: the median of 3 publishes on a copy of the demo GeoPackage (split, back to the old
grids, split again: each one a publish of the same size), the peer likewise, and the same
publishes on PostGIS when ``GRIDGOV_TEST_DATABASE_URL`` names a database (the demo's grids,
issues and households are copied into a scratch schema first, which takes a while). The
issues' grids after the last publish must equal the peer's (exit 1 otherwise).

Run: ``python bench/bench_publish.py [--quick]`` from the repository root (``--quick``: the
small county, one publish each, no PostGIS).
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
import uuid
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely
from _demo import arguments, check, county_gpkg, median_time

from geo.planning.versions import VersionedGrids
from geo.store.base import Store
from geo.store.gpkg import GeoPackageStore
from geo.store.postgis import PostGISStore

REPEATS = 3
GOAL_S = 2.0


def split_village(grids: gpd.GeoDataFrame, homes: gpd.GeoDataFrame, village: str, seed: int = 0):
    """The grid layer with ``village`` redrawn as Voronoi cells (same codes and count)."""
    mine = grids[grids.village_code == village].sort_values("grid_code").reset_index(drop=True)
    area = shapely.union_all(mine.geometry.to_numpy())
    rng = np.random.default_rng(seed)
    x0, y0, x1, y1 = area.bounds
    seeds: list[shapely.Point] = []
    while len(seeds) < len(mine):
        p = shapely.Point(rng.uniform(x0, x1), rng.uniform(y0, y1))
        if area.contains(p):
            seeds.append(p)
    cells = shapely.get_parts(shapely.voronoi_polygons(shapely.MultiPoint(seeds), extend_to=area))
    order = shapely.STRtree(cells).query(np.array(seeds), predicate="within")[1]
    shapes = shapely.intersection(cells[order], area)
    redrawn = mine.copy()
    redrawn["geometry"] = gpd.GeoSeries(shapes, crs=grids.crs).to_numpy()
    # The planner's counts: households and residents inside each new grid.
    inside = gpd.sjoin(homes[["residents", "geometry"]], redrawn[["grid_code", "geometry"]])
    counts = inside.groupby("grid_code").agg(
        households=("residents", "size"), residents=("residents", "sum")
    )
    for col in ("households", "residents"):
        redrawn[col] = redrawn.grid_code.map(counts[col]).fillna(0).astype(np.int64)
    rest = grids[grids.village_code != village]
    return gpd.GeoDataFrame(
        pd.concat([rest, redrawn[rest.columns]], ignore_index=True), crs=grids.crs
    )


def time_publishes(
    store: Store, layers: list[gpd.GeoDataFrame], repeats: int
) -> tuple[float, list]:
    vg = VersionedGrids(store)
    start = time.perf_counter()
    vg.versions()  # first use: version tables and version 1 (not timed below)
    setup = time.perf_counter() - start
    cycle = iter(layers * 2)
    results: list = []

    def publish() -> None:
        results.append(vg.publish(next(cycle), author="基准测试", reason="bench_publish"))

    t, _ = median_time(publish, repeats)
    print(f"  first use (version tables + version 1): {setup:.2f} s")
    return t, results


def same_grids(after: pd.DataFrame, theirs: pd.DataFrame) -> bool:
    """Whether every ticket has the same grid code in both (blank for none)."""
    mine = after.set_index("ticket_id")["grid_code"].fillna("").astype(str)
    other = theirs.set_index("ticket_id")["grid_code"].astype(str)
    return len(mine) == len(other) and bool((mine.sort_index() == other.sort_index()).all())


def main() -> None:
    args = arguments(__doc__)
    repeats = 1 if args.quick else REPEATS  # odd: the last publish is the split
    source = county_gpkg(args.quick)
    grids = pyogrio.read_dataframe(source, layer="grids", use_arrow=True)
    homes = pyogrio.read_dataframe(source, layer="households", use_arrow=True)
    issues = pyogrio.read_dataframe(source, layer="issues", use_arrow=True)
    placed = issues["village_code"].fillna("") != ""  # tickets without a village aside
    village = issues.loc[placed, "village_code"].value_counts().index[0]
    split = split_village(grids, homes, village)
    n_village = int((grids.village_code == village).sum())
    print(
        f"grids: {len(grids):,}; issues: {len(issues):,}; households: {len(homes):,}; "
        f"village {village} ({n_village} grids, {int((issues.village_code == village).sum()):,} "
        "issues) split differently"
    )

    with tempfile.TemporaryDirectory(prefix="bench-publish-") as tmp:
        copy = Path(tmp) / "demo.gpkg"
        shutil.copyfile(source, copy)
        print("GridGov VersionedGrids.publish, GeoPackage:")
        t_gpkg, results = time_publishes(GeoPackageStore(copy), [split, grids], repeats)
        last = results[-1]
        print(
            f"  per publish: {last.issues_checked:,} issues in the changed area checked, "
            f"{last.issues_moved:,} moved, {last.households_moved:,} households moved"
        )
        after = pyogrio.read_dataframe(copy, layer="issues", columns=["ticket_id", "grid_code"])

        def assign(points: gpd.GeoDataFrame) -> pd.Series:
            joined = gpd.sjoin(
                points[["ticket_id", "geometry"]],
                split[["grid_code", "geometry"]],
                how="left",
                predicate="intersects",
            )
            return joined["grid_code"].groupby(level=0).min().reindex(points.index)

        def peer() -> gpd.GeoDataFrame:
            out = issues.assign(grid_code=assign(issues).fillna("").to_numpy())
            target = Path(tmp) / f"peer-{uuid.uuid4().hex[:6]}.gpkg"
            split.to_file(target, layer="grids", driver="GPKG")
            out.to_file(target, layer="issues", driver="GPKG")
            return out

        t_peer, theirs = median_time(peer, repeats)
        changed = split[split.village_code == village]
        box = shapely.box(*changed.total_bounds)
        in_box = issues[issues.intersects(box)]
        t_scoped, _ = median_time(lambda: assign(in_box), repeats)
        same = same_grids(after, theirs)

    print(
        f"GridGov publish (GeoPackage, incremental), median of {repeats}: {t_gpkg:.3f} s "
        f"(goal ≤ {GOAL_S:g} s)"
    )
    print(f"geopandas sjoin + to_file (peer, full rewrite): {t_peer:.3f} s")
    print(f"ratio peer (full rewrite) / GridGov (incremental): {t_peer / t_gpkg:.1f}x")
    print(
        f"  (peer's sjoin alone on the {len(in_box):,} issues of the changed area's box, "
        f"no writing: {t_scoped:.3f} s)"
    )
    print(f"identical issue grids after publish: {same}")
    check(same, "the issues' grids after GridGov's publish differ from the peer's sjoin")

    url = os.environ.get("GRIDGOV_TEST_DATABASE_URL")
    if args.quick or not url:
        why = "--quick" if args.quick else "set GRIDGOV_TEST_DATABASE_URL"
        print(f"PostGIS: not measured ({why})")
        return
    from sqlalchemy import text

    schema = f"bench_publish_{uuid.uuid4().hex[:8]}"
    pg = PostGISStore(url, schema=schema)
    try:
        start = time.perf_counter()
        pg.write({"grids": grids, "issues": issues, "households": homes})
        print(f"PostGIS: demo layers copied in {time.perf_counter() - start:.1f} s")
        print("GridGov VersionedGrids.publish, PostGIS:")
        t_pg, _ = time_publishes(pg, [split, grids], repeats)
        same_pg = same_grids(pg.read("issues")[["ticket_id", "grid_code"]], theirs)
        print(f"GridGov publish (PostGIS, incremental), median of {repeats}: {t_pg:.3f} s")
        print(f"ratio peer (full rewrite, GeoPackage) / GridGov (PostGIS): {t_peer / t_pg:.1f}x")
        print(f"identical issue grids after publish (PostGIS): {same_pg}")
        check(same_pg, "the issues' grids after the PostGIS publish differ from the peer's")
    finally:
        with pg.engine.begin() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        pg.engine.dispose()


if __name__ == "__main__":
    main()
