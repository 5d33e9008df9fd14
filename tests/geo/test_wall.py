"""Known-answer tests for geo.views.wall: the wall screen's tiles, lists, rankings and outlines."""

from __future__ import annotations

import math

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from shapely.geometry import box

from geo.core.errors import InputProblems
from geo.core.i18n import Text
from geo.core.tickets import CLOSED
from geo.store.county import County
from geo.views.wall import (
    CLEARANCE_COLUMNS,
    GRID_COLUMNS,
    OVERDUE_COLUMNS,
    PANEL_COLUMNS,
    PANELS,
    REFRESH_S,
    TILES,
    TOWN_COLUMNS,
    WARNING_COLUMNS,
    panel_for,
    panel_rows,
    refresh_seconds,
    wall_as_of,
    wall_outlines,
    wall_view,
)

CRS = "EPSG:4549"
AS_OF = pd.Timestamp("2026-11-20 15:00")  # a Friday; November 2026 has no holidays
T1, T2, T3 = "320924101", "320924102", "320924103"


def _squares(codes: list[str], x0: float, size: float) -> list[shapely.Geometry]:
    return [box(x0 + i * size, 3_700_000, x0 + (i + 1) * size, 3_700_000 + size) for i in codes]


@pytest.fixture
def county(memory_county) -> County:
    """Three towns side by side (T3 without tickets), two grids in each of T1 and T2.

    Tickets (咨询: 3 working days), as of Fri 2026-11-20 15:00:
    A1 (G1) received Mon 11-02, due 11-05, open: reprimand since 11-13, 14 days over.
    A2 (G1) received Mon 11-16, due 11-19, open: overdue (reminder today), 0 days over.
    A3 (G2) received 11-18, due 11-23, open: on time.
    A4 (G3) received today 08:00, dispatched 08:30: new and cleared.
    A5 (G3) received today 09:00, not dispatched (待派单): new, not cleared.
    A6 (G4) received 11-17, due today, closed today 11:00 满意: due today and cleared.
    A7 (G4) received 11-03, due 11-06, closed 11-10 不满意: closed late this month.
    A8 (G2) received and closed in October: history only.
    A9 (G1) received today 16:00: after "now", left out.
    A10 received 11-19 outside every grid, open; A11 today outside every grid, dispatched.
    """
    towns = gpd.GeoDataFrame(
        {"town_code": [T1, T2, T3], "town_name": ["甲镇", "乙镇", "丙镇"]},
        geometry=[
            box(500_000 + i * 2000, 3_700_000, 502_000 + i * 2000, 3_702_000) for i in range(3)
        ],
        crs=CRS,
    )
    grids = gpd.GeoDataFrame(
        {
            "grid_code": [f"{T1}001001", f"{T1}001002", f"{T2}001001", f"{T2}001002"],
            "grid_name": ["甲村第1网格", "甲村第2网格", "乙村第1网格", "乙村第2网格"],
            "village_code": [f"{T1}001", f"{T1}001", f"{T2}001", f"{T2}001"],
            "town_code": [T1, T1, T2, T2],
            "residents": [100, 100, 100, 100],
        },
        geometry=[
            box(500_000 + i * 1000, 3_700_000, 501_000 + i * 1000, 3_702_000) for i in range(4)
        ],
        crs=CRS,
    )
    villages = grids.dissolve("village_code", as_index=False)[["village_code", "geometry"]]
    g1, g2, g3, g4 = grids.grid_code
    rows = [
        ("A1", "2026-11-02 09:00", "处理中", None, None, "", g1),
        ("A2", "2026-11-16 09:00", "处理中", None, None, "", g1),
        ("A3", "2026-11-18 10:00", "处理中", None, None, "", g2),
        ("A4", "2026-11-20 08:00", "处理中", "2026-11-20 08:30", None, "", g3),
        ("A5", "2026-11-20 09:00", "待派单", None, None, "", g3),
        ("A6", "2026-11-17 10:00", CLOSED, "2026-11-17 11:00", "2026-11-20 11:00", "满意", g4),
        ("A7", "2026-11-03 10:00", CLOSED, "2026-11-03 11:00", "2026-11-10 11:00", "不满意", g4),
        ("A8", "2026-10-20 10:00", CLOSED, "2026-10-20 11:00", "2026-10-21 11:00", "满意", g2),
        ("A9", "2026-11-20 16:00", "处理中", None, None, "", g1),
        ("A10", "2026-11-19 10:00", "处理中", "2026-11-19 11:00", None, "", ""),
        ("A11", "2026-11-20 10:00", "处理中", "2026-11-20 10:30", None, "", ""),
    ]
    frame = pd.DataFrame(
        rows,
        columns=[
            "ticket_id",
            "received_at",
            "status",
            "dispatched_at",
            "closed_at",
            "satisfaction",
            "grid_code",
        ],
    )
    for col in ("received_at", "dispatched_at", "closed_at"):
        frame[col] = pd.to_datetime(frame[col])
    frame["grid_code"] = frame["grid_code"].astype(str)
    frame["village_code"] = frame["grid_code"].str[:12]
    frame["town_code"] = frame["grid_code"].str[:9]
    frame["request_type"] = "咨询"
    frame["category"] = [
        "环境卫生",
        "噪音扰民",
        "环境卫生",
        "市容秩序",
        "环境卫生",
        "教育",
        "环境卫生",
        "环境卫生",
        "环境卫生",
        "其他",
        "其他",
    ]
    frame["source"] = "12345"
    frame["resolution_level"] = np.where(frame["status"] == CLOSED, "网格", "")
    frame["caller_phone"] = "13800000000"
    issues = gpd.GeoDataFrame(
        frame,
        geometry=gpd.points_from_xy([500_500] * len(frame), [3_701_000] * len(frame)),
        crs=CRS,
    )
    return memory_county(towns=towns, villages=villages, grids=grids, issues=issues, as_of=AS_OF)


@pytest.fixture
def alerts() -> pd.DataFrame:
    """Two warnings, the older first (the wall puts the newest first)."""
    return pd.DataFrame(
        {
            "alert_id": ["RC-1", "SG-2"],
            "kind": ["repeat_caller", "surge"],
            "grid_code": [f"{T1}001001", ""],
            "village_code": [f"{T1}001", ""],
            "town_code": [T1, ""],
            "category": ["环境卫生", "噪音扰民"],
            "first_at": pd.to_datetime(["2026-11-02 09:00", "2026-11-14 09:00"]),
            "last_at": pd.to_datetime(["2026-11-16 09:00", "2026-11-20 10:00"]),
            "n_events": [3, 6],
            "evidence": [Text("同一来电人", "same caller"), Text("激增", "surge")],
        }
    )


def test_tiles_known_answers(county, alerts):
    view = wall_view(county, alerts=alerts, as_of=AS_OF)
    assert view.as_of == AS_OF
    k = view.tiles
    assert k["received_today"] == 3  # A4, A5, A11 (A9 comes after "now")
    assert k["open"] == 7  # A1 A2 A3 A4 A5 A10 A11
    assert k["overdue"] == 2  # A1, A2
    assert k["reprimand"] == 1  # A1
    assert k["alerts"] == 2
    # This month: closed A6 on time, A7 late; open overdue A1, A2 → 1 / (2 + 2).
    assert k["on_time_rate"] == pytest.approx(0.25)
    assert k["satisfaction_rate"] == pytest.approx(0.5)  # A6 满意, A7 不满意
    # 日清: new A4 (dispatched), A5 (not), A11 (dispatched); due today A6 (closed).
    assert (k["cleared"], k["clearance_items"]) == (3, 4)
    assert k["cleared_rate"] == pytest.approx(0.75)
    assert set(TILES) <= set(k)


def test_most_urgent_overdue_first_with_days_over_and_state(county, alerts):
    # What a commander acts on first: the reprimand, 14 days over, before a day-old reminder.
    view = wall_view(county, alerts=alerts, as_of=AS_OF)
    got = view.overdue
    assert list(got.columns) == list(OVERDUE_COLUMNS)
    assert list(got.ticket_id) == ["A1", "A2"]
    assert list(got.days_over) == [14, 0]
    assert list(got.state) == ["reprimand", "overdue"]
    assert list(got.town_name) == ["甲镇", "甲镇"]
    assert list(got.grid_name) == ["甲村第1网格", "甲村第1网格"]
    assert got.due_at.iloc[1] == pd.Timestamp("2026-11-19 23:59:59")
    assert "caller_phone" not in got.columns


def test_warnings_newest_first_with_names(county, alerts):
    got = wall_view(county, alerts=alerts, as_of=AS_OF).warnings
    assert list(got.columns) == list(WARNING_COLUMNS)
    assert list(got.alert_id) == ["SG-2", "RC-1"]
    assert list(got.town_name) == ["", "甲镇"]
    assert list(got.grid_name) == ["", "甲村第1网格"]


def test_towns_ranked_by_overdue(county, alerts):
    got = wall_view(county, alerts=alerts, as_of=AS_OF).towns
    assert list(got.columns) == list(TOWN_COLUMNS)
    assert list(got.town_name) == ["甲镇", "乙镇", "丙镇"]
    assert list(got.open) == [3, 2, 0]
    assert list(got.overdue) == [2, 0, 0]
    assert list(got.reprimand) == [1, 0, 0]
    assert list(got.received_today) == [0, 2, 0]
    assert got.on_time_rate.iloc[0] == 0.0  # nothing closed, two overdue
    assert got.on_time_rate.iloc[1] == pytest.approx(0.5)
    assert math.isnan(got.satisfaction_rate.iloc[0]) and math.isnan(got.on_time_rate.iloc[2])


def test_clearance_per_town_least_cleared_first(county, alerts):
    got = wall_view(county, alerts=alerts, as_of=AS_OF).clearance
    assert list(got.columns) == list(CLEARANCE_COLUMNS)
    assert list(got.town_code) == [T2, ""]  # the ticket outside every grid keeps its row
    assert list(got.new) == [2, 1]
    assert list(got.due) == [1, 0]
    assert list(got["items"]) == [3, 1]
    assert list(got.cleared) == [2, 1]
    assert got.cleared_rate.iloc[0] == pytest.approx(2 / 3)


def test_grid_columns(county, alerts):
    got = wall_view(county, alerts=alerts, as_of=AS_OF).grids
    assert list(got.columns) == [*GRID_COLUMNS, "geometry"]
    assert list(got.open) == [2, 1, 2, 0]
    assert list(got.overdue) == [2, 0, 0, 0]
    assert list(got.overdue_share) == [1.0, 0.0, 0.0, 0.0]  # 0 where nothing is open
    assert got.crs == CRS
    assert got.geometry.within(county.grids.geometry.reset_index(drop=True)).all()


def test_the_inputs_are_left_alone(county, alerts):
    before = county.issues.copy()
    alerts_before = alerts.copy()
    wall_view(county, alerts=alerts, as_of=AS_OF)
    pd.testing.assert_frame_equal(county.issues, before)
    pd.testing.assert_frame_equal(alerts, alerts_before)


def test_default_now_is_the_demo_end(county, alerts):
    assert wall_as_of(county) == AS_OF
    assert wall_view(county, alerts=alerts).tiles["open"] == 7


def test_live_now_is_the_clock_cut_to_whole_minutes(county):
    county.meta = {"synthetic": "false"}
    before = pd.Timestamp.now(tz="Asia/Shanghai").tz_localize(None)
    got = wall_as_of(county, minutes=10)
    assert got.second == 0 and got.microsecond == 0 and got.minute % 10 == 0
    assert before - pd.Timedelta(minutes=10) < got <= before + pd.Timedelta(minutes=1)
    with pytest.raises(InputProblems, match="minutes must be a whole number ≥ 1, got 0"):
        wall_as_of(county, minutes=0)


@pytest.mark.parametrize(
    ("value", "seconds"),
    [(None, REFRESH_S), ("", REFRESH_S), ("3", 3.0), (" 2.5 ", 2.5), ("10s", 10.0), (60, 60.0)],
)
def test_refresh_seconds(value, seconds):
    assert refresh_seconds(value) == seconds


@pytest.mark.parametrize("value", ["abc", "0", "0.5", "-3", "nan", "7200"])
def test_refresh_seconds_refuses_bad_values(value):
    with pytest.raises(InputProblems, match=rf"from 1 to 3600, got '{value}'; e.g. \?refresh=10"):
        refresh_seconds(value)


def test_panels_take_turns():
    assert [panel_for(n) for n in range(6)] == [*PANELS, *PANELS[:2]]
    assert set(PANELS) == set(PANEL_COLUMNS)


def test_panel_rows_as_text(county, alerts):
    view = wall_view(county, alerts=alerts, as_of=AS_OF)
    overdue = panel_rows(view, "overdue", rows=1)
    assert overdue.to_dict("records") == [
        {
            "town_name": "甲镇",
            "grid_name": "甲村第1网格",
            "category": "环境卫生",
            "days_over": "14",
            "state": "超期·通报督办",
        }
    ]
    assert list(panel_rows(view, "overdue", lang="en").state) == [
        "Overdue (reprimand)",
        "Overdue (reminder)",
    ]
    warnings = panel_rows(view, "warnings", lang="en")
    assert list(warnings.kind) == ["Surge", "Repeat complaints (same caller)"]
    assert list(warnings.last_at) == ["11-20 10:00", "11-16 09:00"]
    towns = panel_rows(view, "towns")
    assert list(towns.on_time_rate) == ["0.0%", "50.0%", "—"]
    clearance = panel_rows(view, "clearance", lang="en")
    assert list(clearance.town_name) == ["乙镇", "Not in a grid"]
    assert list(clearance.cleared_rate) == ["66.7%", "100.0%"]
    for panel in PANELS:
        assert list(panel_rows(view, panel).columns) == list(PANEL_COLUMNS[panel])


def test_panel_rows_refuses_unknown_panels(county, alerts):
    view = wall_view(county, alerts=alerts, as_of=AS_OF)
    with pytest.raises(InputProblems, match=r"panel must be one of .*, got 'map'"):
        panel_rows(view, "map")
    with pytest.raises(InputProblems, match="rows must be a whole number ≥ 1, got 0"):
        panel_rows(view, "towns", rows=0)


def test_outlines(county):
    got = wall_outlines(county.towns)
    assert list(got.kind) == ["county"] + ["town"] * 3 + ["label"] * 3
    assert list(got.name) == ["", "甲镇", "乙镇", "丙镇", "甲镇", "乙镇", "丙镇"]
    assert got.crs == CRS
    # The county line is the outline of all towns: 6 km × 2 km.
    assert got.geometry.iloc[0].length == pytest.approx(16_000)
    assert got.geometry.iloc[1].length == pytest.approx(8_000)
    labels = got[got.kind == "label"].geometry.reset_index(drop=True)
    assert labels.within(county.towns.geometry).all()


def test_outlines_refuse_degrees(county):
    with pytest.raises(
        InputProblems, match=r"towns is in EPSG:4326, not a metric CRS.*to_crs\('EPSG:4549'\)"
    ):
        wall_outlines(county.towns.to_crs(4326))
