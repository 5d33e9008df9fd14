"""Hot spots of issues between grids: spatial weights, Getis-Ord Gi* and local Moran's I.

Everything here works on one value per grid (a count or a rate over a window) and on binary
spatial weights between the grids of a clean coverage in a projected CRS (EPSG:4549, metres).

Conventions
-----------
- **Weights** (:class:`GridWeights`) are binary (1 = neighbour), with a zero diagonal, held as a
  ``scipy.sparse`` CSR matrix plus the grid codes in row order. Gi* adds the grid itself with
  weight 1; ``transform="R"`` divides each row by its sum.
- **Islands** (grids with no neighbour) get NaN statistics, NaN p-values and the class
  ``not_significant``; they are listed in the result's ``islands`` and left out of the FDR
  family. They still count in the county-wide mean and variance and may be drawn as random
  neighbours of other grids (as in esda).
- **Pseudo p-values** come from conditional permutation (Anselin 1995; as esda does): for
  grid *i* with *k_i* neighbours, each of ``permutations`` draws puts *k_i* values taken
  without replacement from the other n - 1 grids around *i*, keeping *y_i* in place. One
  ``permutations x (k_max + 1)`` matrix of draws from all n grids is shared by all grids, as
  esda shares one: grid *i* takes its first *k_i* columns, column *k_i* standing in for *i*
  itself when *i* was drawn (a uniform *k_i*-subset of the others). Grids with the same
  *k_i* then share their random sums but for those rare self-draws, so the whole step is a
  sort and a binary search per cardinality (3,689 grids x 9999 permutations: about 0.02 s;
  esda's numba-free loop takes about 0.7 s for 999). The p-value is two-sided:
  ``min(1, 2 (min(#{sim >= obs}, #{sim <= obs}) + 1) / (permutations + 1))``; esda's default
  ("directed") is the one-sided half of it. The smallest possible value is
  ``2 / (permutations + 1)``, which is why the default is 9999 permutations (see
  :func:`gi_star`).
- **FDR**: Benjamini-Hochberg adjusted p-values (:func:`fdr_bh`) over the grids tested; hot/cold
  classes use the adjusted p: ``<= 0.01`` -> 99 %, ``<= 0.05`` -> 95 %, ``<= 0.10`` -> 90 %.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from numpy.typing import ArrayLike, NDArray
from scipy import sparse, special
from scipy.spatial import cKDTree

from geo.core.errors import GridValidationError, Problem
from geo.core.i18n import Text
from geo.core.validate import require_metric_crs
from geo.grids.aggregate import IssueFilter, counts, filter_mask, rate_per_1000

if TYPE_CHECKING:
    from libpysal.weights import W

__all__ = [
    "CLUSTER_CODES",
    "HOTSPOT_CLASSES",
    "GiStar",
    "GridWeights",
    "LocalMoran",
    "fdr_bh",
    "gi_star",
    "grid_counts",
    "grid_weights",
    "local_moran",
]

FloatArray = NDArray[np.float64]
Transform = Literal["B", "R"]

#: Gi* classes from hottest to coldest (FDR-adjusted p at 99 / 95 / 90 % confidence); their
#: words are the i18n keys ``hot_class_<class>``.
HOTSPOT_CLASSES: tuple[str, ...] = (
    "hot_99",
    "hot_95",
    "hot_90",
    "not_significant",
    "cold_90",
    "cold_95",
    "cold_99",
)
#: Confidence levels of the classes: (suffix, largest FDR-adjusted p), strictest first.
_LEVELS: tuple[tuple[str, float], ...] = (("99", 0.01), ("95", 0.05), ("90", 0.10))

#: Local Moran cluster codes; esda's quadrant ``q`` is 1 HH, 2 LH, 3 LL, 4 HL. Their words
#: (and those of ``not_significant``) are the i18n keys ``cluster_<code>`` (高-高, high-high …).
CLUSTER_CODES: tuple[str, ...] = ("HH", "LH", "LL", "HL")


# --------------------------------------------------------------------------- weights


@dataclass(frozen=True, eq=False)
class GridWeights:
    """Binary spatial weights between grids (no self-weights).

    Build them with :func:`grid_weights` (or the ``queen``, ``distance_band`` and ``knn``
    constructors). Treat every attribute as read-only; no function here modifies them.

    Attributes
    ----------
    ids
        Grid codes in row order (strings), shape ``(n,)``.
    matrix
        ``scipy.sparse.csr_matrix`` of shape ``(n, n)``, 1.0 where column *j* is a neighbour
        of row *i*, zero diagonal. Symmetric for ``queen`` and ``distance_band``; ``knn`` may
        not be.
    method
        ``"queen"``, ``"rook"``, ``"distance_band"``, ``"knn"`` or ``"file"``; with
        ``+min<k>`` when :meth:`with_min_neighbours` added neighbours.
    threshold_m
        Distance band between grid centroids in metres (``distance_band`` only).
    k
        Number of nearest neighbours (``knn`` only).
    """

    ids: NDArray[np.str_]
    matrix: sparse.csr_matrix
    method: str
    threshold_m: float | None = None
    k: int | None = None

    def __post_init__(self) -> None:
        self.ids.setflags(write=False)

    @property
    def n(self) -> int:
        """Number of grids."""
        return len(self.ids)

    @property
    def cardinalities(self) -> NDArray[np.int64]:
        """Number of neighbours of each grid (not counting itself)."""
        return np.diff(self.matrix.indptr).astype(np.int64)

    @property
    def island_mask(self) -> NDArray[np.bool_]:
        """True for grids with no neighbour."""
        return self.cardinalities == 0

    @property
    def islands(self) -> tuple[str, ...]:
        """Codes of the grids with no neighbour."""
        return tuple(self.ids[self.island_mask].tolist())

    def neighbours(self, grid_code: str) -> list[str]:
        """Codes of the neighbours of one grid (sorted as in ``ids``)."""
        where = np.flatnonzero(self.ids == str(grid_code))
        if len(where) == 0:
            raise KeyError(f"grid_code {grid_code!r} is not among the {self.n} weighted grids")
        row = int(where[0])
        cols = self.matrix.indices[self.matrix.indptr[row] : self.matrix.indptr[row + 1]]
        return self.ids[np.sort(cols)].tolist()

    def to_libpysal(self) -> W:
        """The same weights as a ``libpysal.weights.W`` (ids = grid codes), for esda."""
        from libpysal.weights import WSP

        return WSP(self.matrix.copy(), id_order=self.ids.tolist()).to_W(silence_warnings=True)

    @classmethod
    def queen(cls, grids: gpd.GeoDataFrame, *, id_column: str = "grid_code") -> GridWeights:
        """Queen contiguity: grids sharing an edge or a vertex are neighbours.

        An STRtree ``intersects`` query of every grid against all grids (about 0.04 s for the
        3,689 Sheyang grids). On a clean coverage this is exactly "touches"; grids that
        overlap (an invalid coverage) are neighbours too. Any CRS works (topology only).
        """
        ids, geoms = _checked(grids, id_column)
        tree = shapely.STRtree(geoms)
        left, right = tree.query(geoms, predicate="intersects")
        keep = left != right
        return cls(ids=ids, matrix=_binary(left[keep], right[keep], len(ids)), method="queen")

    @classmethod
    def rook(cls, grids: gpd.GeoDataFrame, *, id_column: str = "grid_code") -> GridWeights:
        """Edge contiguity (ArcGIS's "contiguity edges only"): grids sharing a stretch of
        boundary longer than 1 cm are neighbours; touching at a corner is not enough."""
        ids, geoms = _checked(grids, id_column)
        tree = shapely.STRtree(geoms)
        left, right = tree.query(geoms, predicate="intersects")
        keep = left < right
        left, right = left[keep], right[keep]
        boundaries = shapely.boundary(geoms)
        shared = shapely.length(shapely.intersection(boundaries[left], boundaries[right]))
        edge = shared > 0.01  # metres in a metric CRS; in degrees any shared edge is longer
        rows = np.concatenate([left[edge], right[edge]])
        cols = np.concatenate([right[edge], left[edge]])
        return cls(ids=ids, matrix=_binary(rows, cols, len(ids)), method="rook")

    @classmethod
    def from_file(
        cls, path: str, grids: gpd.GeoDataFrame, *, id_column: str = "grid_code"
    ) -> GridWeights:
        """Weights from a GAL or GWT file (GeoDa, ArcGIS's spatial weights exported as GWT,
        libpysal) whose ids are the grid codes; every nonzero weight counts as a neighbour.

        Raises
        ------
        ValueError
            The file cannot be read, or its ids are not the grids' codes (which are named).
        """
        from libpysal import io as pysal_io

        ids, _ = _checked(grids, id_column)
        try:
            handle = pysal_io.open(str(path))  # not a context manager
            try:
                w = handle.read()
            finally:
                handle.close()
        except Exception as exc:  # libpysal raises many kinds for a bad file
            raise ValueError(f"{path}: not a readable GAL/GWT weights file ({exc})") from exc
        given = {str(i) for i in w.id_order}
        missing, extra = sorted(set(ids.tolist()) - given), sorted(given - set(ids.tolist()))
        if missing or extra:
            raise ValueError(
                f"{path}: its ids are not the grid codes ({len(missing)} grids missing, e.g. "
                f"{missing[:3]}; {len(extra)} unknown ids, e.g. {extra[:3]}); write the file "
                "with the grid codes as ids"
            )
        position = {code: i for i, code in enumerate(ids.tolist())}
        rows, cols = [], []
        for source, neighbours in w.neighbors.items():
            for target, weight in zip(neighbours, w.weights[source], strict=True):
                if weight and str(target) != str(source):
                    rows.append(position[str(source)])
                    cols.append(position[str(target)])
        return cls(ids=ids, matrix=_binary(np.array(rows), np.array(cols), len(ids)),
                   method="file")  # fmt: skip

    def with_min_neighbours(self, grids: gpd.GeoDataFrame, minimum: int) -> GridWeights:
        """These weights with every grid given at least ``minimum`` neighbours: a grid with
        fewer gets its nearest other grids by centroid distance (as ArcGIS's "number of
        neighbors" does for contiguity and distance bands). May make the weights asymmetric.
        ``grids`` are the same grids, in a metric CRS."""
        if isinstance(minimum, bool) or not isinstance(minimum, int | np.integer):
            raise ValueError(f"minimum must be a whole number, got {minimum!r}")
        if not 0 <= minimum < self.n:
            raise ValueError(f"minimum must be from 0 to {self.n - 1} (grids - 1), got {minimum}")
        short = np.flatnonzero(self.cardinalities < minimum)
        if not len(short):
            return self
        require_metric_crs(grids, "grids", task="find the nearest grids")
        order = pd.Index(grids["grid_code"].astype(str)).get_indexer(pd.Index(self.ids))
        xy = shapely.get_coordinates(shapely.centroid(grids.geometry.to_numpy()[order]))
        _, nearest = cKDTree(xy).query(xy[short], k=min(self.n, minimum + 1 + 8))
        rows, cols = [], []
        m = self.matrix
        for row, candidates in zip(short, np.atleast_2d(nearest), strict=True):
            have = set(m.indices[m.indptr[row] : m.indptr[row + 1]].tolist())
            for j in candidates:
                if len(have) >= minimum:
                    break
                if int(j) != row and int(j) not in have:
                    have.add(int(j))
                    rows.append(row)
                    cols.append(int(j))
        both = (m + _binary(np.array(rows), np.array(cols), self.n)).tocoo()
        return GridWeights(
            ids=self.ids,
            matrix=_binary(both.row, both.col, self.n),
            method=f"{self.method}+min{minimum}",
            threshold_m=self.threshold_m,
            k=self.k,
        )

    @classmethod
    def distance_band(
        cls, grids: gpd.GeoDataFrame, *, threshold_m: float, id_column: str = "grid_code"
    ) -> GridWeights:
        """Grids whose centroids lie within ``threshold_m`` metres of each other are neighbours.

        ``grids`` must be in a projected CRS in metres (EPSG:4549 for Sheyang).
        """
        if not np.isfinite(threshold_m) or threshold_m <= 0:
            raise ValueError(f"threshold_m must be a positive number of metres, got {threshold_m}")
        ids, geoms = _checked(grids, id_column, metric=True)
        xy = shapely.get_coordinates(shapely.centroid(geoms))
        pairs = cKDTree(xy).query_pairs(r=float(threshold_m), output_type="ndarray")
        rows = np.concatenate([pairs[:, 0], pairs[:, 1]])
        cols = np.concatenate([pairs[:, 1], pairs[:, 0]])
        return cls(
            ids=ids,
            matrix=_binary(rows, cols, len(ids)),
            method="distance_band",
            threshold_m=float(threshold_m),
        )

    @classmethod
    def knn(cls, grids: gpd.GeoDataFrame, *, k: int, id_column: str = "grid_code") -> GridWeights:
        """Each grid's ``k`` nearest grids by centroid distance (metres) are its neighbours.

        Not symmetric in general. Ties in distance are broken by the KD-tree's order.
        ``grids`` must be in a projected CRS in metres (EPSG:4549 for Sheyang).
        """
        ids, geoms = _checked(grids, id_column, metric=True)
        if isinstance(k, bool) or not isinstance(k, int | np.integer) or not 1 <= k < len(ids):
            raise ValueError(f"k must be an integer from 1 to {len(ids) - 1} (grids - 1), got {k}")
        xy = shapely.get_coordinates(shapely.centroid(geoms))
        _, nearest = cKDTree(xy).query(xy, k=int(k) + 1)
        rows = np.repeat(np.arange(len(ids)), int(k) + 1)
        cols = nearest.ravel()
        keep = rows != cols
        rows, cols = rows[keep], cols[keep]
        # A grid sharing its centroid with another may not come back among its own k + 1
        # nearest; keep the first k of each row.
        per_row = np.bincount(rows, minlength=len(ids))
        rank = np.arange(len(rows)) - np.repeat(np.cumsum(per_row) - per_row, per_row)
        rows, cols = rows[rank < k], cols[rank < k]
        return cls(ids=ids, matrix=_binary(rows, cols, len(ids)), method="knn", k=int(k))


def grid_weights(
    grids: gpd.GeoDataFrame,
    *,
    method: Literal["queen", "rook", "distance_band", "knn", "file"] = "queen",
    threshold_m: float | None = None,
    k: int | None = None,
    id_column: str = "grid_code",
    path: str | None = None,
    min_neighbours: int = 0,
) -> GridWeights:
    """Spatial weights between grids.

    Parameters
    ----------
    grids
        Grid polygons with a unique ``id_column``; a projected CRS in metres (EPSG:4549)
        for ``distance_band`` and ``knn``.
    method
        ``"queen"`` (shared edge or vertex; the default; ArcGIS's "contiguity edges and
        corners"), ``"rook"`` (a shared edge: "contiguity edges only"), ``"distance_band"``
        (centroids within ``threshold_m`` metres), ``"knn"`` (``k`` nearest centroids) or
        ``"file"`` (a GAL/GWT file at ``path``).
    threshold_m
        Distance band in metres; required for ``distance_band`` only.
    k
        Number of neighbours; required for ``knn`` only.
    id_column
        Column holding the grid codes.
    path
        The weights file (``file`` only).
    min_neighbours
        Give every grid at least this many neighbours, the nearest by centroid
        (:meth:`GridWeights.with_min_neighbours`; 0: as built).

    Returns
    -------
    GridWeights
        Binary weights in the row order of ``grids``.
    """
    built = _built_weights(grids, method, threshold_m, k, id_column, path)
    return built.with_min_neighbours(grids, min_neighbours) if min_neighbours else built


def _built_weights(
    grids: gpd.GeoDataFrame,
    method: str,
    threshold_m: float | None,
    k: int | None,
    id_column: str,
    path: str | None,
) -> GridWeights:
    if method in ("queen", "rook", "file"):
        if threshold_m is not None or k is not None:
            raise ValueError(f"method={method!r} takes neither threshold_m nor k")
        if method == "file":
            if not path:
                raise ValueError("method='file' needs the path of a GAL or GWT file")
            return GridWeights.from_file(path, grids, id_column=id_column)
        if method == "rook":
            return GridWeights.rook(grids, id_column=id_column)
        return GridWeights.queen(grids, id_column=id_column)
    if method == "distance_band":
        if threshold_m is None or k is not None:
            raise ValueError("method='distance_band' needs threshold_m (metres) and no k")
        return GridWeights.distance_band(grids, threshold_m=threshold_m, id_column=id_column)
    if method == "knn":
        if k is None or threshold_m is not None:
            raise ValueError("method='knn' needs k and no threshold_m")
        return GridWeights.knn(grids, k=k, id_column=id_column)
    raise ValueError(
        f"method must be 'queen', 'rook', 'distance_band', 'knn' or 'file', got {method!r}"
    )


def _checked(
    grids: gpd.GeoDataFrame, id_column: str, *, metric: bool = False
) -> tuple[NDArray[np.str_], NDArray[np.object_]]:
    """Grid codes and geometries after collecting every problem into one error."""
    if id_column not in grids.columns:
        raise ValueError(
            f"grids has no column {id_column!r}; columns are {list(grids.columns)}; "
            "pass id_column=<the grid code column>"
        )
    if metric:
        require_metric_crs(grids, "grids", task="build spatial weights")
    raw = grids[id_column]
    ids = raw.astype(str).to_numpy().astype(np.str_)
    geoms = np.asarray(grids.geometry.to_numpy(), dtype=object)
    problems: list[Problem] = []
    missing = raw.isna().to_numpy() | (ids == "")
    for pos in np.flatnonzero(missing):
        problems.append(
            Problem(
                "missing_code",
                "error",
                f"row {pos}",
                Text("缺少网格编码", "no grid code"),
                Text("填写网格编码", "fill in the code"),
            )
        )
    dup = pd.Series(ids).duplicated(keep=False).to_numpy() & ~missing
    for code in sorted(set(ids[dup].tolist())):
        problems.append(
            Problem(
                "duplicate_code",
                "error",
                code,
                Text(
                    f"{int((ids == code).sum())} 个网格使用同一编码",
                    f"{int((ids == code).sum())} grids share this code",
                ),
                Text(
                    "每个网格使用不同的编码（或把各部分合并为一个网格）",
                    "give every grid its own code (or dissolve the parts into one grid)",
                ),
            )
        )
    empty = shapely.is_missing(geoms) | shapely.is_empty(geoms)
    for pos in np.flatnonzero(empty):
        problems.append(
            Problem(
                "missing_geometry",
                "error",
                ids[pos] or f"row {pos}",
                Text("网格没有几何", "no geometry"),
                Text("画出网格边界，或删除该行", "draw the grid or remove the row"),
            )
        )
    if problems:
        raise GridValidationError(problems)
    return ids, geoms


def _binary(rows: NDArray[Any], cols: NDArray[Any], n: int) -> sparse.csr_matrix:
    """A binary CSR matrix with ones at (rows, cols); duplicates count once."""
    m = sparse.csr_matrix(
        (np.ones(len(rows)), (np.asarray(rows, np.int64), np.asarray(cols, np.int64))),
        shape=(n, n),
    )
    m.sum_duplicates()
    m.data[:] = 1.0
    m.sort_indices()
    return m


# --------------------------------------------------------------------------- counts


def grid_counts(
    issues: pd.DataFrame,
    grids: pd.DataFrame,
    *,
    flt: IssueFilter | None = None,
    by: str | Sequence[str] | None = None,
) -> pd.DataFrame:
    """Issues per grid over a window, raw and per 1,000 residents (zeros included).

    A thin wrapper over :func:`geo.grids.aggregate.filter_mask` and
    :func:`geo.grids.aggregate.counts`.

    Parameters
    ----------
    issues
        Assigned issues (``grid_code``, ``received_at``, ``status``, ``category``, ``source``).
    grids
        The grids with ``grid_code`` and ``residents``.
    flt
        The window and selection (dates inclusive, Beijing time); ``None`` means all issues.
    by
        Column(s) to split by, e.g. ``"category"`` or ``["category", "source"]``: the table
        then has a row for every grid and every combination of values present among the
        selected issues (zeros where a grid has none).

    Returns
    -------
    pandas.DataFrame
        ``grid_code`` (and the ``by`` columns), ``residents``, ``count``, ``open`` and
        ``rate_per_1000`` (:func:`geo.grids.aggregate.rate_per_1000`), in the row
        order of ``grids``.
    """
    cols = [by] if isinstance(by, str) else list(by or ())
    # Only the columns counted: selecting rows of the whole layer would copy its geometry.
    needed = issues[list(dict.fromkeys(["grid_code", "status", *cols]))]
    selected = needed if flt is None else needed[filter_mask(issues, flt)]
    table = counts(selected, grids, level="grid", by=cols)
    if not cols:
        return table
    combos = selected[cols].astype(str).drop_duplicates().sort_values(cols)
    frame = (
        grids[["grid_code", "residents"]]
        .assign(grid_code=lambda g: g["grid_code"].astype(str))
        .merge(combos, how="cross")
    )
    found = table.dropna(subset=cols).astype({c: str for c in cols})
    out = frame.merge(
        found[["grid_code", *cols, "count", "open"]], on=["grid_code", *cols], how="left"
    )
    out[["count", "open"]] = out[["count", "open"]].fillna(0).astype(int)
    out["rate_per_1000"] = rate_per_1000(out["count"], out["residents"])
    return out.reset_index(drop=True)


# --------------------------------------------------------------------------- p-values


def fdr_bh(p_values: ArrayLike) -> FloatArray:
    """Benjamini-Hochberg adjusted p-values (step-up; NaN stays NaN, not counted).

    ``p_adj[(i)] = min_{j >= i} min(1, m p_(j) / j)`` over the m finite p-values sorted
    ascending; a test is significant at FDR level q when ``p_adj <= q``.
    """
    p = np.asarray(p_values, dtype=float)
    out = np.full(p.shape, np.nan)
    finite = np.isfinite(p)
    m = int(finite.sum())
    if m == 0:
        return out
    order = np.argsort(p[finite], kind="stable")
    ranked = p[finite][order] * m / np.arange(1, m + 1)
    adjusted = np.minimum(np.minimum.accumulate(ranked[::-1])[::-1], 1.0)
    values = np.empty(m)
    values[order] = adjusted
    out[finite] = values
    return out


def _fdr_columns(p: FloatArray) -> FloatArray:
    """:func:`fdr_bh` applied to each column of a 2-D array (vectorised)."""
    out = np.full(p.shape, np.nan)
    if p.size == 0:
        return out
    filled = np.where(np.isfinite(p), p, np.inf)
    order = np.argsort(filled, axis=0, kind="stable")
    ranked = np.take_along_axis(filled, order, axis=0)
    m = np.isfinite(p).sum(axis=0)
    rank = np.arange(1, p.shape[0] + 1)[:, None]
    with np.errstate(invalid="ignore"):
        scaled = ranked * m[None, :] / rank
    adjusted = np.minimum(np.minimum.accumulate(scaled[::-1], axis=0)[::-1], 1.0)
    np.put_along_axis(out, order, adjusted, axis=0)
    out[~np.isfinite(p)] = np.nan
    return out


def _norm_two_sided(z: FloatArray) -> FloatArray:
    """Two-sided normal p-value of z-scores (NaN stays NaN)."""
    return special.erfc(np.abs(z) / np.sqrt(2.0))


def _classes(z: FloatArray, p_adj: FloatArray) -> NDArray[np.str_]:
    """Hot/cold classes from the sign of z and the FDR-adjusted p."""
    out = np.full(z.shape, "not_significant", dtype="<U15")
    for suffix, level in reversed(_LEVELS):
        sig = np.isfinite(p_adj) & (p_adj <= level)
        out[sig & (z > 0)] = f"hot_{suffix}"
        out[sig & (z < 0)] = f"cold_{suffix}"
    return out


# --------------------------------------------------------------------------- permutation


def _draw_distinct(rng: np.random.Generator, population: int, k: int, rows: int) -> NDArray[Any]:
    """``rows x k`` indices into ``range(population)``, distinct within each row, uniform order."""
    if k == 0:
        return np.empty((rows, 0), dtype=np.int64)
    if k * k <= population:
        # Rejection of whole rows with a repeat: few rows repeat when k*k is small.
        out = rng.integers(0, population, size=(rows, k))
        while True:
            ordered = np.sort(out, axis=1)
            bad = (ordered[:, 1:] == ordered[:, :-1]).any(axis=1)
            if not bad.any():
                return out
            out[bad] = rng.integers(0, population, size=(int(bad.sum()), k))
    keys = rng.random((rows, population))
    first = np.argpartition(keys, k - 1, axis=1)[:, :k] if k < population else np.argsort(keys)
    return rng.permuted(first, axis=1)


@dataclass(frozen=True, eq=False)
class _PermutationPlan:
    """The parts of the conditional permutation that do not depend on the values.

    ``draws`` holds ``(k_max + 1) x permutations`` positions into the values, distinct within
    each permutation (a column). In permutation *p*, position *i* (with *k_i* neighbours)
    gets the positions in the first *k_i* rows, with the one in row *k_i* standing in for *i*
    itself when *i* is among them: a uniform random *k_i*-subset of the other positions.
    ``groups`` lists the positions of each cardinality k >= 1; ``own_*`` lists the rare
    (permutation, position) pairs where a position draws itself (probability k_i / n).
    """

    draws: NDArray[np.int64]
    groups: tuple[tuple[int, NDArray[np.int64]], ...]
    own_perm: NDArray[np.int64]
    own_pos: NDArray[np.int64]
    own_k: NDArray[np.int64]


def _plan(draws: NDArray[Any], cardinality: NDArray[Any]) -> _PermutationPlan:
    """Prepare ``permutations x (k_max + 1)`` draws (as :func:`_draw_distinct` makes them)."""
    card = np.asarray(cardinality, dtype=np.int64)
    by_row = np.ascontiguousarray(np.asarray(draws, dtype=np.int64).T)
    width = by_row.shape[0]
    groups = tuple((int(k), np.flatnonzero(card == k)) for k in np.unique(card[card > 0]))
    row, perm = np.nonzero(np.arange(width)[:, None] < card[by_row])
    pos = by_row[row, perm]
    return _PermutationPlan(by_row, groups, perm, pos, card[pos])


def _permutation_counts(
    y: FloatArray, observed: FloatArray, plan: _PermutationPlan
) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """How many random neighbour sums are >= and <= each position's observed neighbour sum.

    All positions with k neighbours share the random sums ``prefix[k]`` (see
    :class:`_PermutationPlan`) except where a position draws itself: one sort of the shared
    sums per cardinality and a binary search per position, then a correction for those rare
    draws. Cost O(permutations x (k_max + log permutations) + n log permutations) instead of
    O(permutations x n). Sums compare with a tolerance of 1e-9 of the largest possible sum,
    so exact ties of integer counts stay ties. Positions without neighbours get 0 and 0.
    """
    n = len(y)
    n_ge = np.zeros(n, dtype=np.int64)
    n_le = np.zeros(n, dtype=np.int64)
    width, permutations = plan.draws.shape
    if width == 0 or permutations == 0:
        return n_ge, n_le
    tol = 1e-9 * (float(np.abs(y).max(initial=0.0)) * width + 1.0)
    low, high = observed - tol, observed + tol
    values = y[plan.draws]
    prefix = np.zeros((width + 1, permutations))
    for row in range(width):  # row by row: numpy's cumsum along axis 0 is slow here
        np.add(prefix[row], values[row], out=prefix[row + 1])
    for k, members in plan.groups:
        shared = np.sort(prefix[k])
        n_ge[members] = permutations - np.searchsorted(shared, low[members], side="left")
        n_le[members] = np.searchsorted(shared, high[members], side="right")
    perm, pos, k_own = plan.own_perm, plan.own_pos, plan.own_k
    base = prefix[k_own, perm]
    sim = base + values[k_own, perm] - y[pos]
    fix_ge = (sim >= low[pos]).astype(np.int64) - (base >= low[pos])
    fix_le = (sim <= high[pos]).astype(np.int64) - (base <= high[pos])
    n_ge += np.bincount(pos, weights=fix_ge, minlength=n).astype(np.int64)
    n_le += np.bincount(pos, weights=fix_le, minlength=n).astype(np.int64)
    return n_ge, n_le


def _pseudo_p(n_ge: NDArray[np.int64], n_le: NDArray[np.int64], permutations: int) -> FloatArray:
    """Two-sided pseudo p-value from the counts of random values on either side."""
    return np.minimum(1.0, 2.0 * (np.minimum(n_ge, n_le) + 1.0) / (permutations + 1.0))


def _conditional_p(
    y: FloatArray,
    neighbour_sum: FloatArray,
    weights: GridWeights,
    *,
    permutations: int,
    seed: int | None,
) -> FloatArray:
    """Two-sided conditional-permutation p-value of each grid's neighbour sum (self excluded).

    Gi* and local Moran's I are, for a given grid, monotone in the sum of its neighbours'
    values (with the grid's own value fixed), so both test that sum.
    """
    rng = np.random.default_rng(seed)
    k_max = int(weights.cardinalities.max(initial=0))
    draws = _draw_distinct(rng, weights.n, k_max + 1, permutations)
    n_ge, n_le = _permutation_counts(y, neighbour_sum, _plan(draws, weights.cardinalities))
    return _pseudo_p(n_ge, n_le, permutations)


def _values(
    values: ArrayLike | pd.Series, weights: GridWeights, *, non_negative: bool = False
) -> FloatArray:
    """The values as a float array in the row order of ``weights`` (a copy)."""
    if isinstance(values, pd.Series):
        index = values.index.astype(str)
        if index.has_duplicates:
            raise ValueError("values has duplicate grid codes in its index")
        missing = pd.Index(weights.ids).difference(pd.Index(index.tolist()))
        if len(missing):
            raise ValueError(
                f"values lacks {len(missing)} of the weighted grids, e.g. "
                f"{missing[:5].tolist()}; reindex it to weights.ids (fill 0 for no issues)"
            )
        y = pd.to_numeric(values).set_axis(index).reindex(weights.ids).to_numpy(dtype=float)
    else:
        y = np.array(values, dtype=float).reshape(-1)
    if len(y) != weights.n:
        raise ValueError(f"values has {len(y)} entries for {weights.n} weighted grids")
    bad = ~np.isfinite(y)
    if bad.any():
        raise ValueError(
            f"values has {int(bad.sum())} missing or infinite entries (grids "
            f"{weights.ids[bad][:5].tolist()}); fill them, e.g. 0 for a grid with no issues"
        )
    negative = y < 0
    if non_negative and negative.any():
        raise ValueError(
            f"Gi* needs values >= 0 (counts or rates), got {int(negative.sum())} negative "
            f"(grids {weights.ids[negative][:5].tolist()}); for signed values use local_moran"
        )
    return y


def _check_transform(transform: str) -> Transform:
    if transform not in ("B", "R"):
        raise ValueError(
            f"transform must be 'B' (binary) or 'R' (row-standardised), got {transform!r}"
        )
    return transform  # type: ignore[return-value]


def _check_permutations(permutations: int) -> int:
    if isinstance(permutations, bool) or not isinstance(permutations, int | np.integer):
        raise ValueError(f"permutations must be a whole number, got {permutations!r}")
    if permutations < 0:
        raise ValueError(f"permutations must be 0 (analytic only) or more, got {permutations}")
    return int(permutations)


# --------------------------------------------------------------------------- Getis-Ord Gi*


def _gi_z(
    lag: FloatArray,
    cardinality: ArrayLike,
    n_cells: ArrayLike,
    total: ArrayLike,
    total_sq: ArrayLike,
) -> tuple[FloatArray, FloatArray]:
    """Gi* statistic and z-score as esda computes them (``G_Local(star=True).Gs, .Zs``).

    ``lag`` is the weighted sum over the neighbourhood (self included), ``cardinality`` the
    row sum of the weights, ``n_cells`` the number of values in the reference population and
    ``total``, ``total_sq`` their sum and sum of squares. Every argument broadcasts, so one
    call handles many columns (bins). The variance is ``card (N - card) / (N - 1) / N^2 *
    s^2 / mean^2`` with ``s^2`` the population variance: Ord & Getis (1995) for binary
    weights. Where the values do not vary (or sum to zero) the z-score is NaN.
    """
    n = np.asarray(n_cells, dtype=float)
    tot = np.asarray(total, dtype=float)
    mean = tot / n
    var_y = np.asarray(total_sq, dtype=float) / n - mean**2
    flat = (tot == 0) | (var_y <= 1e-12 * np.abs(np.asarray(total_sq, dtype=float) / n))
    card = np.asarray(cardinality, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        statistic = lag / tot
        expected = card / n
        variance = card * (n - card)
        variance = variance / (n - 1)
        variance = variance * (1 / n**2)
        variance = variance * (var_y / mean**2)
        z = (statistic - expected) / np.sqrt(variance)
    z = np.where(flat, np.nan, z)
    statistic = np.where(tot == 0, np.nan, statistic)
    return statistic, z


@dataclass(frozen=True, eq=False)
class GiStar:
    """Getis-Ord Gi* hot spots of one value per grid (see :func:`gi_star`).

    Attributes
    ----------
    ids
        Grid codes, in the order of the weights.
    y
        The values analysed (a copy; e.g. issues per grid over the window).
    g
        The Gi* statistic: the (weighted) share of the county total in the grid's
        neighbourhood, itself included.
    z
        Analytic z-scores; equal to ``esda.G_Local(y, w, star=True, transform=...).Zs``.
    p_norm
        Two-sided normal p-values of ``z``.
    p_sim
        Two-sided conditional-permutation pseudo p-values (NaN when ``permutations == 0``).
    p_fdr
        Benjamini-Hochberg adjusted ``p_sim`` (or ``p_norm`` without permutations).
    classes
        ``hotspot_class`` of each grid: one of :data:`HOTSPOT_CLASSES`, from the sign of ``z``
        and ``p_fdr``.
    islands
        Codes of grids without neighbours (NaN statistics, ``not_significant``).
    transform
        ``"B"`` (binary) or ``"R"`` (row-standardised).
    permutations
        Number of permutations (0: analytic p-values only).
    seed
        Seed of ``numpy.random.default_rng`` used for the permutations.
    """

    ids: NDArray[np.str_]
    y: FloatArray
    g: FloatArray
    z: FloatArray
    p_norm: FloatArray
    p_sim: FloatArray
    p_fdr: FloatArray
    classes: NDArray[np.str_]
    islands: tuple[str, ...]
    transform: str
    permutations: int
    seed: int | None

    def to_frame(self) -> pd.DataFrame:
        """One row per grid: ``grid_code``, ``value``, ``gi_z``, ``p_sim``, ``p_fdr``,
        ``hotspot_class``."""
        return pd.DataFrame(
            {
                "grid_code": self.ids,
                "value": self.y,
                "gi_z": self.z,
                "p_norm": self.p_norm,
                "p_sim": self.p_sim,
                "p_fdr": self.p_fdr,
                "hotspot_class": self.classes,
            }
        )


def gi_star(
    values: ArrayLike | pd.Series,
    weights: GridWeights,
    *,
    transform: Transform = "B",
    permutations: int = 9999,
    seed: int | None = 0,
    signed: bool = False,
) -> GiStar:
    """Getis-Ord Gi* (the grid is its own neighbour, weight 1) with permutation and FDR.

    Parameters
    ----------
    values
        One value per grid (issue counts or rates): an array in the order of ``weights.ids``
        or a Series indexed by grid code. Not modified.
    weights
        Binary weights from :func:`grid_weights`. Not modified.
    transform
        ``"B"``: binary weights (the default; Ord & Getis 1995). ``"R"``: each row divided by
        its sum (k + 1); z-scores then follow esda, whose variance uses the row sum (1).
    permutations
        Conditional permutations for ``p_sim``; 0 for analytic p-values only. The default is
        9999, not esda's 999: the smallest pseudo p is ``2 / (permutations + 1)``, and after
        the FDR correction over ~3,689 grids 999 permutations cannot reach 99 % unless 738
        grids sit at that floor (9999: 74). About 0.01 s for 3,689 grids.
    seed
        Seed of ``numpy.random.default_rng``; the same seed gives the same ``p_sim``.
    signed
        The values may be negative (e.g. the Poisson excess of
        :mod:`geo.hotspots.excess`). Gi*'s z-score and its permutation p-values do not
        change when a constant is added to every value, so the values are shifted to start
        at 0; ``g`` (a share of the total) then means nothing and is NaN.

    Returns
    -------
    GiStar
        z-scores, pseudo p-values, FDR-adjusted p-values and classes per grid.
    """
    transform = _check_transform(transform)
    permutations = _check_permutations(permutations)
    given = _values(values, weights, non_negative=not signed)
    y = given - given.min() if signed and len(given) else given
    n = weights.n
    card = weights.cardinalities.astype(float)
    neighbour_sum = weights.matrix @ y
    lag = neighbour_sum + y
    card_star = card + 1.0
    if transform == "R":
        lag, card_star = lag / card_star, np.ones(n)
    g, z = _gi_z(lag, card_star, n, y.sum(), (y * y).sum())
    islands = weights.island_mask
    g, z = np.where(islands, np.nan, g), np.where(islands, np.nan, z)
    p_norm = _norm_two_sided(z)
    p_sim = np.full(n, np.nan)
    if permutations and n > 1:
        p_sim = _conditional_p(y, neighbour_sum, weights, permutations=permutations, seed=seed)
        p_sim = np.where(islands | ~np.isfinite(z), np.nan, p_sim)
    p_fdr = fdr_bh(p_sim if permutations else p_norm)
    return GiStar(
        ids=weights.ids,
        y=given,
        g=np.full(n, np.nan) if signed else g,
        z=z,
        p_norm=p_norm,
        p_sim=p_sim,
        p_fdr=p_fdr,
        classes=_classes(z, p_fdr),
        islands=weights.islands,
        transform=transform,
        permutations=permutations,
        seed=seed,
    )


# --------------------------------------------------------------------------- local Moran


@dataclass(frozen=True, eq=False)
class LocalMoran:
    """Local Moran's I clusters and outliers (see :func:`local_moran`).

    Attributes
    ----------
    ids
        Grid codes, in the order of the weights.
    y
        The values analysed (a copy).
    i
        Local Moran's I; equal to ``esda.Moran_Local(y, w, transformation=...).Is``.
    q
        Quadrant as esda numbers it: 1 HH, 2 LH, 3 LL, 4 HL (0 for islands); equal to
        esda's ``q`` (value above the mean: ``z > 0``; lag above: ``lag > 0``).
    quadrant
        The quadrant as a code ``HH``/``LH``/``LL``/``HL`` ("" for islands).
    p_sim
        Two-sided conditional-permutation pseudo p-values (NaN when ``permutations == 0``).
    p_fdr
        Benjamini-Hochberg adjusted ``p_sim``.
    cluster
        ``quadrant`` where ``p_fdr <= alpha``, else ``not_significant``.
    islands
        Codes of grids without neighbours (NaN statistics, ``not_significant``).
    transform, permutations, seed, alpha
        The options used.
    """

    ids: NDArray[np.str_]
    y: FloatArray
    i: FloatArray
    q: NDArray[np.int64]
    quadrant: NDArray[np.str_]
    p_sim: FloatArray
    p_fdr: FloatArray
    cluster: NDArray[np.str_]
    islands: tuple[str, ...]
    transform: str
    permutations: int
    seed: int | None
    alpha: float

    def to_frame(self) -> pd.DataFrame:
        """One row per grid: ``grid_code``, ``value``, ``moran_i``, ``quadrant``, ``p_sim``,
        ``p_fdr``, ``cluster``."""
        return pd.DataFrame(
            {
                "grid_code": self.ids,
                "value": self.y,
                "moran_i": self.i,
                "quadrant": self.quadrant,
                "p_sim": self.p_sim,
                "p_fdr": self.p_fdr,
                "cluster": self.cluster,
            }
        )


def local_moran(
    values: ArrayLike | pd.Series,
    weights: GridWeights,
    *,
    transform: Transform = "R",
    permutations: int = 9999,
    seed: int | None = 0,
    alpha: float = 0.05,
) -> LocalMoran:
    """Local Moran's I (Anselin 1995) with conditional permutation and FDR.

    ``I_i = (n - 1) z_i lag_i / sum(z^2)`` with ``z = (y - mean) / std`` (population std) and
    ``lag_i = sum_j w_ij z_j`` (no self-weight), as esda computes it.

    Parameters
    ----------
    values
        One value per grid (array in the order of ``weights.ids`` or a Series by grid code).
    weights
        Binary weights from :func:`grid_weights`. Not modified.
    transform
        ``"R"`` (row-standardised, the default, as esda) or ``"B"`` (binary).
    permutations
        Conditional permutations for ``p_sim`` (9999 by default, as for :func:`gi_star`;
        0: no p-values, every grid not significant).
    seed
        Seed of ``numpy.random.default_rng``.
    alpha
        FDR level for calling a grid a cluster or outlier (0.05 by default).

    Returns
    -------
    LocalMoran
        Local I, quadrants, p-values and cluster types (HH / LL / HL / LH).
    """
    transform = _check_transform(transform)
    permutations = _check_permutations(permutations)
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must lie between 0 and 1, got {alpha}")
    y = _values(values, weights)
    n = weights.n
    card = weights.cardinalities.astype(float)
    islands = weights.island_mask
    with np.errstate(divide="ignore", invalid="ignore"):
        z = (y - y.mean()) / y.std()
        neighbour_sum = weights.matrix @ y
        lag = weights.matrix @ z
        if transform == "R":
            lag = lag / card
        moran = (n - 1) * z * lag / (z * z).sum()
    lag = np.where(islands, np.nan, lag)
    moran = np.where(islands, np.nan, moran)
    high, high_lag = z > 0, lag > 0
    q = np.where(high_lag, np.where(high, 1, 2), np.where(high, 4, 3)).astype(np.int64)
    q[islands | ~np.isfinite(moran)] = 0
    quadrant = np.array(["", *CLUSTER_CODES], dtype="<U2")[q]
    p_sim = np.full(n, np.nan)
    if permutations and n > 1 and np.isfinite(z).all():
        p_sim = _conditional_p(y, neighbour_sum, weights, permutations=permutations, seed=seed)
        # z_i = 0 gives I_i = 0 in every permutation: nothing to test.
        p_sim = np.where(z == 0, 1.0, p_sim)
        p_sim = np.where(islands, np.nan, p_sim)
    p_fdr = fdr_bh(p_sim)
    significant = np.isfinite(p_fdr) & (p_fdr <= alpha) & (q > 0)
    cluster = np.where(significant, quadrant, "not_significant").astype("<U15")
    return LocalMoran(
        ids=weights.ids,
        y=y,
        i=moran,
        q=q,
        quadrant=quadrant,
        p_sim=p_sim,
        p_fdr=p_fdr,
        cluster=cluster,
        islands=weights.islands,
        transform=transform,
        permutations=permutations,
        seed=seed,
        alpha=alpha,
    )
