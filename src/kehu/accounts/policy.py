"""The visibility policy: the only place that turns a user into "which customers".

Everything that reads or writes customer data asks `access_for(user)`; the
scoped querysets in `kehu.core.scoping` turn the answer into a `Q`.
"""

from __future__ import annotations

from dataclasses import dataclass

from kehu.accounts.models import DataScope, Department, User


@dataclass(frozen=True)
class Access:
    """What one user may do. `owner_ids` is None when the scope is the whole company."""

    user_id: int | None
    scope: str
    owner_ids: frozenset[int] | None
    shared_ids: frozenset[int]
    can_write: bool
    masks_sensitive: bool
    is_admin: bool

    @property
    def sees_all(self) -> bool:
        return self.owner_ids is None


NO_ACCESS = Access(None, DataScope.OWN, frozenset(), frozenset(), False, True, False)


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


def covers_owner(access: Access, owner_id: int) -> bool:
    """Whether customers owned by `owner_id` fall within `access` (who may be made an owner)."""
    return access.sees_all or owner_id in access.owner_ids


def forget_access(user: User) -> None:
    """Drop the cached answer after a role, department or manager change."""
    user.__dict__.pop("_kehu_access", None)


def _compute_access(user: User) -> Access:
    role = user.role
    if user.is_superuser or (role is not None and role.is_admin):
        return Access(user.pk, DataScope.ALL, None, frozenset(), True, False, True)
    shared = _shared_customer_ids(user)
    if role is None:
        return Access(user.pk, DataScope.OWN, frozenset({user.pk}), shared, False, False, False)
    owner_ids = _owner_ids_for_scope(user, role.data_scope)
    if owner_ids is None:
        shared = frozenset()
    return Access(user.pk, role.data_scope, owner_ids, shared, role.can_write,
                  role.masks_sensitive, False)


def _shared_customer_ids(user: User) -> frozenset[int]:
    """Customers shared with the user. Read once per request: usually none or a handful,
    and a literal list lets the database keep using the owner index when it is empty."""
    from kehu.customers.models import CustomerShare  # customers depends on accounts

    return frozenset(CustomerShare.objects.filter(user=user).values_list("customer_id", flat=True))


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
