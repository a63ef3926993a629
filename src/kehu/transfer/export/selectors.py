"""The rows of an export: the viewer's list itself, page after page.

`customer_rows` calls the list's own selector (`customers.selectors.customer_list`)
with the list's filters and sort and follows its keyset cursor, so an export holds
exactly the rows, the masking, the tags and custom values the list shows, and only
one batch at a time in memory.

Orders and communications are those of the customers the same filter lists ("the orders
of the customers in my current list"; no filter: every customer the viewer sees), read
through history's scoped querysets in keyset pages by id, and narrowed by `HistoryFilters`
(a date range, an order status). The customer filter is a subquery, never a list of ids
in memory; each page's customer values are masked as the list masks them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import Count, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from kehu.accounts.models import User
from kehu.core.cleaning import clean_date
from kehu.core.masking import mask_value
from kehu.customers.filters import CustomerFilters
from kehu.customers.selectors import customer_list, customers_visible
from kehu.customers.sensitive import CUSTOMER_SENSITIVE, masked_fields
from kehu.history.choices import OrderStatus
from kehu.history.selectors import communications_visible, order_lines_visible, orders_visible

BATCH = 2000


def customer_rows(*, viewer: User, filters: CustomerFilters,
                  batch: int = BATCH) -> Iterator[Any]:
    """Every customer of the viewer's filtered list, in the list's order, finished and masked."""
    cursor: str | None = None
    while True:
        page = customer_list(viewer=viewer, filters=filters, cursor=cursor, limit=batch)
        yield from page.items
        if page.next_cursor is None:
            return
        cursor = page.next_cursor


def customer_count(*, viewer: User, filters: CustomerFilters) -> int:
    """How many rows an export of the list would write (to choose download or job)."""
    return filters.apply(customers_visible(viewer=viewer), viewer=viewer).count()


@dataclass(frozen=True)
class HistoryFilters:
    """What narrows an order or communication export besides its customers: a range of days
    (both ends included: ordered_on, or occurred_at's local day) and, for orders, a status."""

    start: dt.date | None = None
    end: dt.date | None = None
    status: str = ""

    @classmethod
    def from_params(cls, params: Any) -> HistoryFilters:
        """From a form or the CLI: "from", "to" (2024-05-01, 2024/5/1 …) and "status"."""
        errors: dict[str, list[str]] = {}
        days = {}
        for name in ("from", "to"):
            try:
                days[name] = clean_date(params.get(name))
            except ValidationError as exc:
                errors[name] = exc.messages
        status = (params.get("status") or "").strip()
        if status and status not in OrderStatus.values:
            errors["status"] = [_("“%(value)s” 不是可选值") % {"value": status}]
        if errors:
            raise ValidationError(errors)
        return cls(days.get("from"), days.get("to"), status)

    def as_params(self) -> dict[str, str]:
        pairs = (("from", self.start), ("to", self.end), ("status", self.status))
        return {name: str(value) for name, value in pairs if value}


def _of_listed_customers(qs: QuerySet, viewer: User, filters: CustomerFilters) -> QuerySet:
    """`qs` (scoped already) narrowed to the customers the filter lists, as a subquery."""
    if not filters.as_params().keys() - {"sort"}:
        return qs  # no filter: every customer the viewer sees, which `qs`'s scope is
    listed = filters.apply(customers_visible(viewer=viewer), viewer=viewer)
    return qs.filter(customer__in=listed.values("pk"))


def _orders(viewer: User, filters: CustomerFilters, history: HistoryFilters) -> QuerySet:
    qs = _of_listed_customers(orders_visible(viewer=viewer), viewer, filters)
    if history.start:
        qs = qs.filter(ordered_on__gte=history.start)
    if history.end:
        qs = qs.filter(ordered_on__lte=history.end)
    return qs.filter(status=history.status) if history.status else qs


def _day_start(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


def _communications(viewer: User, filters: CustomerFilters, history: HistoryFilters) -> QuerySet:
    qs = _of_listed_customers(communications_visible(viewer=viewer), viewer, filters)
    if history.start:
        qs = qs.filter(occurred_at__gte=_day_start(history.start))
    if history.end:
        qs = qs.filter(occurred_at__lt=_day_start(history.end + dt.timedelta(days=1)))
    return qs


# The values an export reads, by lookup: plain dicts instead of model instances (an order
# line as Order, Customer, User, OrderLine and Product instances cost 5,717 rows/s in CSV;
# measured with bench/export.py, 200,000 lines on the 100k-customer demo database).
ORDER_VALUES = ("pk", "customer__name", "customer__credit_code", "number", "external_number",
                "ordered_on", "status", "currency", "notes")
LINE_VALUES = ("order_id", "product__sku", "product__name", "quantity", "unit_price",
               "discount", "amount")
COMMUNICATION_VALUES = ("pk", "customer__name", "customer__credit_code", "occurred_at",
                        "channel", "direction", "contact__name", "subject", "content",
                        "outcome", "next_step", "next_follow_up")
NO_LINE = dict.fromkeys(LINE_VALUES)


def _pages(qs: QuerySet, fields: tuple[str, ...], viewer: User, batch: int) -> Iterator[list]:
    """Keyset pages by id of `fields` (one page in memory), the customer's sensitive values
    masked as the list masks them: the same table (`CUSTOMER_SENSITIVE`) and rule
    (`mask_value`) as `customers.selectors.mask_for`, on values instead of instances."""
    masked = {f"customer__{attr}": kind
              for attr, kind in masked_fields(viewer, CUSTOMER_SENSITIVE).items()
              if f"customer__{attr}" in fields}
    last = 0
    while True:
        page = list(qs.filter(pk__gt=last).order_by("pk").values(*fields)[:batch])
        if not page:
            return
        for row in page:
            for field, kind in masked.items():
                row[field] = mask_value(kind, row[field])
        yield page
        if len(page) < batch:
            return
        last = page[-1]["pk"]


def order_line_rows(*, viewer: User, filters: CustomerFilters, history: HistoryFilters,
                    batch: int = BATCH) -> Iterator[dict[str, Any]]:
    """One dict (ORDER_VALUES and LINE_VALUES) per line of the viewer's orders of the listed
    customers, by order id then line id; an order without lines gives one row with empty
    line values, so none is lost. Two queries per `batch` orders."""
    lines_visible = order_lines_visible(viewer=viewer)
    for page in _pages(_orders(viewer, filters, history), ORDER_VALUES, viewer, batch):
        lines: dict[int, list[dict]] = {}
        ids = [order["pk"] for order in page]
        for line in lines_visible.filter(order_id__in=ids).order_by("order_id", "pk") \
                .values(*LINE_VALUES):
            lines.setdefault(line["order_id"], []).append(line)
        for order in page:
            for line in lines.get(order["pk"]) or [NO_LINE]:
                yield {**order, **line}


def order_line_count(*, viewer: User, filters: CustomerFilters, history: HistoryFilters) -> int:
    """How many rows `order_line_rows` gives: the lines, plus one per order without any."""
    orders = _orders(viewer, filters, history)
    lines = orders.aggregate(n=Count("lines"))["n"]
    return lines + orders.filter(lines=None).count()


def communication_rows(*, viewer: User, filters: CustomerFilters, history: HistoryFilters,
                       batch: int = BATCH) -> Iterator[dict[str, Any]]:
    """One dict (COMMUNICATION_VALUES) per communication of the listed customers the viewer
    sees, by id (one query a page: customer and contact joined)."""
    for page in _pages(_communications(viewer, filters, history), COMMUNICATION_VALUES,
                       viewer, batch):
        yield from page


def communication_count(*, viewer: User, filters: CustomerFilters,
                        history: HistoryFilters) -> int:
    return _communications(viewer, filters, history).count()
