"""The stored figures (RFM) and the dimensions as fields of the one filter definition.

Figures read `CustomerFigures` through its one-to-one join: a rule, a list filter or a
segment over 1,000,000 customers reads one row per customer instead of aggregating
10,000,000 orders. A customer without a figures row yet (created since the last run)
counts as having none: 0 orders, no scores. Dimensions are fields `dim.<key>` (choice of
the dimension's values), listed afresh each time, since admins add them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from django.db.models import Exists, OuterRef, Q
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from kehu.classification.figures import SEGMENTS
from kehu.classification.models import CustomerClass, DimensionValue, Rule
from kehu.customers.conditions import (
    ConditionField,
    compare,
    register_condition_field,
    register_condition_provider,
)
from kehu.customers.regions.conditions import register_saved_conditions

# key, label, column, zero when absent (a count or an amount) or no value (a score)
NUMBER_FIGURES: tuple[tuple[str, Any, str, bool], ...] = (
    ("rfm.recency_days", _("距最近购买天数（RFM 窗口内）"), "recency_days", False),
    ("rfm.frequency", _("窗口内订单数（F）"), "frequency", True),
    ("rfm.monetary", _("窗口内消费金额（M）"), "monetary", True),
    ("rfm.r", _("R 分"), "r", False),
    ("rfm.f", _("F 分"), "f", False),
    ("rfm.m", _("M 分"), "m", False),
    ("rfm.revenue_share", _("营收排名累计占比（%）"), "revenue_share", False),
    ("rfm.orders_total", _("累计订单数"), "orders_total", True),
)
DATE_FIGURES: tuple[tuple[str, Any, str], ...] = (
    ("rfm.last_order_on", _("最近一次购买日期"), "last_order_on"),
    ("rfm.first_order_on", _("首次购买日期"), "first_order_on"),
)
FIGURE_COLUMNS = {key: column for key, _label, column, *_rest in (*NUMBER_FIGURES, *DATE_FIGURES)}
FIGURE_COLUMNS["rfm.segment"] = "segment"
ZERO_PASSES = {"eq": lambda v: v == 0, "gt": lambda v: v < 0, "gte": lambda v: v <= 0,
               "lt": lambda v: v > 0, "lte": lambda v: v >= 0,
               "between": lambda v: v[0] <= 0 <= v[1]}


def _number(column: str, zero_when_absent: bool) -> Any:
    def build(op: str, value: Any, viewer: Any) -> Q:
        matched = compare(f"figures__{column}", op, value)
        if zero_when_absent and ZERO_PASSES[op](value):
            matched |= Q(figures__isnull=True)
        return matched
    return build


def _date(column: str) -> Any:
    def build(op: str, value: Any, viewer: Any) -> Q:
        path = f"figures__{column}"
        if op in ("empty", "not_empty"):
            return Q(**{f"{path}__isnull": op == "empty"})
        if op in ("within_days", "older_than_days"):
            day = timezone.localdate() - dt.timedelta(days=value)
            return Q(**{f"{path}__{'gte' if op == 'within_days' else 'lt'}": day})
        if op == "between":
            return Q(**{f"{path}__gte": value[0], f"{path}__lte": value[1]})
        return Q(**{f"{path}__{'gt' if op == 'after' else 'lt'}": value})
    return build


def _segment(op: str, value: Any, viewer: Any) -> Q:
    if op in ("empty", "not_empty"):
        blank = Q(figures__isnull=True) | Q(figures__segment="")
        return blank if op == "empty" else ~blank
    matched = Q(figures__segment__in=value)
    return matched if op == "in" else ~matched


def _dimension_fields() -> list[ConditionField]:
    values = DimensionValue.objects.filter(is_active=True, dimension__is_active=True) \
        .select_related("dimension").order_by("dimension__position", "dimension_id", "position")
    by_dimension: dict[int, list[DimensionValue]] = {}
    for value in values:
        by_dimension.setdefault(value.dimension_id, []).append(value)
    return [_dimension_field(rows) for rows in by_dimension.values()]


def _dimension_field(values: list[DimensionValue]) -> ConditionField:
    dimension = values[0].dimension
    ids = {v.key: v.pk for v in values}

    def build(op: str, value: Any, viewer: Any) -> Q:
        rows = CustomerClass.objects.filter(customer_id=OuterRef("pk"), dimension_id=dimension.pk)
        if op in ("empty", "not_empty"):
            return ~Q(Exists(rows)) if op == "empty" else Q(Exists(rows))
        found = Q(Exists(rows.filter(value_id__in=[ids[k] for k in value])))
        return found if op == "in" else ~found

    return ConditionField(f"dim.{dimension.key}", dimension.name, "choice", build,
                          tuple((v.key, v.label) for v in values))


def register() -> None:
    """Called from ClassificationConfig.ready."""
    for key, label, column, zero in NUMBER_FIGURES:
        register_condition_field(ConditionField(key, label, "number", _number(column, zero)))
    for key, label, column in DATE_FIGURES:
        register_condition_field(ConditionField(key, label, "date", _date(column)))
    register_condition_field(ConditionField(
        "rfm.segment", _("RFM 分群"), "choice", _segment,
        tuple((key, label) for key, label, *_ranges in SEGMENTS)))
    register_condition_provider(_dimension_fields)
    # A newer division list is refused while a rule names a code it drops (customers/regions).
    register_saved_conditions(_rule_conditions)


def _rule_conditions() -> Iterable[tuple[str, Any]]:
    """Every rule's condition (inactive ones too: switched on again, it would not parse)."""
    for name, condition in Rule.objects.filter(condition__isnull=False) \
            .order_by("priority", "pk").values_list("name", "condition"):
        yield gettext("分类规则“%(name)s”") % {"name": name}, condition
