"""Known-answer tests for geo.hotspots.alerts: surges, repeat complaints, bursts, masking and
order."""

from __future__ import annotations

import math
import re
from collections.abc import Sequence

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from geopandas.testing import assert_geodataframe_equal

from geo.core.errors import InputProblems
from geo.hotspots.alerts import (
    ALERT_COLUMNS,
    BURST,
    REPEAT_CALLER,
    REPEAT_PLACE,
    SURGE,
    AlertSettings,
    detect_alerts,
    normalise_phones,
)

AS_OF = pd.Timestamp("2026-11-20 23:59:59")
T0 = pd.Timestamp("2026-11-10 09:00")
X0, Y0 = 540_000.0, 3_740_000.0  # somewhere in Sheyang, EPSG:4549 metres
H, D = pd.Timedelta(hours=1), pd.Timedelta(days=1)
LONG = AlertSettings(lookback_days=3650)  # report every cluster of the small fixtures
#: The place rule as these tests were worked out: 3 reporters (the product default of 5 and a
#: custom setting are tested with place_rows).
THREE = AlertSettings(place_min_reporters=3)

METRIC_CRS = "EPSG:4549"  # the test data's CRS (Sheyang's zone)


def frame(rows: Sequence[dict], *, crs: str | None = METRIC_CRS) -> gpd.GeoDataFrame:
    """Issues from short dicts: id, at, cat, dx/dy (metres from X0, Y0; None: no point), phone,
    name, grid (village and town follow from it), sub."""
    records, points = [], []
    for row in rows:
        grid = row.get("grid", "G1")
        records.append(
            {
                "ticket_id": row["id"],
                "received_at": pd.Timestamp(row["at"]),
                "category": row.get("cat", "噪音扰民"),
                "subcategory": row.get("sub", ""),
                "caller_name": row.get("name", ""),
                "caller_phone": row.get("phone", ""),
                "grid_code": grid,
                "village_code": "V" + grid,
                "town_code": "T" + grid,
            }
        )
        dx = row.get("dx", 0.0)
        points.append(None if dx is None else shapely.Point(X0 + dx, Y0 + row.get("dy", 0.0)))
    return gpd.GeoDataFrame(records, geometry=points, crs=crs)


def of_kind(alerts: pd.DataFrame, kind: str) -> pd.DataFrame:
    return alerts[alerts["kind"] == kind].reset_index(drop=True)


def poisson_sf(k: int, lam: float) -> float:
    """P(X >= k) for X ~ Poisson(lam), by the textbook sum (a reference independent of scipy)."""
    return 1 - sum(math.exp(-lam) * lam**i / math.factorial(i) for i in range(k))


# --------------------------------------------------------------------------- phones


def test_normalise_phones():
    phones = pd.Series(
        ["+86 138-6123-4567", "008613861234567", "13861234567", None, "12345", "0515-88881234"]
    )
    assert normalise_phones(phones).tolist() == [
        "13861234567",
        "13861234567",
        "13861234567",
        "",
        "",
        "051588881234",
    ]
    assert normalise_phones(pd.Series([13861234567.0, np.nan])).tolist() == ["13861234567", ""]


# --------------------------------------------------------------------------- repeat: caller


def caller_calls(offsets: Sequence[pd.Timedelta], *, phone: str = "13861234567") -> list[dict]:
    """Calls by one caller, each 1 km from the others (so no place rule can fire)."""
    return [
        {"id": f"C{i}", "at": T0 + off, "phone": phone, "name": "周建华", "dx": 1000.0 * i}
        for i, off in enumerate(offsets)
    ]


@pytest.mark.parametrize(
    ("offsets", "flagged"),
    [
        ([0 * D, 15 * D, 30 * D], ["C0", "C1", "C2"]),  # first to last exactly 30 days
        ([0 * D, 15 * D, 30 * D + pd.Timedelta(seconds=1)], []),  # one second too long
        # 4 calls within 31 days, but no 3 of them within 30 days
        ([0 * D, 0.5 * D, 30.5 * D, 31 * D], []),
        # two overlapping windows (C0-C2 and C1-C3), one alert; at 31 d C3 would be left out
        ([0 * D, 0.5 * D, 29.5 * D, 30.5 * D], ["C0", "C1", "C2", "C3"]),
        ([0 * D, 0.5 * D, 29.5 * D, 31 * D], ["C0", "C1", "C2"]),
        ([0 * D, 1 * D], []),
    ],
)
def test_same_caller_in_30_days(offsets, flagged):
    alerts = of_kind(
        detect_alerts(frame(caller_calls(offsets)), as_of=T0 + 40 * D, settings=LONG),
        REPEAT_CALLER,
    )
    assert [list(ids) for ids in alerts["ticket_ids"]] == ([flagged] if flagged else [])


def test_overlapping_windows_give_one_alert_and_gaps_give_two():
    offsets = [k * 5 * D for k in range(6)] + [100 * D, 101 * D, 102 * D]  # 0..25 d, then 100..102
    alerts = of_kind(
        detect_alerts(frame(caller_calls(offsets)), as_of=AS_OF + 200 * D, settings=LONG),
        REPEAT_CALLER,
    )
    assert sorted(map(list, alerts["ticket_ids"])) == [
        ["C0", "C1", "C2", "C3", "C4", "C5"],
        ["C6", "C7", "C8"],
    ]
    first = alerts.sort_values("first_at").iloc[0]
    assert (first["first_at"], first["last_at"], first["n_events"]) == (T0, T0 + 25 * D, 6)
    assert first["n_reporters"] == 1


def test_same_caller_whatever_the_phone_format_but_not_across_categories():
    calls = caller_calls([0 * D, 1 * D, 2 * D, 3 * D])
    calls[1]["phone"] = "+86 138 6123 4567"
    calls[2]["phone"] = "0086-138-6123-4567"
    calls[3]["cat"] = "环境卫生"
    for call in calls:
        call["dx"] = None  # no location needed for this rule
    alerts = of_kind(detect_alerts(frame(calls), as_of=AS_OF), REPEAT_CALLER)
    assert [list(ids) for ids in alerts["ticket_ids"]] == [["C0", "C1", "C2"]]
    assert alerts.loc[0, "category"] == "噪音扰民"


def test_different_callers_are_not_one_caller():
    calls = caller_calls([0 * D, 1 * D, 2 * D])
    calls[2]["phone"] = "13900000000"
    assert of_kind(detect_alerts(frame(calls), as_of=AS_OF), REPEAT_CALLER).empty


# --------------------------------------------------------------------------- repeat: place


def test_same_place_needs_three_different_reporters_within_50_m():
    rows = [
        {"id": "A", "at": T0, "phone": "13800000001", "dx": 0.0},
        {"id": "B", "at": T0 + 3 * D, "phone": "13800000002", "dx": 30.0},
        {"id": "C", "at": T0 + 6 * D, "dx": 0.0, "dy": 50.0},  # no phone: a reporter of its own
        {"id": "E", "at": T0 + 4 * D, "phone": "13800000003", "dx": 0.0, "dy": -50.5},
        {"id": "F", "at": T0 + 4 * D, "phone": "13800000004", "dx": 10.0, "cat": "环境卫生"},
    ]
    alerts = of_kind(detect_alerts(frame(rows), as_of=AS_OF, settings=THREE), REPEAT_PLACE)
    assert [list(ids) for ids in alerts["ticket_ids"]] == [["A", "B", "C"]]  # not E, not F
    row = alerts.iloc[0]
    assert (row["n_events"], row["n_reporters"], row["grid_code"]) == (3, 3, "G1")
    assert row["centre_x"] == pytest.approx(X0 + 10.0)
    assert row["centre_y"] == pytest.approx(Y0 + 50.0 / 3)


def place_rows(n: int) -> list[dict]:
    """``n`` different callers, one a day, 5 m apart on a line (too slow for a burst)."""
    return [
        {"id": f"P{i}", "at": T0 + i * D, "phone": f"1380000001{i}", "dx": 5.0 * i}
        for i in range(n)
    ]


@pytest.mark.parametrize(("reporters", "fires"), [(4, False), (5, True)])
def test_same_place_by_default_needs_five_reporters(reporters, fires):
    assert AlertSettings().place_min_reporters == 5  # the product default this test is about
    alerts = detect_alerts(frame(place_rows(reporters)), as_of=AS_OF)
    assert set(alerts["kind"]) == ({REPEAT_PLACE} if fires else set())
    if fires:
        row = alerts.iloc[0]
        assert list(row["ticket_ids"]) == [f"P{i}" for i in range(5)]
        assert (row["n_events"], row["n_reporters"]) == (5, 5)
        assert row["evidence"].zh.endswith("（规则：50 米内、30 天内 ≥5 个不同来电人或上报人）。")
        assert row["evidence"].en.endswith(
            "(rule: ≥5 different callers or reporters within 50 m and 30 days)."
        )


@pytest.mark.parametrize(("reporters", "fires"), [(6, False), (7, True)])
def test_same_place_follows_a_custom_number_of_reporters(reporters, fires):
    seven = AlertSettings(place_min_reporters=7)
    alerts = of_kind(
        detect_alerts(frame(place_rows(reporters)), as_of=AS_OF, settings=seven), REPEAT_PLACE
    )
    assert len(alerts) == (1 if fires else 0)
    if fires:
        assert alerts.iloc[0]["n_reporters"] == 7
        assert "≥7 个不同来电人或上报人" in alerts.iloc[0]["evidence"].zh


def test_one_caller_at_one_place_is_not_a_place_alert():
    rows = [
        {"id": f"S{i}", "at": T0 + i * D, "phone": "13800000001", "dx": float(i)} for i in range(5)
    ]
    rows.append({"id": "O", "at": T0 + 2 * D, "phone": "13800000002", "dx": 5.0})
    alerts = detect_alerts(frame(rows), as_of=AS_OF)
    assert of_kind(alerts, REPEAT_PLACE).empty  # 2 reporters only
    assert [list(ids) for ids in of_kind(alerts, REPEAT_CALLER)["ticket_ids"]] == [
        ["S0", "S1", "S2", "S3", "S4"]
    ]


def test_same_place_counts_unknown_callers_and_respects_the_30_days():
    rows = [{"id": f"P{i}", "at": T0 + i * 15 * D, "dx": 0.0} for i in range(3)]  # 0, 15, 30 d
    alerts = of_kind(detect_alerts(frame(rows), as_of=AS_OF + 30 * D, settings=THREE), REPEAT_PLACE)
    assert [list(ids) for ids in alerts["ticket_ids"]] == [["P0", "P1", "P2"]]
    rows[2]["at"] = T0 + 30 * D + pd.Timedelta(seconds=1)
    assert of_kind(
        detect_alerts(frame(rows), as_of=AS_OF + 30 * D, settings=THREE), REPEAT_PLACE
    ).empty


def test_a_street_of_complaints_is_cut_into_places_not_chained():
    """30 reporters 20 m apart on a line, one a day: a chain of 580 m, but places of <= 160 m.

    Ticket i at x = 20 i on day i; a seed's window holds i-2..i+2 (5 reporters). Strongest
    first (5 reporters, then latest): seed 27 takes 25..29 and, one hop, the windows of seeds
    23..29, so 21..29; then seed 18 (12..20), seed 9 (3..11) and seed 0 (0..2) remain.
    """
    rows = [{"id": f"S{i:02d}", "at": T0 + i * D, "dx": 20.0 * i} for i in range(30)]
    alerts = of_kind(detect_alerts(frame(rows), as_of=T0 + 30 * D, settings=THREE), REPEAT_PLACE)
    assert [list(ids) for ids in alerts["ticket_ids"]] == [
        [f"S{i:02d}" for i in range(21, 30)],
        [f"S{i:02d}" for i in range(12, 21)],
        [f"S{i:02d}" for i in range(3, 12)],
        ["S00", "S01", "S02"],
    ]
    assert alerts["extent_m"].max() == pytest.approx(80.0)


# --------------------------------------------------------------------------- burst


def burst_rows(fifth_dx: float, *, last: pd.Timedelta = 4 * H) -> list[dict]:
    """Four wage-arrears calls at the factory gate (x <= 0) and a fifth ``fifth_dx`` m east."""
    near = [(0.0, 0.0), (-5.0, 0.0), (0.0, 5.0), (-3.0, -4.0)]
    rows = [
        {
            "id": f"B{i}",
            "at": T0 + i * H,
            "cat": "劳动保障",
            "sub": "欠薪讨薪",
            "phone": f"1380000000{i}",
            "name": f"王{i}",
            "dx": dx,
            "dy": dy,
            "grid": "G1" if i < 3 else "G2",
        }
        for i, (dx, dy) in enumerate(near)
    ]
    rows.append(
        {
            "id": "B4",
            "at": T0 + last,
            "cat": "劳动保障",
            "sub": "欠薪讨薪",
            "phone": "13800000009",
            "name": "王九",
            "dx": fifth_dx,
            "grid": "G2",
        }
    )
    return rows


@pytest.mark.parametrize(("fifth_dx", "fires"), [(299.0, True), (300.0, True), (301.0, False)])
def test_burst_of_five_within_300_m(fifth_dx, fires):
    alerts = of_kind(detect_alerts(frame(burst_rows(fifth_dx)), as_of=AS_OF), BURST)
    if not fires:
        assert alerts.empty
        return
    assert len(alerts) == 1
    row = alerts.iloc[0]
    assert list(row["ticket_ids"]) == ["B0", "B1", "B2", "B3", "B4"]
    assert (row["first_at"], row["last_at"]) == (T0, T0 + 4 * H)
    assert (row["grid_code"], row["village_code"], row["town_code"]) == ("G1", "VG1", "TG1")
    assert row["centre_x"] == pytest.approx(X0 + (0 - 5 + 0 - 3 + fifth_dx) / 5)
    assert row["centre_y"] == pytest.approx(Y0 + (0 + 0 + 5 - 4 + 0) / 5)
    extent = math.hypot(fifth_dx - row["centre_x"] + X0, row["centre_y"] - Y0)
    assert row["extent_m"] == pytest.approx(extent)
    assert row["evidence"].zh == (
        f"2026-11-10 09:00 至 13:00（4.0 小时）在距中心 {extent:.0f} 米内出现 5 件“劳动保障”类"
        "诉求（欠薪讨薪 5 件），来自 5 个不同来电人或上报人，疑似群体性事件苗头"
        "（规则：300 米内、6 小时内 ≥5 个不同来电人或上报人）。"
    )
    assert row["evidence"].en.endswith(
        "from 5 different callers or reporters: a possible group incident "
        "(rule: ≥5 different callers or reporters within 300 m and 6 h)."
    )


@pytest.mark.parametrize(
    ("last", "fires"), [(6 * H, True), (6 * H + pd.Timedelta(seconds=1), False)]
)
def test_burst_within_6_hours(last, fires):
    alerts = of_kind(detect_alerts(frame(burst_rows(0.0, last=last)), as_of=AS_OF), BURST)
    assert len(alerts) == (1 if fires else 0)


def test_burst_needs_one_category_and_different_people():
    rows = burst_rows(0.0)
    rows[4]["cat"] = "环境卫生"
    assert of_kind(detect_alerts(frame(rows), as_of=AS_OF), BURST).empty
    rows = burst_rows(0.0)
    for row in rows:
        row["phone"] = "13800000001"
    alerts = detect_alerts(frame(rows), as_of=AS_OF)
    assert of_kind(alerts, BURST).empty
    assert len(of_kind(alerts, REPEAT_CALLER)) == 1


def test_a_long_burst_is_one_alert_and_a_later_one_another():
    rows = [
        {
            "id": f"L{i}",
            "at": T0 + i * 75 * pd.Timedelta(minutes=1),
            "cat": "劳动保障",
            "dx": 10.0 * i,
        }
        for i in range(8)  # every 75 min for 8 h 45 min: overlapping 6-hour windows
    ]
    rows += [{"id": f"M{i}", "at": T0 + 2 * D + i * H, "cat": "劳动保障"} for i in range(5)]
    alerts = of_kind(detect_alerts(frame(rows), as_of=AS_OF), BURST)
    assert [list(ids) for ids in alerts["ticket_ids"]] == [
        [f"M{i}" for i in range(5)],  # newest first
        [f"L{i}" for i in range(8)],
    ]


# --------------------------------------------------------------------------- surge


def surge_rows() -> list[dict]:
    """Known weekly counts per grid and category (no locations: only the surge rule applies)."""
    rows: list[dict] = [{"id": "ANCHOR", "at": AS_OF - 200 * D, "grid": "G0", "cat": "其他"}]

    def add(grid: str, cat: str, per_week: int, current: int) -> None:
        for week in range(1, 13):  # baseline: an hour into each of the 12 previous weeks
            for k in range(per_week):
                at = AS_OF - week * 7 * D - H - k * pd.Timedelta(minutes=1)
                rows.append({"id": f"{grid}{cat}w{week}k{k}", "at": at, "grid": grid, "cat": cat})
        for k in range(current):
            at = AS_OF - (k + 1) * H
            rows.append({"id": f"{grid}{cat}now{k}", "at": at, "grid": grid, "cat": cat})

    add("G1", "环境卫生", 2, 10)  # mean 2, p = P(X>=10 | 2) = 4.6e-5: surge
    add("G1", "噪音扰民", 0, 4)  # 4 < min count 5 (p = 1.8e-3 too)
    add("G2", "环境卫生", 0, 5)  # λ floored to 0.5, p = 1.7e-4, ratio 10: surge
    add("G3", "市容秩序", 20, 40)  # ratio exactly 2, p = 5.3e-5: surge
    add("G4", "市容秩序", 20, 39)  # ratio 1.95: no
    add("G5", "交通出行", 2, 6)  # p = 0.017: no
    add("G6", "物业管理", 0, 4)  # plus the two window-edge tickets below: 5 this week
    rows.append(
        {
            "id": "EDGE_IN",
            "at": AS_OF - 7 * D + pd.Timedelta(seconds=1),
            "grid": "G6",
            "cat": "物业管理",
        }
    )
    rows.append({"id": "EDGE_OUT", "at": AS_OF - 7 * D, "grid": "G6", "cat": "物业管理"})
    rows += [
        {"id": f"LATE{k}", "at": AS_OF + pd.Timedelta(seconds=1), "grid": "G7"} for k in range(6)
    ]  # after as_of: ignored
    for row in rows:
        row["dx"] = None
    return rows


def surge_row(alerts: pd.DataFrame, grid: str, category: str) -> pd.Series:
    """The one alert of ``grid`` and ``category``."""
    rows = alerts[(alerts["grid_code"] == grid) & (alerts["category"] == category)]
    assert len(rows) == 1
    return rows.iloc[0]


@pytest.fixture(scope="module")
def surge_issues() -> gpd.GeoDataFrame:
    return frame(surge_rows())


def test_surge_known_answers(surge_issues):
    alerts = of_kind(detect_alerts(surge_issues, as_of=AS_OF), SURGE)
    table = alerts.set_index(["grid_code", "category"]).sort_index()
    assert list(table.index) == [
        ("G1", "环境卫生"),
        ("G2", "环境卫生"),
        ("G3", "市容秩序"),
        ("G6", "物业管理"),
    ]
    assert table["n_events"].tolist() == [10, 5, 40, 5]
    assert table["baseline_mean"].tolist() == pytest.approx([2.0, 0.0, 20.0, 1 / 12])
    assert table["ratio"].tolist() == pytest.approx([5.0, 10.0, 2.0, 10.0])
    expected_p = [poisson_sf(10, 2.0), poisson_sf(5, 0.5), poisson_sf(40, 20.0), poisson_sf(5, 0.5)]
    assert table["p_value"].tolist() == pytest.approx(expected_p, rel=1e-9)
    edge = surge_row(alerts, "G6", "物业管理")["ticket_ids"]
    assert "EDGE_IN" in edge and "EDGE_OUT" not in edge
    g1 = surge_row(alerts, "G1", "环境卫生")
    assert g1["evidence"].zh == (
        "该网格截至 2026-11-20 的近7天“环境卫生”类诉求 10 件，为前12周周均 2.0 件的 5.0 倍"
        "（单侧泊松检验 p=4.6e-05，阈值 p<0.001）。"
    )
    assert g1["evidence"].en.startswith(
        "10 “环境卫生” issues in this grid in the 7 days to 2026-11-20, 5.0× the weekly mean "
        "of 2.0 over the previous 12 weeks"
    )
    assert (g1["first_at"], g1["last_at"]) == (AS_OF - 10 * H, AS_OF - H)


def test_surge_p_threshold_is_strict(surge_issues):
    found = of_kind(detect_alerts(surge_issues, as_of=AS_OF), SURGE)
    p = float(found.loc[found["grid_code"] == "G1", "p_value"].iloc[0])
    at = AlertSettings(surge_p_max=p)
    above = AlertSettings(surge_p_max=float(np.nextafter(p, 1.0)))
    g1 = ("G1", "环境卫生")

    def flagged(settings: AlertSettings) -> bool:
        alerts = of_kind(detect_alerts(surge_issues, as_of=AS_OF, settings=settings), SURGE)
        return g1 in set(zip(alerts["grid_code"], alerts["category"], strict=True))

    assert not flagged(at)
    assert flagged(above)


def test_surge_of_grid_totals(surge_issues):
    settings = AlertSettings(surge_by_category=False)
    alerts = of_kind(detect_alerts(surge_issues, as_of=AS_OF, settings=settings), SURGE)
    counts = dict(zip(alerts["grid_code"], alerts["n_events"], strict=True))
    assert counts == {"G1": 14, "G2": 5, "G3": 40, "G6": 5}  # G1: 10 + 4 against 2 a week
    assert set(alerts["category"]) == {""}


def test_no_surge_without_a_whole_week_of_history():
    rows = [{"id": f"N{k}", "at": AS_OF - k * H, "dx": None} for k in range(20)]
    assert of_kind(detect_alerts(frame(rows), as_of=AS_OF), SURGE).empty


# --------------------------------------------------------------------------- the table


def mixed_rows() -> list[dict]:
    calls = caller_calls([0 * D, 2 * D, 4 * D])  # 周建华, last call T0 + 4 d
    burst = burst_rows(100.0)  # last call T0 + 4 h
    for row in burst:
        row["at"] = pd.Timestamp(row["at"]) + 6 * D
        row["dx"] += 5000.0
    return calls + burst


def test_caller_data_is_masked_and_never_leaks():
    rows = mixed_rows()
    alerts = detect_alerts(frame(rows), as_of=AS_OF, settings=THREE)
    assert set(alerts["kind"]) == {REPEAT_CALLER, REPEAT_PLACE, BURST}
    caller = of_kind(alerts, REPEAT_CALLER).iloc[0]
    assert caller["caller"] == "周** 138****4567"
    assert "同一来电人（周** 138****4567）" in caller["evidence"].zh
    assert "The same caller (周** 138****4567) called 3 times" in caller["evidence"].en
    secrets = {r["name"] for r in rows if r.get("name")} | {r["phone"] for r in rows}
    secrets.add("6123")  # the hidden middle digits of 周建华's number
    cells = [str(v) for v in alerts.to_numpy().ravel()]
    cells += [t for ids in alerts["ticket_ids"] for t in ids]
    leaks = [(s, c) for s in secrets for c in cells if s in c]
    assert not leaks


def test_newest_first_with_stable_ids():
    issues = frame(mixed_rows())
    alerts = detect_alerts(issues, as_of=AS_OF, settings=THREE)
    assert list(alerts.columns) == ALERT_COLUMNS
    assert alerts["last_at"].is_monotonic_decreasing
    assert alerts["alert_id"].is_unique
    assert alerts["kind"].tolist() == [BURST, REPEAT_PLACE, REPEAT_CALLER]
    assert alerts["alert_id"].str.match(r"^(BU|RP|RC)-[0-9a-f]{12}$").all()
    shuffled = issues.sample(frac=1.0, random_state=1)
    pd.testing.assert_frame_equal(detect_alerts(shuffled, as_of=AS_OF, settings=THREE), alerts)
    # The caller's cluster keeps its id as it grows with a fourth call.
    fourth = {"id": "C9", "at": T0 + 6 * D, "phone": "13861234567", "name": "周建华", "dx": 0.0}
    grown = frame([*mixed_rows(), fourth])
    later = of_kind(detect_alerts(grown, as_of=AS_OF, settings=THREE), REPEAT_CALLER).iloc[0]
    assert later["n_events"] == 4
    assert later["alert_id"] == of_kind(alerts, REPEAT_CALLER).loc[0, "alert_id"]


def test_lookback_and_as_of():
    issues = frame(caller_calls([0 * D, 1 * D, 2 * D]))  # last call on 2026-11-12 09:00
    # Reported while the last call is less than 30 days old: (as_of - 30 d, as_of].
    assert len(detect_alerts(issues, as_of=T0 + 32 * D - pd.Timedelta(seconds=1))) == 1
    assert detect_alerts(issues, as_of=T0 + 32 * D).empty
    assert detect_alerts(issues, as_of=T0 + 1 * D).empty  # the third call is in the future
    assert len(detect_alerts(issues, as_of=T0 + 2 * D)) == 1
    burst = frame(burst_rows(0.0))  # last call T0 + 4 h; also a place alert (B0-B3)
    assert (
        of_kind(
            detect_alerts(burst, as_of=T0 + 4 * H + 30 * D - pd.Timedelta(seconds=1)), BURST
        ).shape[0]
        == 1
    )
    assert detect_alerts(burst, as_of=T0 + 4 * H + 30 * D).empty


def test_empty_result_has_the_columns():
    alerts = detect_alerts(frame(caller_calls([0 * D])), as_of=AS_OF)
    assert alerts.empty
    assert list(alerts.columns) == ALERT_COLUMNS
    assert pd.api.types.is_datetime64_any_dtype(alerts["last_at"])


def test_categorical_codes_and_tz_aware_times_give_the_same_answer():
    issues = frame(mixed_rows())
    plain = detect_alerts(issues, as_of=AS_OF)
    other = issues.copy()
    for col in ("grid_code", "village_code", "town_code", "category"):
        other[col] = other[col].astype("category")
    other["received_at"] = other["received_at"].dt.tz_localize("Asia/Shanghai").dt.tz_convert("UTC")
    pd.testing.assert_frame_equal(
        detect_alerts(other, as_of=AS_OF.tz_localize("Asia/Shanghai")), plain
    )


def test_the_callers_frame_is_not_modified():
    issues = frame(mixed_rows())
    issues["grid_code"] = issues["grid_code"].astype("category")
    before = issues.copy()
    detect_alerts(issues, as_of=AS_OF)
    assert_geodataframe_equal(issues, before)


def test_every_input_problem_is_reported_at_once():
    issues = frame(caller_calls([0 * D])).to_crs("EPSG:4326").drop(columns=["caller_phone"])
    issues["received_at"] = issues["received_at"].astype(str)
    with pytest.raises(InputProblems) as info:
        detect_alerts(issues, as_of="not a time", settings=AlertSettings(place_radius_m=0))
    text = "\n".join(info.value.problems)
    assert len(info.value.problems) == 5
    for part in (
        r"settings\.place_radius_m must be a number > 0, got 0",
        r"as_of must be a time .* got 'not a time'",
        r"lack the column\(s\) \['caller_phone'\]",
        r"issues is in EPSG:4326, not a metric CRS \(metres\); project it first, "
        r"e\.g\. issues\.to_crs\('EPSG:4549'\)",
        r"received_at must be datetime64, got .*pandas\.to_datetime",
    ):
        assert re.search(part, text), part


def test_duplicate_ticket_ids_and_missing_crs():
    issues = frame(caller_calls([0 * D, 1 * D]))
    issues.loc[1, "ticket_id"] = "C0"
    with pytest.raises(InputProblems, match=r"1 duplicated ticket_id value\(s\), e\.g\. \['C0'\]"):
        detect_alerts(issues, as_of=AS_OF)
    with pytest.raises(InputProblems, match=r"no CRS.*set_crs\('EPSG:4549'\)"):
        detect_alerts(frame(caller_calls([0 * D]), crs=None), as_of=AS_OF)


# --------------------------------------------------------------------------- the demo county


def test_demo_finds_the_planted_burst_and_repeat_caller(demo_county):
    """What the planting guarantees for any seed: P5 is 12 hotline calls (random phone numbers)
    within 150 m of one point and 4 hours, inside the burst rule (300 m, 6 hours, 5 reporters);
    P6 is one caller 9 times within 25 days, inside the caller rule (3 within 30 days)."""
    raw = demo_county.layers["issues"]
    columns = [
        "ticket_id",
        "received_at",
        "category",
        "subcategory",
        "caller_name",
        "caller_phone",
        "grid_code",
        "village_code",
        "town_code",
        "geometry",
    ]
    issues = gpd.GeoDataFrame(raw[columns].copy(), geometry="geometry", crs=raw.crs)
    for col in ("category", "subcategory", "grid_code", "village_code", "town_code"):
        issues[col] = issues[col].astype("category")  # as geo.store.county.load_county has them
    alerts = detect_alerts(issues, as_of=AS_OF)

    p5 = set(raw.loc[raw["demo_pattern"] == "P5", "ticket_id"])
    bursts = of_kind(alerts, BURST)
    hit = bursts[bursts["ticket_ids"].map(lambda ids: p5 <= set(ids))]
    assert len(p5) == 12 and len(hit) == 1
    # named after a grid holding most of the planted calls (the alert breaks ties by code)
    held = raw.loc[raw["demo_pattern"] == "P5", "grid_code"].value_counts()
    assert hit.iloc[0]["grid_code"] in set(held.index[held == held.max()])
    assert hit.iloc[0]["category"] == "劳动保障"

    p6 = set(raw.loc[raw["demo_pattern"] == "P6", "ticket_id"])
    callers = of_kind(alerts, REPEAT_CALLER)
    hit = callers[callers["ticket_ids"].map(lambda ids: p6 <= set(ids))]
    assert len(p6) == 9 and len(hit) == 1
    assert hit.iloc[0]["caller"] == "周** 138****4567"
    assert hit.iloc[0]["n_events"] == 9

    assert not alerts.astype(str).apply(lambda c: c.str.contains("13861234567|周建华")).any().any()
    for kind, group in alerts.groupby("kind"):
        tickets = [t for ids in group["ticket_ids"] for t in ids]
        assert len(tickets) == len(set(tickets)), f"a ticket in two {kind} alerts"
    print("\nalerts on the demo at", AS_OF, alerts["kind"].value_counts().to_dict())
    print(
        "P5 burst:",
        bursts.loc[bursts["ticket_ids"].map(lambda ids: p5 <= set(ids)), "evidence"].iloc[0].zh,
    )
    print("P6 caller:", hit.iloc[0]["evidence"].zh)
