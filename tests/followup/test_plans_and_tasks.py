"""Plans generate tasks; a logged call completes one and schedules the next one cadence
later; a tier change switches the cadence at once (issue 12, "Done when" item 3)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from kehu.accounts.services import system_actor
from kehu.classification.services import class_override
from kehu.core.errors import Http404, ValidationError
from kehu.followup.calendar import due_on_working_day
from kehu.followup.generation import generate
from kehu.followup.models import FollowUpTask
from kehu.followup.services import task_create
from kehu.history.services import communication_log
from tests.followup.conftest import noon, set_tier, tier

pytestmark = pytest.mark.django_db
D = dt.date


def open_plan_task(customer):
    return FollowUpTask.objects.get(customer=customer, status="open", kind="plan")


def test_generation_gives_each_customer_in_a_plan_one_task_due_last_contact_plus_cadence(
        alice, make_customer, plans):
    called = make_customer(alice, name="打过电话的客户")
    never = make_customer(alice, name="从未联系的客户")
    outside = make_customer(alice, name="不在计划里的客户")
    for customer in (called, never):
        set_tier(customer, "a")
    last_call = timezone.localdate() - dt.timedelta(days=10)
    communication_log(actor=alice, customer=called, origin="manual",
                      data={"channel": "phone", "occurred_at": noon(last_call)})
    FollowUpTask.objects.all().delete()  # the log above already planned; start clean
    counts = generate(actor=system_actor())
    assert counts["created"] == 2
    task = open_plan_task(called)
    assert task.plan == plans["a"] and task.assignee == alice and task.kind == "plan"
    assert task.due_date == due_on_working_day(last_call + dt.timedelta(days=30))
    assert open_plan_task(never).due_date == due_on_working_day(timezone.localdate())
    assert not FollowUpTask.objects.filter(customer=outside).exists()
    assert generate(actor=system_actor()) == {"cancelled": 0, "created": 0}  # idempotent


def national_day_in_the_window() -> D:
    """The latest 1 October the library knows whose first day back is inside the calendar
    window (from a year before today): 2026-10-01 until late 2027."""
    from kehu.followup.calendar import library_last_year
    from kehu.followup.generation import shift_window

    first, _last = shift_window()
    for year in range(library_last_year(), first.year - 1, -1):
        if D(year, 10, 8) >= first and D(year, 10, 1) <= timezone.localdate():
            return D(year, 10, 1)
    pytest.skip("chinese-calendar knows no 国庆 within the last year: update it")


def test_a_due_date_on_national_day_lands_on_the_first_day_back(alice, make_customer, plans):
    from kehu.followup.calendar import is_working_day

    national_day = national_day_in_the_window()
    customer = make_customer(alice, name="国庆客户")
    set_tier(customer, "a")
    communication_log(actor=alice, customer=customer, origin="manual", data={
        "channel": "phone", "occurred_at": noon(national_day - dt.timedelta(days=30))})
    # The last call + 30 days = 1 October, 国庆: due on the first day back (2026: the 8th).
    due = open_plan_task(customer).due_date
    assert not is_working_day(national_day) and due == due_on_working_day(national_day)
    assert D(national_day.year, 10, 8) <= due <= D(national_day.year, 10, 10)


def test_logging_a_call_completes_the_task_and_the_next_is_due_one_cadence_later(
        alice, make_customer, plans):
    customer = make_customer(alice, name="杭州西湖茶业")
    set_tier(customer, "a")
    generate(actor=system_actor())
    first = open_plan_task(customer)
    called = timezone.localdate() - dt.timedelta(days=20)
    call = communication_log(actor=alice, customer=customer, origin="manual",
                             data={"channel": "phone", "occurred_at": noon(called)})
    first.refresh_from_db()
    assert (first.status, first.done_by, first.communication) == ("done", alice, call)
    second = open_plan_task(customer)
    assert second.due_date == due_on_working_day(called + dt.timedelta(days=30))
    assert second.plan == plans["a"]


def test_a_tier_change_switches_the_cadence_at_once(alice, root, make_customer, plans):
    customer = make_customer(alice, name="升级的客户")
    set_tier(customer, "c")
    called = timezone.localdate() - dt.timedelta(days=33)
    communication_log(actor=alice, customer=customer, origin="manual",
                      data={"channel": "visit", "occurred_at": noon(called)})
    assert open_plan_task(customer).plan == plans["c"]
    assert open_plan_task(customer).due_date == due_on_working_day(called + dt.timedelta(days=180))
    class_override(actor=root, origin="manual", customer_id=customer.pk,
                   dimension=tier("a").dimension, value=tier("a"))
    task = open_plan_task(customer)
    assert task.plan == plans["a"]
    assert task.due_date == due_on_working_day(called + dt.timedelta(days=30))
    assert FollowUpTask.objects.filter(customer=customer, status="cancelled").count() == 1


def test_a_rep_cannot_create_tasks_on_another_reps_customer(alice, charlie, make_customer):
    customer = make_customer(alice, name="alice 的客户")
    with pytest.raises(Http404):
        task_create(actor=charlie, origin="manual", customer=customer.pk,
                    data={"title": "偷偷跟进", "due_date": "2026-12-10"})
    task = task_create(actor=alice, origin="manual", customer=customer.pk,
                       data={"title": "寄样品", "due_date": "2026-12-10", "kind": "reminder",
                             "due_time": "15:30"})
    assert task.kind == "reminder" and timezone.localtime(task.due_at).time() == dt.time(15, 30)


def test_every_bad_field_of_a_task_is_reported_at_once(alice, make_customer):
    customer = make_customer(alice, name="alice 的客户")
    with pytest.raises(ValidationError) as caught:
        task_create(actor=alice, origin="manual", customer=customer.pk,
                    data={"title": "", "due_date": "明天", "due_time": "25:00", "kind": "x"})
    assert set(caught.value.message_dict) == {"title", "due_date", "due_time", "kind"}


@pytest.mark.parametrize("finish", ["done", "cancel"])
def test_marking_an_overdue_plan_task_done_or_cancelled_plans_the_next_a_cadence_from_today(
        finish, alice, mallory, make_customer, plans):
    from kehu.followup.reminders import escalations_send
    from kehu.followup.services import task_cancel, task_complete

    customer = make_customer(alice, name="很久没联系的客户")
    set_tier(customer, "a")
    today = timezone.localdate()
    communication_log(actor=alice, customer=customer, origin="manual",
                      data={"channel": "phone", "occurred_at": noon(today - dt.timedelta(days=100))})
    overdue = open_plan_task(customer)
    assert overdue.due_date < today
    (task_complete if finish == "done" else task_cancel)(
        actor=alice, origin="manual", task=overdue.pk)
    overdue.refresh_from_db()
    assert overdue.done_by == alice and overdue.done_at is not None
    nxt = open_plan_task(customer)
    assert nxt.pk != overdue.pk
    assert nxt.due_date == due_on_working_day(today + dt.timedelta(days=30)) > today
    assert escalations_send(actor=system_actor(), origin="system", now=timezone.now()) == 0
    assert generate(actor=system_actor()) == {"cancelled": 0, "created": 0}


@pytest.mark.parametrize("sent", ["false", False, "0", "否"])
def test_a_plan_posted_with_is_active_false_is_saved_inactive(sent, root, alice, make_customer):
    from kehu.followup.services import plan_save

    customer = make_customer(alice, name="A 类客户")
    set_tier(customer, "a")
    plan = plan_save(actor=root, origin="api", regenerate=False, data={
        "name": "停用的计划", "target": f"value:{tier('a').pk}", "cadence_days": "30",
        "is_active": sent})
    plan.refresh_from_db()
    assert plan.is_active is False
    generate(actor=system_actor())
    assert not FollowUpTask.objects.filter(customer=customer, kind="plan", status="open").exists()


def test_is_active_left_out_is_active_and_a_word_that_is_no_yes_or_no_is_refused(root):
    from kehu.followup.services import plan_save

    data = {"name": "计划", "target": f"value:{tier('a').pk}", "cadence_days": 30}
    assert plan_save(actor=root, origin="api", regenerate=False, data=data).is_active is True
    with pytest.raises(ValidationError) as caught:
        plan_save(actor=root, origin="api", regenerate=False, data={**data, "is_active": "也许"})
    assert set(caught.value.message_dict) == {"is_active"}


def test_the_kinds_a_person_picks_are_the_models_own():
    from kehu.followup.cleaning import DayKind, PersonTaskKind
    from kehu.followup.models import CalendarDay, TaskKind

    assert DayKind.choices == list(CalendarDay.KINDS)
    assert PersonTaskKind.choices == [c for c in TaskKind.choices if c[0] != TaskKind.PLAN]


def test_escalation_days_and_cadence_keep_their_own_words():
    from kehu.followup.cleaning import clean_cadence, clean_escalation

    assert clean_cadence(" 30 ") == 30
    with pytest.raises(ValidationError) as caught:
        clean_cadence("0")
    assert caught.value.messages == ["应为 1 到 365 之间的整数（天）"]
    with pytest.raises(ValidationError) as caught:
        clean_escalation({"escalate_vip_days": "x", "escalate_a_days": "366",
                          "escalate_b_days": "0", "escalate_c_days": 14})
    assert caught.value.message_dict == {
        name: ["应为 0 到 365 之间的整数（天），0 表示不升级"]
        for name in ("escalate_vip_days", "escalate_a_days", "escalate_other_days")}



def test_a_task_without_a_time_is_due_at_the_preferred_contact_time_the_actor_reads(
        alice, mallory, make_customer):
    from kehu.history.services import preference_save

    customer = make_customer(alice, name="喜欢下午联系的客户")
    preference_save(actor=alice, customer=customer, origin="manual",
                    data={"preferred_contact_time": "afternoon"})
    for actor in (alice, mallory):  # the owner, and her manager through the gate
        task = task_create(actor=actor, origin="manual", customer=customer.pk,
                           data={"title": "回访", "due_date": "2026-12-10"})
        assert timezone.localtime(task.due_at).time() == dt.time(14)
    plain = make_customer(alice, name="没有偏好的客户")
    task = task_create(actor=alice, origin="manual", customer=plain.pk,
                       data={"title": "回访", "due_date": "2026-12-10"})
    assert timezone.localtime(task.due_at).time() == dt.time(9)


def test_a_transferred_customers_plan_task_goes_to_the_new_owner_with_its_due_date(
        alice, bob, mallory, make_customer, plans):
    from kehu.core.models import ChangeLog
    from kehu.customers.services import customer_transfer

    customer = make_customer(alice, name="交接的客户")
    set_tier(customer, "a")
    generate(actor=system_actor())
    before = open_plan_task(customer)
    manual = task_create(actor=alice, origin="manual", customer=customer.pk,
                         data={"title": "寄样品", "due_date": timezone.localdate().isoformat()})

    customer_transfer(actor=mallory, origin="manual", customer_ids=[customer.pk], to_user=bob,
                      reason="调岗")

    after = open_plan_task(customer)
    assert (after.pk, after.assignee, after.due_date) == (before.pk, bob, before.due_date)
    entry = ChangeLog.objects.get(action="task_reassigned", object_id=after.pk)
    assert (entry.actor, entry.changes) == (mallory, {"assignee": [alice.pk, bob.pk]})
    manual.refresh_from_db()
    assert manual.assignee == alice  # a manual task is a person's own: it stays


def test_tasks_left_open_on_customers_pooled_before_the_fix_are_cancelled_by_the_migration(
        alice, make_customer):
    import importlib

    from django.apps import apps

    from kehu.core.models import ChangeLog
    from kehu.customers.models import Customer

    pooled, owned = make_customer(alice, name="早已进公海"), make_customer(alice, name="仍归我")
    tasks = [task_create(actor=alice, origin="manual", customer=c.pk, data={
        "title": "回访", "due_date": timezone.localdate().isoformat()}) for c in (pooled, owned)]
    Customer.objects.filter(pk=pooled.pk).update(owner=None)  # as the pool did before 2026-12-05

    importlib.import_module(
        "kehu.followup.migrations.0005_cancel_tasks_of_ownerless_customers").cancel(apps, None)

    assert [FollowUpTask.objects.get(pk=t.pk).status for t in tasks] == ["cancelled", "open"]
    entry = ChangeLog.objects.get(action="task_cancelled", object_id=tasks[0].pk)
    assert (entry.origin, entry.customer_id) == ("system", pooled.pk)
