"""Rules at work: the default rules tier and stage customers, explain why, and a preview
counts what saving a rule then changes."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from kehu.accounts.services import system_actor
from kehu.classification import engine
from kehu.classification.models import ClassChange, CustomerClass, Dimension, DimensionValue, Rule
from kehu.classification.services import rule_save
from kehu.history.models import Order
from kehu.jobs.services import run_in_foreground

pytestmark = pytest.mark.django_db


def order(customer, days_ago: int, total: int, status: str = "paid") -> None:
    Order.objects.create(customer=customer, number=f"T{Order.objects.count() + 1}",
                         ordered_on=timezone.localdate() - dt.timedelta(days=days_ago),
                         status=status, total=Decimal(total))


def run_all():
    job = run_in_foreground(actor=system_actor(), origin="system", kind="classification.run",
                            params={})
    assert job.status == "done", job.error
    return job


def value_of(customer, dimension_key: str) -> str | None:
    row = CustomerClass.objects.filter(customer=customer, dimension__key=dimension_key) \
        .select_related("value").first()
    return row.value.key if row else None


def test_the_default_rules_tier_and_stage_every_customer(alice, make_customer):
    big, mid, small, gone, prospect = (make_customer(alice, name=n) for n in
                                       ("大客户", "中客户", "小客户", "老客户", "潜在客户"))
    for days in (5, 40, 200):
        order(big, days, 70_000)
    order(mid, 10, 20_000)
    order(mid, 300, 5_000)
    order(small, 20, 10_000)
    order(gone, 400, 90_000)
    order(prospect, 3, 99_999, status="cancelled")  # a cancelled order is not a purchase
    run_all()
    # 12-month revenue 210,000 + 25,000 + 10,000: big makes the first 70%, mid the next.
    assert [value_of(c, "value_tier") for c in (big, mid, small, gone, prospect)] == \
        ["a", "b", "c", "c", "c"]
    assert [value_of(c, "lifecycle") for c in (big, mid, small, gone, prospect)] == \
        ["active", "active", "new", "lost", "prospect"]
    assert value_of(big, "customer_type") == "company_sme"
    change = ClassChange.objects.get(customer=big, dimension__key="value_tier")
    assert change.rule.builtin_key == "tier_a"
    assert change.figures == {"rfm.monetary": "210000.00", "rfm.revenue_share": "0.000"}
    # A second run changes nothing and records nothing new.
    changes = ClassChange.objects.count()
    run_all()
    assert ClassChange.objects.count() == changes


def test_a_preview_counts_what_saving_the_rule_changes(root, alice, make_customer):
    customers = [make_customer(alice, name=f"客户{i}") for i in range(12)]
    for i, customer in enumerate(customers):
        order(customer, 10 + i, 1_000 * (i + 1))
    run_all()
    tier = Dimension.objects.get(key="value_tier")
    vip = DimensionValue.objects.get(dimension=tier, key="vip")
    draft = Rule(name="VIP：近一年消费 ≥ ¥8,000", value=vip, priority=1,
                 condition={"field": "rfm.monetary", "op": "gte", "value": 8000})
    draft.pk = 0  # a draft has no id yet; the preview needs one to tell the rules apart
    plan = engine.preview(viewer=root, dimension=tier, actor=None,
                          rules=sorted([draft, *engine.active_rules(tier)],
                                       key=lambda r: (r.priority, r.pk)))
    assert plan.changed == 5
    before = ClassChange.objects.filter(to_value=vip).count()
    rule_save(actor=root, origin="manual", rerun=False, data={
        "name": draft.name, "value": vip.pk, "priority": 1, "condition": draft.condition})
    run_all()
    assert ClassChange.objects.filter(to_value=vip).count() - before == plan.changed
    assert set(plan.changes) == {(a, vip.pk) for a, _b in plan.changes}
