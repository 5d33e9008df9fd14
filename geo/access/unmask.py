"""Showing a caller's name and phone in full: a permission, one ticket at a time, with a
reason, written to the audit before anything is shown."""

from __future__ import annotations

import pandas as pd

from geo.access.audit import AUDIT, audit_row, ensure_audit
from geo.access.principal import Permission, Principal
from geo.core.i18n import Text
from geo.core.scope import OutOfScopeError
from geo.store.base import Store

#: The personal fields of a ticket that unmasking shows.
PERSONAL = ("caller_name", "caller_phone")


def unmask_ticket(store: Store, who: Principal, ticket_id: str, *, reason: str) -> dict[str, str]:
    """The caller's name and phone of one ticket, in full; the audit row lands first.

    Raises
    ------
    OutOfScopeError
        The role may not unmask, or the ticket is outside the caller's scope (then the
        ticket is said not to exist, as for one that does not).
    ValueError
        No reason was given.
    """
    who.require(Permission.UNMASK, Text("查看完整个人信息", "see personal data in full"))
    reason = reason.strip()
    if len(reason) < 2:
        raise ValueError(str(Text("请填写查看理由", "give a reason for seeing it")))
    with store.transaction(readonly=True) as tx:
        present = tx.columns("issues")
        wanted = ["ticket_id", "town_code", "grid_code", *[c for c in PERSONAL if c in present]]
        rows = pd.DataFrame(tx.read("issues", columns=wanted, where={"ticket_id": str(ticket_id)}))
    rows = pd.DataFrame(who.scope.filter(rows))
    if rows.empty:
        raise OutOfScopeError(Text(f"没有工单 {ticket_id}（或不在本人范围内）",
                                   f"no ticket {ticket_id} (or not in your scope)"))  # fmt: skip
    row = rows.iloc[-1]
    ensure_audit(store)
    with store.transaction() as tx:
        tx.append(
            AUDIT,
            audit_row("unmask", who=who, obj=f"ticket:{ticket_id}", detail={"reason": reason}),
        )
    return {c: "" if pd.isna(row.get(c)) else str(row.get(c)) for c in PERSONAL}
