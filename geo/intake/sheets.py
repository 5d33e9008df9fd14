"""Tables out of exports as counties hand them over: every sheet of a workbook, the header row
found under title rows and blank rows (merged title cells included), 合计/小计 rows set aside,
CSV in UTF-8 (with or without BOM) or GBK/GB18030 with its delimiter sniffed.

Nothing is dropped without a word: each sheet says where its header was, which file rows were
totals and how many were blank; an empty sheet is listed with its reason.
"""

from __future__ import annotations

import csv
import io
import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from geo.core.errors import InputFileError
from geo.core.i18n import Text
from geo.intake.values import clean_text, parse_number
from geo.store.readers import ALIAS_LOOKUP, header_key

#: Rows looked at for the header.
HEADER_SCAN_ROWS = 30
#: A row whose first filled cell says this is a total, not a ticket.
_TOTAL = re.compile(r"^(合\s*计|小\s*计|总\s*计|共\s*计|总数|total|subtotal|sum)\b", re.I)
_ENCODINGS = ("utf-8-sig", "gb18030")
#: Workbook formats read (Excel 2007+, old Excel 97-2003 .xls, binary .xlsb, OpenDocument).
_WORKBOOKS = (".xlsx", ".xlsm", ".xls", ".xlsb", ".ods")
_DELIMITERS = ",;\t|"


_KNOWN = set(ALIAS_LOOKUP)
_KNOWN |= {
    header_key(word) for word in ("地址", "问题描述", "诉求内容", "工单状态", "办结时限", "联系人")
}


@dataclass(frozen=True)
class SheetTable:
    """One sheet's (or a CSV's) table.

    Attributes
    ----------
    sheet
        The sheet's name (``""`` for a CSV).
    header_row
        File row number (1-based) of the header.
    frame
        The rows under the header as the file holds them (raw cell values, ``None`` when empty),
        columns named by the header (blank headers become ``列N``, repeats get ``_2``…);
        the index is each row's file row number.
    total_rows
        File rows set aside as 合计 / 小计 / total rows.
    blank_rows
        Rows under the header with no value at all (skipped).
    """

    sheet: str
    header_row: int
    frame: pd.DataFrame
    total_rows: list[int] = field(default_factory=list)
    blank_rows: int = 0


@dataclass(frozen=True)
class ExportFile:
    """Every table read from one file, and the sheets that held none (with the reason)."""

    path: str
    tables: list[SheetTable]
    empty_sheets: list[str]
    encoding: str = ""
    delimiter: str = ""

    @property
    def rows(self) -> int:
        """Data rows over all tables (totals and blank rows not counted)."""
        return sum(len(t.frame) for t in self.tables)


def read_export(
    path: str | Path, *, sheet: str | None = None, header_row: int | None = None
) -> ExportFile:
    """Read a 12345 / patrol / petition export (XLSX or CSV) into tables, one per sheet.

    Parameters
    ----------
    path
        The file: a workbook (``.xlsx``, ``.xlsm``, ``.xls``, ``.xlsb``, ``.ods``) or ``.csv`` /
        ``.txt``.
    sheet
        Read only this sheet (by name); default every sheet that holds a table.
    header_row
        The header's file row number (1-based) when the guess is wrong; default found per sheet.

    Raises
    ------
    InputFileError
        The file is missing, of another format, unreadable, or holds no table at all.
    """
    where = str(path)
    file = Path(path)
    if not file.exists():
        raise InputFileError(
            where, Text("文件不存在", "file not found"), Text("检查路径", "check the path")
        )
    if header_row is not None and header_row < 1:
        raise InputFileError(
            where,
            Text(
                f"表头行号应从 1 起，收到 {header_row}",
                f"header row counts from 1, got {header_row}",
            ),
            Text("用 --header-row N 给出表头所在行", "give the header's row with --header-row N"),
        )
    suffix = file.suffix.lower()
    if suffix in _WORKBOOKS:
        found = _read_workbook(file, where, sheet, header_row)
    elif suffix in (".csv", ".txt"):
        found = _read_csv(file, where, header_row)
    else:
        raise InputFileError(
            where,
            Text(
                f"不支持的格式 {suffix or '（无扩展名）'}",
                f"unsupported format {suffix or '(none)'}",
            ),
            Text("另存为 .xlsx 或 .csv 后再导入", "save it as .xlsx or .csv and import that"),
        )
    if not found.tables:
        raise InputFileError(
            where,
            Text("文件中没有可读的表格", "the file holds no table"),
            Text("检查是否导出了明细数据", "check that the export holds the detail rows"),
        )
    return found


def _read_workbook(file: Path, where: str, sheet: str | None, header_row: int | None) -> ExportFile:
    from python_calamine import CalamineWorkbook

    try:
        book = CalamineWorkbook.from_path(str(file))
    except Exception as exc:  # the reader raises several kinds for a damaged or foreign file
        raise InputFileError(
            where,
            Text(f"无法读取工作簿：{exc}", f"cannot read the workbook: {exc}"),
            Text("用 Excel 打开后另存为 .xlsx", "open it in Excel and save it as .xlsx"),
        ) from exc
    names = list(book.sheet_names)
    if sheet is not None and sheet not in names:
        raise InputFileError(
            where,
            Text(f"没有工作表 {sheet!r}，有 {names}", f"no sheet {sheet!r}; it has {names}"),
            Text("用 --sheet 选其中之一", "pick one of them with --sheet"),
        )
    tables, empty = [], []
    for name in [sheet] if sheet is not None else names:
        try:
            cells = book.get_sheet_by_name(name).to_python(skip_empty_area=False)
        except Exception as exc:
            raise InputFileError(
                where,
                Text(f"工作表 {name!r} 无法读取：{exc}", f"sheet {name!r} cannot be read: {exc}"),
                Text("用 Excel 打开后另存为 .xlsx", "open it in Excel and save it as .xlsx"),
            ) from exc
        table = _table(cells, name, header_row, workbook=True)
        if table is None:
            empty.append(name)
        else:
            tables.append(table)
    return ExportFile(where, tables, empty)


def _cell(value: object) -> object:
    """A workbook cell as the export meant it: None when empty, whole numbers as ints."""
    if isinstance(value, str):
        return value or None
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**53:
        return int(value)
    return value


def _cell_column(column: pd.Series) -> pd.Series:
    """:func:`_cell` over a column; text and fractional-number columns without a Python loop."""
    kind = pd.api.types.infer_dtype(column, skipna=False)
    if kind == "string":
        return column.where(column != "", None)
    if kind == "floating":
        numbers = column.to_numpy(dtype=float)
        if not (np.isfinite(numbers) & (numbers == np.floor(numbers))).any():
            return column
    return column.map(_cell)


def _read_csv(file: Path, where: str, header_row: int | None) -> ExportFile:
    raw = file.read_bytes()
    for encoding in _ENCODINGS:
        try:
            text = raw.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:  # pragma: no cover - gb18030 decodes any byte string
        raise InputFileError(
            where, Text("无法识别编码", "unknown encoding"), Text("另存为 UTF-8", "save as UTF-8")
        )
    delimiter = _sniff_delimiter(text)
    rows: list[list[object]] = [
        [cell if cell.strip() else None for cell in row]
        for row in csv.reader(io.StringIO(text), delimiter=delimiter)
    ]
    table = _table(rows, "", header_row)
    return ExportFile(where, [table] if table else [], [] if table else [""], encoding, delimiter)


def _sniff_delimiter(text: str) -> str:
    """The delimiter that splits the most lines into the same number of fields (≥ 2).

    Title lines, a decimal comma inside a semicolon file or a comma in an address do not
    fool it, as they would a first-line guess: the count that repeats over lines wins.
    """
    lines = [line for line in text[:65536].splitlines() if line.strip()][:200]
    best, best_key = ",", (0, 0)
    for delimiter in _DELIMITERS:
        counts: dict[int, int] = {}
        for line in lines:
            n = len(next(csv.reader([line], delimiter=delimiter)))
            if n >= 2:
                counts[n] = counts.get(n, 0) + 1
        if counts:
            fields, lines_with = max(counts.items(), key=lambda kv: (kv[1], kv[0]))
            key = (lines_with, fields)
            if key > best_key:
                best, best_key = delimiter, key
    return best


def _table(
    rows: Sequence[Sequence[object]], sheet: str, header_row: int | None, *, workbook: bool = False
) -> SheetTable | None:
    """The table of one sheet's rows, or ``None`` when it has no header and no data.

    ``workbook``: the rows are a workbook reader's cells (``""`` when empty, whole numbers as
    floats), turned into what the export meant (:func:`_cell`) column by column.
    """
    if not any(_filled(v) for row in rows for v in row):
        return None
    at = header_row - 1 if header_row is not None else _find_header(rows)
    if at is None or at >= len(rows):  # a cover sheet: a title, no header of 2+ columns
        return None
    headers = _headers([_cell(v) for v in rows[at]] if workbook else rows[at])
    data, index, totals, blank, width = [], [], [], 0, len(headers)
    for number, row in enumerate(rows[at + 1 :], start=at + 2):
        last = _last_filled(row)
        if not last:
            blank += 1
            continue
        if _is_total(row):
            totals.append(number)
            continue
        width = max(width, last)  # a value right of the last header still lands (列N)
        data.append(row)
        index.append(number)
    headers += [f"列{i}" for i in range(len(headers) + 1, width + 1)]
    if any(len(row) != width for row in data):
        data = [(list(row) + [None] * width)[:width] for row in data]
    frame = pd.DataFrame(data, columns=headers, index=pd.Index(index, name="row"), dtype=object)
    if workbook and len(frame):
        frame = frame.apply(_cell_column).astype(object)
    return SheetTable(sheet, at + 1, frame, totals, blank)


def _filled(value: object) -> bool:
    """The cell holds something (``clean_text(value) != ""``, without building the text)."""
    if value is None:
        return False
    if isinstance(value, str):
        return bool(value.strip())  # str.strip knows full-width and other Unicode spaces
    return not (isinstance(value, float) and math.isnan(value))


def _find_header(rows: Sequence[Sequence[object]]) -> int | None:
    """Index of the row most like a header among the first :data:`HEADER_SCAN_ROWS`, or
    ``None`` when no row there has two filled cells."""
    best, best_score = None, -1.0
    for i, row in enumerate(rows[:HEADER_SCAN_ROWS]):
        texts = [clean_text(v) for v in row]
        texts = [t for t in texts if t]
        if len(texts) < 2:  # a title (one merged cell) or a blank row
            continue
        known = sum(header_key(t) in _KNOWN for t in texts)
        words = sum(parse_number(t) is None for t in texts)
        score = 3.0 * known + words + 0.5 * len(set(texts)) - (len(texts) - words)
        if score > best_score:
            best, best_score = i, score
    return best


def _headers(row: Iterable[object]) -> list[str]:
    out: list[str] = []
    cells = list(row)
    while cells and not clean_text(cells[-1]):
        cells.pop()
    for i, value in enumerate(cells, start=1):
        name = clean_text(value) or f"列{i}"
        base, n = name, 2
        while name in out:
            name, n = f"{base}_{n}", n + 1
        out.append(name)
    return out


def _last_filled(row: Sequence[object]) -> int:
    """1 + the index of the row's last filled cell (0 for a blank row)."""
    for i in range(len(row) - 1, -1, -1):
        if _filled(row[i]):
            return i + 1
    return 0


def _is_total(cells: Sequence[object]) -> bool:
    """The row's first filled cell (of its first three) is text saying 合计 / 小计 / total."""
    for value in cells[:3]:
        if _filled(value):
            return isinstance(value, str) and _TOTAL.match(clean_text(value)) is not None
    return False
