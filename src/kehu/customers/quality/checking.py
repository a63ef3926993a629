"""Re-validation: the stored values of customers run through their own cleaners again.

A value that was fine when it was written may not be today — a cleaner grew stricter, a
custom field became required or lost an option, a row came in by a path that skipped
cleaning. `problems_of` asks `customers.cleaning` (the one validation path) about each
customer's stored fields, its custom values and its contacts, and returns every problem
as {"field", "reason"}; `problems_write` stores them on the quality rows of a batch.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import Q
from django.utils import timezone

from kehu.customers.cleaning import (
    CUSTOMER_FIELDS,
    check_kind_fields,
    clean_contact,
    clean_custom_values,
    clean_customer,
)
from kehu.customers.models import Contact, Customer, CustomField, CustomValue
from kehu.customers.quality.models import CustomerQuality

CONTACT_CHECKED = ("name", "title", "wechat", "decision_role", "phones", "email")
MAX_PROBLEMS = 50  # per customer: enough to fix, small enough for a JSON column


def problems_of(customer: Customer, custom_values: dict[str, Any], contacts: list[Contact],
                custom_fields: list[CustomField]) -> list[dict[str, str]]:
    """Every problem the cleaners find in one customer's stored values."""
    found: list[dict[str, str]] = []
    data = {field: getattr(customer, field) for field in CUSTOMER_FIELDS}
    region: list[dict[str, str]] = []  # kept as typed, never refused: flagged here
    found += _errors(lambda: check_kind_fields(clean_customer(data, region_problems=region)),
                     prefix="")
    found += region
    found += _errors(lambda: clean_custom_values(custom_fields, custom_values, partial=False),
                     prefix="")  # its errors name "custom.<key>" already
    for contact in contacts:
        values = {field: getattr(contact, field) for field in CONTACT_CHECKED}
        found += _errors(lambda values=values: clean_contact(values),
                         prefix=f"contact.{contact.pk}.", label=contact.name)
    return found[:MAX_PROBLEMS]


def _errors(clean: Any, *, prefix: str, label: str = "") -> list[dict[str, str]]:
    try:
        clean()
    except ValidationError as exc:
        where = f"{label} · " if label else ""
        return [{"field": f"{prefix}{field}",
                 "reason": f"{where}{message}"}
                for field, messages in exc.message_dict.items() for message in messages]
    return []


def problems_write(customers: Iterable[Customer]) -> int:
    """Re-validate `customers` (live rows, read once) and store what was found on their
    quality rows; a customer found clean loses its old problems. Returns how many have one."""
    rows = list(customers)
    ids = [c.pk for c in rows]
    fields = list(CustomField.objects.filter(is_active=True))
    values = _custom_values(ids, fields)
    contacts: dict[int, list[Contact]] = defaultdict(list)
    for contact in Contact.objects.filter(customer_id__in=ids).order_by("customer_id", "id"):
        contacts[contact.customer_id].append(contact)
    now = timezone.now()
    found = {c.pk: problems_of(c, values.get(c.pk, {}), contacts[c.pk], fields) for c in rows}
    existing = set(CustomerQuality.objects.filter(customer_id__in=ids)
                   .values_list("customer_id", flat=True))
    update = [CustomerQuality(customer_id=pk, problems=p, problem_count=len(p), checked_at=now)
              for pk, p in found.items() if pk in existing]
    CustomerQuality.objects.bulk_update(update, ["problems", "problem_count", "checked_at"],
                                        batch_size=500)
    CustomerQuality.objects.bulk_create(
        [CustomerQuality(customer_id=pk, problems=p, problem_count=len(p), checked_at=now)
         for pk, p in found.items() if pk not in existing], batch_size=500)
    return sum(1 for p in found.values() if p)


def _custom_values(ids: list[int], fields: list[CustomField]) -> dict[int, dict[str, Any]]:
    """{customer: {field key: the stored value}} for the active custom fields, typed as
    the cleaners take them (a multiple choice as a list of options)."""
    by_id = {f.pk: f for f in fields}
    out: dict[int, dict[str, Any]] = defaultdict(dict)
    rows = CustomValue.objects.filter(customer_id__in=ids, field_id__in=list(by_id)) \
        .order_by("customer_id", "field_id", "id")
    for row in rows:
        field = by_id[row.field_id]
        value = getattr(row, field.value_column)
        if value is None:
            continue
        if field.field_type == "multi_choice":
            out[row.customer_id].setdefault(field.key, []).append(value)
        else:
            out[row.customer_id][field.key] = value
    return out


def live_batch(after: int, size: int) -> list[Customer]:
    """The next `size` live customers by id after `after` (a unit of the re-validation)."""
    return list(Customer.objects.filter(Q(pk__gt=after), deleted_at__isnull=True)
                .order_by("pk")[:size])
