"""The grid planner: edits, drawings, checks, rebalancing, versions and grid files."""

from geo.planning.check import DraftReport, check_draft
from geo.planning.edit import EditError, merge_grids, redraw_boundary, split_grid
from geo.planning.grid_files import read_grid_file, write_grids
from geo.planning.versions import ConflictError, Draft, PublishBlockedError, VersionedGrids

__all__ = [
    "ConflictError",
    "Draft",
    "DraftReport",
    "EditError",
    "PublishBlockedError",
    "VersionedGrids",
    "check_draft",
    "merge_grids",
    "read_grid_file",
    "redraw_boundary",
    "split_grid",
    "write_grids",
]
