"""What a grid's count should be for the people living in it, and how far it is above that.

A grid with many residents has many issues; that alone does not make it a hot spot. Every
method here compares a grid's observed count ``O`` with its **expected count** ``E``: its
population ``P`` times the county's rate over the same window and selection (category,
source), ``E = P · ΣO / ΣP`` (indirect standardisation; :func:`expected_counts`). The value
tested for clustering (:data:`VALUES`) is then one of

- ``excess`` (the default): the Poisson standardised excess ``(O − E) / √E`` — under "no
  cluster" every grid's value has mean 0 and variance 1 whatever its size;
- ``eb``: the global Empirical-Bayes rate (Marshall 1991), the grid's rate shrunk towards
  the county's by how little its population tells;
- ``eb_spatial``: the spatial Empirical-Bayes rate, shrunk towards its neighbourhood's;
- ``rate``: issues per 1,000 residents, unsmoothed (noisy for small grids);
- ``count``: raw counts (they follow population: labelled as such wherever shown).

Grids with no or very few residents (markets, industrial parks, a new estate) would have
``E ≈ 0``; their population is floored at :data:`POPULATION_FLOOR_SHARE` of the median
populated grid's, so a market with thirty complaints still stands out without dividing by 0.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import sparse

__all__ = [
    "POPULATION_FLOOR_SHARE",
    "VALUES",
    "Value",
    "eb_rates",
    "expected_counts",
    "floored_population",
    "grid_values",
    "poisson_excess",
    "spatial_eb_rates",
]

FloatArray = NDArray[np.float64]
Value = Literal["excess", "eb", "eb_spatial", "rate", "count"]
#: The values hot-spot statistics can test, the default first.
VALUES: tuple[Value, ...] = ("excess", "eb", "eb_spatial", "rate", "count")

#: Populations below this share of the median populated grid's are raised to it.
POPULATION_FLOOR_SHARE = 0.1


def floored_population(population: ArrayLike) -> FloatArray:
    """``population`` with each grid raised to at least :data:`POPULATION_FLOOR_SHARE` of the
    median of the grids that have residents (1 when none has)."""
    p = np.asarray(population, dtype=float).reshape(-1)
    if (~np.isfinite(p)).any() or (p < 0).any():
        raise ValueError("population must be finite and >= 0 (0 for a grid without residents)")
    positive = p[p > 0]
    floor = POPULATION_FLOOR_SHARE * float(np.median(positive)) if len(positive) else 1.0
    return np.maximum(p, floor)


def expected_counts(counts: ArrayLike, population: ArrayLike) -> FloatArray:
    """Each grid's expected count for its population at the county's rate:
    ``E_i = P_i · ΣO / ΣP`` with ``P`` floored (:func:`floored_population`); ``ΣE = ΣO``.

    ``counts`` are the observed counts over one window and selection; the rate is theirs, so
    a category's expected counts use that category's county rate.
    """
    o = _counts(counts)
    p = floored_population(population)
    if len(o) != len(p):
        raise ValueError(f"{len(o)} counts for {len(p)} populations")
    return p * (o.sum() / p.sum())


def poisson_excess(counts: ArrayLike, expected: ArrayLike) -> FloatArray:
    """``(O − E) / √E`` per grid (0 where ``E`` is 0: no issue anywhere)."""
    o, e = _counts(counts), np.asarray(expected, dtype=float).reshape(-1)
    with np.errstate(divide="ignore", invalid="ignore"):
        z = (o - e) / np.sqrt(e)
    return np.where(e > 0, z, 0.0)


def eb_rates(counts: ArrayLike, population: ArrayLike) -> FloatArray:
    """Global Empirical-Bayes rates (per person): Marshall's (1991) method-of-moments
    estimator, as ``esda.smoothing.Empirical_Bayes`` computes it, except that a negative
    between-grid variance is set to 0 (every grid then gets the county's rate) where esda
    would weight the rates negatively."""
    o, p = _counts(counts), floored_population(population)
    mean = o.sum() / p.sum()
    rate = o / p
    spread = (p * (rate - mean) ** 2).sum() / p.sum() - mean / p.mean()
    spread = max(float(spread), 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        weight = np.where(spread > 0, spread / (spread + mean / p), 0.0)
    return weight * rate + (1.0 - weight) * mean


def spatial_eb_rates(
    counts: ArrayLike, population: ArrayLike, matrix: sparse.spmatrix
) -> FloatArray:
    """Spatial Empirical-Bayes rates: each grid's rate shrunk towards the rate of its
    neighbourhood (itself and its neighbours in the binary ``matrix``), as
    ``esda.smoothing.Spatial_Empirical_Bayes`` computes them (negative variances set to 0)."""
    o, p = _counts(counts), floored_population(population)
    around = sparse.csr_matrix(matrix, dtype=float)
    around = (around != 0).astype(float) + sparse.identity(len(o), format="csr")
    events, people = around @ o, around @ p
    local = events / people
    rate = o / p
    spread = around @ (o * rate) - 2 * local * events + local**2 * people  # Σ P (r − local)²
    members = np.asarray(around.sum(axis=1)).reshape(-1)
    variance = np.maximum(spread / people - local / (people / members), 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        weight = np.where(variance > 0, variance / (variance + local / p), 0.0)
    return local + (rate - local) * weight


def grid_values(
    value: Value,
    counts: ArrayLike,
    population: ArrayLike,
    matrix: sparse.spmatrix | None = None,
) -> FloatArray:
    """The value of each grid that ``value`` names (see the module's text); rates are per
    1,000 residents. ``matrix`` (binary weights) is needed for ``eb_spatial``."""
    o = _counts(counts)
    if value == "count":
        return o
    if value == "excess":
        return poisson_excess(o, expected_counts(o, population))
    if value == "rate":
        return 1000.0 * o / floored_population(population)
    if value == "eb":
        return 1000.0 * eb_rates(o, population)
    if value == "eb_spatial":
        if matrix is None:
            raise ValueError("eb_spatial needs the weights' matrix")
        return 1000.0 * spatial_eb_rates(o, population, matrix)
    raise ValueError(f"value must be one of {VALUES}, got {value!r}")


def _counts(counts: ArrayLike) -> FloatArray:
    o = np.asarray(counts, dtype=float).reshape(-1)
    if (~np.isfinite(o)).any() or (o < 0).any():
        raise ValueError("counts must be finite and >= 0")
    return o
