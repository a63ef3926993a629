"""Reads of the pool on behalf of a viewer: its list (the customer list's search, filters,
paging and masking, narrowed to the viewer's pools), a customer's place in it, settings."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Prefetch, QuerySet

from kehu.accounts.models import User
from kehu.accounts.policy import access_for
from kehu.core.pagination import Page
from kehu.customers.filters import CustomerFilters
from kehu.customers.scoping import MANAGE
from kehu.customers.selectors import customer_allows, customer_list
from kehu.pool.gate import member_pool_ids, pools_of_department
from kehu.pool.models import Pool, PoolEntry, PoolRule


def pools_of(*, viewer: User) -> list[Pool]:
    """The active pools the viewer belongs to (admins: all), by name."""
    return list(Pool.objects.filter(pk__in=sorted(member_pool_ids(viewer))).order_by("name", "pk"))


def pool_customers(*, viewer: User, filters: CustomerFilters, pool_id: int | None = None,
                   cursor: str | None = None, limit: int = 50) -> Page:
    """One page of the customers in the viewer's pools (or one of them): the customer list
    with its search and filters, masked; each row carries `pool_entry`. Someone in no pool
    gets an empty page (a pool they are not in: the same)."""
    pools = sorted(member_pool_ids(viewer))
    if pool_id is not None:
        pools = [pk for pk in pools if pk == pool_id]
    within = PoolEntry.objects.filter(pool_id__in=pools, customer__owner__isnull=True) \
        .values("customer_id")
    page = customer_list(viewer=viewer, filters=filters, cursor=cursor, limit=limit, within=within)
    entries = {e.customer_id: e for e in PoolEntry.objects.filter(
        customer_id__in=[c.pk for c in page.items]).select_related("pool", "previous_owner")}
    for row in page.items:
        row.pool_entry = entries.get(row.pk)
    return page


@dataclass(frozen=True)
class CardPool:
    """The card's 公海 panel: the customer's entry (when in a pool the viewer is in), and
    what the viewer may do: claim, assign, release."""

    entry: PoolEntry | None
    may_claim: bool
    may_release: bool


def customer_pool(*, viewer: User, customer: Any) -> CardPool:
    access = access_for(viewer)
    if customer.owner_id is None:
        entry = PoolEntry.objects.select_related("pool", "previous_owner") \
            .filter(customer_id=customer.pk, pool_id__in=sorted(member_pool_ids(viewer))).first()
        return CardPool(entry, entry is not None and access.can_write, False)
    may_release = (customer_allows(viewer=viewer, pk=customer.pk, action=MANAGE)
                   and _owner_has_a_pool(viewer, customer.owner_id))
    return CardPool(None, False, may_release)


def _owner_has_a_pool(viewer: User, owner_id: int) -> bool:
    """Whether a pool serves the owner's department. A rep's own customer, or a teammate's,
    asks nothing new: the viewer's pools are already known (the gate asked for them), and
    that saves the card two queries."""
    if owner_id == viewer.pk:
        department_id = viewer.department_id
    else:
        department_id = User.objects.filter(pk=owner_id).values_list(
            "department_id", flat=True).first()
    if department_id is not None and department_id == viewer.department_id \
            and not access_for(viewer).is_admin:
        return bool(member_pool_ids(viewer))
    return bool(pools_of_department(department_id))


def pools_for_settings() -> QuerySet[Pool]:
    """Every pool with its departments, rules and how many customers it holds (admins)."""
    return Pool.objects.annotate(held=Count("entries")).prefetch_related(
        "departments", Prefetch("rules", PoolRule.objects.select_related(
            "target_value__dimension").order_by("position", "id"))).order_by("name", "pk")


def pool_settings(*, viewer: User) -> dict[str, Any]:
    return {"pools": list(pools_for_settings())}
