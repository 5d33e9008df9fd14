"""What both backends share: name and value checks, quoting, values as a driver takes them,
geometries fitted to a column's type."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
import shapely
from pyproj import CRS

from geo.store.base import BBox, StoreError

_LAYER_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


def check_name(layer: str) -> str:
    if not _LAYER_NAME.match(layer):
        raise StoreError(
            f"layer name {layer!r} is not allowed; use lower-case letters, digits and _ "
            "(for example 'grids' or 'grids_2026')"
        )
    return layer


def check_values(layer: str, frame: pd.DataFrame) -> None:
    """Refuse dicts, lists, sets and tuples in a column, the same way in every store.

    PostGIS cannot store them and a GeoPackage would silently keep their ``repr`` text.
    """
    for i, column in enumerate(frame.columns):
        values = frame.iloc[:, i]
        if values.dtype != object or pd.api.types.infer_dtype(values, skipna=True) != "mixed":
            continue  # the common case, checked without a Python loop
        nested = values.map(lambda v: isinstance(v, (dict, list, set, tuple)))
        if nested.any():
            row = int(np.flatnonzero(nested.to_numpy(dtype=bool))[0]) + 1
            raise StoreError(
                f"layer {layer!r}: column {column!r} holds {type(values[nested].iloc[0]).__name__}"
                f" values (first in row {row}); a table holds one number, text or date per "
                "cell: convert the column to text (e.g. json.dumps) or split it into columns"
            )


def quote(name: str) -> str:
    """An SQL identifier, quoted."""
    return '"' + name.replace('"', '""') + '"'


def index_name(table: str, columns: Sequence[str]) -> str:
    return quote(f"gridgov_{table}_{'_'.join(columns)}"[:63])


def is_listlike(value: object) -> bool:
    return isinstance(value, (list, tuple, set, frozenset, np.ndarray, pd.Index, pd.Series))


def plain(value: object) -> object:
    """A numpy or pandas scalar as the plain Python value a database driver accepts."""
    if value is None or value is pd.NaT:
        return None
    if isinstance(value, float) and np.isnan(value):
        return None
    if isinstance(value, np.generic):
        return plain(value.item())
    return value


_MULTI_OF = {"POINT": "MULTIPOINT", "LINESTRING": "MULTILINESTRING", "POLYGON": "MULTIPOLYGON"}
_TYPE_ID = {"POINT": 0, "LINESTRING": 1, "POLYGON": 3, "MULTIPOINT": 4}
_TYPE_ID |= {"MULTILINESTRING": 5, "MULTIPOLYGON": 6}
_MAKE_MULTI: dict[str, Any] = {
    "MULTIPOINT": shapely.multipoints,
    "MULTILINESTRING": shapely.multilinestrings,
    "MULTIPOLYGON": shapely.multipolygons,
}


def fit_geometries(geoms: np.ndarray, declared: str) -> tuple[np.ndarray, str | None]:
    """Geometries made to fit a column declared ``declared`` (e.g. ``POLYGON``).

    One-part multi-geometries go into a single-type column as their part; otherwise the
    column must become multi: the second value then names the type it must change to.
    """
    declared = declared.upper()
    types = shapely.get_type_id(geoms)
    if declared in _MULTI_OF:
        is_multi = types == _TYPE_ID[_MULTI_OF[declared]]
        if not is_multi.any():
            return geoms, None
        if (shapely.get_num_geometries(geoms[is_multi]) == 1).all():
            out = geoms.copy()
            out[is_multi] = shapely.get_geometry(geoms[is_multi], 0)
            return out, None
        declared = _MULTI_OF[declared]
        return fit_geometries(geoms, declared)[0], declared
    if declared in _MAKE_MULTI:
        single = np.flatnonzero(types == _TYPE_ID[declared[5:]])
        if len(single):
            geoms = geoms.copy()
            geoms[single] = _MAKE_MULTI[declared](geoms[single][:, np.newaxis])
    return geoms, None


def bbox_in(bbox: BBox, bbox_crs: Any, table_crs: CRS | None) -> BBox:
    """``bbox`` moved from ``bbox_crs`` into the table's CRS (unchanged when either is None)."""
    if bbox_crs is None or table_crs is None or CRS.from_user_input(bbox_crs) == table_crs:
        return bbox
    from pyproj import Transformer

    move = Transformer.from_crs(bbox_crs, table_crs, always_xy=True)
    x0, y0, x1, y1 = move.transform_bounds(*bbox)
    return (x0, y0, x1, y1)


def sql_type_of(series: pd.Series, *, postgis: bool) -> str:
    """The column type to add for ``series`` when a table lacks it."""
    if pd.api.types.is_bool_dtype(series):
        return "boolean" if postgis else "BOOLEAN"
    if pd.api.types.is_integer_dtype(series):
        return "bigint" if postgis else "INTEGER"
    if pd.api.types.is_float_dtype(series):
        return "double precision" if postgis else "REAL"
    if isinstance(series.dtype, pd.DatetimeTZDtype):
        return "timestamptz" if postgis else "DATETIME"
    if pd.api.types.is_datetime64_dtype(series):
        return "timestamp" if postgis else "DATETIME"
    return "text" if postgis else "TEXT"


def python_values(series: pd.Series, *, text_datetimes: bool) -> list[object]:
    """The column as plain Python values, None for missing ones.

    Datetimes become GeoPackage text (``2026-11-20T18:00:01.000``, ``Z`` when tz-aware) when
    ``text_datetimes``, else ``datetime`` objects.
    """
    if isinstance(series.dtype, pd.CategoricalDtype):
        series = series.astype(object)
    if pd.api.types.is_datetime64_any_dtype(series):
        aware = isinstance(series.dtype, pd.DatetimeTZDtype)
        if aware:
            series = series.dt.tz_convert("UTC")
        if text_datetimes:
            text = series.dt.strftime("%Y-%m-%dT%H:%M:%S.%f").str[:23]
            if aware:
                text = text + "Z"
            return text.to_numpy(dtype=object, na_value=None).tolist()
        return [None if pd.isna(v) else v.to_pydatetime() for v in series.tolist()]
    if pd.api.types.is_bool_dtype(series) and series.dtype != object and series.notna().all():
        return [bool(v) for v in series.tolist()]
    if pd.api.types.is_numeric_dtype(series) and series.dtype != object:
        if series.notna().all():
            return series.tolist()  # plain ints and floats
        values = series.to_numpy(dtype=object)
        values[pd.isna(values)] = None
        return [plain(v) for v in values.tolist()]
    if pd.api.types.is_string_dtype(series.dtype) and series.dtype != object:
        values = series.to_numpy(dtype=object)
        values[pd.isna(values)] = None
        return values.tolist()
    out = [plain(v) for v in series.tolist()]
    for i, v in enumerate(out):
        if isinstance(v, pd.Timestamp | dt.datetime):
            ts = pd.Timestamp(v)
            out[i] = ts.isoformat(timespec="milliseconds") if text_datetimes else v
        elif v is pd.NA:
            out[i] = None
    return out
