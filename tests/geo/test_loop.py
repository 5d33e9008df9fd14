"""Known-answer tests for geo.loop.lifecycle: deadlines, stages and states, KPIs,
日清—周结—月过堂."""

from __future__ import annotations

import datetime as dt
import math

import chinese_calendar
import geopandas as gpd
import numpy as np
import pandas as pd
import pytest

from geo.core.errors import InputProblems
from geo.core.tickets import CLOSED, with_deadlines
from geo.core.workcal import covered
from geo.loop.lifecycle import (
    KPIS,
    PLATFORM_BY_CATEGORY,
    PLATFORMS,
    daily_clearance,
    deadlines,
    kpi_tables,
    lifecycle,
    loop_kpis,
    monthly_review,
    platform_of,
    weekly_summary,
)

NAN = float("nan")
END = pd.Timedelta(hours=23, minutes=59, seconds=59)


def ts(text: str) -> pd.Timestamp:
    return pd.Timestamp(text)


def eod(day: str) -> pd.Timestamp:
    return pd.Timestamp(day) + END


def frame(rows: list[dict]) -> pd.DataFrame:
    """Tickets with every column the loop reads, defaults filled in."""
    base = {
        "ticket_id": "",
        "source": "12345",
        "request_type": "咨询",
        "category": "环境卫生",
        "status": "处理中",
        "received_at": None,
        "dispatched_at": None,
        "closed_at": None,
        "resolution_level": "",
        "satisfaction": "",
        "caller_phone": "13800000000",
        "town_code": "",
        "village_code": "",
        "grid_code": "",
    }
    out = pd.DataFrame([{**base, **row} for row in rows])
    for col in ("received_at", "dispatched_at", "closed_at"):
        out[col] = pd.to_datetime(out[col])
    return out


# --------------------------------------------------------------------------- deadlines

# (received, type, deadline, reminder, reprimand), worked by hand on the holiday notices:
# the reminder is the first working day after the deadline day, the reprimand 5 working
# days after the reminder.
FOLLOW_UPS = [
    # National Day 2025 (Oct 1-8 off; Sun Sep 28 and Sat Oct 11 worked)
    ("2025-09-30 10:00", "咨询", "2025-10-11", "2025-10-13", "2025-10-20"),
    ("2025-09-30 10:00", "投诉", "2025-10-24", "2025-10-27", "2025-11-03"),
    ("2025-09-29 16:00", "求助", "2025-10-10", "2025-10-11", "2025-10-17"),
    ("2025-09-29 16:00", "举报", "2025-10-23", "2025-10-24", "2025-10-31"),
    # due on Mon Sep 29 (Sun 28 worked); the reprimand waits out the holiday
    ("2025-09-25 09:00", "巡查上报", "2025-09-29", "2025-09-30", "2025-10-14"),
    # Spring Festival 2026 (Feb 15-23 off; Sat Feb 14 and Sat Feb 28 worked)
    ("2026-02-13 09:00", "咨询", "2026-02-25", "2026-02-26", "2026-03-04"),
    ("2026-02-13 09:00", "投诉", "2026-03-10", "2026-03-11", "2026-03-18"),
    ("2026-02-12 09:00", "求助", "2026-02-24", "2026-02-25", "2026-03-03"),
    ("2026-02-12 09:00", "建议", "2026-03-09", "2026-03-10", "2026-03-17"),
    # due Fri Feb 13: reminded on the working Saturday, reprimanded on the next one
    ("2026-02-10 11:00", "求助", "2026-02-13", "2026-02-14", "2026-02-28"),
]


@pytest.fixture
def follow_up_tickets() -> pd.DataFrame:
    return frame(
        [
            {"received_at": r, "request_type": t, "ticket_id": f"F{i}"}
            for i, (r, t, *_) in enumerate(FOLLOW_UPS)
        ]
    )


def test_deadlines_known_answers(follow_up_tickets):
    got = deadlines(follow_up_tickets)
    assert list(got.columns) == ["due_at", "remind_on", "reprimand_on", "calendar_fallback"]
    assert list(got.due_at) == [eod(d) for _, _, d, _, _ in FOLLOW_UPS]
    assert list(got.remind_on) == [ts(d) for _, _, _, d, _ in FOLLOW_UPS]
    assert list(got.reprimand_on) == [ts(d) for _, _, _, _, d in FOLLOW_UPS]
    assert not got.calendar_fallback.any()


def test_deadlines_agree_with_chinese_calendar(follow_up_tickets):
    got = deadlines(follow_up_tickets)
    sla = {"咨询": 3, "求助": 3, "投诉": 13, "举报": 13, "建议": 13, "巡查上报": 3}
    for (received, kind, *_), row in zip(FOLLOW_UPS, got.itertuples(), strict=True):
        due = chinese_calendar.find_workday(sla[kind], ts(received).date())
        remind = chinese_calendar.find_workday(1, due)
        reprimand = chinese_calendar.find_workday(5, remind)
        assert (row.due_at.date(), row.remind_on.date(), row.reprimand_on.date()) == (
            due,
            remind,
            reprimand,
        )


def test_deadlines_reuse_a_due_at_column_unless_limits_are_given(follow_up_tickets):
    tickets = follow_up_tickets.iloc[:1].assign(due_at=eod("2030-01-01"))
    assert deadlines(tickets).due_at.iloc[0] == eod("2030-01-01")
    assert deadlines(tickets, sla_days={"咨询": 1}).due_at.iloc[0] == eod("2025-10-09")


def test_calendar_fallback_flag():
    tickets = frame(
        [
            {"received_at": "2026-12-01 09:00", "request_type": "咨询"},  # reprimand 12-14
            {"received_at": "2026-12-18 09:00", "request_type": "投诉"},  # due in 2027
            {"received_at": "2026-12-23 09:00", "request_type": "咨询"},  # reprimand in 2027
            {"received_at": "2003-12-30 09:00", "request_type": "咨询"},  # received in 2003
            {"received_at": None, "request_type": "咨询"},
        ]
    )
    got = deadlines(tickets)
    assert list(got.calendar_fallback) == [False, True, True, True, False]
    assert got.due_at.iloc[1] == eod("2027-01-06")  # Dec 21-25, 28-31, Jan 1 (!), 4-6
    assert pd.isna(got.due_at.iloc[4]) and pd.isna(got.reprimand_on.iloc[4])


def test_fallback_flag_matches_the_dates_around_the_coverage_end():
    # Every day from Nov 2026 to Jan 2027, both limits: the flag of lifecycle (two
    # comparisons) is the flag of the dates themselves.
    received = pd.date_range("2026-11-01 10:00", "2027-01-31 10:00", freq="D")
    tickets = frame(
        [{"received_at": r, "request_type": k} for r in received for k in ("咨询", "投诉")]
    )
    got = lifecycle(tickets, "2027-03-01")
    dates = deadlines(tickets)
    slow = ~covered(tickets.received_at) | ~covered(dates.reprimand_on)
    np.testing.assert_array_equal(got.calendar_fallback, slow)
    np.testing.assert_array_equal(dates.calendar_fallback, slow)
    assert 0 < slow.sum() < len(tickets)


# --------------------------------------------------------------------------- stage, state

# One 咨询 received Fri 2026-02-13: due Wed 02-25 23:59:59, reminder Thu 02-26,
# reprimand Wed 03-04.
STATES = [
    ("2026-02-13 08:59:59", "", ""),  # not received yet
    ("2026-02-13 09:00:00", "on_time", "dispatched"),
    ("2026-02-24 23:59:59", "on_time", "dispatched"),
    ("2026-02-25 00:00:00", "due_today", "dispatched"),
    ("2026-02-25 23:59:59", "due_today", "dispatched"),
    ("2026-02-26 00:00:00", "overdue", "dispatched"),
    ("2026-03-03 23:59:59", "overdue", "dispatched"),
    ("2026-03-04 00:00:00", "reprimand", "dispatched"),
    ("2026-06-01 00:00:00", "reprimand", "dispatched"),
]


@pytest.mark.parametrize(("as_of", "state", "stage"), STATES)
def test_state_of_an_open_ticket(as_of, state, stage):
    ticket = frame([{"received_at": "2026-02-13 09:00", "dispatched_at": "2026-02-13 09:00"}])
    got = lifecycle(ticket, as_of).iloc[0]
    assert (got.state, got.stage) == (state, stage)
    assert got.due_at == eod("2026-02-25")
    assert got.remind_on == ts("2026-02-26") and got.reprimand_on == ts("2026-03-04")


@pytest.mark.parametrize(
    ("closed_at", "as_of", "state"),
    [
        ("2026-02-25 23:59:59", "2026-03-10", "closed_on_time"),  # the last second
        ("2026-02-26 00:00:00", "2026-03-10", "closed_late"),
        ("2026-03-05 10:00:00", "2026-03-10", "closed_late"),
        ("2026-03-05 10:00:00", "2026-03-05 09:59:59", "reprimand"),  # not closed yet then
        ("2026-02-20 10:00:00", "2026-02-20 10:00:00", "closed_on_time"),
    ],
)
def test_state_of_a_closed_ticket(closed_at, as_of, state):
    ticket = frame([{"received_at": "2026-02-13 09:00", "status": CLOSED, "closed_at": closed_at}])
    assert lifecycle(ticket, as_of).state.iloc[0] == state


def test_stages():
    tickets = frame(
        [
            {"received_at": "2026-03-02 09:00", "status": "待派单"},
            {"received_at": "2026-03-02 09:00", "dispatched_at": "2026-03-02 10:00"},
            {"received_at": "2026-03-02 09:00", "status": "处理中"},  # no dispatch time
            {"received_at": "2026-03-02 09:00", "status": CLOSED, "closed_at": "2026-03-03"},
            {
                "received_at": "2026-03-02 09:00",
                "status": CLOSED,
                "closed_at": "2026-03-03",
                "satisfaction": "基本满意",
            },
            {"received_at": "2026-03-05 09:00"},  # after as_of
        ]
    )
    got = lifecycle(tickets, "2026-03-04 12:00")
    assert list(got.stage) == ["received", "dispatched", "dispatched", "closed", "called_back", ""]
    assert list(got.state)[-1] == ""
    earlier = lifecycle(tickets, "2026-03-02 09:30")
    assert list(earlier.stage) == [
        "received",
        "received",  # dispatched at 10:00
        "dispatched",
        "dispatched",  # closed on the 3rd: not yet, and no dispatch time given
        "dispatched",
        "",
    ]


def test_handled_stage_from_a_handled_at_column():
    tickets = frame(
        [{"received_at": "2026-03-02 09:00", "dispatched_at": "2026-03-02 09:10"}] * 2
    ).assign(handled_at=pd.to_datetime(["2026-03-03 10:00", None]))
    assert list(lifecycle(tickets, "2026-03-04").stage) == ["handled", "dispatched"]
    assert list(lifecycle(tickets, "2026-03-03 09:00").stage) == ["dispatched", "dispatched"]


def test_lifecycle_keeps_the_index_and_leaves_the_input_alone():
    tickets = frame([{"received_at": "2026-03-02 09:00"}] * 2)
    tickets.index = pd.Index(["a", "b"])
    before = tickets.copy()
    got = lifecycle(tickets, "2026-03-04")
    assert list(got.index) == ["a", "b"]
    pd.testing.assert_frame_equal(tickets, before)


# --------------------------------------------------------------------------- KPIs

AS_OF = ts("2026-03-04 12:00")  # a Wednesday
A, B = "320924101", "320924102"
A1, A2, B1, B2 = A + "001", A + "002", B + "001", B + "002"


@pytest.fixture
def tickets() -> pd.DataFrame:
    """Ten tickets worked by hand against AS_OF (Wed 2026-03-04 12:00).

    ===  ========  ==============  =====  =================  =====  ======  =======  ======
    id   type      received        due    closed (days)      level  rating  grid     state
    ===  ========  ==============  =====  =================  =====  ======  =======  ======
    T1   咨询      Fri 02-13 09:00  02-25  02-14 09:00 (1.0)  网格   满意    A1-1     on time
    T2   投诉      Fri 02-13 10:00  03-10  02-16 10:00 (3.0)  村     不满意  A1-1     on time
    T3   求助      Tue 02-10 08:00  02-13  02-26 08:00 (16)   镇     基本满意 A1-2    late
    T4   巡查上报  Thu 02-12 08:00  02-24  open               —      —       A2-1     reprimand
    T5   咨询      Mon 03-02 09:00  03-05  open               —      —       B1-1     on time
    T6   巡查上报  Thu 02-26 08:00  03-02  open               —      —       B1-1     overdue
    T7   举报      Fri 02-27 14:00  03-17  03-01 02:00 (1.5)  网格   (none)  B1-2     on time
    T8   建议      Thu 03-05 09:00  —      —                  —      —       B1-2     (future)
    T9   求助      Fri 02-20 12:00  02-27  02-27 12:00 (7.0)  村     满意    (none)   on time
    T10  咨询      Mon 03-02 10:00  03-05  03-04 13:00 (later) 网格  满意    A2-1     on time
    ===  ========  ==============  =====  =================  =====  ======  =======  ======

    T4 was received Thu 02-12: Feb 13, the working Saturday 14, then Feb 24 (reprimand
    Tue 03-03). T9 was received in the holiday and counts from Tue 02-24. T10 is closed in
    the data but only after AS_OF, so it is still open then. Patrol reports have no caller.
    """
    rows = [
        ("T1", "咨询", "2026-02-13 09:00", "2026-02-14 09:00", "网格", "满意", A1 + "001"),
        ("T2", "投诉", "2026-02-13 10:00", "2026-02-16 10:00", "村", "不满意", A1 + "001"),
        ("T3", "求助", "2026-02-10 08:00", "2026-02-26 08:00", "镇", "基本满意", A1 + "002"),
        ("T4", "巡查上报", "2026-02-12 08:00", None, "", "", A2 + "001"),
        ("T5", "咨询", "2026-03-02 09:00", None, "", "", B1 + "001"),
        ("T6", "巡查上报", "2026-02-26 08:00", None, "", "", B1 + "001"),
        ("T7", "举报", "2026-02-27 14:00", "2026-03-01 02:00", "网格", "", B1 + "002"),
        ("T8", "建议", "2026-03-05 09:00", None, "", "", B1 + "002"),
        ("T9", "求助", "2026-02-20 12:00", "2026-02-27 12:00", "村", "满意", ""),
        ("T10", "咨询", "2026-03-02 10:00", "2026-03-04 13:00", "网格", "满意", A2 + "001"),
    ]
    categories = [
        "环境卫生",  # 综合执法
        "邻里纠纷",  # 综治
        "消费维权",  # 市场监管
        "市容秩序",  # 综合执法
        "供水供电",  # 便民服务
        "社会治安",  # 综治
        "噪音扰民",  # 综合执法
        "教育",  # 便民服务
        "未知类别",  # not in the table: 便民服务
        "教育",  # 便民服务
    ]
    villages = [A1, A1, A1, A2, B1, B1, B1, B1, B2, A2]
    out = frame(
        [
            {
                "ticket_id": tid,
                "request_type": kind,
                "source": "网格巡查" if kind == "巡查上报" else "12345",
                "received_at": received,
                "dispatched_at": received,
                "closed_at": closed,
                "status": CLOSED if closed else "处理中",
                "resolution_level": level,
                "satisfaction": rating,
                "caller_phone": "" if kind == "巡查上报" else f"1380000000{i}",
                "grid_code": grid,
                "village_code": village,
                "town_code": village[:9],
                "category": category,
            }
            for i, (
                (tid, kind, received, closed, level, rating, grid),
                village,
                category,
            ) in enumerate(zip(rows, villages, categories, strict=True))
        ]
    )
    return out


KPI_COLUMNS = [
    "issues",
    "open",
    "overdue",
    "reprimand",
    "closed",
    "closed_on_time",
    "on_time_rate",
    "first_time_rate",
    "grid_share",
    "net_share",
    "callback_rate",
    "satisfaction_rate",
    "median_close_days",
]

# Per unit, in KPI_COLUMNS order, worked by hand from the table above.
EXPECTED = {
    "county": {
        "320924": (9, 4, 2, 1, 5, 4, 4 / 7, 3 / 5, 2 / 5, 4 / 5, 4 / 5, 3 / 4, 3.0),
    },
    "town": {
        A: (5, 2, 1, 1, 3, 2, 2 / 4, 1 / 3, 1 / 3, 2 / 3, 1.0, 2 / 3, 3.0),
        B: (4, 2, 1, 0, 2, 2, 2 / 3, 1.0, 1 / 2, 1.0, 1 / 2, 1.0, 4.25),
    },
    "village": {
        A1: (3, 0, 0, 0, 3, 2, 2 / 3, 1 / 3, 1 / 3, 2 / 3, 1.0, 2 / 3, 3.0),
        A2: (2, 2, 1, 1, 0, 0, 0.0, NAN, NAN, NAN, NAN, NAN, NAN),
        B1: (3, 2, 1, 0, 1, 1, 1 / 2, 1.0, 1.0, 1.0, 0.0, NAN, 1.5),
        B2: (1, 0, 0, 0, 1, 1, 1.0, 1.0, 0.0, 1.0, 1.0, 1.0, 7.0),
    },
    "grid": {
        A1 + "001": (2, 0, 0, 0, 2, 2, 1.0, 1 / 2, 1 / 2, 1.0, 1.0, 1 / 2, 2.0),
        A1 + "002": (1, 0, 0, 0, 1, 0, 0.0, 0.0, 0.0, 0.0, 1.0, 1.0, 16.0),
        A2 + "001": (2, 2, 1, 1, 0, 0, 0.0, NAN, NAN, NAN, NAN, NAN, NAN),
        B1 + "001": (2, 2, 1, 0, 0, 0, 0.0, NAN, NAN, NAN, NAN, NAN, NAN),
        B1 + "002": (1, 0, 0, 0, 1, 1, 1.0, 1.0, 1.0, 1.0, 0.0, NAN, 1.5),
    },
    "platform": {
        "综合执法": (3, 1, 1, 1, 2, 2, 2 / 3, 1.0, 1.0, 1.0, 1 / 2, 1.0, 1.25),
        "综治": (2, 1, 1, 0, 1, 1, 1 / 2, 0.0, 0.0, 1.0, 1.0, 0.0, 3.0),
        "市场监管": (1, 0, 0, 0, 1, 0, 0.0, 0.0, 0.0, 0.0, 1.0, 1.0, 16.0),
        "便民服务": (3, 2, 0, 0, 1, 1, 1.0, 1.0, 0.0, 1.0, 1.0, 1.0, 7.0),
    },
    "category": {
        "供水供电": (1, 1, 0, 0, 0, 0, NAN, NAN, NAN, NAN, NAN, NAN, NAN),
        "教育": (1, 1, 0, 0, 0, 0, NAN, NAN, NAN, NAN, NAN, NAN, NAN),  # T8 is later
        "未知类别": (1, 0, 0, 0, 1, 1, 1.0, 1.0, 0.0, 1.0, 1.0, 1.0, 7.0),
    },
}
KEYS = {
    "county": "county_code",
    "town": "town_code",
    "village": "village_code",
    "grid": "grid_code",
    "category": "category",
    "platform": "platform",
}


def _check_table(table: pd.DataFrame, level: str) -> None:
    key = KEYS[level]
    assert list(table.columns) == [key, *KPIS]
    rows = table.set_index(key)
    if level != "category":
        assert sorted(rows.index) == sorted(EXPECTED[level])  # no other unit
    for unit, values in EXPECTED[level].items():
        got = rows.loc[unit, KPI_COLUMNS].to_numpy(dtype=float)
        np.testing.assert_allclose(got, values, equal_nan=True, err_msg=f"{level} {unit}")
    assert (rows["calendar_fallback"] == 0).all()


@pytest.mark.parametrize("level", list(EXPECTED))
def test_kpis_known_answers(tickets, level):
    _check_table(loop_kpis(tickets, AS_OF, by=level), level)


def test_kpi_tables_give_every_level_at_once(tickets):
    tables = kpi_tables(tickets, AS_OF)
    assert list(tables) == ["county", "town", "village", "grid", "category", "platform"]
    for level in EXPECTED:
        _check_table(tables[level], level)
    assert list(tables["town"].town_code) == [A, B]  # sorted by key


def test_kpis_with_categorical_columns_and_precomputed_deadlines(tickets):
    cat = with_deadlines(tickets).astype(
        {
            c: "category"
            for c in (
                "category",
                "status",
                "resolution_level",
                "satisfaction",
                "grid_code",
                "village_code",
                "town_code",
                "caller_phone",
                "request_type",
            )
        }
    )
    for level in EXPECTED:
        _check_table(loop_kpis(cat, AS_OF, by=level), level)


def test_kpis_move_with_as_of(tickets):
    # T10 is closed at 13:00 on 03-04 (the data's status is already 已办结 before that).
    later = loop_kpis(tickets, "2026-03-04 13:00", by="county").iloc[0]
    assert (later.issues, later.open, later.closed) == (9, 3, 6)
    # On 03-06 T8 is in and the 03-05 deadline has passed: T5 overdue, T10 closed on time.
    after = loop_kpis(tickets, "2026-03-06 00:00", by="county").iloc[0]
    assert (after.issues, after.overdue, after.closed_on_time) == (10, 3, 5)
    assert after.on_time_rate == pytest.approx(5 / (6 + 3))


def test_first_time_proxy_uses_reopen_columns(tickets):
    reopened = tickets.assign(reopened=[True] + [False] * 9)
    assert loop_kpis(reopened, AS_OF, by="county").first_time_rate.iloc[0] == pytest.approx(2 / 5)
    counted = tickets.assign(reopen_count=[0, 0, 0, 0, 0, 0, 2, 0, 0, 0])
    assert loop_kpis(counted, AS_OF, by="county").first_time_rate.iloc[0] == pytest.approx(2 / 5)


def test_call_back_time_is_respected(tickets):
    called = tickets.assign(
        callback_at=pd.to_datetime(
            [None, "2026-02-17", "2026-03-05", *[None] * 5, "2026-02-28", None]
        )
    )
    got = loop_kpis(called, AS_OF, by="county").iloc[0]
    assert got.callback_rate == pytest.approx(2 / 5)  # T2 and T9 were called back by AS_OF
    assert got.satisfaction_rate == pytest.approx(1 / 2)  # T9 满意, T2 不满意


def test_call_back_rate_without_caller_column(tickets):
    got = loop_kpis(tickets.drop(columns="caller_phone"), AS_OF, by="county").iloc[0]
    assert got.callback_rate == pytest.approx(4 / 5)  # every closed ticket counts


def test_platform_column_wins_over_the_mapping(tickets):
    given = tickets.assign(platform=["市场监管", "", None, *[""] * 7])
    table = loop_kpis(given, AS_OF, by="platform").set_index("platform")
    assert table.loc["市场监管", "issues"] == 2  # T1 moved from 综合执法
    assert table.loc["综合执法", "issues"] == 2


def test_platform_mapping_covers_the_demo_categories():
    from geo.demo.build import CATEGORIES

    assert set(CATEGORIES) == set(PLATFORM_BY_CATEGORY)
    assert set(PLATFORM_BY_CATEGORY.values()) == set(PLATFORMS)
    got = platform_of(pd.Series(["消费维权", "邻里纠纷", "新类别", None]))
    assert list(got) == ["市场监管", "综治", "便民服务", "便民服务"]


def test_kpis_of_nothing(tickets):
    empty = tickets.iloc[:0]
    county = loop_kpis(empty, AS_OF, by="county")
    assert len(county) == 1 and county.issues.iloc[0] == 0
    assert math.isnan(county.on_time_rate.iloc[0]) and math.isnan(county.median_close_days.iloc[0])
    assert loop_kpis(empty, AS_OF, by="grid").empty


def test_kpis_against_plain_pandas_on_random_tickets():
    rng = np.random.default_rng(11)
    n = 3000
    received = pd.Timestamp("2025-09-01") + pd.to_timedelta(rng.integers(0, 200 * 86400, n), "s")
    closed = rng.random(n) < 0.8
    spent = pd.to_timedelta(rng.exponential(6 * 86400, n).astype(int), "s")
    kinds = np.array(["咨询", "求助", "投诉", "举报", "建议", "巡查上报"])
    tickets = pd.DataFrame(
        {
            "request_type": rng.choice(kinds, n),
            "received_at": received,
            "closed_at": (received + spent).where(closed),
            "status": np.where(closed, CLOSED, "处理中"),
            "resolution_level": np.where(closed, rng.choice(["网格", "村", "镇", "县"], n), ""),
            "satisfaction": np.where(closed, rng.choice(["满意", "基本满意", "不满意", ""], n), ""),
            "caller_phone": rng.choice(["", "13800000000"], n),
            "grid_code": rng.choice([f"g{i:03d}" for i in range(40)] + [""], n),
            "category": rng.choice(list(PLATFORM_BY_CATEGORY), n),
        }
    )
    as_of = pd.Timestamp("2026-03-01 12:00")
    got = loop_kpis(tickets, as_of, by="grid").set_index("grid_code")
    # The peer: per-ticket chinese_calendar deadlines and a groupby-apply.
    sla = {"咨询": 3, "求助": 3, "投诉": 13, "举报": 13, "建议": 13, "巡查上报": 3}
    due = [
        pd.Timestamp(chinese_calendar.find_workday(sla[k], r.date())) + END
        for k, r in zip(tickets.request_type, tickets.received_at, strict=True)
    ]
    t = tickets.assign(due=due)
    t = t[(t.received_at <= as_of) & (t.grid_code != "")]

    def one(g: pd.DataFrame) -> pd.Series:
        shut = (g.status == CLOSED) & (g.closed_at <= as_of)
        late_open = ~shut & (g.due < as_of)
        rated = shut & g.satisfaction.isin(["满意", "基本满意", "不满意"])
        callable_ = shut & (g.caller_phone != "")
        net = shut & g.resolution_level.isin(["网格", "村"])
        ratio = lambda a, b: a.sum() / b.sum() if b.sum() else NAN  # noqa: E731
        return pd.Series(
            {
                "issues": len(g),
                "overdue": late_open.sum(),
                "closed": shut.sum(),
                "on_time_rate": (shut & (g.closed_at <= g.due)).sum()
                / (shut.sum() + late_open.sum()),
                "first_time_rate": ratio(net & (g.satisfaction != "不满意"), shut),
                "net_share": ratio(net, shut),
                "callback_rate": ratio(rated & callable_, callable_),
                "satisfaction_rate": ratio(
                    rated & g.satisfaction.isin(["满意", "基本满意"]), rated
                ),
                "median_close_days": (
                    (g.closed_at - g.received_at)[shut].dt.total_seconds() / 86400
                ).median(),
            }
        )

    peer = t.groupby("grid_code").apply(one)
    pd.testing.assert_frame_equal(
        got.loc[peer.index, peer.columns].astype(float), peer.astype(float), check_names=False
    )


def test_kpi_input_errors_are_listed_together(tickets):
    with pytest.raises(InputProblems) as info:
        loop_kpis(tickets.drop(columns=["status", "closed_at"]), "yesterday-ish", by="county")
    text = str(info.value)
    assert "cannot follow the issue loop (2 problem(s))" in text
    assert "issues lack the column(s) ['status', 'closed_at']" in text
    assert "as_of must be a time such as '2026-11-20 23:59:59', got 'yesterday-ish'" in text
    with pytest.raises(InputProblems, match=r"level must be one of \['county', 'town'"):
        loop_kpis(tickets, AS_OF, by="province")
    with pytest.raises(InputProblems, match=r"issues.received_at must hold times"):
        loop_kpis(tickets.assign(received_at="2026-03-01"), AS_OF)
    with pytest.raises(InputProblems, match=r"level 'grid' needs the column 'grid_code'"):
        loop_kpis(tickets.drop(columns="grid_code"), AS_OF, by="grid")


# --------------------------------------------------------------------------- 日清


@pytest.fixture
def day_tickets() -> pd.DataFrame:
    """Day 2026-02-25 (Wed): three new tickets, two due (咨询 from Fri 02-13), more around."""
    return frame(
        [
            {
                "ticket_id": "D1",
                "received_at": "2026-02-25 09:00",
                "dispatched_at": "2026-02-25 09:30",
            },
            {"ticket_id": "D2", "received_at": "2026-02-25 10:00", "status": "待派单"},
            {
                "ticket_id": "D3",
                "received_at": "2026-02-13 09:00",
                "status": CLOSED,
                "closed_at": "2026-02-25 15:00",
            },
            {
                "ticket_id": "D4",
                "received_at": "2026-02-13 10:00",
                "dispatched_at": "2026-02-13 11:00",
            },
            {
                "ticket_id": "D5",
                "received_at": "2026-02-13 11:00",
                "status": CLOSED,
                "closed_at": "2026-02-24 15:00",
            },
            {
                "ticket_id": "D6",
                "received_at": "2026-02-25 19:00",
                "dispatched_at": "2026-02-26 08:00",
            },
            {
                "ticket_id": "D7",
                "received_at": "2026-02-25 11:00",
                "dispatched_at": "2026-02-25 20:00",
            },
            {"ticket_id": "D8", "received_at": "2026-02-12 11:00", "request_type": "投诉"},
        ]
    )


def test_daily_clearance_during_the_day(day_tickets):
    got = daily_clearance(day_tickets, "2026-02-25 18:00")
    assert list(got.ticket_id) == ["D4", "D2", "D7", "D3", "D1"]
    assert list(got.reason) == ["due", "new", "new", "due", "new"]
    assert list(got.cleared) == [False, False, False, True, True]
    assert list(got.state) == ["due_today", "on_time", "on_time", "closed_on_time", "on_time"]
    assert list(got.stage) == ["dispatched", "received", "received", "closed", "dispatched"]
    assert "caller_phone" not in got.columns
    assert got.due_at.iloc[0] == eod("2026-02-25")


def test_daily_clearance_of_a_past_day(day_tickets):
    got = daily_clearance(day_tickets, "2026-02-26 10:00", day="2026-02-25")
    assert list(got.ticket_id) == ["D4", "D2", "D6", "D3", "D1", "D7"]
    assert list(got.cleared) == [False, False, False, True, True, True]
    assert got.state.iloc[0] == "due_today"  # as it stood at 23:59:59 that day


# --------------------------------------------------------------------------- 周结


def test_weekly_summary_known_answers(tickets):
    got = weekly_summary(tickets, AS_OF, week_start="2026-02-23")
    assert list(got.town_code) == [A, B, "320924"]
    columns = [
        "received",
        "closed",
        "closed_on_time",
        "on_time_rate",
        "satisfaction_rate",
        "median_close_days",
        "open",
        "overdue",
        "reprimand",
    ]
    assert list(got.columns) == ["town_code", *columns]
    expected = [
        # the week Mon 02-23 to Sun 03-01: T3 closed late, T4 missed its deadline (A)
        (0, 1, 0, 0.0, 1.0, 16.0, 1, 1, 0),
        # T6, T7 received; T7, T9 closed on time (B)
        (2, 2, 2, 1.0, 1.0, 4.25, 1, 0, 0),
        (2, 3, 2, 0.5, 1.0, 7.0, 2, 1, 0),
    ]
    np.testing.assert_allclose(got[columns].to_numpy(dtype=float), expected)


def test_weekly_summary_defaults_to_the_week_of_as_of(tickets):
    got = weekly_summary(tickets, AS_OF).set_index("town_code")
    # Mon 03-02 to AS_OF: T5 (B) and T10 (A) received; nothing closed yet.
    assert list(got.received) == [1, 1, 2]
    assert list(got.closed) == [0, 0, 0]
    assert list(got.overdue) == [1, 1, 2] and list(got.reprimand) == [1, 0, 1]
    # A: T4 missed its deadline before the week; B: T6 missed it on Mon 03-02.
    np.testing.assert_allclose(got.on_time_rate, [NAN, 0.0, 0.0], equal_nan=True)


# --------------------------------------------------------------------------- 月过堂


@pytest.fixture
def month_tickets(tickets) -> pd.DataFrame:
    t11 = frame(
        [
            {
                "ticket_id": "T11",
                "received_at": "2026-02-24 09:00",  # due Fri 02-27
                "closed_at": "2026-03-02 09:00",  # late, in March
                "status": CLOSED,
                "resolution_level": "县",
                "satisfaction": "满意",
                "town_code": A,
                "village_code": A1,
                "grid_code": A1 + "002",
                "category": "安全隐患",
            }
        ]
    )
    return pd.concat([tickets, t11], ignore_index=True)


def _alerts(*rows: tuple[str, str, tuple[str, ...], str]) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {"alert_id": a, "kind": k, "ticket_ids": ids, "last_at": pd.Timestamp(last)}
            for a, k, ids, last in rows
        ]
    )


def test_monthly_review_known_answers(month_tickets):
    alerts = _alerts(
        ("RC-1", "repeat_caller", ("T2", "T5", "T10"), "2026-03-02 10:00"),
        ("RP-old", "repeat_place", ("T6",), "2026-02-27 09:00"),  # last ticket in February
        ("BU-1", "burst", ("T5",), "2026-03-02 10:00"),  # not a repeat
    )
    review = monthly_review(month_tickets, AS_OF, alerts=alerts)
    assert review.month_start == ts("2026-03-01") and review.as_of == AS_OF
    cases = review.cases
    assert list(cases.ticket_id) == ["T11", "T4", "T6", "T5", "T10"]
    assert list(cases.n_flags) == [2, 1, 1, 1, 1]
    assert list(cases.overdue) == [True, True, True, False, False]
    assert list(cases.repeated) == [False, False, False, True, True]
    assert list(cases.escalated) == [True, False, False, False, False]
    assert list(cases.state) == ["closed_late", "reprimand", "overdue", "on_time", "on_time"]
    assert list(cases.alert_ids) == ["", "", "", "RC-1", "RC-1"]
    backlog = review.backlog.set_index("town_code")
    assert list(backlog.columns) == [
        "backlog",
        "overdue",
        "reprimand",
        "closed_late",
        "repeated",
        "escalated",
        "hard_cases",
    ]
    assert backlog.loc[A].tolist() == [2, 1, 1, 1, 1, 1, 3]
    assert backlog.loc[B].tolist() == [2, 1, 0, 0, 1, 0, 2]
    assert backlog.loc["320924"].tolist() == [4, 2, 1, 1, 2, 1, 5]


def test_monthly_review_finds_repeat_callers_itself():
    calls = [("2026-03-01 09:00", "R1"), ("2026-03-02 09:00", "R2"), ("2026-03-03 09:00", "R3")]
    tickets = frame(
        [
            {
                "ticket_id": tid,
                "received_at": when,
                "dispatched_at": when,
                "category": "供水供电",
                "caller_phone": "13812345678",
                "town_code": A,
                "village_code": A1,
                "grid_code": A1 + "001",
            }
            for when, tid in calls
        ]
    )
    points = gpd.points_from_xy([500_000 + i * 500 for i in range(3)], [3_700_000] * 3)
    gdf = gpd.GeoDataFrame(tickets, geometry=points, crs="EPSG:4549")
    review = monthly_review(gdf, "2026-03-04 12:00")
    assert list(review.cases.ticket_id) == ["R1", "R2", "R3"]
    assert review.cases.repeated.all()
    assert review.cases.alert_ids.str.startswith("RC-").all()


def test_monthly_review_without_geometry_needs_alerts(month_tickets):

    with pytest.raises(InputProblems, match="GeoDataFrame"):
        monthly_review(month_tickets, AS_OF)


def test_dates_as_datetime_objects_work(tickets):
    got = loop_kpis(tickets, dt.datetime(2026, 3, 4, 12), by="county")
    assert got.issues.iloc[0] == 9


def test_window_counts_states_of_now_over_every_ticket(tickets):
    """From 02-26 on (T5, T6, T7, T10; T8 comes after AS_OF): received 4, closed 1 (T7, on
    time), on-time 1 / (1 + T6 overdue) = 50 %. Open now: T4, T5, T6, T10 (closed after
    AS_OF); overdue T4 and T6; reprimand T4 — T4 came in on 02-12, before the window."""
    window = (tickets["received_at"] >= ts("2026-02-26")).to_numpy()
    tables = kpi_tables(tickets, AS_OF, levels=("county", "town"), window=window)
    county = tables["county"].iloc[0]
    assert (county["issues"], county["closed"], county["closed_on_time"]) == (4, 1, 1)
    assert county["on_time_rate"] == pytest.approx(0.5)
    assert (county["open"], county["overdue"], county["reprimand"]) == (4, 2, 1)
    town_a = tables["town"].set_index("town_code").loc[A]
    assert (town_a["issues"], town_a["open"], town_a["overdue"]) == (1, 2, 1)
    every = kpi_tables(tickets, AS_OF, levels=("county",))["county"].iloc[0]
    assert every[["open", "overdue", "reprimand"]].tolist() == [4, 2, 1]
    with pytest.raises(InputProblems, match="window has 2 entries for 10 tickets"):
        kpi_tables(tickets, AS_OF, window=[True, False])
