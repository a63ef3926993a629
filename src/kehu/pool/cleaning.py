"""Turning what an admin types into a pool or a reclaim rule, every error at once."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _

from kehu.accounts.models import Department
from kehu.classification.models import DimensionValue
from kehu.core.cleaning import Collector, clean_bool, int_between, text_cleaner
from kehu.core.errors import ValidationError

MAX_DAYS = 3650


def _days(low: int) -> Any:
    return int_between(low, MAX_DAYS, message=_("应为 %(low)d 到 %(max)d 之间的整数（天）") % {
        "low": low, "max": MAX_DAYS})


def _optional(cleaner: Any) -> Any:
    def clean(value: Any) -> Any:
        return None if value in (None, "") else cleaner(value)

    return clean


def _departments(value: Any) -> list[Department]:
    ids = value if isinstance(value, list | tuple) else [value] if value not in (None, "") else []
    try:
        pks = sorted({int(str(v)) for v in ids})
    except ValueError as exc:
        raise ValidationError(_("部门应为编号")) from exc
    found = list(Department.objects.filter(pk__in=[p for p in pks if 0 < p < 2**63]))
    if len(found) != len(pks):
        raise ValidationError(_("部门不存在"))
    if not found:
        raise ValidationError(_("至少选择一个部门"))
    return found


class PoolCollector(Collector):
    LIST_FIELDS = frozenset({"departments"})


def clean_pool(data: dict[str, Any]) -> dict[str, Any]:
    collector = PoolCollector()
    collector.run("name", text_cleaner(100, required=True), data.get("name"))
    collector.run("departments", _departments, data.get("departments"))
    collector.run("daily_claims", int_between(0, 1000, message=_("应为 0 到 1000 之间的整数")),
                  data.get("daily_claims", 5))
    collector.run("max_held", _optional(int_between(1, 1_000_000, message=_(
        "应为正整数，留空表示不限"))), data.get("max_held"))
    collector.run("reclaim_wait_days", _days(0), data.get("reclaim_wait_days", 30))
    collector.run("is_active", clean_bool, data.get("is_active", True))
    return collector.result()


def _target(value: Any) -> DimensionValue | None:
    if value in (None, ""):
        return None
    try:
        pk = int(str(value))
    except ValueError as exc:
        raise ValidationError(_("分类不存在")) from exc
    found = DimensionValue.objects.filter(pk=pk, is_active=True).first() if 0 < pk < 2**63 else None
    if found is None:
        raise ValidationError(_("分类不存在"))
    return found


def clean_rule(data: dict[str, Any]) -> dict[str, Any]:
    """A rule: target (a classification value id, empty: every customer), idle days, optional
    no-deal days, warning days (fewer than the idle days), the two exemptions."""
    collector = Collector()
    collector.run("target_value", _target, data.get("target_value"))
    collector.run("idle_days", _days(1), data.get("idle_days"))
    collector.run("no_deal_days", _optional(_days(1)), data.get("no_deal_days"))
    collector.run("warn_days", _days(0), data.get("warn_days", 3))
    for name in ("exempt_won", "exempt_open_opportunities", "is_active"):
        collector.run(name, clean_bool, data.get(name, True))
    idle, warn = collector.cleaned.get("idle_days"), collector.cleaned.get("warn_days")
    if idle is not None and warn is not None and warn >= idle:
        collector.add_error("warn_days", _("提前提醒天数应少于未跟进天数"))
    no_deal = collector.cleaned.get("no_deal_days")
    if no_deal is not None and warn is not None and warn >= no_deal:
        collector.add_error("warn_days", _("提前提醒天数应少于未成交天数"))
    return collector.result()
