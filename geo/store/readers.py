"""Readers for grids, events and service points in the formats counties export."""

from __future__ import annotations

import re
import unicodedata
import zipfile
from collections.abc import Mapping
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely
from shapely.geometry.base import BaseGeometry

from geo.core import crs as webmap
from geo.core.errors import InputFileError
from geo.core.i18n import Text
from geo.core.settings import DISPLAY_CRS, LAYERS, get_settings

#: Our column name → header spellings seen in county exports (compared after normalising).
ALIASES: dict[str, tuple[str, ...]] = {
    "lon": ("lon", "lng", "long", "longitude", "x", "经度", "东经", "坐标x", "gpsx"),
    "lat": ("lat", "latitude", "y", "纬度", "北纬", "坐标y", "gpsy"),
    "grid_code": ("grid_code", "gridcode", "grid_id", "wgbm", "网格编码", "网格代码", "网格编号"),
    "grid_name": ("grid_name", "gridname", "wgmc", "网格名称", "网格名"),
    "village_code": (
        "village_code",
        "cjbm",
        "村居编码",
        "村（居）编码",
        "村编码",
        "社区编码",
        "村居代码",
    ),
    "village_name": ("village_name", "村居名称", "村（居）名称", "村名", "社区名称"),
    "town_code": ("town_code", "xzbm", "镇编码", "乡镇编码", "镇（区）编码", "镇街编码"),
    "town_name": ("town_name", "镇名称", "乡镇名称", "镇（区）名称", "乡镇"),
    "households": ("households", "户数", "住户数", "总户数"),
    "residents": ("residents", "population", "人口", "人数", "常住人口", "总人口"),
    "grid_worker": ("grid_worker", "网格员", "网格员姓名", "专职网格员"),
    "ticket_id": ("ticket_id", "工单号", "工单编号", "事件编号", "编号"),
    "source": ("source", "来源", "渠道", "事件来源"),
    "received_at": ("received_at", "受理时间", "来电时间", "登记时间", "上报时间"),
    "category": ("category", "类别", "诉求类别", "事件类型", "事件类别", "问题分类"),
    "subcategory": ("subcategory", "小类", "诉求小类", "二级分类", "二级类别"),
    "request_type": ("request_type", "诉求性质", "工单类型", "来电类型", "诉求类型"),
    "address": ("address", "地址", "事发地址", "详细地址", "事件地址", "发生地址", "诉求地址"),
    "content": ("content", "诉求内容", "来电内容", "事件描述", "问题描述", "内容"),
    "coord_sys": ("coord_sys", "坐标系", "坐标系统"),
    "status": ("status", "状态", "办理状态"),
    "dispatched_at": ("dispatched_at", "派单时间", "交办时间"),
    "closed_at": ("closed_at", "办结时间", "结案时间"),
    "resolution_level": ("resolution_level", "解决层级", "办结层级"),
    "satisfaction": ("satisfaction", "满意度", "回访结果"),
    "caller_name": ("caller_name", "来电人", "诉求人", "姓名"),
    "caller_phone": ("caller_phone", "来电号码", "联系电话", "电话"),
    "service_id": ("service_id", "设施编码", "设施编号"),
    "service_type": ("service_type", "设施类型", "服务类型"),
    "name": ("name", "名称", "设施名称"),
}

#: Columns each kind of layer must have after mapping (geometry aside).
REQUIRED: dict[str, tuple[str, ...]] = {
    "grids": ("grid_code",),
    "issues": (),
    "service_points": ("service_type",),
    "households": ("residents",),
    "villages": ("village_code",),
    "towns": ("town_code",),
    "roads": (),
}

TABLE_SUFFIXES = (".csv", ".txt", ".xlsx", ".xls")
GEO_SUFFIXES = (".gpkg", ".geojson", ".json", ".shp", ".zip", ".parquet", ".geoparquet")

#: ``coord_problem`` codes set by the table reader (the codes of ``assign_problem``: their
#: words are :func:`geo.grids.assign.problem_words`).
NO_COORDS = "no_coords"
SWAPPED = "swapped"


def parse_columns(spec: str | Mapping[str, str] | None) -> dict[str, str]:
    """Parse ``our_name=their_name`` pairs (``grid_code=WGBM,lon=经度``) into a dict.

    Raises
    ------
    ValueError
        When a pair has no ``=`` or names a column GridGov does not know.
    """
    if spec is None or spec == "":
        return {}
    if isinstance(spec, Mapping):
        pairs = dict(spec)
    else:
        pairs = {}
        for part in str(spec).replace("，", ",").split(","):
            if not part.strip():
                continue
            if "=" not in part:
                raise ValueError(
                    f"--columns: {part.strip()!r} is not our_name=their_name; "
                    "for example grid_code=WGBM,lon=经度,lat=纬度"
                )
            ours, theirs = (s.strip() for s in part.split("=", 1))
            pairs[ours] = theirs
    return pairs


def header_key(name: object) -> str:
    """A header as compared with :data:`ALIASES`: full-width forms folded, spaces, ``_ - ( ) :``
    and their full-width twins removed, lower case (``工单 编号（ID）`` → ``工单编号id``)."""
    text = unicodedata.normalize("NFKC", str(name))
    return re.sub(r"[\s_\-():]", "", text).lower()


#: Every known spelling (as :func:`header_key`) → our column.
ALIAS_LOOKUP: dict[str, str] = {
    header_key(alias): ours for ours, aliases in ALIASES.items() for alias in aliases
}


def _rename(frame: pd.DataFrame, columns: Mapping[str, str], path: str) -> pd.DataFrame:
    """Map the file's headers to ours: explicit pairs first, then known aliases."""
    rename: dict[str, str] = {}
    # One --columns serves every input of a command (grid_code=WGBM,lon=经度 for the grids and
    # the events), so a pair naming a column this file lacks is skipped; a mapping that fits
    # nothing in the file is an error (a wrong file or a typo).
    present = {ours: theirs for ours, theirs in columns.items() if theirs in frame.columns}
    if columns and not present:
        named, have = list(columns.values()), [c for c in frame.columns if c != "geometry"]
        raise InputFileError(
            path,
            Text(
                f"--columns 指定的列 {named} 文件中没有",
                f"--columns names column(s) {named} that the file does not have",
            ),
            Text(f"文件中的列为 {have}", f"the file's columns are {have}"),
        )
    rename.update({theirs: ours for ours, theirs in present.items()})
    taken = set(rename.values()) | {c for c in frame.columns if c in ALIASES}
    lookup = dict(ALIAS_LOOKUP)
    # Shapefile (DBF) field names stop at 10 characters: grid_worker arrives as grid_worke.
    lookup.update(
        {header_key(ours[:10]): ours for ours in ALIASES if header_key(ours[:10]) not in lookup}
    )
    for col in frame.columns:
        ours = lookup.get(header_key(col))
        if col not in rename and ours and ours not in taken and col != ours:
            rename[col] = ours
            taken.add(ours)
    return frame.rename(columns=rename)


def split_spec(spec: str | Path) -> tuple[Path, str | None]:
    """Split ``FILE.gpkg:layer`` into the path and the layer (``None`` when not given)."""
    text = str(spec)
    match = re.match(r"^(.*\.(?:gpkg|zip)):([^/\\:]+)$", text, flags=re.IGNORECASE)
    if match:
        return Path(match.group(1)), match.group(2)
    return Path(text), None


def read_layer(
    spec: str | Path,
    kind: str,
    *,
    columns: str | Mapping[str, str] | None = None,
    coords: str = "wgs84",
    crs: str | None = None,
    to_crs: str | None = None,
) -> gpd.GeoDataFrame:
    """Read one layer of the given kind from any supported file, in the county's metric CRS.

    Parameters
    ----------
    spec
        A file path; a GeoPackage may carry ``:layer``. GeoPackage, GeoJSON, Shapefile (also
        zipped), GeoParquet, CSV (UTF-8 or GB18030) and XLSX are read.
    kind
        One of ``towns``, ``villages``, ``grids``, ``households``, ``service_points``,
        ``issues``: picks the default layer and the required columns.
    columns
        ``our_name=their_name`` pairs (or a dict) applied before the known header aliases.
    coords
        Coordinate system of lon/lat columns or of a geographic file when the rows do not
        say (a ``coord_sys`` column wins): ``wgs84``, ``gcj02``, ``bd09`` or ``cgcs2000``.
    crs
        CRS to assume for a file that carries none (e.g. a Shapefile without ``.prj``).
    to_crs
        CRS of the result (default: :attr:`Settings.metric_crs`, the county's metric CRS;
        onboarding reads in EPSG:4326 before it knows the county's zone).

    Returns
    -------
    geopandas.GeoDataFrame
        In ``to_crs``, with ``source_row`` (the row number a user sees in the file: 1-based
        data rows, CSV/XLSX counting the header as row 1). Rows whose coordinates cannot be
        used keep an empty geometry and say why in ``coord_problem``; none are dropped.

    Raises
    ------
    InputFileError
        The file is missing, unreadable, of an unknown format, has no such layer, or lacks a
        required column; the message names the file and what to do.
    """
    if kind not in LAYERS:
        raise ValueError(f"kind must be one of {LAYERS}, got {kind!r}")
    path, layer = split_spec(spec)
    where = str(spec)
    mapping = parse_columns(columns)
    target = to_crs or get_settings().metric_crs
    if not path.exists():
        raise InputFileError(
            where, Text("文件不存在", "file not found"), Text("检查路径", "check the path")
        )
    suffix = path.suffix.lower()
    if suffix in TABLE_SUFFIXES:
        frame = _read_table(path)
        frame = _rename(frame, mapping, where)
        out = _points_from_table(frame, where, coords, target)
    elif suffix in GEO_SUFFIXES:
        out = _read_geo(path, layer, kind, where, crs)
        out = _rename(out, mapping, where)
        if out.crs is not None and out.crs.is_geographic and coords != "wgs84":
            out = _convert_webmap_points(out, coords, where)
        out = out.to_crs(target)
        out.insert(0, "source_row", np.arange(1, len(out) + 1))
    else:
        raise InputFileError(
            where,
            Text(f"不支持的文件类型 {suffix!r}", f"unknown file type {suffix!r}"),
            Text(
                f"使用以下格式之一：{', '.join(GEO_SUFFIXES + TABLE_SUFFIXES)}",
                f"use one of {', '.join(GEO_SUFFIXES + TABLE_SUFFIXES)}",
            ),
        )
    missing = [c for c in REQUIRED[kind] if c not in out.columns]
    if missing:
        have = [c for c in out.columns if c != "geometry"]
        raise InputFileError(
            where,
            Text(
                f"缺少必填列 {', '.join(missing)}（{kind} 图层）",
                f"no column {', '.join(missing)} for layer {kind!r}",
            ),
            Text(
                f"文件中的列为 {have}；用 --columns 指定对应的列，如 {missing[0]}=<列名>",
                f"the file has {have}; map yours with --columns, e.g. {missing[0]}=<your column>",
            ),
        )
    for col in ("grid_code", "village_code", "town_code", "ticket_id", "service_id"):
        if col in out.columns:
            out[col] = out[col].map(_code_text)
    return out


def read_outline(
    spec: str | Path, *, crs: str | None = None, to_crs: str | None = None
) -> BaseGeometry:
    """Read an outline file (any polygon layer) as one geometry in ``to_crs`` (default: the
    county's metric CRS)."""
    path, layer = split_spec(spec)
    if not path.exists():
        raise InputFileError(
            str(spec), Text("文件不存在", "file not found"), Text("检查路径", "check the path")
        )
    frame = _read_geo(path, layer, "towns", str(spec), crs).to_crs(
        to_crs or get_settings().metric_crs
    )
    return shapely.union_all(frame.geometry.to_numpy())


def _code_text(value: object) -> object:
    """Codes as text: keep leading zeros, drop a float's ``.0`` that Excel adds."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return None
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    text = str(value).strip()
    if re.fullmatch(r"\d+\.0+", text):  # the same float written out as text (CSV)
        return text.split(".", 1)[0]
    return text


def _read_table(path: Path) -> pd.DataFrame:
    try:
        if path.suffix.lower() in (".xlsx", ".xls"):
            return pd.read_excel(path, dtype=str)
        for encoding in ("utf-8-sig", "gb18030"):
            try:
                return pd.read_csv(
                    path, dtype=str, encoding=encoding, keep_default_na=False, na_values=[""]
                )
            except UnicodeDecodeError:
                continue
        raise InputFileError(
            str(path),
            Text("文本既不是 UTF-8 也不是 GB18030 编码", "text is neither UTF-8 nor GB18030"),
            Text("把文件另存为 UTF-8 编码的 CSV", "save the file as UTF-8 CSV"),
        )
    except InputFileError:
        raise
    except Exception as exc:
        raise InputFileError(
            str(path),
            Text(f"表格无法读取（{exc}）", f"cannot read the table ({exc})"),
            Text("检查是否为 CSV 或 XLSX 文件", "check that it is a CSV or XLSX file"),
        ) from exc


def _points_from_table(
    frame: pd.DataFrame, where: str, coords: str, metric: str
) -> gpd.GeoDataFrame:
    for col in ("lon", "lat"):
        if col not in frame.columns:
            raise InputFileError(
                where,
                Text(f"缺少{'经度' if col == 'lon' else '纬度'}列", f"no {col} column"),
                Text(
                    f"文件中的列为 {list(frame.columns)}；用 --columns {col}=<列名> 指定",
                    f"the file has {list(frame.columns)}; name yours with --columns {col}=<column>",
                ),
            )
    lon = pd.to_numeric(frame["lon"], errors="coerce").to_numpy(dtype=float)
    lat = pd.to_numeric(frame["lat"], errors="coerce").to_numpy(dtype=float)
    systems = frame["coord_sys"].fillna(coords) if "coord_sys" in frame.columns else coords
    geom, norm, problem = lonlat_points(lon, lat, systems, where=where, metric=metric)
    out = gpd.GeoDataFrame(
        frame.assign(lon=lon, lat=lat, coord_sys=norm), geometry=geom.to_numpy(), crs=metric
    )
    out.insert(0, "source_row", np.arange(2, len(out) + 2))
    out["coord_problem"] = problem
    return out


def lonlat_points(
    lon: np.ndarray, lat: np.ndarray, systems: object, *, where: str, metric: str | None = None
) -> tuple[gpd.GeoSeries, np.ndarray, np.ndarray]:
    """Points in the metric CRS from lon/lat in the given coordinate systems.

    ``systems`` is one system name or one per point (``wgs84``, ``gcj02``, ``bd09``…).
    Returns the points in ``metric`` (default the county's metric CRS; None where unusable),
    the normalised systems, and per point the
    problem code: ``""``, :data:`NO_COORDS` (missing or out of range) or ``SWAPPED``.
    """
    try:
        norm = webmap.normalize_coord_sys(
            np.broadcast_to(np.asarray(systems, dtype=object), lon.shape)
        )
    except ValueError as exc:
        raise InputFileError(
            where,
            str(exc),
            Text("更正 coord_sys 列或 --coords", "fix the coord_sys column or --coords"),
        ) from exc
    problem = np.full(len(lon), "", dtype=object)
    bad = ~np.isfinite(lon) | ~np.isfinite(lat) | (np.abs(lat) > 90) | (np.abs(lon) > 180)
    swapped = (
        np.isfinite(lon) & np.isfinite(lat) & (lon > 0) & (lon < 55) & (lat > 70) & (lat < 140)
    )
    problem[bad] = NO_COORDS
    problem[swapped] = SWAPPED
    unusable = bad | swapped
    x, y = np.full(len(lon), np.nan), np.full(len(lon), np.nan)
    if (~unusable).any():
        x[~unusable], y[~unusable] = webmap.to_wgs84(
            lon[~unusable], lat[~unusable], norm[~unusable]
        )
    geom = gpd.GeoSeries(gpd.points_from_xy(x, y), crs=DISPLAY_CRS).to_crs(
        metric or get_settings().metric_crs
    )
    geom[unusable] = None
    return geom, norm, problem


def _read_geo(
    path: Path, layer: str | None, kind: str, where: str, crs: str | None
) -> gpd.GeoDataFrame:
    suffix = path.suffix.lower()
    try:
        if suffix in (".parquet", ".geoparquet"):
            frame = gpd.read_parquet(path)
        else:
            target: Path | str = path  # a /vsizip/ path for a member of a .zip
            if suffix == ".zip":
                target = _zip_member(path, layer, where)
                layer = None
            elif suffix == ".gpkg":
                layer = _pick_layer(path, layer, kind, where)
            frame = pyogrio.read_dataframe(target, layer=layer, use_arrow=True)
    except InputFileError:
        raise
    except Exception as exc:
        raise InputFileError(
            where,
            Text(f"文件无法读取（{exc}）", f"cannot read the file ({exc})"),
            Text(
                "检查文件是否完整、是否为该类型的有效文件",
                "check that it is a valid, complete file of this type",
            ),
        ) from exc
    if not isinstance(frame, gpd.GeoDataFrame) or frame.geometry.isna().all():
        raise InputFileError(
            where,
            Text("图层没有几何", "the layer has no geometry"),
            Text(
                "带经纬度列的表格请用 CSV 或 XLSX",
                "for a table with lon/lat columns use CSV or XLSX",
            ),
        )
    if frame.crs is None:
        if crs is None:
            metric = get_settings().metric_crs
            raise InputFileError(
                where,
                Text("缺少坐标系信息", "the file says nothing about its coordinate system"),
                Text(
                    f"补上 .prj 文件，或指定 --crs {metric}（或 EPSG:4490、EPSG:4326）",
                    f"add the .prj file, or pass --crs {metric} (or EPSG:4490, EPSG:4326)",
                ),
            )
        frame = frame.set_crs(crs)
    return frame


def _zip_member(path: Path, layer: str | None, where: str) -> str:
    with zipfile.ZipFile(path) as zf:
        shps = [n for n in zf.namelist() if n.lower().endswith((".shp", ".geojson", ".gpkg"))]
    if layer:
        shps = [n for n in shps if Path(n).stem == layer] or shps
    if not shps:
        raise InputFileError(
            where,
            Text(
                "压缩包中没有 .shp、.geojson 或 .gpkg 文件",
                "the zip holds no .shp, .geojson or .gpkg file",
            ),
            Text(
                "把 Shapefile 的 .shp、.shx、.dbf 和 .prj 一起压缩",
                "zip the Shapefile's .shp, .shx, .dbf and .prj together",
            ),
        )
    if len(shps) > 1:
        one = f"{where}:{Path(shps[0]).stem}"
        raise InputFileError(
            where,
            Text(f"压缩包中有多个图层 {shps}", f"the zip holds several layers {shps}"),
            Text(f"指定其中一个：{one}", f"name one: {one}"),
        )
    return f"/vsizip/{path}/{shps[0]}"


def _pick_layer(path: Path, layer: str | None, kind: str, where: str) -> str:
    names = [str(n) for n in pyogrio.list_layers(path)[:, 0]]
    if layer is not None:
        if layer not in names:
            raise InputFileError(
                where,
                Text(
                    f"没有图层 {layer!r}；文件中有 {names}", f"no layer {layer!r}; it has {names}"
                ),
                Text(f"使用 {path}:<图层名>", f"use {path}:<layer>"),
            )
        return layer
    if kind in names:
        return kind
    if len(names) == 1:
        return names[0]
    raise InputFileError(
        where,
        Text(
            f"有多个图层 {names}，没有一个叫 {kind!r}",
            f"several layers {names} and none is called {kind!r}",
        ),
        Text(f"指定其中一个：{path}:{names[0]}", f"name one: {path}:{names[0]}"),
    )


def _convert_webmap_points(frame: gpd.GeoDataFrame, coords: str, where: str) -> gpd.GeoDataFrame:
    """A geographic point file whose coordinates are GCJ-02/BD-09: convert to WGS84."""
    if not (frame.geom_type.dropna() == "Point").all():
        raise InputFileError(
            where,
            Text(f"--coords {coords} 只适用于点", f"--coords {coords} applies to points only"),
            Text(
                "导入前先把 GCJ-02/BD-09 的面转换坐标",
                "convert polygons from GCJ-02/BD-09 before import",
            ),
        )
    system = frame["coord_sys"].fillna(coords) if "coord_sys" in frame.columns else coords
    lon, lat = frame.geometry.x.to_numpy(), frame.geometry.y.to_numpy()
    norm = webmap.normalize_coord_sys(np.broadcast_to(np.asarray(system, dtype=object), lon.shape))
    x, y = webmap.to_wgs84(lon, lat, norm)
    out = frame.copy()
    out["geometry"] = gpd.points_from_xy(x, y, crs=DISPLAY_CRS)
    return out.set_crs(DISPLAY_CRS, allow_override=True)


def write_output(frame: pd.DataFrame, out: str | Path, *, layer: str = "data") -> Path:
    """Write a result table by the file's extension (CSV in UTF-8 with BOM for Excel).

    ``.csv``/``.xlsx`` drop the geometry (lon/lat columns stay); ``.gpkg``, ``.geojson`` and
    ``.parquet`` keep it (GeoJSON in WGS84 as the format requires).
    """
    path, named_layer = split_spec(out)
    path.parent.mkdir(parents=True, exist_ok=True)
    suffix = path.suffix.lower()
    table = pd.DataFrame(frame.drop(columns="geometry", errors="ignore"))
    if suffix == ".csv":
        table.to_csv(path, index=False, encoding="utf-8-sig")
    elif suffix == ".xlsx":
        table.to_excel(path, index=False)
    elif suffix in (".gpkg", ".geojson", ".json", ".parquet"):
        geo = frame if isinstance(frame, gpd.GeoDataFrame) else gpd.GeoDataFrame(frame)
        if suffix == ".parquet":
            geo.to_parquet(path)
        elif suffix == ".gpkg":
            pyogrio.write_dataframe(geo, path, layer=named_layer or layer, driver="GPKG")
        else:
            pyogrio.write_dataframe(geo.to_crs(DISPLAY_CRS), path, driver="GeoJSON")
    else:
        raise InputFileError(
            str(out),
            Text(f"无法写出 {suffix!r} 格式", f"cannot write {suffix!r}"),
            Text(
                "使用 .csv、.xlsx、.gpkg、.geojson 或 .parquet",
                "use .csv, .xlsx, .gpkg, .geojson or .parquet",
            ),
        )
    return path
