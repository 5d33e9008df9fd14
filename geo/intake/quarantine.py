"""The quarantine: rows an intake set aside, listed with their reasons, corrected in place and
taken in again, or dropped — each action recorded, nothing deleted."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence

import pandas as pd

from geo.access.audit import AUDIT, audit_row, ensure_audit
from geo.core.privacy import mask_name, mask_phone
from geo.intake.ingest import (
    DROPPED,
    OPEN,
    QUARANTINE,
    IntakeResult,
    intake_export,
    read_profile,
)
from geo.intake.sheets import ExportFile, SheetTable
from geo.store.base import Store
from geo.store.readers import ALIAS_LOOKUP, header_key

#: GridGov's personal fields and how each is masked.
PERSONAL: dict[str, Callable[[object], str]] = {
    "caller_name": mask_name,
    "caller_phone": mask_phone,
}

#: Columns of :meth:`Quarantine.entries`, one row per set-aside row.
ENTRY_COLUMNS = (
    "qid",
    "source",
    "file",
    "sheet",
    "row",
    "ticket_id",
    "columns",
    "reason_zh",
    "reason_en",
    "hint_zh",
    "hint_en",
    "at",
)


class Quarantine:
    """The open quarantine of one store.

    Parameters
    ----------
    store
        The county's store.
    """

    def __init__(self, store: Store) -> None:
        self.store = store

    def _read(self, *, status: str | None = OPEN) -> pd.DataFrame:
        if QUARANTINE not in self.store.layers():
            return pd.DataFrame(columns=["qid", "status", "cells", "row"])
        with self.store.transaction(readonly=True) as tx:
            return pd.DataFrame(tx.read(QUARANTINE, where={"status": status} if status else None))

    def entries(self, *, source: str | None = None) -> pd.DataFrame:
        """Open entries, one row per set-aside row (its problems joined with ``；`` / ``; ``),
        newest intake first, rows in file order."""
        q = self._read()
        if source is not None and len(q):
            q = q[q["source"] == source]
        if q.empty:
            return pd.DataFrame(columns=list(ENTRY_COLUMNS))
        # Newest intake first (the table is read in insertion order), then file order.
        q = q.reset_index(drop=True)
        q["_intake"] = q.index.to_series().groupby(q["intake_id"]).transform("min")
        grouped = q.groupby("qid", sort=False).agg(
            _intake=("_intake", "first"),
            source=("source", "first"),
            file=("file", "first"),
            sheet=("sheet", "first"),
            row=("row", "first"),
            ticket_id=("ticket_id", "first"),
            columns=("column", lambda s: "、".join(dict.fromkeys(s))),
            reason_zh=("reason_zh", lambda s: "；".join(dict.fromkeys(s))),
            reason_en=("reason_en", lambda s: "; ".join(dict.fromkeys(s))),
            hint_zh=("hint_zh", lambda s: "；".join(dict.fromkeys(s))),
            hint_en=("hint_en", lambda s: "; ".join(dict.fromkeys(s))),
            at=("at", "first"),
        )
        out = grouped.reset_index().sort_values(
            ["_intake", "file", "sheet", "row"], ascending=[False, True, True, True]
        )
        return out[list(ENTRY_COLUMNS)].reset_index(drop=True)

    def cells(self, qids: Sequence[str], *, masked: bool = True) -> pd.DataFrame:
        """The original cells of the given entries: one column per header of their file, plus
        ``qid`` first (entries of files with other headers get empty cells there).

        ``masked``: callers' names and phones starred (张**, 138****1234), as everywhere; a
        starred cell given back unchanged to :meth:`refile` stands for the original.
        """
        q = self._read()
        q = q[q["qid"].isin(list(qids))].drop_duplicates("qid")
        records = [
            {"qid": qid, **self._masked(source, json.loads(c), masked)}
            for qid, source, c in zip(q["qid"], q["source"], q["cells"], strict=True)
        ]
        frame = pd.DataFrame.from_records(records)
        if frame.empty:
            return pd.DataFrame(columns=["qid"])
        order = {qid: i for i, qid in enumerate(qids)}
        frame = frame.sort_values("qid", key=lambda s: s.map(order)).reset_index(drop=True)
        return frame.fillna("")

    def _personal(self, source: str, headers: Sequence[str]) -> dict[str, Callable[[object], str]]:
        """The headers of ``source``'s files that hold personal data, with their masks (the
        source's saved column mapping first, then the known header names)."""
        theirs = {
            t: ours for ours, t in read_profile(self.store, source).get("columns", {}).items()
        }
        found = {h: theirs.get(h) or ALIAS_LOOKUP.get(header_key(h)) for h in headers}
        return {h: PERSONAL[f] for h, f in found.items() if f in PERSONAL}

    def _masked(self, source: str, cells: dict[str, object], masked: bool) -> dict[str, object]:
        if not masked:
            return cells
        masks = self._personal(source, list(cells))
        return {h: masks[h](v) if h in masks and v else v for h, v in cells.items()}

    def refile(self, corrected: pd.DataFrame, *, user: str = "") -> list[IntakeResult]:
        """Take corrected rows in again (a frame like :meth:`cells`, edited).

        Each file's rows go in as one intake (a ledger line of its own, file name
        ``<file>（更正）``); their entries are marked retried, and a row still wrong gets a
        new open entry with its new reason.
        """
        if corrected.empty:
            return []
        q = self._read().drop_duplicates("qid").set_index("qid")
        missing = [qid for qid in corrected["qid"] if qid not in q.index]
        if missing:
            raise ValueError(f"not open in the quarantine (fixed or dropped meanwhile): {missing}")
        results: list[IntakeResult] = []
        meta = q.loc[corrected["qid"]]
        keys = [meta["source"].to_numpy(), meta["file"].to_numpy()]
        for (source, file), group in corrected.groupby(keys, sort=False):
            rows = meta.loc[group["qid"]]
            tables = []
            for sheet, part in group.groupby(rows["sheet"].to_numpy(), sort=False):
                headers = list(json.loads(str(q.loc[part["qid"].iloc[0], "cells"])))
                frame = part.reindex(columns=headers).astype(object)
                frame = self._unmasked(str(source), frame, q.loc[part["qid"], "cells"])
                frame = frame.map(lambda v: None if v is None or not str(v).strip() else v)
                frame.index = pd.Index(q.loc[part["qid"], "row"].astype(int).to_numpy())
                tables.append(SheetTable(str(sheet), 1, frame))
            name = f"{file}（更正）"
            results.append(
                intake_export(
                    ExportFile(name, tables, []),
                    store=self.store,
                    source=str(source),
                    user=user,
                    file_name=name,
                    retried=list(group["qid"]),
                )
            )
        return results

    def _unmasked(self, source: str, frame: pd.DataFrame, stored: pd.Series) -> pd.DataFrame:
        """``frame`` with each personal cell still as :meth:`cells` starred it put back to
        the original; a cell staff typed anew stays as typed."""
        masks = self._personal(source, list(frame.columns))
        if not masks:
            return frame
        originals = [json.loads(str(c)) for c in stored]
        out = frame.copy()
        for header, mask in masks.items():
            given = out[header].tolist()
            out[header] = [
                cells.get(header) if v is not None and str(v) == mask(cells.get(header)) else v
                for v, cells in zip(given, originals, strict=True)
            ]
        return out

    def drop(self, qids: Sequence[str], *, user: str = "") -> int:
        """Mark entries dropped (staff decided the rows are not tickets); returns how many."""
        if not qids or QUARANTINE not in self.store.layers():
            return 0
        ensure_audit(self.store)
        with self.store.transaction() as tx:
            n = tx.update(
                QUARANTINE,
                pd.DataFrame({"qid": list(qids), "status": DROPPED, "settled_by": user}),
                key="qid",
            )
            said = {"qids": list(qids)[:50]}
            row = audit_row("quarantine_drop", username=user, obj=f"rows:{len(qids)}", detail=said)
            tx.append(AUDIT, row)
            return n
