"""``python -m geo report``: the monthly report 月度报告 of a town or the county (Excel, PDF)."""

from __future__ import annotations

import argparse
from pathlib import Path

from geo.core.errors import InputFileError


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register the ``report`` command."""
    r = sub.add_parser(
        "report",
        help="月度报告（Excel、PDF）/ monthly report of a town or the county (Excel, PDF)",
        description="生成镇（区）或全县的月度报告：Excel 工作簿与 PDF（来电人信息已脱敏）/ "
        "build the monthly report of a town or the county: an Excel workbook and a PDF "
        "(callers masked).",
    )
    r.add_argument("--month", required=True, help="月份 / month, YYYY-MM, e.g. 2026-10")
    r.add_argument(
        "--town",
        help="镇（区）编码或名称，缺省为全县 / town code or name, e.g. 320924104 or 四明镇 "
        "(default: the whole county)",
    )
    r.add_argument("--out", required=True, help="输出目录 / output folder (created if missing)")
    r.add_argument(
        "--store",
        help="GeoPackage 路径或 PostGIS URL / .gpkg path or postgresql:// URL (default: the "
        "dashboard's store: DATABASE_URL, else the demo GeoPackage)",
    )
    r.add_argument(
        "--format",
        default="xlsx,pdf",
        help="输出格式 / formats: xlsx, pdf or xlsx,pdf (default both)",
    )
    r.add_argument(
        "--lang", default="zh", choices=["zh", "en"], help="报告语言 / report language (zh)"
    )


def run(args: argparse.Namespace) -> int:
    """Run the ``report`` command: check the options, load the county, write the files."""
    from geo.loop.report import build_report, format_kpi, parse_month
    from geo.store.base import open_store
    from geo.store.county import default_store, load_county
    from geo.views.report_files import parse_formats, write_report

    formats = parse_formats(args.format)  # wrong options fail before any data is read
    month = parse_month(args.month)
    out = Path(args.out)
    if out.exists() and not out.is_dir():
        raise InputFileError(str(out), "--out is a file", "give a folder for the report files")
    if args.store:
        location = str(args.store)
        if not location.startswith(("postgresql", "postgres://")) and not Path(location).exists():
            raise InputFileError(
                location,
                "no such GeoPackage / 存储文件不存在",
                "give an existing .gpkg or a postgresql:// URL, or leave --store out",
            )
        store = open_store(location)
    else:
        store = default_store()
    county = load_county(store)
    report = build_report(county, month=month, town=args.town)
    paths = write_report(report, out, formats=formats, lang=args.lang)
    kpi = report.summary
    print(
        f"{report.scope_name} {report.month}: 受理 / received {int(kpi['issues']):,}, "
        f"按期办结率 / on-time {format_kpi('on_time_rate', kpi['on_time_rate'])}, "
        f"疑难案件 / hard cases {len(report.cases):,}"
        + (" (本月未结束 / month not over)" if report.partial else "")
    )
    for path in paths:
        print(path)
    return 0
