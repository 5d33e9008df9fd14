"""A county's layers loaded from a store and made ready for analysis and display."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import pandas as pd

from geo.core.clock import now_beijing
from geo.core.i18n import Text
from geo.core.scope import Scope
from geo.core.settings import (
    DEMO_FILENAME,
    LAYERS,
    Settings,
    get_settings,
    use_county,
    with_county,
)
from geo.core.tickets import one_row_per_ticket, with_deadlines
from geo.store.base import Store, StoreError, open_store

CATEGORICAL = (
    "source",
    "request_type",
    "category",
    "subcategory",
    "coord_sys",
    "status",
    "resolution_level",
    "satisfaction",
    "grid_code",
    "village_code",
    "town_code",
    "assign_problem",
)


#: The columns of an issue layer, for a county that has none yet (just onboarded).
ISSUE_COLUMNS: dict[str, str] = {
    "ticket_id": "object",
    "source": "object",
    "request_type": "object",
    "received_at": "datetime64[ms]",
    "category": "object",
    "subcategory": "object",
    "lon": "float64",
    "lat": "float64",
    "coord_sys": "object",
    "status": "object",
    "dispatched_at": "datetime64[ms]",
    "closed_at": "datetime64[ms]",
    "resolution_level": "object",
    "satisfaction": "object",
    "grid_code": "object",
    "village_code": "object",
    "town_code": "object",
    "assign_problem": "object",
    "caller_name": "object",
    "caller_phone": "object",
}
#: The columns of a service-point layer, for a county that has none yet.
SERVICE_COLUMNS: dict[str, str] = {
    "service_id": "object",
    "service_type": "object",
    "name": "object",
    "village_code": "object",
}


@dataclass
class County:
    """Everything a page needs about one county (all geometries in its metric CRS, the
    ``metric_crs`` of its meta).

    Attributes
    ----------
    towns, villages, grids, service_points
        The layers; ``households`` is read on demand (it is large).
    issues
        Issues with ``due_at`` and categorical code columns (fast filters and group-bys).
    meta
        Key/value metadata; ``synthetic`` is ``"true"`` for demo data; ``county_code``,
        ``county_name`` (``county_name_en``), ``metric_crs`` describe the county;
        ``population_approximate`` is ``"true"`` when residents stand in for households.
    as_of
        "Now" for deadlines: the end of a demo's history, else the current time.
    scope
        The part of the county these layers hold (:class:`~geo.core.scope.Scope`): every
        layer, and every layer read later with :meth:`layer`, is already cut to it.
    version
        The store's version of the county layers when they were read.
    """

    towns: gpd.GeoDataFrame
    villages: gpd.GeoDataFrame
    grids: gpd.GeoDataFrame
    service_points: gpd.GeoDataFrame
    issues: gpd.GeoDataFrame
    meta: dict[str, str]
    store_location: str
    store: Store | None = None
    scope: Scope = field(default_factory=Scope.county)
    version: str = ""

    @property
    def key(self) -> tuple[str, str, str]:
        """What a cached result computed from these layers depends on: the store, its
        version when they were read, and the scope (a town's result is never another's)."""
        return (self.store_location, self.version, self.scope.label)

    @property
    def synthetic(self) -> bool:
        """True when the data is the synthetic demo county."""
        return self.meta.get("synthetic", "false") == "true"

    @property
    def code(self) -> str:
        """The county's six-digit code (its meta, else the settings)."""
        return self.meta.get("county_code") or get_settings().county_code

    def name(self, lang: str = "zh") -> str:
        """The county's name for a title: ``county_name_en`` in English when the meta has
        it, else ``county_name`` (a place name needs no translation to be read)."""
        zh = self.meta.get("county_name") or get_settings().county_name
        return (self.meta.get("county_name_en") or zh) if lang == "en" else zh

    def place_name(self, lang: str = "zh") -> str:
        """What a title names: the county (:meth:`name`), or for a narrower scope the county
        with its towns (``射阳县 合德镇``)."""
        if self.scope.whole_county:
            return self.name(lang)
        towns = "、".join(self.towns.sort_values("town_code")["town_name"].astype(str))
        return f"{self.name(lang)} {towns}".strip()

    @property
    def population_approximate(self) -> bool:
        """True when the residents are grid totals spread over stand-in household points."""
        return self.meta.get("population_approximate", "false") == "true"

    def layer(self, name: str) -> gpd.GeoDataFrame | None:
        """A large or optional layer (``households``, ``roads``…) read now, in the metric CRS.

        ``None`` when the store has no such layer (e.g. a county without roads).
        """
        if self.store is None or name not in self.store.layers():
            return None
        frame = self.store.read(name)
        if not isinstance(frame, gpd.GeoDataFrame):
            return None
        frame = self.scope.filter(frame)
        metric = get_settings().metric_crs
        return frame.to_crs(metric) if frame.crs != metric else frame

    @property
    def as_of(self) -> pd.Timestamp:
        """The reference time for deadlines and "last N days" windows (:func:`as_of`)."""
        return as_of(self.meta)


def read_meta(store: Store) -> dict[str, str]:
    """The store's ``meta`` table as ``{key: value}`` (empty when it has none)."""
    if "meta" not in store.layers():
        return {}
    table = store.read("meta")
    return dict(zip(table["key"].astype(str), table["value"].astype(str), strict=True))


def as_of(meta: Mapping[str, str]) -> pd.Timestamp:
    """ "Now" for a county: the end of a synthetic demo's history (its ``as_of``), else the
    current time in Beijing (naive, like the issue timestamps)."""
    if meta.get("synthetic", "false") == "true" and "as_of" in meta:
        return pd.Timestamp(meta["as_of"])
    return now_beijing()


def load_county(store: Store, *, scope: Scope, settings: Settings | None = None) -> County:
    """Read every layer of a county from ``store``, cut to ``scope`` (and prepare the issues).

    ``scope`` is the caller's (:class:`~geo.core.scope.Scope`; ``Scope.county()`` for the
    whole county): a town's leader gets that town's towns, villages, grids, service points
    and issues, and nothing else. The store's meta becomes the process's county
    (:func:`geo.core.settings.use_county`): its code, name and metric CRS win over the
    environment from now on. A county without an ``issues`` layer yet (just onboarded) gets
    an empty one.
    """
    version = store.version(LAYERS)
    layers = set(store.layers())
    missing = [name for name in ("towns", "villages", "grids") if name not in layers]
    if missing:
        raise ValueError(f"{store.location}: missing layers {missing}; import them first")
    meta = read_meta(store)
    use_county(meta)
    cfg = with_county(settings) if settings else get_settings()

    def geo(name: str) -> gpd.GeoDataFrame:
        frame = store.read(name)
        assert isinstance(frame, gpd.GeoDataFrame)
        frame = scope.filter(frame)
        return frame.to_crs(cfg.metric_crs) if frame.crs != cfg.metric_crs else frame

    store = store.scoped(scope)  # PostGIS: its row-level security sees the scope too
    if not scope.whole_county:  # households and service points know their village only
        scope = scope.resolve(store.read("villages"), pd.DataFrame(store.read("grids")))
        store = store.scoped(scope)

    issues = geo("issues") if "issues" in layers else _empty(ISSUE_COLUMNS, cfg.metric_crs)
    for col, dtype in ISSUE_COLUMNS.items():  # a county's exports need not hold every field
        if col not in issues.columns:
            empty = "" if dtype == "object" else None
            issues[col] = pd.Series(empty, index=issues.index, dtype=dtype)
    if "ticket_id" in issues.columns and issues["ticket_id"].duplicated().any():
        issues, _ = one_row_per_ticket(issues)  # a ticket imported twice counts once
    for col in CATEGORICAL:
        if col in issues.columns:
            issues[col] = issues[col].fillna("").astype("category")
    return County(
        towns=geo("towns"),
        villages=geo("villages"),
        grids=geo("grids"),
        service_points=geo("service_points")
        if "service_points" in layers
        else _empty(SERVICE_COLUMNS, cfg.metric_crs),
        issues=gpd.GeoDataFrame(with_deadlines(issues, cfg.sla_working_days), crs=issues.crs),
        meta=meta,
        store_location=store.location,
        store=store,
        scope=scope,
        version=version,
    )


def _empty(columns: Mapping[str, str], crs: str) -> gpd.GeoDataFrame:
    """An empty layer with the standard columns (a county that has none of it yet)."""
    frame = pd.DataFrame({c: pd.Series(dtype=t) for c, t in columns.items()})
    return gpd.GeoDataFrame(frame, geometry=gpd.GeoSeries([], crs=crs), crs=crs)


def open_county_store(location: str | Path, *, schema: str = "public") -> Store:
    """Open a county's store and make its meta the process's county
    (:func:`geo.core.settings.use_county`): what ``--store`` and ``GRIDGOV_STORE`` do."""
    store = open_store(location, schema=schema)
    use_county(read_meta(store))
    return store


def configured_store(settings: Settings | None = None) -> str:
    """The store named by the environment: ``GRIDGOV_STORE``, else ``DATABASE_URL``, else
    ``""`` (the demo GeoPackage)."""
    cfg = settings or get_settings()
    return cfg.store or cfg.database_url


def default_store(settings: Settings | None = None) -> Store:
    """The store the dashboard and the CLI use when none is named.

    ``GRIDGOV_STORE`` (a ``.gpkg`` path or a PostgreSQL URL) when set, else PostGIS when
    ``DATABASE_URL`` is set, else the demo GeoPackage ``<data_dir>/sheyang_demo.gpkg``. The
    store's meta becomes the process's county (:func:`open_county_store`).
    Nothing is ever generated or seeded here: an empty database or a missing file raises
    :class:`~geo.store.base.StoreError` naming the command that fills it, so a mistyped
    schema in a real deployment never shows the synthetic county.
    """
    cfg = settings or get_settings()
    named = configured_store(cfg)
    if named and not named.startswith(("postgresql", "postgres://")):
        path = Path(named)
        if not path.exists():
            raise StoreError(
                Text(
                    f"GRIDGOV_STORE={path} 不存在：先接入县域数据（python -m geo onboard "
                    f"--grids … --store {path}），或改正路径",
                    f"GRIDGOV_STORE={path} does not exist: onboard a county first (python -m "
                    f"geo onboard --grids … --store {path}), or correct the path",
                )
            )
        store = open_county_store(path)
        if "grids" not in store.layers():
            raise StoreError(
                Text(
                    f"{store.location} 中没有网格图层：python -m geo onboard --grids … "
                    f"--store {path}",
                    f"{store.location} holds no grid layer: python -m geo onboard --grids … "
                    f"--store {path}",
                )
            )
        return store
    if named:
        store = open_county_store(named, schema=cfg.db_schema)
        if "grids" not in store.layers():
            where = f"{store.location} (schema {cfg.db_schema})"
            raise StoreError(
                Text(
                    f"{where} 中没有网格图层：导入县域数据（python -m geo import --grids … "
                    "--store URL），或写入示例县（python -m geo demo --store URL）；检查 "
                    "GRIDGOV_DB_SCHEMA",
                    f"{where} holds no grid layer: import a county (python -m geo import --grids "
                    "… --store URL), or load the demo county (python -m geo demo --store URL); "
                    "check GRIDGOV_DB_SCHEMA",
                )
            )
        return store
    path = demo_store_path(cfg)
    if not path.exists():
        raise StoreError(
            Text(
                f"{path} 不存在：python -m geo demo --out {path.parent}",
                f"{path} does not exist: python -m geo demo --out {path.parent}",
            )
        )
    return open_county_store(path)


def demo_store_path(settings: Settings | None = None) -> Path:
    """Where the demo GeoPackage lives when no database is configured."""
    cfg = settings or get_settings()
    return Path(cfg.data_dir) / DEMO_FILENAME
