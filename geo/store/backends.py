"""The store: a GeoPackage file by default, PostGIS when ``DATABASE_URL`` names one.

Both keep one table per layer (``towns``, ``villages``, ``grids``, ``households``,
``service_points``, ``issues`` plus plain tables such as ``meta``) and replace a layer
atomically: a failed save leaves the last good state in place.

For changes that touch a few rows of large layers (publishing a grid version rewrites some
issues' grid codes), ``transaction()`` reads, appends, updates and deletes rows in place and
commits all of it or nothing: one SQLite transaction in the GeoPackage file, one
PostgreSQL transaction in PostGIS.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import sqlite3
import struct
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, closing, contextmanager, suppress
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely
from pyproj import CRS

from geo.core.errors import GridGovError

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

_LAYER_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


class StoreError(GridGovError):
    """The store cannot be opened, read or written."""


class Store(Protocol):
    """What every store offers."""

    location: str

    def layers(self) -> list[str]:
        """Names of the layers present."""
        ...

    def read(self, layer: str) -> pd.DataFrame:
        """Read a layer (a GeoDataFrame when it has geometry)."""
        ...

    def write(self, layers: Mapping[str, pd.DataFrame]) -> None:
        """Replace the given layers, all or none."""
        ...

    def version(self, layers: Sequence[str] | None = None) -> str:
        """A cheap key that changes whenever the store's content changes (for caching).

        With ``layers``, a key that changes when one of those layers changes: writing other
        tables (a planner's draft, say) leaves it as it is.
        """
        ...

    def transaction(self, *, readonly: bool = False) -> AbstractContextManager[Transaction]:
        """A transaction over existing tables: every change in it is kept, or none is."""
        ...

    def create_tables(
        self,
        templates: Mapping[str, pd.DataFrame],
        *,
        indexes: Mapping[str, Sequence[Sequence[str]]] | None = None,
    ) -> None:
        """Create the missing tables (empty, with the templates' columns) and indexes."""
        ...


#: A ``where`` filter: column → value (``=``), or column → list of values (``IN``).
Where = Mapping[str, object]
#: ``(minx, miny, maxx, maxy)``.
BBox = tuple[float, float, float, float]


class Transaction(Protocol):
    """Row-level reads and writes inside one store transaction.

    Obtained from ``store.transaction()``; leaving the ``with`` block commits, an exception
    inside it rolls everything back and propagates unchanged. Tables must exist already
    (``create_tables``); ``append`` adds columns a table lacks.
    """

    def lock(self, name: str) -> None:
        """Serialise with every other transaction that takes the same lock, until commit."""
        ...

    def columns(self, table: str) -> list[str]:
        """The table's columns, ``geometry`` standing for its geometry column."""
        ...

    def read(
        self,
        table: str,
        *,
        columns: Sequence[str] | None = None,
        where: Where | None = None,
        bbox: BBox | None = None,
        bbox_crs: Any = None,
    ) -> pd.DataFrame:
        """Rows of ``table`` (a GeoDataFrame with ``geometry`` when it has geometry).

        ``columns`` picks columns (``"geometry"`` included); ``bbox`` keeps features whose
        bounding box meets it, given in ``bbox_crs`` (default: the table's CRS).
        """
        ...

    def append(self, table: str, frame: pd.DataFrame) -> None:
        """Insert the rows of ``frame`` (missing columns are added to the table)."""
        ...

    def delete(self, table: str, where: Where) -> int:
        """Delete the rows matching ``where`` (which must not be empty); return how many."""
        ...

    def update(self, table: str, frame: pd.DataFrame, *, key: str) -> int:
        """Set the other columns of ``frame`` on the rows whose ``key`` matches; return how many."""
        ...


def _check_name(layer: str) -> str:
    if not _LAYER_NAME.match(layer):
        raise StoreError(
            f"layer name {layer!r} is not allowed; use lower-case letters, digits and _ "
            "(for example 'grids' or 'grids_2026')"
        )
    return layer


def _check_values(layer: str, frame: pd.DataFrame) -> None:
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


class GeoPackageStore:
    """Layers in one GeoPackage file (opens in QGIS).

    Parameters
    ----------
    path
        The ``.gpkg`` file; created on first write.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.location = str(self.path)

    def layers(self) -> list[str]:
        if not self.path.exists():
            return []
        _recover_hot_journal(self.path)
        return [str(name) for name in pyogrio.list_layers(self.path)[:, 0]]

    def read(self, layer: str) -> pd.DataFrame:
        if layer not in self.layers():
            raise StoreError(f"{self.path}: no layer {layer!r}; it has {self.layers()}")
        return pyogrio.read_dataframe(self.path, layer=layer, use_arrow=True)

    def write(self, layers: Mapping[str, pd.DataFrame]) -> None:
        for name, frame in layers.items():
            _check_name(name)
            _check_values(name, frame)
        write_geopackage(self.path, layers, keep_existing=True)

    def version(self, layers: Sequence[str] | None = None) -> str:
        if not self.path.exists():
            return "absent"
        stat = self.path.stat()
        whole = f"{stat.st_mtime_ns}-{stat.st_size}"
        if layers is None:
            return whole
        # gpkg_contents.last_change (milliseconds) is kept by GDAL, QGIS and our transactions;
        # write() swaps in a new file, hence the inode.
        try:
            with closing(sqlite3.connect(f"file:{self.path}?mode=ro", uri=True)) as conn:
                rows = conn.execute("SELECT table_name, last_change FROM gpkg_contents").fetchall()
        except sqlite3.Error:  # a file being swapped or recovered: the whole-file key
            return whole
        wanted = {name.lower() for name in layers}
        changes = sorted(f"{t.lower()}={c}" for t, c in rows if str(t).lower() in wanted)
        return f"{stat.st_ino}:" + ";".join(changes)

    @contextmanager
    def transaction(self, *, readonly: bool = False) -> Iterator[Transaction]:
        """One SQLite transaction in the file (``BEGIN IMMEDIATE`` unless ``readonly``).

        SQLite's rollback journal makes it all or nothing, also when the process dies: the
        next opening of the file rolls an unfinished transaction back. Writers wait for each
        other (up to 60 s); readers keep reading the last committed state meanwhile. ``write``
        swaps in a whole new file instead, so it must not run while a transaction is open.
        """
        if not self.path.exists():
            raise StoreError(f"{self.path}: no such GeoPackage; write its layers first")
        try:
            conn = sqlite3.connect(self.path, timeout=_SQLITE_TIMEOUT_S, isolation_level=None)
        except sqlite3.Error as exc:
            raise StoreError(f"{self.path}: cannot open the GeoPackage ({exc})") from exc
        try:
            _register_gpkg_functions(conn)
            # Keep the changes in memory until COMMIT, so readers are not locked out early.
            conn.execute(f"PRAGMA cache_size = -{_SQLITE_CACHE_KIB}")
            conn.execute("BEGIN" if readonly else "BEGIN IMMEDIATE")
        except sqlite3.Error as exc:
            conn.close()
            raise StoreError(
                f"{self.path}: cannot start a transaction ({exc}); another program may be "
                "writing the file: try again"
            ) from exc
        tx = _GeoPackageTransaction(conn, self.path, readonly=readonly)
        try:
            yield tx
            with _sqlite_errors(self.path, "committing"):
                tx.finish()
                conn.execute("COMMIT")
        except BaseException:
            with suppress(sqlite3.Error):
                conn.execute("ROLLBACK")
            raise
        finally:
            conn.close()

    def create_tables(
        self,
        templates: Mapping[str, pd.DataFrame],
        *,
        indexes: Mapping[str, Sequence[Sequence[str]]] | None = None,
    ) -> None:
        """Create each missing table empty, with its template's columns, and the indexes.

        A table that exists already is left as it is. Geometry tables take the geometry type
        of the template's rows (Polygon promoted to MultiPolygon).
        """
        present = set(self.layers())
        for name, frame in templates.items():
            _check_name(name)
            if name in present:
                continue
            try:
                if isinstance(frame, gpd.GeoDataFrame):
                    pyogrio.write_dataframe(
                        frame.iloc[:0],
                        self.path,
                        layer=name,
                        driver="GPKG",
                        geometry_type=_geometry_type_name(frame),
                    )
                else:
                    pyogrio.write_dataframe(
                        pd.DataFrame(frame.iloc[:0]), self.path, layer=name, driver="GPKG"
                    )
            except Exception as exc:
                raise StoreError(f"{self.path}: cannot create table {name!r} ({exc})") from exc
        if not indexes:
            return
        with _sqlite_errors(self.path, "creating indexes"):
            conn = sqlite3.connect(self.path, timeout=_SQLITE_TIMEOUT_S)
            try:
                with conn:
                    for table, column_sets in indexes.items():
                        for columns in column_sets:
                            conn.execute(
                                f"CREATE INDEX IF NOT EXISTS {_index_name(table, columns)} "
                                f"ON {_quote(table)} ({', '.join(map(_quote, columns))})"
                            )
            finally:
                conn.close()


def write_geopackage(
    path: str | Path, layers: Mapping[str, pd.DataFrame], *, keep_existing: bool = False
) -> None:
    """Write layers into a GeoPackage atomically (a temporary file, then a rename).

    Parameters
    ----------
    path
        Target ``.gpkg`` file.
    layers
        Layer name → DataFrame or GeoDataFrame.
    keep_existing
        Keep the file's other layers (copy them across) instead of starting afresh.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.stem}-", suffix=".gpkg", dir=path.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    tmp.unlink()
    try:
        if keep_existing and path.exists():
            for name in pyogrio.list_layers(path)[:, 0]:
                if name not in layers:
                    _write_layer(tmp, str(name), pyogrio.read_dataframe(path, layer=name))
        for name, frame in layers.items():
            _write_layer(tmp, name, frame)
        os.replace(tmp, path)
    except Exception as exc:
        tmp.unlink(missing_ok=True)
        raise StoreError(f"{path}: saving failed, the previous version is kept ({exc})") from exc


def _write_layer(path: Path, name: str, frame: pd.DataFrame) -> None:
    if isinstance(frame, gpd.GeoDataFrame):
        geom_types = set(frame.geom_type.dropna().unique())
        promote = bool(geom_types & {"Polygon", "MultiPolygon"}) and len(geom_types) > 1
        pyogrio.write_dataframe(frame, path, layer=name, driver="GPKG", promote_to_multi=promote)
    else:
        pyogrio.write_dataframe(pd.DataFrame(frame), path, layer=name, driver="GPKG")


class PostGISStore:
    """Layers as tables in a PostGIS database.

    Parameters
    ----------
    url
        SQLAlchemy URL, e.g. ``postgresql+psycopg://user:pw@127.0.0.1:5432/gridgov``.
    schema
        Schema holding the tables (created if missing).
    """

    def __init__(self, url: str, *, schema: str = "public") -> None:
        from sqlalchemy import create_engine, text

        self.url = url = _with_driver(url)
        self.schema = _check_name(schema)
        self.location = _redact(url)
        try:
            # hide_parameters: a failed INSERT must not echo callers' names and phones.
            self.engine = create_engine(
                url, connect_args={"connect_timeout": 10}, hide_parameters=True
            )
            with self.engine.begin() as conn:
                conn.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{self.schema}"'))
                conn.execute(
                    text(
                        f'CREATE TABLE IF NOT EXISTS "{self.schema}"._gridgov_versions '
                        "(layer text PRIMARY KEY, version bigint NOT NULL, written_at timestamptz)"
                    )
                )
        except Exception as exc:
            raise StoreError(
                f"cannot open PostGIS store {self.location}: {exc}. Check DATABASE_URL, "
                "that the server runs and that `CREATE EXTENSION postgis` was done"
            ) from exc

    def layers(self) -> list[str]:
        from sqlalchemy import text

        with self.engine.connect() as conn:
            rows = conn.execute(
                text(
                    "SELECT table_name FROM information_schema.tables WHERE table_schema = :s "
                    "AND table_name NOT LIKE '\\_%' ORDER BY table_name"
                ),
                {"s": self.schema},
            )
            return [r[0] for r in rows]

    def read(self, layer: str) -> pd.DataFrame:
        from sqlalchemy import text

        _check_name(layer)
        if layer not in self.layers():
            raise StoreError(f"{self.location}: no table {layer!r}; it has {self.layers()}")
        with self.engine.connect() as conn:
            geom = conn.execute(
                text(
                    "SELECT f_geometry_column FROM geometry_columns "
                    "WHERE f_table_schema = :s AND f_table_name = :t"
                ),
                {"s": self.schema, "t": layer},
            ).scalar()
            sql = f'SELECT * FROM "{self.schema}"."{layer}"'
            if geom:
                frame = gpd.read_postgis(text(sql), conn, geom_col=geom)
                return frame.rename_geometry("geometry") if geom != "geometry" else frame
            return pd.read_sql(text(sql), conn)

    def write(self, layers: Mapping[str, pd.DataFrame]) -> None:
        from sqlalchemy import text

        for name, frame in layers.items():
            _check_name(name)
            _check_values(name, frame)
        try:
            with self.engine.begin() as conn:  # one transaction: all layers or none
                for name, frame in layers.items():
                    tmp = f"_new_{name}"[:63]
                    # A table written before this fix may still carry idx__new_<name>_...
                    self._rename_indexes(conn, name, tmp, name)
                    if isinstance(frame, gpd.GeoDataFrame):
                        frame.to_postgis(
                            tmp, conn, schema=self.schema, if_exists="replace", index=False
                        )
                    else:
                        pd.DataFrame(frame).to_sql(
                            tmp, conn, schema=self.schema, if_exists="replace", index=False
                        )
                    conn.execute(text(f'DROP TABLE IF EXISTS "{self.schema}"."{name}"'))
                    conn.execute(text(f'ALTER TABLE "{self.schema}"."{tmp}" RENAME TO "{name}"'))
                    # Its spatial index is still named after the temporary table; free that
                    # name, or the next save cannot create idx__new_<name>_geometry again.
                    self._rename_indexes(conn, name, tmp, name)
                    conn.execute(
                        text(
                            f'INSERT INTO "{self.schema}"._gridgov_versions VALUES (:l, 1, now()) '
                            "ON CONFLICT (layer) DO UPDATE SET version = "
                            "_gridgov_versions.version + 1, written_at = now()"
                        ),
                        {"l": name},
                    )
        except Exception as exc:
            raise StoreError(
                f"{self.location}: saving failed, the previous version is kept ({exc})"
            ) from exc

    def _rename_indexes(self, conn: Connection, table: str, old: str, new: str) -> None:
        """Rename the indexes of ``table`` whose names contain ``old`` to contain ``new``."""
        from sqlalchemy import text

        rows = conn.execute(
            text("SELECT indexname FROM pg_indexes WHERE schemaname = :s AND tablename = :t"),
            {"s": self.schema, "t": table},
        ).all()
        for (index,) in rows:
            if old in index:
                renamed = index.replace(old, new, 1)[:63]
                conn.execute(text(f'ALTER INDEX "{self.schema}"."{index}" RENAME TO "{renamed}"'))

    @contextmanager
    def transaction(self, *, readonly: bool = False) -> Iterator[Transaction]:
        """One PostgreSQL transaction; a dropped connection rolls it back on the server."""
        from sqlalchemy.exc import SQLAlchemyError

        try:
            conn = self.engine.connect()
            outer = conn.begin()
            if readonly:
                conn.exec_driver_sql("SET TRANSACTION READ ONLY")
        except SQLAlchemyError as exc:
            raise StoreError(f"{self.location}: cannot start a transaction ({exc})") from exc
        tx = _PostGISTransaction(self, conn, readonly=readonly)
        try:
            yield tx
            with _sql_errors(self.location, "committing"):
                tx.finish()
                outer.commit()
        except BaseException:
            with suppress(SQLAlchemyError):
                outer.rollback()
            raise
        finally:
            conn.close()

    def create_tables(
        self,
        templates: Mapping[str, pd.DataFrame],
        *,
        indexes: Mapping[str, Sequence[Sequence[str]]] | None = None,
    ) -> None:
        """Create each missing table empty, with its template's columns, and the indexes."""
        from sqlalchemy import text

        with _sql_errors(self.location, "creating tables"), self.engine.begin() as conn:
            conn.execute(
                text("SELECT pg_advisory_xact_lock(hashtext(:k))"),
                {"k": f"{self.schema}.create_tables"},
            )
            present = set(
                conn.execute(
                    text(
                        "SELECT table_name FROM information_schema.tables WHERE table_schema = :s"
                    ),
                    {"s": self.schema},
                ).scalars()
            )
            for name, frame in templates.items():
                _check_name(name)
                if name in present:
                    continue
                if isinstance(frame, gpd.GeoDataFrame):
                    frame.iloc[:0].to_postgis(name, conn, schema=self.schema, index=False)
                else:
                    pd.DataFrame(frame.iloc[:0]).to_sql(name, conn, schema=self.schema, index=False)
            for table, column_sets in (indexes or {}).items():
                for columns in column_sets:
                    conn.execute(
                        text(
                            f"CREATE INDEX IF NOT EXISTS {_index_name(table, columns)} ON "
                            f"{_quote(self.schema)}.{_quote(table)} "
                            f"({', '.join(map(_quote, columns))})"
                        )
                    )

    def version(self, layers: Sequence[str] | None = None) -> str:
        from sqlalchemy import text

        with self.engine.connect() as conn:
            rows = conn.execute(
                text(f'SELECT layer, version FROM "{self.schema}"._gridgov_versions ORDER BY layer')
            )
            wanted = None if layers is None else set(layers)
            key = ";".join(f"{a}={b}" for a, b in rows if wanted is None or a in wanted)
            return key or "empty"


def _with_driver(url: str) -> str:
    """``postgres://`` and ``postgresql://`` (libpq style) → the installed psycopg 3 driver.

    SQLAlchemy would otherwise look for psycopg2 (or fail on ``postgres://``).
    """
    return re.sub(r"^postgres(?:ql)?://", "postgresql+psycopg://", url)


def _redact(url: str) -> str:
    """The URL with its password hidden."""
    return re.sub(r"://([^:/@]+):[^@]*@", r"://\1:***@", url)


def open_store(location: str | Path, *, schema: str = "public") -> Store:
    """Open a store: a PostgreSQL URL gives PostGIS (tables in ``schema``), else a GeoPackage."""
    text_location = str(location)
    if text_location.startswith(("postgresql", "postgres://")):
        return PostGISStore(text_location, schema=schema)
    return GeoPackageStore(text_location)


# --- Transactions: the plumbing behind Store.transaction() ---------------------------------

_SQLITE_TIMEOUT_S = 60.0
_SQLITE_CACHE_KIB = 262_144  # 256 MiB of page cache before SQLite spills to the file
_INTEGER_TYPES = ("INTEGER", "INT", "MEDIUMINT", "SMALLINT", "TINYINT", "BIGINT")
_REAL_TYPES = ("REAL", "FLOAT", "DOUBLE")
#: Bytes of the envelope in a GeoPackage geometry header, by envelope indicator.
_GPKG_ENVELOPE_BYTES = (0, 32, 48, 48, 64)
_BULK_ROWS = 64  # from this many rows on, appends set GDAL's per-row triggers aside


def _quote(name: str) -> str:
    """An SQL identifier, quoted."""
    return '"' + name.replace('"', '""') + '"'


def _index_name(table: str, columns: Sequence[str]) -> str:
    return _quote(f"gridgov_{table}_{'_'.join(columns)}"[:63])


def _is_listlike(value: object) -> bool:
    return isinstance(value, (list, tuple, set, frozenset, np.ndarray, pd.Index, pd.Series))


def _plain(value: object) -> object:
    """A numpy or pandas scalar as the plain Python value a database driver accepts."""
    if value is None or value is pd.NaT:
        return None
    if isinstance(value, float) and np.isnan(value):
        return None
    if isinstance(value, np.generic):
        return _plain(value.item())
    return value


def _geometry_type_name(frame: gpd.GeoDataFrame) -> str:
    types = set(frame.geom_type.dropna().unique())
    if not types:
        return "Unknown"
    if types <= {"Polygon", "MultiPolygon"} and len(types) > 1:
        return "MultiPolygon"
    return str(types.pop()) if len(types) == 1 else "Unknown"


_MULTI_OF = {"POINT": "MULTIPOINT", "LINESTRING": "MULTILINESTRING", "POLYGON": "MULTIPOLYGON"}
_TYPE_ID = {"POINT": 0, "LINESTRING": 1, "POLYGON": 3, "MULTIPOINT": 4}
_TYPE_ID |= {"MULTILINESTRING": 5, "MULTIPOLYGON": 6}
_MAKE_MULTI: dict[str, Any] = {
    "MULTIPOINT": shapely.multipoints,
    "MULTILINESTRING": shapely.multilinestrings,
    "MULTIPOLYGON": shapely.multipolygons,
}


def _fit_geometries(geoms: np.ndarray, declared: str) -> tuple[np.ndarray, str | None]:
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
        return _fit_geometries(geoms, declared)[0], declared
    if declared in _MAKE_MULTI:
        single = np.flatnonzero(types == _TYPE_ID[declared[5:]])
        if len(single):
            geoms = geoms.copy()
            geoms[single] = _MAKE_MULTI[declared](geoms[single][:, np.newaxis])
    return geoms, None


def _bbox_in(bbox: BBox, bbox_crs: Any, table_crs: CRS | None) -> BBox:
    """``bbox`` moved from ``bbox_crs`` into the table's CRS (unchanged when either is None)."""
    if bbox_crs is None or table_crs is None or CRS.from_user_input(bbox_crs) == table_crs:
        return bbox
    from pyproj import Transformer

    move = Transformer.from_crs(bbox_crs, table_crs, always_xy=True)
    x0, y0, x1, y1 = move.transform_bounds(*bbox)
    return (x0, y0, x1, y1)


def _sql_type_of(series: pd.Series, *, postgis: bool) -> str:
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


def _values(series: pd.Series, *, text_datetimes: bool) -> list[object]:
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
        return [_plain(v) for v in values.tolist()]
    if pd.api.types.is_string_dtype(series.dtype) and series.dtype != object:
        values = series.to_numpy(dtype=object)
        values[pd.isna(values)] = None
        return values.tolist()
    out = [_plain(v) for v in series.tolist()]
    for i, v in enumerate(out):
        if isinstance(v, pd.Timestamp | dt.datetime):
            ts = pd.Timestamp(v)
            out[i] = ts.isoformat(timespec="milliseconds") if text_datetimes else v
        elif v is pd.NA:
            out[i] = None
    return out


def _recover_hot_journal(path: Path) -> None:
    """Roll back a transaction that a crashed writer left behind in ``path``.

    SQLite does this on the next read-write opening; GDAL opens read-only and would refuse
    the file ("attempt to write a readonly database") until then.
    """
    if not Path(f"{path}-journal").exists():
        return
    with suppress(sqlite3.Error):
        conn = sqlite3.connect(path, timeout=_SQLITE_TIMEOUT_S)
        try:
            conn.execute("SELECT count(*) FROM sqlite_master").fetchall()
        finally:
            conn.close()


@contextmanager
def _sqlite_errors(path: Path, action: str) -> Iterator[None]:
    try:
        yield
    except sqlite3.Error as exc:
        raise StoreError(f"{path}: {action} failed, nothing was changed ({exc})") from exc


@contextmanager
def _sql_errors(location: str, action: str) -> Iterator[None]:
    from sqlalchemy.exc import SQLAlchemyError

    try:
        yield
    except SQLAlchemyError as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise StoreError(f"{location}: {action} failed, nothing was changed ({first})") from exc


# GeoPackage geometry blobs: "GP", version, flags, srs_id, optional envelope, then WKB.


def _gpkg_envelope(blob: bytes | None) -> tuple[float, float, float, float] | None:
    """``(minx, maxx, miny, maxy)`` of a GeoPackage geometry blob (None when empty)."""
    if blob is None:
        return None
    flags = blob[3]
    if flags & 0x10:
        return None
    if (flags >> 1) & 0x07:
        return struct.unpack_from("<4d" if flags & 0x01 else ">4d", blob, 8)
    x0, y0, x1, y1 = shapely.from_wkb(bytes(blob[8:])).bounds
    return (x0, x1, y0, y1)


def _register_gpkg_functions(conn: sqlite3.Connection) -> None:
    """The SQL functions that GDAL's R-tree triggers call (normally provided by GDAL)."""

    def is_empty(blob: bytes | None) -> int | None:
        return None if blob is None else int(bool(blob[3] & 0x10))

    def bound(i: int) -> Any:
        def f(blob: bytes | None) -> float | None:
            env = _gpkg_envelope(blob)
            return None if env is None else env[i]

        return f

    conn.create_function("ST_IsEmpty", 1, is_empty, deterministic=True)
    for i, name in enumerate(("ST_MinX", "ST_MaxX", "ST_MinY", "ST_MaxY")):
        conn.create_function(name, 1, bound(i), deterministic=True)


def _gpkg_encode(geoms: np.ndarray, srs_id: int) -> list[bytes | None]:
    """GeoPackage blobs (little-endian, with an XY envelope except for points)."""
    wkb = shapely.to_wkb(geoms, byte_order=1, flavor="iso")
    bounds = shapely.bounds(geoms)
    empty = shapely.is_empty(geoms)
    point = shapely.get_type_id(geoms) == 0
    out: list[bytes | None] = []
    for w, (x0, y0, x1, y1), e, p in zip(wkb, bounds, empty, point, strict=True):
        if w is None:
            out.append(None)
        elif e or p:
            out.append(struct.pack("<2sBBi", b"GP", 0, 0x11 if e else 0x01, srs_id) + w)
        else:
            out.append(struct.pack("<2sBBi4d", b"GP", 0, 0x03, srs_id, x0, x1, y0, y1) + w)
    return out


def _gpkg_decode(blobs: Sequence[bytes | None]) -> np.ndarray:
    wkb = [
        None if b is None else bytes(b[8 + _GPKG_ENVELOPE_BYTES[(b[3] >> 1) & 0x07] :])
        for b in blobs
    ]
    return shapely.from_wkb(wkb)


class _GpkgTable:
    """What a transaction needs to know about one table of a GeoPackage."""

    def __init__(self, conn: sqlite3.Connection, name: str) -> None:
        self.name = name
        info = conn.execute(f"PRAGMA table_info({_quote(name)})").fetchall()
        if not info:
            tables = [r[0] for r in conn.execute("SELECT table_name FROM gpkg_contents ORDER BY 1")]
            raise StoreError(f"no table {name!r}; it has {tables}")
        self.types = {str(r[1]): str(r[2]).upper() for r in info}
        self.fid = next((str(r[1]) for r in info if r[5] == 1), None)
        row = conn.execute(
            "SELECT column_name, srs_id, geometry_type_name FROM gpkg_geometry_columns "
            "WHERE lower(table_name) = lower(?)",
            (name,),
        ).fetchone()
        self.geom: str | None = str(row[0]) if row else None
        self.srs_id = int(row[1]) if row else 0
        self.geometry_type = str(row[2]).upper() if row else ""
        self.crs: CRS | None = None
        if row and self.srs_id > 0:
            srs = conn.execute(
                "SELECT organization, organization_coordsys_id, definition "
                "FROM gpkg_spatial_ref_sys WHERE srs_id = ?",
                (self.srs_id,),
            ).fetchone()
            if srs is not None:
                org, code, definition = srs
                self.crs = CRS.from_user_input(
                    f"{org}:{code}" if str(org).upper() == "EPSG" else definition
                )
        rtree = f"rtree_{name}_{self.geom}"
        self.rtree = (
            rtree
            if self.geom
            and conn.execute(
                "SELECT 1 FROM sqlite_master WHERE name = ? AND type = 'table'", (rtree,)
            ).fetchone()
            else None
        )

    def attributes(self) -> list[str]:
        return [c for c in self.types if c not in (self.fid, self.geom)]

    def check_columns(self, columns: Sequence[str]) -> None:
        unknown = [c for c in columns if c not in self.types and c != "geometry"]
        if unknown:
            raise StoreError(
                f"table {self.name!r} has no column(s) {unknown}; it has {self.attributes()}"
            )


class _GeoPackageTransaction:
    """Row-level reads and writes on one open SQLite transaction (see ``Transaction``)."""

    def __init__(self, conn: sqlite3.Connection, path: Path, *, readonly: bool) -> None:
        self._conn = conn
        self._path = path
        self._readonly = readonly
        self._tables: dict[str, _GpkgTable] = {}
        self._changed: set[str] = set()
        self._counted: set[str] = set()
        self._extents: dict[str, list[float]] = {}

    def _table(self, name: str) -> _GpkgTable:
        _check_name(name)
        if name not in self._tables:
            with _sqlite_errors(self._path, f"reading table {name!r}"):
                try:
                    self._tables[name] = _GpkgTable(self._conn, name)
                except StoreError as exc:
                    raise StoreError(f"{self._path}: {exc}") from None
        return self._tables[name]

    def _writable(self, name: str) -> _GpkgTable:
        if self._readonly:
            raise StoreError(f"{self._path}: cannot change {name!r} in a read-only transaction")
        self._changed.add(name)
        return self._table(name)

    def _where(self, table: _GpkgTable, where: Where | None) -> tuple[list[str], list[object]]:
        clauses: list[str] = []
        params: list[object] = []
        table.check_columns(list(where or {}))
        for column, value in (where or {}).items():
            if _is_listlike(value):
                items = [_plain(v) for v in value]  # type: ignore[attr-defined]
                clauses.append(f"{_quote(column)} IN (SELECT value FROM json_each(?))")
                params.append(json.dumps(items, ensure_ascii=False))
            elif _plain(value) is None:
                clauses.append(f"{_quote(column)} IS NULL")
            else:
                clauses.append(f"{_quote(column)} = ?")
                params.append(_plain(value))
        return clauses, params

    def lock(self, name: str) -> None:
        """A no-op: ``BEGIN IMMEDIATE`` already serialises every writer of the file."""

    def columns(self, table: str) -> list[str]:
        t = self._table(table)
        return [*t.attributes(), *(["geometry"] if t.geom else [])]

    def read(
        self,
        table: str,
        *,
        columns: Sequence[str] | None = None,
        where: Where | None = None,
        bbox: BBox | None = None,
        bbox_crs: Any = None,
    ) -> pd.DataFrame:
        t = self._table(table)
        if columns is None:
            names = t.attributes()
            with_geom = t.geom is not None
        else:
            t.check_columns(columns)
            names = [c for c in columns if c not in ("geometry", t.geom)]
            with_geom = t.geom is not None and ("geometry" in columns or t.geom in columns)
        select = [_quote(c) for c in names]
        if with_geom and t.geom:
            select.append(_quote(t.geom))
        clauses, params = self._where(t, where)
        if bbox is not None and t.geom is not None:
            x0, y0, x1, y1 = _bbox_in(bbox, bbox_crs, t.crs)
            if t.rtree:
                clauses.append(
                    f"{_quote(t.fid or 'rowid')} IN (SELECT id FROM {_quote(t.rtree)} "
                    "WHERE maxx >= ? AND minx <= ? AND maxy >= ? AND miny <= ?)"
                )
            else:
                clauses.append(
                    f"ST_MaxX({_quote(t.geom)}) >= ? AND ST_MinX({_quote(t.geom)}) <= ? AND "
                    f"ST_MaxY({_quote(t.geom)}) >= ? AND ST_MinY({_quote(t.geom)}) <= ?"
                )
            params += [x0, x1, y0, y1]
        sql = f"SELECT {', '.join(select) or 'NULL'} FROM {_quote(table)}"
        if clauses:
            sql += " WHERE " + " AND ".join(clauses)
        if t.fid:
            sql += f" ORDER BY {_quote(t.fid)}"
        with _sqlite_errors(self._path, f"reading {table!r}"):
            rows = self._conn.execute(sql, params).fetchall()
        cols = list(zip(*rows, strict=True)) if rows else [() for _ in select]
        frame = pd.DataFrame(
            {name: _from_sqlite(list(cols[i]), t.types[name]) for i, name in enumerate(names)},
            index=pd.RangeIndex(len(rows)),
        )
        if not (with_geom and t.geom):
            return frame
        geometry = gpd.GeoSeries(_gpkg_decode(cols[len(names)]), index=frame.index, crs=t.crs)
        return gpd.GeoDataFrame(frame, geometry=geometry, crs=t.crs)

    def append(self, table: str, frame: pd.DataFrame) -> None:
        _check_values(table, frame)
        t = self._writable(table)
        is_geo = isinstance(frame, gpd.GeoDataFrame)
        if is_geo and t.geom is None:
            raise StoreError(f"{self._path}: table {table!r} has no geometry column")
        names = [c for c in frame.columns if not (is_geo and c == frame.geometry.name)]
        names = [c for c in names if c != t.fid]
        with _sqlite_errors(self._path, f"appending to {table!r}"):
            for name in names:
                if name not in t.types:
                    kind = _sql_type_of(frame[name], postgis=False)
                    self._conn.execute(
                        f"ALTER TABLE {_quote(table)} ADD COLUMN {_quote(name)} {kind}"
                    )
                    t.types[name] = kind
            values = [_values(frame[c], text_datetimes=True) for c in names]
            targets = [_quote(c) for c in names]
            if is_geo and t.geom:
                geoms = frame.geometry
                if t.crs is not None and geoms.crs is not None and geoms.crs != t.crs:
                    geoms = geoms.to_crs(t.crs)
                # A multi-part geometry in a single-type layer stays as it is: SQLite cannot
                # change a column's declared type, and GDAL reads such rows as they are.
                array, _ = _fit_geometries(geoms.to_numpy(), t.geometry_type)
                values.append(_gpkg_encode(array, t.srs_id))  # type: ignore[arg-type]
                targets.append(_quote(t.geom))
                if len(array) and not shapely.is_empty(array).all():
                    x0, y0, x1, y1 = shapely.total_bounds(array)
                    ext = self._extents.setdefault(table, [x0, y0, x1, y1])
                    ext[:] = [min(ext[0], x0), min(ext[1], y0), max(ext[2], x1), max(ext[3], y1)]
            if not len(frame):
                return
            marks = ", ".join("?" * len(targets))
            insert = f"INSERT INTO {_quote(table)} ({', '.join(targets)}) VALUES ({marks})"
            if len(frame) < _BULK_ROWS:
                self._conn.executemany(insert, zip(*values, strict=True))
            else:
                self._bulk_insert(t, insert, zip(*values, strict=True))
        self._counted.add(table)

    def _bulk_insert(self, t: _GpkgTable, insert: str, rows: Any) -> None:
        """Insert many rows with GDAL's per-row triggers set aside (as GDAL does itself).

        The feature-count and R-tree insert triggers cost far more than the inserts; they
        are dropped, the R-tree is filled in one statement and the triggers are re-created,
        all inside the transaction (SQLite's DDL is transactional).
        """
        triggers = self._conn.execute(
            "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = ? "
            "AND (name = ? OR name = ?)",
            (t.name, f"trigger_insert_feature_count_{t.name}", f"{t.rtree}_insert"),
        ).fetchall()
        for name, _ in triggers:
            self._conn.execute(f"DROP TRIGGER {_quote(name)}")
        fid = _quote(t.fid or "rowid")
        (last,) = self._conn.execute(
            f"SELECT coalesce(max({fid}), 0) FROM {_quote(t.name)}"
        ).fetchone()
        self._conn.executemany(insert, rows)
        if (
            t.rtree
            and t.geom
            and any(name.endswith("_insert") and "rtree" in name for name, _ in triggers)
        ):
            g = _quote(t.geom)
            self._conn.execute(
                f"INSERT OR REPLACE INTO {_quote(t.rtree)} SELECT {fid}, ST_MinX({g}), "
                f"ST_MaxX({g}), ST_MinY({g}), ST_MaxY({g}) FROM {_quote(t.name)} "
                f"WHERE {fid} > ? AND {g} NOT NULL AND NOT ST_IsEmpty({g})",
                (last,),
            )
        for _, sql in triggers:
            self._conn.execute(sql)

    def delete(self, table: str, where: Where) -> int:
        if not where:
            raise StoreError(f"delete from {table!r} needs a where filter")
        t = self._writable(table)
        clauses, params = self._where(t, where)
        with _sqlite_errors(self._path, f"deleting from {table!r}"):
            cursor = self._conn.execute(
                f"DELETE FROM {_quote(table)} WHERE {' AND '.join(clauses)}", params
            )
        self._counted.add(table)
        return int(cursor.rowcount)

    def update(self, table: str, frame: pd.DataFrame, *, key: str) -> int:
        t = self._writable(table)
        names = [c for c in frame.columns if c != key]
        t.check_columns([key, *names])
        if isinstance(frame, gpd.GeoDataFrame) or t.geom in names or "geometry" in names:
            raise StoreError(f"update of {table!r}: geometry cannot be updated; delete and append")
        if not len(frame) or not names:
            return 0
        with _sqlite_errors(self._path, f"updating {table!r}"):
            if key != t.fid:
                # Without an index on the key every row updated would scan the whole table.
                self._conn.execute(
                    f"CREATE INDEX IF NOT EXISTS {_index_name(table, [key])} "
                    f"ON {_quote(table)} ({_quote(key)})"
                )
            values = [_values(frame[c], text_datetimes=True) for c in [*names, key]]
            sets = ", ".join(f"{_quote(c)} = ?" for c in names)
            before = self._conn.total_changes
            self._conn.executemany(
                f"UPDATE {_quote(table)} SET {sets} WHERE {_quote(key)} = ?",
                zip(*values, strict=True),
            )
            return int(self._conn.total_changes - before)

    def finish(self) -> None:
        """Bring the GeoPackage's own bookkeeping up to date before COMMIT."""
        for table in sorted(self._changed):
            self._conn.execute(
                "UPDATE gpkg_contents SET last_change = strftime('%Y-%m-%dT%H:%M:%fZ', 'now') "
                "WHERE lower(table_name) = lower(?)",
                (table,),
            )
        for table in sorted(self._counted):
            self._conn.execute(
                f"UPDATE gpkg_ogr_contents SET feature_count = (SELECT count(*) FROM "
                f"{_quote(table)}) WHERE lower(table_name) = lower(?)",
                (table,),
            )
        for table, (x0, y0, x1, y1) in self._extents.items():
            self._conn.execute(
                "UPDATE gpkg_contents SET min_x = min(coalesce(min_x, ?), ?), "
                "min_y = min(coalesce(min_y, ?), ?), max_x = max(coalesce(max_x, ?), ?), "
                "max_y = max(coalesce(max_y, ?), ?) WHERE lower(table_name) = lower(?)",
                (x0, x0, y0, y0, x1, x1, y1, y1, table),
            )


def _from_sqlite(values: list[object], declared: str) -> Any:
    """A column read from SQLite, typed the way pyogrio would type it."""
    if declared.startswith(("DATETIME", "DATE")):
        present = [v for v in values if v is not None]
        utc = any(str(v).endswith("Z") or "+" in str(v)[10:] for v in present)
        return pd.to_datetime(pd.Series(values, dtype=object), format="ISO8601", utc=utc)
    if declared.startswith("BOOLEAN"):
        if any(v is None for v in values):
            return pd.Series(values, dtype="boolean")
        return np.array(values, dtype=bool)
    if declared.startswith(_INTEGER_TYPES):
        if any(v is None for v in values):
            return pd.Series(values, dtype="Int64")
        return np.array(values, dtype=np.int64)
    if declared.startswith(_REAL_TYPES):
        return np.array([np.nan if v is None else v for v in values], dtype=float)
    if declared.startswith(("TEXT", "VARCHAR", "CHAR")):
        return pd.Series(values, dtype="str")
    return pd.Series(values, dtype=object)


class _PostGISTransaction:
    """Row-level reads and writes on one open PostgreSQL transaction (see ``Transaction``)."""

    def __init__(self, store: PostGISStore, conn: Any, *, readonly: bool) -> None:
        self._store = store
        self._conn = conn
        self._readonly = readonly
        self._changed: set[str] = set()
        self._columns: dict[str, dict[str, str]] = {}
        self._geom: dict[str, tuple[str, int] | None] = {}
        self._geom_type: dict[str, str] = {}

    @property
    def _schema(self) -> str:
        return _quote(self._store.schema)

    def _errors(self, action: str) -> AbstractContextManager[None]:
        return _sql_errors(self._store.location, action)

    def _table(self, name: str) -> dict[str, str]:
        from sqlalchemy import text

        _check_name(name)
        if name not in self._columns:
            with self._errors(f"reading table {name!r}"):
                rows = self._conn.execute(
                    text(
                        "SELECT column_name, udt_name FROM information_schema.columns "
                        "WHERE table_schema = :s AND table_name = :t ORDER BY ordinal_position"
                    ),
                    {"s": self._store.schema, "t": name},
                ).all()
                geom = self._conn.execute(
                    text(
                        "SELECT f_geometry_column, srid, type FROM geometry_columns "
                        "WHERE f_table_schema = :s AND f_table_name = :t"
                    ),
                    {"s": self._store.schema, "t": name},
                ).first()
            if not rows:
                raise StoreError(f"{self._store.location}: no table {name!r}")
            self._columns[name] = {str(c): str(u) for c, u in rows}
            self._geom[name] = (str(geom[0]), int(geom[1])) if geom else None
            self._geom_type[name] = str(geom[2]).upper() if geom else ""
        return self._columns[name]

    def _check_columns(self, table: str, columns: Sequence[str]) -> None:
        known = self._table(table)
        unknown = [c for c in columns if c not in known and c != "geometry"]
        if unknown:
            raise StoreError(
                f"{self._store.location}: table {table!r} has no column(s) {unknown}; "
                f"it has {list(known)}"
            )

    def _writable(self, name: str) -> dict[str, str]:
        if self._readonly:
            raise StoreError(
                f"{self._store.location}: cannot change {name!r} in a read-only transaction"
            )
        self._changed.add(name)
        return self._table(name)

    def _where(self, table: str, where: Where | None) -> tuple[list[str], dict[str, Any]]:
        self._check_columns(table, list(where or {}))
        clauses: list[str] = []
        params: dict[str, Any] = {}
        for i, (column, value) in enumerate((where or {}).items()):
            if _is_listlike(value):
                items = [_plain(v) for v in value]  # type: ignore[attr-defined]
                if not items:
                    clauses.append("FALSE")
                    continue
                clauses.append(f"{_quote(column)} = ANY(:w{i})")
                params[f"w{i}"] = items
            elif _plain(value) is None:
                clauses.append(f"{_quote(column)} IS NULL")
            else:
                clauses.append(f"{_quote(column)} = :w{i}")
                params[f"w{i}"] = _plain(value)
        return clauses, params

    def columns(self, table: str) -> list[str]:
        known = self._table(table)
        geom = self._geom[table]
        return [c for c in known if not geom or c != geom[0]] + (["geometry"] if geom else [])

    def lock(self, name: str) -> None:
        from sqlalchemy import text

        with self._errors("waiting for a lock"):
            self._conn.execute(
                text("SELECT pg_advisory_xact_lock(hashtext(:k))"),
                {"k": f"{self._store.schema}.{name}"},
            )

    def read(
        self,
        table: str,
        *,
        columns: Sequence[str] | None = None,
        where: Where | None = None,
        bbox: BBox | None = None,
        bbox_crs: Any = None,
    ) -> pd.DataFrame:
        from sqlalchemy import text

        known = self._table(table)
        geom = self._geom[table]
        if columns is None:
            names = [c for c in known if not geom or c != geom[0]]
            with_geom = geom is not None
        else:
            self._check_columns(table, columns)
            names = [c for c in columns if c != "geometry" and (not geom or c != geom[0])]
            with_geom = geom is not None and ("geometry" in columns or geom[0] in columns)
        select = [_quote(c) for c in names]
        if with_geom and geom:
            select.append(_quote(geom[0]))
        clauses, params = self._where(table, where)
        if bbox is not None and geom is not None:
            crs = CRS.from_epsg(geom[1]) if geom[1] > 0 else None
            x0, y0, x1, y1 = _bbox_in(bbox, bbox_crs, crs)
            clauses.append(f"{_quote(geom[0])} && ST_MakeEnvelope(:x0, :y0, :x1, :y1, {geom[1]})")
            params.update(x0=x0, y0=y0, x1=x1, y1=y1)
        sql = f"SELECT {', '.join(select) or 'NULL'} FROM {self._schema}.{_quote(table)}"
        if clauses:
            sql += " WHERE " + " AND ".join(clauses)
        with self._errors(f"reading {table!r}"):
            if with_geom and geom:
                frame = gpd.read_postgis(text(sql), self._conn, geom_col=geom[0], params=params)
                if frame.crs is None and geom[1] > 0:
                    frame = frame.set_crs(geom[1])
                if geom[0] != "geometry":
                    frame = frame.rename_geometry("geometry")
                return frame
            return pd.read_sql(text(sql), self._conn, params=params)

    def _copy(self, table: str, columns: Sequence[str], rows: Any) -> None:
        raw = self._conn.connection.driver_connection
        target = f"{self._schema}.{_quote(table)}" if table[0] != "_" else _quote(table)
        with (
            raw.cursor() as cursor,
            cursor.copy(f"COPY {target} ({', '.join(map(_quote, columns))}) FROM STDIN") as copy,
        ):
            for row in rows:
                copy.write_row(row)

    def append(self, table: str, frame: pd.DataFrame) -> None:
        from sqlalchemy import text

        _check_values(table, frame)
        known = self._writable(table)
        geom = self._geom[table]
        is_geo = isinstance(frame, gpd.GeoDataFrame)
        if is_geo and geom is None:
            raise StoreError(f"{self._store.location}: table {table!r} has no geometry column")
        names = [c for c in frame.columns if not (is_geo and c == frame.geometry.name)]
        with self._errors(f"appending to {table!r}"):
            for name in names:
                if name not in known:
                    kind = _sql_type_of(frame[name], postgis=True)
                    self._conn.execute(
                        text(
                            f"ALTER TABLE {self._schema}.{_quote(table)} "
                            f"ADD COLUMN {_quote(name)} {kind}"
                        )
                    )
                    known[name] = kind
            if not len(frame):
                return
            values = [_values(frame[c], text_datetimes=False) for c in names]
            targets = list(names)
            if is_geo and geom:
                geoms = frame.geometry
                if geom[1] > 0 and geoms.crs is not None and geoms.crs != CRS.from_epsg(geom[1]):
                    geoms = geoms.to_crs(geom[1])
                array, promote = _fit_geometries(geoms.to_numpy(), self._geom_type[table])
                if promote:
                    self._conn.execute(
                        text(
                            f"ALTER TABLE {self._schema}.{_quote(table)} ALTER COLUMN "
                            f"{_quote(geom[0])} TYPE geometry({promote}, {geom[1]}) "
                            f"USING ST_Multi({_quote(geom[0])})"
                        )
                    )
                    self._geom_type[table] = promote
                array = shapely.set_srid(array, max(geom[1], 0))
                values.append(list(shapely.to_wkb(array, hex=True, include_srid=True)))
                targets.append(geom[0])
            self._copy(table, targets, zip(*values, strict=True))

    def delete(self, table: str, where: Where) -> int:
        from sqlalchemy import text

        if not where:
            raise StoreError(f"delete from {table!r} needs a where filter")
        self._writable(table)
        clauses, params = self._where(table, where)
        with self._errors(f"deleting from {table!r}"):
            result = self._conn.execute(
                text(f"DELETE FROM {self._schema}.{_quote(table)} WHERE {' AND '.join(clauses)}"),
                params,
            )
        return int(result.rowcount)

    def update(self, table: str, frame: pd.DataFrame, *, key: str) -> int:
        from sqlalchemy import text

        self._writable(table)
        names = [c for c in frame.columns if c != key]
        self._check_columns(table, [key, *names])
        geom = self._geom[table]
        if (
            isinstance(frame, gpd.GeoDataFrame)
            or "geometry" in names
            or (geom and geom[0] in names)
        ):
            raise StoreError(f"update of {table!r}: geometry cannot be updated; delete and append")
        if not len(frame) or not names:
            return 0
        columns = [key, *names]
        target = f"{self._schema}.{_quote(table)}"
        with self._errors(f"updating {table!r}"):
            self._conn.execute(
                text(
                    'CREATE TEMP TABLE "_gridgov_update" ON COMMIT DROP AS SELECT '
                    f"{', '.join(map(_quote, columns))} FROM {target} WITH NO DATA"
                )
            )
            values = [_values(frame[c], text_datetimes=False) for c in columns]
            self._copy("_gridgov_update", columns, zip(*values, strict=True))
            sets = ", ".join(f"{_quote(c)} = u.{_quote(c)}" for c in names)
            result = self._conn.execute(
                text(
                    f'UPDATE {target} AS t SET {sets} FROM "_gridgov_update" AS u '
                    f"WHERE t.{_quote(key)} = u.{_quote(key)}"
                )
            )
            self._conn.execute(text('DROP TABLE "_gridgov_update"'))
        return int(result.rowcount)

    def finish(self) -> None:
        """Count the changed tables as new versions of themselves (for caches)."""
        from sqlalchemy import text

        for name in sorted(self._changed):
            self._conn.execute(
                text(
                    f"INSERT INTO {self._schema}._gridgov_versions VALUES (:l, 1, now()) "
                    "ON CONFLICT (layer) DO UPDATE SET version = "
                    "_gridgov_versions.version + 1, written_at = now()"
                ),
                {"l": name},
            )
