"""What every store offers (the ``Store`` and ``Transaction`` protocols), its error, and
``open_store``: a GeoPackage file by default, PostGIS when ``DATABASE_URL`` names one.

Both keep one table per layer (``towns``, ``villages``, ``grids``, ``households``,
``service_points``, ``issues`` plus plain tables such as ``meta``) and replace a layer
atomically: a failed save leaves the last good state in place.

Every write (``write``, ``create_tables``, a writing ``transaction``) is one database
transaction, and writers of one store take turns: SQLite's write lock (``BEGIN IMMEDIATE``)
in a GeoPackage file, an advisory lock per schema in PostGIS; each waits up to 60 s, then
gives up with a :class:`StoreError` saying so. Readers never wait for a writer's lock and
see the last committed state. A store that may only be read (a write-protected file or
folder, a database role without write rights) reads as usual and refuses writes with a
:class:`StoreError` that says so.

For changes that touch a few rows of large layers (publishing a grid version rewrites some
issues' grid codes), ``transaction()`` reads, appends, updates and deletes rows in place and
commits all of it or nothing: one SQLite transaction in the GeoPackage file, one
PostgreSQL transaction in PostGIS.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any, Protocol

import pandas as pd

from geo.core.errors import GridGovError
from geo.core.i18n import Text
from geo.core.scope import Scope


class StoreError(GridGovError):
    """The store cannot be opened, read or written."""


#: Tables rows are only ever added to (the audit trail): ``write`` refuses to replace them,
#: and a trigger in the database refuses updates and deletes.
APPEND_ONLY = frozenset({"audit"})


def refuse_append_only(location: str, names: Sequence[str]) -> None:
    """Raise :class:`StoreError` when ``names`` holds an append-only table."""
    held = sorted(set(names) & APPEND_ONLY)
    if held:
        raise StoreError(
            Text(
                f"{location}：{held} 只能追加记录，不能整表替换",
                f"{location}: {held} only take new rows; they cannot be replaced",
            )
        )


class Store(Protocol):
    """What every store offers."""

    location: str

    def layers(self) -> list[str]:
        """Names of the layers present."""
        ...

    def scoped(self, scope: Scope) -> Store:
        """The store as a caller of ``scope`` sees it: PostGIS sets the scope its row-level
        security checks in every transaction; a GeoPackage is itself (readers cut rows)."""
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
        append_only: Sequence[str] = (),
    ) -> None:
        """Create the missing tables (empty, with the templates' columns) and indexes.

        ``append_only`` tables (of :data:`APPEND_ONLY`) refuse every update and delete in the
        database itself (a trigger), whoever connects.
        """
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


def open_store(location: str | Path, *, schema: str = "public") -> Store:
    """Open a store: a PostgreSQL URL gives PostGIS (tables in ``schema``), else a GeoPackage."""
    # The backends import this module: import them when a store is opened.
    from geo.store.gpkg import GeoPackageStore
    from geo.store.postgis import PostGISStore

    text_location = str(location)
    if text_location.startswith(("postgresql", "postgres://")):
        return PostGISStore(text_location, schema=schema)
    return GeoPackageStore(text_location)
