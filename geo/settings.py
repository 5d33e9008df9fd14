"""Every GridGov default in one place, read at call time and overridable by environment."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

#: Root of the repository (the folder holding ``dashboard.py``).
ROOT = Path(__file__).resolve().parent.parent

#: Metric CRS for all distances and areas in Sheyang: CGCS2000 / 3-degree Gauss-Kruger CM 120E.
METRIC_CRS = "EPSG:4549"
#: Geographic CRS used for display and for lon/lat columns (WGS84; CGCS2000 agrees at metre level).
DISPLAY_CRS = "EPSG:4326"

#: The standard layer names of a GridGov store or import GeoPackage.
LAYERS = ("towns", "villages", "grids", "households", "service_points", "issues")


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
        Six-digit national division code (射阳县 320924).
    county_name
        County name shown in the title.
    metric_crs
        CRS used for every distance and area (metres).
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
    """

    county_code: str = "320924"
    county_name: str = "射阳县"
    metric_crs: str = METRIC_CRS
    data_dir: Path = field(default_factory=lambda: ROOT / "data" / "cache")
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


def get_settings() -> Settings:
    """Return the settings, reading ``GRIDGOV_*`` and ``DATABASE_URL`` from the environment now.

    Environment variables
    ---------------------
    GRIDGOV_DATA_DIR
        Cache folder for the demo GeoPackage.
    DATABASE_URL
        PostGIS URL, e.g. ``postgresql+psycopg://user:pw@127.0.0.1:5432/gridgov``.
    GRIDGOV_DB_SCHEMA
        Schema for the tables (default ``public``).
    GRIDGOV_TILE_URL, GRIDGOV_TILE_ATTRIBUTION
        Intranet tile service, e.g. ``http://10.0.0.5/tiles/{z}/{x}/{y}.png``.
    """
    env = os.environ
    kwargs: dict[str, object] = {}
    if env.get("GRIDGOV_DATA_DIR"):
        kwargs["data_dir"] = Path(env["GRIDGOV_DATA_DIR"])
    if env.get("DATABASE_URL"):
        kwargs["database_url"] = env["DATABASE_URL"]
    if env.get("GRIDGOV_DB_SCHEMA"):
        kwargs["db_schema"] = env["GRIDGOV_DB_SCHEMA"]
    if env.get("GRIDGOV_TILE_URL"):
        kwargs["tile_url"] = env["GRIDGOV_TILE_URL"]
        kwargs["tile_attribution"] = env.get("GRIDGOV_TILE_ATTRIBUTION", "")
    return Settings(**kwargs)  # type: ignore[arg-type]
