"""The scan statistic on the 热点研判 page: Kulldorff's most likely clusters of the window's
issues against the counts expected for the residents — a second opinion next to Gi*."""

from __future__ import annotations

from collections.abc import Mapping

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from numpy.typing import ArrayLike

from geo.core.i18n import text, translator
from geo.grids.aggregate import IssueFilter
from geo.hotspots.excess import expected_counts
from geo.hotspots.local import grid_counts
from geo.hotspots.scan import ScanResult, scan
from geo.store.county import County

#: Columns of :func:`scan_table`.
SCAN_COLUMNS = ("cluster", "grids", "n_grids", "count", "expected", "ratio", "scan_p")
#: Clusters shown on the map at most (the rest are listed only).
MAP_CLUSTERS = 5


def county_scan(
    data: County, flt: IssueFilter, *, replications: int = 999, seed: int = 0
) -> ScanResult:
    """The scan over every grid of ``data`` for the window and selection of ``flt`` (town
    and village ignored, as for Gi*: a cluster may cross a boundary)."""
    window = IssueFilter(flt.start, flt.end, flt.categories, flt.sources)
    now = grid_counts(data.issues, data.grids, flt=window)
    counts = now["count"].to_numpy(dtype=float)
    residents = pd.to_numeric(now["residents"], errors="coerce").fillna(0).clip(lower=0)
    expected = expected_counts(counts, residents.to_numpy(dtype=float))
    return grid_scan(now["grid_code"], counts, expected, data.grids, replications=replications,
                     seed=seed)  # fmt: skip


def grid_scan(
    codes: ArrayLike,
    counts: ArrayLike,
    expected: ArrayLike,
    grids: gpd.GeoDataFrame,
    *,
    replications: int = 999,
    seed: int | None = 0,
) -> ScanResult:
    """:func:`geo.hotspots.scan.scan` of the grids ``codes`` (observed ``counts`` and
    ``expected``, in that order), each zone grown from the grids' representative points in
    ``grids`` (a metric CRS; ``grid_code`` column) — what the page and the CLI both run."""
    names = pd.Index(np.asarray(codes).astype(str))
    order = pd.Index(grids["grid_code"].astype(str)).get_indexer(names)
    if (order < 0).any():
        raise ValueError(f"{int((order < 0).sum())} grid codes are not in the grid layer")
    points = shapely.point_on_surface(grids.geometry.to_numpy()[order])
    return scan(counts, expected, shapely.get_coordinates(points), names,
                replications=replications, seed=seed)  # fmt: skip


def scan_classes(result: ScanResult, grid_codes: pd.Series, *, alpha: float = 0.05) -> pd.Series:
    """Each grid's map class: ``cluster_<k>`` for the grids of the k-th significant cluster
    (``k <= MAP_CLUSTERS``), ``none`` for the rest; indexed like ``grid_codes``."""
    classes = pd.Series("none", index=grid_codes.index, dtype=object)
    significant = [c for c in result.clusters if c.p_value <= alpha][:MAP_CLUSTERS]
    for rank, cluster in enumerate(significant, start=1):
        classes[grid_codes.astype(str).isin(cluster.grids).to_numpy()] = f"cluster_{rank}"
    return classes


def scan_labels(result: ScanResult, lang: str, *, alpha: float = 0.05) -> dict[str, str]:
    """The legend words of :func:`scan_classes`' classes in ``lang``."""
    tr = translator(lang)
    significant = [c for c in result.clusters if c.p_value <= alpha][:MAP_CLUSTERS]
    labels = {
        f"cluster_{k}": tr("scan_cluster_label").format(k=k, ratio=c.ratio, p=c.p_value)
        for k, c in enumerate(significant, start=1)
    }
    return labels | {"none": tr("scan_none")}


def scan_table(
    result: ScanResult,
    grid_names: Mapping[str, str],
    lang: str,
    *,
    alpha: float = 0.05,
    shown: int = 4,
) -> pd.DataFrame:
    """The significant clusters, most likely first: the columns of :data:`SCAN_COLUMNS`
    (``grids`` names the first ``shown`` grids by name, then "…")."""
    sep = text("sep_list").pick(lang)
    rows = []
    for rank, c in enumerate((c for c in result.clusters if c.p_value <= alpha), start=1):
        named = [grid_names.get(g, g) for g in c.grids[:shown]]
        rows.append({"cluster": rank, "grids": sep.join(named) + ("…" if len(c.grids) > shown
                     else ""), "n_grids": len(c.grids), "count": c.observed,
                     "expected": round(c.expected, 1), "ratio": round(c.ratio, 1),
                     "scan_p": c.p_value})  # fmt: skip
    return pd.DataFrame(rows, columns=list(SCAN_COLUMNS))


#: Colours of the map's clusters (most likely first) and of the other grids.
SCAN_COLORS = dict(
    zip(
        [*(f"cluster_{k}" for k in range(1, MAP_CLUSTERS + 1)), "none"],
        ["#b2182b", "#e66101", "#fdb863", "#8073ac", "#5e3c99", "#f0f0f0"],
        strict=True,
    )
)
