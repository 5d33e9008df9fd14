"""The store: a GeoPackage file by default, PostGIS when ``DATABASE_URL`` names one.

Both keep one table per layer (``towns``, ``villages``, ``grids``, ``households``,
``service_points``, ``issues`` plus plain tables such as ``meta``) and replace a layer
atomically: a failed save leaves the last good state in place.
"""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio

from geo.errors import GridGovError

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

    def version(self) -> str:
        """A cheap key that changes whenever the store's content changes (for caching)."""
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

    def version(self) -> str:
        if not self.path.exists():
            return "absent"
        stat = self.path.stat()
        return f"{stat.st_mtime_ns}-{stat.st_size}"


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

    def version(self) -> str:
        from sqlalchemy import text

        with self.engine.connect() as conn:
            rows = conn.execute(
                text(f'SELECT layer, version FROM "{self.schema}"._gridgov_versions ORDER BY layer')
            )
            return ";".join(f"{a}={b}" for a, b in rows) or "empty"


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
