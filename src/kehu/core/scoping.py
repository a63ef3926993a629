"""The central scoping layer.

Every model that holds customer data uses a manager built from
`ScopedQuerySet`; `visible_to(user, action)` is the only way code reads such
rows on behalf of a person. Out-of-scope rows are simply absent, so lookups
through it turn into 404s and counts, search and exports never leak.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Self

from django.db import models
from django.db.models import Q

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
        return qs.filter(scope_q(access, self.customer_path))


def scope_q(access: Access, path: str = "") -> Q:
    """The `Q` of customers (reached via `path`) that `access` covers."""
    if access.sees_all:
        return Q()
    owners = sorted(access.owner_ids)
    by_owner = Q(**{f"{path}owner_id": owners[0]}) if len(owners) == 1 \
        else Q(**{f"{path}owner_id__in": owners})
    if not access.shared_ids:
        return by_owner
    return by_owner | Q(**{f"{path}id__in" if path else "id__in": sorted(access.shared_ids)})


class CustomerBoundQuerySet(ScopedQuerySet):
    """For rows attached to one customer through a `customer` foreign key."""

    customer_path = "customer__"
