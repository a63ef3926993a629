"""The central scoping layer.

Every model that holds customer data uses a manager built from
`ScopedQuerySet`; `visible_to(user, action)` is the only way code reads such
rows on behalf of a person. Out-of-scope rows are simply absent, so lookups
through it turn into 404s and counts, search and exports never leak.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Self

from django.db import models
from django.db.models import F, Q

from kehu.accounts.policy import Access, access_for

if TYPE_CHECKING:
    from kehu.accounts.models import User

VIEW = "view"
CHANGE = "change"
ACTIONS = (VIEW, CHANGE)


class ScopedQuerySet(models.QuerySet):
    """A queryset whose rows belong to a customer reached through `customer_path`.

    `customer_path` is "" for the customer itself and "customer__" for a contact,
    an order, a communication and every other row attached to one customer.
    """

    customer_path: str = "customer__"

    def visible_to(self, user: User | None, action: str = VIEW) -> Self:
        if action not in ACTIONS:
            raise ValueError(f"unknown action {action!r}")
        access = access_for(user)
        if access.user_id is None or (action == CHANGE and not access.can_write):
            return self.none()
        qs = self.filter(**{f"{self.customer_path}deleted_at__isnull": True})
        return scope_filter(qs, access, self.customer_path)

    def in_recycle_bin_of(self, user: User | None) -> Self:
        """Soft-deleted customers whose owner is in the user's scope (shares do not count:
        a colleague a customer was shared with does not get to restore it)."""
        access = access_for(user)
        if access.user_id is None:
            return self.none()
        qs = self.filter(**{f"{self.customer_path}deleted_at__isnull": False})
        return scope_filter(qs, replace(access, shared_ids=frozenset()), self.customer_path)


def scope_filter(qs: models.QuerySet, access: Access, path: str = "") -> models.QuerySet:
    """`qs` narrowed to the customers (reached via `path`) that `access` covers.

    One owner is an equality the (owner, updated_at, id) index serves in list order.
    Several owners (a manager's department) are compared as `owner_id + 0`, which no
    index can serve: without fresh statistics SQLite would otherwise fetch every row
    of every owner through the owner index and sort them all for one page, where
    walking the list's sort index and skipping other owners' rows stays cheap.
    """
    if access.sees_all:
        return qs
    owners = sorted(access.owner_ids)
    if len(owners) == 1:
        by_owner = Q(**{f"{path}owner_id": owners[0]})
    else:
        qs = qs.alias(_scope_owner=F(f"{path}owner_id") + 0)
        by_owner = Q(_scope_owner__in=owners)
    if not access.shared_ids:
        return qs.filter(by_owner)
    return qs.filter(by_owner | Q(**{f"{path}id__in" if path else "id__in": sorted(access.shared_ids)}))


class CustomerBoundQuerySet(ScopedQuerySet):
    """For rows attached to one customer through a `customer` foreign key."""

    customer_path = "customer__"
