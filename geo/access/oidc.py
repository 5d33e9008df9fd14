"""Single sign-on: a county's identity provider (OIDC, e.g. an on-premises Keycloak) says who
signed in; one compact claim gives the role, one the town. Streamlit's ``st.login`` does the
protocol; it does not check the token's expiry, so :func:`principal_from_claims` does."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Mapping

from geo.access.principal import OPTIONAL_TOWN_ROLES, TOWN_ROLES, Principal, Role
from geo.access.users import SignInError
from geo.core.i18n import Text
from geo.store.base import Store

#: The claim holding the role (one of :class:`~geo.access.principal.Role`'s values).
ROLE_CLAIM = "gridgov_role"
#: The claim holding the town code(s), comma-separated (town leaders, planners, viewers).
TOWN_CLAIM = "gridgov_town"
#: The claim holding a grid worker's grid codes, comma-separated.
GRIDS_CLAIM = "gridgov_grids"


def principal_from_claims(
    claims: Mapping[str, object], *, now: dt.datetime | None = None
) -> tuple[Principal, dt.datetime]:
    """The user an ID token's claims describe, and when the token expires (UTC).

    Raises
    ------
    SignInError
        The token has no ``exp`` or has expired, or the role claim is missing or unknown,
        or a town role comes without its town.
    """
    now = now or dt.datetime.now(dt.UTC)
    exp = claims.get("exp")
    if not isinstance(exp, int | float) or isinstance(exp, bool):
        raise SignInError(
            Text("单点登录凭证没有有效期（exp）", "the token has no expiry (exp)"), "token"
        )
    expires = dt.datetime.fromtimestamp(float(exp), dt.UTC)
    if expires <= now:
        raise SignInError(
            Text("单点登录凭证已过期，请重新登录", "the token has expired; sign in again"), "token"
        )
    raw = str(claims.get(ROLE_CLAIM) or "").strip()
    try:
        role = Role(raw)
    except ValueError:
        roles = ", ".join(r.value for r in Role)
        raise SignInError(
            Text(f"单点登录未给出有效角色（{ROLE_CLAIM}={raw!r}，可选 {roles}），请联系管理员",
                 f"the identity provider gave no valid role ({ROLE_CLAIM}={raw!r}; one of "
                 f"{roles}); ask an administrator"),
            "role",
        ) from None  # fmt: skip
    towns = _codes(claims.get(TOWN_CLAIM))
    grids = _codes(claims.get(GRIDS_CLAIM))
    needed = GRIDS_CLAIM if role == Role.GRID else TOWN_CLAIM
    if (role in TOWN_ROLES and not towns) or (role == Role.GRID and not grids):
        raise SignInError(
            Text(f"单点登录未给出该角色所需的 {needed}",
                 f"the identity provider gave no {needed} for this role"),
            "role",
        )  # fmt: skip
    if role not in TOWN_ROLES | OPTIONAL_TOWN_ROLES:
        towns = ()
    username = str(
        claims.get("preferred_username") or claims.get("email") or claims.get("sub") or ""
    )
    name = str(claims.get("name") or "")
    principal = Principal(username, role, towns=towns, grids=grids if role == Role.GRID else (),
                          display_name=name, via="oidc")  # fmt: skip
    return principal, expires


def _codes(value: object) -> tuple[str, ...]:
    if isinstance(value, list | tuple):
        return tuple(str(v).strip() for v in value if str(v).strip())
    return tuple(c.strip() for c in str(value or "").split(",") if c.strip())


def token_key(claims: Mapping[str, object]) -> str:
    """A short id of one ID token (its subject, issue time, nonce and expiry), recorded with
    the session it opened so that a session that ended is not opened again from the same
    token (Streamlit keeps the token in a cookie for 30 days)."""
    parts = [str(claims.get(k, "")) for k in ("iss", "sub", "iat", "nonce", "exp")]
    return hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()[:20]


def token_ended(store: Store, claims: Mapping[str, object]) -> bool:
    """Whether a session opened from this token has ended (timed out, expired, signed out):
    then only a new sign-in at the identity provider opens a session again."""
    from geo.access.audit import read_audit

    key = token_key(claims)
    rows = read_audit(store, action="session_ended")
    for detail in rows["detail"]:
        try:
            if json.loads(detail).get("token") == key:
                return True
        except (ValueError, AttributeError):
            continue
    return False
