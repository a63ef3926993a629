"""The org-chart policy: the only place that turns a user into "which owners, which rights".

It knows users, roles and departments and nothing else. The customer scoping gate
(`kehu.customers.scoping`) turns the answer into a `Q` and adds soft deletion and
shares, which only the customers know about.
"""

from __future__ import annotations

from dataclasses import dataclass

from kehu.accounts.models import DataScope, Department, User
from kehu.core.errors import PermissionDenied


@dataclass(frozen=True)
class Access:
    """What one user may do. `owner_ids` is None when the scope is the whole company."""

    user_id: int | None
    scope: str
    owner_ids: frozenset[int] | None
    can_write: bool
    masks_sensitive: bool
    is_admin: bool
    manages_catalogue: bool = False
    may_export: bool = False
    may_import: bool = False
    may_delete: bool = False
    may_merge: bool = False
    may_use_pool: bool = False
    may_reveal: bool = False

    @property
    def sees_all(self) -> bool:
        return self.owner_ids is None


NO_ACCESS = Access(None, DataScope.OWN, frozenset(), False, True, False)


def access_for(user: User | None) -> Access:
    """Compute (once per user object) what `user` may see and change."""
    if user is None or not user.is_authenticated or not user.is_active:
        return NO_ACCESS
    cached = getattr(user, "_kehu_access", None)
    if cached is not None:
        return cached
    access = _compute_access(user)
    user._kehu_access = access
    return access


def require_admin(user: User | None, message: str) -> None:
    """403 for anyone but an admin; `message` names what only admins may do."""
    if not access_for(user).is_admin:
        raise PermissionDenied(str(message))


def covers_owner(access: Access, owner_id: int) -> bool:
    """Whether customers owned by `owner_id` fall within `access`."""
    return access.sees_all or owner_id in access.owner_ids


def assignable_user(actor: User, user_id: object) -> User | None:
    """The active person `actor` may make an owner or a share target, or None.

    The one rule for both: an active, non-system user inside the actor's own scope
    (a rep hands over to nobody but themselves; a manager within the department tree).
    """
    try:
        pk = int(user_id)  # type: ignore[call-overload]
    except (TypeError, ValueError):
        return None
    if not 0 < pk < 2**63 or not covers_owner(access_for(actor), pk):
        return None
    return User.objects.filter(pk=pk, is_active=True, is_system=False).first()


def forget_access(user: User) -> None:
    """Drop the cached answer after a role, department or manager change."""
    user.__dict__.pop("_kehu_access", None)


def _compute_access(user: User) -> Access:
    role = user.role
    if user.is_superuser or (role is not None and role.is_admin):
        return Access(user.pk, DataScope.ALL, None, True, False, True, True, True,
                      may_import=True, may_delete=True, may_merge=True, may_use_pool=True,
                      may_reveal=True)
    if role is None:
        return Access(user.pk, DataScope.OWN, frozenset({user.pk}), False, False, False)
    owner_ids = _owner_ids_for_scope(user, role.data_scope)
    return Access(user.pk, role.data_scope, owner_ids, role.can_write, role.masks_sensitive,
                  False, role.can_write and role.manages_catalogue, role.may_export,
                  may_import=role.can_write and role.may_import,
                  may_delete=role.can_write and role.may_delete,
                  may_merge=role.can_write and role.may_merge,
                  may_use_pool=role.may_use_pool,
                  may_reveal=role.may_reveal)


def _owner_ids_for_scope(user: User, scope: str) -> frozenset[int] | None:
    if scope == DataScope.ALL:
        return None
    if scope == DataScope.OWN:
        return frozenset({user.pk})
    if scope == DataScope.OWN_AND_SUBORDINATES:
        return frozenset({user.pk} | subordinate_ids(user))
    if user.department_id is None:
        return frozenset({user.pk})
    if scope == DataScope.DEPARTMENT:
        member_ids = User.objects.filter(department_id=user.department_id)
    else:
        member_ids = User.objects.filter(department__in=department_subtree(user.department))
    return frozenset({user.pk, *member_ids.values_list("pk", flat=True)})


def subordinate_ids(user: User) -> set[int]:
    """Everyone below `user` in the reporting line, however deep."""
    found: set[int] = set()
    frontier = {user.pk}
    while frontier:
        frontier = set(
            User.objects.filter(manager_id__in=frontier).exclude(pk__in=found | {user.pk})
            .values_list("pk", flat=True)
        )
        found |= frontier
    return found


def department_subtree(department: Department):
    """The department and every department nested below it."""
    return Department.objects.filter(path__startswith=department.path)
