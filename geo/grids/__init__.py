"""Grids: events to grids, the grid rules, aggregation up the hierarchy, dissolving."""

from geo.grids.aggregate import IssueFilter, counts, filter_mask
from geo.grids.assign import GridIndex, assign_events, grid_index
from geo.grids.partition import dissolve
from geo.grids.validate import GridReport, validate_grids

__all__ = [
    "GridIndex",
    "GridReport",
    "IssueFilter",
    "assign_events",
    "counts",
    "dissolve",
    "filter_mask",
    "grid_index",
    "validate_grids",
]
