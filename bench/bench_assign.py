"""Assigning 1,000,000 events to the 3,689 demo grids: GridGov's GridIndex vs geopandas.sjoin.

Events are drawn where people live (households, population-weighted, moved by up to 100 m),
plus 2 % anywhere in the county's bounding box, so most fall in the small urban grids where
boundaries are dense. Both sides get the events in the grids' CRS (EPSG:4549); a point on a
shared edge goes to the grid with the smaller code on both sides (sjoin with
``predicate="intersects"`` then the smallest code per point). Prints medians of 3 runs, the
ratio, and whether the assignments are identical.

Run: ``python bench/bench_assign.py [N]`` from the repository root.
"""

from __future__ import annotations

import sys
from typing import TypeVar

import geopandas as gpd
import numpy as np
import pyogrio
from _demo import demo_gpkg, median_time

from geo.grids.assign import assign_events, grid_index

T = TypeVar("T")


def main(n: int = 1_000_000) -> None:
    path = demo_gpkg()
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

    t_build, index = median_time(lambda: grid_index(grids))
    t_ours, ours = median_time(lambda: assign_events(events, grids, index=index))

    def peer():
        joined = gpd.sjoin(
            events, grids[["grid_code", "geometry"]], how="left", predicate="intersects"
        )
        return joined["grid_code"].groupby(level=0).min().reindex(events.index)

    t_peer, theirs = median_time(peer)
    same = np.array_equal(
        ours["grid_code"].astype(str).to_numpy(), theirs.fillna("").astype(str).to_numpy()
    )
    boundary_share = float((index.lut <= -2).mean())
    print(
        f"events: {n:,}; grids: {len(grids):,}; lookup raster {index.lut.shape} at "
        f"{index.cell_m:g} m, {boundary_share:.1%} of cells need an exact test"
    )
    print(f"GridGov index build (once per grid layer): {t_build:.3f} s")
    print(f"GridGov assign_events:                    {t_ours:.3f} s")
    print(f"geopandas.sjoin (peer):                   {t_peer:.3f} s")
    print(
        f"ratio sjoin / GridGov: {t_peer / t_ours:.1f}x  (with the build: "
        f"{t_peer / (t_ours + t_build):.1f}x)"
    )
    print(f"identical assignments: {same}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000)
