"""The figures a rep looks for first on the card, computed from the rows, always current.

A handful of aggregate queries, no summary table: each figure is one indexed
aggregate over one customer's rows.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Count, DecimalField, ExpressionWrapper, F, Max, Min, Sum
from django.utils import timezone

from kehu.accounts.models import User
from kehu.customers.scoping import customer_for
from kehu.history.choices import (
    SPENDING_STATUSES,
    OpportunityStatus,
    SurveyKind,
    TicketKind,
    TicketStatus,
)
from kehu.history.cleaning import quantize
from kehu.history.models import Communication, Opportunity, Order, Survey, Ticket


@dataclass(frozen=True)
class CustomerSummary:
    total_spent: Decimal
    order_count: int
    average_order_value: Decimal | None
    average_days_between_purchases: float | None
    last_purchase: dt.date | None
    last_contact: dt.datetime | None
    days_since_last_contact: int | None
    latest_csat: int | None
    latest_nps: int | None
    open_opportunities: int
    weighted_pipeline: Decimal
    open_complaints: int


def customer_summary(
    *, viewer: User, customer_id: int, today: dt.date | None = None
) -> CustomerSummary:
    """The card's figures for one customer the viewer can see (404 otherwise)."""
    customer_id = customer_for(viewer, customer_id).pk  # the gate: 404 when out of sight
    today = today or timezone.localdate()
    orders = _order_figures(viewer, customer_id)
    last_contact = (Communication.objects.visible_to(viewer).filter(customer_id=customer_id)
                    .aggregate(at=Max("occurred_at"))["at"])
    pipeline = _pipeline_figures(viewer, customer_id)
    return CustomerSummary(
        **orders,
        last_contact=last_contact,
        days_since_last_contact=(
            (today - timezone.localdate(last_contact)).days if last_contact else None),
        latest_csat=_latest_score(viewer, customer_id, SurveyKind.CSAT),
        latest_nps=_latest_score(viewer, customer_id, SurveyKind.NPS),
        **pipeline,
        open_complaints=Ticket.objects.visible_to(viewer).filter(
            customer_id=customer_id, kind=TicketKind.COMPLAINT,
        ).exclude(status__in=[TicketStatus.RESOLVED, TicketStatus.CLOSED]).count(),
    )


def _order_figures(viewer: User, customer_id: int) -> dict:
    figures = (
        Order.objects.visible_to(viewer)
        .filter(customer_id=customer_id, status__in=SPENDING_STATUSES)
        .aggregate(total=Sum("total"), count=Count("id"), first=Min("ordered_on"),
                   last=Max("ordered_on"), days=Count("ordered_on", distinct=True))
    )
    count = figures["count"]
    total = quantize(figures["total"] or Decimal(0))
    spread = None
    if figures["days"] >= 2:
        spread = (figures["last"] - figures["first"]).days / (figures["days"] - 1)
    return {
        "total_spent": total,
        "order_count": count,
        "average_order_value": quantize(total / count) if count else None,
        "average_days_between_purchases": spread,
        "last_purchase": figures["last"],
    }


def _pipeline_figures(viewer: User, customer_id: int) -> dict:
    weighted = ExpressionWrapper(F("amount") * F("stage__probability"),
                                 output_field=DecimalField(max_digits=20, decimal_places=2))
    figures = (
        Opportunity.objects.visible_to(viewer)
        .filter(customer_id=customer_id, status=OpportunityStatus.OPEN)
        .aggregate(count=Count("id"), weighted=Sum(weighted))
    )
    return {
        "open_opportunities": figures["count"],
        "weighted_pipeline": quantize((figures["weighted"] or Decimal(0)) / 100),
    }


def _latest_score(viewer: User, customer_id: int, kind: str) -> int | None:
    return (
        Survey.objects.visible_to(viewer).filter(customer_id=customer_id, kind=kind)
        .order_by("-answered_on", "-id").values_list("score", flat=True).first()
    )
