"""The columns of an order or communication export: the import's headers, the web's values.

Headers are the import's labels (`importable_fields("orders")` / `("communications")`), so
an export re-imports with every column mapped by itself. Orders are written one row per
order line with the order's columns repeated on each line (the import groups rows by order
number). A row is a pair (order, line) or a communication; the customer on it is the one
the selector masked for the viewer, so a masked credit code stays masked here too.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _

from kehu.history.choices import Channel, Direction, OrderStatus
from kehu.transfer.export.columns import Column
from kehu.transfer.mapping import importable_fields

ORDER_KEYS = ("customer", "customer.credit_code", "number", "external_number", "ordered_on",
              "status", "currency", "product", "product_name", "quantity", "unit_price",
              "discount", "amount", "notes")
COMMUNICATION_KEYS = ("customer", "customer.credit_code", "occurred_at", "channel",
                      "direction", "contact", "subject", "content", "outcome", "next_step",
                      "next_follow_up")


def _labels(choices: Any) -> Callable[[str], str]:
    """A choice's label, looked up once per export rather than gettext per row."""
    labels = {value: str(label) for value, label in choices.choices}
    return lambda value: labels.get(value, value)


def number(value: Decimal | None) -> Decimal | int | None:
    """3.000 as 3 and 1.500 as 1.5: what a sheet shows and the import reads back the same."""
    if value is None or not value.is_finite():
        return value
    return int(value) if value == value.to_integral_value() else value.normalize()


def _line(attr: str) -> Callable[[Any], Any]:
    """A line's amount as stored (398.00: money keeps its cents in a CSV)."""
    return lambda row: None if row[1] is None else getattr(row[1], attr)


def _order_getters() -> dict[str, Callable[[Any], Any]]:
    status = _labels(OrderStatus)
    return {
        "customer": lambda row: row[0].customer.name,
        "customer.credit_code": lambda row: row[0].customer.credit_code,
        "number": lambda row: row[0].number,
        "external_number": lambda row: row[0].external_number,
        "ordered_on": lambda row: row[0].ordered_on,
        "status": lambda row: status(row[0].status),
        "currency": lambda row: row[0].currency,
        "product": lambda row: None if row[1] is None else row[1].product.sku,
        "product_name": lambda row: None if row[1] is None else row[1].product.name,
        "quantity": lambda row: None if row[1] is None else number(row[1].quantity),
        "unit_price": _line("unit_price"),
        "discount": _line("discount"), "amount": _line("amount"),
        "notes": lambda row: row[0].notes,
    }


def _local(value: dt.datetime) -> dt.datetime:
    """The wall-clock time the web shows (a naive local datetime: a datetime cell in xlsx)."""
    return timezone.localtime(value).replace(tzinfo=None)


def _communication_getters() -> dict[str, Callable[[Any], Any]]:
    channel, direction = _labels(Channel), _labels(Direction)
    return {
        "customer": lambda c: c.customer.name,
        "customer.credit_code": lambda c: c.customer.credit_code,
        "occurred_at": lambda c: _local(c.occurred_at),
        "channel": lambda c: channel(c.channel),
        "direction": lambda c: direction(c.direction),
        "contact": lambda c: c.contact.name if c.contact_id else None,
        "subject": lambda c: c.subject, "content": lambda c: c.content,
        "outcome": lambda c: c.outcome, "next_step": lambda c: c.next_step,
        "next_follow_up": lambda c: c.next_follow_up,
    }


def history_columns(target: str, keys: list[str] | None = None) -> list[Column]:
    """The columns of an export of "orders" or "communications": all, or the chosen `keys`."""
    order = ORDER_KEYS if target == "orders" else COMMUNICATION_KEYS
    getters = _order_getters() if target == "orders" else _communication_getters()
    fields = {f.key: f for f in importable_fields(target)}
    columns = {key: Column(key, fields[key].label, getters[key], fields[key].id_like)
               for key in order}
    if not keys:
        return list(columns.values())
    unknown = [k for k in keys if k not in columns]
    if unknown:
        raise ValidationError({"columns": [_("没有这些列：%(keys)s；可选：%(all)s") % {
            "keys": ", ".join(unknown), "all": ", ".join(columns)}]})
    return [columns[k] for k in keys]
