"""Known-answer tests for geo.grids.aggregate: filters, 12345 deadlines, KPIs and counts per
unit."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from geo.grids.aggregate import (
    CLOSED,
    IssueFilter,
    counts,
    due_at,
    filter_mask,
    kpis,
    overdue_mask,
    with_deadlines,
)

AS_OF = pd.Timestamp("2026-11-20 18:00")  # a Friday
T1, T2 = "320924101", "320924102"
V11, V12, V21 = T1 + "001", T1 + "002", T2 + "001"


def ts(text: str) -> pd.Timestamp:
    return pd.Timestamp(text)


def eod(day: str) -> pd.Timestamp:
    """End of a working day: the deadline's time of day."""
    return pd.Timestamp(day) + pd.Timedelta(hours=23, minutes=59, seconds=59)


# --------------------------------------------------------------------------- deadlines


def test_calendar_of_the_fixtures():
    assert [ts(d).day_name() for d in ("2026-11-20", "2026-11-21", "2026-11-22")] == [
        "Friday",
        "Saturday",
        "Sunday",
    ]


DEADLINES = [
    # (received, request type, deadline) worked by hand on the 2026 calendar, Mon-Fri.
    ("2026-11-20 09:00", "投诉", "2026-12-09"),  # Fri + 13 working days (2 weekends)
    ("2026-11-20 23:59", "举报", "2026-12-09"),  # time of day does not matter
    ("2026-11-16 08:00", "咨询", "2026-11-19"),  # Mon + 3 = Thu
    ("2026-11-20 17:00", "咨询", "2026-11-25"),  # Fri + 3 = Wed (weekend skipped)
    ("2026-11-21 10:00", "求助", "2026-11-26"),  # Sat rolls to Mon, + 3 = Thu
    ("2026-11-22 10:00", "求助", "2026-11-26"),  # Sun rolls to Mon, + 3 = Thu
    ("2026-11-18 12:00", "巡查上报", "2026-11-23"),  # Wed + 3 = Mon
    ("2026-11-18 12:00", "建议", "2026-12-07"),  # Wed + 13
    ("2026-11-18 12:00", "不知道", "2026-12-07"),  # unknown type: the longest limit (13)
]


def test_due_at_known_answers():
    index = pd.Index([f"t{i}" for i in range(len(DEADLINES))])
    received = pd.Series(pd.to_datetime([r for r, _, _ in DEADLINES]), index=index)
    types = pd.Series([t for _, t, _ in DEADLINES], index=index)
    got = due_at(received, types)
    expected = pd.Series([eod(d) for _, _, d in DEADLINES], index=index)
    pd.testing.assert_series_equal(got, expected, check_dtype=False, check_names=False)


def test_due_at_missing_received_is_nat():
    received = pd.Series(pd.to_datetime(["2026-11-16 08:00", None]))
    got = due_at(received, pd.Series(["咨询", "咨询"]))
    assert got.iloc[0] == eod("2026-11-19")
    assert pd.isna(got.iloc[1])


def test_due_at_custom_limits():
    received = pd.Series(pd.to_datetime(["2026-11-20 09:00", "2026-11-20 09:00"]))
    got = due_at(received, pd.Series(["咨询", "其他"]), {"咨询": 1, "投诉": 5})
    assert list(got) == [eod("2026-11-23"), eod("2026-11-27")]  # unknown: the longest (5)


# --------------------------------------------------------------------------- KPIs


@pytest.fixture
def tickets() -> pd.DataFrame:
    """Six tickets worked by hand against AS_OF (Fri 2026-11-20 18:00).

    ====  ========  ===========  =====  ================  ======  ========  ========
    id    type      received     due    closed            status  level     rating
    ====  ========  ===========  =====  ================  ======  ========  ========
    1     咨询      Mon 11-02    11-05  11-04 (on time)   closed  网格      满意
    2     投诉      Mon 11-02    11-19  11-19 (on time)   closed  村        基本满意
    3     求助      Wed 11-04    11-09  11-10 (late)      closed  网格      不满意
    4     巡查上报  Thu 11-12    11-17  —                 open    —         —  (overdue)
    5     投诉      Thu 11-19    12-08  —                 open    —         —
    6     举报      Mon 11-16    12-03  11-18 (on time)   closed  网格      (no call-back)
    ====  ========  ===========  =====  ================  ======  ========  ========
    """
    return pd.DataFrame(
        {
            "ticket_id": ["RX1", "RX2", "RX3", "WG4", "RX5", "SP6"],
            "request_type": ["咨询", "投诉", "求助", "巡查上报", "投诉", "举报"],
            "source": ["12345", "12345", "12345", "网格巡查", "12345", "群众随手拍"],
            "category": ["环境卫生", "噪音扰民", "环境卫生", "市容秩序", "物业管理", "环境卫生"],
            "received_at": pd.to_datetime(
                [
                    "2026-11-02 10:00",
                    "2026-11-02 11:00",
                    "2026-11-04 09:00",
                    "2026-11-12 15:00",
                    "2026-11-19 16:00",
                    "2026-11-16 08:30",
                ]
            ),
            "closed_at": pd.to_datetime(
                [
                    "2026-11-04 12:00",
                    "2026-11-19 23:00",
                    "2026-11-10 09:00",
                    None,
                    None,
                    "2026-11-18 10:00",
                ]
            ),
            "status": [CLOSED, CLOSED, CLOSED, "处理中", "处理中", CLOSED],
            "resolution_level": ["网格", "村", "网格", "", "", "网格"],
            "satisfaction": ["满意", "基本满意", "不满意", "", "", ""],
            "town_code": [T1, T1, T1, T1, T2, T2],
            "village_code": [V11, V11, V12, V12, V21, V21],
            "grid_code": [V11 + "001", V11 + "001", V12 + "001", V12 + "002", V21 + "001", ""],
        }
    )


def test_kpis_known_answers(tickets):
    got = kpis(tickets, AS_OF)
    assert got == {
        "issues": 6.0,
        "open": 2.0,
        "overdue": 1.0,
        "resolution_rate": pytest.approx(4 / 6),
        "on_time_rate": pytest.approx(3 / 4),
        "satisfaction_rate": pytest.approx(2 / 3),
        "grid_level_rate": pytest.approx(3 / 4),
    }


def test_kpis_reuse_precomputed_deadlines(tickets):
    frame = with_deadlines(tickets)
    assert "due_at" not in tickets.columns  # with_deadlines returns a copy
    assert list(frame.due_at) == [
        eod(d)
        for d in (
            "2026-11-05",
            "2026-11-19",
            "2026-11-09",
            "2026-11-17",
            "2026-12-08",
            "2026-12-03",
        )
    ]
    assert kpis(frame, AS_OF) == kpis(tickets, AS_OF)


def test_overdue_moves_with_as_of(tickets):
    assert list(np.flatnonzero(overdue_mask(tickets, AS_OF))) == [3]
    # On the deadline day itself ticket 4 is not late yet; a minute after midnight it is.
    assert not overdue_mask(tickets, ts("2026-11-17 23:00")).any()
    assert list(np.flatnonzero(overdue_mask(tickets, ts("2026-11-18 00:01")))) == [3]
    assert list(np.flatnonzero(overdue_mask(tickets, ts("2026-12-09 00:00")))) == [3, 4]
    assert kpis(tickets, ts("2026-12-09 00:00"))["overdue"] == 2.0


def test_kpis_of_nothing():
    got = kpis(
        pd.DataFrame(
            {
                "request_type": pd.Series([], dtype=str),
                "received_at": pd.Series([], dtype="datetime64[ns]"),
                "closed_at": pd.Series([], dtype="datetime64[ns]"),
                "status": pd.Series([], dtype=str),
                "resolution_level": pd.Series([], dtype=str),
                "satisfaction": pd.Series([], dtype=str),
            }
        ),
        AS_OF,
    )
    assert got["issues"] == 0.0 and got["open"] == 0.0 and got["overdue"] == 0.0
    for rate in ("resolution_rate", "on_time_rate", "satisfaction_rate", "grid_level_rate"):
        assert math.isnan(got[rate])


def test_kpis_without_closed_or_rated_tickets(tickets):
    open_only = tickets.iloc[[3, 4]]
    got = kpis(open_only, AS_OF)
    assert got["resolution_rate"] == 0.0
    assert math.isnan(got["on_time_rate"])
    assert math.isnan(got["satisfaction_rate"])
    assert math.isnan(got["grid_level_rate"])


# --------------------------------------------------------------------------- filters


@pytest.mark.parametrize(
    ("flt", "expected"),
    [
        (IssueFilter(), [0, 1, 2, 3, 4, 5]),
        (IssueFilter(start=ts("2026-11-04")), [2, 3, 4, 5]),
        (IssueFilter(start=ts("2026-11-04 18:00")), [2, 3, 4, 5]),  # the whole start day
        (IssueFilter(end=ts("2026-11-16")), [0, 1, 2, 3, 5]),  # end day included (08:30)
        (IssueFilter(end=ts("2026-11-15")), [0, 1, 2, 3]),
        (IssueFilter(start=ts("2026-11-12"), end=ts("2026-11-16")), [3, 5]),
        (IssueFilter(categories=("环境卫生",)), [0, 2, 5]),
        (IssueFilter(categories=("噪音扰民", "物业管理")), [1, 4]),
        (IssueFilter(sources=("网格巡查", "群众随手拍")), [3, 5]),
        (IssueFilter(town_code=T2), [4, 5]),
        (IssueFilter(village_code=V12), [2, 3]),
        (IssueFilter(town_code=T1, categories=("环境卫生",), sources=("12345",)), [0, 2]),
        (IssueFilter(categories=("不存在",)), []),
    ],
)
def test_filter_mask(tickets, flt, expected):
    mask = filter_mask(tickets, flt)
    assert mask.dtype == bool and len(mask) == len(tickets)
    assert list(np.flatnonzero(mask)) == expected


def test_filter_mask_on_categorical_columns(tickets):
    cat = tickets.astype(
        {c: "category" for c in ("category", "source", "town_code", "village_code")}
    )
    flt = IssueFilter(town_code=T1, categories=("环境卫生",), sources=("12345",))
    assert list(np.flatnonzero(filter_mask(cat, flt))) == [0, 2]


# --------------------------------------------------------------------------- counts


@pytest.fixture
def grids() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "grid_code": [V11 + "001", V12 + "001", V12 + "002", V21 + "001", V21 + "002"],
            "residents": [2000, 500, 0, 250, 1000],
        }
    )


def test_counts_per_grid(tickets, grids):
    got = counts(tickets, grids, level="grid")
    expected = pd.DataFrame(
        {
            "grid_code": grids.grid_code,
            "residents": grids.residents,
            "count": [2, 1, 1, 1, 0],  # the unassigned ticket (grid "") is left out
            "open": [0, 0, 1, 1, 0],
            "rate_per_1000": [1.0, 2.0, np.nan, 4.0, 0.0],  # nobody lives in the third grid
        }
    )
    pd.testing.assert_frame_equal(got, expected, check_dtype=False)


def test_counts_per_village_and_town(tickets):
    villages = pd.DataFrame(
        {"village_code": [V11, V12, V21, T2 + "002"], "residents": [1000, 0, 3000, 10]}
    )
    got = counts(tickets, villages, level="village")
    assert list(got["count"]) == [2, 2, 2, 0]
    assert list(got["open"]) == [0, 1, 1, 0]
    np.testing.assert_allclose(got.rate_per_1000, [2.0, np.nan, 2 / 3, 0.0])
    towns = pd.DataFrame({"town_code": [T1, T2, "320924403"], "residents": [4000, 500, 0]})
    got = counts(tickets, towns, level="town")
    assert list(got.town_code) == [T1, T2, "320924403"]
    assert list(got["count"]) == [4, 2, 0]
    np.testing.assert_allclose(got.rate_per_1000, [1.0, 4.0, np.nan])


def test_counts_by_category(tickets, grids):
    got = counts(tickets, grids, level="grid", by=["category"])
    rows = [
        (r.grid_code[-6:], r.category if isinstance(r.category, str) else None, r.count, r.open)
        for r in got.itertuples()
    ]
    assert rows == [
        ("001001", "噪音扰民", 1, 0),
        ("001001", "环境卫生", 1, 0),
        ("002001", "环境卫生", 1, 0),
        ("002002", "市容秩序", 1, 1),
        ("001001", "物业管理", 1, 1),
        ("001002", None, 0, 0),  # a grid without issues keeps one zero row
    ]
    assert got["count"].sum() == 5
    np.testing.assert_allclose(got.rate_per_1000, [0.5, 0.5, 2.0, np.nan, 4.0, 0.0])


def test_counts_with_categorical_columns(tickets, grids):
    # assign_events returns categoricals; they must count the same as text.
    cat = tickets.astype({"grid_code": "category", "category": "category", "status": "category"})
    pd.testing.assert_frame_equal(counts(cat, grids), counts(tickets, grids))
    by_cat = counts(cat, grids, by=["category"])
    by_text = counts(tickets, grids, by=["category"])
    pd.testing.assert_frame_equal(
        by_cat.astype({"category": object}), by_text.astype({"category": object})
    )


def test_counts_unknown_level(tickets, grids):
    with pytest.raises(
        ValueError, match=r"level must be one of \['grid', 'village', 'town'\], got 'county'"
    ):
        counts(tickets, grids, level="county")
