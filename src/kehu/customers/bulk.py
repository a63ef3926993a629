"""Batched reads and writes for imports (issue 9): one query per batch, never per row.

So far: looking up a batch's match keys. The batched create/update services follow.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from django.db.models import Q

from kehu.customers.models import CustomerKey


def keys_lookup(pairs: Iterable[tuple[str, str]]) -> dict[tuple[str, str], set[int]]:
    """(kind, value) -> ids of the live customers holding that key, for a whole batch.

    No scope here on purpose: a match on a customer outside the importer's scope must be
    seen (and refused without revealing it), not mistaken for "no such customer"."""
    wanted: dict[str, set[str]] = defaultdict(set)
    for kind, value in pairs:
        if value:
            wanted[kind].add(value)
    found: dict[tuple[str, str], set[int]] = defaultdict(set)
    if not wanted:
        return found
    condition = Q()
    for kind, values in wanted.items():
        condition |= Q(kind=kind, value__in=sorted(values))
    rows = (CustomerKey.objects.filter(condition, customer__deleted_at__isnull=True)
            .values_list("kind", "value", "customer_id"))
    for kind, value, customer_id in rows:
        found[(kind, value)].add(customer_id)
    return found
