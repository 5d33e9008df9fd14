"""Command line: ``python -m geo demo | check-grids | assign | import`` (中文 / English)."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from geo.errors import GridGovError

COLUMNS_HELP = (
    "列名映射 / column mapping, our_name=their_name pairs applying to every input, "
    "e.g. grid_code=WGBM,lon=经度,lat=纬度"
)


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m geo",
        description="GridGov 网格治理一张图 命令行 / GridGov command line. "
        "GeoPackage 多图层按标准图层名读取（grids、issues…），或用 FILE.gpkg:layer 指定 / "
        "a multi-layer GeoPackage is read by the standard layer name unless FILE.gpkg:layer.",
    )
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    d = sub.add_parser("demo", help="生成射阳示例县（合成数据）/ build the synthetic Sheyang demo")
    d.add_argument("--seed", type=int, default=0, help="随机种子 / random seed (default 0)")
    d.add_argument("--out", default="data/cache", help="输出目录 / output folder")

    c = sub.add_parser("check-grids", help="检查网格图层 / validate a grid layer")
    c.add_argument("file", help="网格文件 / grid file (gpkg, shp, zip, geojson, parquet)")
    c.add_argument("--columns", default="", help=COLUMNS_HELP)
    c.add_argument("--outline", help="县域或镇域边界，用于查空隙 / outline to find gaps against")
    c.add_argument("--villages", help="村(居)边界 / village polygons (checks grids span one)")
    c.add_argument("--crs", help="文件无坐标系时假定 / CRS to assume when the file has none")
    c.add_argument("--json", action="store_true", help="输出 JSON / print JSON")

    a = sub.add_parser("assign", help="事件落格 / assign events to grids")
    _events_args(a)
    a.add_argument("--out", required=True, help="输出文件 / output (csv, xlsx, gpkg, geojson)")

    h = sub.add_parser("hotspots", help="热点分析（Gi*、FDR、时空模式）/ hot spots per grid")
    _events_args(h)
    h.add_argument("--from", dest="start", help="开始日期 / first day (YYYY-MM-DD)")
    h.add_argument("--to", dest="end", help="结束日期 / last day (YYYY-MM-DD)")
    h.add_argument("--category", default="", help="类别，逗号分隔 / categories, comma-separated")
    h.add_argument("--source", default="", help="来源，逗号分隔 / sources, comma-separated")
    h.add_argument(
        "--by",
        default="week",
        choices=["week", "month"],
        help="时空分箱 / time bins for emerging hot spots",
    )
    h.add_argument("--permutations", type=int, default=9999, help="置换次数 / permutations")
    h.add_argument("--seed", type=int, default=0, help="随机种子 / random seed")
    h.add_argument("--out", required=True, help="输出文件 / output (csv, xlsx, gpkg, geojson)")

    w = sub.add_parser("alerts", help="预警：激增、重复投诉、群体性苗头 / early warnings")
    _events_args(w)
    w.add_argument("--as-of", dest="as_of", help="截至时间 / now (default: the last ticket)")
    w.add_argument("--out", required=True, help="输出文件 / output (csv, xlsx)")

    i = sub.add_parser("import", help="导入数据到存储 / import layers into the store")
    for name in ("towns", "villages", "grids", "households", "service_points", "issues"):
        i.add_argument(f"--{name.replace('_', '-')}", dest=name, help=f"{name} 文件 / file")
    i.add_argument(
        "--store",
        required=True,
        help="GeoPackage 路径或 PostGIS URL / .gpkg path or postgresql:// URL",
    )
    _reading_args(i)
    return p


def _events_args(p: argparse.ArgumentParser) -> None:
    """``--grids`` and ``--events`` plus the reading options."""
    p.add_argument("--grids", required=True, help="网格文件 / grid file")
    p.add_argument("--events", required=True, help="事件文件 / events (csv, xlsx, gpkg, …)")
    _reading_args(p)


def _reading_args(p: argparse.ArgumentParser) -> None:
    """``--coords``, ``--columns`` and ``--crs``, shared by every command that reads files."""
    p.add_argument(
        "--coords",
        default="wgs84",
        choices=["wgs84", "gcj02", "bd09", "cgcs2000"],
        help="经纬度坐标系 / lon/lat system (a coord_sys column wins)",
    )
    p.add_argument("--columns", default="", help=COLUMNS_HELP)
    p.add_argument("--crs", help="文件无坐标系时假定 / CRS to assume when a file has none")


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; returns the exit code (0 ok, 1 grid errors found, 2 bad input)."""
    args = _parser().parse_args(argv)
    try:
        return int(_COMMANDS[args.command](args))
    except (GridGovError, ValueError) as exc:
        print(f"错误 / error: {exc}", file=sys.stderr)
        return 2


def _demo(args: argparse.Namespace) -> int:
    from geo.demo import build_demo

    def progress(fraction: float, message: str) -> None:
        print(f"[{fraction:4.0%}] {message}", file=sys.stderr)

    path = build_demo(args.out, seed=args.seed, progress=progress)
    print(path)
    return 0


def _check_grids(args: argparse.Namespace) -> int:
    from geo.io import read_layer, read_outline
    from geo.validate import validate_grids

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
            f"{report.n_grids} 个网格 / grids: {len(report.errors)} 个错误 / errors, "
            f"{len(report.warnings)} 个提醒 / warnings"
        )
        for p in report.problems:
            print(f"{p.severity.upper():7} {p.feature:20} [{p.code}] {p.message} — {p.hint}")
    return 0 if report.ok else 1


def _assign(args: argparse.Namespace) -> int:
    from geo.assign import assign_events
    from geo.io import read_layer, write_output

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
    path = write_output(out, args.out, layer="issues")
    n_bad = int((out["assign_problem"] != "").sum())
    print(
        f"{len(out)} 行 / rows → {path}: {len(out) - n_bad} 已落格 / assigned, "
        f"{n_bad} 未落格（见 assign_problem）/ set aside with a reason"
    )
    return 0


def _read_assigned(args: argparse.Namespace) -> tuple[Any, Any]:
    """Grids and events from the command line, events assigned to grids."""
    from geo.assign import assign_events
    from geo.io import read_layer

    grids = read_layer(args.grids, "grids", columns=args.columns, crs=args.crs)
    events = read_layer(
        args.events, "issues", columns=args.columns, coords=args.coords, crs=args.crs
    )
    missing = [c for c in ("received_at",) if c not in events.columns]
    if missing:
        raise ValueError(f"{args.events}: no column {missing[0]}; map it with --columns")
    events["received_at"] = pd.to_datetime(events["received_at"], errors="coerce")
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
    from geo.aggregate import IssueFilter
    from geo.emerging import emerging_hotspots, space_time_cube
    from geo.hotspot_view import hotspot_table
    from geo.hotspots import grid_weights
    from geo.io import write_output

    grids, events = _read_assigned(args)
    flt = IssueFilter(
        start=pd.Timestamp(args.start) if args.start else None,
        end=pd.Timestamp(args.end) if args.end else None,
        categories=_split(args.category),
        sources=_split(args.source),
    )
    weights = grid_weights(grids)
    history = IssueFilter(categories=flt.categories, sources=flt.sources)
    cube = space_time_cube(events, weights, freq=args.by, flt=history, end=flt.end)
    emerging = emerging_hotspots(cube, weights)
    table = hotspot_table(
        events,
        grids,
        flt,
        weights=weights,
        emerging=emerging,
        permutations=args.permutations,
        seed=args.seed,
    )
    columns = [
        "grid_code",
        "count",
        "rate_per_1000",
        "gi_z",
        "p_sim",
        "p_fdr",
        "hotspot_class",
        "lisa_type",
        "emerging_category",
        "trend_tau",
        "trend_p",
    ]
    out = grids[["grid_code", "geometry"]].assign(grid_code=lambda g: g.grid_code.astype(str))
    out = out.merge(table[columns], on="grid_code")
    path = write_output(out, args.out, layer="hotspots")
    hot = int(out.hotspot_class.str.startswith("hot").sum())
    print(f"{len(out)} 个网格 / grids → {path}: {hot} 个热点 / hot spots")
    return 0


def _alerts(args: argparse.Namespace) -> int:
    from geo.alerts import detect_alerts
    from geo.io import write_output

    _, events = _read_assigned(args)
    as_of = pd.Timestamp(args.as_of) if args.as_of else events["received_at"].max()
    alerts = detect_alerts(events, as_of=as_of)
    alerts["ticket_ids"] = alerts["ticket_ids"].map(",".join)
    path = write_output(alerts, args.out, layer="alerts")
    print(f"{len(alerts)} 条预警 / warnings → {path}")
    return 0


def _import(args: argparse.Namespace) -> int:
    from geo.io import read_layer
    from geo.store import open_store

    layers = {}
    for name in ("towns", "villages", "grids", "households", "service_points", "issues"):
        spec = getattr(args, name)
        if spec:
            layers[name] = read_layer(
                spec, name, columns=args.columns, coords=args.coords, crs=args.crs
            )
    if not layers:
        raise ValueError("nothing to import: give at least one of --grids, --issues, …")
    if "issues" in layers and "grids" in layers:
        from geo.assign import assign_events

        assigned = assign_events(layers["issues"], layers["grids"])
        for col in assigned.columns:
            layers["issues"][col] = assigned[col].astype(str).to_numpy()
    store = open_store(args.store)
    store.write(layers)
    for name, frame in layers.items():
        print(f"{name}: {len(frame)} 行 / rows → {store.location}")
    return 0


_COMMANDS = {
    "demo": _demo,
    "check-grids": _check_grids,
    "assign": _assign,
    "hotspots": _hotspots,
    "alerts": _alerts,
    "import": _import,
}

if __name__ == "__main__":
    sys.exit(main())
