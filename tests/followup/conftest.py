"""Follow-up fixtures: a plan for tier A every 30 days (root's), customers in tiers."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from kehu.classification.models import CustomerClass, DimensionValue
from kehu.followup.services import plan_save


def tier(key: str) -> DimensionValue:
    return DimensionValue.objects.get(dimension__key="value_tier", key=key)


def set_tier(customer, key: str) -> None:
    """Put a customer in a tier the way a rule run would (no signal: for setting up)."""
    value = tier(key)
    CustomerClass.objects.update_or_create(customer=customer, dimension=value.dimension,
                                           defaults={"value": value, "set_at": timezone.now()})


def noon(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time(12)))


@pytest.fixture
def plans(root):
    """A every 30 days, B every 90, C every 180 (root's: they cover every customer)."""
    return {key: plan_save(actor=root, origin="manual", data={
        "name": f"{key.upper()} 类客户", "target": f"value:{tier(key).pk}", "cadence_days": days,
        "talking_points": "{客户名称}（{等级}）近 12 个月消费 {近12月消费}，已 {未联系天数} 天未联系"})
        for key, days in (("a", 30), ("b", 90), ("c", 180))}


from tests.api.conftest import api_as  # noqa: E402, F401 -- the API caller fixture
