"""Closed-loop KPIs of the demo county: GridGov's vectorised tables vs pandas groupby-apply.

1. All KPIs (:func:`geo.loop.lifecycle.kpi_tables`) by town, village, grid, category and routing
   platform over the ~300,000 demo tickets, as the dashboard has them (categorical codes,
   ``due_at`` computed on load): goal ≤ 0.2 s. The peer, in the same run on the same
   tickets and deadlines: the straightforward pandas way, one ``groupby(...).apply`` per
   level with a function computing each rate and the median on the group's rows. Both
   tables are compared (largest difference printed).
2. The same from scratch (no ``due_at`` column: deadlines on the Chinese working calendar
   first), and the deadlines alone: :func:`geo.core.tickets.due_at` over every ticket (one
   sorted array of working days from ``chinese_calendar``, looked up) vs a per-ticket
   loop of ``chinese_calendar.find_workday``, checked to agree. The loop takes minutes
   for 300,000 tickets (each call walks day by day and re-validates the date), so it runs
   on a random 20,000 and its time is scaled to all; ``--full`` runs it on every ticket.
3. For information: 日清, 周结 and 月过堂 (the latter with the alerts found beforehand).

Medians of 3 runs for GridGov, 1 run for the slow peers. The KPI tables must agree with the
peer's (largest difference under 1e-9) and every deadline with ``find_workday`` (exit 1
otherwise). Run with the demo GeoPackage of ``GRIDGOV_DATA_DIR`` (built on first use):
``python bench/bench_kpis.py [--full] [--quick]`` from the repository root (``--quick``: the
small county, one run, the calendar loop on 2,000 tickets).
"""

from __future__ import annotations

import time

import chinese_calendar
import numpy as np
import pandas as pd
from _demo import arguments, check, county_gpkg, median_time

from geo.core.scope import Scope
from geo.core.settings import get_settings
from geo.core.tickets import CLOSED, due_at
from geo.loop.lifecycle import (
    KPI_LEVELS,
    daily_clearance,
    kpi_tables,
    monthly_review,
    platform_of,
    weekly_summary,
)
from geo.store.base import open_store
from geo.store.county import load_county

LEVELS = ("town", "village", "grid", "category", "platform")
TOLERANCE = 1e-9


def peer_tables(issues: pd.DataFrame, as_of: pd.Timestamp) -> dict[str, pd.DataFrame]:
    """The usual pandas: per level, groupby-apply a function of the group's rows."""
    frame = issues[issues["received_at"] <= as_of].copy()
    for col in ("status", "resolution_level", "satisfaction", "category"):
        frame[col] = frame[col].astype(object)
    frame["platform"] = platform_of(frame["category"])

    def one(g: pd.DataFrame) -> pd.Series:
        closed = (g["status"] == CLOSED) & ~(g["closed_at"] > as_of)
        overdue = ~closed & (g["due_at"] < as_of)
        rated = closed & g["satisfaction"].isin(["满意", "基本满意", "不满意"])
        happy = rated & g["satisfaction"].isin(["满意", "基本满意"])
        callable_ = closed & (g["caller_phone"].fillna("") != "")
        net = closed & g["resolution_level"].isin(["网格", "村"])
        grid = closed & (g["resolution_level"] == "网格")
        first = net & (g["satisfaction"] != "不满意")
        on_time = closed & (g["closed_at"] <= g["due_at"])
        days = (g["closed_at"] - g["received_at"])[closed].dt.total_seconds() / 86_400

        def ratio(a: pd.Series, b: pd.Series) -> float:
            return float(a.sum() / b.sum()) if b.sum() else float("nan")

        return pd.Series(
            {
                "issues": len(g),
                "open": int((~closed).sum()),
                "overdue": int(overdue.sum()),
                "closed": int(closed.sum()),
                "closed_on_time": int(on_time.sum()),
                "on_time_rate": ratio(on_time, closed | overdue),
                "first_time_rate": ratio(first, closed),
                "grid_share": ratio(grid, closed),
                "net_share": ratio(net, closed),
                "callback_rate": ratio(rated & callable_, callable_),
                "satisfaction_rate": ratio(happy, rated),
                "median_close_days": float(days.median()),
            }
        )

    out = {}
    for level in LEVELS:
        key = KPI_LEVELS[level]
        column = frame[key].astype(object)
        rows = frame[column.fillna("") != ""]
        out[level] = rows.groupby(rows[key].astype(object)).apply(one)
    return out


def peer_deadlines(issues: pd.DataFrame) -> np.ndarray:
    """Per ticket: chinese_calendar.find_workday(limit, day of receipt)."""
    sla = get_settings().sla_working_days
    longest = max(sla.values())
    out = [
        chinese_calendar.find_workday(sla.get(kind, longest), stamp.date())
        for kind, stamp in zip(issues["request_type"], issues["received_at"], strict=True)
    ]
    return np.array(out, dtype="datetime64[D]")


def largest_difference(ours: dict[str, pd.DataFrame], peer: dict[str, pd.DataFrame]) -> float:
    worst = 0.0
    for level in LEVELS:
        mine = ours[level].set_index(KPI_LEVELS[level])
        theirs = peer[level]
        if set(mine.index) != set(theirs.index.astype(str)):
            raise SystemExit(f"{level}: the units differ between GridGov and the peer")
        mine = mine.loc[theirs.index.astype(str), list(theirs.columns)].to_numpy(dtype=float)
        both = theirs.to_numpy(dtype=float)
        diff = np.abs(mine - both)
        if (np.isnan(mine) != np.isnan(both)).any():
            raise SystemExit(f"{level}: NaN in one table and not in the other")
        worst = max(worst, float(np.nanmax(diff, initial=0.0)))
    return worst


def main() -> None:
    args = arguments(
        __doc__,
        add=lambda p: p.add_argument(
            "--full", action="store_true", help="the calendar loop on every ticket"
        ),
    )
    repeat = 1 if args.quick else 3
    path = county_gpkg(args.quick)
    county = load_county(open_store(path), scope=Scope.county())
    issues, as_of = county.issues, county.as_of
    print(f"{len(issues):,} tickets, as of {as_of}; levels {', '.join(LEVELS)}")

    print("== all KPIs, deadlines as loaded ==")
    t_ours, ours = median_time(lambda: kpi_tables(issues, as_of, levels=LEVELS), repeat)
    t_peer, peer = median_time(lambda: peer_tables(issues, as_of), 1)
    n_rows = sum(len(t) for t in ours.values())
    print(
        f"kpi_tables           GridGov {t_ours:7.3f} s   groupby-apply {t_peer:7.3f} s   "
        f"x{t_peer / t_ours:6.1f}   ({n_rows:,} rows; goal ≤ 0.2 s: "
        f"{'met' if t_ours <= 0.2 else 'NOT met'})"
    )
    worst = largest_difference(ours, peer)
    print(f"largest difference to the peer: {worst:.1e}")
    check(worst < TOLERANCE, f"KPI tables differ from the peer's by {worst:.1e}")

    print("== deadlines on the Chinese working calendar ==")
    bare = issues.drop(columns="due_at")
    t_scratch, _ = median_time(lambda: kpi_tables(bare, as_of, levels=LEVELS), repeat)
    print(f"kpi_tables from scratch (deadlines included) GridGov {t_scratch:7.3f} s")
    t_due, due = median_time(lambda: due_at(issues["received_at"], issues["request_type"]), repeat)
    full = args.full
    sample = 2_000 if args.quick else 20_000
    rng = np.random.default_rng(0)
    rows = np.arange(len(issues)) if full else rng.choice(len(issues), sample, replace=False)
    start = time.perf_counter()
    expected = peer_deadlines(issues.iloc[rows])
    t_loop = (time.perf_counter() - start) * len(issues) / len(rows)
    same = int((due.to_numpy().astype("datetime64[D]")[rows] == expected).sum())
    scaled = "" if full else f", timed on {len(rows):,} and scaled"
    print(
        f"due_at               GridGov {t_due:7.3f} s   find_workday loop {t_loop:7.1f} s   "
        f"x{t_loop / t_due:6.0f}   (same deadline for {same:,} of {len(rows):,} tickets"
        f"{scaled})"
    )
    check(same == len(rows), f"{len(rows) - same:,} deadlines differ from find_workday")

    print("== the rhythm (GridGov only) ==")
    from geo.hotspots.alerts import detect_alerts

    alerts = detect_alerts(issues, as_of=as_of)
    t_day, day = median_time(lambda: daily_clearance(issues, as_of), repeat)
    t_week, week = median_time(lambda: weekly_summary(issues, as_of), repeat)
    t_month, month = median_time(lambda: monthly_review(issues, as_of, alerts=alerts), repeat)
    print(f"日清 daily_clearance  {t_day:7.3f} s   {len(day):,} tickets")
    print(f"周结 weekly_summary   {t_week:7.3f} s   {len(week):,} rows")
    print(f"月过堂 monthly_review {t_month:7.3f} s   {len(month.cases):,} hard cases")


if __name__ == "__main__":
    main()
