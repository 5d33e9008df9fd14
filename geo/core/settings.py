"""Every GridGov default in one place, read at call time and overridable by environment.

The county itself (its code, name and metric CRS) belongs to the data: once a store is
opened, :func:`use_county` sets what the store's ``meta`` table says, and every later
:func:`get_settings` call returns it. Precedence: the store's meta, then the environment,
then the defaults below (those of the demo county).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

#: Root of the repository (the folder holding ``dashboard.py``).
ROOT = Path(__file__).resolve().parents[2]

#: Geographic CRS used for display and for lon/lat columns (WGS84; CGCS2000 agrees at metre level).
DISPLAY_CRS = "EPSG:4326"

#: File name of the demo GeoPackage inside ``Settings.data_dir``.
DEMO_FILENAME = "sheyang_demo.gpkg"

#: The standard layer names of a GridGov store or import GeoPackage.
LAYERS = ("towns", "villages", "grids", "households", "service_points", "issues", "roads")


@dataclass(frozen=True)
class ServiceType:
    """One kind of service point and its life-circle target (GB 50180-2018 life circles).

    Attributes
    ----------
    name
        The ``service_type`` value in the service-point layer (Chinese, as counties write it).
    minutes
        Target travel time in minutes (15, 10 or 5-minute life circle).
    essential
        Part of the "all essential types" coverage (every resident reaches every essential type).
    """

    name: str
    minutes: int
    essential: bool


#: Service types of the 15-minute party-building service circle and the public services around it.
SERVICE_TYPES: tuple[ServiceType, ...] = (
    ServiceType("党群服务中心", 15, True),
    ServiceType("非诉讼服务中心", 15, True),
    ServiceType("新时代文明实践站", 15, True),
    ServiceType("卫生室", 15, True),
    ServiceType("学校", 15, False),
    ServiceType("养老服务站", 10, True),
    ServiceType("警务室", 15, False),
)

#: Travel speeds in km/h per mode (walk 4.5; bicycle 12; e-bike 18, the rural norm; car 30 on
#: county and village roads).
TRAVEL_SPEEDS_KMH: dict[str, float] = {"walk": 4.5, "bike": 12.0, "ebike": 18.0, "car": 30.0}

#: Straight-line engine: network distance ≈ straight distance × this factor (a common planning
#: default for grid-like rural road patterns; 1.0 gives plain circles).
DETOUR_FACTOR = 1.3

#: National target: share of residents within the 15-minute circle (TD/T 1062-2021, FACTS.md).
COVERAGE_TARGET = 0.85


#: ``area_type`` of grids under the urban size rule (城镇) and under the rural one (农村).
URBAN, RURAL = "城镇", "农村"
#: ``area_type`` of the grids of a village by the village's ``kind``: a community (社区) is
#: urban, a village (村) rural.
AREA_TYPE_OF_KIND: dict[str, str] = {"社区": URBAN, "村": RURAL}


@dataclass(frozen=True)
class GridSizeRule:
    """Household thresholds for one kind of grid (a per-county setting, never a constant).

    Attributes
    ----------
    min_households, max_households
        Inclusive household range for a grid of this kind.
    max_residents
        Upper bound on residents.
    """

    min_households: int
    max_households: int
    max_residents: int


@dataclass(frozen=True)
class Settings:
    """GridGov settings.

    Attributes
    ----------
    county_code
        Six-digit national division code (the demo's default; a store's meta sets its own).
    county_name
        County name shown in the title (the same).
    metric_crs
        CRS used for every distance and area (metres); a store's meta sets its county's.
    store
        The store to open when none is named: a ``.gpkg`` path or a PostgreSQL URL
        (``GRIDGOV_STORE``; wins over :attr:`database_url`). Empty: the demo GeoPackage.
    data_dir
        Where the demo GeoPackage and other generated data are cached (ignored by git).
    database_url
        SQLAlchemy URL of a PostGIS database; when empty the GeoPackage store is used.
    db_schema
        PostgreSQL schema holding GridGov's tables.
    tile_url, tile_attribution
        Optional intranet XYZ tile service; no basemap when empty (outlines are the context).
    rural_rule, urban_rule
        Grid size thresholds used by validation (product defaults for the Sheyang demo).
    national_rule
        The national 300-500 households guideline, shown for comparison only.
    sla_working_days
        12345 time limits in working days per request type (巡查上报, a patrol report, is
        GridGov's own default).
    boundary_tolerance_m
        Overlaps and gaps smaller than this area (m²) are ignored as numerical noise.
    service_types
        Service types with their target minutes and whether they are essential.
    travel_speeds_kmh
        Speed per travel mode (``walk``, ``bike``, ``ebike``, ``car``), km/h.
    detour_factor
        Straight-line engine: road distance = straight distance × this factor.
    coverage_target
        Share of residents that should be inside the circle (0.85).
    strict_i18n
        An unknown i18n key raises instead of showing the key (on in the test suite).
    show_errors
        A page error shows its traceback instead of the friendly message with a reference id
        (development and the test suite only; ``GRIDGOV_SHOW_ERRORS=1``).
    session_idle_minutes, session_max_hours
        A signed-in session ends after this many idle minutes, and in any case this many
        hours after sign-in.
    lockout_failures, lockout_minutes
        This many failed sign-ins in a row lock the account for this many minutes.
    """

    county_code: str = "320924"
    county_name: str = "射阳县"
    metric_crs: str = "EPSG:4549"  # CGCS2000 / 3-degree Gauss-Kruger CM 120E (Sheyang)
    data_dir: Path = field(default_factory=lambda: ROOT / "data" / "cache")
    store: str = ""
    database_url: str = ""
    db_schema: str = "public"
    tile_url: str = ""
    tile_attribution: str = ""
    rural_rule: GridSizeRule = GridSizeRule(40, 250, 2500)
    urban_rule: GridSizeRule = GridSizeRule(40, 400, 2500)
    national_rule: GridSizeRule = GridSizeRule(300, 500, 2500)
    sla_working_days: dict[str, int] = field(
        default_factory=lambda: {
            "咨询": 3,
            "求助": 3,
            "投诉": 13,
            "举报": 13,
            "建议": 13,
            "巡查上报": 3,
        }
    )
    boundary_tolerance_m2: float = 1.0
    service_types: tuple[ServiceType, ...] = SERVICE_TYPES
    travel_speeds_kmh: dict[str, float] = field(default_factory=lambda: dict(TRAVEL_SPEEDS_KMH))
    detour_factor: float = DETOUR_FACTOR
    coverage_target: float = COVERAGE_TARGET
    strict_i18n: bool = False
    show_errors: bool = False
    session_idle_minutes: int = 30
    session_max_hours: int = 8
    lockout_failures: int = 5
    lockout_minutes: int = 15

    def size_rule(self, area_type: object) -> GridSizeRule:
        """The size rule of a grid of ``area_type``: :attr:`urban_rule` for 城镇
        (:data:`URBAN`), :attr:`rural_rule` for anything else."""
        return self.urban_rule if str(area_type).strip() == URBAN else self.rural_rule


#: Keys of a store's ``meta`` table that describe the county (see :func:`use_county`).
COUNTY_KEYS = ("county_code", "county_name", "metric_crs")

# The county of the store this process opened (see use_county); one process serves one store.
_county: dict[str, str] = {}
_county_lock = threading.Lock()


def use_county(meta: Mapping[str, str]) -> None:
    """Make the county described by a store's ``meta`` the one :func:`get_settings` returns.

    Parameters
    ----------
    meta
        The store's key/value metadata; ``county_code``, ``county_name`` and ``metric_crs``
        are taken from it where present and non-empty. Keys it lacks fall back to the
        environment and the defaults: the county set before is replaced, never merged.

    Notes
    -----
    Process-wide on purpose: a dashboard or command serves one store, and every module reads
    the metric CRS through :func:`get_settings` at call time, so the store's own CRS reaches
    all of them without passing it along. Opening a store (:func:`geo.store.county.load_county`,
    :func:`geo.store.county.default_store`) calls this; tests reset it with
    :func:`reset_county`.
    """
    chosen = {k: str(meta[k]).strip() for k in COUNTY_KEYS if str(meta.get(k, "")).strip()}
    with _county_lock:
        _county.clear()
        _county.update(chosen)


def reset_county() -> None:
    """Forget the county set by :func:`use_county` (back to the environment and defaults)."""
    with _county_lock:
        _county.clear()


def county_override() -> dict[str, str]:
    """The county keys set by :func:`use_county` (empty when none is set)."""
    with _county_lock:
        return dict(_county)


def with_county(settings: Settings) -> Settings:
    """``settings`` with the county set by :func:`use_county` (the store's meta wins)."""
    return replace(settings, **county_override())  # type: ignore[arg-type]


def get_settings() -> Settings:
    """Return the settings, reading ``GRIDGOV_*`` and ``DATABASE_URL`` from the environment now.

    The county's code, name and metric CRS set by :func:`use_county` (from the store's meta)
    win over the environment.

    Environment variables
    ---------------------
    GRIDGOV_DATA_DIR
        Cache folder for the demo GeoPackage.
    GRIDGOV_STORE
        The store to open: a ``.gpkg`` path or a PostgreSQL URL (wins over ``DATABASE_URL``).
    DATABASE_URL
        PostGIS URL, e.g. ``postgresql+psycopg://user:pw@127.0.0.1:5432/gridgov``.
    GRIDGOV_METRIC_CRS
        The county's metric CRS for distances and areas when the store does not say.
    GRIDGOV_DB_SCHEMA
        Schema for the tables (default ``public``).
    GRIDGOV_TILE_URL, GRIDGOV_TILE_ATTRIBUTION
        Intranet tile service, e.g. ``http://10.0.0.5/tiles/{z}/{x}/{y}.png``.
    GRIDGOV_STRICT_I18N
        ``1`` (or ``true``): an unknown i18n key raises :class:`KeyError` (tests set it).
    GRIDGOV_SHOW_ERRORS
        ``1``: page errors show their traceback (development, tests).
    GRIDGOV_SESSION_IDLE_MINUTES, GRIDGOV_SESSION_MAX_HOURS, GRIDGOV_LOCKOUT_FAILURES,
    GRIDGOV_LOCKOUT_MINUTES
        Whole numbers for the sign-in settings of the same names.
    """
    env = os.environ
    kwargs: dict[str, object] = {}
    if env.get("GRIDGOV_DATA_DIR"):
        kwargs["data_dir"] = Path(env["GRIDGOV_DATA_DIR"])
    if env.get("GRIDGOV_STORE", "").strip():
        kwargs["store"] = env["GRIDGOV_STORE"].strip()
    if env.get("DATABASE_URL"):
        kwargs["database_url"] = env["DATABASE_URL"]
    if env.get("GRIDGOV_METRIC_CRS"):
        kwargs["metric_crs"] = env["GRIDGOV_METRIC_CRS"]
    if env.get("GRIDGOV_DB_SCHEMA"):
        kwargs["db_schema"] = env["GRIDGOV_DB_SCHEMA"]
    if env.get("GRIDGOV_TILE_URL"):
        kwargs["tile_url"] = env["GRIDGOV_TILE_URL"]
        kwargs["tile_attribution"] = env.get("GRIDGOV_TILE_ATTRIBUTION", "")
    if env.get("GRIDGOV_STRICT_I18N", "").strip().lower() in ("1", "true", "yes"):
        kwargs["strict_i18n"] = True
    if env.get("GRIDGOV_SHOW_ERRORS", "").strip().lower() in ("1", "true", "yes"):
        kwargs["show_errors"] = True
    for name in ("session_idle_minutes", "session_max_hours", "lockout_failures",
                 "lockout_minutes"):  # fmt: skip
        value = env.get(f"GRIDGOV_{name.upper()}", "").strip()
        if value:
            try:
                kwargs[name] = max(1, int(value))
            except ValueError as exc:
                raise ValueError(f"GRIDGOV_{name.upper()}={value!r}: give a whole number") from exc
    kwargs.update(county_override())
    return Settings(**kwargs)  # type: ignore[arg-type]
