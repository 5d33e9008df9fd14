"""A real county moves in: its grid layer (and whatever else it has) checked, completed and
written into an empty store in one write, with the county's code, name and metric CRS in meta.

Only the grid layer is required. What a county does not hand over is made from the grids and
said so in the report: villages and towns are dissolved from the grids by their codes (names
fall back to the codes), households are stood in for by a few points per grid carrying the
grid's ``residents`` (``population_approximate`` in meta), the outline is the union of the
grids, the county code is the grid codes' common six-digit prefix and the metric CRS the
CGCS2000 3-degree Gauss-Kruger zone of the county's longitude.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeAlias

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.geometry.base import BaseGeometry

from geo.access.audit import Audited, ensure_audit, record
from geo.core.crs import gauss_kruger_crs
from geo.core.errors import InputProblems, Problem
from geo.core.i18n import Text
from geo.core.settings import AREA_TYPE_OF_KIND, DISPLAY_CRS, use_county
from geo.core.validate import is_metric
from geo.grids.assign import GridIndex, assign_events, grid_index
from geo.grids.validate import ERROR, WARNING, ProblemLevels, validate_grids
from geo.planning.versions import VersionedGrids, first_version
from geo.store.base import APPEND_ONLY, Store, StoreError
from geo.store.readers import read_layer, read_outline

#: Tables a replacing onboarding keeps: the accounts and the audit trail.
KEPT = frozenset({"users"}) | APPEND_ONLY

__all__ = ["POINTS_PER_GRID", "OnboardReport", "onboard_county"]

#: Stand-in household points per grid when no household layer is given (fewer when a grid
#: has fewer residents); the grid's residents are split over them exactly.
POINTS_PER_GRID = 4

#: Digits of the county (6), town (9) and village (12) codes; grid codes have 15.
COUNTY_DIGITS, TOWN_DIGITS, VILLAGE_DIGITS, GRID_DIGITS = 6, 9, 12, 15

#: A layer given to :func:`onboard_county`: a frame (any CRS) or a file :func:`read_layer` reads.
LayerInput: TypeAlias = gpd.GeoDataFrame | str | Path

#: ``kind`` of a village by its grids' ``area_type`` (the inverse of AREA_TYPE_OF_KIND).
_KIND_OF_AREA_TYPE = {area: kind for kind, area in AREA_TYPE_OF_KIND.items()}


@dataclass
class OnboardReport(ProblemLevels):
    """What :func:`onboard_county` found and did.

    Attributes
    ----------
    county_code, county_name, metric_crs
        The county as written into the store's meta (given or inferred).
    grids, villages, towns, households, service_points
        Row counts of the layers (written, or that would have been).
    problems
        The grid check's problems and onboarding's own notes (code, severity, feature —
        the grid code where one grid is meant —, message, hint), errors first.
    written
        True when the store was written (no errors).
    version
        The grid version the store holds afterwards (1), None when nothing was written.
    replaced
        Layers the store held before and that this onboarding replaced or emptied
        (``--replace``).
    population_approximate
        True when residents were spread over stand-in household points.
    store_location
        Where the county was written.
    """

    county_code: str
    county_name: str
    metric_crs: str
    grids: int
    villages: int = 0
    towns: int = 0
    households: int = 0
    service_points: int = 0
    problems: list[Problem] = field(default_factory=list)
    written: bool = False
    version: int | None = None
    replaced: list[str] = field(default_factory=list)
    population_approximate: bool = False
    store_location: str = ""

    def as_dict(self) -> dict[str, Any]:
        """Plain values for JSON: ``errors`` and ``warnings`` as message strings (both
        languages), ``problems`` with each one's grid (``feature``), code and hint."""
        return {
            "county_code": self.county_code,
            "county_name": self.county_name,
            "metric_crs": self.metric_crs,
            "grids": self.grids,
            "villages": self.villages,
            "towns": self.towns,
            "households": self.households,
            "service_points": self.service_points,
            "population_approximate": self.population_approximate,
            "written": self.written,
            "version": self.version,
            "replaced": list(self.replaced),
            "store": self.store_location,
            "errors": [_line(p) for p in self.errors],
            "warnings": [_line(p) for p in self.warnings],
            "error_grids": sorted({p.feature for p in self.errors if _is_grid(p.feature)}),
            "warning_grids": sorted({p.feature for p in self.warnings if _is_grid(p.feature)}),
            "problems": [p.as_dict() for p in self.problems],
        }


def onboard_county(
    grids: LayerInput,
    *,
    store: Store,
    villages: LayerInput | None = None,
    towns: LayerInput | None = None,
    households: LayerInput | None = None,
    service_points: LayerInput | None = None,
    outline: LayerInput | BaseGeometry | None = None,
    county_code: str | None = None,
    county_name: str | None = None,
    county_name_en: str | None = None,
    metric_crs: str | None = None,
    columns: str | Mapping[str, str] | None = None,
    crs: str | None = None,
    coords: str = "wgs84",
    replace: bool = False,
    seed: int = 0,
    who: Audited = None,
) -> OnboardReport:
    """Check a county's layers and write them into ``store`` as its first grid version.

    Parameters
    ----------
    grids
        The grid layer (required): a GeoDataFrame in any CRS, or a file that
        :func:`geo.store.readers.read_layer` reads. Needs ``grid_code`` and ``grid_worker``;
        ``village_code`` and ``town_code`` are taken from the grid code (12 and 9 digits)
        when absent; ``residents`` and ``households`` are used when present.
    store
        The store to write into. One that already holds grids is refused unless ``replace``.
    villages, towns
        Their polygons (``village_code`` / ``town_code``, names, ``kind``); dissolved from
        the grids by code when absent, names then standing in as the codes (a warning).
    households
        Household points with ``residents``; when absent each grid's ``residents`` are
        spread over up to :data:`POINTS_PER_GRID` points inside it (per-grid sums exact) and
        the meta says ``population_approximate=true``.
    service_points
        Service points with ``service_type`` (optional).
    outline
        The county outline (a file, a frame or a geometry); default the union of the grids.
        Gaps between grids are measured against it.
    county_code, county_name, county_name_en
        The county; by default the grid codes' common six-digit prefix and, for the name,
        the grids' ``county_name`` column or else the code (a warning).
    metric_crs
        CRS to store and measure in (projected, metres); by default the CGCS2000 3-degree
        Gauss-Kruger zone of the grids' centre (:func:`geo.core.crs.gauss_kruger_crs`).
    columns, crs, coords
        How files are read (``--columns``, ``--crs`` for files without one, ``--coords``
        for lon/lat tables), as :func:`geo.store.readers.read_layer` takes them.
    replace
        Write over a store that holds a county already; every table of the old county is
        replaced or emptied (listed in :attr:`OnboardReport.replaced`).
    seed
        Seed of ``numpy.random.default_rng`` for the stand-in household points.
    who
        Who onboards (a signed-in :class:`~geo.access.principal.Principal` or an operator's
        name): an ``onboard`` audit row follows the write (in a transaction of its own: the
        county's tables are replaced whole, which the append-only audit is not).

    Returns
    -------
    OnboardReport
        With ``written`` False and nothing written when the grid check (run first) found
        errors; otherwise the counts, the warnings and ``version`` 1.

    Raises
    ------
    geo.store.base.StoreError
        The store holds grids and ``replace`` is False, or it cannot be written.
    geo.core.errors.InputFileError
        A file cannot be read.
    geo.core.errors.InputProblems
        An argument cannot be used (a CRS in degrees, a frame without CRS, codes that name
        no single county).
    """
    present = store.layers()
    if "grids" in present and not replace:
        raise StoreError(
            Text(
                f"{store.location} 已有网格数据（图层 {sorted(present)}）；接入新县请用空的存储，"
                "或加 --replace 整体替换",
                f"{store.location} already holds grids (layers {sorted(present)}); onboard into "
                "an empty store, or add --replace to replace that county",
            )
        )
    reading: dict[str, Any] = {"columns": columns, "crs": crs, "coords": coords}
    problems: list[Problem] = []
    note = _noter(problems)

    if metric_crs is not None and not is_metric(metric_crs):
        raise InputProblems(
            "onboard the county",
            f"metric_crs {metric_crs!r} does not measure in metres; give a projected CRS such "
            "as a CGCS2000 3-degree Gauss-Kruger zone (EPSG:4534–4554), or leave it out",
        )
    first = _layer(grids, "grids", reading, to_crs=metric_crs)
    assert first is not None
    metric_crs = metric_crs or _zone_of(first)
    grid_layer = _complete_grid_codes(first.to_crs(metric_crs), note)
    code = _county_code(grid_layer, county_code, note)
    name = _county_name(grid_layer, code, county_name, note)

    village_layer = _layer(villages, "villages", reading, to_crs=metric_crs)
    town_layer = _layer(towns, "towns", reading, to_crs=metric_crs)
    home_layer = _layer(households, "households", reading, to_crs=metric_crs)
    service_layer = _layer(service_points, "service_points", reading, to_crs=metric_crs)
    county_outline = _outline(outline, reading, metric_crs)

    check = validate_grids(grid_layer, outline=county_outline, villages=village_layer)
    problems[:0] = check.problems
    report = OnboardReport(
        county_code=code,
        county_name=name,
        metric_crs=metric_crs,
        grids=len(grid_layer),
        store_location=store.location,
    )
    if not check.ok:
        report.problems = _sorted(problems)
        return report

    geoms = grid_layer.geometry.to_numpy()
    if county_outline is None:
        county_outline = shapely.coverage_union_all(geoms)
    # Placing points needs the grid index (about 1 s for 3,689 grids): only when given some.
    placing = home_layer is not None or service_layer is not None
    index = grid_index(grid_layer) if placing else None
    approximate = False
    if home_layer is None:
        home_layer = _stand_in_households(grid_layer, note, seed=seed)
        approximate = home_layer is not None
    else:
        home_layer, grid_layer = _placed_households(home_layer, grid_layer, index, note)
    if "residents" not in grid_layer.columns:
        grid_layer["residents"] = 0
    if "households" not in grid_layer.columns:
        grid_layer["households"] = 0
    village_layer = _villages(village_layer, grid_layer, note)
    town_layer = _towns(town_layer, grid_layer, village_layer, note)
    if service_layer is not None:
        service_layer = _with_codes(service_layer, grid_layer, index)

    meta = {
        "synthetic": "false",
        "county_code": code,
        "county_name": name,
        "metric_crs": metric_crs,
        "population_approximate": "true" if approximate else "false",
        "onboarded_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    }
    if county_name_en:
        meta["county_name_en"] = county_name_en
    layers: dict[str, pd.DataFrame] = {
        "towns": town_layer,
        "villages": village_layer,
        "grids": grid_layer,
        "outline": gpd.GeoDataFrame(
            {"county_code": [code]}, geometry=[county_outline], crs=metric_crs
        ),
        "meta": pd.DataFrame({"key": list(meta), "value": list(meta.values())}),
    }
    if home_layer is not None:
        layers["households"] = home_layer
    if service_layer is not None:
        layers["service_points"] = service_layer
    reader_columns = ["source_row", "coord_problem"]
    layers = {k: v.drop(columns=reader_columns, errors="ignore") for k, v in layers.items()}
    onboarded = Text("接入县域时的网格", "the grids the county was onboarded with")
    layers |= first_version(layers["grids"], pd.Timestamp.now("UTC"), reason=onboarded)
    # The old county's tables are emptied; accounts and the append-only audit stay.
    stale = [name for name in present if name not in layers and name not in KEPT]
    for table in stale:  # the old county's issues, versions, drafts…: emptied, columns kept
        layers[table] = _emptied(store.read(table), metric_crs)

    store.write(layers)  # one write, version 1 with it: all of it lands, or none
    if who is not None:
        ensure_audit(store)
        record(store, "onboard", who=who, obj=f"county:{code}",
               detail={"grids": len(grid_layer), "replaced": sorted(present)})  # fmt: skip
    use_county(meta)
    report.version = VersionedGrids(store).current_version()
    report.written = True
    report.replaced = sorted(present)
    report.villages, report.towns = len(village_layer), len(town_layer)
    report.households = 0 if home_layer is None else len(home_layer)
    report.service_points = 0 if service_layer is None else len(service_layer)
    report.population_approximate = approximate
    report.problems = _sorted(problems)
    return report


# --------------------------------------------------------------------------- reading


def _layer(
    given: LayerInput | None, kind: str, reading: Mapping[str, Any], *, to_crs: str | None
) -> gpd.GeoDataFrame | None:
    """A layer as a GeoDataFrame in ``to_crs`` (a copy: the caller's frame is not touched).

    With ``to_crs`` None a frame keeps its CRS and a file is read in EPSG:4326 (the zone is
    not known yet).
    """
    if given is None:
        return None
    if isinstance(given, gpd.GeoDataFrame):
        if given.crs is None:
            raise InputProblems(
                "onboard the county",
                f"{kind} has no CRS; set it (e.g. frame.set_crs('EPSG:4490')) before onboarding",
            )
        return given.to_crs(to_crs) if to_crs else given.copy()
    return read_layer(given, kind, to_crs=to_crs or DISPLAY_CRS, **reading)


def _outline(
    given: LayerInput | BaseGeometry | None, reading: Mapping[str, Any], crs: str
) -> BaseGeometry | None:
    if given is None or isinstance(given, BaseGeometry):
        return given
    if isinstance(given, gpd.GeoDataFrame):
        frame = _layer(given, "towns", reading, to_crs=crs)
        assert frame is not None
        return shapely.union_all(frame.geometry.to_numpy())
    return read_outline(given, crs=reading.get("crs"), to_crs=crs)


def _zone_of(grids: gpd.GeoDataFrame) -> str:
    """The Gauss-Kruger zone of the centre of the grids' extent."""
    usable = grids.geometry[grids.geometry.notna() & ~grids.geometry.is_empty]
    x0, y0, x1, y1 = usable.total_bounds
    centre = gpd.GeoSeries([shapely.Point((x0 + x1) / 2, (y0 + y1) / 2)], crs=grids.crs)
    try:
        return gauss_kruger_crs(float(centre.to_crs(DISPLAY_CRS).x.iloc[0]))
    except ValueError as exc:
        raise InputProblems("choose the county's metric CRS", str(exc)) from exc


# --------------------------------------------------------------------------- the county


#: ``note(code, feature, message, hint)``: record an onboarding warning.
_Note = Callable[[str, str, Text, Text], None]


def _noter(problems: list[Problem]) -> _Note:
    def note(code: str, feature: str, message: Text, hint: Text) -> None:
        problems.append(Problem(code, WARNING, feature, message, hint))

    return note


def _complete_grid_codes(grids: gpd.GeoDataFrame, note: _Note) -> gpd.GeoDataFrame:
    """``village_code`` / ``town_code`` from the grid code when the layer lacks them."""
    out = grids.copy()
    if "grid_code" not in out.columns:
        return out
    codes = out["grid_code"].fillna("").astype(str).str.strip()
    out["grid_code"] = codes
    for col, source, digits in (
        ("village_code", "grid_code", VILLAGE_DIGITS),
        ("town_code", "village_code", TOWN_DIGITS),
    ):
        if col in out.columns or source not in out.columns:
            continue
        out[col] = out[source].astype(str).str[:digits]
        note(
            "code_from_grid_code",
            "(layer)",
            Text(
                f"网格图层没有 {col} 列：取自 {source} 的前 {digits} 位",
                f"the grid layer has no {col}: taken as the first {digits} digits of {source}",
            ),
            Text(
                f"如编码不成层级，请在网格图层中给出 {col}（或 --columns {col}=<列名>）",
                f"if the codes are not hierarchical, give {col} in the grid layer (or "
                f"--columns {col}=<column>)",
            ),
        )
    return out


def _county_code(grids: gpd.GeoDataFrame, given: str | None, note: _Note) -> str:
    codes = grids["grid_code"].fillna("").astype(str) if "grid_code" in grids else pd.Series([])
    prefixes = codes[codes.str.len() >= COUNTY_DIGITS].str[:COUNTY_DIGITS].value_counts()
    if given:
        code = str(given).strip()
        if not (code.isdigit() and len(code) == COUNTY_DIGITS):
            raise InputProblems(
                "onboard the county", f"county_code {code!r} is not six digits, e.g. 410105"
            )
        other = int(prefixes.drop(code, errors="ignore").sum())
        if other:
            note(
                "county_code_mismatch",
                "(layer)",
                Text(
                    f"{other} 个网格编码不以县编码 {code} 开头",
                    f"{other} grid code(s) do not start with county_code {code}",
                ),
                Text("检查县编码或网格编码", "check the county code or the grid codes"),
            )
        return code
    if len(prefixes) == 1:
        return str(prefixes.index[0])
    found = ", ".join(f"{c} ({n})" for c, n in prefixes.head(5).items()) or "none"
    raise InputProblems(
        "infer the county code",
        f"the grid codes start with {len(prefixes)} different six-digit county codes "
        f"[{found}]; give county_code (--county-code) or correct the grid codes",
    )


def _county_name(grids: gpd.GeoDataFrame, code: str, given: str | None, note: _Note) -> str:
    if given and str(given).strip():
        return str(given).strip()
    if "county_name" in grids.columns:
        names = grids["county_name"].dropna().astype(str).str.strip()
        names = names[names != ""]
        if names.nunique() == 1:
            return str(names.iloc[0])
    note(
        "county_name_missing",
        "(county)",
        Text(
            f"未给出县名：以县编码 {code} 代替", f"no county name given: the code {code} stands in"
        ),
        Text("用 --county-name 给出县名", "give it with --county-name"),
    )
    return code


# --------------------------------------------------------------------------- the layers


def _names_from(frame: gpd.GeoDataFrame, key: str, name: str) -> pd.Series | None:
    """``key`` → the one ``name`` the frame gives it, when it has the column."""
    if name not in frame.columns:
        return None
    pairs = frame[[key, name]].dropna()
    pairs = pairs[pairs[name].astype(str).str.strip() != ""]
    return pairs.drop_duplicates(key).set_index(key)[name].astype(str)


def _dissolved(grids: gpd.GeoDataFrame, key: str) -> gpd.GeoDataFrame:
    """One polygon per ``key`` (the union of its grids, shared vertices kept), with the
    households and residents summed."""
    order = grids.sort_values(key, kind="stable")
    keys = order[key].astype(str).to_numpy()
    geoms = order.geometry.to_numpy()
    starts = np.flatnonzero(np.r_[True, keys[1:] != keys[:-1]])
    ends = np.r_[starts[1:], len(keys)]
    shapes = [shapely.coverage_union_all(geoms[a:b]) for a, b in zip(starts, ends, strict=True)]
    sums = order.groupby(key, sort=True)[["households", "residents"]].sum()
    return gpd.GeoDataFrame(
        {key: keys[starts], **{c: sums[c].to_numpy() for c in sums.columns}},
        geometry=shapes,
        crs=grids.crs,
    )


def _villages(
    given: gpd.GeoDataFrame | None, grids: gpd.GeoDataFrame, note: _Note
) -> gpd.GeoDataFrame:
    if given is not None:
        out = given.copy()
        if "town_code" not in out.columns:
            out["town_code"] = out["village_code"].astype(str).str[:TOWN_DIGITS]
        if "village_name" not in out.columns:
            out["village_name"] = out["village_code"]
        if "kind" not in out.columns:
            out["kind"] = ""
        for col in ("households", "residents"):
            if col not in out.columns:
                sums = grids.groupby("village_code")[col].sum()
                out[col] = out["village_code"].map(sums).fillna(0).to_numpy()
        return out
    out = _dissolved(grids, "village_code")
    towns = grids.drop_duplicates("village_code").set_index("village_code")["town_code"]
    out["town_code"] = out["village_code"].map(towns).to_numpy()
    names = _names_from(grids, "village_code", "village_name")
    named = out["village_code"].map(names) if names is not None else None
    out["village_name"] = (
        out["village_code"] if named is None else named.fillna(out["village_code"])
    )
    if "area_type" in grids.columns:
        major = grids.groupby("village_code")["area_type"].agg(lambda s: s.mode().iat[0])
        out["kind"] = out["village_code"].map(major).map(_KIND_OF_AREA_TYPE).fillna("")
    else:
        out["kind"] = ""
    note(
        "villages_dissolved",
        "(villages)",
        Text(
            f"未给出村(居)图层：由网格按村(居)编码合并出 {len(out)} 个"
            + ("" if names is not None else "，名称暂以编码代替"),
            f"no village layer: {len(out)} villages dissolved from the grids by village_code"
            + ("" if names is not None else "; their names are missing, the codes stand in"),
        ),
        Text(
            "用 --villages 给出村(居)边界和名称",
            "give the village polygons and names with --villages",
        ),
    )
    return out[
        ["village_code", "village_name", "town_code", "kind", "households", "residents", "geometry"]
    ]


def _towns(
    given: gpd.GeoDataFrame | None,
    grids: gpd.GeoDataFrame,
    villages: gpd.GeoDataFrame,
    note: _Note,
) -> gpd.GeoDataFrame:
    if given is not None:
        out = given.copy()
        if "town_name" not in out.columns:
            out["town_name"] = out["town_code"]
        if "kind" not in out.columns:
            out["kind"] = ""
        for col in ("households", "residents"):
            if col not in out.columns:
                sums = grids.groupby("town_code")[col].sum()
                out[col] = out["town_code"].map(sums).fillna(0).to_numpy()
        return out
    out = _dissolved(grids, "town_code")
    names = _names_from(grids, "town_code", "town_name")
    if names is None:
        names = _names_from(villages, "town_code", "town_name")
    named = out["town_code"].map(names) if names is not None else None
    out["town_name"] = out["town_code"] if named is None else named.fillna(out["town_code"])
    out["kind"] = ""
    note(
        "towns_dissolved",
        "(towns)",
        Text(
            f"未给出镇(区)图层：由网格按镇编码合并出 {len(out)} 个"
            + ("" if names is not None else "，名称暂以编码代替"),
            f"no town layer: {len(out)} towns dissolved from the grids by town_code"
            + ("" if names is not None else "; their names are missing, the codes stand in"),
        ),
        Text("用 --towns 给出镇(区)边界和名称", "give the town polygons and names with --towns"),
    )
    return out[["town_code", "town_name", "kind", "households", "residents", "geometry"]]


def _integer_split(total: np.ndarray, parts: np.ndarray) -> np.ndarray:
    """Split each ``total[i]`` into ``parts[i]`` integers differing by at most one."""
    rows = np.repeat(np.arange(len(total)), parts)
    rank = np.arange(len(rows)) - np.repeat(np.cumsum(parts) - parts, parts)
    base = np.repeat(total // np.maximum(parts, 1), parts)
    return base + (rank < np.repeat(total % np.maximum(parts, 1), parts)).astype(np.int64)


def _stand_in_households(
    grids: gpd.GeoDataFrame, note: _Note, *, seed: int
) -> gpd.GeoDataFrame | None:
    """Up to :data:`POINTS_PER_GRID` points inside each grid carrying its residents."""
    if "residents" not in grids.columns:
        note(
            "no_population",
            "(layer)",
            Text(
                "既无住户图层，网格也没有 residents 列：人口记为 0，服务圈覆盖率无法按人口计算",
                "no household layer and no residents column in the grids: population is 0 and "
                "service coverage cannot be weighted by residents",
            ),
            Text(
                "用 --households 给出住户点，或在网格图层中给出 residents",
                "give household points with --households, or residents in the grid layer",
            ),
        )
        return None
    residents = pd.to_numeric(grids["residents"], errors="coerce").fillna(0)
    total = np.maximum(residents.round().to_numpy(dtype=np.int64), 0)
    parts = np.minimum(POINTS_PER_GRID, total)
    geoms = grids.geometry.to_numpy()
    rng = np.random.default_rng(seed)
    tries = 8 * POINTS_PER_GRID
    bounds = shapely.bounds(geoms)
    u = rng.random((len(geoms), tries, 2))
    x = bounds[:, [0]] + u[..., 0] * (bounds[:, [2]] - bounds[:, [0]])
    y = bounds[:, [1]] + u[..., 1] * (bounds[:, [3]] - bounds[:, [1]])
    shapely.prepare(geoms)
    inside = shapely.contains_xy(np.repeat(geoms, tries).reshape(len(geoms), tries), x, y)
    shapely.destroy_prepared(geoms)
    # The first `parts[i]` hits of each grid; a grid with too few hits gets its surface point.
    hit_rank = np.cumsum(inside, axis=1) - 1
    take = inside & (hit_rank < parts[:, None])
    got = take.sum(axis=1)
    fallback = shapely.point_on_surface(geoms)
    rows, cols = np.nonzero(take)
    short = np.flatnonzero(got < parts)
    px, py = x[rows, cols], y[rows, cols]
    if len(short):
        extra = parts[short] - got[short]
        rows = np.r_[rows, np.repeat(short, extra)]
        px = np.r_[px, np.repeat(shapely.get_x(fallback[short]), extra)]
        py = np.r_[py, np.repeat(shapely.get_y(fallback[short]), extra)]
    order = np.argsort(rows, kind="stable")
    rows, px, py = rows[order], px[order], py[order]
    shares = _integer_split(total, parts)
    seq = np.arange(len(rows)) - np.repeat(np.cumsum(parts) - parts, parts)
    codes = grids["grid_code"].astype(str).to_numpy()[rows]
    out = gpd.GeoDataFrame(
        {
            "household_id": [f"{c}-{s + 1:02d}" for c, s in zip(codes, seq, strict=True)],
            "residents": shares,
            "grid_code": codes,
            "village_code": grids["village_code"].astype(str).to_numpy()[rows],
            "town_code": grids["town_code"].astype(str).to_numpy()[rows],
            "stand_in": True,
        },
        geometry=gpd.points_from_xy(px, py),
        crs=grids.crs,
    )
    note(
        "households_stand_in",
        "(households)",
        Text(
            f"未给出住户图层：每个网格的 residents 分到格内至多 {POINTS_PER_GRID} 个点"
            f"（共 {len(out)} 个），人口分布为近似",
            f"no household layer: each grid's residents spread over up to {POINTS_PER_GRID} "
            f"points inside it ({len(out)} in all); the population is approximate",
        ),
        Text(
            "用 --households 给出住户点，服务圈覆盖率更准确",
            "give household points with --households for exact service coverage",
        ),
    )
    return out


def _placed_households(
    homes: gpd.GeoDataFrame, grids: gpd.GeoDataFrame, index: GridIndex | None, note: _Note
) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """Households with their grid (and village, town) codes; grid counts from them where
    the grid layer has none."""
    out = _with_codes(homes, grids, index)
    if "household_id" not in out.columns:
        out["household_id"] = [f"H{i + 1:07d}" for i in range(len(out))]
    outside = int((out["grid_code"] == "").sum())
    if outside:
        note(
            "households_outside",
            "(households)",
            Text(f"{outside} 个住户点不在任何网格内", f"{outside} household point(s) in no grid"),
            Text("检查住户坐标或网格边界", "check the household coordinates or the grid edges"),
        )
    grids = grids.copy()
    residents = pd.to_numeric(out["residents"], errors="coerce").fillna(0)
    per_grid = residents.groupby(out["grid_code"].to_numpy()).agg(["size", "sum"])
    for col, stat in (("households", "size"), ("residents", "sum")):
        if col not in grids.columns:
            grids[col] = grids["grid_code"].map(per_grid[stat]).fillna(0).astype(int).to_numpy()
    return out, grids


def _with_codes(
    points: gpd.GeoDataFrame, grids: gpd.GeoDataFrame, index: GridIndex | None
) -> gpd.GeoDataFrame:
    """Points with ``grid_code``, ``village_code``, ``town_code`` of the grid holding them
    (codes the points carry already are kept)."""
    out = points.copy()
    codes = ("grid_code", "village_code", "town_code")
    if all(c in out.columns for c in codes):
        return out
    assigned = assign_events(out, grids, index=index)
    for col in codes:
        if col not in out.columns:
            out[col] = assigned[col].astype(str).to_numpy()
    return out


def _emptied(frame: pd.DataFrame, crs: str) -> pd.DataFrame:
    """``frame`` without rows, its columns and types kept (geometry in the new CRS)."""
    empty = frame.iloc[:0].copy()
    if isinstance(empty, gpd.GeoDataFrame):
        return empty.set_crs(crs, allow_override=True)
    return empty


# --------------------------------------------------------------------------- reporting


def _sorted(problems: list[Problem]) -> list[Problem]:
    order = {ERROR: 0, WARNING: 1}
    return sorted(problems, key=lambda p: order.get(p.severity, 2))


def _is_grid(feature: str) -> bool:
    return bool(feature) and not feature.startswith("(")


def _line(p: Problem) -> str:
    return f"{p.feature} [{p.code}] {p.message} — {p.hint}"
