"""Downloads and personal data on every page: a download button whose use is audited, and the
panel that shows one ticket's caller in full after a reason is given."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import streamlit as st

from geo.access import Permission, record, unmask_ticket
from geo.core.errors import GridGovError
from geo.views.errors import explain
from pages.views._common import lang, plain, principal, store, tr


def audited_download(
    where: Any,
    label: str,
    data: bytes | Callable[[], bytes],
    file_name: str,
    *,
    mime: str,
    key: str | None = None,
    disabled: bool = False,
) -> None:
    """A download button whose use is written to the audit (who, which file, in what scope)."""

    def downloaded() -> None:
        record(store(), "download", who=principal(), obj=f"file:{file_name}")

    where.download_button(label, data, file_name, mime=mime, key=key, disabled=disabled,
                          on_click=downloaded)  # fmt: skip


def unmask_panel(ticket_ids: list[str], key: str) -> None:
    """For a role that may (县指挥中心, the ticket's own town): one ticket's caller in full,
    after a reason is given; the audit holds who, which ticket and why."""
    who = principal()
    if not who.can(Permission.UNMASK) or not ticket_ids:
        return
    t = tr()
    with st.expander(t("unmask_title")):
        st.caption(t("unmask_note"))
        ticket = st.selectbox(t("ticket_id"), ticket_ids, key=f"{key}_ticket")
        why = st.text_input(t("unmask_reason"), key=f"{key}_reason", max_chars=200)
        if st.button(t("unmask_go"), key=f"{key}_go"):
            try:
                shown = unmask_ticket(store(), who, str(ticket), reason=why)
            except (GridGovError, ValueError) as exc:
                st.error(plain(explain(exc, lang())))
            else:
                st.info(
                    f"{t('caller_name')} {plain(shown['caller_name']) or '—'} · "
                    f"{t('caller_phone')} {plain(shown['caller_phone']) or '—'}"
                )
