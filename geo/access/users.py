"""Local accounts kept in the county's store: adding, listing, disabling, resetting, and
signing in with a lockout after repeated failures.

The ``users`` table holds the account name, role, towns or grids, the Argon2id hash
(:mod:`geo.access.passwords`), whether the account is disabled, and the count of failed
sign-ins in a row with the time the lock ends. Every change is written with its audit row
in one store transaction.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence

import pandas as pd

from geo.access.audit import AUDIT, audit_row, ensure_audit
from geo.access.passwords import hash_password, needs_rehash, verify_password
from geo.access.principal import (
    OPTIONAL_TOWN_ROLES,
    ROLE_NAMES,
    TOWN_ROLES,
    Permission,
    Principal,
    Role,
)
from geo.core.errors import GridGovError
from geo.core.i18n import Text
from geo.core.settings import get_settings
from geo.store.base import Store, StoreError, Transaction

USERS = "users"
#: The columns :func:`list_users` shows (never the hash).
LISTED = ("username", "display_name", "role", "towns", "grids", "disabled", "locked_until")
_NAME = re.compile(r"^[\w.@-]{2,64}$")
#: Shortest password a real account may have (the demo's ``demo`` accounts are the exception).
MIN_PASSWORD = 8


#: The synthetic demo store's accounts (password ``demo``): listed on the sign-in page only
#: when the store is the synthetic demo; a real store has none until ``users add``.
DEMO_ACCOUNTS: tuple[tuple[str, Role, tuple[str, ...]], ...] = (
    ("county", Role.COUNTY, ()),
    ("hede", Role.TOWN, ("合德镇",)),
    ("planner", Role.PLANNER, ("合德镇",)),
    ("reviewer", Role.REVIEWER, ()),
    ("viewer", Role.VIEWER, ()),
    ("admin", Role.ADMIN, ()),
)
DEMO_PASSWORD = "demo"


class AccountError(GridGovError):
    """An account cannot be added or changed as asked."""


class SignInError(GridGovError):
    """A sign-in was refused. ``reason``: ``wrong`` (unknown name or wrong password, said
    alike), ``locked`` or ``disabled``."""

    def __init__(self, message: Text, reason: str) -> None:
        super().__init__(message)
        self.reason = reason


def _template() -> pd.DataFrame:
    text = {c: pd.Series([], dtype=object) for c in ("username", "display_name", "role", "towns",
            "grids", "password_hash", "locked_until", "created_at", "updated_at")}  # fmt: skip
    return pd.DataFrame({**text, "disabled": pd.Series([], dtype="int64"),
                         "failed": pd.Series([], dtype="int64")})  # fmt: skip


def ensure_users(store: Store) -> None:
    """Create the users and audit tables if missing."""
    if USERS not in store.layers():
        store.create_tables({USERS: _template()}, indexes={USERS: [("username",)]})
    ensure_audit(store)


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _iso(when: dt.datetime) -> str:
    return when.isoformat(timespec="seconds")


def _row(tx: Transaction, username: str) -> pd.Series | None:
    rows = pd.DataFrame(tx.read(USERS, where={"username": username}))
    return None if rows.empty else rows.iloc[-1]


def _codes(text: object) -> tuple[str, ...]:
    return tuple(c for c in str(text or "").split(",") if c)


def principal_from_row(row: pd.Series) -> Principal:
    """The :class:`Principal` of a users-table row."""
    return Principal(
        username=str(row["username"]),
        role=Role(str(row["role"])),
        towns=_codes(row.get("towns")),
        grids=_codes(row.get("grids")),
        display_name=str(row.get("display_name") or ""),
    )


def resolve_towns(store: Store, towns: Sequence[str]) -> tuple[str, ...]:
    """Town codes for ``towns`` given as codes or names (合德镇 or 320924101)."""
    if not towns:
        return ()
    table = pd.DataFrame(store.read("towns"))[["town_code", "town_name"]].astype(str)
    by_name = dict(zip(table["town_name"], table["town_code"], strict=True))
    codes, unknown = [], []
    for town in towns:
        town = str(town).strip()
        if town in set(table["town_code"]):
            codes.append(town)
        elif town in by_name:
            codes.append(by_name[town])
        else:
            unknown.append(town)
    if unknown:
        known = "、".join(f"{n}（{c}）" for n, c in list(by_name.items())[:20])
        raise AccountError(
            Text(
                f"没有镇（区）{unknown}；可选：{known}…",
                f"no town {unknown}; the county has: {known}…",
            )
        )
    return tuple(dict.fromkeys(codes))


def _check_grids(store: Store, grids: Sequence[str]) -> tuple[str, ...]:
    if not grids:
        return ()
    with store.transaction(readonly=True) as tx:
        found = set(pd.DataFrame(tx.read("grids", columns=["grid_code"], where={
            "grid_code": list(grids)}))["grid_code"].astype(str))  # fmt: skip
    unknown = [g for g in grids if g not in found]
    if unknown:
        raise AccountError(Text(f"没有网格 {unknown}", f"no grid {unknown}"))
    return tuple(dict.fromkeys(grids))


def _check_new(username: str, role: Role, towns: Sequence[str], grids: Sequence[str]) -> None:
    if not _NAME.match(username):
        raise AccountError(
            Text(
                f"用户名 {username!r} 不可用：2–64 个字母、数字或 . _ @ -，不含空格",
                f"username {username!r} cannot be used: 2–64 letters, digits or . _ @ -, no spaces",
            )
        )
    said = ROLE_NAMES[role]
    if role in TOWN_ROLES and not towns:
        raise AccountError(
            Text(f"{said.zh}需要 --town（镇名或代码）", f"a {said.en} needs --town (name or code)")
        )
    if role == Role.GRID and not grids:
        raise AccountError(Text("网格员需要 --grids（网格代码）", "a grid worker needs --grids"))
    if towns and role not in TOWN_ROLES | OPTIONAL_TOWN_ROLES:
        raise AccountError(
            Text(f"{said.zh}覆盖全县，不能指定 --town", f"a {said.en} sees the county: no --town")
        )


def _check_password(password: str, *, weak_ok: bool) -> None:
    if len(password) < (1 if weak_ok else MIN_PASSWORD):
        raise AccountError(
            Text(
                f"密码至少 {MIN_PASSWORD} 个字符",
                f"a password needs at least {MIN_PASSWORD} characters",
            )
        )


def add_user(
    store: Store,
    username: str,
    *,
    role: Role | str,
    password: str,
    towns: Sequence[str] = (),
    grids: Sequence[str] = (),
    display_name: str = "",
    by: Principal | None = None,
    weak_ok: bool = False,
) -> Principal:
    """Add an account (its audit row with it); the towns may be given by name or code.

    ``weak_ok`` lets a password shorter than :data:`MIN_PASSWORD` through: the synthetic
    demo's accounts only.
    """
    _may_manage(by)
    role = Role(role)
    _check_new(username, role, towns, grids)
    _check_password(password, weak_ok=weak_ok)
    codes, grid_codes = resolve_towns(store, towns), _check_grids(store, grids)
    digest = hash_password(password)
    ensure_users(store)
    now = _iso(_now())
    with store.transaction() as tx:
        tx.lock(USERS)
        if _row(tx, username) is not None:
            raise AccountError(Text(f"用户 {username} 已存在", f"user {username} exists already"))
        row = {
            "username": username, "display_name": display_name, "role": str(role),
            "towns": ",".join(codes), "grids": ",".join(grid_codes), "password_hash": digest,
            "locked_until": "", "created_at": now, "updated_at": now, "disabled": 0, "failed": 0,
        }  # fmt: skip
        tx.append(USERS, pd.DataFrame({k: [v] for k, v in row.items()}))
        detail = {"role": str(role), "towns": list(codes), "grids": list(grid_codes)}
        tx.append(AUDIT, audit_row("user_add", who=by, obj=f"user:{username}", detail=detail))
    return principal_from_row(pd.Series(row))


def list_users(store: Store) -> pd.DataFrame:
    """Every account (no password hashes), by name."""
    if USERS not in store.layers():
        return pd.DataFrame(columns=list(LISTED))
    with store.transaction(readonly=True) as tx:
        rows = pd.DataFrame(tx.read(USERS))
    return rows[list(LISTED)].sort_values("username").reset_index(drop=True)


def _may_manage(by: Principal | None) -> None:
    """Accounts are changed by an administrator (``None``: the server's operator at the
    command line, who holds the store itself)."""
    if by is not None:
        by.require(Permission.ADMIN, Text("管理账号", "manage accounts"))


def _change(
    store: Store, username: str, action: str, by: Principal | None, **values: object
) -> None:
    _may_manage(by)
    ensure_users(store)
    with store.transaction() as tx:
        tx.lock(USERS)
        if _row(tx, username) is None:
            raise AccountError(Text(f"没有用户 {username}", f"no user {username}"))
        changed: dict[str, list[object]] = {"username": [username], "updated_at": [_iso(_now())]}
        changed |= {k: [v] for k, v in values.items()}
        tx.update(USERS, pd.DataFrame(changed), key="username")
        tx.append(AUDIT, audit_row(action, who=by, obj=f"user:{username}"))


def disable_user(store: Store, username: str, *, by: Principal | None = None) -> None:
    """Disable an account: it can no longer sign in, and its open sessions end."""
    _change(store, username, "user_disable", by, disabled=1)


def enable_user(store: Store, username: str, *, by: Principal | None = None) -> None:
    """Enable a disabled account again."""
    _change(store, username, "user_enable", by, disabled=0, failed=0, locked_until="")


def reset_password(
    store: Store, username: str, password: str, *, by: Principal | None = None
) -> None:
    """Give an account a new password (and lift a lock)."""
    _may_manage(by)
    _check_password(password, weak_ok=False)
    digest = hash_password(password)
    _change(store, username, "user_reset", by, password_hash=digest, failed=0, locked_until="")


def current_principal(store: Store, username: str) -> Principal | None:
    """The account as it is now, ``None`` when it is gone or disabled (checked on each page
    run, so that disabling a user or changing the role takes effect at once)."""
    try:  # no layer listing first: this runs on every page run
        with store.transaction(readonly=True) as tx:
            row = _row(tx, username)
    except StoreError:  # no users table (yet)
        return None
    if row is None or int(row["disabled"]):
        return None
    return principal_from_row(row)


def authenticate(store: Store, username: str, password: str) -> Principal:
    """Check a sign-in; the result and any failure are written to the audit.

    Raises
    ------
    SignInError
        Unknown name or wrong password (said alike, with how many tries are left), a locked
        account (with the minutes left), or a disabled one.
    """
    cfg = get_settings()
    ensure_users(store)
    username = username.strip()
    with store.transaction(readonly=True) as tx:
        row = _row(tx, username)
    now = _now()
    locked = _locked_until(row)
    # The hash is checked outside the write transaction (it takes ~0.2 s), and even for an
    # unknown name, so that the time does not tell whether a name exists.
    good = verify_password(None if row is None else str(row["password_hash"]), password)
    if row is not None and locked is not None and locked > now:
        _failed(store, username, row, "locked", now)
        raise _locked(locked - now)
    if row is not None and int(row["disabled"]):
        _failed(store, username, row, "disabled", now)
        raise SignInError(
            Text("账号已停用，请联系管理员", "this account is disabled; ask an administrator"),
            "disabled",
        )
    if row is None or not good:
        left = _failed(store, username, row, "wrong", now)
        if left == 0:  # this failure locked the account
            raise _locked(dt.timedelta(minutes=cfg.lockout_minutes))
        # The same words for an unknown name and a wrong password (no count of tries left,
        # which would tell that the name exists).
        raise SignInError(Text("用户名或密码不正确", "wrong username or password"), "wrong")
    principal = principal_from_row(row)
    with store.transaction() as tx:
        tx.lock(USERS)
        changed = {"username": [username], "failed": [0], "locked_until": [""]}
        if needs_rehash(str(row["password_hash"])):
            changed["password_hash"] = [hash_password(password)]
        tx.update(USERS, pd.DataFrame(changed), key="username")
        tx.append(AUDIT, audit_row("sign_in", who=principal))
    return principal


def _locked(left: dt.timedelta) -> SignInError:
    minutes = max(1, -(-int(left.total_seconds()) // 60))
    return SignInError(
        Text(
            f"连续登录失败次数过多，账号已锁定，请 {minutes} 分钟后再试或请管理员重置密码",
            f"too many failed sign-ins: the account is locked; try again in {minutes} "
            "minute(s) or ask an administrator to reset the password",
        ),
        "locked",
    )


def _locked_until(row: pd.Series | None) -> dt.datetime | None:
    if row is None or not str(row.get("locked_until") or ""):
        return None
    return dt.datetime.fromisoformat(str(row["locked_until"]))


def _failed(
    store: Store, username: str, row: pd.Series | None, reason: str, now: dt.datetime
) -> int | None:
    """Record a failed sign-in; count it (and lock) for a known account. Returns the
    failures left before the lock, ``None`` for an unknown name."""
    cfg = get_settings()
    with store.transaction() as tx:
        tx.lock(USERS)
        left = None
        current = _row(tx, username) if row is not None else None
        if current is not None and reason == "wrong":
            failed = int(current["failed"]) + 1
            lock = failed >= cfg.lockout_failures
            until = _iso(now + dt.timedelta(minutes=cfg.lockout_minutes)) if lock else ""
            tx.update(USERS, pd.DataFrame({"username": [username], "failed": [failed],
                                           "locked_until": [until]}), key="username")  # fmt: skip
            left = max(cfg.lockout_failures - failed, 0)
        tx.append(
            AUDIT,
            audit_row("sign_in_failed", username=username, detail={"reason": reason}),
        )
    return left
