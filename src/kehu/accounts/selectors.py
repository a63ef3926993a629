"""Reads of people: who can be picked as an owner, a share target or a filter value."""

from __future__ import annotations

from django.db.models import Count, Q, QuerySet

from kehu.accounts.models import ApiToken, Department, User
from kehu.accounts.policy import access_for, covers_owner


def users_active() -> QuerySet[User]:
    """People a customer can be handed to or shared with."""
    return User.objects.filter(is_active=True, is_system=False).order_by("display_name", "username")


def user_find(text: str) -> User | None:
    """An active person by username or display name, as a sheet's 负责人 column names them
    (a display name two people share finds nobody rather than the wrong one)."""
    name = str(text or "").strip()
    by_username = users_active().filter(username=name).first()
    if by_username is not None:
        return by_username
    named = list(users_active().filter(display_name=name)[:2])
    return named[0] if len(named) == 1 else None


def user_get_active(pk: int | str | None) -> User | None:
    """An active person (not the system actor) a customer or task can be given to, or None."""
    text = str(pk).strip() if pk is not None else ""
    if not text.isascii() or not text.isdigit() or not 0 < int(text) < 2**63:
        return None
    return users_active().filter(pk=int(text)).first()


def owner_candidate(actor: User, pk: int | str | User | None) -> User | None:
    """Who `actor` may make the owner of a customer or a deal: an active person in their scope.

    The one rule for owners everywhere (customer create, opportunities, later tasks)."""
    user = user_get_active(pk.pk if isinstance(pk, User) else pk)
    if user is None or not covers_owner(access_for(actor), user.pk):
        return None
    return user


def users_in_scope(viewer: User) -> QuerySet[User]:
    """The colleagues whose customers `viewer` can see: the owner filter's choices."""
    access = access_for(viewer)
    users = users_active()
    return users if access.sees_all else users.filter(pk__in=sorted(access.owner_ids or ()))


def tokens_of(viewer: User) -> list[ApiToken]:
    """The viewer's own API tokens, newest first (revoked and expired ones included)."""
    return list(ApiToken.objects.filter(user=viewer).order_by("-created_at"))


def team_users(*, search: str = "", department_id: int | None = None,
               role_id: int | None = None, active: str = "yes") -> QuerySet[User]:
    """The people on 成员与权限 (the system actor never): by name or username, by department
    (with the departments below it), by role, active (`yes`), deactivated (`no`) or both."""
    users = User.objects.filter(is_system=False).select_related("role", "department", "manager")
    if search:
        users = users.filter(Q(username__icontains=search) | Q(display_name__icontains=search))
    if department_id:
        department = Department.objects.filter(pk=department_id).first()
        users = users.filter(department__path__startswith=department.path) if department \
            else users.none()
    if role_id:
        users = users.filter(role_id=role_id)
    if active in ("yes", "no"):
        users = users.filter(is_active=active == "yes")
    return users.order_by("-is_active", "display_name", "username")


def departments_tree() -> list[Department]:
    """Every department in tree order (parents before their children, siblings by name),
    each with `depth` (0 at the top) and `members` (active people in it)."""
    counts = dict(User.objects.filter(is_active=True, is_system=False, department__isnull=False)
                  .values_list("department").annotate(n=Count("pk")))
    rows = list(Department.objects.all())
    names = {row.pk: row.name for row in rows}
    rows.sort(key=lambda d: [(names.get(int(p), ""), int(p)) for p in d.path.strip("/").split("/")
                             if p])
    for row in rows:
        row.depth = row.path.strip("/").count("/")
        row.member_count = counts.get(row.pk, 0)
    return rows
