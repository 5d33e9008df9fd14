"""Who may see and do what: roles of the county's command structure, signed-in principals
and their scope, Argon2id passwords and lockout, sessions, single sign-on claims, unmasking
with a reason, and the append-only audit trail."""

from geo.access.audit import ACTION_NAMES, ACTIONS, AUDIT, read_audit, record
from geo.access.oidc import principal_from_claims
from geo.access.passwords import PARAMETERS, hash_password, verify_password
from geo.access.principal import PERMISSIONS, ROLE_NAMES, Permission, Principal, Role
from geo.access.sessions import ENDED, Session, session_end_reason, start_session, touched
from geo.access.unmask import unmask_ticket
from geo.access.users import (
    AccountError,
    SignInError,
    add_user,
    authenticate,
    current_principal,
    disable_user,
    enable_user,
    list_users,
    reset_password,
)
from geo.core.scope import OutOfScopeError, Scope

__all__ = [
    "ACTIONS",
    "ACTION_NAMES",
    "AUDIT",
    "ENDED",
    "PARAMETERS",
    "PERMISSIONS",
    "ROLE_NAMES",
    "AccountError",
    "OutOfScopeError",
    "Permission",
    "Principal",
    "Role",
    "Scope",
    "Session",
    "SignInError",
    "add_user",
    "authenticate",
    "current_principal",
    "disable_user",
    "enable_user",
    "hash_password",
    "list_users",
    "principal_from_claims",
    "read_audit",
    "record",
    "reset_password",
    "session_end_reason",
    "start_session",
    "touched",
    "unmask_ticket",
    "verify_password",
]
