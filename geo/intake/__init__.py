"""Exports as they arrive: every sheet, the header under the title rows, totals set aside,
the encodings and number forms counties write (the intake of 12345 / patrol / petition files)."""

from geo.intake.coords import CoordGuess, guess_coord_sys
from geo.intake.gazetteer import Gazetteer, match_addresses, normalise_address
from geo.intake.rows import MappedRows, map_rows
from geo.intake.sheets import ExportFile, SheetTable, read_export
from geo.intake.values import parse_coordinate, parse_number, parse_time

__all__ = [
    "CoordGuess",
    "ExportFile",
    "Gazetteer",
    "MappedRows",
    "SheetTable",
    "guess_coord_sys",
    "map_rows",
    "match_addresses",
    "normalise_address",
    "parse_coordinate",
    "parse_number",
    "parse_time",
    "read_export",
]
