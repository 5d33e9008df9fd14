"""Hot spots on a county the demo never shaped: 600 Voronoi grids with very unequal
populations, issues in proportion to residents, three planted clusters of 6–9 grids at six
times the rate — through ``python -m geo hotspots`` as a county would run it."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from geo.cli.main import main

CRS = "EPSG:4549"
X0, Y0 = 500_000.0, 3_700_000.0


@pytest.fixture(scope="module")
def county(tmp_path_factory):
    rng = np.random.default_rng(20261207)
    folder = tmp_path_factory.mktemp("off-demo")
    n = 600
    points = rng.uniform(0, 12_000, (n, 2))
    box = shapely.box(0, 0, 12_000, 12_000)
    cells = shapely.voronoi_polygons(shapely.multipoints(points), extend_to=box, ordered=True)
    cells = shapely.intersection(shapely.get_parts(cells), box)
    cells = shapely.transform(cells, lambda xy: xy + np.array([X0, Y0]))
    codes = [f"410102{1 + i // 200:03d}{1 + i // 50:03d}{i:03d}" for i in range(n)]
    residents = np.round(1200 * rng.lognormal(-0.6, 1.1, n)).astype(int) + 20
    grids = gpd.GeoDataFrame(
        {"grid_code": codes, "residents": residents, "grid_worker": "王五"}, geometry=cells, crs=CRS
    )
    # Three clusters: a grid and its nearest grids (6, 7 and 9 of them).
    tree = shapely.STRtree(cells)
    planted: list[int] = []
    for size in (6, 7, 9):
        while True:
            seed = int(rng.integers(n))
            order = np.argsort(
                shapely.distance(shapely.centroid(cells), shapely.centroid(cells[seed]))
            )
            group = [int(i) for i in order[:size]]
            if not set(group) & set(planted):
                planted += group
                break
    rate = 4.0 / residents.mean()  # four issues per grid on average
    mean = residents * rate
    mean[planted] *= 6
    counts = rng.poisson(mean)
    rows = []
    for i, k in enumerate(counts):
        minx, miny, maxx, maxy = cells[i].bounds
        inside = 0
        while inside < k:
            p = shapely.Point(rng.uniform(minx, maxx), rng.uniform(miny, maxy))
            if cells[i].contains(p):
                day = pd.Timestamp("2026-10-01") + pd.Timedelta(days=int(rng.integers(0, 30)))
                rows.append({"ticket_id": f"T{len(rows):06d}", "received_at": day,
                             "category": "环境卫生", "x": p.x, "y": p.y})  # fmt: skip
                inside += 1
    events = pd.DataFrame(rows)
    lonlat = gpd.GeoSeries(gpd.points_from_xy(events.x, events.y), crs=CRS).to_crs(4326)
    events["经度"], events["纬度"] = lonlat.x, lonlat.y
    events = events.drop(columns=["x", "y"])
    events = pd.concat([events, events.sample(20, random_state=1)], ignore_index=True)  # repeats
    grid_path, event_path = folder / "grids.gpkg", folder / "events.csv"
    grids.to_file(grid_path, layer="grids")
    events.to_csv(event_path, index=False, encoding="utf-8-sig")
    queen = grids.geometry.to_numpy()
    neighbours = set(planted)
    for i in planted:
        neighbours |= {int(j) for j in tree.query(queen[i], predicate="intersects")}
    return grid_path, event_path, [codes[i] for i in planted], {codes[i] for i in neighbours}


def _hot(county, tmp_path, *options: str) -> pd.DataFrame:
    grid_path, event_path, _, _ = county
    out = tmp_path / "hot.csv"
    assert main(["hotspots", "--grids", str(grid_path), "--events", str(event_path), "--from",
                 "2026-10-01", "--to", "2026-10-30", "--scan", "0", "--out", str(out),
                 *options]) == 0  # fmt: skip
    return pd.read_csv(out, dtype={"grid_code": str}).set_index("grid_code")


def test_the_default_finds_the_planted_clusters_and_little_else(county, tmp_path, capsys):
    _, _, planted, near = county
    table = _hot(county, tmp_path)
    assert "20 row(s) repeat a ticket id" in capsys.readouterr().err
    hot = table["hotspot_class"].isin(["hot_95", "hot_99"])
    found = hot[planted].mean()
    false = hot[~hot.index.isin(near)].sum() / max(hot.sum(), 1)
    assert found >= 0.8, f"found {found:.0%} of the planted grids"
    assert false <= 0.05, f"{false:.0%} of the hot grids lie outside the planted areas"
    # The previous default (raw counts, conditional permutations) found much less here.
    before = _hot(county, tmp_path, "--value", "count", "--inference", "permutation")
    old = before["hotspot_class"].isin(["hot_95", "hot_99"])[planted].mean()
    assert old < found - 0.3
