"""Known-answer tests for geo.core.workcal: the Chinese working calendar and its Mon–Fri
fallback."""

from __future__ import annotations

import datetime as dt
import sys

import chinese_calendar
import numpy as np
import pandas as pd
import pytest

from geo.core import workcal
from geo.core.tickets import due_at
from geo.core.workcal import add_workdays, coverage, covered, is_workday, workdays_between


def day(text: str) -> np.datetime64:
    return np.datetime64(text, "D")


def days(*texts: str) -> np.ndarray:
    return np.array(texts, dtype="datetime64[D]")


# --------------------------------------------------------------------------- the calendar


def test_coverage_is_the_packages_years():
    first, last = coverage()  # type: ignore[misc]
    years = sorted({d.year for d in chinese_calendar.holidays})
    assert first == day(f"{years[0]}-01-01") and last == day(f"{years[-1]}-12-31")
    assert first <= day("2025-01-01") and day("2026-12-31") <= last  # 1.9+ covers 2026


def test_every_covered_day_agrees_with_chinese_calendar():
    first, last = coverage()  # type: ignore[misc]
    every = np.arange(first, last + 1)
    expected = [chinese_calendar.is_workday(d.item()) for d in every]
    np.testing.assert_array_equal(is_workday(every), expected)
    assert covered(every).all()


@pytest.mark.parametrize(
    ("text", "worked"),
    [
        ("2025-09-28", True),  # Sunday, worked for National Day
        ("2025-09-30", True),
        ("2025-10-01", False),
        ("2025-10-04", False),
        ("2025-10-08", False),  # Wednesday, last day of the holiday
        ("2025-10-09", True),
        ("2025-10-11", True),  # Saturday, worked for National Day
        ("2025-10-12", False),
        ("2026-02-13", True),
        ("2026-02-14", True),  # Saturday, worked for Spring Festival
        ("2026-02-15", False),
        ("2026-02-16", False),
        ("2026-02-23", False),  # Monday, last day of the holiday
        ("2026-02-24", True),
        ("2026-02-28", True),  # Saturday, worked for Spring Festival
        ("2026-03-01", False),
    ],
)
def test_holidays_and_adjusted_weekends(text, worked):
    assert bool(is_workday(text)) is worked
    assert chinese_calendar.is_workday(dt.date.fromisoformat(text)) is worked


def test_whole_holidays():
    national_day = np.arange(day("2025-10-01"), day("2025-10-09"))
    spring_festival = np.arange(day("2026-02-15"), day("2026-02-24"))
    assert not is_workday(national_day).any()
    assert not is_workday(spring_festival).any()


def test_is_workday_shapes_and_nat():
    assert is_workday("2026-02-14").shape == ()
    got = is_workday(np.array([["2026-02-14", "NaT"], ["2026-02-15", "2026-02-16"]], "M8[D]"))
    np.testing.assert_array_equal(got, [[True, False], [False, False]])
    # A pandas column of times with hours: the day is what counts.
    stamps = pd.Series(pd.to_datetime(["2026-02-14 23:30", "2026-02-15 00:10", None]))
    np.testing.assert_array_equal(is_workday(stamps), [True, False, False])


# --------------------------------------------------------------------------- offsets

# (start, n, answer) worked by hand on the holiday notices; the day of receipt does not count.
OFFSETS = [
    ("2025-09-29", 3, "2025-10-10"),  # Mon: Sep 30, (Oct 1-8 off) Oct 9, Oct 10
    ("2025-09-29", 13, "2025-10-23"),  # Sep 30, Oct 9, 10, 11 (Sat), 13-17, 20-23
    ("2025-09-30", 3, "2025-10-11"),  # Tue: Oct 9, 10 and the working Saturday Oct 11
    ("2025-09-30", 13, "2025-10-24"),  # Oct 9, 10, 11, 13-17, 20-24
    ("2025-09-28", 3, "2025-10-09"),  # the working Sunday counts as a day of receipt
    ("2025-09-27", 3, "2025-10-09"),  # Sat (off) rolls to the working Sun 28: 29, 30, Oct 9
    ("2025-10-03", 3, "2025-10-13"),  # received in the holiday: rolls to Oct 9
    ("2026-02-12", 3, "2026-02-24"),  # Thu: Feb 13, 14 (Sat), (Feb 15-23 off) Feb 24
    ("2026-02-12", 13, "2026-03-09"),  # Feb 13, 14, 24-28 (28 is a Sat), Mar 2-6, Mar 9
    ("2026-02-13", 3, "2026-02-25"),  # Fri: Feb 14, 24, 25
    ("2026-02-13", 13, "2026-03-10"),  # Feb 14, 24-28, Mar 2-6, 9, 10
    ("2026-02-14", 3, "2026-02-26"),  # the working Saturday: Feb 24, 25, 26
    ("2026-02-20", 3, "2026-02-27"),  # in the holiday: rolls to Feb 24, then 25-27
    ("2026-02-25", 1, "2026-02-26"),
    ("2026-02-27", 1, "2026-02-28"),  # the day after Friday is the working Saturday
    ("2026-02-13", 0, "2026-02-13"),
    ("2026-02-15", 0, "2026-02-24"),  # n = 0 only rolls
]


def test_add_workdays_known_answers():
    start = days(*[s for s, _, _ in OFFSETS])
    n = np.array([k for _, k, _ in OFFSETS])
    np.testing.assert_array_equal(add_workdays(start, n), days(*[a for _, _, a in OFFSETS]))


def test_add_workdays_agrees_with_chinese_calendar_find_workday():
    for start, n, answer in OFFSETS:
        assert chinese_calendar.find_workday(n, dt.date.fromisoformat(start)) == (
            dt.date.fromisoformat(answer)
        )


def test_add_workdays_random_dates_against_find_workday():
    rng = np.random.default_rng(7)
    first = day("2004-02-01")
    start = first + rng.integers(0, (day("2026-10-31") - first).astype(int), 3000)
    n = rng.integers(-15, 25, 3000)
    got = add_workdays(start, n)
    expected = [
        chinese_calendar.find_workday(int(k), d.item()) for d, k in zip(start, n, strict=True)
    ]
    np.testing.assert_array_equal(got, np.array(expected, dtype="datetime64[D]"))


def test_add_workdays_many_dates_take_the_per_day_path():
    # 20,000 receipts over a few weeks: answered per day, then gathered; same answers.
    rng = np.random.default_rng(3)
    start = day("2026-02-01") + rng.integers(0, 40, 20_000)
    fast = add_workdays(start, 3)
    slow = np.array([add_workdays(d, 3) for d in start[:500]])
    np.testing.assert_array_equal(fast[:500], slow)
    np.testing.assert_array_equal(
        fast[:500],
        np.array([chinese_calendar.find_workday(3, d.item()) for d in start[:500]], "M8[D]"),
    )


def test_add_workdays_roll_backward_and_negative():
    assert add_workdays("2026-02-20", 0, roll="backward") == day("2026-02-14")
    assert add_workdays("2026-02-20", 1, roll="backward") == day("2026-02-24")
    assert add_workdays("2026-02-24", -1) == day("2026-02-14")
    assert add_workdays("2025-10-09", -2) == day("2025-09-29")


def test_add_workdays_broadcasts_and_keeps_nat():
    got = add_workdays(days("2026-02-13", "NaT")[:, None], [1, 6])
    assert got.dtype == np.dtype("datetime64[D]") and got.shape == (2, 2)
    np.testing.assert_array_equal(got[0], days("2026-02-14", "2026-02-28"))
    assert np.isnat(got[1]).all()
    assert np.isnat(add_workdays("NaT", 3))
    assert add_workdays(np.array([], "M8[D]"), 3).shape == (0,)


def test_add_workdays_refuses_another_roll():
    with pytest.raises(ValueError, match=r"roll must be one of \['forward', 'backward'\], got 'x'"):
        add_workdays("2026-02-13", 1, roll="x")


def test_workdays_between():
    start = days("2026-11-20", "2026-02-13", "2025-09-30", "2026-02-25", "2026-02-25", "NaT")
    end = days("2026-11-24", "2026-02-25", "2025-10-11", "2026-02-25", "2026-02-13", "2026-01-01")
    got = workdays_between(start, end)
    np.testing.assert_array_equal(got[:5], [2, 3, 3, 0, -3])
    assert np.isnan(got[5])
    # The inverse of add_workdays from a working day.
    for start_text, n, answer in OFFSETS:
        if is_workday(start_text):
            assert workdays_between(start_text, answer) == n


def test_due_at_uses_the_chinese_calendar():
    received = pd.Series(
        pd.to_datetime(
            ["2025-09-30 10:00", "2025-09-30 10:00", "2026-02-13 16:00", "2026-02-13 00:00"]
        )
    )
    types = pd.Series(["咨询", "投诉", "求助", "举报"])
    got = due_at(received, types)
    end = pd.Timedelta(hours=23, minutes=59, seconds=59)
    assert list(got) == [
        pd.Timestamp(d) + end for d in ("2025-10-11", "2025-10-24", "2026-02-25", "2026-03-10")
    ]


# --------------------------------------------------------------------------- the fallback


def test_outside_the_packages_years_falls_back_to_monday_to_friday():
    _, last = coverage()  # type: ignore[misc]
    later = np.arange(last + 1, last + 400)
    assert not covered(later).any()
    mon_fri = np.is_busday(later)
    np.testing.assert_array_equal(is_workday(later), mon_fri)
    np.testing.assert_array_equal(add_workdays(later, 13), np.busday_offset(later, 13, "forward"))
    earlier = np.arange(day("1995-01-01"), day("1996-01-01"))
    np.testing.assert_array_equal(is_workday(earlier), np.is_busday(earlier))
    assert not covered(days("NaT")).any()


def test_a_deadline_running_out_of_the_covered_years():
    # Thu 2026-12-31 + 3: Fri 2027-01-01 counts on the fallback (a real holiday, unknown yet).
    assert add_workdays("2026-12-31", 3) == day("2027-01-05")
    assert add_workdays("2003-12-31", 3) == day("2004-01-06")  # into 2004: New Year is off


def test_far_dates_do_not_crash():
    assert add_workdays("2350-06-01", 3) == np.busday_offset("2350-06-01", 3, "forward")
    assert bool(is_workday("1800-01-01")) == bool(np.is_busday("1800-01-01"))


@pytest.fixture
def without_chinese_calendar(monkeypatch):
    """The module as if ``chinesecalendar`` were not installed; restored afterwards."""
    monkeypatch.setitem(sys.modules, "chinese_calendar", None)  # import raises ImportError
    monkeypatch.setattr(workcal, "_official", None)
    monkeypatch.setattr(workcal, "_table", None)
    yield
    workcal._official = None
    workcal._table = None


def test_without_the_package_everything_is_monday_to_friday(without_chinese_calendar):
    assert coverage() is None
    assert not covered(days("2026-02-16")).any()
    assert bool(is_workday("2026-02-16"))  # a holiday, but Monday
    assert not bool(is_workday("2026-02-14"))  # an adjusted Saturday, unknown here
    assert add_workdays("2026-02-13", 3) == day("2026-02-18")
