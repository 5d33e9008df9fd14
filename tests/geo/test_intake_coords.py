"""geo.intake.coords on a county made for the test: tickets at households, delivered in WGS84,
GCJ-02 or BD-09, are recognised for what they are, with the distances that show it."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest

from geo.core.crs import wgs84_to_bd09, wgs84_to_gcj02
from geo.intake.coords import guess_coord_sys

CRS = "EPSG:4550"  # a county in the next Gauss-Krüger zone (CM 123E), not Sheyang's


@pytest.fixture(scope="module")
def county() -> gpd.GeoDataFrame:
    """60 villages of 50 households each (within 150 m of the village centre) in 30 × 30 km."""
    rng = np.random.default_rng(7)
    centres = rng.uniform([380_000, 3_500_000], [410_000, 3_530_000], size=(60, 2))
    homes = np.repeat(centres, 50, axis=0) + rng.normal(0, 60, size=(3000, 2))
    return gpd.GeoDataFrame(geometry=gpd.points_from_xy(homes[:, 0], homes[:, 1]), crs=CRS)


def _tickets(county: gpd.GeoDataFrame, n: int = 400) -> tuple[np.ndarray, np.ndarray]:
    """WGS84 lon/lat of ``n`` tickets reported within a few metres of a household."""
    rng = np.random.default_rng(11)
    at = county.geometry.iloc[rng.choice(len(county), n, replace=False)]
    xy = np.column_stack([at.x, at.y]) + rng.normal(0, 5, size=(n, 2))
    wgs = gpd.GeoSeries(gpd.points_from_xy(xy[:, 0], xy[:, 1]), crs=CRS).to_crs(4326)
    return wgs.x.to_numpy(), wgs.y.to_numpy()


@pytest.mark.parametrize(
    ("system", "deliver"),
    [("wgs84", lambda x, y: (x, y)), ("gcj02", wgs84_to_gcj02), ("bd09", wgs84_to_bd09)],
)
def test_the_delivered_system_is_recognised(county, system, deliver):
    lon, lat = deliver(*_tickets(county))
    guess = guess_coord_sys(lon, lat, county)
    assert guess.best == system and guess.confident and guess.points == 400
    assert guess.median_m[system] < 15  # the jitter (5 m) and the exact conversion
    others = [m for s, m in guess.median_m.items() if s != system]
    assert min(others) > 100  # 300–700 m off puts a ticket outside its village


def test_gcj02_said_to_be_wgs84_is_named_with_its_figures(county):
    lon, lat = wgs84_to_gcj02(*_tickets(county))
    guess = guess_coord_sys(lon, lat, county)
    assert guess.differs_from("wgs84") and not guess.differs_from("gcj02")
    said = guess.explain("wgs84")
    assert "--coords gcj02" in said.en and "--coords gcj02" in said.zh
    assert "400 points" in said.en and "as wgs84 median" in said.en


def test_points_that_match_no_system_are_not_judged(county):
    rng = np.random.default_rng(3)
    scattered = gpd.GeoSeries(
        gpd.points_from_xy(*rng.uniform([380_000, 3_500_000], [410_000, 3_530_000], (400, 2)).T),
        crs=CRS,
    ).to_crs(4326)
    guess = guess_coord_sys(scattered.x, scattered.y, county)
    assert not guess.confident and not guess.differs_from("wgs84")


def test_too_few_or_no_usable_points_leave_the_stated_system(county):
    lon, lat = wgs84_to_gcj02(*_tickets(county, n=10))
    few = guess_coord_sys(lon, lat, county)
    assert few.best == "gcj02" and not few.confident  # right, but 10 points decide nothing
    none = guess_coord_sys([np.nan, 500.0], [np.nan, 33.0], county)
    assert (none.points, none.confident, none.median_m) == (0, False, {})
