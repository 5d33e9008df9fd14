"""Tickets taken into the store, one export at a time: keyed by source + ticket id, each row
new, updated (its history kept), unchanged or quarantined, with one ledger line per file and
the source's column profile — all in one store transaction, so a failed or concurrent intake
never leaves half a file behind."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import secrets
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from geo.access.audit import AUDIT, audit_row, ensure_audit
from geo.core.clock import now_beijing
from geo.core.i18n import Text
from geo.core.settings import get_settings
from geo.grids.assign import PROBLEM_VILLAGE_LEVEL, assign_events
from geo.intake.coords import CoordGuess, guess_coord_sys
from geo.intake.gazetteer import Gazetteer
from geo.intake.rows import MappedRows, map_rows, ticket_ids
from geo.intake.sheets import ExportFile, read_export
from geo.intake.values import clean_text
from geo.store.base import Store, StoreError, Transaction
from geo.store.county import read_meta
from geo.store.readers import NO_COORDS, lonlat_points

#: ``--source`` → the ``source`` value stored with the tickets (as the screens show it).
SOURCES: dict[str, str] = {
    "12345": "12345",
    "patrol": "网格巡查",
    "petition": "信访",
    "transfer": "部门移交",
}
#: ``--coords`` values: the coordinate systems exports are delivered in.
COORD_SYSTEMS = ("wgs84", "gcj02", "bd09", "cgcs2000")

ISSUES, HISTORY, GAZETTEER = "issues", "issue_history", "gazetteer"
LEDGER, QUARANTINE, PROFILES = "intake_ledger", "intake_quarantine", "intake_profiles"

#: Ticket fields compared when a ticket is seen again (what "updated" means), in this order.
FIELDS = (
    "request_type",
    "received_at",
    "category",
    "subcategory",
    "address",
    "content",
    "lon",
    "lat",
    "coord_sys",
    "status",
    "dispatched_at",
    "closed_at",
    "resolution_level",
    "satisfaction",
    "caller_name",
    "caller_phone",
)
_TIMES = ("received_at", "dispatched_at", "closed_at")

#: Quarantine entry states: waiting for a fix, fixed (the row landed later), taken back for a
#: corrected re-import (a still-bad row then has a new entry), dropped by staff.
OPEN, FIXED, RETRIED, DROPPED = "open", "fixed", "retried", "dropped"


@dataclass(frozen=True)
class IntakeResult:
    """What one intake did.

    ``rows_in = new + updated + unchanged + quarantined + skipped_total_rows``.

    Attributes
    ----------
    intake_id
        The ledger line's id (``IN20261207T093015-3fa2``).
    file, source
        The file's name and the stored ``source`` value.
    rows_in, new, updated, unchanged, quarantined, skipped_total_rows
        Row counts (a quarantined row with two problems counts once).
    sheets
        Per sheet: ``sheet``, ``header_row``, ``rows``, ``total_rows``, ``blank_rows``,
        ``landed``, ``set_aside``.
    columns
        The file's header → GridGov column, as mapped.
    coord_check
        The batch's coordinate-system check in words (None when it had no coordinates or
        the county no households to check against).
    coord_warning
        True when the check found another system than the one stated.
    located
        Tickets that got a grid; ``unlocated`` landed without one (no coordinates, outside
        every grid), saying why in ``assign_problem``.
    """

    intake_id: str
    file: str
    source: str
    rows_in: int
    new: int
    updated: int
    unchanged: int
    quarantined: int
    skipped_total_rows: int
    sheets: list[dict[str, Any]] = field(default_factory=list)
    columns: dict[str, str] = field(default_factory=dict)
    coord_check: Text | None = None
    coord_warning: bool = False
    located: int = 0
    unlocated: int = 0

    def summary(self) -> dict[str, Any]:
        """The result as one JSON-ready object (``python -m geo intake --json``)."""
        return {
            "intake_id": self.intake_id,
            "file": self.file,
            "source": self.source,
            "rows_in": self.rows_in,
            "new": self.new,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "quarantined": self.quarantined,
            "skipped_total_rows": self.skipped_total_rows,
            "located": self.located,
            "unlocated": self.unlocated,
            "sheets": self.sheets,
            "columns": self.columns,
            "coord_check": None if self.coord_check is None else self.coord_check.en,
            "coord_check_zh": None if self.coord_check is None else self.coord_check.zh,
            "coord_warning": self.coord_warning,
        }


def source_value(source: str) -> str:
    """The stored ``source`` for ``--source`` (a key of :data:`SOURCES` or its value)."""
    if source in SOURCES:
        return SOURCES[source]
    if source in SOURCES.values():
        return source
    raise ValueError(
        Text(
            f"--source {source!r}：未知来源，请用 {' / '.join(SOURCES)}",
            f"--source {source!r}: unknown source; use one of {' / '.join(SOURCES)}",
        )
    )


def intake_file(
    path: str | Path,
    *,
    store: Store,
    source: str,
    columns: Mapping[str, str] | None = None,
    coords: str | None = None,
    sheet: str | None = None,
    header_row: int | None = None,
    user: str = "",
) -> IntakeResult:
    """Take one export into ``store``: read, map, check, locate, then one transaction.

    Parameters
    ----------
    path
        The export (XLSX/XLS/CSV as the platform hands it over).
    store
        The county's store (it must hold the grid layer).
    source
        ``12345``, ``patrol``, ``petition`` or ``transfer`` (:data:`SOURCES`).
    columns
        ``{our_column: their_header}``; default the source's saved profile, then the aliases.
        What was used is saved as the source's profile for the next file.
    coords
        The coordinate system of the file's lon/lat (overrides a ``coord_sys`` column and the
        profile); default the profile's, else WGS84. The batch is checked either way.
    sheet, header_row
        Read one sheet only; the header's row when the guess is wrong.
    user
        Who takes the file in (for the ledger).

    Raises
    ------
    InputFileError
        The file cannot be read (nothing is written).
    """
    file = Path(path)
    export = read_export(file, sheet=sheet, header_row=header_row)
    digest = hashlib.sha256(file.read_bytes()).hexdigest()
    return intake_export(
        export,
        store=store,
        source=source,
        columns=columns,
        coords=coords,
        user=user,
        file_name=file.name,
        file_sha256=digest,
    )


def intake_export(
    export: ExportFile,
    *,
    store: Store,
    source: str,
    columns: Mapping[str, str] | None = None,
    coords: str | None = None,
    user: str = "",
    file_name: str = "",
    file_sha256: str = "",
    retried: Sequence[str] = (),
) -> IntakeResult:
    """Take rows already read (:func:`read_export`, or corrected quarantine rows) into ``store``.

    ``retried`` names quarantine entries (``qid``) these rows correct: they are marked
    :data:`RETRIED` in the same transaction. See :func:`intake_file` for the rest.
    """
    src = source_value(source)
    if coords is not None and coords not in COORD_SYSTEMS:
        raise ValueError(
            Text(
                f"--coords {coords!r}：请用 {' / '.join(COORD_SYSTEMS)}",
                f"--coords {coords!r}: use one of {' / '.join(COORD_SYSTEMS)}",
            )
        )
    if "grids" not in store.layers():
        raise StoreError(
            Text(
                f"{store.location} 中没有网格图层：先接入县域（python -m geo onboard …）",
                f"{store.location} holds no grid layer: onboard the county first "
                "(python -m geo onboard …)",
            )
        )
    profile = read_profile(store, src)
    mapping = dict(columns) if columns else dict(profile.get("columns", {}))
    stated = coords or str(profile.get("coords") or "wgs84")
    now = now_beijing()
    intake_id = f"IN{now:%Y%m%dT%H%M%S}-{secrets.token_hex(2)}"
    cells = _cells(export)
    metric = read_meta(store).get("metric_crs") or get_settings().metric_crs  # the county's
    ensure_tables(store, crs=metric)
    ensure_audit(store)
    with store.transaction() as tx:
        tx.lock(ISSUES)
        # Rows whose ticket is stored with the very same cells need no parsing at all.
        same = _unchanged(tx, export, src, mapping, cells)
        mapped = map_rows(_without(export, same), columns=mapping)
        sheets = [
            {**s, "rows": s["rows"] + n, "landed": s["landed"] + n}
            for s, n in zip(mapped.sheets, _per_sheet(export, same), strict=True)
        ]
        tickets = _prepared(mapped, cells, src, stated, metric, override=coords is not None)
        guess = _coord_check(tx, tickets, metric)
        tickets, unplaced = _placed_by_address(tx, tickets, export.path, mapped.columns)
        if len(unplaced):  # addresses the gazetteer does not know: to the quarantine
            mapped = replace(mapped, quarantine=pd.concat([mapped.quarantine, unplaced]))
            per_sheet = unplaced["sheet"].value_counts()
            for sheet in sheets:
                n = int(per_sheet.get(sheet["sheet"], 0))
                sheet["landed"], sheet["set_aside"] = sheet["landed"] - n, sheet["set_aside"] + n
        quarantine = _quarantine_rows(mapped, cells, src, intake_id, now)
        located = tickets
        if len(tickets):
            grids = tx.read("grids", columns=["grid_code", "village_code", "town_code", "geometry"])
            located = _located(tickets, grids)
        counts = _upsert(tx, located, src, intake_id, now)
        _record_quarantine(tx, quarantine, src, located["ticket_id"], retried)
        used = {ours: their for their, ours in mapped.columns.items()}
        _save_profile(tx, src, used or mapping, coords or profile.get("coords"), user, now)
        unlocated = int((located["grid_code"] == "").sum()) if len(located) else 0
        result = IntakeResult(
            intake_id=intake_id,
            file=file_name or Path(export.path).name,
            source=src,
            rows_in=sum(int(s["rows"]) + int(s["total_rows"]) for s in sheets),
            new=counts["new"],
            updated=counts["updated"],
            unchanged=counts["unchanged"] + len(same),
            quarantined=mapped.set_aside,
            skipped_total_rows=mapped.total_rows,
            sheets=sheets,
            columns=mapped.columns,
            coord_check=None if guess is None else guess.explain(stated),
            coord_warning=bool(guess and guess.confident and guess.differs_from(stated)),
            located=len(located) - unlocated,
            unlocated=unlocated,
        )
        tx.append(LEDGER, _ledger_row(result, file_sha256, user, now, stated))
        counts_said = {k: getattr(result, k) for k in ("rows_in", "new", "updated", "unchanged",
                       "quarantined", "skipped_total_rows")}  # fmt: skip
        tx.append(AUDIT, audit_row("intake", username=user, obj=f"file:{result.file}",
                                   detail={"source": src, **counts_said}))  # fmt: skip
    return result


# --------------------------------------------------------------------------- tables


def _templates() -> dict[str, pd.DataFrame]:
    text, number = pd.Series([], dtype=object), pd.Series([], dtype="int64")
    return {
        HISTORY: pd.DataFrame(
            {c: text for c in ("source", "ticket_id", "intake_id", "changed_at", "changes")}
        ),
        LEDGER: pd.DataFrame(
            {
                **{c: text for c in ("intake_id", "file_name", "file_sha256", "source", "user")},
                "at": text,
                **{
                    c: number
                    for c in (
                        "rows_in",
                        "new",
                        "updated",
                        "unchanged",
                        "quarantined",
                        "skipped_total_rows",
                    )
                },
                **{c: text for c in ("sheets", "columns", "coords", "coord_check")},
            }
        ),
        QUARANTINE: pd.DataFrame(
            {
                **{c: text for c in ("qid", "intake_id", "source", "file", "sheet")},
                "row": number,
                **{
                    c: text
                    for c in (
                        "ticket_id",
                        "column",
                        "value",
                        "reason_zh",
                        "reason_en",
                        "hint_zh",
                        "hint_en",
                        "cells",
                        "cells_hash",
                        "status",
                        "at",
                        "settled_by",
                    )
                },
            }
        ),
        PROFILES: pd.DataFrame(
            {c: text for c in ("source", "columns", "coords", "updated_at", "updated_by")}
        ),
    }


def ensure_tables(store: Store, *, crs: Any) -> None:
    """Create the intake's tables (history, ledger, quarantine, profiles) and an empty ticket
    layer in ``crs`` when missing, with the indexes the intake looks rows up by."""
    from shapely.geometry import Point

    issues = gpd.GeoDataFrame(
        {"ticket_id": ["-"], "source": ["-"]}, geometry=[Point(0.0, 0.0)], crs=crs
    )
    store.create_tables(
        {ISSUES: issues, **_templates()},
        indexes={
            ISSUES: [("source", "ticket_id")],
            HISTORY: [("source", "ticket_id")],
            QUARANTINE: [("status",), ("source", "cells_hash")],
        },
    )


def read_profile(store: Store, source: str) -> dict[str, Any]:
    """The saved profile of ``source``: ``columns`` (ours → theirs) and ``coords``; ``{}``."""
    if PROFILES not in store.layers():
        return {}
    with store.transaction(readonly=True) as tx:
        rows = tx.read(PROFILES, where={"source": source_value(source)})
    if rows.empty:
        return {}
    last = rows.iloc[-1]
    return {"columns": json.loads(last["columns"] or "{}"), "coords": last["coords"] or None}


def _save_profile(
    tx: Transaction, source: str, columns: Mapping[str, str], coords: object, user: str, now: Any
) -> None:
    tx.delete(PROFILES, {"source": source})
    tx.append(
        PROFILES,
        pd.DataFrame(
            {
                "source": [source],
                "columns": [json.dumps(dict(columns), ensure_ascii=False, sort_keys=True)],
                "coords": [str(coords) if coords else ""],
                "updated_at": [now.isoformat(sep=" ", timespec="seconds")],
                "updated_by": [user],
            }
        ),
    )


# --------------------------------------------------------------------------- rows


def _cell_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and np.isnan(value):
        return ""
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _column_text(column: pd.Series) -> pd.Series:
    """A column's cells as text (see :func:`_cell_text`), text columns without a Python loop."""
    kind = pd.api.types.infer_dtype(column, skipna=True)
    if kind in ("string", "empty"):
        return column.where(column.notna(), "").astype(object)
    if kind == "floating":  # str() of a fractional float is _cell_text's; whole ones differ
        numbers = column.to_numpy(dtype=float)
        fractional = np.isfinite(numbers) & (numbers != np.floor(numbers))
        if fractional.all():
            return column.astype(str).astype(object)
    return column.map(_cell_text)


def _cells(export: ExportFile) -> dict[tuple[str, int], str]:
    """Every data row's original cells as JSON text (header → text), by (sheet, row)."""
    out: dict[tuple[str, int], str] = {}
    for table in export.tables:
        if table.frame.empty:
            continue
        text = pd.DataFrame(
            {c: _column_text(table.frame[c]) for c in table.frame.columns}, index=table.frame.index
        )
        lines = _json_lines(text)
        out.update(
            {
                (table.sheet, int(row)): line
                for row, line in zip(table.frame.index, lines, strict=True)
            }
        )
    return out


def _json_lines(text: pd.DataFrame) -> list[str]:
    """Each row of a frame of texts as one JSON object (header → text), in row order.

    The same text as ``to_json(orient="records", lines=True)``, cut out of the records array
    at ``},{"<first header>":``, twice as fast for 200,000 rows. Inside a JSON string a quote
    is escaped, so that sequence occurs only between records, unless the first header itself
    begins with ``,``, ``}`` or ``:``: then the count of pieces tells, and lines are used.
    """
    records = text.to_json(orient="records", force_ascii=False)
    if len(text) < 2:
        return [] if text.empty else [records[1:-1]]
    first = json.dumps(str(text.columns[0]), ensure_ascii=False)
    pieces = records[2:-2].split("},{" + first + ":")
    if len(pieces) != len(text):
        return text.to_json(orient="records", lines=True, force_ascii=False).splitlines()
    lead = "{" + first + ":"
    return ["{" + pieces[0] + "}", *[lead + p + "}" for p in pieces[1:]]]


def _unchanged(
    tx: Transaction,
    export: ExportFile,
    source: str,
    columns: Mapping[str, str],
    cells: Mapping[tuple[str, int], str],
) -> set[tuple[str, int]]:
    """Rows (sheet, file row) whose ticket is stored with the same cells: unchanged.

    Only tickets that occur once in the file qualify (a repeated id must still be reported).
    """
    if "row_hash" not in tx.columns(ISSUES):
        return set()
    ids = ticket_ids(export, columns=columns)
    counts = Counter(ids.values())
    once = {key: ticket for key, ticket in ids.items() if ticket and counts[ticket] == 1}
    if not once:
        return set()
    stored = tx.read(
        ISSUES,
        columns=["ticket_id", "row_hash"],
        where={"source": source, "ticket_id": list(once.values())},
    )
    known = dict(zip(stored["ticket_id"], stored["row_hash"], strict=True))
    return {key for key, ticket in once.items() if known.get(ticket) == _digest(cells[key])}


def _without(export: ExportFile, rows: set[tuple[str, int]]) -> ExportFile:
    """``export`` without the given (sheet, file row) rows."""
    if not rows:
        return export
    tables = []
    for table in export.tables:
        keep = [(table.sheet, int(r)) not in rows for r in table.frame.index]
        tables.append(replace(table, frame=table.frame[keep]))
    return replace(export, tables=tables)


def _per_sheet(export: ExportFile, rows: set[tuple[str, int]]) -> list[int]:
    """How many of ``rows`` each table of ``export`` holds."""
    sheets = pd.Series([sheet for sheet, _ in rows], dtype=object).value_counts()
    return [int(sheets.get(table.sheet, 0)) for table in export.tables]


def _digest(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8")).hexdigest()


def _prepared(
    mapped: MappedRows,
    cells: Mapping[tuple[str, int], str],
    source: str,
    stated: str,
    metric: str,
    *,
    override: bool,
) -> gpd.GeoDataFrame:
    """The landed rows as ticket rows: GridGov columns, the cells' JSON and its hash, points."""
    frame = mapped.tickets
    keys = list(zip(frame["sheet"], frame["source_row"], strict=True)) if len(frame) else []
    out = pd.DataFrame({"ticket_id": frame.get("ticket_id", pd.Series(dtype=object))})
    out["source"] = source
    for column in FIELDS:
        if column in frame.columns:
            out[column] = frame[column].to_numpy()
    if "coord_sys" in out.columns and not override:
        systems = out["coord_sys"].map(_blank_to_none).fillna(stated)
    else:
        systems = pd.Series(stated, index=out.index)
    lon = out["lon"].to_numpy(dtype=float) if "lon" in out.columns else np.full(len(out), np.nan)
    lat = out["lat"].to_numpy(dtype=float) if "lat" in out.columns else np.full(len(out), np.nan)
    systems_ = systems.to_numpy(dtype=object)
    geom, norm, problem = lonlat_points(lon, lat, systems_, where="intake", metric=metric)
    if "lon" in out.columns:
        out["coord_sys"] = np.where(np.isfinite(lon), norm, "")
    out["cells"] = [cells[(str(s), int(r))] for s, r in keys]
    out["row_hash"] = [_digest(c) for c in out["cells"]]
    out["sheet"] = frame.get("sheet", pd.Series(dtype=object)).to_numpy()
    out["source_row"] = frame.get("source_row", pd.Series(dtype="int64")).to_numpy()
    out["coord_problem"] = problem
    return gpd.GeoDataFrame(out, geometry=geom.to_numpy(), crs=geom.crs)


def _blank_to_none(value: object) -> object:
    text = "" if value is None or (isinstance(value, float) and np.isnan(value)) else str(value)
    return text.strip() or None


def _coord_check(tx: Transaction, tickets: gpd.GeoDataFrame, metric: str) -> CoordGuess | None:
    """How the batch's points fall on the county's households under each system (read only
    when the batch has coordinates and the county households)."""
    if "lon" not in tickets.columns or not np.isfinite(tickets["lon"].to_numpy(float)).any():
        return None
    try:
        households = tx.read("households", columns=["geometry"])
    except StoreError:  # a county without household points
        return None
    if not isinstance(households, gpd.GeoDataFrame) or households.empty:
        return None
    households = households.to_crs(metric) if households.crs != metric else households
    return guess_coord_sys(tickets["lon"], tickets["lat"], households)


def _placed_by_address(
    tx: Transaction, tickets: gpd.GeoDataFrame, path: str, columns: Mapping[str, str]
) -> tuple[gpd.GeoDataFrame, pd.DataFrame]:
    """Tickets without coordinates placed by their address on the county's gazetteer.

    A confident match gets the matched point; a village-only match the village's point with
    ``assign_problem`` ``village_level``; an address the gazetteer cannot place goes to the
    quarantine (the second value: its problems, in the quarantine's columns). Tickets with
    neither coordinates nor address land without a grid, saying so.
    """
    tables = _tables(tx)
    if "address" not in tickets.columns or GAZETTEER not in tables:
        return tickets, pd.DataFrame()
    address = tickets["address"].map(clean_text)
    need = (tickets["coord_problem"] == NO_COORDS).to_numpy() & (address != "").to_numpy()
    if not need.any():
        return tickets, pd.DataFrame()
    villages = tx.read("villages") if "villages" in tables else None
    gazetteer = tx.read(GAZETTEER)
    found = Gazetteer.build(gazetteer, villages=villages).match(address[need])
    out = tickets.copy()
    rows = np.flatnonzero(need)
    placed = found["match_level"].to_numpy() != "none"
    points = gpd.GeoSeries(
        gpd.points_from_xy(found["x"].to_numpy(), found["y"].to_numpy()),
        crs=gazetteer.crs,
    ).to_crs(out.crs)
    geometry = out.geometry.to_numpy().copy()
    geometry[rows[placed]] = points.to_numpy()[placed]
    out = out.set_geometry(gpd.GeoSeries(geometry, index=out.index, crs=out.crs))
    level = found["match_level"].to_numpy()
    problem = out["coord_problem"].to_numpy(dtype=object).copy()
    problem[rows[placed]] = np.where(level[placed] == "village", PROBLEM_VILLAGE_LEVEL, "")
    out["coord_problem"] = problem
    out["address_level"] = ""
    out.loc[out.index[rows], "address_level"] = level
    out["address_score"] = np.nan
    out.loc[out.index[rows], "address_score"] = found["score"].to_numpy().round(3)
    out["address_matched"] = ""
    out.loc[out.index[rows], "address_matched"] = found["matched"].to_numpy()
    lost = out.iloc[rows[~placed]]
    header = next((h for h, ours in columns.items() if ours == "address"), "address")
    problems = pd.DataFrame(
        {
            "file": path,
            "sheet": lost["sheet"].to_numpy(),
            "row": lost["source_row"].to_numpy(),
            "column": header,
            "value": address[need].to_numpy()[~placed],
            "reason": [_NOT_IN_GAZETTEER] * len(lost),
            "hint": [_NOT_IN_GAZETTEER_HINT] * len(lost),
        }
    )
    return out.drop(index=lost.index), problems


_NOT_IN_GAZETTEER = Text(
    "地址在本县地名地址库中找不到，也没有经纬度",
    "the address is not in the county's gazetteer, and there are no coordinates",
)
_NOT_IN_GAZETTEER_HINT = Text(
    "补上经纬度，或把地址写全（镇、村或社区、路名和门牌号）",
    "add the coordinates, or write the address out (town, village or community, road and number)",
)


def _tables(tx: Transaction) -> set[str]:
    """The tables a transaction can read (GeoPackage and PostGIS alike)."""
    found = set()
    for name in (GAZETTEER, "villages"):
        try:
            tx.columns(name)
        except StoreError:
            continue
        found.add(name)
    return found


def _located(tickets: gpd.GeoDataFrame, grids: pd.DataFrame) -> gpd.GeoDataFrame:
    """Tickets with their grid, village and town codes and ``assign_problem``."""
    out = tickets.copy()
    if not isinstance(grids, gpd.GeoDataFrame) or grids.empty or out.empty:
        for column in ("grid_code", "village_code", "town_code"):
            out[column] = ""
        out["assign_problem"] = np.where(out["coord_problem"] != "", out["coord_problem"], "")
        return out
    assigned = assign_events(out, grids)
    for column in ("grid_code", "village_code", "town_code", "assign_problem"):
        out[column] = assigned[column].astype(str).to_numpy()
    reader = out["coord_problem"].astype(str)
    out["assign_problem"] = np.where(reader != "", reader, out["assign_problem"])
    return out.drop(columns=["coord_problem"])


def _norm(value: object) -> str:
    """A field's value as comparable text (stored and new values alike)."""
    if value is None or value is pd.NaT:
        return ""
    if isinstance(value, float):
        return "" if np.isnan(value) else f"{value:.7f}"
    if isinstance(value, (pd.Timestamp, dt.datetime, np.datetime64)):
        stamp = pd.Timestamp(value)
        return "" if pd.isna(stamp) else stamp.isoformat(sep=" ", timespec="seconds")
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    try:
        if pd.isna(value):  # type: ignore[call-overload]
            return ""
    except (TypeError, ValueError):
        pass
    return str(value).strip()


def _upsert(
    tx: Transaction, tickets: gpd.GeoDataFrame, source: str, intake_id: str, now: pd.Timestamp
) -> dict[str, int]:
    """Append new tickets, replace changed ones (history kept), leave the rest."""
    counts = {"new": 0, "updated": 0, "unchanged": 0}
    if tickets.empty:
        return counts
    present = tx.columns(ISSUES)
    fields = [c for c in FIELDS if c in tickets.columns]
    wanted = ["ticket_id", *[c for c in ("row_hash", "first_seen_at", *fields) if c in present]]
    ids = tickets["ticket_id"].astype(str).tolist()
    stored = tx.read(ISSUES, columns=wanted, where={"source": source, "ticket_id": ids})
    stored = pd.DataFrame(stored.drop(columns="geometry", errors="ignore"))
    stored = stored.drop_duplicates("ticket_id", keep="last").set_index("ticket_id")
    known = tickets["ticket_id"].isin(stored.index).to_numpy()
    same_hash = np.zeros(len(tickets), dtype=bool)
    if "row_hash" in stored.columns and known.any():
        before = stored["row_hash"].reindex(tickets["ticket_id"]).to_numpy(dtype=object)
        same_hash = known & (before == tickets["row_hash"].to_numpy(dtype=object))
    changed_rows: list[int] = []
    history: list[dict[str, str]] = []
    stamp = now.isoformat(sep=" ", timespec="seconds")
    for i in np.flatnonzero(known & ~same_hash):
        ticket = tickets.iloc[i]
        old = stored.loc[ticket["ticket_id"]]
        diff = {
            c: [_norm(old.get(c)), _norm(ticket[c])]
            for c in fields
            if _norm(old.get(c)) != _norm(ticket[c])
        }
        if diff:
            changed_rows.append(int(i))
            history.append(
                {
                    "source": source,
                    "ticket_id": str(ticket["ticket_id"]),
                    "intake_id": intake_id,
                    "changed_at": stamp,
                    "changes": json.dumps(diff, ensure_ascii=False),
                }
            )
    new_rows = np.flatnonzero(~known)
    counts["new"], counts["updated"] = len(new_rows), len(changed_rows)
    counts["unchanged"] = len(tickets) - counts["new"] - counts["updated"]
    rows = np.concatenate([new_rows, np.asarray(changed_rows, dtype=int)])
    if not len(rows):
        return counts
    out = tickets.iloc[rows].copy()
    first = pd.Series(now, index=out.index)
    if changed_rows and "first_seen_at" in stored.columns:
        seen = pd.to_datetime(stored["first_seen_at"].reindex(out["ticket_id"]), errors="coerce")
        first = pd.Series(seen.to_numpy(), index=out.index).fillna(now)
    out["first_seen_at"] = first
    out["updated_at"] = now
    out["intake_id"] = intake_id
    if changed_rows:
        changed_ids = tickets["ticket_id"].iloc[changed_rows].astype(str).tolist()
        tx.delete(ISSUES, {"source": source, "ticket_id": changed_ids})
        tx.append(HISTORY, pd.DataFrame(history))
    tx.append(ISSUES, out.drop(columns=["sheet", "source_row"]))
    return counts


# --------------------------------------------------------------------------- quarantine


def _quarantine_rows(
    mapped: MappedRows,
    cells: Mapping[tuple[str, int], str],
    source: str,
    intake_id: str,
    now: pd.Timestamp,
) -> pd.DataFrame:
    q = mapped.quarantine
    if q.empty:
        return pd.DataFrame(columns=list(_templates()[QUARANTINE].columns))
    texts = [cells.get((str(s), int(r)), "{}") for s, r in zip(q["sheet"], q["row"], strict=True)]
    ticket = [_ticket_text(c, mapped.columns) for c in texts]
    return pd.DataFrame(
        {
            "qid": [f"{intake_id}:{s}:{int(r)}" for s, r in zip(q["sheet"], q["row"], strict=True)],
            "intake_id": intake_id,
            "source": source,
            "file": [Path(str(f)).name for f in q["file"]],
            "sheet": q["sheet"].astype(str).to_numpy(),
            "row": q["row"].astype("int64").to_numpy(),
            "ticket_id": ticket,
            "column": q["column"].astype(str).to_numpy(),
            "value": q["value"].astype(str).to_numpy(),
            "reason_zh": [t.zh for t in q["reason"]],
            "reason_en": [t.en for t in q["reason"]],
            "hint_zh": [t.zh for t in q["hint"]],
            "hint_en": [t.en for t in q["hint"]],
            "cells": texts,
            "cells_hash": [_digest(c) for c in texts],
            "status": OPEN,
            "at": now.isoformat(sep=" ", timespec="seconds"),
            "settled_by": "",
        }
    )


def _ticket_text(cells: str, columns: Mapping[str, str]) -> str:
    header = next((h for h, ours in columns.items() if ours == "ticket_id"), None)
    return str(json.loads(cells).get(header, "")).strip() if header else ""


def _record_quarantine(
    tx: Transaction,
    rows: pd.DataFrame,
    source: str,
    landed_ids: pd.Series,
    retried: Sequence[str],
) -> None:
    """Add the new entries (an entry already open for the same cells is not repeated), mark
    entries of tickets that have now landed as fixed, and the retried ones as retried."""
    if retried:
        tx.update(
            QUARANTINE,
            pd.DataFrame({"qid": list(retried), "status": RETRIED}),
            key="qid",
        )
    if len(landed_ids):
        open_rows = tx.read(
            QUARANTINE,
            columns=["qid", "ticket_id"],
            where={"source": source, "status": OPEN, "ticket_id": landed_ids.astype(str).tolist()},
        )
        if len(open_rows):
            fixed = pd.DataFrame({"qid": open_rows["qid"].unique(), "status": FIXED})
            tx.update(QUARANTINE, fixed, key="qid")
    if rows.empty:
        return
    already = tx.read(
        QUARANTINE,
        columns=["cells_hash", "column"],
        where={
            "source": source,
            "status": OPEN,
            "cells_hash": rows["cells_hash"].unique().tolist(),
        },
    )
    seen = set(zip(already["cells_hash"], already["column"], strict=True))
    keep = [(h, c) not in seen for h, c in zip(rows["cells_hash"], rows["column"], strict=True)]
    if any(keep):
        tx.append(QUARANTINE, rows[keep])


def _ledger_row(
    result: IntakeResult, digest: str, user: str, now: pd.Timestamp, coords: str
) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "intake_id": [result.intake_id],
            "file_name": [result.file],
            "file_sha256": [digest],
            "source": [result.source],
            "user": [user],
            "at": [now.isoformat(sep=" ", timespec="seconds")],
            "rows_in": [result.rows_in],
            "new": [result.new],
            "updated": [result.updated],
            "unchanged": [result.unchanged],
            "quarantined": [result.quarantined],
            "skipped_total_rows": [result.skipped_total_rows],
            "sheets": [json.dumps(result.sheets, ensure_ascii=False, default=str)],
            "columns": [json.dumps(result.columns, ensure_ascii=False)],
            "coords": [coords],
            "coord_check": ["" if result.coord_check is None else result.coord_check.en],
        }
    )
