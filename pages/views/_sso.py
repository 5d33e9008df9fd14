"""Single sign-on: after ``st.login`` (OIDC), the identity provider's claims become a session —
role and town from one claim each, the token's expiry checked (Streamlit does not) — or the
sign-in page says why not. A session that ended is not opened again from the same token."""

from __future__ import annotations

from typing import Any

import streamlit as st

from geo.access import SignInError, principal_from_claims, record, start_session
from geo.access.oidc import token_ended, token_key
from geo.store.base import Store
from geo.views.errors import explain
from pages.views._common import SESSION_KEY, lang, plain, session

_REFUSED = "_gridgov_sso_refused"  # the token last refused (audited once)


def sso_configured() -> bool:
    """Whether the secrets configure an identity provider (an ``[auth]`` section)."""
    try:
        return "auth" in st.secrets
    except Exception:  # no secrets file at all
        return False


def sso_session(store: Store) -> None:
    """Open a session from the signed-in identity provider user, or show why not (the
    sign-in page follows; its single sign-on button asks the provider for a new token)."""
    if session() is not None or not sso_configured():
        return
    user: Any = getattr(st, "user", None)
    if user is None or not getattr(user, "is_logged_in", False):
        return
    claims = user.to_dict()
    key = token_key(claims)
    if token_ended(store, claims):
        return  # this token's session ended (idle, expired): a new sign-in is needed
    try:
        who, expires = principal_from_claims(claims)
    except SignInError as exc:
        if st.session_state.get(_REFUSED) != key:
            record(store, "sign_in_failed", username=str(claims.get("sub", "")),
                   detail={"reason": exc.reason, "via": "oidc", "token": key})  # fmt: skip
            st.session_state[_REFUSED] = key
        st.error(plain(explain(exc, lang())))
        return
    st.session_state[SESSION_KEY] = start_session(who, token_expires_at=expires, token=key)
    record(store, "sign_in", who=who, detail={"token": key})
