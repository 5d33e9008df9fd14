"""A grid's workload and its compactness, defined once: the planner's table and the draft check
(:mod:`geo.planning.check`) and the rebalancer's figures (:mod:`geo.planning.rebalance`) use them.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import shapely
from numpy.typing import ArrayLike

__all__ = [
    "ISSUE_WEIGHT",
    "WORKLOAD_WINDOW_DAYS",
    "issue_window",
    "polsby_popper",
    "workload",
]

#: Household-equivalents of one issue received in the workload window (one issue in the year
#: weighs as much as one household). Proposed setting: ``Settings.workload_issue_weight``.
ISSUE_WEIGHT = 1.0
#: The workload window: issues received in this many days up to ``as_of`` count (12 months).
#: Proposed setting: ``Settings.workload_window_days``.
WORKLOAD_WINDOW_DAYS = 365


def issue_window(
    received_at: pd.Series, as_of: pd.Timestamp | str | None = None
) -> tuple[np.ndarray, pd.Timestamp | None]:
    """Which issues count towards the workload, and the window's end.

    Parameters
    ----------
    received_at
        Times of receipt (naive Beijing time; text is parsed, what does not parse never counts).
    as_of
        End of the window (included); default: the newest ``received_at``.

    Returns
    -------
    tuple
        A boolean mask of the issues received in the :data:`WORKLOAD_WINDOW_DAYS` days up to
        the end (the start itself excluded: 365 whole days), and the end (``None`` and an
        all-False mask when no time is known).
    """
    when = pd.to_datetime(received_at, errors="coerce")
    end = pd.Timestamp(as_of) if as_of is not None else when.max()
    if pd.isna(end):
        return np.zeros(len(when), dtype=bool), None
    start = end - pd.Timedelta(days=WORKLOAD_WINDOW_DAYS)
    return ((when > start) & (when <= end)).fillna(False).to_numpy(dtype=bool), end


def workload(
    households: ArrayLike, issues: ArrayLike, *, issue_weight: float = ISSUE_WEIGHT
) -> np.ndarray:
    """Workload of a grid (or of a rebalancing atom): households + ``issue_weight`` × issues.

    ``issues`` are those received in the workload window (:func:`issue_window`: the last 12
    months), located by their point. A grid worker's job is both: knowing and visiting the
    households (what the size standard counts) and handling what is reported. Issue counts
    alone would call a grid of 250 quiet households light; households alone would miss
    that some grids report far more than others. So the rebalancer equalises this sum and
    the check flags a grid far from its village's median of the same sum, and the two agree.

    Returns
    -------
    numpy.ndarray
        Floats in household-equivalents; NaN where ``issues`` is NaN (no issue data).
    """
    hh = np.asarray(households, dtype=float)
    return hh + issue_weight * np.asarray(issues, dtype=float)


def polsby_popper(geoms: ArrayLike) -> np.ndarray:
    """Polsby–Popper compactness 4πA/P² of each geometry.

    Area over the area of the circle with the same perimeter: 1 for a circle, π/4 ≈ 0.785 for
    a square, 4π·10/22² ≈ 0.260 for a 1×10 strip; ragged or elongated grids score low. A
    MultiPolygon counts the area and the perimeter of all its parts. The measure has no unit,
    but the geometries must be in a metric CRS (in degrees the east-west and north-south
    scales differ). NaN for an empty or degenerate geometry (perimeter 0) and for ``None``.
    """
    arr = np.asarray(geoms, dtype=object)
    perimeter = shapely.length(arr)
    with np.errstate(divide="ignore", invalid="ignore"):
        pp = 4 * np.pi * shapely.area(arr) / perimeter**2
    return np.where(perimeter > 0, pp, np.nan)
