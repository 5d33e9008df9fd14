"""Checks of a draft grid layer before publishing: errors that block it, warnings to weigh.

:func:`check_draft` runs :func:`geo.grids.validate.validate_grids` (geometry, codes, workers,
overlaps, gaps against the villages, grids spanning or lying in another village, household and
resident limits) and adds what a redrawn layer also needs:

errors
    ``not_contiguous`` (a grid in several separate parts), ``malformed_code`` (not 15 digits,
    not starting with its ``village_code`` or sequence ``000``; replaces validate's
    ``code_not_hierarchical`` warning for that grid), ``outside_villages`` (part of a grid
    lies outside every village).
warnings
    ``edges_not_matched`` (shared edges whose vertices differ: slivers under the overlap
    tolerance), ``balance_households`` / ``balance_workload`` (above :data:`BALANCE_HIGH` or
    below :data:`BALANCE_LOW` times the village median), ``balance_area`` (above
    :data:`AREA_BALANCE_HIGH` or below :data:`AREA_BALANCE_LOW` times the median: rural grids
    differ in area by design, so the band is wider), ``compactness``
    (:func:`geo.planning.metrics.polsby_popper` below :data:`COMPACTNESS_MIN`).

Households and residents are re-counted from household points when they are given, since a
draft's columns may be stale; the issues received in the
:data:`~geo.planning.metrics.WORKLOAD_WINDOW_DAYS` up to ``as_of`` are located by their point in
the draft's grids, and the workload is :func:`geo.planning.metrics.workload` (households + issue
weight × those issues): the sum the rebalancer equalises.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.geometry.base import BaseGeometry

from geo.core.errors import InputProblems, Problem
from geo.core.i18n import Text
from geo.core.settings import Settings, get_settings
from geo.core.validate import crs_problem, same_crs_problem
from geo.grids.validate import ERROR, WARNING, GridReport, validate_grids
from geo.planning.codes import code_problem
from geo.planning.metrics import issue_window, polsby_popper, workload

#: A grid above this many times its village's median households (or workload) is flagged.
#: Proposed setting: ``Settings.balance_high_ratio``.
BALANCE_HIGH = 2.0
#: A grid below this many times its village's median households (or workload) is flagged.
#: Proposed setting: ``Settings.balance_low_ratio``.
BALANCE_LOW = 0.5
#: Area band (wider: in rural villages grids balanced by households differ in area by design;
#: on the demo county 2×/0.5× flags 1,395 of 3,689 grids). Proposed: ``area_balance_ratios``.
AREA_BALANCE_HIGH = 4.0
#: Lower end of the area band, see :data:`AREA_BALANCE_HIGH`.
AREA_BALANCE_LOW = 0.25
#: Balance is judged only in villages with at least this many grids (a median of two grids
#: says little). Proposed setting: ``Settings.balance_min_grids``.
BALANCE_MIN_GRIDS = 3
#: Polsby–Popper compactness 4πA/P² below this flags an elongated or ragged grid (a circle is
#: 1, a square 0.785, a 1×10 strip 0.26). Proposed setting: ``Settings.compactness_min``.
COMPACTNESS_MIN = 0.2

_GAP = re.compile(r"^gap@(-?\d+),(-?\d+)$")

#: Metric → (Chinese label, English label, number format, high ratio, low ratio).
_BALANCE = {
    "households": ("户数", "households", "{:,.0f}", BALANCE_HIGH, BALANCE_LOW),
    "workload": (
        "工作量（户数+近12个月诉求）",
        "workload (households + issues in the last 12 months)",
        "{:,.0f}",
        BALANCE_HIGH,
        BALANCE_LOW,
    ),
    "area_km2": ("面积", "area", "{:,.0f} m²", AREA_BALANCE_HIGH, AREA_BALANCE_LOW),
}


@dataclass
class DraftReport(GridReport):
    """The outcome of :func:`check_draft`: a :class:`geo.grids.validate.GridReport` (``problems``,
    ``errors``, ``warnings``, ``n_grids``) with what a redrawn layer is judged by.

    Attributes
    ----------
    problems
        Every problem, errors first, then by village and grid.
    n_grids
        Number of grids in the draft.
    metrics
        :func:`grid_metrics` of the draft (one row per grid, in the draft's order).
    as_of
        End of the workload window (None without issues).
    villages_of
        Village code of each problem's feature (grid code or ``gap@x,y``), when known.
    """

    metrics: pd.DataFrame = field(default_factory=pd.DataFrame)
    as_of: pd.Timestamp | None = None
    villages_of: dict[str, str] = field(default_factory=dict)

    @property
    def publishable(self) -> bool:
        """True when the draft has no errors (warnings allowed)."""
        return self.ok

    def to_frame(self) -> pd.DataFrame:
        """One row per problem: grid_code, village_code, severity, code, message, hint.

        ``message`` and ``hint`` are :class:`~geo.core.i18n.Text` (both languages).
        """
        cols = ["grid_code", "village_code", "severity", "code", "message", "hint"]
        rows = [
            {
                "grid_code": p.feature,
                "village_code": self.villages_of.get(p.feature, ""),
                "severity": p.severity,
                "code": p.code,
                "message": p.message,
                "hint": p.hint,
            }
            for p in self.problems
        ]
        return pd.DataFrame(rows, columns=cols)

    def summary(self) -> str:
        """A few lines for people, each in Chinese and English: verdict, counts by kind, the
        rules applied."""
        n_err, n_warn = len(self.errors), len(self.warnings)
        n_vill = self.metrics["village_code"].nunique() if len(self.metrics) else 0
        verdict = (
            Text("可发布", "publishable")
            if self.publishable
            else Text("不可发布", "not publishable")
        )
        lines = [
            str(
                Text(
                    f"草案{verdict.zh}：{n_err} 个错误，{n_warn} 个警告（{self.n_grids:,} "
                    f"个网格，{n_vill} 个村(居)）",
                    f"draft {verdict.en}: {n_err} error(s), {n_warn} warning(s) ({self.n_grids:,} "
                    f"grids in {n_vill} villages)",
                )
            )
        ]
        for label, items in (
            (Text("错误", "errors"), self.errors),
            (Text("警告", "warnings"), self.warnings),
        ):
            if items:
                counts = Counter(p.code for p in items)
                lines.append(f"  {label}: " + ", ".join(f"{k} ×{v}" for k, v in counts.items()))
        rules = Text(
            f"规则：不均衡 = 超过本村(居)中位数 {BALANCE_HIGH:g} 倍或低于 {BALANCE_LOW:g} "
            f"倍（面积 {AREA_BALANCE_HIGH:g} / {AREA_BALANCE_LOW:g}），村(居)至少 "
            f"{BALANCE_MIN_GRIDS} 个网格；紧凑度 Polsby–Popper < {COMPACTNESS_MIN:g}",
            f"rules: out of balance = above {BALANCE_HIGH:g}× or below {BALANCE_LOW:g}× the "
            f"village median (area {AREA_BALANCE_HIGH:g}× / {AREA_BALANCE_LOW:g}×), villages of ≥ "
            f"{BALANCE_MIN_GRIDS} grids; compactness Polsby–Popper < {COMPACTNESS_MIN:g}",
        )
        lines.append(f"  {rules}")
        return "\n".join(lines)


def check_draft(
    grids: gpd.GeoDataFrame,
    *,
    villages: gpd.GeoDataFrame,
    households: gpd.GeoDataFrame | None = None,
    issues: gpd.GeoDataFrame | None = None,
    as_of: pd.Timestamp | str | None = None,
    settings: Settings | None = None,
) -> DraftReport:
    """Check a draft grid layer before it is published.

    Parameters
    ----------
    grids
        The draft grids (EPSG:4549 metres) with ``grid_code``, ``village_code``,
        ``town_code``, ``grid_worker``, ``households``, ``residents``, ``area_type``.
    villages
        Village polygons with ``village_code`` (``kind`` 村/社区 optional), same CRS. Gaps
        are measured against the villages the draft's grids name.
    households
        Household points (``residents``; ``grid_code`` speeds up locating them); when given,
        households and residents are re-counted in the draft's grids and the size rules are
        checked on those counts.
    issues
        Issue points with ``received_at`` (``grid_code`` speeds up locating them); those of
        the last 12 months weigh in each grid's workload (:func:`grid_metrics`).
    as_of
        End of the workload window (default: the newest ``received_at``).
    settings
        Size rules and tolerances (default :func:`geo.core.settings.get_settings`).

    Returns
    -------
    DraftReport
        Errors and warnings per grid, the metrics table, ``publishable``.
    """
    cfg = settings or get_settings()
    _check_inputs(grids, villages, households, issues)
    geoms = grids.geometry.to_numpy()
    usable = _usable(geoms)
    metrics, end = _metrics(grids, usable, households, issues, as_of)
    checked = grids
    if households is not None:
        checked = grids.assign(
            households=metrics["households"].to_numpy(), residents=metrics["residents"].to_numpy()
        )
    vcodes = villages["village_code"].astype(str).to_numpy()
    vgeoms = villages.geometry.to_numpy()
    named = np.isin(vcodes, metrics["village_code"].to_numpy())
    outline = _union(vgeoms[named]) if named.any() else None
    base = validate_grids(checked, outline=outline, villages=villages, settings=cfg)

    labels = _labels(grids)
    extra: list[Problem] = []
    extra += _contiguity(geoms, usable, labels)
    malformed = _code_format(grids, labels)
    extra += malformed
    extra += _outside(geoms, usable, labels, metrics, vcodes, vgeoms, cfg)
    flagged = {p.feature for p in base.problems if p.code == "overlap"}
    extra += _unmatched_edges(geoms, usable, labels, flagged)
    extra += _balance(metrics, labels)
    extra += _compactness(metrics, labels)

    escalated = {p.feature for p in malformed}
    problems = [
        p
        for p in base.problems
        if not (p.code == "code_not_hierarchical" and p.feature in escalated)
    ] + extra
    villages_of = dict(zip(labels, metrics["village_code"], strict=True))
    villages_of.update(_gap_villages(problems, vcodes, vgeoms))
    order = {ERROR: 0, WARNING: 1}
    problems.sort(
        key=lambda p: (order[p.severity], villages_of.get(p.feature, ""), p.feature, p.code)
    )
    return DraftReport(problems, len(grids), metrics, end, villages_of)


def grid_metrics(
    grids: gpd.GeoDataFrame,
    *,
    households: gpd.GeoDataFrame | None = None,
    issues: gpd.GeoDataFrame | None = None,
    as_of: pd.Timestamp | str | None = None,
) -> pd.DataFrame:
    """The planner's table: size, workload and shape of every grid of a (draft) layer.

    Parameters
    ----------
    grids
        Grids in EPSG:4549 metres with ``grid_code`` and ``village_code``.
    households
        Household points with ``residents``; when given, ``households`` and ``residents``
        are counted in each grid (otherwise the grid's own columns are used).
    issues
        Issue points with ``received_at``; ``issues_12m`` counts those received in the
        window of :func:`geo.planning.metrics.issue_window` (365 days up to ``as_of``) in each
        grid (NaN without issues).
    as_of
        End of the workload window (default: the newest ``received_at``).

    Returns
    -------
    pandas.DataFrame
        One row per grid in the layer's order: ``grid_code``, ``village_code``,
        ``households``, ``residents``, ``issues_12m``, ``workload``
        (:func:`geo.planning.metrics.workload`: households + issue weight × ``issues_12m``;
        NaN without issues), ``area_km2``, ``polsby_popper``
        (:func:`geo.planning.metrics.polsby_popper`; NaN for an unusable geometry),
        ``parts``, and ``households_vs_median``, ``workload_vs_median``,
        ``area_vs_median`` (ratio to the median of the grid's village).
    """
    _check_inputs(grids, None, households, issues)
    return _metrics(grids, _usable(grids.geometry.to_numpy()), households, issues, as_of)[0]


# --------------------------------------------------------------------------- metrics


def _metrics(
    grids: gpd.GeoDataFrame,
    usable: np.ndarray,
    households: gpd.GeoDataFrame | None,
    issues: gpd.GeoDataFrame | None,
    as_of: pd.Timestamp | str | None,
) -> tuple[pd.DataFrame, pd.Timestamp | None]:
    geoms = grids.geometry.to_numpy()
    codes = _column(grids, "grid_code")
    frame = pd.DataFrame(
        {"grid_code": codes, "village_code": _column(grids, "village_code")},
        index=pd.RangeIndex(len(grids)),
    )
    if households is not None:
        xy, guess, rows = _points(households, grids.crs, codes)
        at = _locate(geoms, usable, xy, guess)
        ok = at >= 0
        frame["households"] = np.bincount(at[ok], minlength=len(grids))
        if "residents" in households.columns:
            res = np.nan_to_num(_numbers(households, "residents")[rows])
            summed = np.bincount(at[ok], weights=res[ok], minlength=len(grids))
            frame["residents"] = summed.round().astype(np.int64)
        else:
            frame["residents"] = _numbers(grids, "residents")
    else:
        for col in ("households", "residents"):
            frame[col] = _numbers(grids, col)
    end: pd.Timestamp | None = None
    if issues is not None:
        recent, end = issue_window(issues["received_at"], as_of)
        xy, guess, _ = _points(issues, grids.crs, codes, recent)
        at = _locate(geoms, usable, xy, guess)
        frame["issues_12m"] = np.bincount(at[at >= 0], minlength=len(grids)).astype(float)
    else:
        frame["issues_12m"] = np.nan
    frame["workload"] = workload(frame["households"], frame["issues_12m"])
    frame["area_km2"] = np.where(usable, shapely.area(geoms), np.nan) / 1e6
    frame["polsby_popper"] = np.where(usable, polsby_popper(geoms), np.nan)
    frame["parts"] = np.where(usable, shapely.get_num_geometries(geoms), 0)
    for col in ("households", "workload", "area_km2"):
        median = _village_median(frame, col)
        with np.errstate(divide="ignore", invalid="ignore"):
            frame[f"{col.removesuffix('_km2')}_vs_median"] = np.where(
                median > 0, frame[col] / median, np.nan
            )
    return frame, end


def _village_median(metrics: pd.DataFrame, col: str) -> np.ndarray:
    """Per grid, the median of ``col`` over the grids of its village (what balance compares)."""
    median = metrics.groupby("village_code", sort=False)[col].transform("median")
    return median.to_numpy(dtype=float)


def _points(
    frame: gpd.GeoDataFrame, crs: object, codes: np.ndarray, keep: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Coordinates (in ``crs``), the row of the grid each point names, and the point's row.

    Missing and empty points are left out. The grid row comes from the point's own
    ``grid_code`` (-1 when it has none or names a grid the draft does not have); it is only
    a first guess for :func:`_locate`.
    """
    arr = frame.geometry.to_numpy()
    if frame.crs is not None and crs is not None and frame.crs != crs:
        arr = frame.geometry.to_crs(crs).to_numpy()
    rows = np.arange(len(frame))
    if keep is not None:
        arr, rows = arr[keep], rows[keep]
    xy, which = shapely.get_coordinates(arr, return_index=True)
    rows = rows[which]
    if "grid_code" not in frame.columns:
        return xy, np.full(len(xy), -1, dtype=np.int64), rows
    fac, uniq = pd.factorize(frame["grid_code"])  # native on Arrow strings: no Python objects
    first: dict[str, int] = {}
    for row, code in enumerate(codes.tolist()):
        first.setdefault(code, row)
    to_row = np.array([first.get(str(u), -1) for u in uniq] + [-1], dtype=np.int64)
    return xy, to_row[np.asarray(fac)[rows]], rows


def _locate(geoms: np.ndarray, usable: np.ndarray, xy: np.ndarray, guess: np.ndarray) -> np.ndarray:
    """Row of the grid holding each point, or -1.

    A point is first tested against the grid it names (``guess``: the published assignment);
    only points no longer in that grid (split, moved, renumbered) are looked up in an STRtree
    of the draft. The grids get prepared (a cache GEOS keeps on the geometry objects).
    """
    at = np.full(len(xy), -1, dtype=np.int64)
    if len(xy) == 0:
        return at
    shapely.prepare(geoms[usable])
    guess = np.where((guess >= 0) & usable[np.maximum(guess, 0)], guess, -1)
    tried = np.flatnonzero(guess >= 0)
    tried = tried[np.argsort(guess[tried], kind="stable")]  # one grid after another: faster
    if len(tried):
        hit = shapely.intersects_xy(geoms[guess[tried]], xy[tried, 0], xy[tried, 1])
        at[tried[hit]] = guess[tried[hit]]
    rest = np.flatnonzero(at < 0)
    if len(rest):
        rows = np.flatnonzero(usable)
        pt, gi = shapely.STRtree(geoms[rows]).query(
            shapely.points(xy[rest]), predicate="intersects"
        )
        found = np.full(len(rest), len(geoms), dtype=np.int64)
        np.minimum.at(found, pt, rows[gi])
        found[found == len(geoms)] = -1
        at[rest] = found
    return at


def _numbers(frame: pd.DataFrame, col: str) -> np.ndarray:
    """A column as floats (NaN where missing or not a number, all NaN without the column)."""
    if col not in frame.columns:
        return np.full(len(frame), np.nan)
    return pd.to_numeric(frame[col], errors="coerce").to_numpy(dtype=float)


# --------------------------------------------------------------------------- checks


def _contiguity(geoms: np.ndarray, usable: np.ndarray, labels: np.ndarray) -> list[Problem]:
    out: list[Problem] = []
    parts = np.where(usable, shapely.get_num_geometries(geoms), 1)
    for i in np.flatnonzero(parts > 1):
        areas = sorted(shapely.area(shapely.get_parts(geoms[i])), reverse=True)
        listing = ", ".join(f"{a:,.0f}" for a in areas[:5])
        out.append(
            Problem(
                "not_contiguous",
                ERROR,
                str(labels[i]),
                Text(
                    f"网格由 {parts[i]} 块互不相连的部分组成（{listing} m²）",
                    f"the grid is in {parts[i]} separate parts ({listing} m²)",
                ),
                Text(
                    "把飞地划给相邻网格或单独成格",
                    "give the detached part to the neighbouring grid (redraw_boundary) or make "
                    "it a grid of its own",
                ),
            )
        )
    return out


def _code_format(grids: gpd.GeoDataFrame, labels: np.ndarray) -> list[Problem]:
    if "grid_code" not in grids.columns:
        return []
    raw = grids["grid_code"]
    village = _column(grids, "village_code")
    out: list[Problem] = []
    for i, (value, v) in enumerate(zip(raw.to_numpy(dtype=object), village, strict=True)):
        if not isinstance(value, str) or not value.strip():
            continue  # validate_grids reports missing codes
        why = code_problem(value, v)
        if why:
            out.append(
                Problem(
                    "malformed_code",
                    ERROR,
                    str(labels[i]),
                    Text(f"网格编码 {value} {why.zh}", f"grid_code {value} {why.en}"),
                    Text(
                        "编码为村(居)编码12位+序号3位",
                        "use village_code (12 digits) + a 3-digit sequence; "
                        "geo.planning.edit.renumber gives a village clean codes",
                    ),
                )
            )
    return out


def _outside(
    geoms: np.ndarray,
    usable: np.ndarray,
    labels: np.ndarray,
    metrics: pd.DataFrame,
    vcodes: np.ndarray,
    vgeoms: np.ndarray,
    cfg: Settings,
) -> list[Problem]:
    """Grids with area outside every village (validate_grids checks only inside them)."""
    if not len(vgeoms):
        return []
    shapely.prepare(vgeoms)  # a cache GEOS keeps on the village geometries
    first: dict[str, int] = {}
    for i, v in enumerate(vcodes.tolist()):
        first.setdefault(v, i)
    own = np.array([first.get(v, -1) for v in metrics["village_code"].tolist()], dtype=np.int64)
    cand = np.flatnonzero(usable & (own >= 0))
    inside = np.zeros(len(geoms), dtype=bool)
    inside[cand] = shapely.covered_by(geoms[cand], vgeoms[own[cand]])
    todo = np.flatnonzero(usable & ~inside)
    if not len(todo):
        return []
    tree = shapely.STRtree(vgeoms)
    lost = [shapely.difference(geoms[i], _union(vgeoms[tree.query(geoms[i])])).area for i in todo]
    return [
        Problem(
            "outside_villages",
            ERROR,
            str(labels[i]),
            Text(
                f"{a:,.0f} m² 不在任何村(居)内",
                f"{a:,.0f} m² of the grid lie outside every village",
            ),
            Text(
                "把网格边界收回到村(居)界内",
                "pull the boundary back inside the village (or extend the villages layer)",
            ),
        )
        for i, a in zip(todo, lost, strict=True)
        if a > cfg.boundary_tolerance_m2
    ]


def _unmatched_edges(
    geoms: np.ndarray, usable: np.ndarray, labels: np.ndarray, flagged: set[str]
) -> list[Problem]:
    rows = np.flatnonzero(usable)
    if len(rows) < 2 or bool(shapely.coverage_is_valid(geoms[rows])):
        return []
    edges = shapely.coverage_invalid_edges(geoms[rows])
    length = shapely.length(edges)
    return [
        Problem(
            "edges_not_matched",
            WARNING,
            str(labels[i]),
            Text(
                f"与相邻网格的公共边不完全重合（{m:,.2f} m）",
                f"{m:,.2f} m of shared edges do not match the neighbour's vertices (slivers under "
                "the overlap tolerance)",
            ),
            Text(
                "吸附到相邻网格边界",
                "snap to the neighbour's boundary (QGIS: Snap geometries to layer, 0.01 m) or "
                "redraw with geo.planning.edit, which keeps edges exact",
            ),
        )
        for i, m in zip(rows, length, strict=True)
        if m > 0 and str(labels[i]) not in flagged
    ]


def _balance(metrics: pd.DataFrame, labels: np.ndarray) -> list[Problem]:
    size = metrics.groupby("village_code")["grid_code"].transform("size").to_numpy()
    out: list[Problem] = []
    for col, (zh, en, fmt, hi, lo) in _BALANCE.items():
        ratio = metrics[f"{col.removesuffix('_km2')}_vs_median"].to_numpy(dtype=float)
        scale = 1e6 if col == "area_km2" else 1  # km² in the table, m² in the message
        value = metrics[col].to_numpy(dtype=float) * scale
        medians = _village_median(metrics, col) * scale
        with np.errstate(invalid="ignore"):
            flag = (size >= BALANCE_MIN_GRIDS) & ((ratio > hi) | (ratio < lo))
        for i in np.flatnonzero(flag):
            r, median = ratio[i], medians[i]
            high = r > hi
            rule = f"{hi:g}× / {lo:g}×"
            out.append(
                Problem(
                    f"balance_{col.removesuffix('_km2')}",
                    WARNING,
                    str(labels[i]),
                    Text(
                        f"{zh} {fmt.format(value[i])}，为本村(居)中位数 {fmt.format(median)} 的 "
                        f"{r:.2f} 倍（规则 {rule}）",
                        f"{en} {fmt.format(value[i])} is {r:.2f}× the village median "
                        f"{fmt.format(median)} (rule: above {hi:g}× or below {lo:g}×)",
                    ),
                    Text(
                        "拆分网格或把部分区域划给邻格",
                        "split the grid (split_grid) or give area to a lighter neighbour "
                        "(redraw_boundary)",
                    )
                    if high
                    else (
                        Text(
                            "与邻格合并或从邻格划入区域",
                            "merge with a neighbour (merge_grids) or take area from a heavier "
                            "one (redraw_boundary)",
                        )
                    ),
                )
            )
    return out


def _compactness(metrics: pd.DataFrame, labels: np.ndarray) -> list[Problem]:
    pp = metrics["polsby_popper"].to_numpy(dtype=float)
    with np.errstate(invalid="ignore"):
        flag = pp < COMPACTNESS_MIN
    return [
        Problem(
            "compactness",
            WARNING,
            str(labels[i]),
            Text(
                f"形状狭长或曲折，紧凑度 {pp[i]:.2f} < {COMPACTNESS_MIN:g}",
                f"elongated or ragged shape: Polsby–Popper 4πA/P² = {pp[i]:.2f}, below "
                f"{COMPACTNESS_MIN:g}",
            ),
            Text(
                "把狭长部分划给邻格，或沿道路重画边界",
                "give the narrow arm to a neighbour (redraw_boundary) or redraw the boundary "
                "along roads",
            ),
        )
        for i in np.flatnonzero(flag)
    ]


# --------------------------------------------------------------------------- helpers


def _check_inputs(
    grids: gpd.GeoDataFrame,
    villages: gpd.GeoDataFrame | None,
    households: gpd.GeoDataFrame | None,
    issues: gpd.GeoDataFrame | None,
) -> None:
    """Collect every problem of the inputs and raise them together."""
    problems: list[str] = []
    if problem := crs_problem(grids, "grids", allow_missing=True):
        problems.append(problem)
    if villages is not None:
        if "village_code" not in villages.columns:
            problems.append("villages has no village_code column; pass the villages layer")
        if problem := same_crs_problem([("grids", grids), ("villages", villages)]):
            problems.append(problem)
    if issues is not None and "received_at" not in issues.columns:
        problems.append("issues has no received_at column (needed for the 12-month workload)")
    for name, points in (("households", households), ("issues", issues)):
        if points is not None and points.crs is None and grids.crs is not None:
            problems.append(
                f"{name} has no CRS; set it to the grids' CRS: {name}.set_crs(grids.crs)"
            )
    if problems:
        raise InputProblems("check the draft", problems)


def _union(geoms: np.ndarray) -> BaseGeometry:
    """Union of polygons; the fast edge-matching union when they form a clean coverage."""
    if bool(shapely.coverage_is_valid(geoms)):
        return shapely.coverage_union_all(geoms)
    return shapely.union_all(geoms)


def _column(frame: pd.DataFrame, col: str) -> np.ndarray:
    if col not in frame.columns:
        return np.full(len(frame), "", dtype=object)
    return frame[col].fillna("").astype(str).to_numpy(dtype=object)


def _labels(grids: gpd.GeoDataFrame) -> np.ndarray:
    """Grid code, or ``row N`` when it is missing (as validate_grids labels features)."""
    codes = _column(grids, "grid_code")
    return np.array([c if c.strip() else f"row {i + 1}" for i, c in enumerate(codes)], dtype=object)


def _usable(geoms: np.ndarray) -> np.ndarray:
    """Non-empty, valid polygons (the rest are reported by validate_grids)."""
    ok = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    ok &= np.isin(shapely.get_type_id(geoms), [3, 6])
    ok[ok] = shapely.is_valid(geoms[ok])
    return ok


def _gap_villages(
    problems: list[Problem], vcodes: np.ndarray, vgeoms: np.ndarray
) -> dict[str, str]:
    """Village of each ``gap@x,y`` feature (the village holding that point)."""
    gaps = {p.feature for p in problems if p.code == "gap"}
    out: dict[str, str] = {}
    if not gaps or not len(vgeoms):
        return out
    tree = shapely.STRtree(vgeoms)
    for feature in gaps:
        m = _GAP.match(feature)
        if not m:
            continue
        hit = tree.query(shapely.Point(float(m.group(1)), float(m.group(2))), "intersects")
        if len(hit):
            out[feature] = str(vcodes[int(hit.min())])
    return out
