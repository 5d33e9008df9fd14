"""geo.core.validate and InputProblems: one way to say a frame, column or CRS is unusable."""

from __future__ import annotations

import geopandas as gpd
import pandas as pd
import pytest
import shapely

from geo.core.errors import InputProblems
from geo.core.validate import (
    crs_problem,
    frame_problems,
    is_metric,
    require_metric_crs,
    same_crs_problem,
)


def _points(crs: object) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame({"a": [1]}, geometry=[shapely.Point(500_000, 3_700_000)], crs=crs)


@pytest.mark.parametrize(
    ("crs", "metric"),
    [
        ("EPSG:4549", True),  # CGCS2000 3-degree GK CM 120E (Sheyang)
        ("EPSG:4550", True),  # CM 123E: another county's zone
        ("EPSG:32651", True),  # UTM 51N
        ("EPSG:4326", False),  # degrees
        ("EPSG:4490", False),  # CGCS2000 geographic
        ("EPSG:2263", False),  # projected, but in US feet
        (None, False),
    ],
)
def test_is_metric_means_projected_and_in_metres(crs, metric):
    assert is_metric(crs) is metric


def test_a_problem_names_the_frame_what_it_got_and_the_fix():
    assert crs_problem(_points("EPSG:4549"), "grids") is None
    assert crs_problem(_points("EPSG:4326"), "grids") == (
        "grids is in EPSG:4326, not a metric CRS (metres); "
        "project it first, e.g. grids.to_crs('EPSG:4549')"
    )
    assert crs_problem(_points(None), "issues") == (
        "issues has no CRS, so distances cannot be checked to be in metres; "
        "set it, e.g. issues.set_crs('EPSG:4549')"
    )
    assert crs_problem(_points(None), "issues", allow_missing=True) is None


def test_the_example_is_the_configured_countys_crs(monkeypatch):
    monkeypatch.setenv("GRIDGOV_METRIC_CRS", "EPSG:4550")
    assert crs_problem(_points("EPSG:4326"), "grids").endswith("grids.to_crs('EPSG:4550')")
    assert crs_problem(_points("EPSG:4550"), "grids") is None


def test_every_problem_of_a_frame_is_collected_then_raised_once():
    frame = _points("EPSG:4326")
    found = frame_problems(frame, "households", ["residents", "grid_code"])
    assert found == [
        "households lacks the column(s) ['residents', 'grid_code']; it has ['a', 'geometry']",
        "households is in EPSG:4326, not a metric CRS (metres); "
        "project it first, e.g. households.to_crs('EPSG:4549')",
    ]
    assert frame_problems(pd.DataFrame({"a": [1]}), "grids") == [
        "grids must be a GeoDataFrame, got DataFrame"
    ]
    error = InputProblems("compute service coverage", found)
    assert isinstance(error, ValueError) and error.problems == found
    assert str(error).splitlines()[0] == "cannot compute service coverage (2 problem(s)):"
    with pytest.raises(InputProblems, match=r"cannot index the grids \(1 problem\(s\)\)"):
        require_metric_crs(frame, "grids", task="index the grids")


def test_frames_in_two_crs_are_named():
    a, b = _points("EPSG:4549"), _points("EPSG:4550")
    assert same_crs_problem([("grids", a), ("households", a)]) is None
    assert same_crs_problem([("grids", a), ("households", b)]) == (
        "the layers are in different CRS (grids in EPSG:4549, households in EPSG:4550); "
        "project all to one, e.g. .to_crs('EPSG:4549')"
    )
