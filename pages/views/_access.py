"""Sign-in for every page: the form, the session kept in the browser's Streamlit session, its
checks on every run (idle, expiry, a disabled or changed account), sign-out, the pages each
role may open, and a friendly error with a reference id instead of a traceback."""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable

import pandas as pd
import streamlit as st

from geo.access import (
    ENDED,
    ROLE_NAMES,
    Permission,
    Principal,
    SignInError,
    authenticate,
    current_principal,
    record,
    session_end_reason,
    start_session,
    touched,
)
from geo.access.users import DEMO_ACCOUNTS, DEMO_PASSWORD
from geo.core.settings import get_settings
from geo.store.base import Store
from geo.store.county import read_meta
from geo.views.errors import explain
from pages.views._common import SESSION_KEY as _SESSION
from pages.views._common import lang, plain, session, tr
from pages.views._sso import sso_configured

_ENDED_NOTE = "_gridgov_session_ended"
log = logging.getLogger("gridgov")


def checked(store: Store, *, active: bool = True) -> Principal | None:
    """The signed-in user after this run's checks, or ``None`` (then the session has ended
    and :func:`sign_in_form` says why).

    Checks: the idle timeout and the absolute expiry (and a single sign-on token's expiry),
    and for a local account that it still exists, is enabled and has the same role and
    scope. ``active``: this run counts as use (the idle clock starts again).
    """
    current = session()
    if current is None:
        return None
    reason = session_end_reason(current)
    if reason is None and current.principal.via == "password":
        now = current_principal(store, current.principal.username)
        same = now is not None and (now.role, now.towns, now.grids) == (
            current.principal.role, current.principal.towns, current.principal.grids
        )  # fmt: skip
        reason = None if same else "disabled"
    if reason is not None:
        detail = {"reason": reason} | ({"token": current.token} if current.token else {})
        record(store, "session_ended", who=current.principal, obj=f"session:{current.session_id}",
               detail=detail)  # fmt: skip
        del st.session_state[_SESSION]
        st.session_state[_ENDED_NOTE] = reason
        return None
    if active:
        st.session_state[_SESSION] = touched(current)
    return current.principal


def sign_in_form(store: Store) -> None:
    """The sign-in page: 用户名, 密码, 登录; single sign-on when configured; the demo's
    accounts listed only on the synthetic demo store."""
    t = tr()
    synthetic = read_meta(store).get("synthetic") == "true"
    st.title(t("sign_in_title"))
    ended = st.session_state.pop(_ENDED_NOTE, None)
    if ended in ENDED:
        st.info(ENDED[ended].pick(lang()))
    with st.form("signin", enter_to_submit=True):
        username = st.text_input(t("username"), key="signin_user", max_chars=64)
        password = st.text_input(t("password"), type="password", key="signin_password",
                                 max_chars=256)  # fmt: skip
        go = st.form_submit_button(t("sign_in"), key="signin_go", type="primary")
    if go:
        try:
            who = authenticate(store, username, password)
        except SignInError as exc:
            st.error(plain(explain(exc, lang())))
        else:
            st.session_state[_SESSION] = start_session(who)
            st.session_state.pop("signin_password", None)
            st.rerun()
    if sso_configured() and st.button(t("sign_in_sso"), key="signin_sso"):
        st.login()
    if synthetic:
        st.caption(t("demo_accounts_note", password=DEMO_PASSWORD))
        st.dataframe(
            pd.DataFrame(
                {
                    t("username"): [name for name, _, _ in DEMO_ACCOUNTS],
                    t("role"): [ROLE_NAMES[role].pick(lang()) for _, role, _ in DEMO_ACCOUNTS],
                    t("town"): ["、".join(towns) for _, _, towns in DEMO_ACCOUNTS],
                }
            ),
            hide_index=True,
        )


def sign_out_button(store: Store, who: Principal) -> None:
    """The sidebar's signed-in line and its sign-out button."""
    t = tr()
    st.sidebar.caption(
        t("signed_in_as", name=plain(who.name), role=ROLE_NAMES[who.role].pick(lang()))
    )
    if st.sidebar.button(t("sign_out"), key="signout"):
        current = session()
        token = {"token": current.token} if current and current.token else {}
        record(store, "sign_out", who=who, obj=f"session:{current.session_id if current else ''}",
               detail=token)  # fmt: skip
        st.session_state.pop(_SESSION, None)
        if who.via == "oidc":
            st.logout()
        st.rerun()


#: Which pages a role may open (the page's file → the permission it needs).
PAGE_PERMISSION: dict[str, tuple[Permission, ...]] = {
    "pages/views/overview.py": (Permission.READ,),
    "pages/views/hotspots.py": (Permission.READ,),
    "pages/views/services.py": (Permission.READ,),
    "pages/views/loop.py": (Permission.READ,),
    "pages/views/planner.py": (Permission.EDIT_DRAFT, Permission.PUBLISH),
    "pages/views/intake.py": (Permission.INTAKE,),
    "pages/views/admin.py": (Permission.ADMIN,),
    "pages/views/wall.py": (Permission.READ,),
}


def allowed(who: Principal, page_file: str) -> bool:
    """Whether ``who`` may open the page in ``page_file``."""
    return any(who.can(p) for p in PAGE_PERMISSION.get(page_file, ()))


def run_safely(run: Callable[[], None]) -> None:
    """Run the page; an unexpected error is logged with a reference id and shown as a
    friendly message with that id (never a traceback)."""
    try:
        run()
    except Exception as exc:  # every failure becomes a message, logged in full
        if get_settings().show_errors:
            raise
        ref = secrets.token_hex(4).upper()
        log.exception("page error %s: %s", ref, type(exc).__name__)
        st.error(tr()("page_error", ref=ref))
