"""Local outliers in space and time: Anselin's local Moran's I in every bin of a space-time
cube, as ArcGIS's Local Outlier Analysis does it, and what each grid was over the bins.

In bin *t*, a cell's neighbourhood is its spatial neighbours in bins *t − k … t* and the grid
itself in bins *t − k … t − 1* (the neighbourhood time step *k*, as for the space-time Gi* of
:mod:`geo.hotspots.emerging`); values are standardised over the bin's global window
(:data:`geo.hotspots.emerging.GlobalWindow`). ``I = z_i · mean(z_j over the neighbourhood)``;
the quadrant says high-high (HH), low-low (LL), high-low (HL) or low-high (LH). Significance
is by conditional permutation within the window — for a given grid and bin, I is monotone in
the neighbourhood's sum, so the p-value is that of the space-time Gi* permutation test — then
Benjamini–Hochberg within each bin at ``alpha``.

Each grid's ``outlier_category`` follows ArcGIS: ``only_HH``, ``only_LL``, ``only_HL``,
``only_LH`` (significant in one type only, at least once), ``multiple`` (more than one type)
or ``never`` (never significant); with the number of bins of each type.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from geo.hotspots.emerging import (
    GlobalWindow,
    SpaceTimeCube,
    _aligned,
    _check_time_step,
    _reference_bins,
    _space_time_lag,
    _space_time_p_sim,
)
from geo.hotspots.local import CLUSTER_CODES, GridWeights, _check_permutations, _fdr_columns

__all__ = ["OUTLIER_CATEGORIES", "SpaceTimeOutliers", "space_time_outliers"]

FloatArray = NDArray[np.float64]

#: Every grid's possible summary over the bins.
OUTLIER_CATEGORIES: tuple[str, ...] = (
    *(f"only_{code}" for code in CLUSTER_CODES),
    "multiple",
    "never",
)


@dataclass(frozen=True, eq=False)
class SpaceTimeOutliers:
    """Local Moran's I of every cell and each grid's summary (see the module's text).

    ``moran``, ``p``, ``p_fdr`` and ``cell_type`` are ``(n, T)``; ``cell_type`` holds
    ``HH``/``LL``/``HL``/``LH`` where significant and ``""`` elsewhere."""

    ids: NDArray[np.str_]
    moran: FloatArray
    p: FloatArray
    p_fdr: FloatArray
    cell_type: NDArray[np.str_]
    category: NDArray[np.str_]

    def to_frame(self) -> pd.DataFrame:
        """One row per grid: ``grid_code``, ``outlier_category`` and ``n_<type>_bins`` for
        each of HH, LL, HL, LH."""
        frame = pd.DataFrame({"grid_code": self.ids, "outlier_category": self.category})
        for code in CLUSTER_CODES:
            frame[f"n_{code}_bins"] = (self.cell_type == code).sum(axis=1)
        return frame


def space_time_outliers(
    cube: SpaceTimeCube,
    weights: GridWeights,
    *,
    time_step: int = 1,
    global_window: GlobalWindow = "neighborhood",
    permutations: int = 999,
    alpha: float = 0.05,
    seed: int | None = 0,
) -> SpaceTimeOutliers:
    """Space-time local Moran's I of ``cube`` (see the module's text). ``permutations``:
    conditional permutations per bin (ArcGIS's default is 499; at least 99)."""
    permutations = _check_permutations(permutations)
    if permutations < 99:
        raise ValueError(f"permutations must be at least 99 for p-values, got {permutations}")
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must lie between 0 and 1, got {alpha}")
    time_step = _check_time_step(time_step, global_window)
    y = _aligned(cube, weights).astype(float)
    n, n_bins = y.shape
    lag = _space_time_lag(y, weights, time_step)
    members = (weights.cardinalities + 1)[:, None] * (np.minimum(np.arange(n_bins), time_step) + 1)[
        None, :
    ] - 1  # the neighbourhood without the cell itself
    moran = np.full((n, n_bins), np.nan)
    window_means = np.zeros(n_bins)
    for t in range(n_bins):
        window = np.concatenate([y[:, b] for b in _reference_bins(t, n_bins, time_step,
                                                                   global_window)])  # fmt: skip
        mean, std = window.mean(), window.std()
        window_means[t] = mean
        if std <= 0:
            continue
        z_self = (y[:, t] - mean) / std
        with np.errstate(divide="ignore", invalid="ignore"):
            z_around = ((lag[:, t] - y[:, t]) - members[:, t] * mean) / std / members[:, t]
        moran[:, t] = z_self * z_around
    moran[weights.island_mask] = np.nan
    p = _space_time_p_sim(y, weights, lag, permutations=permutations, seed=seed,
                          time_step=time_step, global_window=global_window)  # fmt: skip
    p = np.where(np.isfinite(moran), p, np.nan)
    p_fdr = _fdr_columns(p)
    significant = np.isfinite(p_fdr) & (p_fdr <= alpha) & np.isfinite(moran)
    high = y > window_means[None, :]
    around_high = (lag - y) > members * window_means[None, :]
    quadrant = np.where(high, np.where(around_high, "HH", "HL"), np.where(around_high, "LH", "LL"))
    cell_type = np.where(significant, quadrant, "").astype("<U2")
    return SpaceTimeOutliers(weights.ids, moran, p, p_fdr, cell_type, _categories(cell_type))


def _categories(cell_type: NDArray[np.str_]) -> NDArray[np.str_]:
    """Each grid's summary over its bins (see :data:`OUTLIER_CATEGORIES`)."""
    kinds = np.stack([(cell_type == code).any(axis=1) for code in CLUSTER_CODES], axis=1)
    n_kinds = kinds.sum(axis=1)
    only = np.array([f"only_{code}" for code in CLUSTER_CODES])[kinds.argmax(axis=1)]
    return np.where(n_kinds == 0, "never", np.where(n_kinds == 1, only, "multiple")).astype("<U8")
