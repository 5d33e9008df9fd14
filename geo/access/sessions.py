"""A signed-in session: when it started and was last used, and when it ends (idle timeout,
absolute expiry, sign-out). The page keeps the :class:`Session`; these functions decide."""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass, replace

from geo.access.principal import Principal
from geo.core.i18n import Text
from geo.core.settings import get_settings

#: Why a session ended, in both languages.
ENDED: dict[str, Text] = {
    "idle": Text("长时间未操作，已自动退出，请重新登录", "signed out after a long idle time; "
                 "please sign in again"),
    "expired": Text("登录已到期，请重新登录", "the sign-in has expired; please sign in again"),
    "disabled": Text("账号已停用或已变更，请重新登录", "the account was disabled or changed; "
                     "please sign in again"),
    "token": Text("单点登录凭证已过期，请重新登录", "the single sign-on token has expired; "
                  "please sign in again"),
}  # fmt: skip


@dataclass(frozen=True)
class Session:
    """One browser's sign-in.

    Attributes
    ----------
    principal
        Who signed in.
    session_id
        A random id (recorded in the audit as the object of sign-in and sign-out).
    started_at, last_seen_at
        UTC times of the sign-in and of the last page run.
    token_expires_at
        For single sign-on, when the identity provider's token expires (``None`` otherwise).
    token
        For single sign-on, the token's :func:`~geo.access.oidc.token_key` (recorded when
        the session ends, so the same token cannot open it again).
    """

    principal: Principal
    session_id: str
    started_at: dt.datetime
    last_seen_at: dt.datetime
    token_expires_at: dt.datetime | None = None
    token: str = ""


def start_session(
    principal: Principal,
    *,
    now: dt.datetime | None = None,
    token_expires_at: dt.datetime | None = None,
    token: str = "",
) -> Session:
    """A new session for ``principal``."""
    now = now or dt.datetime.now(dt.UTC)
    sid = secrets.token_urlsafe(18)
    return Session(replace(principal, session_id=sid), sid, now, now, token_expires_at, token)


def session_end_reason(session: Session, *, now: dt.datetime | None = None) -> str | None:
    """``None`` while the session holds; else why it ended: ``idle``, ``expired`` or
    ``token`` (see :data:`ENDED`)."""
    cfg = get_settings()
    now = now or dt.datetime.now(dt.UTC)
    if now - session.last_seen_at > dt.timedelta(minutes=cfg.session_idle_minutes):
        return "idle"
    if now - session.started_at > dt.timedelta(hours=cfg.session_max_hours):
        return "expired"
    if session.token_expires_at is not None and now >= session.token_expires_at:
        return "token"
    return None


def touched(session: Session, *, now: dt.datetime | None = None) -> Session:
    """The session used now (its idle clock starts again)."""
    return replace(session, last_seen_at=now or dt.datetime.now(dt.UTC))
