"""Exports as they arrive: every sheet, the header under the title rows, totals set aside,
the encodings and number forms counties write; then into the store keyed by source + ticket
id, with the quarantine, the ledger and each source's column profile (the intake of 12345 /
patrol / petition / transfer files)."""

from geo.intake.coords import CoordGuess, guess_coord_sys
from geo.intake.gazetteer import Gazetteer, match_addresses, normalise_address
from geo.intake.ingest import SOURCES, IntakeResult, intake_export, intake_file, read_profile
from geo.intake.onboard import OnboardReport, onboard_county
from geo.intake.quarantine import Quarantine
from geo.intake.rows import MappedRows, map_rows
from geo.intake.sheets import ExportFile, SheetTable, read_export
from geo.intake.values import parse_coordinate, parse_number, parse_time

__all__ = [
    "SOURCES",
    "CoordGuess",
    "ExportFile",
    "Gazetteer",
    "IntakeResult",
    "MappedRows",
    "OnboardReport",
    "Quarantine",
    "SheetTable",
    "guess_coord_sys",
    "intake_export",
    "intake_file",
    "map_rows",
    "match_addresses",
    "normalise_address",
    "onboard_county",
    "parse_coordinate",
    "parse_number",
    "parse_time",
    "read_export",
    "read_profile",
]
