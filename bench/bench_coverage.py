"""15-minute circle coverage of the demo's 348k households: GridGov vs a geopandas overlay.

GridGov: ``service_access`` (minutes from every household to the nearest service point of each
of the 7 types, straight line × detour 1.3, walking) then ``coverage(..., by="grid")``
(covered residents, share and residents-weighted median minutes per grid and type, plus the
all-essential row). The peer, in the same run: buffer every service point by its type's
radius (minutes × 75 m/min ÷ 1.3), union the buffers per type, ``sjoin`` the households with
the union's parts and sum the residents of the households inside per grid. Both run twice:
on the demo's service points and on ~1,500 (synthetic ones added near where people live).

Buffers are polygons inscribed in the circles (16 segments a quarter), so a household in the
thin band between polygon and circle is covered for GridGov only; the check allows exactly
the residents of that band, per grid and type. Prints medians of 3 runs and the ratio.

The per-grid, per-type agreement within the band is asserted (exit 1 otherwise).

Run: ``python bench/bench_coverage.py [GPKG] [--quick]`` from the repository root (default:
the demo GeoPackage in the data folder, built on first use; ``--quick``: the small county,
~300 service points in the second round, one run each).
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
from _demo import arguments, check, county_gpkg, median_time

from geo.core.settings import get_settings
from geo.services.coverage import coverage, service_access

QUAD_SEGS = 16  # shapely's default for buffer


def peer(households: gpd.GeoDataFrame, services: gpd.GeoDataFrame) -> pd.DataFrame:
    """Covered residents per grid (rows) and type (columns) by buffer, union and sjoin."""
    cfg = get_settings()
    m_per_min = cfg.travel_speeds_kmh["walk"] * 1000 / 60
    homes = households[["grid_code", "residents", "geometry"]]
    columns = {}
    for stype in cfg.service_types:
        points = services[services["service_type"] == stype.name]
        radius_m = stype.minutes * m_per_min / cfg.detour_factor
        union = points.buffer(radius_m, quad_segs=QUAD_SEGS).union_all()
        parts = gpd.GeoDataFrame(geometry=gpd.GeoSeries([union]).explode(), crs=services.crs)
        joined = gpd.sjoin(homes, parts, how="inner", predicate="intersects")
        inside = homes.loc[joined.index.unique()]
        columns[stype.name] = inside.groupby("grid_code")["residents"].sum()
    grids = np.sort(households["grid_code"].unique())
    return pd.DataFrame(columns).reindex(grids).fillna(0.0)


def ours(households: gpd.GeoDataFrame, services: gpd.GeoDataFrame) -> pd.DataFrame:
    """GridGov's coverage table per grid and type."""
    return coverage(households, service_access(households, services), by="grid")


def boundary_band(households: gpd.GeoDataFrame, access: pd.DataFrame) -> pd.DataFrame:
    """Residents per grid and type between the buffer polygon and the true circle."""
    shrink = np.cos(np.pi / (4 * QUAD_SEGS))  # apothem / radius of the inscribed polygon
    columns = {}
    for stype in get_settings().service_types:
        minutes = access[stype.name].to_numpy()
        band = (minutes > stype.minutes * shrink - 1e-9) & (minutes <= stype.minutes + 1e-9)
        columns[stype.name] = (
            households["residents"].where(band, 0).groupby(households["grid_code"]).sum()
        )
    return pd.DataFrame(columns)


def with_synthetic(
    services: gpd.GeoDataFrame, households: gpd.GeoDataFrame, total: int
) -> gpd.GeoDataFrame:
    """The service points plus synthetic ones near random households, ``total`` in all."""
    rng = np.random.default_rng(0)
    extra = max(total - len(services), 0)
    kinds = [t.name for t in get_settings().service_types]
    pick = rng.choice(len(households), extra, replace=False)
    xy = np.column_stack(
        [households.geometry.x.to_numpy()[pick], households.geometry.y.to_numpy()[pick]]
    )
    xy += rng.uniform(-200, 200, xy.shape)
    added = gpd.GeoDataFrame(
        {
            "service_id": [f"X{k:05d}" for k in range(extra)],
            "service_type": rng.choice(kinds, extra),
        },
        geometry=gpd.points_from_xy(xy[:, 0], xy[:, 1]),
        crs=services.crs,
    )
    return pd.concat([services, added], ignore_index=True)


def run(households: gpd.GeoDataFrame, services: gpd.GeoDataFrame, label: str, repeat: int) -> None:
    n_typed = int(
        services["service_type"].isin([t.name for t in get_settings().service_types]).sum()
    )
    t_access, access = median_time(lambda: service_access(households, services), repeat)
    t_cover, _ = median_time(lambda: coverage(households, access, by="grid"), repeat)
    t_ours, table = median_time(lambda: ours(households, services), repeat)
    t_peer, theirs = median_time(lambda: peer(households, services), repeat)

    mine = table.pivot(index="grid_code", columns="service_type", values="covered_residents")
    mine = mine.reindex(index=theirs.index, columns=theirs.columns)
    band = boundary_band(households, access).reindex(index=theirs.index, columns=theirs.columns)
    diff = mine - theirs
    same = bool(((diff >= -1e-9) & (diff <= band + 1e-9)).all().all())
    print(f"— {label}: {len(households):,} households, {n_typed:,} service points of 7 types")
    print(f"GridGov service_access (7 types):        {t_access:.3f} s")
    print(f"GridGov coverage by grid (7 + all):      {t_cover:.3f} s")
    print(f"GridGov total (access + coverage):       {t_ours:.3f} s")
    print(f"geopandas buffer + union + sjoin (peer): {t_peer:.3f} s")
    print(f"ratio peer / GridGov: {t_peer / t_ours:.1f}x")
    print(
        f"covered residents, county: GridGov {mine.to_numpy().sum():,.0f}, peer "
        f"{theirs.to_numpy().sum():,.0f}, boundary band {band.to_numpy().sum():,.0f}; "
        f"same per grid and type within the band: {same}"
    )
    check(same, f"{label}: covered residents differ from the peer's beyond the boundary band")


def main() -> None:
    args = arguments(
        __doc__, add=lambda p: p.add_argument("gpkg", nargs="?", type=Path, default=None)
    )
    path = args.gpkg or county_gpkg(args.quick)
    repeat = 1 if args.quick else 3
    households = pyogrio.read_dataframe(path, layer="households", use_arrow=True)
    services = pyogrio.read_dataframe(path, layer="service_points", use_arrow=True)
    run(households, services, "demo service points", repeat)
    total = 300 if args.quick else 1_500
    run(
        households,
        with_synthetic(services, households, total),
        f"~{total:,} service points",
        repeat,
    )


if __name__ == "__main__":
    main()
