"""Reads of classification, through the customers' gate: a customer's places and why,
its RFM, the 5×5 grid, dimensions and rules for the settings pages."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import Count, Exists, F, OuterRef, Sum
from django.utils.translation import gettext as _

from kehu.accounts.models import User
from kehu.classification.explain import figures_dict, reasons
from kehu.classification.figures import SEGMENT_LABELS, SEGMENTS, scheme
from kehu.classification.models import (
    ClassChange,
    CustomerClass,
    CustomerFigures,
    Dimension,
    DimensionValue,
    Rule,
)
from kehu.customers.builder import condition_words
from kehu.customers.conditions import parse_condition
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
            "rule_tags": _rule_tags(customer),
            "segment": SEGMENT_LABELS.get(figures_row.segment, "") if figures_row else "",
            "window_days": scheme().rfm_window_days}


def _rule_tags(customer: Customer) -> list[ClassChange]:
    """The customer's tags a rule added (and no one removed since): the adding change,
    which names the rule and keeps the figures that decided it."""
    tagged = Customer.tags.through.objects.filter(customer_id=customer.pk, tag_id=OuterRef("tag_id"))
    latest: dict[int, ClassChange] = {}
    for change in ClassChange.objects.filter(customer=customer, tag__isnull=False) \
            .annotate(still=Exists(tagged)).select_related("tag").order_by("-at", "-pk"):
        latest.setdefault(change.tag_id, change)
    return [c for c in latest.values() if c.tag_action == "add" and c.still]


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


# --- the settings pages (admins; the views check the role) -------------------------------


def dimensions_configured(*, viewer: User) -> list[Dimension]:
    """Every dimension, active or not, in order, with its values and a count of its rules."""
    return list(Dimension.objects.order_by("position", "id").prefetch_related("values")
                .annotate(rule_count=Count("values__rules", distinct=True)))


def dimension_settings(*, viewer: User, dimension: Dimension) -> dict[str, Any]:
    """A dimension's values (each with how many rules set it and customers hold it) and its
    rules in decision order, each condition said in words."""
    held = dict(CustomerClass.objects.filter(dimension=dimension).values("value_id")
                .annotate(n=Count("pk")).order_by().values_list("value_id", "n"))
    values = list(dimension.values.order_by("position", "id")
                  .annotate(rule_count=Count("rules")))
    for value in values:
        value.customer_count = held.get(value.pk, 0)
    rules = list(Rule.objects.filter(value__dimension=dimension).select_related("value")
                 .order_by("priority", "id"))
    for rule in rules:
        rule.words = rule_words(rule.condition, viewer=viewer)
    return {"dimension": dimension, "values": values, "rules": rules}


def tag_rules_configured(*, viewer: User) -> list[dict[str, Any]]:
    """Every rule that adds or removes a tag, active or not, grouped by tag (by name), each
    group in decision order, each condition said in words."""
    groups: dict[int, dict[str, Any]] = {}
    for rule in Rule.objects.filter(tag__isnull=False).select_related("tag") \
            .order_by("tag__name", "tag_id", "priority", "id"):
        rule.words = rule_words(rule.condition, viewer=viewer)
        groups.setdefault(rule.tag_id, {"tag": rule.tag, "rules": []})["rules"].append(rule)
    return list(groups.values())


def rules_configured(*, viewer: User, dimension_key: str | None = None) -> list[Rule]:
    """Every rule, active or not, in decision order: each dimension's in the dimensions'
    order, then the tag rules by tag; each condition said in words."""
    rules = Rule.objects.select_related("value__dimension", "tag").order_by(
        F("value__dimension__position").asc(nulls_last=True), "value__dimension_id",
        "tag__name", "tag_id", "priority", "id")
    if dimension_key is not None:
        rules = rules.filter(value__dimension__key=dimension_key)
    found = list(rules)
    for rule in found:
        rule.words = rule_words(rule.condition, viewer=viewer)
    return found


def rule_words(condition: Any, *, viewer: User) -> str:
    """A rule's condition as the list's "筛选条件" line says it; none is every customer left."""
    if not condition:
        return _("其余所有客户（没有条件）")
    try:
        return condition_words(parse_condition(condition), viewer=viewer)
    except ValidationError:
        return _("条件已失效（它用到的字段或值已停用），请修改这条规则")
