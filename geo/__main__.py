"""Command line: ``python -m geo demo | check-grids | assign | import`` (中文 / English)."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence

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
    a.add_argument("--grids", required=True, help="网格文件 / grid file")
    a.add_argument("--events", required=True, help="事件文件 / events (csv, xlsx, gpkg, …)")
    a.add_argument(
        "--coords",
        default="wgs84",
        choices=["wgs84", "gcj02", "bd09", "cgcs2000"],
        help="经纬度坐标系（行内 coord_sys 列优先）/ lon/lat system (a coord_sys column wins)",
    )
    a.add_argument("--columns", default="", help=COLUMNS_HELP)
    a.add_argument("--crs", help="文件无坐标系时假定 / CRS to assume when a file has none")
    a.add_argument("--out", required=True, help="输出文件 / output (csv, xlsx, gpkg, geojson)")

    i = sub.add_parser("import", help="导入数据到存储 / import layers into the store")
    for name in ("towns", "villages", "grids", "households", "service_points", "issues"):
        i.add_argument(f"--{name.replace('_', '-')}", dest=name, help=f"{name} 文件 / file")
    i.add_argument(
        "--store",
        required=True,
        help="GeoPackage 路径或 PostGIS URL / .gpkg path or postgresql:// URL",
    )
    i.add_argument("--coords", default="wgs84", choices=["wgs84", "gcj02", "bd09", "cgcs2000"])
    i.add_argument("--columns", default="", help=COLUMNS_HELP)
    i.add_argument("--crs", help="文件无坐标系时假定 / CRS to assume when a file has none")
    return p


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


_COMMANDS = {"demo": _demo, "check-grids": _check_grids, "assign": _assign, "import": _import}

if __name__ == "__main__":
    sys.exit(main())
