"""Intake into a store: keyed by source + ticket id, same file twice changes nothing, updates
keep their history, every row lands or is quarantined, one ledger line per file, profiles."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from openpyxl import Workbook
from shapely.geometry import box

from geo.core.crs import wgs84_to_gcj02
from geo.core.errors import InputFileError
from geo.core.settings import DISPLAY_CRS, get_settings
from geo.intake.ingest import (
    FIXED,
    HISTORY,
    LEDGER,
    OPEN,
    PROFILES,
    QUARANTINE,
    intake_file,
    read_profile,
)
from geo.store import Store, StoreError, open_store
from geo.store.postgis import PostGISStore

# Four 1 km grids in two villages of one town, in the county's metric CRS.
X0, Y0 = 460_000.0, 3_740_000.0


@pytest.fixture
def households() -> gpd.GeoDataFrame:
    rng = np.random.default_rng(7)
    n = 2000
    return gpd.GeoDataFrame(
        {"residents": rng.integers(1, 6, n)},
        geometry=gpd.points_from_xy(X0 + rng.uniform(0, 4000, n), Y0 + rng.uniform(0, 1000, n)),
        crs=get_settings().metric_crs,
    )


def _grids(crs) -> gpd.GeoDataFrame:
    cells = [box(X0 + i * 1000, Y0, X0 + (i + 1) * 1000, Y0 + 1000) for i in range(4)]
    return gpd.GeoDataFrame(
        {
            "grid_code": [f"41010510100{v}00{k}" for v in (1, 2) for k in (1, 2)],
            "village_code": [f"41010510100{v}" for v in (1, 1, 2, 2)],
            "town_code": ["410105101"] * 4,
        },
        geometry=cells,
        crs=crs,
    )


@pytest.fixture
def file_store(tmp_path, households) -> Store:
    """A county of four grids and 2,000 households in a GeoPackage."""
    s = open_store(tmp_path / "county.gpkg")
    s.write({"grids": _grids(households.crs), "households": households})
    s.households = households  # type: ignore[attr-defined]
    return s


@pytest.fixture(params=["gpkg", pytest.param("postgis", marks=pytest.mark.postgis)])
def store(request, tmp_path, households) -> Iterator[Store]:
    """The same county in a GeoPackage or in a PostGIS schema of its own."""
    if request.param == "gpkg":
        yield request.getfixturevalue("file_store")
        return
    grids = _grids(households.crs)
    from sqlalchemy import text

    schema = f"gridgov_test_{uuid.uuid4().hex[:12]}"
    pg = PostGISStore(request.getfixturevalue("postgis_url"), schema=schema)
    pg.write({"grids": grids, "households": households})
    pg.households = households  # type: ignore[attr-defined]
    try:
        yield pg
    finally:
        with pg.engine.begin() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        pg.engine.dispose()


def _lonlat(store, k: int) -> tuple[float, float]:
    """WGS84 lon/lat of household ``k`` (tickets arise where people live)."""
    point = store.households.geometry.iloc[[k]].to_crs(DISPLAY_CRS).iloc[0]
    return round(point.x, 7), round(point.y, 7)


def _xlsx(path, sheets: dict[str, list[list[object]]]) -> str:
    book = Workbook()
    book.remove(book.active)
    for name, rows in sheets.items():
        sheet = book.create_sheet(name)
        for row in rows:
            sheet.append(row)
    book.save(path)
    return str(path)


HEADER = ["工单编号", "受理时间", "诉求类别", "办理状态", "经度", "纬度", "来电人", "联系电话"]


def _tickets(store, ids, *, status="办理中", start=0):
    rows = []
    for i, ticket in enumerate(ids):
        lon, lat = _lonlat(store, start + i)
        row = [ticket, f"2026-11-{3 + i % 20:02d} 09:{i % 60:02d}", "环境卫生", status, lon, lat]
        rows.append([*row, "张三", "13812345678"])
    return rows


def _export(tmp_path, store, name="12345.xlsx", *, ids=None, status="办理中", extra=()):
    ids = ids or [f"RX{i:04d}" for i in range(30)]
    title = [["阜宁县12345政务服务热线工单明细表"], [], HEADER]
    body = _tickets(store, ids, status=status)
    total = [["合计", None, None, None, None, None, None, None]]
    return _xlsx(tmp_path / name, {"工单": title + body + list(extra) + total})


def _count(store, table, **where):
    with store.transaction(readonly=True) as tx:
        return len(tx.read(table, where=where or None))


def test_a_new_export_lands_whole_and_every_row_is_accounted_for(tmp_path, store):
    bad = [["RX9001", "上周三", "环境卫生", "办理中", 120.0, 33.7, "李四", "13900001111"]]
    result = intake_file(
        _export(tmp_path, store, extra=bad), store=store, source="12345", user="admin"
    )
    assert (result.new, result.updated, result.unchanged) == (30, 0, 0)
    assert result.quarantined == 1 and result.skipped_total_rows == 1
    parts = result.new + result.updated + result.unchanged + result.quarantined
    assert result.rows_in == parts + result.skipped_total_rows == 32
    assert result.located == 30 and result.unlocated == 0
    issues = store.read("issues")
    assert sorted(issues["ticket_id"]) == [f"RX{i:04d}" for i in range(30)]
    assert set(issues["source"]) == {"12345"}
    assert issues["grid_code"].str.startswith("41010510100").all()
    cells = json.loads(issues.set_index("ticket_id").loc["RX0003", "cells"])
    assert cells["经度"] == str(_lonlat(store, 3)[0])  # the original text is kept
    q = store.read(QUARANTINE)
    assert q[["sheet", "row", "column", "value"]].values.tolist() == [
        ["工单", 34, "受理时间", "上周三"]
    ]
    assert q["status"].tolist() == [OPEN] and q["ticket_id"].tolist() == ["RX9001"]
    assert "write it as" in q["hint_en"].iloc[0] and q["reason_zh"].iloc[0]
    ledger = store.read(LEDGER)
    assert ledger[["source", "user", "rows_in", "new", "quarantined"]].values.tolist() == [
        ["12345", "admin", 32, 30, 1]
    ]
    assert len(ledger["file_sha256"].iloc[0]) == 64


def test_the_same_file_twice_changes_nothing(tmp_path, store):
    path = _export(tmp_path, store, extra=[["RX9001", "", "环境卫生", "", None, None, "", ""]])
    intake_file(path, store=store, source="12345")
    before = store.read("issues").drop(columns=["geometry"])
    again = intake_file(path, store=store, source="12345")
    assert (again.new, again.updated, again.unchanged, again.quarantined) == (0, 0, 30, 1)
    after = store.read("issues").drop(columns=["geometry"])
    pd.testing.assert_frame_equal(before, after)
    assert _count(store, HISTORY) == 0
    assert _count(store, QUARANTINE) == 1  # the open entry is not repeated
    assert _count(store, LEDGER) == 2  # but both intakes are on the ledger


def test_a_ticket_seen_again_is_updated_and_its_history_kept(tmp_path, store):
    intake_file(_export(tmp_path, store, "a.xlsx"), store=store, source="12345")
    first_seen = store.read("issues").set_index("ticket_id").loc["RX0002", "first_seen_at"]
    later = _export(tmp_path, store, "b.xlsx", ids=["RX0002", "RX0100"], status="已办结")
    result = intake_file(later, store=store, source="12345")
    assert (result.new, result.updated, result.unchanged) == (1, 1, 0)
    issues = store.read("issues")
    assert len(issues) == 31 and issues["ticket_id"].is_unique
    row = issues.set_index("ticket_id").loc["RX0002"]
    assert row["status"] == "已办结" and row["first_seen_at"] == first_seen
    history = store.read(HISTORY)
    assert history["ticket_id"].tolist() == ["RX0002"]
    changes = json.loads(history["changes"].iloc[0])
    assert changes["status"] == ["办理中", "已办结"]


def test_ticket_ids_are_keyed_by_source(tmp_path, store):
    path = _export(tmp_path, store, ids=["A1", "A2"])
    intake_file(path, store=store, source="12345")
    result = intake_file(path, store=store, source="patrol")
    assert result.new == 2 and result.source == "网格巡查"
    assert len(store.read("issues")) == 4


def test_duplicate_ids_inside_one_file_are_reported(tmp_path, store):
    result = intake_file(
        _export(tmp_path, store, ids=["D1", "D2", "D1"]), store=store, source="12345"
    )
    assert result.new == 2 and result.quarantined == 1
    q = store.read(QUARANTINE)
    assert q["reason_en"].iloc[0].startswith("the ticket id repeats")


def test_a_fixed_row_in_a_later_file_settles_its_quarantine_entry(tmp_path, store):
    bad = [["RX9001", "上周三", "环境卫生", "办理中", None, None, "", ""]]
    intake_file(_export(tmp_path, store, "a.xlsx", extra=bad), store=store, source="12345")
    fixed = _export(tmp_path, store, "b.xlsx", ids=["RX9001"])
    result = intake_file(fixed, store=store, source="12345")
    assert result.new == 1
    assert store.read(QUARANTINE)["status"].tolist() == [FIXED]


def test_every_sheet_is_read_and_listed(tmp_path, store):
    head = [["阜宁县12345工单"], HEADER]
    path = _xlsx(
        tmp_path / "two.xlsx",
        {
            "11月": head + _tickets(store, [f"N{i}" for i in range(10)]),
            "说明": [["本表由平台导出"]],
            "12月": head + _tickets(store, [f"D{i}" for i in range(10)], start=10),
        },
    )
    result = intake_file(path, store=store, source="12345")
    assert result.new == 20
    assert [(s["sheet"], s["rows"], s["landed"]) for s in result.sheets] == [
        ("11月", 10, 10),
        ("12月", 10, 10),
    ]


def test_the_profile_makes_the_second_import_need_no_options(tmp_path, store):
    lon, lat = _lonlat(store, 0)
    text = f"巡查单号;发现时间;东经;北纬\nXC1;2026-11-03 08:00;{lon};{lat}\n"
    path = tmp_path / "patrol.csv"
    path.write_bytes(text.encode("gb18030"))
    columns = {"ticket_id": "巡查单号", "received_at": "发现时间"}
    first = intake_file(path, store=store, source="patrol", columns=columns)
    assert first.new == 1
    assert read_profile(store, "patrol")["columns"]["ticket_id"] == "巡查单号"
    (tmp_path / "patrol2.csv").write_bytes(text.replace("XC1", "XC2").encode("gb18030"))
    second = intake_file(tmp_path / "patrol2.csv", store=store, source="patrol")
    assert second.new == 1 and second.quarantined == 0
    assert _count(store, PROFILES) == 1


def test_gcj02_delivered_as_wgs84_is_named_with_its_figures(tmp_path, store):
    ids = [f"G{i}" for i in range(200)]
    rows = _tickets(store, ids)
    for row in rows:  # a web-map geocoder's coordinates, declared as nothing (so WGS84)
        gx, gy = wgs84_to_gcj02(np.array([row[4]]), np.array([row[5]]))
        row[4], row[5] = round(float(gx[0]), 7), round(float(gy[0]), 7)
    path = _xlsx(tmp_path / "gcj.xlsx", {"工单": [HEADER, *rows]})
    result = intake_file(path, store=store, source="12345")
    assert result.coord_warning
    assert "look like gcj02, not wgs84" in result.coord_check.en
    assert "--coords gcj02" in result.coord_check.en
    right = intake_file(path, store=store, source="transfer", coords="gcj02")
    assert not right.coord_warning
    # Read as GCJ-02, each ticket lands on (within centimetres of) its household.
    placed = store.read("issues").query("source == '部门移交'").sort_values("ticket_id")
    order = [int(t[1:]) for t in placed["ticket_id"]]
    truth = store.households.geometry.iloc[order].to_numpy()
    assert placed.distance(gpd.GeoSeries(truth, index=placed.index, crs=placed.crs)).max() < 0.5


def test_refusals_name_what_to_do(tmp_path, store):
    with pytest.raises(ValueError, match="unknown source"):
        intake_file(_export(tmp_path, store), store=store, source="weibo")
    with pytest.raises(ValueError, match="--coords 'utm'"):
        intake_file(_export(tmp_path, store), store=store, source="12345", coords="utm")
    with pytest.raises(InputFileError, match="file not found"):
        intake_file(tmp_path / "missing.xlsx", store=store, source="12345")
    empty = open_store(tmp_path / "empty.gpkg")  # (a file store whichever kind is tested)
    with pytest.raises(StoreError, match="onboard the county first"):
        intake_file(_export(tmp_path, store), store=empty, source="12345")
    assert "issues" not in store.layers()  # nothing was written by the refusals


def test_the_command_prints_one_summary_object(tmp_path, file_store, capsys):
    from geo.cli.main import main

    bad = [["RX9001", "上周三", "环境卫生", "办理中", None, None, "", ""]]
    path = _export(tmp_path, file_store, extra=bad)
    argv = ["intake", path, "--store", file_store.location, "--source", "12345", "--json"]
    assert main(argv) == 0  # read, even with a quarantined row
    out = json.loads(capsys.readouterr().out)
    keys = ("rows_in", "new", "updated", "unchanged", "quarantined", "skipped_total_rows")
    assert [out[k] for k in keys] == [32, 30, 0, 0, 1, 1]
    assert out["rows_in"] == sum(out[k] for k in keys[1:])
    assert out["sheets"][0]["sheet"] == "工单" and out["sheets"][0]["header_row"] == 3
    assert main(argv[:-1]) == 0
    said = capsys.readouterr()
    assert "32 rows = 0 new + 0 updated + 30 unchanged + 1 quarantined + 1 total rows" in said.out
    assert "1 row(s) in the quarantine" in said.err


def test_the_command_exits_2_when_the_file_cannot_be_read(tmp_path, file_store):
    import subprocess
    import sys

    broken = tmp_path / "broken.xlsx"
    broken.write_bytes(b"not a workbook")
    run = subprocess.run(
        [sys.executable, "-m", "geo", "intake", str(broken), "--store", file_store.location,
         "--source", "patrol"],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert run.returncode == 2
    assert "cannot read the workbook" in run.stderr and "Traceback" not in run.stderr
    assert "issues" not in file_store.layers()


def test_quarantined_rows_are_corrected_in_place_and_taken_in_again(tmp_path, store):
    from geo.intake import Quarantine

    lon, lat = _lonlat(store, 5)
    bad = [
        ["RX9001", "上周三", "环境卫生", "办理中", lon, lat, "李四", "13900001111"],
        ["RX9002", "2026-11-05 10:00", "环境卫生", "办理中", "东经120度", lat, "", ""],
        ["", "2026-11-05 11:00", "噪声", "办理中", lon, lat, "", ""],
    ]
    intake_file(_export(tmp_path, store, extra=bad), store=store, source="12345")
    q = Quarantine(store)
    entries = q.entries()
    assert entries["row"].tolist() == [34, 35, 36]
    assert entries["columns"].tolist() == ["受理时间", "经度", "工单编号"]
    cells = q.cells(entries["qid"].tolist())
    assert cells.loc[0, "受理时间"] == "上周三" and cells.loc[1, "经度"] == "东经120度"
    # The caller is starred for whoever fixes the row; the original goes back in.
    assert (cells.loc[0, "来电人"], cells.loc[0, "联系电话"]) == ("李*", "139****1111")
    whole = q.cells(entries["qid"].tolist(), masked=False)
    assert (whole.loc[0, "来电人"], whole.loc[0, "联系电话"]) == ("李四", "13900001111")
    fixed = cells.iloc[:2].copy()
    fixed.loc[0, "受理时间"] = "2026-11-04 09:00"
    fixed.loc[1, "经度"] = "12O.5"  # still wrong: a letter O for a zero
    [result] = q.refile(fixed, user="clerk")
    assert (result.new, result.quarantined) == (1, 1)
    assert result.file.endswith("（更正）")
    issues = store.read("issues").set_index("ticket_id")
    assert issues.loc["RX9001", "received_at"] == pd.Timestamp("2026-11-04 09:00")
    assert issues.loc["RX9001", "caller_name"] == "李四"
    assert issues.loc["RX9001", "caller_phone"] == "13900001111"
    left = q.entries()
    assert left["ticket_id"].tolist() == ["RX9002", ""]  # the new entry first, then the old
    assert left["file"].iloc[0].endswith("（更正）")
    assert q.drop([left["qid"].iloc[1]], user="clerk") == 1
    assert q.entries()["ticket_id"].tolist() == ["RX9002"]
    statuses = store.read(QUARANTINE).groupby("status").size().to_dict()
    assert statuses == {"dropped": 1, "open": 1, "retried": 2}
    from geo.access import read_audit

    audit = read_audit(store)
    assert audit["action"].tolist() == ["intake", "intake", "quarantine_drop"]
    assert audit["username"].tolist()[1:] == ["clerk", "clerk"]
    assert audit["object"].iloc[1].endswith("（更正）")
    with pytest.raises(ValueError, match="not open in the quarantine"):
        q.refile(fixed, user="clerk")  # those entries were settled already


def test_addresses_without_coordinates_are_placed_on_the_gazetteer(tmp_path, store):
    from shapely.geometry import Point

    crs = store.households.crs
    gazetteer = gpd.GeoDataFrame(
        {
            "name": ["幸福村", "和平社区", "幸福村3组12号", "和平社区人民路8号"],
            "address": ["", "", "东城镇幸福村3组12号", "东城镇和平社区人民路8号"],
            "village_code": ["410105101001", "410105101002", "410105101001", "410105101002"],
            "kind": ["village", "village", "address", "address"],
            "town": ["东城镇"] * 4,
        },
        geometry=[
            Point(X0 + 500, Y0 + 500),
            Point(X0 + 2500, Y0 + 500),
            Point(X0 + 200, Y0 + 300),
            Point(X0 + 3700, Y0 + 800),
        ],
        crs=crs,
    )
    store.write({"gazetteer": gazetteer})
    header = ["工单编号", "受理时间", "诉求类别", "事发地址", "经度", "纬度"]
    rows = [
        ["AD1", "2026-11-03 09:00", "噪声", "东城镇幸福村3组12号", None, None],
        ["AD2", "2026-11-03 09:10", "噪声", "东城镇和平社区人民路８号", None, None],
        ["AD3", "2026-11-03 09:20", "噪声", "东城镇和平社区", None, None],
        ["AD4", "2026-11-03 09:30", "噪声", "西山镇不知道在哪", None, None],
        ["AD5", "2026-11-03 09:40", "噪声", "", None, None],
    ]
    path = _xlsx(tmp_path / "addr.xlsx", {"工单": [["12345工单"], header, *rows]})
    result = intake_file(path, store=store, source="12345")
    assert (result.new, result.quarantined) == (4, 1)
    issues = store.read("issues").set_index("ticket_id")
    assert issues.loc["AD1", "grid_code"] == "410105101001001"  # x 200 m: the first grid
    assert issues.loc["AD1", "geometry"].distance(Point(X0 + 200, Y0 + 300)) < 1e-6
    assert (
        issues.loc["AD1", "address_level"] == "address"
        and issues.loc["AD1", "assign_problem"] == ""
    )
    assert issues.loc["AD2", "grid_code"] == "410105101002002"  # full-width digits matched
    assert issues.loc["AD3", "assign_problem"] == "village_level"
    assert issues.loc["AD3", "grid_code"] == "410105101002001"  # the village's point
    assert (
        issues.loc["AD5", "grid_code"] == "" and issues.loc["AD5", "assign_problem"] == "no_coords"
    )
    q = store.read(QUARANTINE)
    assert q[["row", "column", "value"]].values.tolist() == [[6, "事发地址", "西山镇不知道在哪"]]
    assert q["reason_en"].iloc[0].startswith("the address is not in the county's gazetteer")
    assert result.sheets[0]["landed"] == 4 and result.sheets[0]["set_aside"] == 1
