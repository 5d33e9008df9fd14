"""The PostGIS store: layers as tables in one schema of a PostgreSQL database, and row-level
transactions in PostgreSQL (``COPY`` for bulk rows; one writer per schema at a time, through
an advisory lock, as in a GeoPackage file)."""

from __future__ import annotations

import copy
import re
from collections.abc import Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager, suppress
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import pandas as pd
import shapely
from pyproj import CRS

from geo.core.i18n import Text
from geo.core.scope import Scope
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
from geo.store.base import BBox, StoreError, Transaction, Where, refuse_append_only

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

#: How long a writer waits for another writer of the same schema before giving up.
_LOCK_TIMEOUT_S = 60


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

        self._scope: Scope | None = None
        self.url = url = _with_driver(url)
        self.schema = check_name(schema)
        self.location = _redact(url)
        try:
            # hide_parameters: a failed INSERT must not echo callers' names and phones.
            self.engine = create_engine(
                url, connect_args={"connect_timeout": 10}, hide_parameters=True
            )
            with self._begin() as conn:
                # Only when missing: a role that may only read cannot run even IF NOT EXISTS.
                ready = conn.execute(
                    text("SELECT to_regclass(:t) IS NOT NULL"),
                    {"t": f'"{self.schema}"._gridgov_versions'},
                ).scalar()
                if not ready:
                    conn.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{self.schema}"'))
                    conn.execute(
                        text(
                            f'CREATE TABLE IF NOT EXISTS "{self.schema}"._gridgov_versions '
                            "(layer text PRIMARY KEY, version bigint NOT NULL, "
                            "written_at timestamptz)"
                        )
                    )
        except Exception as exc:
            detail = _first_line(exc)
            raise StoreError(
                Text(
                    f"无法打开 PostGIS 存储 {self.location}：{detail}。请检查 DATABASE_URL、服务器"
                    "是否运行、是否已执行 `CREATE EXTENSION postgis`，以及该数据库角色能否在模式 "
                    f"{self.schema} 中建表（首次使用时）",
                    f"cannot open PostGIS store {self.location}: {detail}. Check DATABASE_URL, "
                    "that the server runs, that `CREATE EXTENSION postgis` was done and, on "
                    f"first use, that the role may create tables in schema {self.schema}",
                )
            ) from exc

    def scoped(self, scope: Scope) -> PostGISStore:
        """This store as seen by a caller of ``scope``: every transaction sets the scope
        (``SET LOCAL gridgov.towns`` / ``.villages`` / ``.grids``) that the row-level security
        of :func:`secure_schema` checks. The engine is shared."""
        view = copy.copy(self)
        view._scope = scope
        return view

    def apply_scope(self, conn: Connection) -> None:
        """Set this store's scope in ``conn``'s transaction (``*``: everything, for the county
        and for a store opened without a scope)."""
        from sqlalchemy import text

        scope = self._scope or Scope.county()
        every = scope.whole_county
        towns = "*" if every or scope.towns is None else ",".join(sorted(scope.towns))
        villages = "*" if every else ",".join(sorted(scope.villages or ()))
        grids = "*" if every or scope.grids is None else ",".join(sorted(scope.grids))
        conn.execute(
            text(
                "SELECT set_config('gridgov.towns', :t, true), "
                "set_config('gridgov.villages', :v, true), set_config('gridgov.grids', :g, true)"
            ),
            {"t": towns, "v": villages, "g": grids},
        )

    @contextmanager
    def _connect(self) -> Iterator[Connection]:
        with self.engine.connect() as conn:
            self.apply_scope(conn)
            yield conn

    @contextmanager
    def _begin(self) -> Iterator[Connection]:
        with self.engine.begin() as conn:
            self.apply_scope(conn)
            yield conn

    def layers(self) -> list[str]:

        with self._connect() as conn:
            return [t for t in _tables(conn, self.schema) if not t.startswith("_")]

    def read(self, layer: str) -> pd.DataFrame:
        from sqlalchemy import text

        check_name(layer)
        present = self.layers()
        if layer not in present:
            raise StoreError(
                Text(
                    f"{self.location}：没有表 {layer!r}；现有表 {present}",
                    f"{self.location}: no table {layer!r}; it has {present}",
                )
            )
        with self._connect() as conn:
            found = _geometry_column(conn, self.schema, layer)
            geom = found[0] if found else None
            sql = f'SELECT * FROM "{self.schema}"."{layer}"'
            if geom:
                frame = gpd.read_postgis(text(sql), conn, geom_col=geom)
                return frame.rename_geometry("geometry") if geom != "geometry" else frame
            return pd.read_sql(text(sql), conn)

    def lock_writers(self, conn: Connection) -> None:
        """Wait (up to 60 s) until no other writer of this schema is at work, then hold the
        schema's writer lock until ``conn``'s transaction ends."""
        from sqlalchemy import text

        conn.execute(text(f"SET LOCAL lock_timeout = '{_LOCK_TIMEOUT_S}s'"))
        conn.execute(
            text("SELECT pg_advisory_xact_lock(hashtext(:k))"),
            {"k": f"gridgov.writer.{self.schema}"},
        )

    def write(self, layers: Mapping[str, pd.DataFrame]) -> None:
        """Replace the given layers in one transaction, all or none.

        Writers of the schema take turns (see :meth:`lock_writers`). The new tables are
        filled first and swapped in at the end, so readers wait only for the swap.
        """
        from sqlalchemy import text

        refuse_append_only(self.location, list(layers))
        for name, frame in layers.items():
            check_name(name)
            check_values(name, frame)
        try:
            with self._begin() as conn:  # one transaction: all layers or none
                self.lock_writers(conn)
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
                for name in layers:
                    self._swap_in(conn, name, f"_new_{name}"[:63])
                    conn.execute(
                        text(
                            f'INSERT INTO "{self.schema}"._gridgov_versions VALUES (:l, 1, now()) '
                            "ON CONFLICT (layer) DO UPDATE SET version = "
                            "_gridgov_versions.version + 1, written_at = now()"
                        ),
                        {"l": name},
                    )
        except Exception as exc:
            raise _error(
                self.location,
                exc,
                Text("保存", "saving"),
                Text("保留原有版本", "the previous version is kept"),
            ) from exc

    def _swap_in(self, conn: Connection, name: str, tmp: str) -> None:
        """Make the filled table ``tmp`` the layer ``name``.

        With the same columns, the rows are replaced in place (``DELETE`` and ``INSERT``):
        a reader's snapshot then still sees the old rows, where a dropped and renamed
        table would look empty to it. Only a layer whose columns change is swapped.
        """
        from sqlalchemy import text

        columns = text(
            "SELECT attname, format_type(atttypid, atttypmod) FROM pg_attribute "
            "WHERE attrelid = to_regclass(:t) AND attnum > 0 AND NOT attisdropped "
            "ORDER BY attnum"
        )
        target, source = f"{quote(self.schema)}.{quote(name)}", f"{quote(self.schema)}.{quote(tmp)}"
        old = conn.execute(columns, {"t": target}).all()
        new = conn.execute(columns, {"t": source}).all()
        if old and old == new:
            names = ", ".join(quote(str(c)) for c, _ in new)
            conn.execute(text(f"DELETE FROM {target}"))
            conn.execute(text(f"INSERT INTO {target} ({names}) SELECT {names} FROM {source}"))
            conn.execute(text(f"DROP TABLE {source}"))
            return
        conn.execute(text(f"DROP TABLE IF EXISTS {target}"))
        conn.execute(text(f"ALTER TABLE {source} RENAME TO {quote(name)}"))
        # Its spatial index is still named after the temporary table; free that name, or
        # the next save cannot create idx__new_<name>_geometry again.
        self._rename_indexes(conn, name, tmp, name)

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
        """One PostgreSQL transaction; a dropped connection rolls it back on the server.

        A writing transaction first takes the schema's writer lock (see :meth:`lock_writers`),
        so its reads see every earlier writer's work; a ``readonly`` one reads one snapshot
        (``REPEATABLE READ``), the state committed when it first reads.
        """
        from sqlalchemy.exc import SQLAlchemyError

        conn = None
        try:
            conn = self.engine.connect()
            outer = conn.begin()
            if readonly:
                conn.exec_driver_sql("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            self.apply_scope(conn)
            if not readonly:
                self.lock_writers(conn)
        except SQLAlchemyError as exc:
            if conn is not None:
                conn.close()
            raise _error(self.location, exc, Text("开始事务", "starting a transaction")) from exc
        tx = _PostGISTransaction(self, conn, readonly=readonly)
        try:
            yield tx
            with _sql_errors(self.location, Text("提交", "committing")):
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
        append_only: Sequence[str] = (),
    ) -> None:
        """Create each missing table empty, with its template's columns, and the indexes;
        ``append_only`` tables get a trigger that raises on any update, delete or truncate."""
        from sqlalchemy import text

        with (
            _sql_errors(self.location, Text("建表", "creating tables")),
            self._begin() as conn,
        ):
            self.lock_writers(conn)
            present = set(_tables(conn, self.schema))
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
            if append_only:
                refuse = f"{quote(self.schema)}.gridgov_append_only"
                conn.execute(
                    text(
                        f"CREATE OR REPLACE FUNCTION {refuse}() RETURNS trigger LANGUAGE plpgsql "
                        "AS $$ BEGIN RAISE EXCEPTION '% is append-only', TG_TABLE_NAME; END $$"
                    )
                )
            for table in append_only:
                conn.execute(
                    text(
                        f"CREATE OR REPLACE TRIGGER {quote('gridgov_append_only_' + table)} "
                        f"BEFORE UPDATE OR DELETE OR TRUNCATE ON "
                        f"{quote(self.schema)}.{quote(table)} "
                        f"FOR EACH STATEMENT EXECUTE FUNCTION {refuse}()"
                    )
                )

    def version(self, layers: Sequence[str] | None = None) -> str:
        from sqlalchemy import text

        with self._connect() as conn:
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


# The catalog is read from pg_class and pg_attribute by name: information_schema and
# geometry_columns check privileges row by row over every relation of the database, and
# fail ("cache lookup failed") when another session drops one meanwhile.


def _tables(conn: Connection, schema: str) -> list[str]:
    """The tables and views of ``schema``, by name."""
    from sqlalchemy import text

    rows = conn.execute(
        text(
            "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = :s AND c.relkind IN ('r', 'p', 'v', 'm', 'f') ORDER BY 1"
        ),
        {"s": schema},
    )
    return [str(r[0]) for r in rows]


def _geometry_column(conn: Connection, schema: str, table: str) -> tuple[str, int, str] | None:
    """The table's geometry column: name, SRID and type (e.g. ``POINT``), or None."""
    from sqlalchemy import text

    row = conn.execute(
        text(
            "SELECT a.attname, postgis_typmod_srid(a.atttypmod), "
            "postgis_typmod_type(a.atttypmod) FROM pg_attribute a "
            "WHERE a.attrelid = to_regclass(:t) AND a.atttypid = 'geometry'::regtype "
            "AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum LIMIT 1"
        ),
        {"t": f"{quote(schema)}.{quote(table)}"},
    ).first()
    return (str(row[0]), int(row[1]), str(row[2]).upper()) if row else None


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _error(location: str, exc: BaseException, action: Text, kept: Text | None = None) -> StoreError:
    """The error to raise when ``action`` failed with ``exc``: it says when the role may only
    read or another writer held the schema too long, and never echoes row values."""
    kept = kept or Text("未做任何更改", "nothing was changed")
    state = getattr(getattr(exc, "orig", exc), "sqlstate", None)
    if state == "42501":  # insufficient_privilege
        return StoreError(
            Text(
                f"{location}：该数据库角色没有写权限，无法{action.zh}，{kept.zh}；读取不受影响。请"
                f"管理员授予写权限（{_first_line(exc)}）",
                f"{location}: the database role may only read, so {action.en} is not possible; "
                f"{kept.en} and reading still works. Ask for write rights ({_first_line(exc)})",
            )
        )
    if state == "25006":  # read_only_sql_transaction: a standby or a read-only database
        return StoreError(
            Text(
                f"{location}：数据库只读（如备用服务器），无法{action.zh}，{kept.zh}；读取不受影响",
                f"{location}: the database is read-only (a standby server, say), so {action.en} "
                f"is not possible; {kept.en} and reading still works",
            )
        )
    if state in ("55P03", "40P01"):  # lock_not_available, deadlock_detected
        return StoreError(
            Text(
                f"{location}：另一个写入者占用该存储超过 {_LOCK_TIMEOUT_S} 秒，"
                f"{action.zh}未能进行，{kept.zh}；请稍后再试",
                f"{location}: another writer has held the store for more than "
                f"{_LOCK_TIMEOUT_S} s, so {action.en} could not go ahead; {kept.en}. Try again "
                "later",
            )
        )
    return StoreError(
        Text(
            f"{location}：{action.zh}失败，{kept.zh}（{_first_line(exc)}）",
            f"{location}: {action.en} failed, {kept.en} ({_first_line(exc)})",
        )
    )


@contextmanager
def _sql_errors(location: str, action: Text) -> Iterator[None]:
    import psycopg
    from sqlalchemy.exc import SQLAlchemyError

    try:
        yield
    except (SQLAlchemyError, psycopg.Error) as exc:
        raise _error(location, exc, action) from exc


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

    def _errors(self, action: Text) -> AbstractContextManager[None]:
        return _sql_errors(self._store.location, action)

    def _table(self, name: str) -> dict[str, str]:
        from sqlalchemy import text

        check_name(name)
        if name not in self._columns:
            with self._errors(Text(f"读取表 {name!r}", f"reading table {name!r}")):
                rows = self._conn.execute(
                    text(
                        "SELECT a.attname, t.typname FROM pg_attribute a JOIN pg_type t "
                        "ON t.oid = a.atttypid WHERE a.attrelid = to_regclass(:t) "
                        "AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum"
                    ),
                    {"t": f"{quote(self._store.schema)}.{quote(name)}"},
                ).all()
                geom = _geometry_column(self._conn, self._store.schema, name)
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

        with self._errors(Text("等待锁", "waiting for a lock")):
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
        with self._errors(Text(f"读取 {table!r}", f"reading {table!r}")):
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
        with self._errors(Text(f"向 {table!r} 追加", f"appending to {table!r}")):
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
        with self._errors(Text(f"从 {table!r} 删除", f"deleting from {table!r}")):
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
        with self._errors(Text(f"更新 {table!r}", f"updating {table!r}")):
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


#: The columns row-level security looks at, with the scope setting each is checked against.
_SCOPE_COLUMNS = (("town_code", "towns"), ("village_code", "villages"), ("grid_code", "grids"))


def _policy(columns: set[str]) -> str | None:
    """The condition a row of a table with ``columns`` must meet for the scope set in the
    transaction (``gridgov.towns`` / ``.villages`` / ``.grids``: ``*`` or comma-separated
    codes; unset: nothing passes); ``None`` for a table that is not told apart by place."""
    parts = []
    town_checked = "town_code" in columns
    for column, setting in _SCOPE_COLUMNS:
        if column not in columns or (column == "village_code" and town_checked):
            continue
        value = f"current_setting('gridgov.{setting}', true)"
        parts.append(
            f"({value} = '*' OR {quote(column)}::text = ANY(string_to_array({value}, ',')))"
        )
    return " AND ".join(parts) or None


def secure_schema(store: PostGISStore, *, app_role: str, app_password: str) -> list[str]:
    """Row-level security for the dashboard's database role: run once by the tables' owner.

    Creates (or updates) ``app_role`` — a login without superuser or ``BYPASSRLS`` that owns
    none of the county's tables — grants it reading and writing rows, and puts on every table
    with a ``town_code``, ``village_code`` or ``grid_code`` ``ENABLE`` and ``FORCE ROW LEVEL
    SECURITY`` with a policy checking the scope each transaction sets
    (:meth:`PostGISStore.apply_scope`). A connection that sets no scope sees none of those
    rows. Returns the tables secured.
    """
    from sqlalchemy import text

    check_name(app_role)
    role, schema = quote(app_role), quote(store.schema)
    secret = "'" + app_password.replace("'", "''") + "'"
    secured: list[str] = []
    with (
        _sql_errors(store.location, Text("设置行级安全", "setting row-level security")),
        store.engine.begin() as conn,
    ):
        store.lock_writers(conn)
        known = conn.execute(text("SELECT 1 FROM pg_roles WHERE rolname = :r"), {"r": app_role})
        verb = "ALTER" if known.scalar() else "CREATE"
        conn.exec_driver_sql(
            f"{verb} ROLE {role} LOGIN PASSWORD {secret} NOSUPERUSER NOCREATEDB "
            "NOCREATEROLE NOBYPASSRLS"
        )
        conn.exec_driver_sql(f"GRANT USAGE, CREATE ON SCHEMA {schema} TO {role}")
        conn.exec_driver_sql(
            f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA {schema} TO {role}"
        )
        conn.exec_driver_sql(
            f"ALTER DEFAULT PRIVILEGES IN SCHEMA {schema} "
            f"GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {role}"
        )
        for table in _tables(conn, store.schema):
            columns = set(
                conn.execute(
                    text(
                        "SELECT column_name FROM information_schema.columns "
                        "WHERE table_schema = :s AND table_name = :t"
                    ),
                    {"s": store.schema, "t": table},
                ).scalars()
            )
            condition = _policy(columns)
            if condition is None:
                continue
            name = f"{schema}.{quote(table)}"
            conn.exec_driver_sql(f"ALTER TABLE {name} ENABLE ROW LEVEL SECURITY")
            conn.exec_driver_sql(f"ALTER TABLE {name} FORCE ROW LEVEL SECURITY")
            conn.exec_driver_sql(f"DROP POLICY IF EXISTS gridgov_scope ON {name}")
            conn.exec_driver_sql(
                f"CREATE POLICY gridgov_scope ON {name} USING ({condition}) "
                f"WITH CHECK ({condition})"
            )
            secured.append(table)
    return secured
