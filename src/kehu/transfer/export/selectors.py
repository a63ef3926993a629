"""The rows of an export: the viewer's list itself, page after page.

`customer_rows` calls the list's own selector (`customers.selectors.customer_list`)
with the list's filters and sort and follows its keyset cursor, so an export holds
exactly the rows, the masking, the tags and custom values the list shows, and only
one batch at a time in memory.

Orders and communications are those of the customers the same filter lists ("the orders
of the customers in my current list"; no filter: every customer the viewer sees), read
through history's scoped querysets in keyset pages by id, and narrowed by `HistoryFilters`
(a date range, an order status). The customer filter is a subquery, never a list of ids
in memory; each page's customers are masked as the list masks them.
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
from kehu.customers.filters import CustomerFilters
from kehu.customers.selectors import (
    CUSTOMER_SENSITIVE,
    customer_list,
    customers_visible,
    mask_for,
)
from kehu.history.choices import OrderStatus
from kehu.history.selectors import communications_visible, orders_visible

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


def _pages(qs: QuerySet, viewer: User, batch: int) -> Iterator[list]:
    """Keyset pages by id (one page in memory), each page's customers masked for `viewer`."""
    last = 0
    while True:
        page = list(qs.filter(pk__gt=last).order_by("pk")[:batch])
        if not page:
            return
        mask_for(viewer, [row.customer for row in page], CUSTOMER_SENSITIVE)
        yield page
        if len(page) < batch:
            return
        last = page[-1].pk


def order_line_rows(*, viewer: User, filters: CustomerFilters, history: HistoryFilters,
                    batch: int = BATCH) -> Iterator[tuple[Any, Any]]:
    """(order, line) for every line of the viewer's orders of the listed customers, in order
    of the order's id; an order without lines gives one row (order, None), so none is lost.
    A page is `batch` orders with their lines and products (three queries)."""
    for page in _pages(_orders(viewer, filters, history), viewer, batch):
        for order in page:
            lines = order.lines.all()
            if not lines:
                yield order, None
            for line in lines:
                yield order, line


def order_line_count(*, viewer: User, filters: CustomerFilters, history: HistoryFilters) -> int:
    """How many rows `order_line_rows` gives: the lines, plus one per order without any."""
    orders = _orders(viewer, filters, history)
    lines = orders.aggregate(n=Count("lines"))["n"]
    return lines + orders.filter(lines=None).count()


def communication_rows(*, viewer: User, filters: CustomerFilters, history: HistoryFilters,
                       batch: int = BATCH) -> Iterator[Any]:
    """Every communication of the listed customers the viewer sees, by id, with its customer
    (masked as the list masks it) and contact joined (one query a page)."""
    for page in _pages(_communications(viewer, filters, history), viewer, batch):
        yield from page


def communication_count(*, viewer: User, filters: CustomerFilters,
                        history: HistoryFilters) -> int:
    return _communications(viewer, filters, history).count()
