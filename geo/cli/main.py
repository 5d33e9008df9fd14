"""Command line: ``python -m geo demo | check-grids | assign | hotspots | alerts | coverage |
site | import | intake | grids | report`` (中文 / English)."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from geo.cli import grids as cli_grids
from geo.cli import intake as cli_intake
from geo.cli import onboard as cli_onboard
from geo.cli import report as cli_report
from geo.cli import users as cli_users
from geo.cli._args import COLUMNS_HELP, both
from geo.core.errors import GridGovError, InputFileError, InputProblems
from geo.core.i18n import Text
from geo.core.settings import get_settings

if TYPE_CHECKING:
    import geopandas as gpd

    from geo.services.network import RoadNetwork


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m geo",
        description=both(
            "GridGov 网格治理一张图 命令行。GeoPackage 多图层按标准图层名读取（grids、issues…），"
            "或用 FILE.gpkg:layer 指定。",
            "GridGov command line. A multi-layer GeoPackage is read by the standard layer name "
            "unless FILE.gpkg:layer.",
        ),
    )
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    d = sub.add_parser(
        "demo", help=both("生成射阳示例县（合成数据）", "build the synthetic Sheyang demo")
    )
    d.add_argument("--seed", type=int, default=0, help=both("随机种子", "random seed (default 0)"))
    d.add_argument("--out", default="data/cache", help=both("输出目录", "output folder"))
    d.add_argument(
        "--store",
        help=both(
            "写入此存储（须为空）",
            "write into this store instead (must hold no grids): FILE.gpkg or "
            "postgresql+psycopg://…",
        ),
    )
    d.add_argument("--schema", default="", help=both("PostGIS 模式", "PostgreSQL schema (--store)"))

    c = sub.add_parser("check-grids", help=both("检查网格图层", "validate a grid layer"))
    c.add_argument("file", help=both("网格文件", "grid file (gpkg, shp, zip, geojson, parquet)"))
    c.add_argument("--columns", default="", help=COLUMNS_HELP)
    c.add_argument(
        "--outline", help=both("县域或镇域边界，用于查空隙", "outline to find gaps against")
    )
    c.add_argument(
        "--villages", help=both("村(居)边界", "village polygons (checks grids span one)")
    )
    c.add_argument("--crs", help=both("文件无坐标系时假定", "CRS to assume when the file has none"))
    c.add_argument("--json", action="store_true", help=both("输出 JSON", "print JSON"))

    a = sub.add_parser("assign", help=both("事件落格", "assign events to grids"))
    _events_args(a)
    a.add_argument(
        "--out", required=True, help=both("输出文件", "output (csv, xlsx, gpkg, geojson)")
    )

    h = sub.add_parser(
        "hotspots", help=both("热点分析（Gi*、FDR、时空模式）", "hot spots per grid")
    )
    _events_args(h)
    h.add_argument("--from", dest="start", help=both("开始日期", "first day (YYYY-MM-DD)"))
    h.add_argument("--to", dest="end", help=both("结束日期", "last day (YYYY-MM-DD)"))
    h.add_argument(
        "--category", default="", help=both("类别，逗号分隔", "categories, comma-separated")
    )
    h.add_argument("--source", default="", help=both("来源，逗号分隔", "sources, comma-separated"))
    h.add_argument(
        "--by",
        default="week",
        choices=["week", "month"],
        help=both("时空分箱", "time bins for emerging hot spots"),
    )
    h.add_argument(
        "--value",
        default="excess",
        choices=["excess", "eb", "eb_spatial", "rate", "count"],
        help=both(
            "检验的量：超出按居民数应有的件数（缺省）、经验贝叶斯平滑率、空间平滑率、千人率、原始件数",
            "what Gi* tests: the excess over the count expected for residents (default), "
            "Empirical-Bayes rates, spatial EB rates, rates per 1,000, or raw counts",
        ),
    )
    h.add_argument(
        "--inference",
        default="analytic",
        choices=["analytic", "permutation"],
        help=both(
            "显著性：正态近似+FDR（缺省，ArcGIS 方法）或条件置换+FDR",
            "significance: analytic z with FDR (default, the ArcGIS method) or conditional "
            "permutations with FDR",
        ),
    )
    h.add_argument(
        "--neighbours",
        default="queen",
        metavar="queen|rook|knn:K|distance:M|FILE.gal",
        help=both(
            "邻域：共边或共点（缺省）、仅共边、最近 K 个、M 米内，或 GAL/GWT 权重文件",
            "neighbours: shared edge or corner (default), shared edge only, the K nearest, "
            "within M metres, or a GAL/GWT weights file",
        ),
    )
    h.add_argument(
        "--min-neighbours",
        type=int,
        default=0,
        help=both("每个网格至少的邻居数（不足时补最近的）", "at least this many neighbours each"),
    )
    h.add_argument(
        "--time-step",
        type=int,
        default=1,
        help=both("时空邻域包含的前几期（缺省 1）", "neighbourhood time step in bins (default 1)"),
    )
    h.add_argument(
        "--window",
        default="neighborhood",
        choices=["neighborhood", "individual", "cube"],
        help=both(
            "时空模式的全局窗口：邻近时段（缺省）、当期、全部时段",
            "global window of the patterns over time (ArcGIS's: neighbourhood time step, "
            "individual time step, entire cube)",
        ),
    )
    h.add_argument(
        "--scan",
        type=int,
        default=999,
        metavar="REPLICATIONS",
        help=both("扫描统计的随机模拟次数（0：不做）", "scan statistic replications (0: no scan)"),
    )
    h.add_argument("--permutations", type=int, default=9999, help=both("置换次数", "permutations"))
    h.add_argument("--seed", type=int, default=0, help=both("随机种子", "random seed"))
    h.add_argument(
        "--out", required=True, help=both("输出文件", "output (csv, xlsx, gpkg, geojson)")
    )

    w = sub.add_parser("alerts", help=both("预警：激增、重复投诉、群体性苗头", "early warnings"))
    _events_args(w)
    w.add_argument("--as-of", dest="as_of", help=both("截至时间", "now (default: the last ticket)"))
    w.add_argument(
        "--lang",
        default="zh",
        choices=["zh", "en"],
        help=both("依据的语言", "language of the evidence"),
    )
    w.add_argument("--out", required=True, help=both("输出文件", "output (csv, xlsx)"))

    v = sub.add_parser(
        "coverage",
        help=both("15分钟服务圈覆盖率", "15-minute service coverage per grid, village, town"),
    )
    _service_args(v, default_type=None)
    v.add_argument(
        "--by",
        default="grid",
        choices=["grid", "village", "town", "county"],
        help=both("汇总层级", "level of the rows (default grid)"),
    )
    v.add_argument(
        "--out", required=True, help=both("输出文件", "output (csv, xlsx, gpkg, geojson)")
    )

    s = sub.add_parser("site", help=both("新增服务点选址", "propose new service points"))
    _service_args(s, default_type=get_settings().service_types[0].name)
    s.add_argument(
        "--villages", help=both("村(居)边界", "village polygons (for --candidates villages)")
    )
    s.add_argument(
        "--candidates",
        default="grids",
        metavar="grids|villages|FILE",
        help=both(
            "候选点：网格内点、村(居)中心或点文件",
            "candidate sites: a point inside each grid (default), each village's centre (needs "
            "--villages) or the points of FILE",
        ),
    )
    goal = s.add_mutually_exclusive_group(required=True)
    goal.add_argument(
        "--new",
        type=int,
        metavar="K",
        help=both("新增 K 处，覆盖最多居民", "K new sites covering the most residents (MCLP)"),
    )
    goal.add_argument(
        "--target",
        type=float,
        metavar="SHARE",
        help=both(
            "达到该覆盖率的最少新增点", "fewest new sites reaching this share, e.g. 0.85 (LSCP)"
        ),
    )
    s.add_argument(
        "--exact",
        action="store_true",
        help=both("CBC 精确求解", "solve exactly with CBC, not greedy"),
    )
    s.add_argument("--out", required=True, help=both("输出文件", "output (.gpkg or .csv)"))

    i = sub.add_parser("import", help=both("导入数据到存储", "import layers into the store"))
    for name in ("towns", "villages", "grids", "households", "service_points", "issues"):
        i.add_argument(
            f"--{name.replace('_', '-')}", dest=name, help=both(f"{name} 文件", f"{name} file")
        )
    i.add_argument(
        "--store",
        required=True,
        help=both("GeoPackage 路径或 PostGIS URL", ".gpkg path or postgresql:// URL"),
    )
    i.add_argument(
        "--replace",
        action="store_true",
        help=both(
            "替换存储中已有的同名图层（原图层另存为 <图层>_before_<时间>，可恢复）；新工单请用 "
            "python -m geo intake",
            "replace layers the store already holds (the old ones are kept as "
            "<layer>_before_<time>, recoverable); for new tickets use python -m geo intake",
        ),
    )
    _reading_args(i)

    cli_grids.add_parser(sub)
    cli_report.add_parser(sub)
    cli_intake.add_parser(sub)
    cli_onboard.add_parser(sub)
    cli_users.add_parser(sub)
    return p


def _events_args(p: argparse.ArgumentParser) -> None:
    """``--grids`` and ``--events`` plus the reading options."""
    p.add_argument("--grids", required=True, help=both("网格文件", "grid file"))
    p.add_argument("--events", required=True, help=both("事件文件", "events (csv, xlsx, gpkg, …)"))
    _reading_args(p)


def _service_args(p: argparse.ArgumentParser, *, default_type: str | None) -> None:
    """Inputs and travel options of ``coverage`` and ``site`` plus the reading options.

    ``default_type`` None means every essential type together.
    """
    from geo.services.coverage import ALL_ESSENTIAL, ENGINES

    cfg = get_settings()
    names = "、".join(t.name for t in cfg.service_types)
    speeds = ", ".join(f"{m} {v:g} km/h" for m, v in cfg.travel_speeds_kmh.items())
    p.add_argument("--grids", required=True, help=both("网格文件", "grid file"))
    p.add_argument("--services", required=True, help=both("服务设施点", "service points file"))
    p.add_argument("--households", required=True, help=both("住户点", "household points file"))
    p.add_argument(
        "--type",
        default=default_type or ALL_ESSENTIAL,
        help=both(
            f"服务类型：{names}"
            + ("" if default_type else f"，或 {ALL_ESSENTIAL}（全部基本服务类型）")
            + f"（缺省 {default_type or ALL_ESSENTIAL}）",
            f"service type: {names}"
            + ("" if default_type else f" or {ALL_ESSENTIAL} (every essential type)")
            + f" (default {default_type or ALL_ESSENTIAL})",
        ),
    )
    p.add_argument(
        "--minutes",
        type=float,
        help=both("目标分钟数", "target minutes (default: the type's own, 15 or 10)"),
    )
    p.add_argument(
        "--mode",
        default="walk",
        choices=list(cfg.travel_speeds_kmh),
        help=both(f"出行方式（{speeds}）", f"travel mode ({speeds})"),
    )
    p.add_argument(
        "--engine",
        default="line",
        choices=list(ENGINES),
        help=both(
            "直线×绕行系数，或道路网络",
            "straight line × detour factor, or shortest paths on --roads (default line)",
        ),
    )
    p.add_argument(
        "--roads",
        help=both("道路图层", "road lines for --engine network (gpkg, shp, zip, osm.pbf)"),
    )
    p.add_argument(
        "--detour",
        type=float,
        help=both(
            "绕行系数",
            f"detour factor of the line engine (default {cfg.detour_factor:g}; 1 = plain circles)",
        ),
    )
    _reading_args(p)


def _reading_args(p: argparse.ArgumentParser) -> None:
    """``--coords``, ``--columns`` and ``--crs``, shared by every command that reads files."""
    p.add_argument(
        "--coords",
        default="wgs84",
        choices=["wgs84", "gcj02", "bd09", "cgcs2000"],
        help=both("经纬度坐标系", "lon/lat system (a coord_sys column wins)"),
    )
    p.add_argument("--columns", default="", help=COLUMNS_HELP)
    p.add_argument("--crs", help=both("文件无坐标系时假定", "CRS to assume when a file has none"))


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; returns the exit code (0 ok, 1 problems found, 2 bad input)."""
    args = _parser().parse_args(argv)
    try:
        return int(_COMMANDS[args.command](args))
    except (GridGovError, ValueError) as exc:
        print(f"{Text('错误', 'error')}: {exc}", file=sys.stderr)
        return 2


def _demo(args: argparse.Namespace) -> int:
    from geo.demo import add_demo_accounts, build_demo, demo_layers
    from geo.store.base import StoreError, open_store

    def progress(fraction: float, message: Text) -> None:
        print(f"[{fraction:4.0%}] {message}", file=sys.stderr)

    if not args.store:
        print(build_demo(args.out, seed=args.seed, progress=progress))
        return 0
    store = open_store(args.store, schema=args.schema or get_settings().db_schema)
    if "grids" in store.layers():
        raise StoreError(
            Text(
                f"{store.location} 已有网格数据，示例县只写入空的存储",
                f"{store.location} already holds grids; the demo county is written only into an "
                "empty store",
            )
        )
    store.write(demo_layers(seed=args.seed, progress=progress))
    add_demo_accounts(store)
    print(store.location)
    return 0


def _check_grids(args: argparse.Namespace) -> int:
    from geo.grids.validate import validate_grids
    from geo.store.readers import read_layer, read_outline

    grids = read_layer(args.file, "grids", columns=args.columns, crs=args.crs)
    outline = read_outline(args.outline, crs=args.crs) if args.outline else None
    villages = (
        read_layer(args.villages, "villages", columns=args.columns, crs=args.crs)
        if args.villages
        else None
    )
    report = validate_grids(grids, outline=outline, villages=villages)
    if args.json:
        print(
            json.dumps(
                {
                    "grids": report.n_grids,
                    "errors": len(report.errors),
                    "warnings": len(report.warnings),
                    "problems": [p.as_dict() for p in report.problems],
                },
                ensure_ascii=False,
                indent=1,
            )
        )
    else:
        print(
            Text(
                f"{report.n_grids} 个网格：{len(report.errors)} 个错误，{len(report.warnings)} "
                "个提醒",
                f"{report.n_grids} grids: {len(report.errors)} error(s), {len(report.warnings)} "
                "warning(s)",
            )
        )
        for p in report.problems:
            print(f"{p.severity.upper():7} {p.feature:20} [{p.code}] {p.message} — {p.hint}")
    return 0 if report.ok else 1


def _assign(args: argparse.Namespace) -> int:
    from geo.core.privacy import mask_callers
    from geo.grids.assign import assign_events
    from geo.store.readers import read_layer, write_output

    grids = read_layer(args.grids, "grids", columns=args.columns, crs=args.crs)
    events = read_layer(
        args.events, "issues", columns=args.columns, coords=args.coords, crs=args.crs
    )
    result = assign_events(events, grids)
    out = events.drop(columns=[c for c in result.columns if c in events.columns])
    for col in result.columns:
        out[col] = result[col].astype(str).to_numpy()
    if "coord_problem" in out.columns:
        specific = out["coord_problem"].fillna("") != ""
        out.loc[specific, "assign_problem"] = out.loc[specific, "coord_problem"]
        out = out.drop(columns="coord_problem")
    n_bad = int((out["assign_problem"] != "").sum())
    out["assign_problem"] = out["assign_problem"].map(_problem_words)  # for people, both languages
    path = write_output(mask_callers(out), args.out, layer="issues")  # never in full
    said = Text(
        f"{len(out)} 行：{len(out) - n_bad} 已落格，{n_bad} 未落格（原因见 assign_problem）",
        f"{len(out)} rows: {len(out) - n_bad} assigned, {n_bad} set aside with a reason (see "
        "assign_problem)",
    )
    print(f"{said} → {path}")
    return 0


def _problem_words(code: str) -> str:
    """An ``assign_problem`` code in both languages (``""`` stays empty)."""
    from geo.grids.assign import problem_words

    words = problem_words(code)
    return code if words is None else str(words)


def _read_assigned(args: argparse.Namespace) -> tuple[Any, Any]:
    """Grids and events from the command line, events assigned to grids."""
    from geo.core.tickets import one_row_per_ticket
    from geo.grids.assign import assign_events
    from geo.store.readers import read_layer

    grids = read_layer(args.grids, "grids", columns=args.columns, crs=args.crs)
    events = read_layer(
        args.events, "issues", columns=args.columns, coords=args.coords, crs=args.crs
    )
    missing = [c for c in ("received_at",) if c not in events.columns]
    if missing:
        raise ValueError(
            Text(
                f"{args.events}：缺少列 {missing[0]}，请用 --columns 指定",
                f"{args.events}: no column {missing[0]}; map it with --columns",
            )
        )
    events["received_at"] = pd.to_datetime(events["received_at"], errors="coerce")
    events, repeated = one_row_per_ticket(events)
    if repeated:
        print(
            Text(
                f"{args.events}：{repeated} 行重复已列出的工单号，每张工单只计一次（取最后一行）",
                f"{args.events}: {repeated} row(s) repeat a ticket id already listed; each ticket "
                "counts once (its last row)",
            ),
            file=sys.stderr,
        )
    for col in ("status", "category", "source"):  # optional in an export; counts need them
        if col not in events.columns:
            events[col] = ""
    assigned = assign_events(events, grids)
    for col in assigned.columns:
        events[col] = assigned[col].to_numpy()
    if "residents" not in grids.columns:
        grids["residents"] = np.nan
    return grids, events


def _split(text: str) -> tuple[str, ...]:
    """``a,b，c`` → ``("a", "b", "c")`` (ASCII or full-width commas)."""
    return tuple(x.strip() for x in text.replace("，", ",").split(",") if x.strip())


def _hotspots(args: argparse.Namespace) -> int:
    from geo.grids.aggregate import IssueFilter
    from geo.hotspots.emerging import emerging_hotspots, space_time_cube
    from geo.hotspots.outliers import space_time_outliers
    from geo.store.readers import write_output
    from geo.views.hotspots import hotspot_table

    grids, events = _read_assigned(args)
    flt = IssueFilter(
        start=pd.Timestamp(args.start) if args.start else None,
        end=pd.Timestamp(args.end) if args.end else None,
        categories=_split(args.category),
        sources=_split(args.source),
    )
    weights = _weights(args, grids)
    history = IssueFilter(categories=flt.categories, sources=flt.sources)
    cube = space_time_cube(events, weights, freq=args.by, flt=history, end=flt.end)
    space_time = {"time_step": args.time_step, "global_window": args.window}
    emerging = emerging_hotspots(cube, weights, **space_time)
    outliers = space_time_outliers(cube, weights, permutations=999, seed=args.seed, **space_time)
    table = hotspot_table(
        events,
        grids,
        flt,
        weights=weights,
        emerging=emerging,
        permutations=args.permutations,
        seed=args.seed,
        value=args.value,
        inference=args.inference,
    )
    columns = [
        "grid_code",
        "count",
        "expected",
        "ratio",
        "rate_per_1000",
        "value",
        "gi_z",
        "p_norm",
        "p_sim",
        "p_fdr",
        "hotspot_class",
        "lisa_type",
        "emerging_category",
        "trend_tau",
        "trend_p",
    ]
    over_time = emerging.to_frame()[["grid_code", "n_hot_bins", "n_cold_bins"]].merge(
        outliers.to_frame(), on="grid_code"
    )
    out = grids[["grid_code", "geometry"]].assign(grid_code=lambda g: g.grid_code.astype(str))
    out = out.merge(table[columns], on="grid_code").merge(over_time, on="grid_code")
    if args.scan:
        out = out.merge(_scan_columns(table, grids, args), on="grid_code", how="left")
    path = write_output(out, args.out, layer="hotspots")
    hot = int(out.hotspot_class.str.startswith("hot").sum())
    print(
        f"{Text(f'{len(out)} 个网格，{hot} 个热点', f'{len(out)} grids, {hot} hot spots')} → {path}"
    )
    return 0


def _weights(args: argparse.Namespace, grids: Any) -> Any:
    """The weights of ``--neighbours`` and ``--min-neighbours``."""
    from geo.hotspots.local import grid_weights

    spec = str(args.neighbours).strip()
    kind, _, number = spec.partition(":")
    extra = {"min_neighbours": args.min_neighbours}
    if kind in ("queen", "rook") and not number:
        return grid_weights(grids, method="rook" if kind == "rook" else "queen", **extra)
    if kind == "knn" and number.isdigit():
        return grid_weights(grids, method="knn", k=int(number), **extra)
    if kind == "distance" and number.replace(".", "", 1).isdigit():
        return grid_weights(grids, method="distance_band", threshold_m=float(number), **extra)
    if spec.lower().endswith((".gal", ".gwt")):
        return grid_weights(grids, method="file", path=spec, **extra)
    raise ValueError(
        Text(
            f"--neighbours {spec}：应为 queen、rook、knn:K、distance:米数 或 .gal/.gwt 文件",
            f"--neighbours {spec}: give queen, rook, knn:K, distance:METRES or a .gal/.gwt file",
        )
    )


def _scan_columns(table: Any, grids: Any, args: argparse.Namespace) -> pd.DataFrame:
    """``scan_cluster`` (1 = most likely; empty outside a cluster) and ``scan_p`` per grid."""
    from geo.views.scan_view import grid_scan

    found = grid_scan(table["grid_code"], table["count"], table["expected"], grids,
                      replications=args.scan, seed=args.seed)  # fmt: skip
    frame = found.to_frame()[["grid_code", "cluster", "p_value"]]
    return frame.rename(columns={"cluster": "scan_cluster", "p_value": "scan_p"})


def _alerts(args: argparse.Namespace) -> int:
    from geo.core.i18n import pick
    from geo.hotspots.alerts import detect_alerts
    from geo.store.readers import write_output

    _, events = _read_assigned(args)
    as_of = pd.Timestamp(args.as_of) if args.as_of else events["received_at"].max()
    alerts = detect_alerts(events, as_of=as_of)
    alerts["ticket_ids"] = alerts["ticket_ids"].map(",".join)
    alerts["evidence"] = alerts["evidence"].map(lambda e: pick(e, args.lang))
    path = write_output(alerts, args.out, layer="alerts")
    print(f"{Text(f'{len(alerts)} 条预警', f'{len(alerts)} warnings')} → {path}")
    return 0


@dataclass
class _ServiceInputs:
    """What ``coverage`` and ``site`` read: layers in EPSG:4549 and the travel minutes.

    Attributes
    ----------
    grids, households
        The layers; households carry ``grid_code`` (and the village and town codes the files
        give) when placed.
    access
        :func:`geo.services.coverage.service_access` for the chosen type(s), one column per type.
    kinds
        The access columns: the chosen type, or every essential type.
    minutes
        Target minutes (None: each essential type its own).
    network
        The road network of ``--engine network``, else None.
    """

    grids: gpd.GeoDataFrame
    households: gpd.GeoDataFrame
    access: pd.DataFrame
    kinds: list[str]
    minutes: float | None
    network: RoadNetwork | None


def _service_choice(args: argparse.Namespace, *, one_type: bool) -> tuple[list[str], float | None]:
    """Check ``--type``, ``--minutes``, ``--engine``/``--roads`` and ``--detour`` before any file
    is read; return the access columns needed and the target minutes."""
    from geo.services.coverage import ALL_ESSENTIAL
    from geo.views.services import service_minutes

    cfg = get_settings()
    names = [t.name for t in cfg.service_types]
    if args.type == ALL_ESSENTIAL and one_type:
        raise ValueError(
            Text(
                f"--type {ALL_ESSENTIAL}：选址针对单一服务类型，请从 {names} 中选一个",
                f"--type {ALL_ESSENTIAL}: siting plans one service type; choose one of {names}",
            )
        )
    if args.type != ALL_ESSENTIAL and args.type not in names:
        others = Text(
            f" 或 {ALL_ESSENTIAL!r}（全部基本服务类型）",
            f" or {ALL_ESSENTIAL!r} (every essential type)",
        )
        raise ValueError(
            Text(
                f"--type {args.type!r}：未知服务类型，请使用 "
                f"{names}{'' if one_type else others.zh}",
                f"--type {args.type!r}: unknown service type; use one of "
                f"{names}{'' if one_type else others.en}",
            )
        )
    if args.minutes is not None and not (np.isfinite(args.minutes) and args.minutes > 0):
        raise ValueError(
            Text(
                f"--minutes 应为正的分钟数，收到 {args.minutes:g}",
                f"--minutes must be a positive number of minutes, got {args.minutes:g}",
            )
        )
    if args.engine == "network" and not args.roads:
        raise ValueError(
            Text(
                "--engine network 需要道路图层 --roads FILE（道路线：.gpkg、.shp、.zip 或 "
                "OpenStreetMap .osm.pbf）；或用 --engine line",
                "--engine network needs --roads FILE (road lines: .gpkg, .shp, .zip or an "
                "OpenStreetMap .osm.pbf); or use --engine line",
            )
        )
    if args.engine == "line" and args.roads:
        raise ValueError(
            Text(
                "--roads 只用于 --engine network，请加上 --engine network",
                "--roads is used by --engine network only; add --engine network",
            )
        )
    if args.detour is not None:
        if args.engine != "line":
            raise ValueError(
                Text(
                    "--detour 只用于 --engine line，走道路网络时请去掉",
                    "--detour applies to --engine line only; drop it for the roads",
                )
            )
        if not (np.isfinite(args.detour) and args.detour > 0):
            raise ValueError(
                Text(
                    f"--detour 应为正数（1 = 直线），收到 {args.detour:g}",
                    f"--detour must be a positive factor (1 = straight line), got {args.detour:g}",
                )
            )
    if args.type == ALL_ESSENTIAL:
        kinds = [t.name for t in cfg.service_types if t.essential]
    else:
        kinds = [args.type]
    return kinds, service_minutes(args.type, args.minutes)


def _service_inputs(args: argparse.Namespace, *, one_type: bool, place: bool) -> _ServiceInputs:
    """Read the grids, service points, households (and roads) and compute travel minutes."""
    from geo.services.coverage import service_access
    from geo.services.network import RoadNetwork, read_roads
    from geo.store.readers import read_layer

    kinds, minutes = _service_choice(args, one_type=one_type)
    reading = {"columns": args.columns, "coords": args.coords, "crs": args.crs}
    grids = read_layer(args.grids, "grids", **reading)
    services = read_layer(args.services, "service_points", **reading)
    households = read_layer(args.households, "households", **reading)
    network = None
    if args.engine == "network":
        network = RoadNetwork.from_lines(read_roads(args.roads, crs=args.crs))
    present = set(services["service_type"].astype(str))
    for kind in kinds:
        if kind not in present:
            print(
                Text(
                    f"提醒：{args.services} 没有{kind}设施点，无人被覆盖；其 service_type 取值为 "
                    f"{sorted(present)}",
                    f"note: {args.services} has no {kind} point, so nobody is covered for it; its "
                    f"service_type values are {sorted(present)}",
                ),
                file=sys.stderr,
            )
    if place:
        households = _place(households, grids)
    access = service_access(
        households,
        services,
        types=kinds,
        mode=args.mode,
        engine=args.engine,
        network=network,
        detour_factor=args.detour,
    )
    return _ServiceInputs(grids, households, access, kinds, minutes, network)


def _place(households: gpd.GeoDataFrame, grids: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Households with grid codes: their own ``grid_code``, else the grid they lie in.

    Village and town codes the households lack are taken from their grid when the grid layer
    has them.
    """
    from geo.grids.assign import assign_events

    out = households.copy()
    if "grid_code" not in out.columns:
        have = [c for c in ("village_code", "town_code") if c in grids.columns]
        stand_in = {c: grids["grid_code"] for c in ("village_code", "town_code") if c not in have}
        assigned = assign_events(out, grids.assign(**stand_in))  # it needs all three codes
        out["grid_code"] = assigned["grid_code"].to_numpy()
        for col in have:
            if col not in out.columns:
                out[col] = assigned[col].to_numpy()
        return out
    codes = grids.drop_duplicates("grid_code").set_index("grid_code")
    for col in ("village_code", "town_code"):
        if col not in out.columns and col in codes.columns:
            out[col] = out["grid_code"].map(codes[col])
    return out


def _coverage(args: argparse.Namespace) -> int:
    import geopandas as gpd

    from geo.services.coverage import LEVELS, coverage, every_unit
    from geo.store.readers import write_output

    data = _service_inputs(args, one_type=False, place=True)
    keys = {"village": ["village_code"], "town": ["town_code", "village_code"]}.get(args.by, [])
    if keys and not any(k in data.households.columns for k in keys):
        zh = "缺少村(居)编码" if args.by == "village" else "缺少镇编码"
        raise InputFileError(
            args.households,
            Text(f"{zh}（--by {args.by} 需要 {keys[0]}）", f"no {keys[0]} for --by {args.by}"),
            Text(
                f"添加该列，用 --columns {keys[0]}=<列名> 指定，或给出含 {keys[0]} 的 "
                "--grids（住户取所在网格的编码）",
                f"add the column, map yours with --columns {keys[0]}=<column>, or give --grids "
                f"with {keys[0]} (households take their grid's codes)",
            ),
        )

    def level(by: str) -> pd.DataFrame:
        table = coverage(
            data.households, data.access, by=by, minutes=data.minutes, types=data.kinds
        )
        return table[table["service_type"] == args.type].reset_index(drop=True)

    table = level(args.by)
    key = LEVELS[args.by]
    if key in data.grids.columns:  # a grid where nobody lives: 0 residents, not absent
        table = every_unit(table, data.grids[key])
    county = level("county").iloc[0]
    out: pd.DataFrame = table
    if args.by == "grid":
        shapes = data.grids[["grid_code", "geometry"]].drop_duplicates("grid_code")
        out = gpd.GeoDataFrame(
            table.merge(shapes, on="grid_code", how="left"), geometry="geometry", crs=shapes.crs
        )
    path = write_output(out, args.out, layer="coverage")
    target = float(table.attrs.get("coverage_target", get_settings().coverage_target))
    met = Text("达标", "met") if bool(county["meets_target"]) else Text("未达标", "not met")
    share = f"{county['coverage']:.1%}"
    covered, residents = f"{county['covered_residents']:,.0f}", f"{county['residents']:,.0f}"
    said = Text(
        f"全县覆盖率 {share}（{covered} / {residents} 人），目标 {target:.0%}：{met.zh}；"
        f"{len(out)} 行",
        f"county coverage {share} ({covered} / {residents} residents), target {target:.0%}: "
        f"{met.en}; {len(out)} rows",
    )
    print(f"{args.type}: {said} → {path}")
    return 0


def _site(args: argparse.Namespace) -> int:
    from geo.core.settings import DISPLAY_CRS
    from geo.services.siting import CandidateSource, candidates
    from geo.store.readers import read_layer, write_output
    from geo.views.services import plan_sites

    if args.new is not None and args.new < 1:
        raise ValueError(
            Text(
                f"--new 应为新增点数（≥ 1），收到 {args.new}",
                f"--new must be a number of new sites ≥ 1, got {args.new}",
            )
        )
    if args.target is not None and not 0.0 < args.target <= 1.0:
        raise ValueError(
            Text(
                f"--target 应为 (0, 1] 之间的比例，如 0.85，收到 {args.target:g}",
                f"--target must be a share in (0, 1], e.g. 0.85, got {args.target:g}",
            )
        )
    if args.candidates == "villages" and not args.villages:
        raise ValueError(
            Text(
                "--candidates villages 需要 --villages FILE（村(居)边界）",
                "--candidates villages needs --villages FILE (the village polygons)",
            )
        )
    data = _service_inputs(args, one_type=True, place=False)
    reading = {"columns": args.columns, "coords": args.coords, "crs": args.crs}
    source: CandidateSource
    if args.candidates == "grids":
        spec, layer, source, id_col = args.grids, data.grids, "grids", None
    elif args.candidates == "villages":
        spec, source, id_col = args.villages, "villages", None
        layer = read_layer(spec, "villages", **reading)
    else:  # a point file; "issues" is the layer kind that requires no column
        spec, source = args.candidates, "points"
        layer = read_layer(spec, "issues", **reading)
        id_col = "id" if "id" in layer.columns else "source_row"
    try:
        sites = candidates(layer, source=source, id_col=id_col)
    except InputProblems as exc:
        raise InputFileError(
            spec,
            "; ".join(exc.problems),
            Text(
                "更正候选点图层，或换用其他 --candidates",
                "fix the candidate layer or choose other --candidates",
            ),
        ) from exc
    assert data.minutes is not None  # one type: its own minutes or --minutes
    result = plan_sites(
        data.households,
        data.access,
        sites,
        service_type=args.type,
        minutes=data.minutes,
        k=args.new,
        target_share=args.target,
        network=data.network,
        exact=args.exact,
    )
    table = result.to_geodataframe(sites).rename(
        columns={"gain": "added_residents", "share_after": "coverage_after"}
    )
    lonlat = table.geometry.to_crs(DISPLAY_CRS)
    table["lon"], table["lat"] = lonlat.x.round(6), lonlat.y.round(6)
    first = ["rank", "candidate_id", "ref", "name", "added_residents", "covered_after"]
    first += ["coverage_after", "x", "y", "lon", "lat"]
    table = table[first + [c for c in table.columns if c not in first]]
    path = write_output(table, args.out, layer="proposals")
    print(
        Text(
            f"{args.type} {data.minutes:g} 分钟：覆盖率 {result.share_before:.1%} → "
            f"{result.share_after:.1%}，新增 {len(table)} 处（{result.method}）",
            f"{args.type} {data.minutes:g} min: coverage {result.share_before:.1%} → "
            f"{result.share_after:.1%}, {len(table)} new site(s) ({result.method})",
        ),
        "→",
        path,
    )
    if result.reached is False:
        print(
            Text(
                f"未达到目标 {args.target:.0%}：候选点最多覆盖 {result.share_after:.1%}",
                f"target {args.target:.0%} not reached: the candidates reach at most "
                f"{result.share_after:.1%}",
            ),
            file=sys.stderr,
        )
        return 1
    return 0


def _import(args: argparse.Namespace) -> int:
    from geo.store.base import open_store
    from geo.store.readers import read_layer

    layers = {}
    for name in ("towns", "villages", "grids", "households", "service_points", "issues"):
        spec = getattr(args, name)
        if spec:
            layers[name] = read_layer(
                spec, name, columns=args.columns, coords=args.coords, crs=args.crs
            )
    if not layers:
        raise ValueError(
            Text(
                "没有要导入的数据：至少给出 --grids、--issues 等之一",
                "nothing to import: give at least one of --grids, --issues, …",
            )
        )
    if "issues" in layers and "grids" in layers:
        from geo.grids.assign import assign_events

        assigned = assign_events(layers["issues"], layers["grids"])
        for col in assigned.columns:
            layers["issues"][col] = assigned[col].astype(str).to_numpy()
    store = open_store(args.store)
    present = set(store.layers())
    held = sorted(set(layers) & present)
    if held and not args.replace:
        raise ValueError(
            Text(
                f"{store.location} 已有图层 {held}：导入会整体替换它们。新工单请用 python -m geo "
                "intake（按工单编号新增或更新）；确需替换请加 --replace（原图层保留为 "
                "<图层>_before_<时间>）",
                f"{store.location} already holds {held}: importing would replace them whole. "
                "Take new tickets in with python -m geo intake (added or updated by ticket id); "
                "to replace anyway add --replace (the old layers are kept as "
                "<layer>_before_<time>)",
            )
        )
    kept = {}
    if held:
        from geo.core.clock import now_beijing

        stamp = f"{now_beijing():%Y%m%d%H%M%S}"
        kept = {f"{name}_before_{stamp}": store.read(name) for name in held}
    store.write({**kept, **layers})  # one write: the new layers and the old ones kept, or none
    for name, frame in layers.items():
        print(f"{name}: {Text(f'{len(frame)} 行', f'{len(frame)} rows')} → {store.location}")
    for name in kept:
        print(Text(f"原图层保留为 {name}", f"the previous layer is kept as {name}"))
    return 0


_COMMANDS = {
    "demo": _demo,
    "check-grids": _check_grids,
    "assign": _assign,
    "hotspots": _hotspots,
    "alerts": _alerts,
    "coverage": _coverage,
    "site": _site,
    "import": _import,
    "grids": cli_grids.run,
    "report": cli_report.run,
    "intake": cli_intake.run,
    "onboard": cli_onboard.run,
    "users": cli_users.run_users,
    "audit": cli_users.run_audit,
    "secure-postgis": cli_users.run_secure,
}
