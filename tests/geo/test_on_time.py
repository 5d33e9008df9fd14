"""One on-time rate (按期办结率): a hand-worked county where "closed on time / closed" and GridGov's
"closed on time / (closed + overdue)" disagree, and the one answer on every screen that shows it
— the Overview's tiles, the closed-loop KPI tables, the wall and the monthly report."""

from __future__ import annotations

import math

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import box

from geo.core.tickets import CLOSED, IN_PROGRESS
from geo.grids.aggregate import IssueFilter
from geo.loop.lifecycle import kpi_tables, loop_kpis, on_time_rate, weekly_summary
from geo.loop.report import build_report
from geo.store.county import County
from geo.views.overview import headline, overview
from geo.views.wall import wall_view

CRS = "EPSG:4549"
AS_OF = pd.Timestamp("2026-11-20 18:00")  # a Friday; November 2026 has no holidays
T1, T2 = "320924101", "320924102"
G1, G2, G3 = f"{T1}001001", f"{T1}001002", f"{T2}001001"

#: (id, grid, received, closed, satisfaction). All 咨询: 3 working days, due at 23:59:59.
TICKETS = [
    ("K1", G1, "2026-11-02 10:00", "2026-11-04 10:00", "满意"),  # due Thu 11-05: on time
    ("K2", G1, "2026-11-09 10:00", "2026-11-13 10:00", "不满意"),  # due Thu 11-12: late
    ("K3", G2, "2026-11-16 10:00", None, ""),  # due Thu 11-19, open: overdue
    ("K4", G2, "2026-11-19 10:00", None, ""),  # due Tue 11-24, open: still in time
    ("K5", G3, "2026-11-17 10:00", "2026-11-18 10:00", "基本满意"),  # due Fri 11-20: on time
    ("K6", G3, "2026-11-11 10:00", None, ""),  # due Mon 11-16, open: overdue
]
#: County: 2 closed on time (K1, K5) of 3 closed; 2 overdue (K3, K6); K4 counts neither way.
ONE_ANSWER = 2 / (3 + 2)
#: What the Overview showed before, closed on time / closed: the overdue backlog left out.
CLOSED_ONLY = 2 / 3
#: Per town: T1 (K1 on time, K2 late, K3 overdue) 1 / 3; T2 (K5 on time, K6 overdue) 1 / 2.
TOWNS = {T1: 1 / 3, T2: 1 / 2}


@pytest.fixture(scope="module")
def county(memory_county) -> County:
    """Two towns: T1 with two grids side by side, T2 with one; six tickets (:data:`TICKETS`)."""
    grids = gpd.GeoDataFrame(
        {
            "grid_code": [G1, G2, G3],
            "grid_name": ["甲村第1网格", "甲村第2网格", "乙村第1网格"],
            "village_code": [g[:12] for g in (G1, G2, G3)],
            "town_code": [T1, T1, T2],
            "grid_worker": ["甲一", "甲二", "乙一"],
            "households": [90, 90, 90],
            "residents": [250, 250, 250],
        },
        geometry=[
            box(500_000 + i * 1000, 3_700_000, 501_000 + i * 1000, 3_701_000) for i in range(3)
        ],
        crs=CRS,
    )
    villages = grids.dissolve("village_code", as_index=False)[
        ["village_code", "town_code", "geometry"]
    ].assign(village_name=["甲村", "乙村"])
    towns = villages.dissolve("town_code", as_index=False)[["town_code", "geometry"]].assign(
        town_name=["甲镇", "乙镇"]
    )
    place = dict(zip(grids.grid_code, grids.geometry.centroid, strict=True))
    frame = pd.DataFrame(
        {
            "ticket_id": [t[0] for t in TICKETS],
            "grid_code": [t[1] for t in TICKETS],
            "received_at": pd.to_datetime([t[2] for t in TICKETS]),
            "closed_at": pd.to_datetime([t[3] for t in TICKETS]),
            "satisfaction": [t[4] for t in TICKETS],
        }
    )
    frame["dispatched_at"] = frame["received_at"] + pd.Timedelta(minutes=30)
    frame["status"] = np.where(frame["closed_at"].notna(), CLOSED, IN_PROGRESS)
    frame["village_code"] = frame["grid_code"].str[:12]
    frame["town_code"] = frame["grid_code"].str[:9]
    frame["request_type"] = "咨询"
    frame["category"] = "环境卫生"
    frame["subcategory"] = ""
    frame["source"] = "12345"
    frame["resolution_level"] = np.where(frame["closed_at"].notna(), "网格", "")
    frame["caller_name"] = "张三"
    frame["caller_phone"] = "13800000000"
    frame["coord_sys"] = "cgcs2000"
    frame["assign_problem"] = ""
    points = [place[g] for g in frame["grid_code"]]
    frame["lon"], frame["lat"] = 120.2, 33.8  # unused: every ticket lies in a grid
    issues = gpd.GeoDataFrame(frame, geometry=points, crs=CRS)
    return memory_county(
        towns=towns, villages=villages, grids=grids, issues=issues, as_of=AS_OF, categorical=True
    )


@pytest.fixture(scope="module")
def alerts() -> pd.DataFrame:
    """No warnings (the rate does not depend on them)."""
    return pd.DataFrame(
        {
            "alert_id": pd.Series([], dtype=str),
            "kind": pd.Series([], dtype=str),
            "grid_code": pd.Series([], dtype=str),
            "village_code": pd.Series([], dtype=str),
            "town_code": pd.Series([], dtype=str),
            "category": pd.Series([], dtype=str),
            "first_at": pd.Series([], dtype="datetime64[ns]"),
            "last_at": pd.Series([], dtype="datetime64[ns]"),
            "n_events": pd.Series([], dtype=int),
            "ticket_ids": pd.Series([], dtype=object),
            "evidence": pd.Series([], dtype=object),
        }
    )


def test_the_rate_itself():
    assert float(on_time_rate(2, 3, 2)) == pytest.approx(ONE_ANSWER)
    assert float(on_time_rate(0, 0, 2)) == 0.0  # nothing closed, two overdue: 0, not NaN
    assert math.isnan(on_time_rate(0, 0, 0))  # nothing decided yet
    np.testing.assert_allclose(
        on_time_rate([1, 1, 0], [2, 1, 0], [1, 1, 0]), [1 / 3, 1 / 2, np.nan]
    )


def test_overview_tiles(county):
    for flt in (IssueFilter(), IssueFilter(start=pd.Timestamp("2026-11-01"), end=AS_OF)):
        k = overview(county, flt).kpis
        assert k["on_time_rate"] == pytest.approx(ONE_ANSWER)
        assert (k["issues"], k["open"], k["overdue"], k["closed"]) == (6, 3, 2, 3)
        assert k["resolution_rate"] == pytest.approx(3 / 6)
        assert k["satisfaction_rate"] == pytest.approx(2 / 3)  # K1 满意, K5 基本满意, K2 不满意
        assert (k["grids"], k["residents"]) == (3, 750)
    for town, rate in TOWNS.items():
        assert overview(county, IssueFilter(town_code=town)).kpis["on_time_rate"] == rate


def test_overview_of_nothing_received(county):
    k = headline(county.issues.iloc[:0], AS_OF)
    assert k["issues"] == 0 and k["overdue"] == 0
    assert math.isnan(k["resolution_rate"]) and math.isnan(k["on_time_rate"])


def test_loop_kpi_tables(county):
    tables = kpi_tables(county.issues, AS_OF, levels=("county", "town"))
    row = tables["county"].iloc[0]
    assert (row.closed_on_time, row.closed, row.overdue) == (2, 3, 2)
    assert row.on_time_rate == pytest.approx(ONE_ANSWER)
    assert row.closed_on_time / row.closed == pytest.approx(CLOSED_ONLY)  # the other reading
    towns = loop_kpis(county.issues, AS_OF, by="town").set_index("town_code")
    assert towns.on_time_rate.to_dict() == pytest.approx(TOWNS)


def test_wall_tiles_and_towns(county, alerts):
    view = wall_view(county, alerts=alerts, as_of=AS_OF)
    assert view.tiles["on_time_rate"] == pytest.approx(ONE_ANSWER)  # all received this month
    assert view.towns.set_index("town_code").on_time_rate.to_dict() == pytest.approx(TOWNS)


def test_monthly_report(county, alerts):
    report = build_report(county, month="2026-11", alerts=alerts)
    assert report.summary["on_time_rate"] == pytest.approx(ONE_ANSWER)
    assert report.kpis["town"].set_index("town_code").on_time_rate.to_dict() == pytest.approx(TOWNS)
    daily = report.daily.set_index("day")
    assert daily.loc["2026-11-02", "on_time_rate"] == 1.0  # K1
    assert daily.loc["2026-11-16", "on_time_rate"] == 0.0  # K3: overdue
    assert math.isnan(daily.loc["2026-11-19", "on_time_rate"])  # K4: not decided yet
    total = daily[["closed_on_time", "closed", "decided"]].sum()
    assert float(
        on_time_rate(total.closed_on_time, total.closed, total.decided - total.closed)
    ) == (pytest.approx(ONE_ANSWER))


def test_weekly_summary_counts_the_weeks_events_with_the_same_rate(county):
    # Week of Mon 11-16: closed in it K5 (on time); deadlines passed in it, still open: K6
    # (11-16), K3 (11-19). The cohort differs (the week's events), the formula does not.
    week = weekly_summary(county.issues, AS_OF).set_index("town_code")
    assert week.loc["320924", "on_time_rate"] == pytest.approx(1 / 3)
    assert week.loc[T2, "on_time_rate"] == pytest.approx(1 / 2)
    assert week.loc[T1, "on_time_rate"] == 0.0
