"""Grid layers as files for QGIS: written as GeoPackage, GeoJSON or zipped Shapefile, read back.

Both the 网格规划 page and ``python -m geo grids export|import`` go through here. A Shapefile
keeps field names to 10 characters, so :func:`write_grids` shortens the long ones
(:func:`shapefile_fields`) and zips a ``fields.csv`` naming them in full with the ``.cpg``
saying UTF-8; :func:`read_grid_file` gives them their full names back. A layer that went out
as GeoJSON (WGS84) or Shapefile and comes back moves its vertices by far less than a
millimetre: :func:`take_scope` puts them back on the published vertices, so a grid nobody
touched is not mistaken for a redrawn one.
"""

from __future__ import annotations

import tempfile
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import cast

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely

from geo.core.errors import InputFileError
from geo.core.i18n import Text
from geo.planning.versions import GRID_KEYS
from geo.store.readers import ALIASES, read_layer, split_spec, write_output

__all__ = [
    "FIELDS_CSV",
    "FORMATS",
    "SNAP_M",
    "UPLOAD_SUFFIXES",
    "GridFormat",
    "ScopeImport",
    "export_bytes",
    "read_grid_bytes",
    "read_grid_file",
    "shapefile_fields",
    "snap_to_layer",
    "take_scope",
    "write_grids",
]


@dataclass(frozen=True)
class GridFormat:
    """One format a grid layer is exported in.

    Attributes
    ----------
    suffixes
        File endings of the format (the first is the one written by default).
    file_name
        The name of a download in this format.
    mime
        Its MIME type.
    """

    suffixes: tuple[str, ...]
    file_name: str
    mime: str


#: Export formats: GeoPackage (layer ``grids``, EPSG:4549), GeoJSON (WGS84, as the format
#: requires) and a zipped Shapefile (EPSG:4549, UTF-8).
FORMATS: dict[str, GridFormat] = {
    "gpkg": GridFormat((".gpkg",), "grids.gpkg", "application/geopackage+sqlite3"),
    "geojson": GridFormat((".geojson", ".json"), "grids.geojson", "application/geo+json"),
    "shp": GridFormat((".zip",), "grids_shp.zip", "application/zip"),
}
#: Files an edited layer can be uploaded as (one file each: a Shapefile comes zipped).
UPLOAD_SUFFIXES = (".gpkg", ".geojson", ".json", ".zip")
#: The table in a zipped Shapefile naming each shortened field in full.
FIELDS_CSV = "fields.csv"
#: Vertices of a layer read back this close (m) to a vertex of the published layer are put
#: back on it: a GeoJSON (WGS84) or Shapefile round trip moves them by far less.
SNAP_M = 0.001

_SHP_FIELD_CHARS = 10


# --------------------------------------------------------------------------- writing


def shapefile_fields(columns: Sequence[str]) -> dict[str, str]:
    """Column → Shapefile field name (at most 10 characters, all different).

    Columns GridGov knows (:data:`geo.store.readers.ALIASES`) keep their first 10 characters, which
    :func:`geo.store.readers.read_layer` maps back even without ``fields.csv``; the rest get them
    too
    when free, else 8 and a number.
    """
    names = [c for c in columns if c != "geometry"]
    out: dict[str, str] = {c: c for c in names if len(c) <= _SHP_FIELD_CHARS}
    taken = set(out.values())
    for known in (True, False):
        for c in names:
            if c in out or (c in ALIASES) != known:
                continue
            short = c[:_SHP_FIELD_CHARS]
            k = 0
            while short in taken:
                k += 1
                short = f"{c[: _SHP_FIELD_CHARS - 2]}_{k}"
            out[c] = short
            taken.add(short)
    return {c: out[c] for c in names}


def write_grids(grids: gpd.GeoDataFrame, out: str | Path, *, fmt: str | None = None) -> Path:
    """Write a grid layer as one file a planner can open in QGIS.

    Parameters
    ----------
    grids
        The grids (any CRS; EPSG:4549 for Sheyang).
    out
        The file; a file already there is replaced.
    fmt
        A key of :data:`FORMATS`; default the format of the file ending. ``shp`` writes a
        zip of the Shapefile (fields of at most 10 characters, a ``.cpg`` saying UTF-8 and
        :data:`FIELDS_CSV` naming the fields in full), so the result is still one file.

    Raises
    ------
    InputFileError
        The file ending is not one of the format's (or of any format).
    """
    path = Path(out)
    suffix = path.suffix.lower()
    if fmt is None:
        fmt = next((f for f, spec in FORMATS.items() if suffix in spec.suffixes), None)
        if fmt is None:
            raise InputFileError(
                str(out),
                Text(
                    f"不支持的导出格式 {suffix or '(无扩展名)'}",
                    f"unknown export type {suffix or '(no file ending)'}",
                ),
                Text(
                    "文件名以 .gpkg、.geojson 或 .zip（Shapefile）结尾，或指定格式",
                    "end the file name with .gpkg, .geojson or .zip (Shapefile), or give the "
                    "format (--format)",
                ),
            )
    if fmt not in FORMATS:
        raise ValueError(f"fmt must be one of {list(FORMATS)}, got {fmt!r}")
    endings = FORMATS[fmt].suffixes
    if suffix not in endings:
        zh, en = ("", "")
        if fmt == "shp":
            zh, en = (
                "（Shapefile 由多个文件组成，打包为 zip）",
                " (a Shapefile is several files: zipped)",
            )
        raise InputFileError(
            str(out),
            Text(
                f"文件扩展名与格式 {fmt} 不符",
                f"the format {fmt} writes {' or '.join(endings)} files",
            ),
            Text(
                f"文件命名为 {path.stem}{endings[0]}{zh}",
                f"name the file {path.stem}{endings[0]}{en}",
            ),
        )
    path.parent.mkdir(parents=True, exist_ok=True)
    path.unlink(missing_ok=True)
    frame = gpd.GeoDataFrame(grids.reset_index(drop=True), geometry=grids.geometry.name)
    if fmt != "shp":
        return write_output(frame, path, layer="grids")
    fields = shapefile_fields(list(frame.columns))
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        pyogrio.write_dataframe(
            frame.rename(columns=fields),
            folder / f"{path.stem}.shp",
            driver="ESRI Shapefile",
            encoding="UTF-8",
        )
        legend = pd.DataFrame({"field": list(fields.values()), "column": list(fields)})
        legend.to_csv(folder / FIELDS_CSV, index=False, encoding="utf-8-sig")
        with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
            for part in sorted(folder.iterdir()):
                zf.write(part, arcname=part.name)
    return path


def export_bytes(grids: gpd.GeoDataFrame, fmt: str) -> bytes:
    """:func:`write_grids` as the bytes of a download (a Shapefile zips as ``grids.*``)."""
    if fmt not in FORMATS:
        raise ValueError(f"fmt must be one of {list(FORMATS)}, got {fmt!r}")
    with tempfile.TemporaryDirectory() as tmp:
        return write_grids(grids, Path(tmp) / f"grids{FORMATS[fmt].suffixes[0]}").read_bytes()


# --------------------------------------------------------------------------- reading


def read_grid_file(
    spec: str | Path,
    published: gpd.GeoDataFrame,
    *,
    columns: str = "",
    crs: str | None = None,
    name: str | None = None,
) -> tuple[gpd.GeoDataFrame, list[str]]:
    """An edited grid layer (any :func:`geo.store.readers.read_layer` format) in the published
    columns.

    Parameters
    ----------
    spec
        The file (a GeoPackage may carry ``:layer``).
    published
        The grid layer it is an edit of: the result gets its columns (in its order; others
        are left out) and its CRS.
    columns, crs
        Passed to :func:`geo.store.readers.read_layer` (header mapping; CRS of a file without one).
    name
        The file's name in messages (default ``spec``; an upload's temporary path means
        nothing to its user).

    Returns
    -------
    (grids, left_out)
        The grids, and the file's columns the published layer does not have. Shapefile
        fields get their full names back from :data:`FIELDS_CSV`, or else from
        :func:`shapefile_fields` of the published columns.

    Raises
    ------
    InputFileError
        Naming the file: unreadable, or without ``grid_code``/``village_code``/``town_code``.
    """
    label = name or str(spec)
    try:
        frame = read_layer(spec, "grids", columns=columns, crs=crs).drop(columns="source_row")
    except InputFileError as exc:
        if name is None:
            raise
        raise InputFileError(label, exc.problem, exc.hint) from exc
    full = _shapefile_names(spec) or {
        short: col for col, short in shapefile_fields(list(published.columns)).items()
    }
    frame = frame.rename(
        columns={c: full[c] for c in frame.columns if c in full and full[c] not in frame.columns}
    )
    missing = [c for c in GRID_KEYS if c not in frame.columns]
    if missing:
        listed = ", ".join(missing)
        raise InputFileError(
            label,
            Text(f"缺少列 {listed}", f"no column {listed}"),
            Text(
                f"每个网格都要有 {', '.join(GRID_KEYS)}：在 QGIS 中编辑时保留这些列",
                f"every grid needs {', '.join(GRID_KEYS)}: keep these columns when editing in "
                f"QGIS, or map yours (command line: --columns {missing[0]}=<your column>)",
            ),
        )
    keep = [c for c in published.columns if c in frame.columns and c != "geometry"]
    left_out = [c for c in frame.columns if c not in published.columns and c != "geometry"]
    out = gpd.GeoDataFrame(frame[keep], geometry=frame.geometry.to_numpy(), crs=frame.crs)
    if published.crs is not None and out.crs != published.crs:
        out = out.to_crs(published.crs)
    return out.reset_index(drop=True), left_out


def read_grid_bytes(
    name: str, content: bytes, published: gpd.GeoDataFrame
) -> tuple[gpd.GeoDataFrame, list[str]]:
    """:func:`read_grid_file` of an uploaded file (``name`` picks the reader by its ending).

    Raises
    ------
    InputFileError
        Naming the upload: a type not in :data:`UPLOAD_SUFFIXES`, or as in ``read_grid_file``.
    """
    suffix = Path(name).suffix.lower()
    if suffix not in UPLOAD_SUFFIXES:
        raise InputFileError(
            name,
            Text(
                f"不支持的文件类型 {suffix or '(无扩展名)'}",
                f"unsupported file type {suffix or '(no file ending)'}",
            ),
            Text(
                "上传 GeoPackage (.gpkg)、GeoJSON (.geojson) 或压缩的 Shapefile (.zip)",
                "upload a GeoPackage (.gpkg), GeoJSON (.geojson) or zipped Shapefile (.zip)",
            ),
        )
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"upload{suffix}"
        path.write_bytes(content)
        return read_grid_file(path, published, name=name)


def _shapefile_names(spec: str | Path) -> dict[str, str]:
    """Short field → full column name from the :data:`FIELDS_CSV` of a zip written here."""
    path, _ = split_spec(spec)
    if path.suffix.lower() != ".zip" or not zipfile.is_zipfile(path):
        return {}
    with zipfile.ZipFile(path) as zf:
        member = next((n for n in zf.namelist() if Path(n).name == FIELDS_CSV), None)
        if member is None:
            return {}
        with zf.open(member) as fh:
            legend = pd.read_csv(fh, dtype=str, encoding="utf-8-sig")
    if not {"field", "column"} <= set(legend.columns):
        return {}
    return dict(zip(legend["field"], legend["column"], strict=True))


# --------------------------------------------------------------------------- back on the layer


@dataclass(frozen=True)
class ScopeImport:
    """The grids of one village (or town) taken from an edited layer.

    Attributes
    ----------
    grids
        Its grids from the file, snapped to the published vertices (:func:`snap_to_layer`).
    unchanged
        Per grid of ``grids``: True when a published grid has its code and shape.
    left_out
        Codes of the file's grids of other villages (not taken).
    edited_left_out
        Those of them that differ from the published layer: edits that are NOT taken.
    """

    grids: gpd.GeoDataFrame
    unchanged: np.ndarray
    left_out: list[str]
    edited_left_out: list[str]


def take_scope(
    grids: gpd.GeoDataFrame,
    published: gpd.GeoDataFrame,
    *,
    column: str,
    code: str,
    name: str,
) -> ScopeImport:
    """The grids of village (``column="village_code"``) or town ``code`` in an edited layer.

    Both layers in the same metric CRS; ``name`` is the file's name in messages.

    Raises
    ------
    InputFileError
        The layer holds no grid of ``code``; the message lists the codes it does hold.
    """
    codes = grids[column].astype(str)
    mine = grids[codes == str(code)]
    if mine.empty:
        found = sorted(set(codes))
        kind = column.removesuffix("_code")
        listing = ", ".join(found[:8]) + (", …" if len(found) > 8 else "")
        raise InputFileError(
            name,
            Text(
                f"文件中没有 {code} 的网格",
                f"no grid of {kind} {code} in the file (it has {column} {listing})",
            ),
            Text(
                f"导入 {code} 的网格，或先选择文件中的村(居)",
                f"give the grids of {code}, or pick a {kind} the file holds",
            ),
        )
    others = grids.drop(mine.index)
    snapped, unchanged = snap_to_layer(mine, published)
    edited: list[str] = []
    if len(others):
        back, same = snap_to_layer(others, published)
        edited = back.loc[~same, "grid_code"].astype(str).tolist()
    return ScopeImport(
        snapped.reset_index(drop=True),
        unchanged,
        others["grid_code"].astype(str).tolist(),
        edited,
    )


def snap_to_layer(
    grids: gpd.GeoDataFrame, published: gpd.GeoDataFrame, *, tolerance_m: float = SNAP_M
) -> tuple[gpd.GeoDataFrame, np.ndarray]:
    """Put back on the published layer's vertices those within ``tolerance_m`` of one, and give
    grids whose shape did not change the published geometry itself (ring order included).

    A layer exported as GeoJSON (WGS84) or Shapefile (rings turned clockwise) and read back
    differs from the published one by far less than a millimetre; without this every grid
    would look redrawn. Both layers in the same metric CRS. Returns the grids (a copy) and
    which of them have a published grid of the same code and shape.
    """
    out = grids.copy()
    geoms = out.geometry.to_numpy()
    if len(out):
        x0, y0, x1, y1 = (float(v) for v in out.total_bounds)
        pad = 10 * tolerance_m
        near = published.cx[x0 - pad : x1 + pad, y0 - pad : y1 + pad]
    else:
        near = published.iloc[:0]
    base_xy = np.unique(shapely.get_coordinates(near.geometry.to_numpy()), axis=0)
    coords = shapely.get_coordinates(geoms)
    if len(base_xy) and len(coords):
        tree = shapely.STRtree(np.asarray(shapely.points(base_xy)))
        hit_from, hit = tree.query_nearest(
            shapely.points(coords), max_distance=tolerance_m, all_matches=False
        )
        coords[hit_from] = base_xy[hit]
        geoms = shapely.set_coordinates(geoms.copy(), coords)
    same = np.zeros(len(out), dtype=bool)
    known = near.drop_duplicates("grid_code").set_index("grid_code").geometry
    for i, code in enumerate(out["grid_code"].astype(str).to_numpy()):
        if code in known.index and geoms[i] is not None:
            old = known[code]
            if shapely.equals_exact(_shape(geoms[i]), _shape(old), 0):
                geoms[i] = old
                same[i] = True
    out[out.geometry.name] = gpd.GeoSeries(geoms, index=out.index, crs=out.crs)
    return out, same


def _shape(geom: shapely.Geometry) -> shapely.Geometry:
    """The geometry normalised, a Polygon as a one-part MultiPolygon (Shapefiles drop that)."""
    multi = shapely.multipolygons([geom]) if shapely.get_type_id(geom) == 3 else geom
    return cast("shapely.Geometry", shapely.normalize(multi))
