"""The rows of an export: the viewer's list itself, batch after batch.

`customer_rows` reads the list's own stream (`customers.selectors.customer_stream`: the
list's gate, filters and order, finished and masked as its pages are), so an export holds
exactly the rows, the masking, the tags and custom values the list shows, and only
one batch at a time in memory.

Orders and communications are those of the customers the same filter lists ("the orders
of the customers in my current list"; no filter: every customer the viewer sees), read
through history's scoped querysets, customer page by customer page (ids by keyset, 500 at
a time, never every id in memory) and within those in keyset pages of 2,000 in each
customer's timeline order, narrowed by `HistoryFilters` (a date range, an order status);
counts use the customer filter as a subquery. Each page's customer values are masked as
the list masks them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import Count, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from kehu.accounts.models import User
from kehu.core.cleaning import clean_date
from kehu.core.masking import mask_value
from kehu.customers.filters import CustomerFilters
from kehu.customers.selectors import customer_stream, customers_visible, masked_customers
from kehu.customers.sensitive import CUSTOMER_SENSITIVE
from kehu.history.choices import OrderStatus
from kehu.history.selectors import communications_visible, order_lines_visible, orders_visible

BATCH = 2000


def customer_rows(*, viewer: User, filters: CustomerFilters,
                  batch: int = BATCH) -> Iterator[Any]:
    """Every customer of the viewer's filtered list, in the list's order, finished and masked."""
    return customer_stream(viewer=viewer, filters=filters, batch=batch)


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


def _listed_customers(viewer: User, filters: CustomerFilters) -> QuerySet:
    """The customers the filter lists (every one the viewer sees when nothing is filtered)."""
    qs = customers_visible(viewer=viewer)
    return filters.apply(qs, viewer=viewer) if filters.as_params().keys() - {"sort"} else qs


def _of_listed_customers(qs: QuerySet, viewer: User, filters: CustomerFilters) -> QuerySet:
    """`qs` (scoped already) narrowed to the customers the filter lists, as a subquery."""
    if not filters.as_params().keys() - {"sort"}:
        return qs  # no filter: every customer the viewer sees, which `qs`'s scope is
    return qs.filter(customer__in=_listed_customers(viewer, filters).values("pk"))


def _orders(viewer: User, history: HistoryFilters) -> QuerySet:
    qs = orders_visible(viewer=viewer)
    if history.start:
        qs = qs.filter(ordered_on__gte=history.start)
    if history.end:
        qs = qs.filter(ordered_on__lte=history.end)
    return qs.filter(status=history.status) if history.status else qs


def _day_start(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


def _communications(viewer: User, history: HistoryFilters) -> QuerySet:
    qs = communications_visible(viewer=viewer)
    if history.start:
        qs = qs.filter(occurred_at__gte=_day_start(history.start))
    if history.end:
        qs = qs.filter(occurred_at__lt=_day_start(history.end + dt.timedelta(days=1)))
    return qs


# The values an export reads, by lookup: plain dicts instead of model instances (an order
# line as Order, Customer, User, OrderLine and Product instances cost 5,717 rows/s in CSV;
# measured with bench/export.py, 200,000 lines on the 100k-customer demo database).
ORDER_VALUES = ("pk", "customer_id", "customer__name", "customer__credit_code", "number",
                "external_number", "ordered_on", "status", "currency", "notes")
LINE_VALUES = ("order_id", "product__sku", "product__name", "quantity", "unit_price",
               "discount", "amount")
COMMUNICATION_VALUES = ("pk", "customer_id", "customer__name", "customer__credit_code",
                        "occurred_at", "channel", "direction", "contact__name", "subject",
                        "content", "outcome", "next_step", "next_follow_up")
NO_LINE = dict.fromkeys(LINE_VALUES)
# Rows come customer by customer, each customer's in the order of its timeline index
# ((customer, ordered_on, id) and (customer, occurred_at, id)), so a page is read through
# that index whatever the scope. Pages by order id alone let SQLite gather and sort all
# of a rep's orders for every page: 517 rows/s for a rep's 201,430 lines, against
# 46,788 for a manager (100k-customer demo database).
ORDER_SORT = ("customer_id", "ordered_on", "pk")
COMMUNICATION_SORT = ("customer_id", "occurred_at", "pk")
CUSTOMER_PAGE = 500


def _customer_pages(viewer: User, filters: CustomerFilters) -> Iterator[dict[int, int | None]]:
    """The listed customers, CUSTOMER_PAGE at a time (keyset by id): id -> owner id (an
    ownerless one may be masked by rule: the pool's)."""
    qs = _listed_customers(viewer, filters).order_by("pk").values_list("pk", "owner_id")
    last = 0
    while True:
        owners = dict(qs.filter(pk__gt=last)[:CUSTOMER_PAGE])
        if owners:
            yield owners
        if len(owners) < CUSTOMER_PAGE:
            return
        last = max(owners)


def _after(sort: tuple[str, str, str], row: dict[str, Any]) -> Q:
    """Rows past `row` in the order (a, b, c)."""
    a, b, c = sort
    return (Q(**{f"{a}__gt": row[a]}) | Q(**{a: row[a], f"{b}__gt": row[b]})
            | Q(**{a: row[a], b: row[b], f"{c}__gt": row[c]}))


def _pages(qs: QuerySet, fields: tuple[str, ...], sort: tuple[str, str, str], viewer: User,
           filters: CustomerFilters, batch: int) -> Iterator[list[dict[str, Any]]]:
    """Pages of at most `batch` rows of `fields` (one page in memory), customer page by
    customer page, the customer's sensitive values masked as the list masks them: the same
    table (`CUSTOMER_SENSITIVE`), decision (`customers.selectors.masked_customers`: the
    role's, then the registered rules', the pool's) and rule (`mask_value`) as
    `customers.selectors.mask_for`, on values instead of instances."""
    sensitive = {f"customer__{attr}": kind for attr, kind in CUSTOMER_SENSITIVE.items()
                 if f"customer__{attr}" in fields}
    for owners in _customer_pages(viewer, filters):
        masked = masked_customers(viewer=viewer, owners=owners) if sensitive else set()
        rows_of_page = qs.filter(customer_id__in=list(owners)).order_by(*sort).values(*fields)
        page = list(rows_of_page[:batch])
        while page:
            for row in page:
                if row["customer_id"] in masked:
                    for field, kind in sensitive.items():
                        row[field] = mask_value(kind, row[field])
            yield page
            page = list(rows_of_page.filter(_after(sort, page[-1]))[:batch]) \
                if len(page) == batch else []


def order_line_rows(*, viewer: User, filters: CustomerFilters, history: HistoryFilters,
                    batch: int = BATCH) -> Iterator[dict[str, Any]]:
    """One dict (ORDER_VALUES and LINE_VALUES) per line of the viewer's orders of the listed
    customers, customer by customer, oldest order first; an order without lines gives one
    row with empty line values, so none is lost. Two queries per `batch` orders."""
    lines_visible = order_lines_visible(viewer=viewer)
    for page in _pages(_orders(viewer, history), ORDER_VALUES, ORDER_SORT, viewer, filters,
                       batch):
        lines: dict[int, list[dict]] = {}
        # The page's customers too: with order ids alone SQLite reached a rep's lines
        # through all her customers (5.5 s a page; 0.1 s so, 2,000 orders).
        of_page = lines_visible.filter(order_id__in=[order["pk"] for order in page],
                                       order__customer_id__in={o["customer_id"] for o in page})
        for line in of_page.order_by("order_id", "pk").values(*LINE_VALUES):
            lines.setdefault(line["order_id"], []).append(line)
        for order in page:
            for line in lines.get(order["pk"]) or [NO_LINE]:
                yield {**order, **line}


def order_line_count(*, viewer: User, filters: CustomerFilters, history: HistoryFilters) -> int:
    """How many rows `order_line_rows` gives: the lines, plus one per order without any."""
    orders = _of_listed_customers(_orders(viewer, history), viewer, filters)
    lines = orders.aggregate(n=Count("lines"))["n"]
    return lines + orders.filter(lines=None).count()


def communication_rows(*, viewer: User, filters: CustomerFilters, history: HistoryFilters,
                       batch: int = BATCH) -> Iterator[dict[str, Any]]:
    """One dict (COMMUNICATION_VALUES) per communication of the listed customers the viewer
    sees, customer by customer, oldest first (customer and contact joined)."""
    for page in _pages(_communications(viewer, history), COMMUNICATION_VALUES,
                       COMMUNICATION_SORT, viewer, filters, batch):
        yield from page


def communication_count(*, viewer: User, filters: CustomerFilters,
                        history: HistoryFilters) -> int:
    return _of_listed_customers(_communications(viewer, history), viewer, filters).count()
