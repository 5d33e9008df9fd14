"""The audit trail: who did what, when, in which scope, to which object — append-only.

One row per action: sign-ins and failed sign-ins, sign-outs, unmaskings, exports and
downloads, intakes, quarantine fixes, draft saves, publishes and rollbacks, user changes.
The table refuses updates and deletes in the database itself (a trigger; see
:data:`geo.store.base.APPEND_ONLY`). Times are Beijing time (UTC+8), as people read them.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, TypeAlias, cast

import pandas as pd

from geo.core.clock import now_beijing
from geo.core.i18n import Text
from geo.store.base import Store, Transaction

if TYPE_CHECKING:
    from geo.access.principal import Principal

AUDIT = "audit"

#: The actions recorded (``action`` column), each in both languages.
ACTION_NAMES: dict[str, Text] = {
    "sign_in": Text("登录", "signed in"),
    "sign_in_failed": Text("登录失败", "sign-in refused"),
    "sign_out": Text("退出登录", "signed out"),
    "session_ended": Text("会话结束", "session ended"),
    "unmask": Text("查看完整个人信息", "personal data shown"),
    "download": Text("下载", "download"),
    "export": Text("导出", "export"),
    "intake": Text("工单导入", "ticket intake"),
    "quarantine_fix": Text("更正待处理行", "quarantine fixed"),
    "quarantine_drop": Text("放弃待处理行", "quarantine dropped"),
    "onboard": Text("县域接入", "county onboarded"),
    "draft_save": Text("保存草案", "draft saved"),
    "publish": Text("发布网格版本", "grid version published"),
    "rollback": Text("回退网格版本", "grid version rolled back"),
    "user_add": Text("新增账号", "account added"),
    "user_disable": Text("停用账号", "account disabled"),
    "user_enable": Text("启用账号", "account enabled"),
    "user_reset": Text("重置密码", "password reset"),
    "refused": Text("操作被拒绝", "action refused"),
}
ACTIONS = tuple(ACTION_NAMES)

COLUMNS = ("at", "username", "role", "action", "scope", "object", "detail", "via")

#: Whom an audited change records: a signed-in user, or the name of an operator who ran a
#: command on the server without signing in (recorded with the role ``operator``).
Audited: TypeAlias = "Principal | str | None"


def _template() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series([], dtype=object) for c in COLUMNS})


def ensure_audit(store: Store) -> None:
    """Create the audit table (append-only, indexed by time and user) if missing."""
    if AUDIT in store.layers():
        return
    store.create_tables(
        {AUDIT: _template()},
        indexes={AUDIT: [("at",), ("username",)]},
        append_only=[AUDIT],
    )


def audit_row(
    action: str,
    *,
    who: Principal | None = None,
    username: str = "",
    obj: str = "",
    detail: Mapping[str, object] | str = "",
    at: dt.datetime | None = None,
) -> pd.DataFrame:
    """One audit row (``who`` signed in, or just the ``username`` tried)."""
    if action not in ACTIONS:
        raise ValueError(f"unknown audit action {action!r}; one of {ACTIONS}")
    stamp = (at or now_beijing()).strftime("%Y-%m-%d %H:%M:%S")
    text = detail if isinstance(detail, str) else json.dumps(detail, ensure_ascii=False)
    row = {
        "at": stamp,
        "username": who.username if who else username,
        "role": str(who.role) if who else "",
        "action": action,
        "scope": who.scope.label if who else "",
        "object": obj,
        "detail": text,
        "via": who.via if who else "",
    }
    return pd.DataFrame({k: [v] for k, v in row.items()})


def audited_row(
    action: str, who: Principal | str, *, obj: str, detail: Mapping[str, object] | str = ""
) -> pd.DataFrame:
    """The audit row of ``action`` done by ``who`` (see :data:`Audited`)."""
    if isinstance(who, str):
        row = audit_row(action, username=who, obj=obj, detail=detail)
        return row.assign(role="operator", scope="*", via="command")
    return audit_row(action, who=who, obj=obj, detail=detail)


def record(
    target: Store | Transaction,
    action: str,
    *,
    who: Audited = None,
    username: str = "",
    obj: str = "",
    detail: Mapping[str, object] | str = "",
) -> None:
    """Append one audit row, of ``who`` (see :data:`Audited`) or of the ``username`` tried:
    inside ``target``'s transaction when a transaction is given (it lands with the action or
    not at all), else in a transaction of its own."""
    if who is None:
        row = audit_row(action, username=username, obj=obj, detail=detail)
    else:
        row = audited_row(action, who, obj=obj, detail=detail)
    if hasattr(target, "layers"):  # a store: a transaction of its own
        store = cast(Store, target)
        ensure_audit(store)
        with store.transaction() as tx:
            tx.append(AUDIT, row)
    else:
        cast(Transaction, target).append(AUDIT, row)


def read_audit(
    store: Store,
    *,
    since: str | None = None,
    until: str | None = None,
    username: str | None = None,
    action: str | None = None,
) -> pd.DataFrame:
    """Audit rows, oldest first; ``since`` / ``until`` are Beijing times or dates
    (``2026-12-01``, ``2026-12-01 08:00``), ``until`` a date meaning that whole day."""
    start = _stamp(since) if since else ""
    end = _stamp(until) if until else ""
    if AUDIT not in store.layers():
        return _template()
    where: dict[str, object] = {}
    if username:
        where["username"] = username
    if action:
        where["action"] = action
    with store.transaction(readonly=True) as tx:
        rows = pd.DataFrame(tx.read(AUDIT, where=where or None))
    rows = rows.reindex(columns=list(COLUMNS)).fillna("")
    if start:
        rows = rows[rows["at"] >= start]
    if end:
        rows = rows[rows["at"] <= (end + " 23:59:59" if len(end) == 10 else end)]
    return rows.sort_values("at", kind="stable").reset_index(drop=True)


def _stamp(text: str) -> str:
    """A date or time as the audit writes it (``YYYY-MM-DD[ HH:MM:SS]``)."""
    text = text.strip()
    try:
        when = pd.Timestamp(text)
    except ValueError as exc:
        raise ValueError(
            f"{text!r} is not a date or time (give 2026-12-01 or 2026-12-01 08:00)"
        ) from exc
    if len(text) <= 10:
        return when.strftime("%Y-%m-%d")
    return when.strftime("%Y-%m-%d %H:%M:%S")
