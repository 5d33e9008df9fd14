"""Known-answer tests for geo.grids.aggregate: filters and counts per unit."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from geo.core.tickets import CLOSED
from geo.grids.aggregate import IssueFilter, counts, filter_mask

T1, T2 = "320924101", "320924102"
V11, V12, V21 = T1 + "001", T1 + "002", T2 + "001"


def ts(text: str) -> pd.Timestamp:
    return pd.Timestamp(text)


@pytest.fixture
def tickets() -> pd.DataFrame:
    """Six tickets; their deadlines and states as of Fri 2026-11-20 18:00 for reference.

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
