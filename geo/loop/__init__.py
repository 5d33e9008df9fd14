"""The closed loop: lifecycle, deadlines, KPIs, 日清/周结/月过堂 and the monthly report."""

from geo.loop.lifecycle import (
    daily_clearance,
    kpi_tables,
    lifecycle,
    monthly_review,
    on_time_rate,
    weekly_summary,
)
from geo.loop.report import MonthlyReport, build_report

__all__ = [
    "MonthlyReport",
    "build_report",
    "daily_clearance",
    "kpi_tables",
    "lifecycle",
    "monthly_review",
    "on_time_rate",
    "weekly_summary",
]
