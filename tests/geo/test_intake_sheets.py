"""geo.intake: exports as counties hand them over are read whole — title rows, merged cells,
blank rows, 合计 rows, several sheets, GBK and semicolons, full-width digits, decimal commas,
DMS coordinates and Excel date serials. Every row under a header is a data row, a total or
a blank row: nothing goes missing."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pandas as pd
import pytest
from openpyxl import Workbook

from geo.core.errors import InputFileError
from geo.intake import parse_coordinate, parse_number, parse_time, read_export
from geo.intake.ingest import _json_lines

HEADER = ["工单编号", "受理时间", "诉求类别", "地址", "经度", "纬度", "联系电话"]


def _ticket(i: int) -> list[object]:
    return [
        f"GD{i:04d}",
        dt.datetime(2026, 11, 3, 9, i % 60),
        "环境卫生",
        f"合德镇{i}号",
        120.25,
        33.77,
        "13800001234",
    ]


def _workbook(path: Path, sheets: dict[str, list[list[object]]], merge_title: bool = True) -> Path:
    book = Workbook()
    book.remove(book.active)
    for name, rows in sheets.items():
        ws = book.create_sheet(name)
        for row in rows:
            ws.append(row)
        if merge_title and rows and rows[0] and len([v for v in rows[0] if v]) == 1:
            ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(HEADER))
    book.save(path)
    return path


def _county_export(n: int) -> list[list[object]]:
    """Title row (merged), a blank row, the header, n tickets, a 合计 row."""
    return [
        ["阜宁县12345政务服务热线工单明细表（2026年11月）"],
        [],
        HEADER,
        *[_ticket(i) for i in range(n)],
        ["合计", None, None, None, None, None, f"{n} 件"],
    ]


def test_title_rows_merged_cells_and_the_total_row(tmp_path):
    path = _workbook(tmp_path / "12345.xlsx", {"明细": _county_export(10)})
    export = read_export(path)
    (table,) = export.tables
    assert table.sheet == "明细" and table.header_row == 3
    assert list(table.frame.columns) == HEADER
    assert table.frame.index.tolist() == list(range(4, 14))  # the file's own row numbers
    assert table.total_rows == [14] and table.blank_rows == 0
    assert table.frame.iloc[0]["工单编号"] == "GD0000"


def test_every_sheet_is_read_and_an_empty_one_is_named(tmp_path):
    first = _county_export(10)
    second = [HEADER, *[_ticket(i) for i in range(10, 20)]]
    path = _workbook(tmp_path / "two.xlsx", {"1-10": first, "11-20": second, "说明": []})
    export = read_export(path)
    assert [t.sheet for t in export.tables] == ["1-10", "11-20"]
    assert export.rows == 20 and export.empty_sheets == ["说明"]
    ids = pd.concat([t.frame for t in export.tables])["工单编号"].tolist()
    assert ids == [f"GD{i:04d}" for i in range(20)]


def test_data_on_the_second_sheet_only_is_found(tmp_path):
    path = _workbook(tmp_path / "later.xlsx", {"封面": [["射阳县工单"]], "数据": _county_export(3)})
    export = read_export(path)
    assert [t.sheet for t in export.tables] == ["数据"] and export.empty_sheets == ["封面"]
    assert len(export.tables[0].frame) == 3 and export.tables[0].header_row == 3


def test_one_sheet_by_name_and_an_unknown_name_lists_the_sheets(tmp_path):
    path = _workbook(tmp_path / "two.xlsx", {"A": _county_export(2), "B": _county_export(5)})
    assert read_export(path, sheet="B").rows == 5
    with pytest.raises(InputFileError, match=r"no sheet 'C'; it has \['A', 'B'\]"):
        read_export(path, sheet="C")


def test_header_row_given_by_hand(tmp_path):
    rows = [["说明：以下为导出数据"], ["编号", "备注"], *_county_export(4)[2:]]
    path = _workbook(tmp_path / "odd.xlsx", {"S": rows}, merge_title=False)
    table = read_export(path, header_row=3).tables[0]
    assert table.header_row == 3 and list(table.frame.columns) == HEADER
    assert len(table.frame) == 4 and table.total_rows == [8]
    with pytest.raises(InputFileError, match="header row counts from 1"):
        read_export(path, header_row=0)


def test_blank_rows_inside_the_data_are_counted_and_a_stray_value_keeps_its_column(tmp_path):
    rows = [HEADER, _ticket(0), [], _ticket(1), [*_ticket(2), "多出的一格"]]
    table = read_export(_workbook(tmp_path / "b.xlsx", {"S": rows}), sheet="S").tables[0]
    assert table.blank_rows == 1 and len(table.frame) == 3
    assert table.frame.columns[-1] == "列8" and table.frame.loc[5, "列8"] == "多出的一格"


def test_gbk_csv_with_semicolons_full_width_digits_and_decimal_commas(tmp_path):
    lines = [
        "射阳县网格巡查事件导出",
        "",
        "事件编号;上报时间;经度;纬度;地址",
        "XC001;2026年11月3日 14:05;１２０．２５;33,7712;合德镇人民路1号",
        "XC002;2026/11/4 8时30分;120°16′42″;N33°46′12.5″;海河镇",
        "小计;;;;2",
    ]
    path = tmp_path / "patrol.csv"
    path.write_bytes("\r\n".join(lines).encode("gbk"))
    export = read_export(path)
    (table,) = export.tables
    assert (export.encoding, export.delimiter) == ("gb18030", ";")
    assert table.header_row == 3 and table.total_rows == [6] and len(table.frame) == 2
    first, second = table.frame.iloc[0], table.frame.iloc[1]
    assert first["经度"] == "１２０．２５"  # the original text is kept
    assert parse_number(first["经度"]) == pytest.approx(120.25)
    assert parse_number(first["纬度"]) == pytest.approx(33.7712)
    assert parse_coordinate(second["经度"]) == pytest.approx(120 + 16 / 60 + 42 / 3600)
    assert parse_coordinate(second["纬度"]) == pytest.approx(33 + 46 / 60 + 12.5 / 3600)
    assert parse_time(first["上报时间"]) == pd.Timestamp("2026-11-03 14:05")
    assert parse_time(second["上报时间"]) == pd.Timestamp("2026-11-04 08:30")


def test_utf8_with_bom_and_tabs(tmp_path):
    path = tmp_path / "t.csv"
    path.write_bytes("\ufeff工单编号\t受理时间\nA1\t46329.5\n".encode())
    export = read_export(path)
    assert (export.encoding, export.delimiter) == ("utf-8-sig", "\t")
    assert list(export.tables[0].frame.columns) == ["工单编号", "受理时间"]
    assert parse_time(export.tables[0].frame.iloc[0]["受理时间"]) == pd.Timestamp(
        "2026-11-03 12:00"
    )


@pytest.mark.parametrize(
    ("text", "number"),
    [("１１９．８", 119.8), ("119,8", 119.8), ("1,234", 1234.0), ("1,234.5", 1234.5),
     (" 33.7 ", 33.7), ("", None), ("abc", None), ("1,2,3", None), (float("nan"), None)],
)  # fmt: skip
def test_numbers_as_exports_write_them(text, number):
    assert parse_number(text) == (pytest.approx(number) if number is not None else None)


@pytest.mark.parametrize(
    ("text", "degrees"),
    [("120°16′42″", 120.27833333), ("33度46分12秒", 33.77), ("W120°30'", -120.5),
     ("120.25", 120.25), ("120°61′", None), ("东经", None)],
)  # fmt: skip
def test_coordinates_in_dms(text, degrees):
    got = parse_coordinate(text)
    assert got == (pytest.approx(degrees) if degrees is not None else None)


@pytest.mark.parametrize(
    ("value", "stamp"),
    [(46329, "2026-11-03"), (46329.75, "2026-11-03 18:00"), ("2026.11.03", "2026-11-03"),
     ("2026-11-03T09:15:00", "2026-11-03 09:15"), ("2026年11月3日", "2026-11-03"),
     ("2026年11月3日 14时5分3秒", "2026-11-03 14:05:03"), ("2026/11/3 14:05", "2026-11-03 14:05"),
     ("2026年11月4日 8时", "2026-11-04 08:00"),
     (dt.datetime(2026, 11, 3, 7, 0), "2026-11-03 07:00"), ("2026年13月3日", None),
     (12, None), ("昨天", None)],
)  # fmt: skip
def test_times_as_exports_write_them(value, stamp):
    got = parse_time(value)
    assert got == (pd.Timestamp(stamp) if stamp is not None else None)


def test_unreadable_inputs_say_what_to_do(tmp_path):
    with pytest.raises(InputFileError, match="file not found"):
        read_export(tmp_path / "missing.xlsx")
    other = tmp_path / "tickets.dbf"
    other.write_bytes(b"\x03")
    with pytest.raises(InputFileError, match=r"save it as \.xlsx or \.csv"):
        read_export(other)
    old = tmp_path / "old.xls"  # an Excel 97-2003 file is read, a damaged one is refused
    old.write_bytes(b"\xd0\xcf\x11\xe0")
    with pytest.raises(InputFileError, match="cannot read the workbook"):
        read_export(old)
    broken = tmp_path / "broken.xlsx"
    broken.write_bytes(b"not a zip")
    with pytest.raises(InputFileError, match="cannot read the workbook"):
        read_export(broken)
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"\n\n")
    with pytest.raises(InputFileError, match="the file holds no table"):
        read_export(empty)


@pytest.mark.parametrize("first", ["工单编号", "x", ":a", "}{", ","])
def test_each_rows_cells_json_is_pandas_own_line(first: str) -> None:
    # Values that look like the cut between records, under headers that may defeat it.
    values = ['a},{"x":', "q\\", '"},{"工单编号":1', "},{", "普通", "\n\t", "", '},{":a":']
    text = pd.DataFrame({first: values, "x": values[::-1], "z": ["1"] * len(values)})
    for n in (1, 2, len(values)):
        part = text.head(n)
        lines = part.to_json(orient="records", lines=True, force_ascii=False).splitlines()
        assert _json_lines(part) == lines
        assert [json.loads(line) for line in _json_lines(part)] == part.to_dict("records")
