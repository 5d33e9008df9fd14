"""What the subcommands share: help in both languages, and the ``--columns`` help."""

from __future__ import annotations

import argparse
import getpass
import socket
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from geo.core.errors import InputFileError
from geo.core.i18n import Text

if TYPE_CHECKING:
    from geo.access.principal import Principal
    from geo.store.base import Store


def both(zh: str, en: str) -> str:
    """A help text in Chinese and English, as the command line shows it (``中文 / English``)."""
    return str(Text(zh, en))


COLUMNS_HELP = both(
    "列名映射：本名=文件中的列名，对每个输入文件都适用，如 grid_code=WGBM,lon=经度,lat=纬度",
    "column mapping, our_name=their_name pairs applying to every input, "
    "e.g. grid_code=WGBM,lon=经度,lat=纬度",
)


def existing_store(location: object, hint: Text) -> str:
    """``--store`` as given; refused, with ``hint``, when it names a missing GeoPackage."""
    text = str(location)
    if not text.startswith(("postgresql", "postgres://")) and not Path(text).exists():
        raise InputFileError(text, Text("存储文件不存在", "no such GeoPackage"), hint)
    return text


def account_arg(p: argparse.ArgumentParser) -> None:
    """``--as NAME``: run the command as a signed-in account (password on standard input)."""
    p.add_argument(
        "--as",
        dest="as_user",
        metavar="NAME",
        help=both(
            "以此账号身份运行（密码从标准输入读取一行）：范围、权限与审计与网页相同；不指定时为"
            "服务器操作员（能直接读写存储的人），审计记为操作员",
            "run as this account (its password read from standard input): its scope, "
            "permissions and audit rows, as on the pages; without it the command runs as the "
            "server's operator (who can reach the store anyway) and is audited as such",
        ),
    )


def signed_in(args: argparse.Namespace, store: Store) -> Principal | None:
    """The account of ``--as``, signed in with the password on standard input (a failed
    sign-in is refused and audited as on the sign-in page); None without ``--as``."""
    from geo.access.users import authenticate

    name = getattr(args, "as_user", None)
    if not name:
        return None
    password = sys.stdin.readline().rstrip("\r\n")
    return authenticate(store, str(name), password)


def operator() -> str:
    """The name recorded for a command run without ``--as``: the login running it."""
    try:
        return f"{getpass.getuser()}@{socket.gethostname()}"
    except (OSError, KeyError):
        return str(Text("命令行", "command line"))


def acting(who: Principal | None) -> Principal | str:
    """Whom the audit records: the signed-in account, else the operator."""
    return who if who is not None else operator()
