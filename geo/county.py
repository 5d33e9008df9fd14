"""A county's layers loaded from a store and made ready for analysis and display."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import pandas as pd

from geo.aggregate import with_deadlines
from geo.clock import now_beijing
from geo.settings import METRIC_CRS, Settings, get_settings
from geo.store import Store, open_store

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


@dataclass
class County:
    """Everything a page needs about one county (all geometries in EPSG:4549).

    Attributes
    ----------
    towns, villages, grids, service_points
        The layers; ``households`` is read on demand (it is large).
    issues
        Issues with ``due_at`` and categorical code columns (fast filters and group-bys).
    meta
        Key/value metadata; ``synthetic`` is ``"true"`` for demo data.
    as_of
        "Now" for deadlines: the end of a demo's history, else the current time.
    """

    towns: gpd.GeoDataFrame
    villages: gpd.GeoDataFrame
    grids: gpd.GeoDataFrame
    service_points: gpd.GeoDataFrame
    issues: gpd.GeoDataFrame
    meta: dict[str, str]
    store_location: str
    store: Store | None = None

    @property
    def synthetic(self) -> bool:
        """True when the data is the synthetic demo county."""
        return self.meta.get("synthetic", "false") == "true"

    def layer(self, name: str) -> gpd.GeoDataFrame | None:
        """A large or optional layer (``households``, ``roads``…) read now, in EPSG:4549.

        ``None`` when the store has no such layer (e.g. a county without roads).
        """
        if self.store is None or name not in self.store.layers():
            return None
        frame = self.store.read(name)
        if not isinstance(frame, gpd.GeoDataFrame):
            return None
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


def load_county(store: Store, settings: Settings | None = None) -> County:
    """Read every layer of a county from ``store`` (and prepare the issues)."""
    cfg = settings or get_settings()
    layers = set(store.layers())
    missing = [name for name in ("towns", "villages", "grids", "issues") if name not in layers]
    if missing:
        raise ValueError(f"{store.location}: missing layers {missing}; import them first")

    def geo(name: str) -> gpd.GeoDataFrame:
        frame = store.read(name)
        assert isinstance(frame, gpd.GeoDataFrame)
        return frame.to_crs(cfg.metric_crs) if frame.crs != METRIC_CRS else frame

    issues = geo("issues")
    for col in CATEGORICAL:
        if col in issues.columns:
            issues[col] = issues[col].fillna("").astype("category")
    meta = read_meta(store)
    return County(
        towns=geo("towns"),
        villages=geo("villages"),
        grids=geo("grids"),
        service_points=geo("service_points") if "service_points" in layers else gpd.GeoDataFrame(),
        issues=gpd.GeoDataFrame(with_deadlines(issues, cfg.sla_working_days), crs=issues.crs),
        meta=meta,
        store_location=store.location,
        store=store,
    )


def default_store(
    settings: Settings | None = None, progress: Callable[[float, str], None] | None = None
) -> Store:
    """The store the dashboard uses: PostGIS if configured, else the demo GeoPackage.

    The demo GeoPackage is generated on first use (``python -m geo demo``); an empty PostGIS
    database is seeded with the demo county so that the dashboard always has data.
    """
    cfg = settings or get_settings()
    from geo.demo import DEMO_FILENAME, build_demo

    path = Path(cfg.data_dir) / DEMO_FILENAME
    if cfg.database_url:
        store = open_store(cfg.database_url, schema=cfg.db_schema)
        if "grids" not in store.layers():
            if not path.exists():
                build_demo(cfg.data_dir, progress=progress)
            demo = open_store(path)
            store.write({name: demo.read(name) for name in demo.layers()})
        return store
    if not path.exists():
        build_demo(cfg.data_dir, progress=progress)
    return open_store(path)
