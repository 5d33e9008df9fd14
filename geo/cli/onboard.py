"""``python -m geo onboard``: a real county moves in — its grid layer (and whatever else it
has) checked and written into an empty store, with the county's code, name and metric CRS.

Exit 0 when the county was written, 1 when the grid check found errors (nothing written),
2 when a file or the store cannot be used (as every command).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from geo.cli._args import COLUMNS_HELP, both, operator
from geo.core.i18n import Text
from geo.core.settings import get_settings
from geo.intake.onboard import OnboardReport, onboard_county
from geo.store.base import StoreError
from geo.store.county import open_county_store

_LAYER_OPTIONS = (
    (
        "villages",
        "村(居)边界（缺省：由网格合并）",
        "village polygons (default: dissolved from grids)",
    ),
    (
        "towns",
        "镇(区)边界（缺省：由网格合并）",
        "town polygons (default: dissolved from the grids)",
    ),
    (
        "households",
        "住户点（缺省：以网格人口代替，记为近似）",
        "household points (default: the grids' residents stand in; population approximate)",
    ),
    ("service_points", "服务设施点", "service points"),
    ("outline", "县域边界（缺省：网格的并集）", "county outline (default: the union of the grids)"),
)


def add_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg,unused-ignore]
    """Register the ``onboard`` command."""
    o = sub.add_parser(
        "onboard",
        help=both("接入一个真实县：检查网格并写入存储", "onboard a real county into a store"),
        description=both(
            "检查网格图层，补齐缺少的图层（村居、镇、住户、县界由网格推出，并给出提醒），"
            "县编码、县名和投影坐标系写入存储的 meta 表。一次写入，全部成功或全不写入。",
            "check the grid layer, complete the missing layers (villages, towns, households and "
            "the outline made from the grids, with a warning each) and write the county's code, "
            "name and metric CRS into the store's meta table, in one write: all of it or none.",
        ),
    )
    o.add_argument("--grids", required=True, help=both("网格文件（必填）", "grid file (required)"))
    for name, zh, en in _LAYER_OPTIONS:
        o.add_argument(f"--{name.replace('_', '-')}", dest=name, help=both(zh, en))
    o.add_argument("--columns", default="", help=COLUMNS_HELP)
    o.add_argument(
        "--coords",
        default="wgs84",
        choices=["wgs84", "gcj02", "bd09", "cgcs2000"],
        help=both("经纬度坐标系", "lon/lat system of point tables (a coord_sys column wins)"),
    )
    o.add_argument(
        "--file-crs",
        dest="file_crs",
        help=both("文件无坐标系时假定", "CRS to assume for a file that carries none"),
    )
    o.add_argument(
        "--county-code",
        help=both("县编码（缺省：网格编码前6位）", "county code (default: inferred)"),
    )
    o.add_argument("--county-name", help=both("县名", "county name (default: the code)"))
    o.add_argument("--county-name-en", help=both("县名（英文）", "county name in English"))
    o.add_argument(
        "--crs",
        help=both(
            "存储和量算用的投影坐标系（缺省：县中心经度所在的3度带）",
            "metric CRS to store and measure in (default: the CGCS2000 3-degree Gauss-Kruger "
            "zone of the county's longitude)",
        ),
    )
    o.add_argument(
        "--store",
        required=True,
        help=both("GeoPackage 路径或 PostGIS URL", ".gpkg path or postgresql:// URL"),
    )
    o.add_argument(
        "--replace",
        action="store_true",
        help=both("替换存储中已有的县", "replace the county the store holds"),
    )
    o.add_argument("--seed", type=int, default=0, help=both("随机种子", "seed of stand-in points"))
    o.add_argument("--json", action="store_true", help=both("输出 JSON", "print one JSON summary"))


def run(args: argparse.Namespace) -> int:
    """Onboard the county; print the summary; 0 written, 1 blocked by the grid check."""
    location = str(args.store)
    is_url = location.startswith(("postgresql", "postgres://"))
    if not is_url and Path(location).suffix.lower() != ".gpkg":
        raise StoreError(
            Text(
                f"--store {location}：应为 .gpkg 文件或 postgresql:// URL",
                f"--store {location}: give a .gpkg file or a postgresql:// URL",
            )
        )
    store = open_county_store(location, schema=get_settings().db_schema)
    report = onboard_county(
        args.grids,
        store=store,
        villages=args.villages,
        towns=args.towns,
        households=args.households,
        service_points=args.service_points,
        outline=args.outline,
        county_code=args.county_code,
        county_name=args.county_name,
        county_name_en=args.county_name_en,
        metric_crs=args.crs,
        columns=args.columns,
        crs=args.file_crs,
        coords=args.coords,
        replace=args.replace,
        seed=args.seed,
        who=operator(),
    )
    if args.json:
        print(json.dumps(report.as_dict(), ensure_ascii=False, indent=1))
    else:
        _print(report)
    return 0 if report.written else 1


def _print(report: OnboardReport) -> None:
    county = f"{report.county_name}（{report.county_code}，{report.metric_crs}）"
    if report.written:
        print(
            Text(
                f"{county}：{report.grids} 个网格、{report.villages} 个村(居)、{report.towns} "
                f"个镇(区)、{report.households} 个住户点、{report.service_points} 个设施点 → "
                f"{report.store_location}（网格版本 {report.version}）",
                f"{report.county_name} ({report.county_code}, {report.metric_crs}): "
                f"{report.grids} grids, {report.villages} villages, {report.towns} towns, "
                f"{report.households} household points, {report.service_points} service points "
                f"→ {report.store_location} (grid version {report.version})",
            )
        )
        if report.replaced:
            print(
                Text(
                    f"已替换原有图层：{', '.join(report.replaced)}",
                    f"replaced the store's layers: {', '.join(report.replaced)}",
                )
            )
    else:
        print(
            Text(
                f"{county}：网格检查发现 {len(report.errors)} 个错误，未写入任何数据",
                f"{report.county_name} ({report.county_code}): the grid check found "
                f"{len(report.errors)} error(s); nothing was written",
            )
        )
    for p in report.problems:
        print(f"{p.severity.upper():7} {p.feature:20} [{p.code}] {p.message} — {p.hint}")
