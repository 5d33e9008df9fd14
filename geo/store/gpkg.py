"""The GeoPackage store: layers in one file (opens in QGIS), each change one SQLite transaction
in that file (layers replaced in place, rows read and written as GeoPackage blobs)."""

from __future__ import annotations

import json
import os
import sqlite3
import struct
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import closing, contextmanager, suppress
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
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
from geo.store._gpkg_write import RESERVED_PREFIXES, gpkg_bytes, install, set_srs, stage
from geo.store.base import BBox, StoreError, Transaction, Where, refuse_append_only

_SQLITE_TIMEOUT_S = 60.0
_SQLITE_CACHE_KIB = 262_144  # 256 MiB of page cache before SQLite spills to the file
_INTEGER_TYPES = ("INTEGER", "INT", "MEDIUMINT", "SMALLINT", "TINYINT", "BIGINT")
_REAL_TYPES = ("REAL", "FLOAT", "DOUBLE")
#: Bytes of the envelope in a GeoPackage geometry header, by envelope indicator.
_GPKG_ENVELOPE_BYTES = (0, 32, 48, 48, 64)
_BULK_ROWS = 64  # from this many rows on, appends set GDAL's per-row triggers aside


class GeoPackageStore:
    """Layers in one GeoPackage file (opens in QGIS).

    Every change is one SQLite transaction in the file itself (``BEGIN IMMEDIATE``): writers
    wait for each other (up to 60 s), readers keep reading the last committed state, and a
    writer that dies mid-way leaves a journal that the next opening rolls back. Nothing is
    ever written beside the file but SQLite's own ``-journal``.

    Parameters
    ----------
    path
        The ``.gpkg`` file; created on first write. A file of zero bytes (what a crash
        during the very first write leaves) is an empty store.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.location = str(self.path)

    def _blank(self) -> bool:
        """True when there is no store yet: no file, or an empty one."""
        try:
            return self.path.stat().st_size == 0
        except FileNotFoundError:
            return True

    def _gdal(self, read: Any, **options: Any) -> Any:
        """``read(path, **options)`` through GDAL, after rolling back a dead writer's work.

        A writer killed between the check and GDAL's opening leaves a journal that GDAL,
        opening read-only, refuses: roll it back and read again.
        """
        for attempt in range(4):
            try:
                with _gdal_turn(self.path):
                    _recover_hot_journal(self.path)
                    return read(self.path, **options)
            except pyogrio.errors.DataSourceError as exc:
                if attempt == 3:
                    raise StoreError(
                        Text(
                            f"{self.path}：无法读取 GeoPackage（{exc}）",
                            f"{self.path}: cannot read the GeoPackage ({exc})",
                        )
                    ) from exc
                time.sleep(0.05 * 2**attempt)
        raise AssertionError("unreachable")

    def scoped(self, scope: Scope) -> GeoPackageStore:
        """The store itself: a file has no row-level security; readers cut what they read
        (:meth:`geo.core.scope.Scope.filter`)."""
        return self

    def layers(self) -> list[str]:
        if self._blank():
            return []
        return [str(name) for name in self._gdal(pyogrio.list_layers)[:, 0]]

    def read(self, layer: str) -> pd.DataFrame:
        present = self.layers()
        if layer not in present:
            raise StoreError(
                Text(
                    f"{self.path}：没有图层 {layer!r}；现有图层 {present}",
                    f"{self.path}: no layer {layer!r}; it has {present}",
                )
            )
        return self._gdal(pyogrio.read_dataframe, layer=layer, use_arrow=True)

    def write(self, layers: Mapping[str, pd.DataFrame]) -> None:
        refuse_append_only(self.location, list(layers))
        for name, frame in layers.items():
            _check_layer_name(name)
            check_values(name, frame)
        write_geopackage(self.path, layers, keep_existing=True)

    def version(self, layers: Sequence[str] | None = None) -> str:
        if self._blank():
            return "absent"
        # SQLite's file change counter (bytes 24-27 of the header) moves on every commit.
        with open(self.path, "rb") as file:
            header = file.read(100)
        stat = self.path.stat()
        whole = f"{int.from_bytes(header[24:28], 'big')}-{stat.st_size}-{stat.st_mtime_ns}"
        if layers is None:
            return whole
        # gpkg_contents.last_change (milliseconds) is kept by GDAL, QGIS, write() and our
        # transactions.
        try:
            with closing(sqlite3.connect(f"file:{self.path}?mode=ro", uri=True)) as conn:
                rows = conn.execute("SELECT table_name, last_change FROM gpkg_contents").fetchall()
        except sqlite3.Error:  # locked or being recovered: the whole-file key
            return whole
        wanted = {name.lower() for name in layers}
        return ";".join(sorted(f"{t.lower()}={c}" for t, c in rows if str(t).lower() in wanted))

    @contextmanager
    def transaction(self, *, readonly: bool = False) -> Iterator[Transaction]:
        """One SQLite transaction in the file (``BEGIN IMMEDIATE`` unless ``readonly``).

        SQLite's rollback journal makes it all or nothing, also when the process dies: the
        next opening of the file rolls an unfinished transaction back. Writers (``write``
        included) wait for each other up to 60 s; readers keep reading the last committed
        state meanwhile.
        """
        if self._blank():
            raise StoreError(
                Text(
                    f"{self.path}：GeoPackage 不存在，请先写入图层",
                    f"{self.path}: no such GeoPackage; write its layers first",
                )
            )
        with _in_process_turn(self.path), self._transaction(readonly=readonly) as tx:
            yield tx

    @contextmanager
    def _transaction(self, *, readonly: bool) -> Iterator[Transaction]:
        conn = _connect(self.path, Text("开始事务", "starting a transaction"))
        try:
            conn.execute("BEGIN" if readonly else "BEGIN IMMEDIATE")
        except sqlite3.Error as exc:
            conn.close()
            raise _write_error(self.path, exc, Text("开始事务", "starting a transaction")) from exc
        tx = _GeoPackageTransaction(conn, self.path, readonly=readonly)
        try:
            yield tx
            with _sqlite_errors(self.path, Text("提交", "committing")):
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
        append_only: Sequence[str] = (),
    ) -> None:
        """Create each missing table empty, with its template's columns, and the indexes;
        ``append_only`` tables get triggers that abort any update or delete.

        A table that exists already is left as it is (also one another process creates
        meanwhile: all of it is one transaction). Geometry tables take the geometry type of
        the template's rows (Polygon promoted to MultiPolygon).
        """
        present = set(self.layers())
        parts: list[tuple[str, bytes]] = []
        for name, frame in templates.items():
            _check_layer_name(name)
            if name in present:
                continue
            kind = _geometry_type_name(frame) if isinstance(frame, gpd.GeoDataFrame) else None
            try:
                parts.append((name, gpkg_bytes(name, frame.iloc[:0], geometry_type=kind)))
            except Exception as exc:
                raise StoreError(
                    Text(
                        f"{self.path}：无法建表 {name!r}（{exc}）",
                        f"{self.path}: cannot create table {name!r} ({exc})",
                    )
                ) from exc
        if parts or indexes or append_only:
            _apply(
                self.path,
                parts,
                replace=False,
                indexes=indexes,
                append_only=append_only,
                action=Text("建表和索引", "creating tables and indexes"),
                kept=Text("未做任何更改", "nothing was changed"),
            )


def write_geopackage(
    path: str | Path, layers: Mapping[str, pd.DataFrame], *, keep_existing: bool = False
) -> None:
    """Write layers into a GeoPackage in one SQLite transaction, all or none.

    GDAL writes each frame into an in-memory GeoPackage; the transaction then replaces the
    named tables in the file (their R-tree and GeoPackage bookkeeping with them). No other
    file is written, so any reader or writer with the file open keeps a consistent view.

    Parameters
    ----------
    path
        Target ``.gpkg`` file (created if missing).
    layers
        Layer name → DataFrame or GeoDataFrame.
    keep_existing
        Keep the file's other layers instead of dropping them.
    """
    path = Path(path)
    saving = Text("保存", "saving")
    kept = Text("保留原有版本", "the previous version is kept")
    for name in layers:
        _check_layer_name(name)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise _write_error(path, exc, saving, kept) from exc
    try:
        parts = [(name, gpkg_bytes(name, frame)) for name, frame in layers.items()]
    except Exception as exc:
        raise StoreError(_failed(path, saving, kept, exc)) from exc
    _apply(path, parts, replace=True, drop_others=not keep_existing, action=saving, kept=kept)


def _apply(
    path: Path,
    parts: list[tuple[str, bytes]],
    *,
    replace: bool,
    action: Text,
    kept: Text,
    drop_others: bool = False,
    indexes: Mapping[str, Sequence[Sequence[str]]] | None = None,
    append_only: Sequence[str] = (),
) -> None:
    """Stage ``parts`` (layer name, GeoPackage bytes) and install them in one transaction."""
    with _in_process_turn(path):
        _apply_now(path, parts, replace=replace, action=action, kept=kept,
                   drop_others=drop_others, indexes=indexes, append_only=append_only)  # fmt: skip


def _apply_now(
    path: Path,
    parts: list[tuple[str, bytes]],
    *,
    replace: bool,
    action: Text,
    kept: Text,
    drop_others: bool,
    indexes: Mapping[str, Sequence[Sequence[str]]] | None,
    append_only: Sequence[str] = (),
) -> None:
    conn = _connect(path, action, kept)
    try:
        staged = stage(conn, parts)
        parts.clear()  # the staging schema holds its own copy
        conn.execute("BEGIN IMMEDIATE")
        try:
            install(conn, staged, replace=replace, drop_others=drop_others, indexes=indexes,
                    append_only=append_only)  # fmt: skip
            conn.execute("COMMIT")
        except BaseException:
            with suppress(sqlite3.Error):
                conn.execute("ROLLBACK")
            raise
    except sqlite3.Error as exc:
        raise _write_error(path, exc, action, kept) from exc
    finally:
        conn.close()


def _connect(path: Path, action: Text, kept: Text | None = None) -> sqlite3.Connection:
    """A connection to the store's file with GDAL's SQL functions and a large page cache.

    The cache keeps a transaction's changes in memory until COMMIT, so that readers are
    not locked out early (SQLite takes the exclusive lock when it spills to the file).
    """
    try:
        conn = sqlite3.connect(path, timeout=_SQLITE_TIMEOUT_S, isolation_level=None)
        _register_gpkg_functions(conn)
        conn.create_function("gridgov_set_srs", 2, set_srs, deterministic=True)
        conn.execute(f"PRAGMA cache_size = -{_SQLITE_CACHE_KIB}")
    except sqlite3.Error as exc:
        raise _write_error(path, exc, action, kept) from exc
    return conn


def _check_layer_name(name: str) -> None:
    check_name(name)
    if name.startswith(RESERVED_PREFIXES):
        raise StoreError(
            Text(
                f"图层名 {name!r} 与 GeoPackage 自用的表冲突（以 {'、'.join(RESERVED_PREFIXES)} "
                "开头），请换一个名称",
                f"layer name {name!r} clashes with the GeoPackage's own tables (names starting "
                f"with {', '.join(RESERVED_PREFIXES)}); choose another name",
            )
        )


def _failed(path: Path, action: Text, kept: Text, exc: BaseException) -> Text:
    return Text(
        f"{path}：{action.zh}失败，{kept.zh}（{exc}）",
        f"{path}: {action.en} failed, {kept.en} ({exc})",
    )


def _write_error(
    path: Path, exc: BaseException, action: Text, kept: Text | None = None
) -> StoreError:
    """The error to raise when writing ``path`` failed with ``exc``: it says whether the
    file or its folder is read-only, or another program held the file too long."""
    kept = kept or Text("未做任何更改", "nothing was changed")
    folder = next((p for p in [path.parent, *path.parents] if p.exists()), path.parent)
    message = str(exc).lower()
    if path.exists() and not os.access(path, os.W_OK):
        why = Text("文件只读", "the file is read-only")
    elif not os.access(folder, os.W_OK):
        why = Text(
            f"文件夹 {folder} 只读（SQLite 要在文件旁写日志文件）",
            f"the folder {folder} is read-only (SQLite writes its journal beside the file)",
        )
    elif "readonly" in message or "read-only" in message:
        why = Text("文件或文件系统只读", "the file or its file system is read-only")
    elif "locked" in message or "busy" in message:
        return StoreError(
            Text(
                f"{path}：另一个程序写入该文件已超过 {_SQLITE_TIMEOUT_S:.0f} 秒，"
                f"{action.zh}未能进行，{kept.zh}；请稍后再试",
                f"{path}: another program has been writing the file for more than "
                f"{_SQLITE_TIMEOUT_S:.0f} s, so {action.en} could not start; {kept.en}. Try "
                "again later",
            )
        )
    else:
        return StoreError(_failed(path, action, kept, exc))
    return StoreError(
        Text(
            f"{path}：{why.zh}，无法{action.zh}，{kept.zh}；读取不受影响。请管理员授予写权限，"
            "或把存储复制到可写的文件夹",
            f"{path}: {why.en}, so {action.en} is not possible; {kept.en} and reading still "
            "works. Ask for write permission, or copy the store to a folder you can write",
        )
    )


def _geometry_type_name(frame: gpd.GeoDataFrame) -> str:
    types = set(frame.geom_type.dropna().unique())
    if not types:
        return "Unknown"
    if types <= {"Polygon", "MultiPolygon"} and len(types) > 1:
        return "MultiPolygon"
    return str(types.pop()) if len(types) == 1 else "Unknown"


# GDAL links its own SQLite. POSIX file locks belong to the process, and closing any
# descriptor of a file drops all of them: GDAL opening and closing the store while a
# transaction of Python's SQLite is open in this process would silently drop that
# transaction's locks (another process could then write under it). So inside one process,
# GDAL's reads of a file wait for the file's transactions, and a transaction's own thread
# must read through the transaction.
_FILE_LOCKS: dict[str, threading.RLock] = {}
_FILE_LOCKS_GUARD = threading.Lock()
_OPEN_HERE = threading.local()


def _file_lock(path: Path) -> threading.RLock:
    key = os.path.realpath(path)
    with _FILE_LOCKS_GUARD:
        return _FILE_LOCKS.setdefault(key, threading.RLock())


@contextmanager
def _in_process_turn(path: Path) -> Iterator[None]:
    """Hold ``path``'s lock of this process for a transaction of this thread."""
    key = os.path.realpath(path)
    with _file_lock(path):
        open_here: set[str] = getattr(_OPEN_HERE, "paths", set())
        _OPEN_HERE.paths = open_here | {key}
        try:
            yield
        finally:
            _OPEN_HERE.paths = open_here


def _gdal_turn(path: Path) -> threading.RLock:
    """The lock GDAL's reads of ``path`` take; refused inside this thread's own transaction."""
    if os.path.realpath(path) in getattr(_OPEN_HERE, "paths", set()):
        raise StoreError(
            Text(
                f"{path}：事务进行中，不能另行读取该文件；请通过事务读取（tx.read）",
                f"{path}: a transaction of this thread is open on the file; read through it "
                "(tx.read), not store.read",
            )
        )
    return _file_lock(path)


def _recover_hot_journal(path: Path) -> None:
    """Roll back a transaction that a crashed writer left behind in ``path``.

    SQLite does this on the next read-write opening (and removes the journal); GDAL opens
    read-only and would refuse the file ("attempt to write a readonly database") until then.
    """
    journal = Path(f"{path}-journal")
    if not journal.exists():
        return
    with suppress(sqlite3.Error):
        conn = sqlite3.connect(path, timeout=_SQLITE_TIMEOUT_S)
        try:
            conn.execute("SELECT count(*) FROM sqlite_master").fetchall()
        finally:
            conn.close()
    if not journal.exists():
        return
    # Still there: either a live writer's, or one a writer killed before it changed the
    # file left (its header zeroed, so SQLite ignores it but leaves it). Holding the write
    # lock tells them apart: then no writer is at work and the journal is nobody's.
    with suppress(sqlite3.Error, OSError):
        conn = sqlite3.connect(path, timeout=0, isolation_level=None)
        try:
            conn.execute("BEGIN IMMEDIATE")
            journal.unlink(missing_ok=True)
            conn.execute("ROLLBACK")
        finally:
            conn.close()


@contextmanager
def _sqlite_errors(path: Path, action: Text) -> Iterator[None]:
    try:
        yield
    except sqlite3.Error as exc:
        raise _write_error(path, exc, action) from exc


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
    if len(blob) == 29:  # a 2D point (no envelope): its own coordinates, read directly
        order = "<" if blob[8] == 1 else ">"
        if struct.unpack_from(order + "I", blob, 9)[0] == 1:
            x, y = struct.unpack_from(order + "2d", blob, 13)
            return (x, x, y, y)
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
        info = conn.execute(f"PRAGMA table_info({quote(name)})").fetchall()
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
        check_name(name)
        if name not in self._tables:
            with _sqlite_errors(self._path, Text(f"读取表 {name!r}", f"reading table {name!r}")):
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
            if is_listlike(value):
                items = [plain(v) for v in value]  # type: ignore[attr-defined]
                clauses.append(f"{quote(column)} IN (SELECT value FROM json_each(?))")
                params.append(json.dumps(items, ensure_ascii=False))
            elif plain(value) is None:
                clauses.append(f"{quote(column)} IS NULL")
            else:
                clauses.append(f"{quote(column)} = ?")
                params.append(plain(value))
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
        select = [quote(c) for c in names]
        if with_geom and t.geom:
            select.append(quote(t.geom))
        clauses, params = self._where(t, where)
        if bbox is not None and t.geom is not None:
            x0, y0, x1, y1 = bbox_in(bbox, bbox_crs, t.crs)
            if t.rtree:
                clauses.append(
                    f"{quote(t.fid or 'rowid')} IN (SELECT id FROM {quote(t.rtree)} "
                    "WHERE maxx >= ? AND minx <= ? AND maxy >= ? AND miny <= ?)"
                )
            else:
                clauses.append(
                    f"ST_MaxX({quote(t.geom)}) >= ? AND ST_MinX({quote(t.geom)}) <= ? AND "
                    f"ST_MaxY({quote(t.geom)}) >= ? AND ST_MinY({quote(t.geom)}) <= ?"
                )
            params += [x0, x1, y0, y1]
        sql = f"SELECT {', '.join(select) or 'NULL'} FROM {quote(table)}"
        if clauses:
            sql += " WHERE " + " AND ".join(clauses)
        if t.fid:
            sql += f" ORDER BY {quote(t.fid)}"
        with _sqlite_errors(self._path, Text(f"读取 {table!r}", f"reading {table!r}")):
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
        check_values(table, frame)
        t = self._writable(table)
        is_geo = isinstance(frame, gpd.GeoDataFrame)
        if is_geo and t.geom is None:
            raise StoreError(f"{self._path}: table {table!r} has no geometry column")
        names = [c for c in frame.columns if not (is_geo and c == frame.geometry.name)]
        names = [c for c in names if c != t.fid]
        with _sqlite_errors(self._path, Text(f"向 {table!r} 追加", f"appending to {table!r}")):
            for name in names:
                if name not in t.types:
                    kind = sql_type_of(frame[name], postgis=False)
                    self._conn.execute(
                        f"ALTER TABLE {quote(table)} ADD COLUMN {quote(name)} {kind}"
                    )
                    t.types[name] = kind
            values = [python_values(frame[c], text_datetimes=True) for c in names]
            targets = [quote(c) for c in names]
            if is_geo and t.geom:
                geoms = frame.geometry
                if t.crs is not None and geoms.crs is not None and geoms.crs != t.crs:
                    geoms = geoms.to_crs(t.crs)
                # A multi-part geometry in a single-type layer stays as it is: SQLite cannot
                # change a column's declared type, and GDAL reads such rows as they are.
                array, _ = fit_geometries(geoms.to_numpy(), t.geometry_type)
                values.append(_gpkg_encode(array, t.srs_id))  # type: ignore[arg-type]
                targets.append(quote(t.geom))
                if len(array) and not shapely.is_empty(array).all():
                    x0, y0, x1, y1 = shapely.total_bounds(array)
                    ext = self._extents.setdefault(table, [x0, y0, x1, y1])
                    ext[:] = [min(ext[0], x0), min(ext[1], y0), max(ext[2], x1), max(ext[3], y1)]
            if not len(frame):
                return
            marks = ", ".join("?" * len(targets))
            insert = f"INSERT INTO {quote(table)} ({', '.join(targets)}) VALUES ({marks})"
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
            self._conn.execute(f"DROP TRIGGER {quote(name)}")
        fid = quote(t.fid or "rowid")
        (last,) = self._conn.execute(
            f"SELECT coalesce(max({fid}), 0) FROM {quote(t.name)}"
        ).fetchone()
        self._conn.executemany(insert, rows)
        if (
            t.rtree
            and t.geom
            and any(name.endswith("_insert") and "rtree" in name for name, _ in triggers)
        ):
            g = quote(t.geom)
            self._conn.execute(
                f"INSERT OR REPLACE INTO {quote(t.rtree)} SELECT {fid}, ST_MinX({g}), "
                f"ST_MaxX({g}), ST_MinY({g}), ST_MaxY({g}) FROM {quote(t.name)} "
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
        with _sqlite_errors(self._path, Text(f"从 {table!r} 删除", f"deleting from {table!r}")):
            cursor = self._conn.execute(
                f"DELETE FROM {quote(table)} WHERE {' AND '.join(clauses)}", params
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
        with _sqlite_errors(self._path, Text(f"更新 {table!r}", f"updating {table!r}")):
            if key != t.fid:
                # Without an index on the key every row updated would scan the whole table.
                self._conn.execute(
                    f"CREATE INDEX IF NOT EXISTS {index_name(table, [key])} "
                    f"ON {quote(table)} ({quote(key)})"
                )
            values = [python_values(frame[c], text_datetimes=True) for c in [*names, key]]
            sets = ", ".join(f"{quote(c)} = ?" for c in names)
            before = self._conn.total_changes
            self._conn.executemany(
                f"UPDATE {quote(table)} SET {sets} WHERE {quote(key)} = ?",
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
                f"{quote(table)}) WHERE lower(table_name) = lower(?)",
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
