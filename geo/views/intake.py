"""What the 数据接入 page shows: an intake's counts and sheets, the quarantine, the ledger."""

from __future__ import annotations

import pandas as pd

from geo.core.i18n import translator
from geo.intake.ingest import LEDGER, IntakeResult
from geo.store.base import Store

#: The counts of an intake, in the order the page shows them (catalog keys ``intake_<name>``).
COUNTS = ("rows_in", "new", "updated", "unchanged", "quarantined", "total_rows")


def intake_counts(result: IntakeResult) -> dict[str, int]:
    """``rows_in`` and its parts (``total_rows`` being the 合计 rows skipped)."""
    return {
        "rows_in": result.rows_in,
        "new": result.new,
        "updated": result.updated,
        "unchanged": result.unchanged,
        "quarantined": result.quarantined,
        "total_rows": result.skipped_total_rows,
    }


def sheet_table(result: IntakeResult, lang: str) -> pd.DataFrame:
    """One row per sheet read: name, header row, rows, total rows, landed, set aside."""
    t = translator(lang)
    return pd.DataFrame(
        {
            t("intake_sheet_col"): [s["sheet"] or "CSV" for s in result.sheets],
            t("intake_header_col"): [s["header_row"] for s in result.sheets],
            t("intake_rows_in"): [s["rows"] for s in result.sheets],
            t("intake_total_rows"): [s["total_rows"] for s in result.sheets],
            t("intake_landed_col"): [s["landed"] for s in result.sheets],
            t("intake_quarantined"): [s["set_aside"] for s in result.sheets],
        }
    )


def quarantine_table(entries: pd.DataFrame, lang: str) -> pd.DataFrame:
    """The open entries for people: file, sheet, row, ticket, columns, reason and hint."""
    t = translator(lang)
    return pd.DataFrame(
        {
            t("intake_file_col"): entries["file"],
            t("intake_sheet_col"): entries["sheet"],
            t("intake_row_col"): entries["row"],
            t("intake_ticket_col"): entries["ticket_id"],
            t("intake_column_col"): entries["columns"],
            t("intake_reason_col"): entries[f"reason_{lang}"],
            t("intake_hint_col"): entries[f"hint_{lang}"],
        }
    )


def ledger_table(store: Store, lang: str) -> pd.DataFrame:
    """The ledger, newest first (file, its hash's head, source, who, when and the counts)."""
    if LEDGER not in store.layers():
        return pd.DataFrame()
    with store.transaction(readonly=True) as tx:
        ledger = pd.DataFrame(tx.read(LEDGER))
    if ledger.empty:
        return ledger
    t = translator(lang)
    out = pd.DataFrame(
        {
            "ID": ledger["intake_id"],
            t("intake_file_col"): ledger["file_name"],
            "SHA-256": ledger["file_sha256"].str[:12],
            t("intake_source"): ledger["source"],
            t("who"): ledger["user"],
            t("when"): ledger["at"],
            **{t(f"intake_{c}"): ledger[c] for c in ("rows_in", "new", "updated", "unchanged")},
            t("intake_quarantined"): ledger["quarantined"],
            t("intake_total_rows"): ledger["skipped_total_rows"],
        }
    )
    return out.iloc[::-1].reset_index(drop=True)
