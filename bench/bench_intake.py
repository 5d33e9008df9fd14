"""Taking in 200,000 12345 tickets from XLSX and from CSV: ``python -m geo intake``'s code
(``geo.intake.intake_file``) against pandas + geopandas as a GIS user would do it.

The export is what a platform hands over: a title row, a blank row, the header, 200,000
tickets (ids, times as text, category, address, lon/lat in WGS84 where people live, status,
caller name and phone), and a 合计 row at the end. The XLSX and a UTF-8-BOM CSV hold the
same rows.

Ours: ``intake_file`` into a fresh store holding the county's grids and households (header
found, total row set aside, every row checked, the coordinate-system check against the
households, points assigned to grids, tickets written with their original cells, the
ledger). Then the same file again: every ticket unchanged, goal ≤ 1/3 of the first import.

Peer: ``pandas.read_excel(header=2)`` (its default engine, openpyxl, and also with
``engine="calamine"``, the reader ours uses) or ``read_csv(header=1)`` (it skips the blank
row itself) with the header row given by hand, the 合计 row dropped, points from lon/lat,
``geopandas.sjoin`` to the grids (a point on a shared edge to the smaller grid code, as
ours), and ``to_file`` into a GeoPackage layer. The grid of every ticket must be the same on
both sides (exit 1 otherwise).

Run: ``python bench/bench_intake.py [N] [--quick]`` from the repository root (``--quick``:
5,000 tickets on the small county).
"""

from __future__ import annotations

import csv
import shutil
import tempfile
import time
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
from _demo import arguments, check, county_gpkg

from geo.intake import intake_file
from geo.store import open_store

HEADER = ["工单编号", "受理时间", "诉求类别", "诉求内容", "事发地址", "经度", "纬度"]
HEADER += ["办理状态", "来电人", "联系电话"]


def make_rows(homes: gpd.GeoDataFrame, n: int) -> list[list[object]]:
    rng = np.random.default_rng(11)
    pick = rng.choice(len(homes), n, p=homes.residents / homes.residents.sum())
    lonlat = homes.geometry.iloc[pick].to_crs("EPSG:4326")
    lon, lat = np.round(lonlat.x.to_numpy(), 6), np.round(lonlat.y.to_numpy(), 6)
    start = pd.Timestamp("2026-01-01")
    minutes = np.sort(rng.integers(0, 330 * 24 * 60, n))
    times = (start + pd.to_timedelta(minutes, unit="min")).strftime("%Y-%m-%d %H:%M")
    kinds = np.array(["环境卫生", "道路交通", "噪声扰民", "供水供电", "物业管理"])
    status = np.array(["已办结", "办理中", "已办结", "已办结"])
    return [
        [
            f"RX{i:08d}",
            times[i],
            kinds[i % 5],
            "反映小区门口垃圾清运不及时",
            f"某镇某村{i % 40 + 1}组{i % 97 + 1}号",
            float(lon[i]),
            float(lat[i]),
            status[i % 4],
            "张三",
            f"138{i:08d}",
        ]
        for i in range(n)
    ]


def write_files(folder: Path, rows: list[list[object]]) -> tuple[Path, Path]:
    from openpyxl import Workbook

    title, total = ["XX县12345政务服务热线工单明细表"], ["合计", f"{len(rows)} 件"]
    book = Workbook(write_only=True)
    sheet = book.create_sheet("工单明细")
    for row in [title, [], HEADER, *rows, total]:
        sheet.append(row)
    xlsx = folder / "tickets.xlsx"
    book.save(xlsx)
    csv_path = folder / "tickets.csv"
    with csv_path.open("w", encoding="utf-8-sig", newline="") as f:
        writer = csv.writer(f)
        writer.writerows([title, [], HEADER, *rows, total])
    return xlsx, csv_path


def peer(path: Path, grids: gpd.GeoDataFrame, out: Path, engine: str = "") -> pd.Series:
    """What a GIS user writes: read with the header row given, drop the total row, sjoin."""
    if path.suffix == ".xlsx":
        chosen = {"engine": engine or "openpyxl"}  # openpyxl: pandas' default today
        table = pd.read_excel(path, header=2, dtype={"工单编号": str}, **chosen)
    else:
        table = pd.read_csv(path, header=1, dtype={"工单编号": str}, encoding="utf-8-sig")
    table = table[table["工单编号"] != "合计"]
    points = gpd.GeoDataFrame(
        table,
        geometry=gpd.points_from_xy(table["经度"], table["纬度"]),
        crs="EPSG:4326",
    ).to_crs(grids.crs)
    joined = gpd.sjoin(points, grids[["grid_code", "geometry"]], how="left", predicate="intersects")
    joined = joined.sort_values("grid_code").loc[~joined.index.duplicated(keep="first")]
    joined = joined.sort_index().drop(columns="index_right")
    joined.to_file(out, layer="issues", driver="GPKG")
    return joined.set_index("工单编号")["grid_code"].fillna("")


def main() -> None:
    args = arguments(
        __doc__, add=lambda p: p.add_argument("n", nargs="?", type=int, default=200_000)
    )
    n = 5_000 if args.quick else args.n
    path = county_gpkg(args.quick)
    grids = pyogrio.read_dataframe(path, layer="grids", use_arrow=True)
    homes = pyogrio.read_dataframe(path, layer="households", use_arrow=True)
    with tempfile.TemporaryDirectory(prefix="gridgov-bench-intake-") as name:
        folder = Path(name)
        start = time.perf_counter()
        xlsx, csv_path = write_files(folder, make_rows(homes, n))
        print(f"{n:,} tickets written to XLSX and CSV in {time.perf_counter() - start:.1f} s")
        empty = folder / "county.gpkg"
        open_store(empty).write({"grids": grids, "households": homes})
        for export in (xlsx, csv_path):
            store_path = folder / f"store-{export.suffix[1:]}.gpkg"
            shutil.copy(empty, store_path)
            store = open_store(store_path)
            start = time.perf_counter()
            first = intake_file(export, store=store, source="12345")
            t_first = time.perf_counter() - start
            start = time.perf_counter()
            again = intake_file(export, store=store, source="12345")
            t_again = time.perf_counter() - start
            start = time.perf_counter()
            theirs = peer(export, grids, folder / f"peer-{export.suffix[1:]}.gpkg")
            t_peer = time.perf_counter() - start
            t_calamine = 0.0
            if export.suffix == ".xlsx":
                start = time.perf_counter()
                same_reader = peer(export, grids, folder / "peer-calamine.gpkg", "calamine")
                t_calamine = time.perf_counter() - start
                check(same_reader.equals(theirs), "both readers give the peer the same grids")
            check(first.new == n and first.skipped_total_rows == 1, "every ticket new, one total")
            check(again.unchanged == n and again.new == again.updated == 0, "again: unchanged")
            stored = store.read("issues").set_index("ticket_id")["grid_code"]
            check(len(stored) == n, "one stored row per ticket")
            same = stored.reindex(theirs.index).fillna("") == theirs
            check(bool(same.all()), f"grid per ticket equal ({int((~same).sum())} differ)")
            kind = export.suffix[1:].upper()
            print(
                f"{kind}: ours {t_first:.1f} s ({n / t_first:,.0f} rows/s), peer "
                f"{t_peer:.1f} s ({n / t_peer:,.0f} rows/s): ours/peer = {t_first / t_peer:.2f}; "
                f"same file again {t_again:.1f} s = {t_again / t_first:.2f} of the first "
                "(goal ≤ 0.33); grids equal for all tickets"
            )
            if t_calamine:
                print(
                    f"XLSX peer with engine='calamine': {t_calamine:.1f} s: ours/peer = "
                    f"{t_first / t_calamine:.2f}"
                )


if __name__ == "__main__":
    main()
