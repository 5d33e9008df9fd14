"""``python -m geo users`` (add, list, disable, enable, reset accounts) and ``python -m geo
audit`` (the audit trail, filtered, as a table, CSV or JSON)."""

from __future__ import annotations

import argparse
import json
import sys

from geo.cli._args import both, existing_store
from geo.core.i18n import Text

_STORE_HINT = Text(
    "先接入县域：python -m geo onboard --grids … --store FILE.gpkg",
    "onboard the county first: python -m geo onboard --grids … --store FILE.gpkg",
)


def _store_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--store", required=True, help=both("GeoPackage 路径或 PostGIS URL", ".gpkg or URL")
    )


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register the ``users`` and ``audit`` commands."""
    from geo.access.principal import Role

    u = sub.add_parser("users", help=both("账号管理", "manage accounts"))
    actions = u.add_subparsers(dest="action", required=True)
    add = actions.add_parser("add", help=both("新增账号", "add an account"))
    add.add_argument("name", help=both("用户名", "username"))
    add.add_argument("--role", required=True, choices=[r.value for r in Role])
    add.add_argument(
        "--town",
        action="append",
        default=[],
        help=both("镇（区）名称或代码，可重复", "town name or code (repeat for several)"),
    )
    add.add_argument(
        "--grids", default="", help=both("网格员的网格代码，逗号分隔", "a grid worker's grid codes")
    )
    add.add_argument("--display-name", default="", help=both("显示姓名", "name shown"))
    add.add_argument(
        "--password-stdin",
        action="store_true",
        required=True,
        help=both("从标准输入读取密码（一行）", "read the password from standard input"),
    )
    _store_arg(add)
    listing = actions.add_parser("list", help=both("列出账号", "list accounts"))
    listing.add_argument("--json", action="store_true", help=both("输出 JSON", "print JSON"))
    _store_arg(listing)
    for name, zh, en in (("disable", "停用账号", "disable an account"),
                         ("enable", "启用账号", "enable an account again")):  # fmt: skip
        a = actions.add_parser(name, help=both(zh, en))
        a.add_argument("name", help=both("用户名", "username"))
        _store_arg(a)
    reset = actions.add_parser("reset", help=both("重置密码并解除锁定", "new password, unlock"))
    reset.add_argument("name", help=both("用户名", "username"))
    reset.add_argument("--password-stdin", action="store_true", required=True)
    _store_arg(reset)

    sec = sub.add_parser(
        "secure-postgis",
        help=both("为看板的数据库角色设置行级安全", "row-level security for the dashboard's role"),
        description=both(
            "由表的所有者运行一次：创建或更新看板使用的数据库角色（非超级用户、不拥有县域数据表），"
            "并在每张带镇、村、网格代码的表上启用并强制行级安全。看板随后用该角色连接。",
            "run once by the tables' owner: creates or updates the database role the "
            "dashboard uses (no superuser, owning none of the county's tables) and puts forced "
            "row-level security on every table with a town, village or grid code. The "
            "dashboard then connects as that role.",
        ),
    )
    sec.add_argument("--store", required=True, help=both("所有者的 PostGIS URL", "the owner's URL"))
    sec.add_argument("--schema", default="public", help=both("模式", "schema"))
    sec.add_argument("--app-role", required=True, help=both("看板的数据库角色", "the app's role"))
    sec.add_argument("--password-stdin", action="store_true", required=True)

    a = sub.add_parser("audit", help=both("审计记录", "the audit trail"))
    _store_arg(a)
    a.add_argument("--from", dest="since", help=both("起始日期或时间（北京时间）", "from"))
    a.add_argument("--to", dest="until", help=both("截止日期或时间（日期含当天）", "until"))
    a.add_argument("--user", help=both("只看此用户", "this user only"))
    a.add_argument("--action", help=both("只看此类操作，如 sign_in", "this action only"))
    a.add_argument("--out", help=both("写入 CSV 文件", "write a CSV file"))
    a.add_argument("--json", action="store_true", help=both("输出 JSON", "print JSON"))


def _password() -> str:
    line = sys.stdin.readline()
    password = line.rstrip("\r\n")
    if not password:
        raise ValueError(
            Text("标准输入没有密码", "no password on standard input (echo … | python -m geo …)")
        )
    return password


def run_users(args: argparse.Namespace) -> int:
    """Run ``users``: 0 done, 2 refused (the reason on standard error)."""
    from geo.access import users
    from geo.store.base import open_store

    store = open_store(existing_store(args.store, _STORE_HINT))
    if args.action == "add":
        who = users.add_user(
            store,
            args.name,
            role=args.role,
            password=_password(),
            towns=args.town,
            grids=[g for g in args.grids.split(",") if g.strip()],
            display_name=args.display_name,
        )
        scope = who.scope.label
        print(Text(f"已新增 {who.username}（{who.role}，{scope}）",
                   f"added {who.username} ({who.role}, {scope})"))  # fmt: skip
    elif args.action == "list":
        table = users.list_users(store)
        if args.json:
            print(json.dumps(table.to_dict("records"), ensure_ascii=False, default=str))
        else:
            print(table.to_string(index=False) if len(table) else Text("没有账号", "no accounts"))
    elif args.action == "disable":
        users.disable_user(store, args.name)
        print(Text(f"已停用 {args.name}", f"disabled {args.name}"))
    elif args.action == "enable":
        users.enable_user(store, args.name)
        print(Text(f"已启用 {args.name}", f"enabled {args.name}"))
    else:
        users.reset_password(store, args.name, _password())
        print(Text(f"已重置 {args.name} 的密码", f"new password set for {args.name}"))
    return 0


def run_audit(args: argparse.Namespace) -> int:
    """Run ``audit``: the rows on standard output (or ``--out`` CSV), 0."""
    from geo.access.audit import read_audit
    from geo.store.base import open_store
    from geo.views.safety import safe_csv

    store = open_store(existing_store(args.store, _STORE_HINT))
    rows = read_audit(store, since=args.since, until=args.until, username=args.user,
                      action=args.action)  # fmt: skip
    if args.out:
        with open(args.out, "wb") as f:
            f.write(safe_csv(rows))
        print(Text(f"{len(rows)} 条审计记录", f"{len(rows)} audit row(s)"), "→", args.out)
    elif args.json:
        print(json.dumps(rows.to_dict("records"), ensure_ascii=False))
    else:
        print(rows.to_string(index=False) if len(rows) else Text("没有记录", "no rows"))
    return 0


def run_secure(args: argparse.Namespace) -> int:
    """Run ``secure-postgis``: 0 done, 2 refused."""
    from geo.store.postgis import PostGISStore, secure_schema

    if not str(args.store).startswith(("postgresql", "postgres://")):
        raise ValueError(Text("--store 须为 PostgreSQL URL", "--store must be a PostgreSQL URL"))
    tables = secure_schema(PostGISStore(args.store, schema=args.schema),
                           app_role=args.app_role, app_password=_password())  # fmt: skip
    print(Text(f"已为 {args.app_role} 在 {len(tables)} 张表上启用行级安全：{'、'.join(tables)}",
               f"row-level security for {args.app_role} on {len(tables)} table(s): "
               f"{', '.join(tables)}"))  # fmt: skip
    return 0
