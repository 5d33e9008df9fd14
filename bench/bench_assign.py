"""Assigning 1,000,000 events to the 3,689 demo grids: GridGov's assign_events vs geopandas.sjoin.

Events are drawn where people live (households, population-weighted, moved by up to 100 m),
plus 2 % anywhere in the county's bounding box, so most fall in the small urban grids where
boundaries are dense. Both sides get the events in the grids' CRS (EPSG:4549); a point on a
shared edge goes to the grid with the smaller code on both sides (sjoin with
``predicate="intersects"`` then the smallest code per point).

The headline compares like with like: ``assign_events(events, grids)`` as every caller in
geo/ calls it, building its lookup raster each time (no cache keeps a ``GridIndex`` between
calls: the CLI, the store and the planner's publish all build it per call), against sjoin,
which builds its STRtree each time too. The index build and the lookup with a prebuilt
index are printed apart. Medians of 3 runs; the assignments must be identical (exit 1
otherwise).

Run: ``python bench/bench_assign.py [N] [--quick]`` from the repository root (``--quick``:
20,000 events on the small county, one run).
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pyogrio
from _demo import arguments, check, county_gpkg, median_time

from geo.grids.assign import assign_events, grid_index


def main() -> None:
    args = arguments(
        __doc__, add=lambda p: p.add_argument("n", nargs="?", type=int, default=1_000_000)
    )
    n = 20_000 if args.quick else args.n
    repeat = 1 if args.quick else 3
    path = county_gpkg(args.quick)
    grids = pyogrio.read_dataframe(path, layer="grids", use_arrow=True)
    homes = pyogrio.read_dataframe(path, layer="households", use_arrow=True)
    rng = np.random.default_rng(0)
    n_far = n // 50
    pick = rng.choice(len(homes), n - n_far, p=homes.residents / homes.residents.sum())
    xy = np.column_stack([homes.geometry.x.to_numpy()[pick], homes.geometry.y.to_numpy()[pick]])
    xy += rng.uniform(-100, 100, xy.shape)
    minx, miny, maxx, maxy = grids.total_bounds
    far = np.column_stack([rng.uniform(minx, maxx, n_far), rng.uniform(miny, maxy, n_far)])
    xy = np.concatenate([xy, far])
    events = gpd.GeoDataFrame(geometry=gpd.points_from_xy(xy[:, 0], xy[:, 1]), crs=grids.crs)

    t_ours, ours = median_time(lambda: assign_events(events, grids), repeat)
    t_build, index = median_time(lambda: grid_index(grids), repeat)
    t_lookup, looked_up = median_time(lambda: assign_events(events, grids, index=index), repeat)

    def peer():
        joined = gpd.sjoin(
            events, grids[["grid_code", "geometry"]], how="left", predicate="intersects"
        )
        return joined["grid_code"].groupby(level=0).min().reindex(events.index)

    t_peer, theirs = median_time(peer, repeat)
    ours_codes = ours["grid_code"].astype(str).to_numpy()
    same = np.array_equal(ours_codes, theirs.fillna("").astype(str).to_numpy())
    same_prebuilt = np.array_equal(ours_codes, looked_up["grid_code"].astype(str).to_numpy())
    boundary_share = float((index.lut <= -2).mean())
    print(
        f"events: {n:,}; grids: {len(grids):,}; lookup raster {index.lut.shape} at "
        f"{index.cell_m:g} m, {boundary_share:.1%} of cells need an exact test; "
        f"median of {repeat}"
    )
    print(f"GridGov assign_events (index built in the call): {t_ours:.3f} s")
    print(f"  of which grid_index build:                     {t_build:.3f} s")
    print(f"  lookup with a prebuilt index:                  {t_lookup:.3f} s")
    print(f"geopandas.sjoin + smallest code (peer):          {t_peer:.3f} s")
    print(
        f"ratio sjoin / GridGov, index build included: {t_peer / t_ours:.1f}x  "
        f"(prebuilt index, which no caller keeps today: {t_peer / t_lookup:.1f}x)"
    )
    print(f"identical assignments: {same} (prebuilt index too: {same_prebuilt})")
    check(same, "assign_events and sjoin put some events in different grids")
    check(same_prebuilt, "a prebuilt index gave other grids than one built in the call")


if __name__ == "__main__":
    main()
