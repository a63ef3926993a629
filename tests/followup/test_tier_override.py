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
