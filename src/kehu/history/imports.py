"""What an import of orders and communications asks of the history, one batch at a time.

The import (`kehu.transfer`) plans a thousand rows with a few queries: which order
numbers exist already, which products a sheet names, which communications it would
repeat, and — for undo — the versions of what it wrote. Writes go through the history's
own services (`order_create`, `communication_log`, `*_delete`), the one write path.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable

from django.db.models import Q

from kehu.accounts.models import User
from kehu.history.models import Communication, Order, Product

CHUNK = 500
MODELS = {"history.order": Order, "history.communication": Communication}


def _chunks(values: Iterable, size: int = CHUNK) -> Iterable[list]:
    ordered = sorted(set(values))
    for start in range(0, len(ordered), size):
        yield ordered[start:start + size]


def orders_by_number(numbers: Iterable[str]) -> dict[str, tuple[int, int]]:
    """number or external number -> (order id, customer id), whoever's order it is.

    Unscoped on purpose: numbers are unique across the company, so the import must know
    a number is taken; it never says by whom (`orders.number_taken`).
    """
    found: dict[str, tuple[int, int]] = {}
    for chunk in _chunks(n for n in numbers if n):
        rows = Order.objects.filter(Q(number__in=chunk) | Q(external_number__in=chunk))
        for pk, customer_id, number, external in rows.values_list(
                "pk", "customer_id", "number", "external_number"):
            found[number] = (pk, customer_id)
            if external:
                found[external] = (pk, customer_id)
    return found


def products_for_refs(refs: Iterable[str]) -> dict[str, list[Product]]:
    """SKU or exact product name -> the products it names (a SKU names one; a name may
    name several, which the import refuses as ambiguous)."""
    found: dict[str, list[Product]] = defaultdict(list)
    for chunk in _chunks(r for r in refs if r):
        for product in Product.objects.filter(Q(sku__in=chunk) | Q(name__in=chunk)):
            if product.sku in chunk:
                found[product.sku].append(product)
            if product.name in chunk and product.name != product.sku:
                found[product.name].append(product)
    return found


CommunicationKey = tuple[int, dt.datetime, str, str, str]


def communication_keys(customer_ids: Iterable[int],
                       moments: Iterable[dt.datetime]) -> set[CommunicationKey]:
    """(customer, moment, channel, subject, content) of the communications of these
    customers at these moments: a sheet row equal to one of them is in already, and a
    re-import skips it. The index comm_timeline (customer, occurred_at) serves it."""
    keys: set[CommunicationKey] = set()
    wanted = list(set(moments))
    for chunk in _chunks(customer_ids):
        rows = Communication.objects.filter(customer_id__in=chunk,
                                            occurred_at__in=wanted).values_list(
            "customer_id", "occurred_at", "channel", "subject", "content")
        keys.update(rows)
    return keys


def record_versions(*, viewer: User, model: str,
                    ids: Iterable[int]) -> dict[int, tuple[int, str | None]]:
    """id -> (version, name) of the orders or communications that still exist; the name
    is None where the record left `viewer`'s scope (undo then names it by number only)."""
    table = MODELS[model]
    versions: dict[int, tuple[int, str | None]] = {}
    for chunk in _chunks(ids):
        visible = {row.pk: str(row) for row in table.objects.visible_to(viewer)
                   .filter(pk__in=chunk).only("pk", *_name_fields(model))}
        versions.update((pk, (version, visible.get(pk))) for pk, version in
                        table.objects.filter(pk__in=chunk).values_list("pk", "version"))
    return versions


def _name_fields(model: str) -> tuple[str, ...]:
    return ("number",) if model == "history.order" else ("subject", "channel")
