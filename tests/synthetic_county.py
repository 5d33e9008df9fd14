"""A small synthetic county that is not Sheyang, for the onboarding tests (domain and browser).

中原测试县 (code 410199, a made-up code in Henan's 4101 prefecture range) around 113.6°E
34.75°N: 48 rectangular grids (400 m × 300 m) in 3 villages in 2 towns, laid out in
CGCS2000 / 3-degree Gauss-Kruger CM 114E (EPSG:4547), the zone of its longitude.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import shapely

COUNTY_CODE = "410199"
COUNTY_NAME = "中原测试县"
COUNTY_NAME_EN = "Zhongyuan Test County"
#: The zone of 113.6°E: CGCS2000 / 3-degree Gauss-Kruger CM 114E.
ZONE_CRS = "EPSG:4547"
TOWNS = {"410199001": "东城镇", "410199002": "西河乡"}
#: village code → (name, town code, the grid columns it holds)
VILLAGES = {
    "410199001001": ("东关村", "410199001", (0, 1)),
    "410199001002": ("南街社区", "410199001", (2, 3)),
    "410199002001": ("河湾村", "410199002", (4, 5)),
}
COLUMNS, ROWS = 6, 8
CELL_W, CELL_H = 400.0, 300.0
#: South-west corner in EPSG:4547: 113.6°E, 34.75°N (≈ 36.6 km west of the CM).
X0, Y0 = 463_400.0, 3_845_600.0


def synthetic_grids(*, with_names: bool = False, seed: int = 7) -> gpd.GeoDataFrame:
    """The 48 grids in EPSG:4547 with ``grid_code``, ``grid_name``, ``grid_worker``,
    ``households``, ``residents`` (and ``village_name``, ``town_name`` with ``with_names``)."""
    rng = np.random.default_rng(seed)
    rows = []
    for village, (name, town, cols) in VILLAGES.items():
        seq = 0
        for col in cols:
            for row in range(ROWS):
                seq += 1
                x, y = X0 + col * CELL_W, Y0 + row * CELL_H
                households = int(rng.integers(60, 200))
                rows.append(
                    {
                        "grid_code": f"{village}{seq:03d}",
                        "grid_name": f"{name}第{seq}网格",
                        "village_name": name,
                        "town_name": TOWNS[town],
                        "grid_worker": f"网格员{village[-3:]}{seq:02d}",
                        "households": households,
                        "residents": round(households * 2.7),
                        "geometry": shapely.box(x, y, x + CELL_W, y + CELL_H),
                    }
                )
    grids = gpd.GeoDataFrame(rows, geometry="geometry", crs=ZONE_CRS)
    if not with_names:
        grids = grids.drop(columns=["village_name", "town_name"])
    return grids


def write_synthetic_grids(
    path: Path, *, to_crs: str = "EPSG:4326", with_names: bool = False
) -> Path:
    """Write :func:`synthetic_grids` to ``path`` (GeoPackage, GeoJSON or Shapefile) in
    ``to_crs`` (WGS84 by default, so the zone has to be inferred)."""
    synthetic_grids(with_names=with_names).to_crs(to_crs).to_file(path)
    return path


def synthetic_issues(
    grids: gpd.GeoDataFrame, *, per_grid: int = 3, seed: int = 5
) -> gpd.GeoDataFrame:
    """``per_grid`` tickets inside each onboarded grid (with its grid, village and town codes,
    a caller's name and phone), received over the 60 days before 2026-11-30."""
    rng = np.random.default_rng(seed)
    rows = []
    for _, grid in grids.iterrows():
        minx, miny, maxx, maxy = grid.geometry.bounds
        for k in range(per_grid):
            n = len(rows)
            rows.append(
                {
                    "ticket_id": f"ZY{n:05d}",
                    "source": "12345",
                    "request_type": "投诉",
                    "received_at": np.datetime64("2026-11-30")
                    - np.timedelta64(int(rng.integers(0, 60)), "D"),
                    "category": ["环境卫生", "噪声扰民", "道路交通"][k % 3],
                    "status": "已办结",
                    "caller_name": f"居民{n:03d}",
                    "caller_phone": f"1370000{n:04d}",
                    "grid_code": grid["grid_code"],
                    "village_code": grid["village_code"],
                    "town_code": grid["town_code"],
                    "geometry": shapely.Point(rng.uniform(minx, maxx), rng.uniform(miny, maxy)),
                }
            )
    return gpd.GeoDataFrame(rows, geometry="geometry", crs=grids.crs)


def onboard_synthetic_county(store, *, per_grid: int = 3):  # type: ignore[no-untyped-def]
    """Onboard the synthetic county into ``store`` and give it :func:`synthetic_issues`."""
    from geo.intake import onboard_county

    onboard_county(synthetic_grids(with_names=True), store=store, county_name=COUNTY_NAME, seed=1)
    issues = synthetic_issues(gpd.GeoDataFrame(store.read("grids")), per_grid=per_grid)
    store.write({"issues": issues})
    return store
