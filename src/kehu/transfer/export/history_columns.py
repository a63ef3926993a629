"""The columns of an order or communication export: the import's headers, the web's values.

Headers are the import's labels (`importable_fields("orders")` / `("communications")`), so
an export re-imports with every column mapped by itself. Orders are written one row per
order line with the order's columns repeated on each line (the import groups rows by order
number). A row is a dict of the values `export.selectors` read (masked there for a viewer
who sees them masked, so a masked credit code stays masked here too).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal
from operator import itemgetter
from typing import Any

from django.utils import timezone

from kehu.history.choices import Channel, Direction, OrderStatus
from kehu.transfer.export.columns import Column, chosen
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


def _local(value: dt.datetime) -> dt.datetime:
    """The wall-clock time the web shows (a naive local datetime: a datetime cell in xlsx)."""
    return timezone.localtime(value).replace(tzinfo=None)


def _value(field: str, convert: Callable[[Any], Any] | None = None) -> Callable[[dict], Any]:
    if convert is None:
        return itemgetter(field)
    return lambda row: None if row[field] is None else convert(row[field])


# Each column: the selector's value it reads (export.selectors.ORDER_VALUES and the rest),
# and how the web shows it, when not as stored (labels, local time, 3 not 3.000).
def _order_getters() -> dict[str, Callable[[dict], Any]]:
    return {
        "customer": _value("customer__name"),
        "customer.credit_code": _value("customer__credit_code"),
        "number": _value("number"), "external_number": _value("external_number"),
        "ordered_on": _value("ordered_on"), "status": _value("status", _labels(OrderStatus)),
        "currency": _value("currency"), "product": _value("product__sku"),
        "product_name": _value("product__name"), "quantity": _value("quantity", number),
        "unit_price": _value("unit_price"), "discount": _value("discount"),
        "amount": _value("amount"), "notes": _value("notes"),
    }


def _communication_getters() -> dict[str, Callable[[dict], Any]]:
    return {
        "customer": _value("customer__name"),
        "customer.credit_code": _value("customer__credit_code"),
        "occurred_at": _value("occurred_at", _local),
        "channel": _value("channel", _labels(Channel)),
        "direction": _value("direction", _labels(Direction)),
        "contact": _value("contact__name"), "subject": _value("subject"),
        "content": _value("content"), "outcome": _value("outcome"),
        "next_step": _value("next_step"), "next_follow_up": _value("next_follow_up"),
    }


def history_columns(target: str, keys: list[str] | None = None) -> list[Column]:
    """The columns of an export of "orders" or "communications": all, or the chosen `keys`."""
    order = ORDER_KEYS if target == "orders" else COMMUNICATION_KEYS
    getters = _order_getters() if target == "orders" else _communication_getters()
    fields = {f.key: f for f in importable_fields(target)}
    columns = {key: Column(key, fields[key].label, getters[key], fields[key].id_like)
               for key in order}
    return chosen(columns, keys)
