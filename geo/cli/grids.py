"""``python -m geo grids``: the planner's versions, drafts, checks, publishing, export and import.

Subcommands (each takes ``--store PATH.gpkg|postgresql://…``, default the app's store)::

    grids versions                               published versions and drafts
    grids diff A B [--out FILE]                  what changed between two versions or drafts
    grids check DRAFT [--json]                   the planner's check (exit 1 on errors)
    grids publish DRAFT --reason R [--by NAME]   publish a checked draft as a new version
    grids export VERSION --format F --out PATH   gpkg, geojson or a zipped Shapefile
    grids import FILE --draft NAME [--village CODE] [--by NAME]

A VERSION is a number or ``latest``; a DRAFT is a draft id (``320924101001-3f2a9c1b``), the
code of a village or town (its open draft) or the name given at import; ``draft:`` in front
makes a draft of either side of ``diff`` and of ``export``. The work is done where the
网格规划 page has it done too: versions, drafts and diffs by :mod:`geo.planning.versions`, the check
in
the store's context by :mod:`geo.views.planner`, files by :mod:`geo.planning.grid_files`; what is
here
parses arguments, finds drafts and prints.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd

from geo.access import OutOfScopeError, Permission, Principal, Scope, record
from geo.cli._args import COLUMNS_HELP, account_arg, acting, both, operator, signed_in
from geo.core.clock import beijing_stamp
from geo.core.errors import InputFileError
from geo.core.i18n import Text
from geo.core.settings import get_settings
from geo.planning.check import DraftReport
from geo.planning.grid_files import FORMATS, ScopeImport, read_grid_file, take_scope, write_grids
from geo.planning.versions import (
    OPEN,
    PUBLISHED,
    Draft,
    PublishBlockedError,
    VersionDiff,
    VersionedGrids,
    VersionError,
)
from geo.store.base import Store
from geo.store.county import open_county_store
from geo.views.planner import (
    PlanScope,
    check,
    load_scope,
    masked_phones,
    phones_back,
    refuse_own_draft,
)

_LATEST = ("latest", "current", "最新")
_MAX_ROWS = 60  # rows of a printed diff before "… and N more"


# --------------------------------------------------------------------------- arguments


def add_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg,unused-ignore]
    """Register the ``grids`` command and its subcommands."""
    g = sub.add_parser(
        "grids",
        help=both("网格版本、草案、检查与发布", "grid versions, drafts, checks and publishing"),
        description=both(
            "网格规划：版本、草案、检查、发布、导出与导入。VERSION = 版本号或 latest；DRAFT = "
            "草案编号、村(居)或镇编码、导入时的名称。",
            "the grid planner: versions, drafts, checks, publishing, export and import. VERSION "
            "= a number or latest; DRAFT = a draft id, the code of its village or town, or the "
            "name given at import.",
        ),
    )
    actions = g.add_subparsers(dest="grids_command", required=True, metavar="ACTION")
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--store",
        help=both(
            "GeoPackage 路径或 PostGIS URL",
            ".gpkg path or postgresql:// URL (default: the app's store)",
        ),
    )
    account_arg(common)

    actions.add_parser(
        "versions", parents=[common], help=both("已发布版本与草案", "published versions and drafts")
    )

    d = actions.add_parser(
        "diff", parents=[common], help=both("比较两个版本或草案", "compare two versions or drafts")
    )
    d.add_argument(
        "a", metavar="A", help=both("版本号、latest 或 draft:<草案>", "version or draft:<x>")
    )
    d.add_argument(
        "b", metavar="B", help=both("版本号、latest 或 draft:<草案>", "version or draft:<x>")
    )
    d.add_argument("--out", help=both("逐网格差异", "per-grid diff (.csv, .xlsx, .gpkg, .geojson)"))

    c = actions.add_parser(
        "check", parents=[common], help=both("发布前检查草案", "check a draft before publishing")
    )
    c.add_argument("draft", metavar="DRAFT", help=both("草案（或版本）", "draft (or VERSION)"))
    c.add_argument("--json", action="store_true", help=both("输出 JSON", "print JSON"))

    p = actions.add_parser(
        "publish",
        parents=[common],
        help=both("发布草案为新版本", "publish a draft as a new version"),
    )
    p.add_argument("draft", metavar="DRAFT", help=both("草案", "draft"))
    p.add_argument("--reason", required=True, help=both("发布原因", "why (recorded)"))
    p.add_argument("--by", help=both("发布人（不用 --as 时）", "who, without --as"))

    r = actions.add_parser(
        "rollback",
        parents=[common],
        help=both("回退：把旧版本重新发布为新版本", "publish an earlier version again"),
    )
    r.add_argument("version", metavar="VERSION", type=int, help=both("回退到的版本号", "version"))
    r.add_argument("--reason", required=True, help=both("回退原因", "why (recorded)"))
    r.add_argument("--by", help=both("回退人（不用 --as 时）", "who, without --as"))

    e = actions.add_parser(
        "export", parents=[common], help=both("导出版本或草案", "export a version or draft")
    )
    e.add_argument("version", metavar="VERSION", help="版本号、latest 或 draft:<草案>")
    e.add_argument(
        "--format",
        choices=list(FORMATS),
        help=both(
            "gpkg、geojson 或 shp（压缩的 Shapefile .zip）",
            "shp = a zipped Shapefile (default: from --out)",
        ),
    )
    e.add_argument("--out", required=True, help=both("输出文件", "output file"))

    i = actions.add_parser(
        "import",
        parents=[common],
        help=both("导入编辑后的图层为草案", "upload an edited layer as a draft"),
    )
    i.add_argument("file", help=both("图层文件", "gpkg, geojson, zipped shp (.zip), parquet"))
    i.add_argument("--draft", required=True, metavar="NAME", help=both("草案名称", "draft name"))
    i.add_argument(
        "--village",
        metavar="CODE",
        help=both(
            "村(居)或镇编码：只导入其网格",
            "village (or town) code: import its grids only (default: the one village the file "
            "holds)",
        ),
    )
    i.add_argument("--by", help=both("编辑人（不用 --as 时）", "who, without --as"))
    i.add_argument("--columns", default="", help=COLUMNS_HELP)
    i.add_argument("--crs", help=both("文件无坐标系时假定", "CRS to assume when the file has none"))


def run(args: argparse.Namespace) -> int:
    """Run a ``grids`` subcommand; returns the exit code (0 ok, 1 problems found)."""
    command = {
        "versions": _versions,
        "diff": _diff,
        "check": _check,
        "publish": _publish,
        "rollback": _rollback,
        "export": _export,
        "import": _import,
    }[args.grids_command]
    return command(args)


# --------------------------------------------------------------------------- store and refs


def open_grid_store(location: str | None) -> Store:
    """The store of ``--store``: a ``.gpkg`` that exists or a PostgreSQL URL; default the app's."""
    cfg = get_settings()
    if not location:
        from geo.store.county import default_store

        return default_store(cfg)
    if location.startswith(("postgresql", "postgres://")):
        return open_county_store(location, schema=cfg.db_schema)
    path = Path(location)
    if path.suffix.lower() != ".gpkg":
        raise InputFileError(
            location,
            Text("不是存储", "not a store"),
            Text(
                "用 --store 给出 GeoPackage（.gpkg）或 postgresql:// URL",
                "give a GeoPackage (.gpkg) or a postgresql:// URL with --store",
            ),
        )
    if not path.exists():
        raise InputFileError(
            location,
            Text("存储不存在", "no such store"),
            Text(
                "检查路径，或先建立：python -m geo import --store FILE.gpkg --grids …",
                "check the path, or create it: python -m geo import --store FILE.gpkg --grids …",
            ),
        )
    return open_county_store(path)


def find_draft(vg: VersionedGrids, ref: str) -> Draft:
    """The draft ``ref`` names: its id, its village or town code (the open draft), or its name.

    Raises
    ------
    VersionError
        No draft, or several, answer to ``ref``; the message lists the drafts there are.
    """
    key = ref.removeprefix("draft:").strip()
    table = vg.drafts()
    if key in set(table["draft_id"]):
        return vg.read_draft(key)
    live = table[table["status"] != PUBLISHED]
    scoped = live[(live["scope_code"] == key) & (live["status"] == OPEN)]
    if len(scoped):
        return vg.read_draft(str(scoped["draft_id"].iloc[-1]))
    named = live[live["reason"] == key]
    if len(named) == 1:
        return vg.read_draft(str(named["draft_id"].iloc[0]))
    listing = "; ".join(
        f"{r['draft_id']} ({r['scope']} {r['scope_code']}, {r['status']}, {r['reason']})"
        for r in _records(live)
    )
    if len(named) > 1:
        raise VersionError(
            Text(
                f"有多个草案名为 {key!r}：{listing}；请用草案编号指定",
                f"several drafts are called {key!r}: {listing}; name one by its id",
            )
        )
    there = (
        Text(f"未发布的草案：{listing}", f"Drafts not yet published: {listing}")
        if listing
        else Text("没有未发布的草案", "There is no open draft")
    )
    how = "python -m geo grids import FILE --draft NAME"
    raise VersionError(
        Text(
            f"没有草案 {key!r}。{there.zh}；导入一个：{how}",
            f"no draft {key!r}. {there.en}; import one with: {how}",
        )
    )


def _grids_of(vg: VersionedGrids, ref: str) -> tuple[gpd.GeoDataFrame, str, Draft | None]:
    """The grids ``ref`` names (a version's, or a draft's own), how to call them, the draft."""
    number = _version_number(vg, ref)
    if number is not None:
        return vg.read_version(number), f"版本/version {number}", None
    draft = find_draft(vg, ref)
    return draft.grids, f"草案/draft {draft.draft_id}", draft


def _version_number(vg: VersionedGrids, ref: str) -> int | None:
    """The version number ``ref`` names, or None when it names a draft (a number that is no
    version, such as a village code, names that village's open draft)."""
    text = ref.strip()
    if text.lower() in _LATEST:
        return vg.current_version()
    if text.startswith("draft:") or not text.isdigit():
        return None
    known = set(vg.versions()["version"].astype(int))
    if int(text) in known:
        return int(text)
    if (vg.drafts()["scope_code"] == text).any():
        return None
    raise VersionError(
        Text(
            f"没有第 {text} 版网格；现有版本为 {sorted(known)}",
            f"no grid version {text}; the versions are {sorted(known)}",
        )
    )


def scope_for(store: Store, code: str) -> PlanScope:
    """:func:`geo.views.planner.load_scope` of ``code`` (``""``: the county), saying so on stderr
    when the store has no villages layer (grids are then not checked against villages)."""
    scope = load_scope(store, code)
    if scope.county_villages.empty:
        print(
            Text(
                "提醒：存储中没有村(居)图层，跳过村界检查",
                "note: the store has no villages layer: grids are not checked against village "
                "boundaries",
            ),
            file=sys.stderr,
        )
    return scope


# --------------------------------------------------------------------------- subcommands


def _versions(args: argparse.Namespace) -> int:
    store = open_grid_store(args.store)
    _reader(args, store)
    vg = VersionedGrids(store)
    table = vg.versions()
    print(f"{store.location}: {Text(f'{len(table)} 个版本', f'{len(table)} versions')}")
    print(
        f"  {'版本/ver':>8}  {'发布时间/published (UTC+8)':<25}  {'网格/grids':>10}  "
        "发布人/by — 原因/reason [来源/source]"
    )
    for r in _records(table):
        mark = "*" if r["current"] else " "
        print(
            f"{mark} {int(r['version']):>8}  {beijing_stamp(r['published_at']):<25}  "
            f"{int(r['n_grids']):>10,}  {r['published_by']} — {r['reason']} [{r['source']}]"
        )
    drafts = vg.drafts()
    live = drafts[drafts["status"] != PUBLISHED]
    n_published = int((drafts["status"] == PUBLISHED).sum())
    print(
        Text(
            f"草案：{len(live)} 个未发布（{n_published} 个已发布）",
            f"drafts: {len(live)} not published ({n_published} published)",
        )
    )
    for r in _records(live):
        print(
            f"  {r['draft_id']}  {r['scope']} {r['scope_code']}  {r['status']}  修订/revision "
            f"{int(r['revision'])}  基于/on v{int(r['base_version'])}  {r['author']} "
            f"{beijing_stamp(r['updated_at'])}  “{r['reason']}”"
        )
    return 0


def _diff(args: argparse.Namespace) -> int:
    from geo.store.readers import write_output

    store = open_grid_store(args.store)
    scope = _reader(args, store)
    vg = VersionedGrids(store)
    sides: list[gpd.GeoDataFrame] = []
    labels: list[str] = []
    for ref in (args.a, args.b):
        grids, label, draft = _grids_of(vg, ref)
        whole = vg.draft_layer(draft) if draft is not None else grids  # a whole layer
        sides.append(scope.filter(whole))
        labels.append(label)
    diff = vg.diff(sides[0], sides[1])
    _print_diff(diff, labels[0], labels[1])
    if args.out:
        path = write_output(_diff_frame(diff, sides[0], sides[1]), args.out, layer="diff")
        print(f"{Text(f'{len(diff.grids)} 行', f'{len(diff.grids)} rows')} → {path}")
    return 0


def _check(args: argparse.Namespace) -> int:
    store = open_grid_store(args.store)
    scope = _reader(args, store)
    vg = VersionedGrids(store)
    grids, what, draft = _grids_of(vg, args.draft)
    _inside(scope, grids, what)
    report = check(grids, scope_for(store, draft.scope_code if draft is not None else ""))
    if args.json:
        print(
            json.dumps(
                {
                    "checked": what,
                    "grids": report.n_grids,
                    "publishable": report.publishable,
                    "errors": len(report.errors),
                    "warnings": len(report.warnings),
                    "as_of": None if report.as_of is None else str(report.as_of),
                    "problems": [_problem_record(r) for r in _records(report.to_frame())],
                },
                ensure_ascii=False,
                indent=1,
            )
        )
    else:
        print(f"{what}:")
        print(report.summary())
        _print_problems(report)
    return 0 if report.publishable else 1


def _publish(args: argparse.Namespace) -> int:
    store = open_grid_store(args.store)
    who = signed_in(args, store)
    vg = VersionedGrids(store)
    draft = find_draft(vg, args.draft)
    author = _author(args, who)
    if who is not None:
        who.require(Permission.PUBLISH, Text("发布网格新版本", "publish grid versions"))
        refuse_own_draft(vg, draft.draft_id, who)
        _inside(who.scope, draft.grids, draft.draft_id)
    if draft.status == PUBLISHED:
        raise VersionError(
            Text(
                f"草案 {draft.draft_id} 已发布；见 grids versions",
                f"draft {draft.draft_id} is already published; see grids versions",
            )
        )
    scope = scope_for(store, draft.scope_code)
    reports: list[DraftReport] = []

    def checked(candidate: gpd.GeoDataFrame) -> DraftReport:
        reports.append(check(candidate, scope))
        return reports[-1]

    try:
        result = vg.publish(
            draft, author=author, reason=args.reason, check=checked, who=acting(who)
        )
    except PublishBlockedError as exc:
        report = exc.report
        assert isinstance(report, DraftReport)
        print(
            Text(
                f"未发布：草案 {draft.draft_id} 有 {len(report.errors)} "
                "个错误；改正后重新导入再发布",
                f"not published: the draft {draft.draft_id} has {len(report.errors)} error(s); "
                "fix them, import it again and publish",
            ),
            file=sys.stderr,
        )
        print(report.summary(), file=sys.stderr)
        _print_problems(report, errors_only=True, file=sys.stderr)
        return 1
    warnings = len(reports[-1].warnings) if reports else 0
    print(
        Text(
            f"已发布第 {result.version} 版（{result.n_grids:,} 个网格）：新增 "
            f"{len(result.added)}，删除 {len(result.removed)}，变更 {len(result.changed)}",
            f"published version {result.version} ({result.n_grids:,} grids): added "
            f"{len(result.added)}, removed {len(result.removed)}, changed {len(result.changed)}",
        )
    )
    print(
        Text(
            f"诉求改派：{result.issues_moved:,}（检查 {result.issues_checked:,}）；住户改派："
            f"{result.households_moved:,}；提醒：{warnings}",
            f"issues reassigned: {result.issues_moved:,} (checked {result.issues_checked:,}); "
            f"households moved: {result.households_moved:,}; warnings: {warnings}",
        )
    )
    return 0


def _rollback(args: argparse.Namespace) -> int:
    store = open_grid_store(args.store)
    who = signed_in(args, store)
    author = _author(args, who)
    if who is not None:
        who.require(Permission.PUBLISH, Text("回退网格版本", "roll grid versions back"))
        if not who.scope.whole_county:
            raise OutOfScopeError(
                Text("回退涉及全县网格，需全县范围的审核人", "a rollback changes the whole "
                     "county's grids: it needs a county-wide reviewer")
            )  # fmt: skip
    vg = VersionedGrids(store)
    result = vg.rollback(args.version, author=author, reason=args.reason, who=acting(who))
    print(
        Text(
            f"已回退：第 {args.version} 版的网格发布为第 {result.version} 版（变更 "
            f"{len(result.changed) + len(result.added) + len(result.removed)} 个网格，诉求改派 "
            f"{result.issues_moved:,}）",
            f"rolled back: the grids of version {args.version} published as version "
            f"{result.version} ({len(result.changed) + len(result.added) + len(result.removed)} "
            f"grids changed, {result.issues_moved:,} issues reassigned)",
        )
    )
    return 0


def _export(args: argparse.Namespace) -> int:
    store = open_grid_store(args.store)
    who = signed_in(args, store)
    if who is not None:
        who.require(Permission.EXPORT, Text("导出网格图层", "export grid layers"))
    vg = VersionedGrids(store)
    grids, what, _ = _grids_of(vg, args.version)
    if who is not None:
        grids = who.scope.filter(grids)
    path = write_grids(masked_phones(grids), args.out, fmt=args.format)  # phones starred
    record(store, "export", who=acting(who), obj=f"file:{Path(path).name}",
           detail={"grids": what, "rows": len(grids)})  # fmt: skip
    print(f"{what}: {Text(f'{len(grids):,} 个网格', f'{len(grids):,} grids')} → {path}")
    return 0


def _import(args: argparse.Namespace) -> int:
    store = open_grid_store(args.store)
    who = signed_in(args, store)
    if who is not None:
        who.require(Permission.EDIT_DRAFT, Text("编辑网格草案", "edit grid drafts"))
    vg = VersionedGrids(store)
    name = args.draft.strip()
    if not name:
        raise ValueError(
            Text(
                "--draft 需要一个名称，如 --draft 北片按道路重划",
                "--draft needs a name, e.g. --draft 北片按道路重划",
            )
        )
    head_number = vg.current_version()
    head = vg.read_version(head_number)
    grids, extra = read_grid_file(args.file, head, columns=args.columns, crs=args.crs)
    grids = phones_back(grids, head)  # a phone still starred by the export: the stored one
    if extra:
        print(
            Text(
                f"提醒：网格图层没有这些列，未导入：{extra}",
                f"note: columns the grids layer does not have, left out: {extra}",
            ),
            file=sys.stderr,
        )
    scope, code = _import_scope(args, grids, head)
    got = take_scope(grids, head, column=f"{scope}_code", code=code, name=args.file)
    _note_left_out(got, scope, code)
    if who is not None:
        _inside(who.scope, head[head[f"{scope}_code"].astype(str) == code], f"{scope} {code}")
    author = _author(args, who)
    key = name.removeprefix("draft:")
    known = vg.drafts()
    if key in set(known["draft_id"]):
        draft = vg.read_draft(key)
        if draft.status == PUBLISHED or draft.scope_code != code:
            raise VersionError(
                Text(
                    f"草案 {key} 状态为 {draft.status}，范围是 {draft.scope} "
                    f"{draft.scope_code}；导入 {scope} {code} 请换一个名称",
                    f"draft {key} is {draft.status} and covers {draft.scope} {draft.scope_code}; "
                    f"give a new name to import {scope} {code}",
                )
            )
    else:
        draft = vg.open_draft(code, author)
    saved = vg.save_draft(
        draft,
        got.grids,
        author=author,
        reason=name,
        expected_revision=draft.revision,
        who=acting(who),
    )
    unchanged = int(got.unchanged.sum())
    said = Text(
        f"草案 {saved.draft_id}“{name}”（{saved.scope} {saved.scope_code}，修订 {saved.revision}，"
        f"{len(got.grids)} 个网格，{unchanged} 个形状未变）",
        f"draft {saved.draft_id} “{name}” ({saved.scope} {saved.scope_code}, revision "
        f"{saved.revision}, {len(got.grids)} grids, {unchanged} unchanged in shape)",
    )
    print(f"{args.file} → {said}")
    diff = vg.diff(head_number, vg.draft_layer(saved))
    _print_diff(diff, f"版本/version {head_number}", f"草案/draft {saved.draft_id}")
    print(f"{Text('下一步', 'next')}: python -m geo grids check {saved.draft_id}")
    return 0


# --------------------------------------------------------------------------- helpers


def _author(args: argparse.Namespace, who: Principal | None) -> str:
    """Who a publish or an import records: the account of ``--as``, else ``--by`` or the
    login running the command. ``--by`` cannot name someone else for a signed-in account."""
    by = str(args.by or "").strip()
    if who is not None:
        if by and by != who.name:
            raise ValueError(
                Text(
                    f"--by 不能与 --as 同用：记录的是登录账号 {who.name}",
                    f"--by cannot go with --as: the signed-in account {who.name} is recorded",
                )
            )
        return who.name
    return by or operator()


def _reader(args: argparse.Namespace, store: Store) -> Scope:
    """The scope of ``--as`` (refused for a role that reads nothing), or the county."""
    who = signed_in(args, store)
    if who is None:
        return Scope.county()
    who.require(Permission.READ, Text("查看网格", "read grids"))
    return who.scope


def _inside(scope: Scope, grids: gpd.GeoDataFrame, what: str) -> None:
    """Refuse ``what`` when some of its ``grids`` lie outside ``scope``."""
    outside = len(grids) - len(scope.filter(grids))
    if outside:
        raise OutOfScopeError(
            Text(
                f"{what} 有 {outside} 个网格不在你的范围（{scope.label}）内",
                f"{what} has {outside} grid(s) outside your scope ({scope.label})",
            )
        )


def _import_scope(
    args: argparse.Namespace, grids: gpd.GeoDataFrame, head: gpd.GeoDataFrame
) -> tuple[str, str]:
    """``("village" | "town", code)`` of the draft the file goes into."""
    if args.village:
        code = str(args.village).strip()
        for scope in ("village", "town"):
            if (head[f"{scope}_code"].astype(str) == code).any():
                return scope, code
        raise ValueError(
            Text(
                f"--village {code}：当前版本中没有村(居)或镇编码为 {code} 的网格；请给出 12 "
                "位村(居)编码或 9 位镇编码",
                f"--village {code}: no grid of the current version has village_code or town_code "
                f"{code}; pass the 12-digit code of a village or the 9-digit code of a town",
            )
        )
    codes = sorted({str(v) for v in grids["village_code"].dropna() if str(v).strip()})
    if len(codes) == 1:
        return "village", codes[0]
    listed = ", ".join(codes[:8]) + (", …" if len(codes) > 8 else "")
    raise InputFileError(
        args.file,
        Text(
            f"文件含 {len(codes)} 个村(居)的网格（{listed}）",
            f"the file holds grids of {len(codes)} villages ({listed})",
        ),
        Text(
            "一个草案只含一个村(居)（或镇）：加上 --village CODE 导入该村(居)的网格（9 "
            "位镇编码导入整个镇）",
            "a draft covers one village (or town): add --village CODE to import that village's "
            "grids (a 9-digit town code imports a whole town)",
        ),
    )


def _note_left_out(got: ScopeImport, scope: str, code: str) -> None:
    """Say which grids of other villages the file holds, and warn when they were edited."""
    if not got.left_out:
        return
    n = len(got.left_out)
    print(
        Text(
            f"提醒：只导入 {scope} {code} 的网格；文件中其他 {n:,} 个网格未导入",
            f"note: only {scope} {code} is imported; {n:,} other grids in the file are left out",
        ),
        file=sys.stderr,
    )
    edited = got.edited_left_out
    if edited:
        listed = f"{edited[:10]}{' …' if len(edited) > 10 else ''}"
        print(
            Text(
                f"警告：其中 {len(edited)} 个与已发布版本不同，这些修改未导入：{listed}；请用各自"
                "的 --village 分别导入每个村(居)",
                f"warning: {len(edited)} of them differ from the published version and are NOT "
                f"imported: {listed}; import each village with its own --village",
            ),
            file=sys.stderr,
        )


def _print_diff(diff: VersionDiff, a: str, b: str) -> None:
    table = diff.grids
    counts = table["status"].value_counts()
    added, removed, changed, unchanged = (
        counts.get(k, 0) for k in ("added", "removed", "changed", "unchanged")
    )
    said = Text(
        f"新增 {added}，删除 {removed}，变更 {changed}，不变 {unchanged}",
        f"added {added}, removed {removed}, changed {changed}, unchanged {unchanged}",
    )
    print(f"{a} → {b}: {said}")
    rows = table[table["status"] != "unchanged"]
    if len(rows):
        print(
            f"  {'状态/status':<9} {'网格/grid':<16} {'面积/area m²':>23}  "
            f"{'住户/households':>15}  变更/changed"
        )
    for r in _records(rows.head(_MAX_ROWS)):
        what = ["geometry" if r["geometry_changed"] else "", str(r["changed_columns"])]
        columns = ",".join(filter(None, what))
        print(
            f"  {r['status']:<9} {r['grid_code']:<16} "
            f"{_pair(r['area_a_m2'], r['area_b_m2']):>23}  "
            f"{_pair(r['households_a'], r['households_b']):>15}  {columns}"
        )
    if len(rows) > _MAX_ROWS:
        rest = len(rows) - _MAX_ROWS
        more = Text(
            f"… 另有 {rest} 个（用 --out FILE 全部写出）",
            f"… and {rest} more (write them all with --out FILE)",
        )
        print(f"  {more}")
    flows = diff.flows
    moved = flows[flows["from_grid"] != flows["to_grid"]]
    area = float(moved.loc[(moved["from_grid"] != "") & (moved["to_grid"] != ""), "area_m2"].sum())
    homes = int(moved["households"].sum())
    moves = Text(
        f"住户改换网格：{homes:,}；面积转移：{area:,.0f} m²",
        f"households changing grid: {homes:,}; area changing grid: {area:,.0f} m²",
    )
    print(f"  {moves}")


def _pair(a: object, b: object) -> str:
    """``a → b`` as whole numbers, ``—`` for a side without the grid."""

    def one(v: object) -> str:
        number = pd.to_numeric(pd.Series([v]), errors="coerce").iloc[0]
        return "—" if pd.isna(number) else f"{number:,.0f}"

    return f"{one(a)} → {one(b)}"


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    return [{str(k): v for k, v in row.items()} for row in frame.to_dict("records")]


def _diff_frame(
    diff: VersionDiff, old: gpd.GeoDataFrame, new: gpd.GeoDataFrame
) -> gpd.GeoDataFrame:
    """The per-grid diff with each grid's shape (the newer one; the older for removed grids)."""
    table = diff.grids.copy()
    table["geometry_changed"] = table["geometry_changed"].astype(bool)
    shapes = pd.concat(
        [new[["grid_code", "geometry"]], old[["grid_code", "geometry"]]], ignore_index=True
    ).drop_duplicates("grid_code")
    out = table.merge(shapes, on="grid_code", how="left")
    return gpd.GeoDataFrame(out, geometry="geometry", crs=new.crs)


def _problem_record(row: dict[str, Any]) -> dict[str, Any]:
    """A row of the check's table for JSON: ``message`` and ``hint`` as ``{"zh": …, "en": …}``."""
    return {k: v.as_dict() if isinstance(v, Text) else v for k, v in row.items()}


def _print_problems(report: DraftReport, *, errors_only: bool = False, file: Any = None) -> None:
    for p in report.errors if errors_only else report.problems:
        print(
            f"{p.severity.upper():7} {p.feature:20} {report.villages_of.get(p.feature, ''):12} "
            f"[{p.code}] {p.message} — {p.hint}",
            file=file or sys.stdout,
        )


__all__ = [
    "add_parser",
    "find_draft",
    "open_grid_store",
    "run",
    "scope_for",
]
