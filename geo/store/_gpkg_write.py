"""Replacing GeoPackage layers in place: GDAL writes the frames into in-memory GeoPackages,
SQLite loads them into an attached in-memory schema, and one transaction on the store swaps
each table, its R-tree and its bookkeeping rows."""

from __future__ import annotations

import io
import sqlite3
import struct
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import geopandas as gpd
import pandas as pd
import pyogrio

from geo.store._common import index_name, quote

#: The attached in-memory schema that holds every staged layer until COMMIT.
STAGING = "gridgov_staging"
_PART = "gridgov_part"
#: Tables whose rows describe a layer (by ``table_name``).
_BOOKKEEPING = (
    "gpkg_contents",
    "gpkg_geometry_columns",
    "gpkg_ogr_contents",
    "gpkg_extensions",
    "gpkg_data_columns",
    "gpkg_metadata_reference",
)
#: GeoPackage's own tables: layer names that would clash with them, or with R-trees.
RESERVED_PREFIXES = ("gpkg_", "rtree_", "sqlite_", "gridgov_staging", "gridgov_part")


@dataclass
class StagedLayer:
    """One layer as GDAL wrote it: its SQL, columns and bookkeeping rows."""

    name: str
    table_sql: str
    columns: list[str]
    fid: str
    geom: str | None
    rtree: str | None
    rtree_sql: str | None
    after_sql: list[str]  # indexes and triggers, run once the rows are in
    rows: dict[str, list[dict[str, object]]]
    srs: dict[str, object] | None
    #: Tables GeoPackage itself needs (``gpkg_contents``…): name → SQL, with their triggers.
    base_sql: dict[str, list[str]] = field(default_factory=dict)
    pragmas: dict[str, int] = field(default_factory=dict)


def gpkg_bytes(name: str, frame: pd.DataFrame, *, geometry_type: str | None = None) -> bytes:
    """A GeoPackage holding ``frame`` as layer ``name``, written by GDAL in memory."""
    buffer = io.BytesIO()
    if isinstance(frame, gpd.GeoDataFrame):
        options: dict[str, object] = {}
        if geometry_type is not None:
            options["geometry_type"] = geometry_type
        else:
            geom_types = set(frame.geom_type.dropna().unique())
            promote = bool(geom_types & {"Polygon", "MultiPolygon"}) and len(geom_types) > 1
            options["promote_to_multi"] = promote
        pyogrio.write_dataframe(frame, buffer, layer=name, driver="GPKG", **options)
    else:
        pyogrio.write_dataframe(pd.DataFrame(frame), buffer, layer=name, driver="GPKG")
    return buffer.getvalue()


def stage(conn: sqlite3.Connection, parts: Sequence[tuple[str, bytes]]) -> list[StagedLayer]:
    """Load each ``(name, GeoPackage bytes)`` into the attached schema :data:`STAGING`.

    Must run outside a transaction (SQLite attaches and detaches only there). The first
    part becomes the staging schema itself; the rows of the others are copied into it, so
    that one attached schema serves any number of layers (SQLite attaches at most 10).
    """
    staged: list[StagedLayer] = []
    conn.execute(f"ATTACH ':memory:' AS {STAGING}")
    for i, (name, data) in enumerate(parts):
        schema = STAGING if i == 0 else _PART
        if i:
            conn.execute(f"ATTACH ':memory:' AS {_PART}")
        conn.deserialize(data, name=schema)
        layer = _describe(conn, schema, name)
        if i:
            conn.execute(
                f"CREATE TABLE {STAGING}.{quote(name)} AS SELECT * FROM {_PART}.{quote(name)}"
            )
            for shadow in _shadows(layer.rtree):
                conn.execute(
                    f"CREATE TABLE {STAGING}.{quote(shadow)} AS "
                    f"SELECT * FROM {_PART}.{quote(shadow)}"
                )
            conn.execute(f"DETACH {_PART}")
        staged.append(layer)
    return staged


def _describe(conn: sqlite3.Connection, schema: str, name: str) -> StagedLayer:
    master = conn.execute(
        f"SELECT type, name, tbl_name, sql FROM {schema}.sqlite_master WHERE sql IS NOT NULL"
    ).fetchall()
    table_sql = next(sql for kind, n, _, sql in master if kind == "table" and n == name)
    info = conn.execute(f"PRAGMA {schema}.table_info({quote(name)})").fetchall()
    columns = [str(r[1]) for r in info]
    fid = next((str(r[1]) for r in info if r[5] == 1), "rowid")
    rows: dict[str, list[dict[str, object]]] = {}
    present = {n for kind, n, _, _ in master if kind == "table"}
    for table in _BOOKKEEPING:
        if table in present:
            cursor = conn.execute(
                f"SELECT * FROM {schema}.{table} WHERE lower(table_name) = lower(?)", (name,)
            )
            names = [d[0] for d in cursor.description]
            rows[table] = [dict(zip(names, r, strict=True)) for r in cursor.fetchall()]
    geometry = rows.get("gpkg_geometry_columns", [])
    geom = str(geometry[0]["column_name"]) if geometry else None
    srs_id = geometry[0]["srs_id"] if geometry else None
    srs = None
    if srs_id is not None:
        cursor = conn.execute(
            f"SELECT * FROM {schema}.gpkg_spatial_ref_sys WHERE srs_id = ?", (srs_id,)
        )
        names = [d[0] for d in cursor.description]
        found = cursor.fetchone()
        srs = dict(zip(names, found, strict=True)) if found else None
    rtree = f"rtree_{name}_{geom}" if geom and f"rtree_{name}_{geom}" in present else None
    rtree_sql = next((sql for _, n, _, sql in master if n == rtree), None) if rtree else None
    after = [
        sql for kind, _, table, sql in master if kind in ("index", "trigger") and table == name
    ]
    base: dict[str, list[str]] = {}
    for kind, n, _, sql in master:
        if kind == "table" and n.startswith("gpkg_"):
            base[n] = [sql]
    for kind, _, table, sql in master:
        if kind == "trigger" and table in base:
            base[table].append(sql)
    pragmas = {
        p: int(conn.execute(f"PRAGMA {schema}.{p}").fetchone()[0])
        for p in ("application_id", "user_version")
    }
    return StagedLayer(
        name, table_sql, columns, fid, geom, rtree, rtree_sql, after, rows, srs, base, pragmas
    )


def table_exists(conn: sqlite3.Connection, name: str) -> bool:
    found = conn.execute(
        "SELECT 1 FROM main.sqlite_master WHERE type = 'table' AND lower(name) = lower(?)",
        (name,),
    ).fetchone()
    return found is not None


def user_layers(conn: sqlite3.Connection) -> list[str]:
    if not table_exists(conn, "gpkg_contents"):
        return []
    return [str(r[0]) for r in conn.execute("SELECT table_name FROM main.gpkg_contents")]


def install(
    conn: sqlite3.Connection,
    staged: Sequence[StagedLayer],
    *,
    replace: bool,
    drop_others: bool = False,
    indexes: Mapping[str, Sequence[Sequence[str]]] | None = None,
    append_only: Sequence[str] = (),
) -> list[str]:
    """Put the staged layers into the store; run inside ``BEGIN IMMEDIATE``.

    ``replace`` drops a layer of the same name first (else it is kept and the staged one
    skipped); ``drop_others`` drops every layer not staged; each ``append_only`` table gets
    triggers that abort an update or a delete. Returns the layers written.
    """
    if not table_exists(conn, "gpkg_spatial_ref_sys") and staged:
        _initialise(conn, staged[0])
    wanted = {layer.name.lower() for layer in staged}
    if drop_others:
        for name in user_layers(conn):
            if name.lower() not in wanted:
                drop_layer(conn, name)
    written = []
    for layer in staged:
        if table_exists(conn, layer.name):
            if not replace:
                continue
            drop_layer(conn, layer.name)
        _install_one(conn, layer)
        written.append(layer.name)
    for table, column_sets in (indexes or {}).items():
        for columns in column_sets:
            conn.execute(
                f"CREATE INDEX IF NOT EXISTS {index_name(table, columns)} "
                f"ON {quote(table)} ({', '.join(map(quote, columns))})"
            )
    for table in append_only:
        for event in ("UPDATE", "DELETE"):
            trigger = quote(f"gridgov_append_only_{table}_{event.lower()}")
            conn.execute(
                f"CREATE TRIGGER IF NOT EXISTS {trigger} BEFORE {event} ON {quote(table)} "
                f"BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END"
            )
    return written


def _initialise(conn: sqlite3.Connection, first: StagedLayer) -> None:
    """Make an empty database a GeoPackage (GDAL's own tables, ids and version)."""
    for name, sqls in first.base_sql.items():
        if not table_exists(conn, name):
            for sql in sqls:
                conn.execute(sql)
            if name == "gpkg_spatial_ref_sys":
                conn.execute(
                    f"INSERT INTO main.gpkg_spatial_ref_sys SELECT * FROM "
                    f"{STAGING}.gpkg_spatial_ref_sys"
                )
    for pragma, value in first.pragmas.items():
        conn.execute(f"PRAGMA main.{pragma} = {int(value)}")


def drop_layer(conn: sqlite3.Connection, name: str) -> None:
    """Drop a layer's table, R-tree, triggers, indexes and bookkeeping rows."""
    geometry = []
    if table_exists(conn, "gpkg_geometry_columns"):
        geometry = conn.execute(
            "SELECT column_name FROM main.gpkg_geometry_columns WHERE lower(table_name) = lower(?)",
            (name,),
        ).fetchall()
    for (column,) in geometry:
        rtree = f"rtree_{name}_{column}"
        if table_exists(conn, rtree):
            conn.execute(f"DROP TABLE main.{quote(rtree)}")
    if table_exists(conn, name):
        conn.execute(f"DROP TABLE main.{quote(name)}")
    for table in _BOOKKEEPING:
        if table_exists(conn, table):
            conn.execute(f"DELETE FROM main.{table} WHERE lower(table_name) = lower(?)", (name,))


def _install_one(conn: sqlite3.Connection, layer: StagedLayer) -> None:
    for table, sqls in layer.base_sql.items():
        if table in layer.rows and not table_exists(conn, table):
            for sql in sqls:
                conn.execute(sql)
    srs_id = _ensure_srs(conn, layer.srs)
    conn.execute(layer.table_sql)  # unqualified CREATE goes into main
    cols = ", ".join(quote(c) for c in layer.columns)
    conn.execute(
        f"INSERT INTO main.{quote(layer.name)} ({cols}) "
        f"SELECT {cols} FROM {STAGING}.{quote(layer.name)}"
    )
    if layer.geom and layer.srs is not None and srs_id != layer.srs["srs_id"]:
        conn.execute(
            f"UPDATE main.{quote(layer.name)} SET {quote(layer.geom)} = "
            f"gridgov_set_srs({quote(layer.geom)}, ?)",
            (srs_id,),
        )
    if layer.rtree and layer.rtree_sql:
        _install_rtree(conn, layer)
    for table, rows in layer.rows.items():
        have = {str(r[1]) for r in conn.execute(f"PRAGMA main.table_info({table})")}
        for row in rows:
            values = {k: v for k, v in row.items() if k in have}
            if "srs_id" in values and values["srs_id"] is not None and layer.srs is not None:
                values["srs_id"] = srs_id
            if table == "gpkg_contents":
                values.pop("last_change", None)  # its default: now, in milliseconds
            marks = ", ".join("?" * len(values))
            conn.execute(
                f"INSERT INTO main.{table} ({', '.join(map(quote, values))}) VALUES ({marks})",
                list(values.values()),
            )
    for sql in layer.after_sql:
        conn.execute(sql)


def _shadows(rtree: str | None) -> list[str]:
    """The tables in which SQLite keeps an R-tree's nodes."""
    return [f"{rtree}_{suffix}" for suffix in ("node", "rowid", "parent")] if rtree else []


def _install_rtree(conn: sqlite3.Connection, layer: StagedLayer) -> None:
    """Create the layer's R-tree and fill it with the nodes GDAL built.

    Copying the node tables is what GDAL's own bulk load does, and ten times faster than
    inserting each box again. It needs nodes of the same size (the page size of both
    databases); otherwise the boxes are computed from the geometries again.
    """
    assert layer.rtree and layer.rtree_sql and layer.geom
    conn.execute(layer.rtree_sql)  # unqualified CREATE goes into main
    node = quote(f"{layer.rtree}_node")
    size = "SELECT length(data) FROM {}.{} WHERE nodeno = 1"
    ours = conn.execute(size.format("main", node)).fetchone()
    theirs = conn.execute(size.format(STAGING, node)).fetchone()
    if ours is not None and ours == theirs:
        for shadow in map(quote, _shadows(layer.rtree)):
            conn.execute(f"DELETE FROM main.{shadow}")
            conn.execute(f"INSERT INTO main.{shadow} SELECT * FROM {STAGING}.{shadow}")
        return
    g = quote(layer.geom)
    conn.execute(
        f"INSERT INTO main.{quote(layer.rtree)} SELECT {quote(layer.fid)}, ST_MinX({g}), "
        f"ST_MaxX({g}), ST_MinY({g}), ST_MaxY({g}) FROM main.{quote(layer.name)} "
        f"WHERE {g} NOT NULL AND NOT ST_IsEmpty({g})"
    )


def _ensure_srs(conn: sqlite3.Connection, srs: dict[str, object] | None) -> int:
    """The store's ``srs_id`` for the staged layer's spatial reference system.

    The staged id is kept when the store has it free or for the same system; a store that
    uses that id for another system gets the layer under the id it has for the same
    system, or under a new id.
    """
    if srs is None:
        return 0
    staged_id = int(srs["srs_id"])  # type: ignore[call-overload]
    org, code = str(srs["organization"]).lower(), srs["organization_coordsys_id"]
    row = conn.execute(
        "SELECT lower(organization), organization_coordsys_id FROM main.gpkg_spatial_ref_sys "
        "WHERE srs_id = ?",
        (staged_id,),
    ).fetchone()
    if row is not None and (row[0], row[1]) == (org, code):
        return staged_id
    if row is None:
        _insert_srs(conn, srs, staged_id)
        return staged_id
    same = conn.execute(
        "SELECT srs_id FROM main.gpkg_spatial_ref_sys WHERE lower(organization) = ? "
        "AND organization_coordsys_id = ? AND srs_id > 0 ORDER BY srs_id LIMIT 1",
        (org, code),
    ).fetchone()
    if same is not None and org != "none":
        return int(same[0])
    (free,) = conn.execute(
        "SELECT max(100000, coalesce(max(srs_id), 0) + 1) FROM main.gpkg_spatial_ref_sys"
    ).fetchone()
    _insert_srs(conn, srs, int(free))
    return int(free)


def _insert_srs(conn: sqlite3.Connection, srs: dict[str, object], srs_id: int) -> None:
    have = {str(r[1]) for r in conn.execute("PRAGMA main.table_info(gpkg_spatial_ref_sys)")}
    values = {k: v for k, v in srs.items() if k in have} | {"srs_id": srs_id}
    conn.execute(
        f"INSERT INTO main.gpkg_spatial_ref_sys ({', '.join(map(quote, values))}) "
        f"VALUES ({', '.join('?' * len(values))})",
        list(values.values()),
    )


def set_srs(blob: bytes | None, srs_id: int) -> bytes | None:
    """A GeoPackage geometry blob with its header's ``srs_id`` replaced."""
    if blob is None:
        return None
    out = bytearray(blob)
    struct.pack_into("<i" if out[3] & 0x01 else ">i", out, 4, int(srs_id))
    return bytes(out)
