"""``python -m geo intake``: take one 12345 / patrol / petition / transfer export into the store."""

from __future__ import annotations

import argparse
import getpass
import json
import sys

from geo.cli._args import COLUMNS_HELP, both, existing_store
from geo.core.i18n import Text


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register the ``intake`` command."""
    from geo.intake.ingest import COORD_SYSTEMS, SOURCES

    p = sub.add_parser(
        "intake",
        help=both("接入工单导出文件（12345、巡查、信访、移交）", "take in a ticket export"),
        description=both(
            "读取平台导出的工单表（标题行、合并单元格、多个工作表、GBK 均可），按来源+工单编号"
            "新增或更新，问题行进入待处理区，每个文件记入台账。",
            "read a platform's ticket export (title rows, merged cells, several sheets, GBK "
            "all fine); tickets are added or updated by source + ticket id, rows with problems "
            "go to the quarantine, and every file is entered in the ledger.",
        ),
    )
    p.add_argument("file", help=both("导出文件", "the export (.xlsx, .xls, .csv)"))
    p.add_argument(
        "--store",
        required=True,
        help=both("GeoPackage 路径或 PostGIS URL", ".gpkg path or postgresql:// URL"),
    )
    p.add_argument(
        "--source", required=True, choices=list(SOURCES), help=both("工单来源", "ticket source")
    )
    p.add_argument(
        "--columns",
        default="",
        help=COLUMNS_HELP + both("（缺省：该来源上次的映射）", " (default: the source's last one)"),
    )
    p.add_argument(
        "--coords",
        choices=list(COORD_SYSTEMS),
        help=both(
            "经纬度的坐标系（缺省：该来源上次所用，否则 WGS84）",
            "coordinate system of lon/lat (default: the source's last, else WGS84)",
        ),
    )
    p.add_argument("--sheet", help=both("只读此工作表", "read this sheet only"))
    p.add_argument(
        "--header-row", type=int, help=both("表头所在行（从 1 起）", "the header's row (from 1)")
    )
    p.add_argument("--user", help=both("经办人（记入台账）", "who takes it in (for the ledger)"))
    p.add_argument("--json", action="store_true", help=both("输出 JSON", "print JSON"))


def run(args: argparse.Namespace) -> int:
    """Run ``intake``: 0 when the file was read (quarantined rows included), 2 when not."""
    from geo.intake.ingest import intake_file
    from geo.store.county import open_county_store
    from geo.store.readers import parse_columns

    location = existing_store(
        args.store,
        Text(
            "先接入县域：python -m geo onboard --grids … --store FILE.gpkg",
            "onboard the county first: python -m geo onboard --grids … --store FILE.gpkg",
        ),
    )
    result = intake_file(
        args.file,
        store=open_county_store(location),
        source=args.source,
        columns=parse_columns(args.columns) or None,
        coords=args.coords,
        sheet=args.sheet,
        header_row=args.header_row,
        user=args.user or getpass.getuser(),
    )
    if args.json:
        print(json.dumps(result.summary(), ensure_ascii=False, indent=2, default=str))
    else:
        for sheet in result.sheets:
            name = sheet["sheet"] or "CSV"
            print(
                Text(
                    f"{name}：表头第 {sheet['header_row']} 行，{sheet['rows']} 行，"
                    f"合计行 {sheet['total_rows']}，入库 {sheet['landed']}，"
                    f"待处理 {sheet['set_aside']}",
                    f"{name}: header on row {sheet['header_row']}, {sheet['rows']} rows, "
                    f"{sheet['total_rows']} total rows, {sheet['landed']} landed, "
                    f"{sheet['set_aside']} set aside",
                )
            )
        print(
            Text(
                f"{result.file}：共 {result.rows_in} 行 = 新增 {result.new} + 更新 "
                f"{result.updated} + 未变 {result.unchanged} + 待处理 {result.quarantined} + "
                f"合计行 {result.skipped_total_rows}（台账 {result.intake_id}）",
                f"{result.file}: {result.rows_in} rows = {result.new} new + {result.updated} "
                f"updated + {result.unchanged} unchanged + {result.quarantined} quarantined + "
                f"{result.skipped_total_rows} total rows (ledger {result.intake_id})",
            )
        )
    if result.coord_check is not None and result.coord_warning:
        print(f"{Text('提醒', 'warning')}: {result.coord_check}", file=sys.stderr)
    if result.quarantined:
        print(
            Text(
                f"{result.quarantined} 行待处理：在“数据接入”页查看并更正后重新导入",
                f"{result.quarantined} row(s) in the quarantine: fix them on the Data intake "
                "page and import them again",
            ),
            file=sys.stderr,
        )
    return 0
