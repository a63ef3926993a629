"""Clearing a person's tier override re-plans the customer at once, whether a rule then
places it (classes_changed from the engine) or nothing does (from the override's clearing)."""

from __future__ import annotations

import pytest

from kehu.classification.models import CustomerClass, Rule
from kehu.classification.services import class_override
from kehu.followup.models import FollowUpTask
from tests.followup.conftest import tier

pytestmark = pytest.mark.django_db


def open_plan_task(customer):
    return FollowUpTask.objects.get(customer=customer, status="open", kind="plan")


@pytest.mark.parametrize("rules_hold_it", [False, True])
def test_clearing_the_override_that_put_a_customer_in_tier_a_moves_its_plan_task(
        rules_hold_it, alice, root, make_customer, plans):
    if not rules_hold_it:  # no rule places a customer without orders: the tier just goes
        Rule.objects.filter(builtin_key="tier_c").update(is_active=False)
    customer = make_customer(alice, name="手工设为 A 类的客户")
    dimension = tier("a").dimension
    class_override(actor=root, origin="manual", customer_id=customer.pk, dimension=dimension,
                   value=tier("a"))
    held = open_plan_task(customer)
    assert held.plan == plans["a"]
    class_override(actor=root, origin="manual", customer_id=customer.pk, dimension=dimension,
                   value=None)
    held.refresh_from_db()
    assert held.status == "cancelled"
    now_in = CustomerClass.objects.filter(customer=customer, dimension=dimension).first()
    if rules_hold_it:
        assert now_in.value == tier("c") and open_plan_task(customer).plan == plans["c"]
    else:
        assert now_in is None
        assert not FollowUpTask.objects.filter(customer=customer, status="open").exists()


def test_only_a_move_in_a_dimension_some_plan_reads_re_plans(root, plans, monkeypatch):
    """Plans by tier: a customer whose lifecycle alone moved stays where it is, without
    the re-plan's queries; its tier moving, or any plan on a segment (whose condition may
    name the lifecycle), re-plans it."""
    from kehu.classification.models import Dimension
    from kehu.classification.signals import classes_changed
    from kehu.customers.segments import segment_save
    from kehu.followup import services
    from kehu.followup.services import plan_save

    lifecycle, value_tier = (Dimension.objects.get(key=k).pk for k in ("lifecycle", "value_tier"))
    planned: list[set[int]] = []
    monkeypatch.setattr(services, "replan", lambda ids: planned.append(set(ids)))
    classes_changed.send(sender=None, ids={7}, dimensions={lifecycle})
    assert planned == []
    classes_changed.send(sender=None, ids={8}, dimensions={lifecycle, value_tier})
    assert planned == [{8}]
    segment = segment_save(actor=root, origin="manual", data={
        "name": "沉睡客户", "condition": {"field": "dim.lifecycle", "op": "in",
                                          "value": ["dormant"]}})
    plan_save(actor=root, origin="manual", data={"name": "唤醒", "target": f"segment:{segment.pk}",
                                                 "cadence_days": 14})
    classes_changed.send(sender=None, ids={9}, dimensions={lifecycle})
    assert planned == [{8}, {9}]
