"""What the administration page shows: accounts (no hashes) with their roles and towns in
words, the towns to choose from, and the audit trail as a table for people."""

from __future__ import annotations

import pandas as pd

from geo.access import ROLE_NAMES, Permission, Principal, Role, list_users, read_audit
from geo.access.audit import ACTION_NAMES
from geo.core.i18n import Text
from geo.store.base import Store


def town_choices(store: Store) -> dict[str, str]:
    """Town code → name, in code order (for giving an account its town)."""
    if "towns" not in store.layers():
        return {}
    towns = pd.DataFrame(store.read("towns"))[["town_code", "town_name"]].astype(str)
    towns = towns.sort_values("town_code")
    return dict(zip(towns["town_code"], towns["town_name"], strict=True))


def users_table(store: Store, lang: str) -> pd.DataFrame:
    """Every account: name, role and towns in words, disabled and locked state."""
    table = list_users(store)
    names = town_choices(store)
    out = table.copy()
    out["role"] = [ROLE_NAMES[Role(r)].pick(lang) for r in table["role"]]
    out["towns"] = [
        "、".join(names.get(c, c) for c in str(codes).split(",") if c) for codes in table["towns"]
    ]
    out["disabled"] = table["disabled"].astype(int).astype(bool)
    return out


def audit_table(
    store: Store,
    who: Principal,
    lang: str,
    *,
    since: str | None = None,
    until: str | None = None,
    username: str | None = None,
    action: str | None = None,
) -> pd.DataFrame:
    """The audit rows chosen, newest first, actions and roles in words (as the page lists
    them); ``who`` must be an administrator."""
    who.require(Permission.ADMIN, Text("查看审计记录", "read the audit"))
    rows = read_audit(store, since=since, until=until, username=username, action=action)
    rows = rows.iloc[::-1].reset_index(drop=True)
    rows["action"] = [
        ACTION_NAMES[a].pick(lang) if a in ACTION_NAMES else a for a in rows["action"]
    ]
    rows["role"] = [ROLE_NAMES[Role(r)].pick(lang) if r else "" for r in rows["role"]]
    return rows
