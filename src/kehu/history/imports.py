"""What an import of orders and communications asks of the history, one batch at a time.

The import (`kehu.transfer`) plans a thousand rows with a few queries: which order
numbers exist already, which products a sheet names, which communications it would
repeat, and — for undo — the versions of what it wrote. Writes go through the history's
own cleaners and the gate: `communications_bulk_log` and `orders_bulk_create` are the
set-based twins of `communication_log` and `order_create` (the same cleaning, the gate once
a batch: bench/results/import-history-sqlite.md), and undo goes through
`*_delete` with the version each record was left at.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext as _

from kehu.accounts.models import User
from kehu.core.inserts import insert_dicts
from kehu.core.models import ChangeLog
from kehu.core.signals import announce_customers_changed
from kehu.customers.bulk import contact_customers
from kehu.customers.scoping import CHANGE, customer_ids_for
from kehu.history.cleaning import clean_communication
from kehu.history.models import Communication, Order, OrderLine, Product
from kehu.history.orders import clean_order, new_order_number, number_taken

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


# --- writing a batch: the set-based twins of communication_log and order_create ------------

Written = tuple[list[tuple[int, int]], dict[int, list[str]]]  # [(index, id)], {index: errors}


@transaction.atomic
def communications_bulk_log(*, actor: User, origin: str, items: list[tuple[int, dict[str, Any]]],
                            note: dict[str, Any]) -> Written:
    """`communication_log` for a batch (an import): each item (customer id, data) through
    the same cleaner, the gate asked once for all customers (CHANGE), the contacts checked
    against their customers in one query, then one INSERT for the rows and one for their
    change log. An item that fails is reported by its index and the others are written."""
    allowed = customer_ids_for(actor, {c for c, _d in items}, CHANGE)
    owners = contact_customers({d["contact"] for _c, d in items if d.get("contact")})
    rows, kept, errors = [], [], {}
    for index, (customer_id, data) in enumerate(items):
        if customer_id not in allowed:
            errors[index] = [_("客户已不存在，或已不在你可以修改的范围内")]
            continue
        try:
            values = clean_communication(data)
        except ValidationError as exc:
            errors[index] = [m for ms in exc.message_dict.values() for m in ms]
            continue
        if values.get("contact") and owners.get(values["contact"]) != customer_id:
            errors[index] = [_("联系人不属于这个客户")]
            continue
        values["contact_id"] = values.pop("contact", None)
        rows.append({**values, "customer_id": customer_id, "created_by_id": actor.pk,
                     "origin": origin, "version": 1})
        kept.append(index)
    ids = insert_dicts(Communication, rows)
    _log_created(actor, origin, "history.communication", ids, rows, note,
                 lambda row: {"channel": row["channel"], "subject": row.get("subject", "")})
    return list(zip(kept, ids, strict=True)), errors


@transaction.atomic
def orders_bulk_create(*, actor: User, origin: str, items: list[tuple[int, dict[str, Any]]],
                       note: dict[str, Any]) -> Written:
    """`order_create` for a batch: the header and lines of each item through the same
    cleaners (`orders.clean_order`), the gate once, the numbers checked in one query and
    guarded by the unique constraint, then one INSERT for orders, lines and change log."""
    allowed = customer_ids_for(actor, {c for c, _d in items}, CHANGE)
    cleaned, kept, errors = [], [], {}
    for index, (customer_id, data) in enumerate(items):
        if customer_id not in allowed:
            errors[index] = [_("客户已不存在，或已不在你可以修改的范围内")]
            continue
        try:
            header, lines, total = clean_order(data, partial=False)
        except ValidationError as exc:
            errors[index] = [m for ms in exc.message_dict.values() for m in ms]
            continue
        header["number"] = header.get("number") or new_order_number(header["ordered_on"])
        cleaned.append((customer_id, header, lines, total))
        kept.append(index)
    taken = orders_by_number(n for _c, h, _l, _t in cleaned
                             for n in (h["number"], h.get("external_number")) if n)
    for position in reversed(range(len(cleaned))):
        header = cleaned[position][1]
        clash = [n for n in (header["number"], header.get("external_number")) if n in taken]
        if clash:
            errors[kept[position]] = [number_taken(clash[0])]
            del cleaned[position], kept[position]
    rows = [{**header, "customer_id": customer_id, "total": total, "created_by_id": actor.pk,
             "origin": origin, "version": 1} for customer_id, header, _l, total in cleaned]
    ids = insert_dicts(Order, rows)
    insert_dicts(OrderLine, [{**line, "product_id": line["product"].pk, "order_id": pk}
                             for pk, (_c, _h, lines, _t) in zip(ids, cleaned, strict=True)
                             for line in lines])  # "product" (an instance) is no column
    _log_created(actor, origin, "history.order", ids, rows, note,
                 lambda row: {"number": row["number"], "total": str(row["total"])})
    return list(zip(kept, ids, strict=True)), errors


def _log_created(actor: User, origin: str, model: str, ids: list[int], rows: list[dict],
                 note: dict[str, Any], summary: Any) -> None:
    insert_dicts(ChangeLog, [{"actor_id": actor.pk, "origin": origin, "action": "create",
                              "model": model, "object_id": pk, "customer_id": row["customer_id"],
                              "changes": {**summary(row), **note}}
                             for pk, row in zip(ids, rows, strict=True)])
    announce_customers_changed(row["customer_id"] for row in rows)
