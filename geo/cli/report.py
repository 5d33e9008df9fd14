"""``python -m geo report``: the monthly report 月度报告 of a town or the county (Excel, PDF)."""

from __future__ import annotations

import argparse
from pathlib import Path

from geo.cli._args import account_arg, acting, both, existing_store, signed_in
from geo.core.errors import InputFileError
from geo.core.i18n import Text
from geo.core.scope import Scope


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register the ``report`` command."""
    r = sub.add_parser(
        "report",
        help=both("月度报告（Excel、PDF）", "monthly report of a town or the county (Excel, PDF)"),
        description=both(
            "生成镇（区）或全县的月度报告：Excel 工作簿与 PDF（来电人信息已脱敏）",
            "build the monthly report of a town or the county: an Excel workbook and a PDF "
            "(callers masked).",
        ),
    )
    r.add_argument("--month", required=True, help=both("月份", "month, YYYY-MM, e.g. 2026-10"))
    r.add_argument(
        "--town",
        help=both(
            "镇（区）编码或名称，缺省为全县",
            "town code or name, e.g. 320924104 or 四明镇 (default: the whole county)",
        ),
    )
    r.add_argument(
        "--out", required=True, help=both("输出目录", "output folder (created if missing)")
    )
    r.add_argument(
        "--store",
        help=both(
            "GeoPackage 路径或 PostGIS URL",
            ".gpkg path or postgresql:// URL (default: the dashboard's store: DATABASE_URL, else "
            "the demo GeoPackage)",
        ),
    )
    r.add_argument(
        "--format",
        default="xlsx,pdf",
        help=both("输出格式", "formats: xlsx, pdf or xlsx,pdf (default both)"),
    )
    r.add_argument(
        "--lang", default="zh", choices=["zh", "en"], help=both("报告语言", "report language (zh)")
    )
    account_arg(r)


def run(args: argparse.Namespace) -> int:
    """Run the ``report`` command: check the options, load the county (cut to the scope of
    ``--as``), write the files, audit the export."""
    from geo.access import Permission, record
    from geo.loop.report import build_report, format_kpi, parse_month
    from geo.store.base import open_store
    from geo.store.county import default_store, load_county
    from geo.views.report_files import parse_formats, write_report

    formats = parse_formats(args.format)  # wrong options fail before any data is read
    month = parse_month(args.month)
    out = Path(args.out)
    if out.exists() and not out.is_dir():
        raise InputFileError(
            str(out),
            Text("--out 是一个文件", "--out is a file"),
            Text("给出存放报告文件的文件夹", "give a folder for the report files"),
        )
    if args.store:
        location = existing_store(
            args.store,
            Text(
                "给出已有的 .gpkg 或 postgresql:// URL，或不指定 --store",
                "give an existing .gpkg or a postgresql:// URL, or leave --store out",
            ),
        )
        store = open_store(location)
    else:
        store = default_store()
    who = signed_in(args, store)
    scope = Scope.county()
    town = args.town
    if who is not None:
        who.require(Permission.EXPORT, Text("导出报告", "export reports"))
        scope = who.scope
        store = store.scoped(scope)
        if not town and len(who.towns) == 1:
            town = who.towns[0]  # a town leader's report is their town's
    county = load_county(store, scope=scope)
    report = build_report(county, month=month, town=town)
    paths = write_report(report, out, formats=formats, lang=args.lang)
    record(store, "export", who=acting(who),
           obj=";".join(f"file:{p.name}" for p in paths),
           detail={"report": str(report.month), "scope": report.scope_name})  # fmt: skip
    kpi = report.summary
    received, on_time = f"{int(kpi['issues']):,}", format_kpi("on_time_rate", kpi["on_time_rate"])
    said = Text(
        f"受理 {received}，按期办结率 {on_time}，疑难案件 {len(report.cases):,}"
        + ("（本月未结束）" if report.partial else ""),
        f"received {received}, on-time {on_time}, hard cases {len(report.cases):,}"
        + (" (month not over)" if report.partial else ""),
    )
    print(f"{report.scope_name} {report.month}: {said}")
    for path in paths:
        print(path)
    return 0
