"""The history's figures as condition fields (customers.conditions): total spent, order
count, last purchase, last contact, open opportunities, open complaints.

Each is a subquery over the history rows, correlated or grouped by customer; a customer
with no rows counts as 0 (spent, counts) or "never" (dates), so "spent under ¥1,000"
includes customers who never bought. Correct at any size; at 1,000,000 customers a
figures table will serve them (docs/architecture.md, "Conditions").
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.db.models import Count, Exists, OuterRef, Q, QuerySet, Sum
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from kehu.customers.conditions import ConditionField, register_condition_field
from kehu.history.choices import SPENDING_STATUSES, OpportunityStatus, TicketKind, TicketStatus
from kehu.history.models import Communication, Opportunity, Order, Ticket

OPEN_TICKETS = (TicketStatus.OPEN, TicketStatus.IN_PROGRESS)


def _spending() -> QuerySet:
    return Order.objects.filter(status__in=SPENDING_STATUSES)


def _figure(rows: QuerySet, aggregate: Any) -> Any:
    """A number condition on an aggregate per customer; no rows counts as 0."""
    def build(op: str, value: Any, viewer: Any) -> Q:
        per_customer = rows.values("customer_id").annotate(figure=aggregate)
        if op == "between":
            low, high = value
            passing = per_customer.filter(figure__gte=low, figure__lte=high)
            zero_passes = low <= 0 <= high
        else:
            lookup = {"eq": "exact"}.get(op, op)
            passing = per_customer.filter(**{f"figure__{lookup}": value})
            zero_passes = _holds(op, Decimal(0), value)
        matched = Q(pk__in=passing.values("customer_id"))
        if zero_passes:  # the customers without any row pass too
            matched |= ~Q(pk__in=rows.values("customer_id"))
        return matched
    return build


def _holds(op: str, left: Decimal, right: Decimal) -> bool:
    return {"eq": left == right, "gt": left > right, "gte": left >= right,
            "lt": left < right, "lte": left <= right}[op]


def _latest(rows: QuerySet, column: str, moments: bool) -> Any:
    """A date condition on the latest row per customer (its last purchase or contact)."""
    def at(day: dt.date) -> Any:
        return timezone.make_aware(dt.datetime.combine(day, dt.time.min)) if moments else day

    def any_row(**lookup: Any) -> Exists:
        return Exists(rows.filter(customer_id=OuterRef("pk"), **lookup))

    def build(op: str, value: Any, viewer: Any) -> Q:
        today = timezone.localdate()
        if op in ("empty", "not_empty"):
            return ~Q(any_row()) if op == "empty" else Q(any_row())
        if op == "within_days":
            return Q(any_row(**{f"{column}__gte": at(today - dt.timedelta(days=value))}))
        if op == "older_than_days":
            cutoff = at(today - dt.timedelta(days=value))
            return Q(any_row()) & ~Q(any_row(**{f"{column}__gte": cutoff}))
        if op == "after":
            return Q(any_row(**{f"{column}__gte": at(value + dt.timedelta(days=1))}))
        if op == "before":
            return Q(any_row()) & ~Q(any_row(**{f"{column}__gte": at(value)}))
        low, high = at(value[0]), at(value[1] + dt.timedelta(days=1))  # between, inclusive
        return Q(any_row(**{f"{column}__gte": low, f"{column}__lt": high})) \
            & ~Q(any_row(**{f"{column}__gte": high}))
    return build


def register() -> None:
    """Called from HistoryConfig.ready."""
    fields = [
        ConditionField("total_spent", _("累计消费金额"), "number",
                       _figure(_spending(), Sum("total"))),
        ConditionField("order_count", _("订单数"), "number", _figure(_spending(), Count("id"))),
        ConditionField("last_order", _("最近一次购买"), "date",
                       _latest(_spending(), "ordered_on", moments=False)),
        ConditionField("last_contact", _("最近一次联系"), "date",
                       _latest(Communication.objects.all(), "occurred_at", moments=True)),
        ConditionField("open_opportunities", _("进行中的商机数"), "number",
                       _figure(Opportunity.objects.filter(status=OpportunityStatus.OPEN),
                               Count("id"))),
        ConditionField("open_complaints", _("未解决的投诉数"), "number",
                       _figure(Ticket.objects.filter(kind=TicketKind.COMPLAINT,
                                                     status__in=OPEN_TICKETS), Count("id"))),
    ]
    for definition in fields:
        register_condition_field(definition)
