"""Exports as they arrive: every sheet, the header under the title rows, totals set aside,
the encodings and number forms counties write (the intake of 12345 / patrol / petition files)."""

from geo.intake.sheets import ExportFile, SheetTable, read_export
from geo.intake.values import parse_coordinate, parse_number, parse_time

__all__ = [
    "ExportFile",
    "SheetTable",
    "parse_coordinate",
    "parse_number",
    "parse_time",
    "read_export",
]
