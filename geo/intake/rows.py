"""Rows of an export mapped to GridGov's ticket columns: each row lands, parsed, or is set aside
with the file, sheet, row, column, value, reason and a fix hint. Nothing else can happen to it:
``rows_in = landed + set_aside + total rows``."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from geo.core.i18n import Text
from geo.intake.sheets import ExportFile, SheetTable
from geo.intake.values import clean_text, parse_coordinate, parse_time
from geo.store.readers import ALIAS_LOOKUP, header_key

#: Columns parsed into values; the cell's text is kept beside them as ``<column>_text``.
TIME_COLUMNS = ("received_at", "dispatched_at", "closed_at")
COORD_COLUMNS = ("lon", "lat")
#: Quarantine columns, in order.
QUARANTINE_COLUMNS = ("file", "sheet", "row", "column", "value", "reason", "hint")


@dataclass(frozen=True)
class MappedRows:
    """The outcome of :func:`map_rows` for one file.

    Attributes
    ----------
    tickets
        Rows that landed: GridGov's columns (times as Timestamps, lon/lat as floats, the cells'
        text in ``<column>_text``), the file's other columns as they were, and ``sheet`` and
        ``source_row`` (the row's number in its sheet).
    quarantine
        Rows set aside, one line per problem: :data:`QUARANTINE_COLUMNS`; ``reason`` and
        ``hint`` are :class:`~geo.core.i18n.Text`.
    sheets
        Per sheet: ``sheet``, ``header_row``, ``rows`` (data rows), ``total_rows``,
        ``blank_rows``, ``landed``, ``set_aside``.
    columns
        The file's header → GridGov's column, as mapped.
    """

    tickets: pd.DataFrame
    quarantine: pd.DataFrame
    sheets: list[dict[str, Any]] = field(default_factory=list)
    columns: dict[str, str] = field(default_factory=dict)

    @property
    def rows_in(self) -> int:
        """Every row under a header that is not blank: data rows and total rows."""
        return sum(int(s["rows"]) + int(s["total_rows"]) for s in self.sheets)

    @property
    def set_aside(self) -> int:
        """Rows in the quarantine (a row with two problems counts once)."""
        if self.quarantine.empty:
            return 0
        return int(self.quarantine[["sheet", "row"]].drop_duplicates().shape[0])

    @property
    def total_rows(self) -> int:
        """合计 / 小计 rows skipped."""
        return sum(int(s["total_rows"]) for s in self.sheets)


def map_rows(export: ExportFile, *, columns: Mapping[str, str] | None = None) -> MappedRows:
    """Map every table of ``export`` to ticket columns, parsing and checking each row.

    Parameters
    ----------
    export
        What :func:`geo.intake.read_export` read.
    columns
        ``{our_name: their_header}`` for headers the aliases do not know (a source's profile).

    A row is set aside when its ticket id is empty or repeats an earlier row of the file, when
    ``received_at`` is not a time, or when a coordinate is given but is not a number or DMS
    (or only one of the two is given). Rows with neither coordinate land: they are placed
    later (by address, or they stay without a grid, saying so).
    """
    wanted = {their: ours for ours, their in (columns or {}).items()}
    landed: list[pd.DataFrame] = []
    problems: list[dict[str, object]] = []
    sheets: list[dict[str, Any]] = []
    seen: dict[str, tuple[str, int]] = {}
    mapping: dict[str, str] = {}
    for table in export.tables:
        rename = _mapping(table, wanted)
        mapping.update(rename)
        frame, found = _check(table, rename, export.path, seen)
        problems += found
        bad = {(p["sheet"], p["row"]) for p in found}
        keep = frame[[(table.sheet, int(r)) not in bad for r in frame["source_row"]]]
        landed.append(keep)
        sheets.append(
            {
                "sheet": table.sheet,
                "header_row": table.header_row,
                "rows": len(table.frame),
                "total_rows": len(table.total_rows),
                "blank_rows": table.blank_rows,
                "landed": len(keep),
                "set_aside": len(frame) - len(keep),
            }
        )
    tickets = pd.concat(landed, ignore_index=True) if landed else pd.DataFrame()
    quarantine = pd.DataFrame(problems, columns=list(QUARANTINE_COLUMNS))
    return MappedRows(tickets, quarantine, sheets, mapping)


def ticket_ids(
    export: ExportFile, *, columns: Mapping[str, str] | None = None
) -> dict[tuple[str, int], str]:
    """Each data row's ticket id as :func:`map_rows` reads it, by (sheet, file row);
    rows of a table without a ticket id column are left out."""
    wanted = {their: ours for ours, their in (columns or {}).items()}
    out: dict[tuple[str, int], str] = {}
    for table in export.tables:
        header = next(
            (h for h, ours in _mapping(table, wanted).items() if ours == "ticket_id"), None
        )
        if header is None:
            continue
        for row, value in zip(table.frame.index, table.frame[header], strict=True):
            out[(table.sheet, int(row))] = clean_text(value)
    return out


def _mapping(table: SheetTable, wanted: Mapping[str, str]) -> dict[str, str]:
    """Header → our column: the profile's pairs first, then the known aliases (first wins)."""
    out: dict[str, str] = {}
    for header in table.frame.columns:
        ours = wanted.get(header) or ALIAS_LOOKUP.get(header_key(header))
        if ours and ours not in out.values():
            out[header] = ours
    return out


def _check(
    table: SheetTable, rename: Mapping[str, str], path: str, seen: dict[str, tuple[str, int]]
) -> tuple[pd.DataFrame, list[dict[str, object]]]:
    frame = table.frame.rename(columns=dict(rename)).reset_index(names="source_row")
    frame.insert(0, "sheet", table.sheet)
    problems: list[dict[str, object]] = []
    header_of = {ours: their for their, ours in rename.items()}

    def problem(row: int, column: str, value: object, reason: Text, hint: Text) -> None:
        problems.append(
            {
                "file": path,
                "sheet": table.sheet,
                "row": row,
                "column": header_of.get(column, column),
                "value": clean_text(value),
                "reason": reason,
                "hint": hint,
            }
        )

    rows = frame["source_row"].to_numpy()
    if "ticket_id" not in frame.columns:
        for row in rows:
            problem(
                int(row),
                "ticket_id",
                "",
                Text("没有工单编号列", "no ticket id column"),
                Text(
                    "用 --columns ticket_id=<列名> 指明工单编号列",
                    "name it with --columns ticket_id=<header>",
                ),
            )
        return frame, problems
    ids = [clean_text(v) for v in frame["ticket_id"]]
    frame["ticket_id"] = ids
    for row, ticket in zip(rows, ids, strict=True):
        if not ticket:
            problem(
                int(row),
                "ticket_id",
                "",
                Text("工单编号为空", "the ticket id is empty"),
                Text("补上编号，或删去此行", "fill it in, or delete the row"),
            )
        elif ticket in seen:
            where = seen[ticket]
            problem(
                int(row),
                "ticket_id",
                ticket,
                Text(
                    f"工单编号重复（首见于工作表 {where[0] or '—'} 第 {where[1]} 行）",
                    f"the ticket id repeats (first on sheet {where[0] or '—'}, row {where[1]})",
                ),
                Text("保留正确的一行", "keep the right one of the two rows"),
            )
        else:
            seen[ticket] = (table.sheet, int(row))
    for column in TIME_COLUMNS:
        if column not in frame.columns:
            continue
        texts = frame[column]
        parsed = [parse_time(v) for v in texts]
        for row, value, stamp in zip(rows, texts, parsed, strict=True):
            empty = not clean_text(value)
            if stamp is None and (column == "received_at" or not empty):
                problem(
                    int(row),
                    column,
                    value,
                    Text("不是有效的时间", "not a time")
                    if not empty
                    else Text("受理时间为空", "the time received is empty"),
                    Text(
                        "写成 2026-11-03 14:05 或 2026年11月3日 14:05",
                        "write it as 2026-11-03 14:05 or 2026年11月3日 14:05",
                    ),
                )
        frame[f"{column}_text"] = [clean_text(v) for v in texts]
        frame[column] = pd.to_datetime(pd.Series(parsed, dtype=object), errors="coerce").to_numpy()
    if any(c in frame.columns for c in COORD_COLUMNS):
        for column in COORD_COLUMNS:
            if column not in frame.columns:
                frame[column] = None
        lon = [parse_coordinate(v) for v in frame["lon"]]
        lat = [parse_coordinate(v) for v in frame["lat"]]
        for row, lx, ly, vx, vy in zip(rows, frame["lon"], frame["lat"], lon, lat, strict=True):
            given = (bool(clean_text(lx)), bool(clean_text(ly)))
            for column, text, value, has in (("lon", lx, vx, given[0]), ("lat", ly, vy, given[1])):
                if has and value is None:
                    problem(
                        int(row),
                        column,
                        text,
                        Text("坐标不是数字或度分秒", "the coordinate is not a number or DMS"),
                        Text("写成 120.2785 或 120°16′42″", "write it as 120.2785 or 120°16′42″"),
                    )
            if given[0] != given[1]:
                missing = "lat" if given[0] else "lon"
                problem(
                    int(row),
                    missing,
                    "",
                    Text("只有经度或纬度之一", "only one of longitude and latitude"),
                    Text("补全另一个，或两个都删去", "add the other, or clear both"),
                )
        frame["lon_text"] = [clean_text(v) for v in frame["lon"]]
        frame["lat_text"] = [clean_text(v) for v in frame["lat"]]
        frame["lon"] = np.array([np.nan if v is None else v for v in lon], dtype=np.float64)
        frame["lat"] = np.array([np.nan if v is None else v for v in lat], dtype=np.float64)
    return frame, problems
