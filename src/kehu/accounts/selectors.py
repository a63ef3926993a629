"""Reads of people: who can be picked as an owner, a share target or a filter value."""

from __future__ import annotations

from django.db.models import QuerySet

from kehu.accounts.models import User
from kehu.accounts.policy import access_for


def users_active() -> QuerySet[User]:
    """People a customer can be handed to or shared with."""
    return User.objects.filter(is_active=True, is_system=False).order_by("display_name", "username")


def user_get_active(pk: int | str | None) -> User | None:
    """An active person (not the system actor) a customer or task can be given to, or None."""
    if pk is None or not str(pk).isdigit():
        return None
    return users_active().filter(pk=int(pk)).first()


def users_in_scope(viewer: User) -> QuerySet[User]:
    """The colleagues whose customers `viewer` can see: the owner filter's choices."""
    access = access_for(viewer)
    users = users_active()
    return users if access.sees_all else users.filter(pk__in=sorted(access.owner_ids or ()))
