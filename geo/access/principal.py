"""Who is asking: the roles of the county's command structure (县—镇—村—网格 "1+N+N"), what
each may do, and the signed-in :class:`Principal` with its :class:`~geo.core.scope.Scope`."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from geo.core.i18n import Text
from geo.core.scope import OutOfScopeError, Scope


class Role(StrEnum):
    """A user's role (the values are what ``--role`` and the users table hold)."""

    COUNTY = "county"  # 县指挥中心: the whole county
    TOWN = "town"  # 镇（区）领导: their own town only
    GRID = "grid"  # 网格员: their own grids, read-only
    PLANNER = "planner"  # 规划员: edits drafts of their assigned towns
    REVIEWER = "reviewer"  # 审核人: publishes a planner's draft, never their own
    VIEWER = "viewer"  # 只读: masked, county-wide or one town
    ADMIN = "admin"  # 管理员: users, settings, the audit


#: Each role in both languages.
ROLE_NAMES: dict[Role, Text] = {
    Role.COUNTY: Text("县指挥中心", "county command centre"),
    Role.TOWN: Text("镇（区）领导", "town leader"),
    Role.GRID: Text("网格员", "grid worker"),
    Role.PLANNER: Text("规划员", "planner"),
    Role.REVIEWER: Text("审核人", "reviewer"),
    Role.VIEWER: Text("只读", "viewer"),
    Role.ADMIN: Text("管理员", "administrator"),
}


class Permission(StrEnum):
    """What a role may do beyond reading its scope."""

    READ = "read"  # the county's pages, in scope
    UNMASK = "unmask"  # a caller's name and phone, one ticket at a time, with a reason
    EXPORT = "export"  # downloads and reports
    EDIT_DRAFT = "edit_draft"  # save drafts of grid boundaries
    PUBLISH = "publish"  # publish another planner's draft, roll back
    INTAKE = "intake"  # take in exports, fix the quarantine, onboard
    ADMIN = "admin"  # users, settings, the audit


PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.COUNTY: frozenset({Permission.READ, Permission.UNMASK, Permission.EXPORT,
                            Permission.INTAKE}),
    Role.TOWN: frozenset({Permission.READ, Permission.UNMASK, Permission.EXPORT}),
    Role.GRID: frozenset({Permission.READ}),
    Role.PLANNER: frozenset({Permission.READ, Permission.EDIT_DRAFT, Permission.EXPORT}),
    Role.REVIEWER: frozenset({Permission.READ, Permission.PUBLISH, Permission.EXPORT}),
    Role.VIEWER: frozenset({Permission.READ}),
    Role.ADMIN: frozenset({Permission.ADMIN, Permission.INTAKE}),
}  # fmt: skip

#: Roles whose scope is one or more towns (given with ``--town``).
TOWN_ROLES = frozenset({Role.TOWN, Role.PLANNER})
#: Roles that may be limited to one town, or see the county.
OPTIONAL_TOWN_ROLES = frozenset({Role.VIEWER})


@dataclass(frozen=True)
class Principal:
    """A signed-in user.

    Attributes
    ----------
    username
        The account name.
    role
        Its :class:`Role`.
    towns
        Town codes of a town leader, a planner, or a viewer limited to a town; empty
        otherwise.
    grids
        Grid codes of a grid worker; empty otherwise.
    display_name
        The name shown and recorded (the account name when none was given).
    via
        How the user signed in: ``password`` or ``oidc``.
    """

    username: str
    role: Role
    towns: tuple[str, ...] = ()
    grids: tuple[str, ...] = ()
    display_name: str = ""
    via: str = "password"
    session_id: str = field(default="", compare=False)

    @property
    def name(self) -> str:
        """The name recorded as author and in the audit."""
        return self.display_name or self.username

    @property
    def scope(self) -> Scope:
        """The part of the county this user may see."""
        if self.role == Role.ADMIN:
            return Scope.of_towns(())  # the admin manages users, not citizens' data
        if self.role == Role.GRID:
            return Scope.of_grids(self.grids)
        if self.towns:
            return Scope.of_towns(self.towns)
        return Scope.county()

    def can(self, permission: Permission) -> bool:
        """Whether the role holds ``permission``."""
        return permission in PERMISSIONS[self.role]

    def require(self, permission: Permission, action: Text) -> None:
        """Raise :class:`~geo.core.scope.OutOfScopeError` unless the role holds
        ``permission``; ``action`` says what was tried."""
        if not self.can(permission):
            role = ROLE_NAMES[self.role]
            raise OutOfScopeError(
                Text(
                    f"{self.name}（{role.zh}）无权{action.zh}",
                    f"{self.name} ({role.en}) may not {action.en}",
                )
            )
