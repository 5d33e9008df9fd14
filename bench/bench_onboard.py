"""Onboarding the demo's 3,689-grid layer into a fresh store vs the plain GIS route.

Ours: :func:`geo.intake.onboard.onboard_county` on the demo's grid layer exported alone to a
GeoPackage (no villages, towns or households): it reads the file, picks the Gauss-Kruger
zone from the longitude, runs the grid check, dissolves villages and towns, spreads the
residents over stand-in household points, writes every layer and the meta in one store write
and creates grid version 1. Goal: at most 30 s.

Peer, same run and the same repeats: ``geopandas.read_file`` of the same file,
``dissolve`` by village and by town, and ``to_file`` of grids, villages and towns into a new
GeoPackage — the same layers without the check, the stand-ins or the versions. Grid, village
and town counts and areas must agree (exit 1 otherwise).

Run: ``python bench/bench_onboard.py [--quick]`` from the repository root (``GRIDGOV_DATA_DIR``
picks the folder of an existing demo GeoPackage; ``--quick``: the small county, one run).
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import geopandas as gpd
import numpy as np
import pyogrio
from _demo import arguments, check, county_gpkg, median_time

from geo.intake.onboard import onboard_county
from geo.store.base import open_store

REPEATS = 3
GRID_COLUMNS = [
    "grid_code",
    "grid_name",
    "village_code",
    "town_code",
    "households",
    "residents",
    "grid_worker",
    "area_type",
]


def main() -> None:
    args = arguments(__doc__)
    repeat = 1 if args.quick else REPEATS
    source = county_gpkg(args.quick)
    folder = Path(tempfile.mkdtemp(prefix="gridgov-bench-onboard-"))
    try:
        grids_file = folder / "grids.gpkg"
        grids = pyogrio.read_dataframe(source, layer="grids", use_arrow=True)
        grids[[c for c in GRID_COLUMNS if c in grids.columns] + ["geometry"]].to_file(
            grids_file, layer="grids"
        )
        runs = iter(range(1_000))

        def ours():
            store = open_store(folder / f"ours-{next(runs)}.gpkg")
            return onboard_county(grids_file, store=store, county_name="bench"), store

        def peer():
            out = folder / f"peer-{next(runs)}.gpkg"
            layer = gpd.read_file(grids_file, layer="grids")
            villages = layer.dissolve(by="village_code", aggfunc={"residents": "sum"})
            towns = layer.dissolve(by="town_code", aggfunc={"residents": "sum"})
            layer.to_file(out, layer="grids")
            villages.reset_index().to_file(out, layer="villages")
            towns.reset_index().to_file(out, layer="towns")
            return layer, villages, towns

        t_ours, (report, store) = median_time(ours, repeat)
        t_peer, (p_grids, p_villages, p_towns) = median_time(peer, repeat)
        check(report.written, f"onboarding wrote nothing: {[str(p) for p in report.errors]}")
        o_grids, o_villages, o_towns = (store.read(n) for n in ("grids", "villages", "towns"))
        print(
            f"grids: {len(o_grids):,}; villages: {len(o_villages)}; towns: {len(o_towns)}; "
            f"stand-in household points: {report.households:,}; CRS {report.metric_crs}; "
            f"median of {repeat} on both sides"
        )
        print(f"onboard_county (GridGov):            {t_ours:.2f} s  (goal ≤ 30 s)")
        print(f"read_file + dissolve + to_file peer: {t_peer:.2f} s")
        print(f"ratio GridGov / peer: {t_ours / t_peer:.1f}x (GridGov also checks the grids,")
        print("  makes the stand-in households, writes the meta and grid version 1)")
        for name, ours_layer, peer_layer, key in (
            ("grids", o_grids, p_grids, "grid_code"),
            ("villages", o_villages, p_villages.reset_index(), "village_code"),
            ("towns", o_towns, p_towns.reset_index(), "town_code"),
        ):
            check(len(ours_layer) == len(peer_layer), f"{name}: {len(ours_layer)} vs peer")
            a = ours_layer.set_index(key).geometry.area.sort_index().to_numpy()
            b = peer_layer.to_crs(report.metric_crs).set_index(key).geometry.area.sort_index()
            check(np.allclose(a, b.to_numpy(), rtol=1e-6), f"{name}: areas differ from the peer")
            print(f"  {name:<9} {len(ours_layer):>6,} equal counts, areas equal (rtol 1e-6)")
        residents = o_villages["residents"].sum()
        check(residents == p_villages["residents"].sum(), "village residents differ")
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
