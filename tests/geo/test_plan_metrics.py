"""geo.planning.metrics: the one workload and the one compactness, with hand-computed answers,
and the draft check and the rebalancer giving the same figures for the same grids."""

from __future__ import annotations

import itertools
import math

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from geo.core.settings import GridSizeRule
from geo.planning.check import grid_metrics
from geo.planning.metrics import issue_window, polsby_popper, workload
from geo.planning.rebalance import propose_partition

METRIC = "EPSG:4549"
X0, Y0 = 540_000.0, 3_740_000.0
AS_OF = pd.Timestamp("2026-11-20 23:59:59")
VILLAGE = "320924104201"


def test_polsby_popper_known_answers():
    shapes = [
        shapely.box(0, 0, 1, 1),  # square: 4π / 16 = π/4
        shapely.box(0, 0, 1, 10),  # 1×10 strip: 4π·10 / 22²
        shapely.box(X0, Y0, X0 + 100, Y0 + 1000),  # the same strip in metres: no unit
        shapely.MultiPolygon([shapely.box(0, 0, 1, 1), shapely.box(5, 0, 6, 1)]),  # 4π·2 / 8²
        shapely.Point(0, 0).buffer(1, quad_segs=512),  # a circle, nearly
        shapely.Polygon(),
        None,
    ]
    got = polsby_popper(np.array(shapes, dtype=object))
    strip = 4 * math.pi * 10 / 22**2
    assert strip == pytest.approx(0.2596, abs=1e-4)
    np.testing.assert_allclose(got[:4], [math.pi / 4, strip, strip, math.pi / 8])
    assert got[4] == pytest.approx(1.0, abs=1e-4)
    assert np.isnan(got[5:]).all()


def test_workload_known_answers():
    np.testing.assert_array_equal(workload([100, 90, 0], [10, 0, 7]), [110, 90, 7])
    np.testing.assert_array_equal(workload([100, 90], [10, 0], issue_weight=2), [120, 90])
    np.testing.assert_array_equal(workload([100, 90], [10, 0], issue_weight=0), [100, 90])
    assert np.isnan(workload([100], [np.nan])).all()  # no issue data: workload unknown


def test_issue_window_is_the_365_days_up_to_as_of():
    received = pd.Series(
        [
            AS_OF - pd.Timedelta(days=365),  # the start itself: out
            AS_OF - pd.Timedelta(days=365) + pd.Timedelta(seconds=1),
            AS_OF,  # the end: in
            AS_OF + pd.Timedelta(seconds=1),  # after as_of: out
            "not a time",
        ]
    )
    mask, end = issue_window(received, AS_OF)
    assert mask.tolist() == [False, True, True, False, False] and end == AS_OF
    mask, end = issue_window(received[:3])  # default end: the newest time
    assert mask.tolist() == [False, True, True] and end == AS_OF
    mask, end = issue_window(pd.Series(["", None]))
    assert mask.tolist() == [False, False] and end is None


def test_the_check_and_the_rebalancer_measure_the_same_grids_alike():
    """Three strips 300, 500 and 700 m wide across a 1.5 km village; issues only in the west."""
    village = shapely.box(X0, Y0, X0 + 1500, Y0 + 1500)
    edges = [0, 300, 800, 1500]
    strips = [shapely.box(X0 + a, Y0, X0 + b, Y0 + 1500) for a, b in itertools.pairwise(edges)]
    current = gpd.GeoDataFrame(
        {"grid_code": [f"{VILLAGE}{i:03d}" for i in (1, 2, 3)], "village_code": VILLAGE},
        geometry=strips,
        crs=METRIC,
    )
    # 10 households per 100 m column, at column centres; 40 issues in the first strip.
    xs = X0 + 50 + 100 * np.arange(15)
    homes = gpd.GeoDataFrame(
        {"residents": [3] * 150},
        geometry=gpd.points_from_xy(np.repeat(xs, 10), np.tile(Y0 + 75 + 150 * np.arange(10), 15)),
        crs=METRIC,
    )
    issues = gpd.GeoDataFrame(
        {"received_at": [AS_OF - pd.Timedelta(days=30)] * 40},
        geometry=gpd.points_from_xy([X0 + 150] * 40, [Y0 + 700] * 40),
        crs=METRIC,
    )
    m = grid_metrics(current, households=homes, issues=issues, as_of=AS_OF)
    assert m["households"].tolist() == [30, 50, 70]
    assert m["issues_12m"].tolist() == [40, 0, 0]
    assert m["workload"].tolist() == [70, 50, 70]
    widths = np.array([300, 500, 700])
    np.testing.assert_allclose(
        m["polsby_popper"], 4 * np.pi * widths * 1500 / (2 * (widths + 1500)) ** 2
    )

    before = propose_partition(
        village,
        homes,
        issues,
        rule=GridSizeRule(20, 250, 2500),
        current=current,
        village_code=VILLAGE,
        as_of=AS_OF,
    ).metrics_before
    assert before is not None
    work = m["workload"].to_numpy()
    assert before["workload_cv"] == pytest.approx(np.std(work) / np.mean(work))
    assert before["mean_polsby_popper"] == pytest.approx(m["polsby_popper"].mean())
    assert before["households_median"] == 50
