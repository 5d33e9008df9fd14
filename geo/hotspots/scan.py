"""Kulldorff's spatial scan statistic (Poisson model), the most likely clusters of grids.

The method SaTScan implements for disease surveillance (Kulldorff 1997), over grids: every
grid is the centre of a series of circular zones — itself, then itself and its nearest grid,
and so on (by centroid distance, ties joining together) — up to :data:`MAX_GRIDS` grids or
``max_share`` of the county's expected count. For a zone with ``c`` of the ``C`` issues where
``e`` were expected (the grids' expected counts, e.g.
:func:`geo.hotspots.excess.expected_counts`), the log-likelihood ratio is

    LLR = c ln(c / e) + (C − c) ln((C − c) / (C − e))     when c > e, else 0.

The most likely cluster is the zone with the largest LLR; secondary clusters are the next
zones by LLR that share no grid with a cluster already listed (SaTScan's "no geographical
overlap"). Each cluster's p-value is Monte-Carlo: ``replications`` counties with the same
``C`` issues spread over the grids in proportion to ``e`` (multinomial), and the rank of the
cluster's LLR among the replications' *largest* LLRs, ``(1 + #{max_r ≥ LLR}) / (R + 1)`` —
for the secondary clusters too (as SaTScan, conservative).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray
from scipy.spatial import cKDTree

__all__ = ["MAX_GRIDS", "ScanCluster", "ScanResult", "poisson_llr", "scan"]

FloatArray = NDArray[np.float64]

#: The largest zone, in grids (a leader looks for a few grids, not a town).
MAX_GRIDS = 30


@dataclass(frozen=True)
class ScanCluster:
    """One cluster: its grids (centre first), observed and expected issues, their ratio,
    the log-likelihood ratio and the Monte-Carlo p-value."""

    grids: tuple[str, ...]
    observed: int
    expected: float
    llr: float
    p_value: float

    @property
    def ratio(self) -> float:
        """Observed over expected (the relative risk inside the zone)."""
        return self.observed / self.expected if self.expected > 0 else float("inf")


@dataclass(frozen=True)
class ScanResult:
    """Clusters by LLR (most likely first) and the replications' largest LLRs."""

    clusters: tuple[ScanCluster, ...]
    null_max_llr: FloatArray
    replications: int

    def to_frame(self) -> pd.DataFrame:
        """One row per grid of a cluster: ``grid_code``, ``cluster`` (1 = most likely),
        ``observed``, ``expected``, ``ratio``, ``llr``, ``p_value`` of its cluster."""
        rows = [
            {
                "grid_code": code,
                "cluster": rank,
                "observed": c.observed,
                "expected": c.expected,
                "ratio": c.ratio,
                "llr": c.llr,
                "p_value": c.p_value,
            }
            for rank, c in enumerate(self.clusters, start=1)
            for code in c.grids
        ]
        columns = ["grid_code", "cluster", "observed", "expected", "ratio", "llr", "p_value"]
        return pd.DataFrame(rows, columns=columns)


def poisson_llr(c: ArrayLike, e: ArrayLike, total: float) -> FloatArray:
    """Kulldorff's Poisson log-likelihood ratio of zones with ``c`` observed and ``e``
    expected of ``total`` issues (0 where ``c <= e``: only excesses are clusters)."""
    c, e = np.asarray(c, dtype=float), np.asarray(e, dtype=float)
    out = np.zeros(np.broadcast(c, e).shape)
    high = (c > e) & (e > 0)
    cc, ee = np.broadcast_to(c, out.shape)[high], np.broadcast_to(e, out.shape)[high]
    rest = total - cc
    with np.errstate(divide="ignore", invalid="ignore"):
        inside = cc * np.log(cc / ee)
        outside = np.where(rest > 0, rest * np.log(rest / (total - ee)), 0.0)
    out[high] = inside + outside
    return out


def _zones(
    centroids: FloatArray, expected: FloatArray, max_grids: int, max_share: float
) -> tuple[NDArray[np.int64], FloatArray, NDArray[np.bool_]]:
    """Neighbour order of each centre (``n x k``) and which of its growing zones are
    allowed (ties in distance join together; expected count within ``max_share``)."""
    n = len(centroids)
    k = min(max_grids, n)
    distance, order = cKDTree(centroids).query(centroids, k=k)
    distance, order = distance.reshape(n, k), order.reshape(n, k)
    cumulative = np.cumsum(expected[order], axis=1)
    allowed = cumulative <= max_share * expected.sum() + 1e-9
    allowed[:, 0] = True  # a single grid is always a zone
    # A zone ends where the distance grows: grids at the same distance join together.
    tie_next = np.zeros_like(allowed)
    tie_next[:, :-1] = np.isclose(distance[:, 1:], distance[:, :-1], rtol=0, atol=1e-6)
    allowed &= ~tie_next
    return order, cumulative, allowed


def scan(
    counts: ArrayLike,
    expected: ArrayLike,
    centroids: ArrayLike,
    ids: ArrayLike,
    *,
    replications: int = 999,
    max_grids: int = MAX_GRIDS,
    max_share: float = 0.5,
    clusters: int = 10,
    seed: int | None = 0,
) -> ScanResult:
    """The most likely clusters of high counts (see the module's text).

    Parameters
    ----------
    counts, expected
        Observed and expected issues per grid (``expected`` need not sum to ``counts``: it
        is rescaled to, as the Poisson model conditions on the total).
    centroids
        ``n x 2`` points in a metric CRS (e.g. each grid's representative point).
    ids
        Grid codes, in the same order.
    replications
        Monte-Carlo replications (SaTScan's default 999).
    max_grids, max_share
        Largest zone: grids, and share of the county's expected issues (SaTScan: 50 %).
    clusters
        How many non-overlapping clusters to report at most (those with LLR > 0).
    seed
        Seed of ``numpy.random.default_rng`` for the replications.
    """
    c = np.asarray(counts, dtype=float).reshape(-1)
    e = np.asarray(expected, dtype=float).reshape(-1)
    xy = np.asarray(centroids, dtype=float).reshape(-1, 2)
    codes = np.asarray(ids).astype(str).reshape(-1)
    if not (len(c) == len(e) == len(xy) == len(codes)):
        raise ValueError("counts, expected, centroids and ids must have one entry per grid")
    if (c < 0).any() or (e < 0).any() or not np.isfinite(np.r_[c, e]).all():
        raise ValueError("counts and expected must be finite and >= 0")
    if replications < 0:
        raise ValueError(f"replications must be >= 0, got {replications}")
    total = float(c.sum())
    if total <= 0 or e.sum() <= 0:
        return ScanResult((), np.zeros(replications), replications)
    e = e * (total / e.sum())
    order, zone_e, allowed = _zones(xy, e, max_grids, max_share)
    llr = np.where(allowed, poisson_llr(np.cumsum(c[order], axis=1), zone_e, total), 0.0)
    null_max = _null_maxima(e, total, order, zone_e, allowed, replications, seed)
    found: list[ScanCluster] = []
    taken = np.zeros(len(c), dtype=bool)
    flat = np.argsort(llr, axis=None)[::-1]
    for index in flat:
        if len(found) >= clusters:
            break
        centre, size = divmod(int(index), llr.shape[1])
        value = float(llr[centre, size])
        if value <= 0:
            break
        members = order[centre, : size + 1]
        if taken[members].any():
            continue
        taken[members] = True
        p = (1 + int((null_max >= value).sum())) / (replications + 1)
        found.append(
            ScanCluster(
                grids=tuple(codes[members]),
                observed=round(c[members].sum()),
                expected=float(e[members].sum()),
                llr=value,
                p_value=p,
            )
        )
    return ScanResult(tuple(found), null_max, replications)


def _null_maxima(
    e: FloatArray,
    total: float,
    order: NDArray[np.int64],
    zone_e: FloatArray,
    allowed: NDArray[np.bool_],
    replications: int,
    seed: int | None,
) -> FloatArray:
    """The largest LLR of each replication (issues spread over the grids as ``e``)."""
    rng = np.random.default_rng(seed)
    share = e / e.sum()
    out = np.empty(replications)
    chunk = max(1, 2_000_000 // max(order.size, 1))
    for start in range(0, replications, chunk):
        stop = min(start + chunk, replications)
        sims = rng.multinomial(round(total), share, size=stop - start).astype(float)
        zone_c = np.cumsum(sims[:, order], axis=2)  # replication x centre x size
        values = np.where(allowed, poisson_llr(zone_c, zone_e, total), 0.0)
        out[start:stop] = values.reshape(stop - start, -1).max(axis=1)
    return out
