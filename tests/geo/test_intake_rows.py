"""geo.intake.map_rows: every row of an export lands parsed or is set aside with file, sheet,
row, column, value, reason and hint — rows in = landed + set aside + total rows."""

from __future__ import annotations

import datetime as dt

import pandas as pd
from openpyxl import Workbook

from geo.intake import map_rows, read_export

HEADER = ["工单编号", "受理时间", "诉求类别", "地址", "经度", "纬度"]


def _export(tmp_path):
    good = [
        [f"GD{i}", dt.datetime(2026, 11, 3, 9, i), "环境卫生", f"人民路{i}号", 120.25, 33.77]
        for i in range(8)
    ]
    rows = [
        ["射阳县12345工单明细"],
        [],
        HEADER,
        *good,
        [None, "2026-11-03 10:00", "噪音扰民", "海河镇", 120.2, 33.7],  # row 12: no id
        ["GD1", "2026-11-03 10:05", "噪音扰民", "海河镇", 120.2, 33.7],  # row 13: repeat
        ["GD20", "昨天下午", "噪音扰民", "海河镇", 120.2, 33.7],  # row 14: not a time
        ["GD21", "2026年11月4日 8时", "物业管理", "临海镇", "东经一百二十", 33.7],  # 15
        ["GD22", 46330.5, "物业管理", "临海镇", "120°16′42″", None],  # 16: only lon
        ["GD23", "2026/11/4 9:30", "物业管理", "千秋镇幸福村3组", None, None],  # 17: address only
        ["合计", None, None, None, None, None],  # 18
    ]
    book = Workbook()
    sheet = book.active
    sheet.title = "11月"
    for row in rows:
        sheet.append(row)
    sheet.merge_cells("A1:F1")
    path = tmp_path / "12345_11月.xlsx"
    book.save(path)
    return read_export(path)


def test_every_row_lands_or_is_set_aside_with_its_reason(tmp_path):
    export = _export(tmp_path)
    mapped = map_rows(export)
    assert mapped.rows_in == 15  # 14 data rows and the 合计 row
    assert (len(mapped.tickets), mapped.set_aside, mapped.total_rows) == (9, 5, 1)
    assert mapped.rows_in == len(mapped.tickets) + mapped.set_aside + mapped.total_rows
    assert mapped.sheets == [
        {
            "sheet": "11月",
            "header_row": 3,
            "rows": 14,
            "total_rows": 1,
            "blank_rows": 0,
            "landed": 9,
            "set_aside": 5,
        }
    ]
    q = mapped.quarantine
    assert q[["row", "column"]].values.tolist() == [
        [12, "工单编号"],
        [13, "工单编号"],
        [14, "受理时间"],
        [15, "经度"],
        [16, "纬度"],
    ]
    by_row = {int(r.row): r for r in q.itertuples()}
    assert set(q["file"]) == {export.path} and set(q["sheet"]) == {"11月"}
    assert by_row[13].reason.en == "the ticket id repeats (first on sheet 11月, row 5)"
    assert (by_row[14].value, by_row[14].reason.en) == ("昨天下午", "not a time")
    assert by_row[15].value == "东经一百二十" and "DMS" in by_row[15].reason.en
    assert by_row[16].reason.zh == "只有经度或纬度之一"
    assert all(r.hint.zh and r.hint.en for r in q.itertuples())


def test_landed_rows_are_parsed_and_keep_their_text(tmp_path):
    tickets = map_rows(_export(tmp_path)).tickets.set_index("ticket_id")
    assert tickets.loc["GD0", "received_at"] == pd.Timestamp("2026-11-03 09:00")
    assert tickets.loc["GD0", "source_row"] == 4 and tickets.loc["GD0", "sheet"] == "11月"
    assert tickets.loc["GD23", "received_at"] == pd.Timestamp("2026-11-04 09:30")
    assert tickets.loc["GD23", "received_at_text"] == "2026/11/4 9:30"
    assert pd.isna(tickets.loc["GD23", "lon"])
    assert tickets.loc["GD23", "address"] == "千秋镇幸福村3组"
    assert tickets.loc["GD3", "lon"] == 120.25 and tickets.loc["GD3", "lon_text"] == "120.25"
    assert tickets.loc["GD0", "category"] == "环境卫生"  # 诉求类别 mapped by its alias


def test_a_profile_names_headers_the_aliases_do_not_know(tmp_path):
    path = tmp_path / "patrol.csv"
    path.write_text("巡查单号,发现时间\nXC1,2026-11-03 08:00\nXC2,2026-11-03 09:00\n", "utf-8")
    export = read_export(path)
    unmapped = map_rows(export)
    assert len(unmapped.tickets) == 0 and unmapped.set_aside == 2  # no ticket id column
    assert unmapped.quarantine["hint"].iloc[0].en.startswith("name it with --columns")
    mapped = map_rows(export, columns={"ticket_id": "巡查单号", "received_at": "发现时间"})
    assert mapped.tickets["ticket_id"].tolist() == ["XC1", "XC2"] and mapped.set_aside == 0
    assert mapped.columns == {"巡查单号": "ticket_id", "发现时间": "received_at"}
