"""Reads of classification, through the customers' gate: a customer's places and why,
its RFM, the 5×5 grid, dimensions and rules for the settings pages."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db.models import Count, Sum

from kehu.accounts.models import User
from kehu.classification.explain import figures_dict, reasons
from kehu.classification.figures import SEGMENT_LABELS, SEGMENTS, scheme
from kehu.classification.models import CustomerClass, CustomerFigures, Dimension, DimensionValue
from kehu.customers.models import Customer
from kehu.customers.scoping import customer_for


@dataclass(frozen=True)
class Placement:
    """A customer's value in one dimension and why."""

    dimension: Dimension
    values: list[DimensionValue]
    row: CustomerClass | None
    reasons: list[str]


def customer_placements(*, viewer: User, customer_id: int) -> dict[str, Any]:
    """Every active dimension's value for the customer, with the rule and the figures that
    decided it; and its RFM (404 when the customer is out of the viewer's sight)."""
    customer = customer_for(viewer, customer_id)
    dimensions = list(Dimension.objects.filter(is_active=True).prefetch_related("values"))
    rows = {row.dimension_id: row for row in CustomerClass.objects.filter(customer=customer)
            .select_related("value", "rule", "set_by")}
    figures_row = CustomerFigures.objects.filter(customer=customer).first()
    figures = figures_dict(figures_row)
    placements = []
    for dimension in dimensions:
        row = rows.get(dimension.pk)
        why = [] if row is None or row.manual or row.rule is None else \
            reasons(row.rule.condition, figures)
        placements.append(Placement(dimension, [v for v in dimension.values.all() if v.is_active],
                                    row, why))
    return {"customer": customer, "placements": placements, "figures": figures_row,
            "segment": SEGMENT_LABELS.get(figures_row.segment, "") if figures_row else "",
            "window_days": scheme().rfm_window_days}


def customer_rfm(*, viewer: User, customer_id: int) -> dict[str, Any]:
    """The customer's RFM as the API answers it."""
    customer = customer_for(viewer, customer_id)
    row = CustomerFigures.objects.filter(customer=customer).first()
    if row is None:
        return {"customer_id": customer.pk, "recency_days": None, "frequency": 0,
                "monetary": "0.00", "r": None, "f": None, "m": None, "segment": "",
                "segment_label": "", "computed_on": None}
    return {"customer_id": customer.pk, "recency_days": row.recency_days,
            "frequency": row.frequency, "monetary": str(row.monetary), "r": row.r, "f": row.f,
            "m": row.m, "segment": row.segment,
            "segment_label": str(SEGMENT_LABELS.get(row.segment, "")),
            "computed_on": row.computed_on}


def rfm_grid(*, viewer: User) -> dict[str, Any]:
    """The R × F grid of the customers the viewer may see: count and revenue per cell and
    per named segment, one GROUP BY inside the viewer's scope."""
    visible = Customer.objects.visible_to(viewer).values("pk")
    rows = (CustomerFigures.objects.filter(customer_id__in=visible, r__isnull=False)
            .values("r", "f", "segment").annotate(n=Count("pk"), revenue=Sum("monetary"))
            .order_by())
    cells = {(r, f): {"r": r, "f": f, "customers": 0, "revenue": Decimal(0)}
             for r in range(1, 6) for f in range(1, 6)}
    segments = {key: {"segment": key, "label": str(label), "customers": 0,
                      "revenue": Decimal(0)} for key, label, *_r in SEGMENTS}
    for row in rows:
        cell = cells[(row["r"], row["f"])]
        cell["customers"] += row["n"]
        cell["revenue"] += row["revenue"] or 0
        if row["segment"] in segments:
            segments[row["segment"]]["customers"] += row["n"]
            segments[row["segment"]]["revenue"] += row["revenue"] or 0
    settings = scheme()
    return {"window_days": settings.rfm_window_days,
            "computed_at": settings.figures_computed_at,
            "cells": [cells[(r, f)] for r in range(5, 0, -1) for f in range(1, 6)],
            "segments": list(segments.values()),
            "customers": sum(c["customers"] for c in cells.values()),
            "revenue": sum((c["revenue"] for c in cells.values()), Decimal(0))}
