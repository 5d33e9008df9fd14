"""Known-answer tests for geo.core.tickets: the 12345 deadline of a ticket."""

from __future__ import annotations

import pandas as pd

from geo.core.tickets import due_at, with_deadlines


def ts(text: str) -> pd.Timestamp:
    return pd.Timestamp(text)


def eod(day: str) -> pd.Timestamp:
    """End of a working day: the deadline's time of day."""
    return pd.Timestamp(day) + pd.Timedelta(hours=23, minutes=59, seconds=59)


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


def test_with_deadlines_adds_due_at_to_a_copy():
    issues = pd.DataFrame(
        {
            "received_at": pd.to_datetime(["2026-11-16 08:00", "2026-11-20 09:00"]),
            "request_type": ["咨询", "投诉"],
        },
        index=["a", "b"],
    )
    got = with_deadlines(issues)
    assert "due_at" not in issues.columns
    assert list(got.index) == ["a", "b"]
    assert list(got.due_at) == [eod("2026-11-19"), eod("2026-12-09")]
    short = with_deadlines(issues, {"咨询": 1})  # 投诉 not named: the longest limit, 1 day
    assert list(short.due_at) == [eod("2026-11-17"), eod("2026-11-23")]


def test_one_row_per_ticket_keeps_the_last_row_of_each_ticket():
    from geo.core.tickets import one_row_per_ticket

    rows = pd.DataFrame(
        {
            "ticket_id": ["A", "B", "A ", None, "", None, "C"],
            "status": ["处理中", "已办结", "已办结", "x", "y", "z", "处理中"],
        }
    )
    kept, repeated = one_row_per_ticket(rows)
    assert repeated == 1  # "A " is ticket A again; blank ids repeat nothing
    assert kept["status"].tolist() == ["已办结", "已办结", "x", "y", "z", "处理中"]
    same, none = one_row_per_ticket(rows.iloc[[1, 6]])
    assert none == 0 and same is not None and len(same) == 2
