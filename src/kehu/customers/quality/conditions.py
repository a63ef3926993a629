"""Data quality as fields of the one filter definition (customers/conditions.py):

- `quality.completeness` — the stored score, 0–100 (a customer not scored yet has none);
- `quality.problems` — how many problems re-validation found;
- `quality.verified_days` — whole days since the customer was last updated or verified;
- `quality.stale` — not updated or verified within the admin's `stale_days`.

Lists, segments and rules filter on them like on any other field; they read the quality
row through its one-to-one join (and the customer's `updated_at`).
"""

from __future__ import annotations

import datetime as dt
import math
from decimal import Decimal
from typing import Any

from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from kehu.customers.conditions import ConditionField, compare, register_condition_field
from kehu.customers.quality.scoring import (
    current_q,
    quality_settings,
    stale_q,
    touched_before,
    touched_since,
)

STALE, CURRENT = "stale", "current"


def _start(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


def _at_least(days: int) -> Q:
    """Untouched for at least `days` whole (local) days."""
    return touched_before(_start(timezone.localdate() - dt.timedelta(days=days - 1)))


def _at_most(days: int) -> Q:
    return touched_since(_start(timezone.localdate() - dt.timedelta(days=days)))


def _days(op: str, value: Any, viewer: Any) -> Q:
    low, high = value if op == "between" else (value, value)
    if op in ("gt", "gte", "eq", "between"):
        floor = math.floor(Decimal(low)) + 1 if op == "gt" else math.ceil(Decimal(low))
        at_least = _at_least(max(floor, 0)) if floor > 0 else Q()
    if op in ("lt", "lte", "eq", "between"):
        ceiling = math.ceil(Decimal(high)) - 1 if op == "lt" else math.floor(Decimal(high))
        if ceiling < 0:
            return Q(pk__in=[])
        at_most = _at_most(ceiling)
    if op in ("gt", "gte"):
        return at_least
    if op in ("lt", "lte"):
        return at_most
    return at_least & at_most


def _stale(op: str, value: Any, viewer: Any) -> Q:
    if op in ("empty", "not_empty"):  # every customer is one or the other
        return Q() if op == "not_empty" else Q(pk__in=[])
    wanted = set(value) if op == "in" else {STALE, CURRENT} - set(value)
    if wanted == {STALE, CURRENT}:
        return Q()
    if not wanted:
        return Q(pk__in=[])
    days = quality_settings().stale_days
    return stale_q(days) if wanted == {STALE} else current_q(days)


def _number(column: str) -> Any:
    def build(op: str, value: Any, viewer: Any) -> Q:
        return compare(f"quality__{column}", op, value)
    return build


def register() -> None:
    """Called from CustomersConfig.ready (through quality.setup)."""
    register_condition_field(ConditionField("quality.completeness", _("资料完整度（0–100）"),
                                            "number", _number("completeness")))
    register_condition_field(ConditionField("quality.problems", _("校验问题数"), "number",
                                            _number("problem_count")))
    register_condition_field(ConditionField("quality.verified_days",
                                            _("距上次更新或核实（天）"), "number", _days))
    register_condition_field(ConditionField("quality.stale", _("资料是否过期"), "choice",
                                            _stale, ((STALE, _("已过期")), (CURRENT, _("未过期")))))
