"""A task names its customer to whoever does it and whoever it is escalated to: only people
who can see that customer (the customers' gate) are given one or told about one, and a
customer in the recycle bin — a merged duplicate too — rings nobody (review of issue 12)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from kehu.accounts.services import system_actor
from kehu.core.errors import ValidationError
from kehu.customers.merging import customer_merge
from kehu.customers.services import customer_delete
from kehu.followup.digest import digests_send
from kehu.followup.generation import generate
from kehu.followup.models import FollowUpTask
from kehu.followup.services import plan_save
from kehu.notifications.models import Notification
from tests.followup.conftest import set_tier, tier
from tests.followup.test_reminders import MONDAY, add_task, at, escalate, remind

pytestmark = pytest.mark.django_db


def test_a_managers_plan_assigned_to_bob_leaves_out_alices_customers_bob_cannot_see(
        alice, bob, mallory, make_customer):
    alices = make_customer(alice, name="alice 的 A 类客户")
    bobs = make_customer(bob, name="bob 的 A 类客户")
    for customer in (alices, bobs):
        set_tier(customer, "a")
    plan_save(actor=mallory, origin="manual", data={
        "name": "A 类交给 bob", "target": f"value:{tier('a').pk}", "cadence_days": 30,
        "assignee": bob.pk})
    generate(actor=system_actor())
    assert list(FollowUpTask.objects.values_list("customer", "assignee")) == [(bobs.pk, bob.pk)]


def test_a_task_that_was_assigned_out_of_sight_is_cancelled_by_the_next_generation(
        alice, bob, mallory, make_customer):
    alices = make_customer(alice, name="alice 的 A 类客户")
    set_tier(alices, "a")
    plan = plan_save(actor=mallory, origin="manual", data={
        "name": "A 类", "target": f"value:{tier('a').pk}", "cadence_days": 30})
    generate(actor=system_actor())
    type(plan).objects.filter(pk=plan.pk).update(assignee=bob)  # as before the fix
    FollowUpTask.objects.update(assignee=bob)
    assert generate(actor=system_actor())["cancelled"] == 1
    assert not FollowUpTask.objects.filter(status="open").exists()


def test_a_task_cannot_be_assigned_to_someone_who_cannot_see_the_customer(
        root, alice, make_customer):
    roots = make_customer(root, name="root 的客户")
    with pytest.raises(ValidationError) as caught:
        add_task_for(root, roots, alice)
    assert caught.value.message_dict == {"assignee": ["执行人看不到这个客户"]}
    assert add_task_for(root, make_customer(alice, name="alice 的客户"), alice).assignee == alice


def add_task_for(actor, customer, assignee):
    from kehu.followup.services import task_create

    return task_create(actor=actor, origin="manual", customer=customer.pk, data={
        "title": "回访", "due_date": MONDAY, "due_time": "14:00", "assignee": assignee.pk})


def test_a_task_on_roots_customer_assigned_to_alice_reminds_and_escalates_to_nobody(
        root, alice, mallory, make_customer):
    roots = make_customer(root, name="root 的机密客户")
    set_tier(roots, "a")
    task = add_task_for(root, roots, root)
    FollowUpTask.objects.filter(pk=task.pk).update(assignee=alice)  # as the old check allowed
    assert remind(at(MONDAY, "14:01")) == 1  # claimed: nobody is told
    assert escalate(at(MONDAY + dt.timedelta(days=4), "09:00")) == 1
    assert not Notification.objects.exists()


def test_a_deleted_customers_task_sends_no_reminder_escalation_or_digest(
        alice, mallory, make_customer):
    gone = make_customer(alice, name="已删除的客户")
    set_tier(gone, "a")
    add_task(alice, gone, MONDAY)
    customer_delete(actor=alice, customer=gone, origin="manual")
    assert remind(at(MONDAY, "14:01")) == 0
    assert escalate(at(MONDAY + dt.timedelta(days=4), "09:00")) == 0
    assert digests_send(actor=system_actor(), origin="system",
                        now=at(MONDAY + dt.timedelta(days=1), "08:30")) == 0
    assert not Notification.objects.exists()


def test_a_merge_cancels_the_duplicates_open_tasks_and_plans_the_survivor_afresh(
        alice, mallory, make_customer, plans):
    from kehu.history.services import communication_log
    from tests.followup.conftest import noon

    ours = make_customer(alice, name="杭州西湖茶业有限公司")
    theirs = make_customer(alice, name="杭州西湖茶业")
    for customer in (ours, theirs):
        set_tier(customer, "a")
    generate(actor=system_actor())
    add_task(alice, theirs, MONDAY, title="寄样品")
    recent = timezone.localdate() - dt.timedelta(days=3)
    communication_log(actor=alice, customer=theirs, origin="manual",
                      data={"channel": "phone", "occurred_at": noon(recent)})
    customer_merge(actor=mallory, origin="manual", survivor=ours, duplicate=theirs)
    assert not FollowUpTask.objects.filter(customer=theirs, status="open").exists()
    [survivor_task] = FollowUpTask.objects.filter(customer=ours, status="open")
    # The duplicate's call moved to the survivor: its next follow-up is one cadence after it.
    from kehu.followup.calendar import due_on_working_day

    assert survivor_task.due_date == due_on_working_day(recent + dt.timedelta(days=30))
    assert remind(at(MONDAY, "14:01")) == 0
