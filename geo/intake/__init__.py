"""Exports as they arrive: every sheet, the header under the title rows, totals set aside,
the encodings and number forms counties write (the intake of 12345 / patrol / petition files)."""

from geo.intake.coords import CoordGuess, guess_coord_sys
from geo.intake.onboard import OnboardReport, onboard_county
from geo.intake.rows import MappedRows, map_rows
from geo.intake.sheets import ExportFile, SheetTable, read_export
from geo.intake.values import parse_coordinate, parse_number, parse_time

__all__ = [
    "CoordGuess",
    "ExportFile",
    "MappedRows",
    "OnboardReport",
    "SheetTable",
    "guess_coord_sys",
    "map_rows",
    "onboard_county",
    "parse_coordinate",
    "parse_number",
    "parse_time",
    "read_export",
]
