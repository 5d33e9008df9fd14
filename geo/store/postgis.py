"""The PostGIS store: layers as tables in one schema of a PostgreSQL database, and row-level
transactions in PostgreSQL (``COPY`` for bulk rows, advisory locks to serialise writers)."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager, suppress
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import pandas as pd
import shapely
from pyproj import CRS

from geo.store._common import (
    bbox_in,
    check_name,
    check_values,
    fit_geometries,
    index_name,
    is_listlike,
    plain,
    python_values,
    quote,
    sql_type_of,
)
from geo.store.base import BBox, StoreError, Transaction, Where

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection


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
        self.schema = check_name(schema)
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

        check_name(layer)
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
            check_name(name)
            check_values(name, frame)
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
                check_name(name)
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
                            f"CREATE INDEX IF NOT EXISTS {index_name(table, columns)} ON "
                            f"{quote(self.schema)}.{quote(table)} "
                            f"({', '.join(map(quote, columns))})"
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


@contextmanager
def _sql_errors(location: str, action: str) -> Iterator[None]:
    from sqlalchemy.exc import SQLAlchemyError

    try:
        yield
    except SQLAlchemyError as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise StoreError(f"{location}: {action} failed, nothing was changed ({first})") from exc


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
        return quote(self._store.schema)

    def _errors(self, action: str) -> AbstractContextManager[None]:
        return _sql_errors(self._store.location, action)

    def _table(self, name: str) -> dict[str, str]:
        from sqlalchemy import text

        check_name(name)
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
            if is_listlike(value):
                items = [plain(v) for v in value]  # type: ignore[attr-defined]
                if not items:
                    clauses.append("FALSE")
                    continue
                clauses.append(f"{quote(column)} = ANY(:w{i})")
                params[f"w{i}"] = items
            elif plain(value) is None:
                clauses.append(f"{quote(column)} IS NULL")
            else:
                clauses.append(f"{quote(column)} = :w{i}")
                params[f"w{i}"] = plain(value)
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
        select = [quote(c) for c in names]
        if with_geom and geom:
            select.append(quote(geom[0]))
        clauses, params = self._where(table, where)
        if bbox is not None and geom is not None:
            crs = CRS.from_epsg(geom[1]) if geom[1] > 0 else None
            x0, y0, x1, y1 = bbox_in(bbox, bbox_crs, crs)
            clauses.append(f"{quote(geom[0])} && ST_MakeEnvelope(:x0, :y0, :x1, :y1, {geom[1]})")
            params.update(x0=x0, y0=y0, x1=x1, y1=y1)
        sql = f"SELECT {', '.join(select) or 'NULL'} FROM {self._schema}.{quote(table)}"
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
        target = f"{self._schema}.{quote(table)}" if table[0] != "_" else quote(table)
        with (
            raw.cursor() as cursor,
            cursor.copy(f"COPY {target} ({', '.join(map(quote, columns))}) FROM STDIN") as copy,
        ):
            for row in rows:
                copy.write_row(row)

    def append(self, table: str, frame: pd.DataFrame) -> None:
        from sqlalchemy import text

        check_values(table, frame)
        known = self._writable(table)
        geom = self._geom[table]
        is_geo = isinstance(frame, gpd.GeoDataFrame)
        if is_geo and geom is None:
            raise StoreError(f"{self._store.location}: table {table!r} has no geometry column")
        names = [c for c in frame.columns if not (is_geo and c == frame.geometry.name)]
        with self._errors(f"appending to {table!r}"):
            for name in names:
                if name not in known:
                    kind = sql_type_of(frame[name], postgis=True)
                    self._conn.execute(
                        text(
                            f"ALTER TABLE {self._schema}.{quote(table)} "
                            f"ADD COLUMN {quote(name)} {kind}"
                        )
                    )
                    known[name] = kind
            if not len(frame):
                return
            values = [python_values(frame[c], text_datetimes=False) for c in names]
            targets = list(names)
            if is_geo and geom:
                geoms = frame.geometry
                if geom[1] > 0 and geoms.crs is not None and geoms.crs != CRS.from_epsg(geom[1]):
                    geoms = geoms.to_crs(geom[1])
                array, promote = fit_geometries(geoms.to_numpy(), self._geom_type[table])
                if promote:
                    self._conn.execute(
                        text(
                            f"ALTER TABLE {self._schema}.{quote(table)} ALTER COLUMN "
                            f"{quote(geom[0])} TYPE geometry({promote}, {geom[1]}) "
                            f"USING ST_Multi({quote(geom[0])})"
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
                text(f"DELETE FROM {self._schema}.{quote(table)} WHERE {' AND '.join(clauses)}"),
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
        target = f"{self._schema}.{quote(table)}"
        with self._errors(f"updating {table!r}"):
            self._conn.execute(
                text(
                    'CREATE TEMP TABLE "_gridgov_update" ON COMMIT DROP AS SELECT '
                    f"{', '.join(map(quote, columns))} FROM {target} WITH NO DATA"
                )
            )
            values = [python_values(frame[c], text_datetimes=False) for c in columns]
            self._copy("_gridgov_update", columns, zip(*values, strict=True))
            sets = ", ".join(f"{quote(c)} = u.{quote(c)}" for c in names)
            result = self._conn.execute(
                text(
                    f'UPDATE {target} AS t SET {sets} FROM "_gridgov_update" AS u '
                    f"WHERE t.{quote(key)} = u.{quote(key)}"
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
