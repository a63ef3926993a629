"""Reminders at the due time and escalation to the manager, each sent exactly once — on a
rerun, after a crash mid-batch and with two workers at once (issue 12, item 4). The clock
is passed in (`now`): no test sleeps."""

from __future__ import annotations

import datetime as dt
import os
import signal
import threading

import pytest
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from kehu.accounts.services import system_actor
from kehu.followup import reminders
from kehu.followup.jobs import ESCALATE_JOB
from kehu.followup.models import FollowUpTask
from kehu.followup.reminders import escalations_send, reminders_send
from kehu.followup.services import escalation_settings_save, task_create
from kehu.jobs.models import Job
from kehu.jobs.services import job_start
from kehu.notifications.models import Notification
from tests.followup.conftest import set_tier

pytestmark = pytest.mark.django_db

MONDAY = dt.date(2026, 12, 7)  # a working day


def at(day: dt.date, hhmm: str) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time.fromisoformat(hhmm)))


def remind(now: dt.datetime) -> int:
    return reminders_send(actor=system_actor(), origin="system", now=now)


def escalate(now: dt.datetime) -> int:
    return escalations_send(actor=system_actor(), origin="system", now=now)


def add_task(actor, customer, day: dt.date, title: str = "回访报价", hhmm: str = "14:00"):
    return task_create(actor=actor, origin="manual", customer=customer.pk, data={
        "title": title, "due_date": day, "due_time": hhmm})


@pytest.fixture
def tea(alice, make_customer):
    customer = make_customer(alice, name="杭州西湖茶业有限公司")
    set_tier(customer, "a")
    return customer


def bell(user) -> list[Notification]:
    return list(Notification.objects.filter(recipient=user).order_by("id"))


# --- reminders ---------------------------------------------------------------------------


def test_a_task_is_reminded_once_at_its_due_time(alice, tea):
    task = add_task(alice, tea, MONDAY)
    assert remind(at(MONDAY, "13:59")) == 0
    assert remind(at(MONDAY, "14:00")) == 1
    assert remind(at(MONDAY, "14:05")) == 0  # the next run finds nothing
    [note] = bell(alice)
    assert note.title == "跟进提醒：杭州西湖茶业有限公司 — 回访报价"
    assert note.link == reverse("customers:detail", args=[tea.pk]) + "#followup"
    task.refresh_from_db()
    assert task.reminded_at == at(MONDAY, "14:00")


def test_several_tasks_due_together_are_one_notification_linking_to_my_day(alice, tea,
                                                                          make_customer):
    other = make_customer(alice, name="宁波海港物流有限公司")
    add_task(alice, tea, MONDAY, hhmm="09:00")
    add_task(alice, other, MONDAY, title="确认合同", hhmm="09:00")
    assert remind(at(MONDAY, "09:05")) == 2
    [note] = bell(alice)
    assert note.title == "2 个跟进已到时间：杭州西湖茶业有限公司、宁波海港物流有限公司"
    assert note.link == reverse("followup:today")
    assert "宁波海港物流有限公司 — 确认合同（12-07 09:00）" in note.body


def test_done_tasks_and_tasks_long_past_due_are_not_reminded(alice, tea, make_customer):
    done = add_task(alice, tea, MONDAY)
    FollowUpTask.objects.filter(pk=done.pk).update(status="done")
    add_task(alice, make_customer(alice, name="旧客户"), MONDAY - dt.timedelta(days=3))
    assert remind(at(MONDAY, "15:00")) == 0
    assert bell(alice) == []


def test_the_reminder_is_mailed_when_smtp_is_configured(alice, tea, settings):
    from kehu.jobs.models import Job

    settings.KEHU_EMAIL_ENABLED = True
    alice.email = "alice@example.cn"
    alice.save(update_fields=["email"])
    add_task(alice, tea, MONDAY)
    remind(at(MONDAY, "14:01"))
    [note] = bell(alice)
    assert Job.objects.filter(kind="notifications.email",
                              params__notification=note.pk).count() == 1


@pytest.mark.parametrize(("send", "when", "who"), [
    (remind, at(MONDAY, "14:01"), "alice"),
    (escalate, at(MONDAY + dt.timedelta(days=4), "09:00"), "mallory")])
def test_a_crash_after_the_notifications_rolls_the_claim_back_and_the_rerun_sends_once(
        send, when, who, alice, mallory, tea, monkeypatch):
    add_task(alice, tea, MONDAY)
    recipient = {"alice": alice, "mallory": mallory}[who]
    real = reminders.notify

    def dies_after_writing(**kwargs):
        real(**kwargs)
        raise SystemExit("the worker is killed")

    monkeypatch.setattr(reminders, "notify", dies_after_writing)
    with pytest.raises(SystemExit):
        send(when)
    task = FollowUpTask.objects.get()
    assert bell(recipient) == [] and task.reminded_at is None and task.escalated_at is None
    monkeypatch.setattr(reminders, "notify", real)
    assert send(when + dt.timedelta(minutes=5)) == 1
    assert send(when + dt.timedelta(minutes=10)) == 0
    assert len(bell(recipient)) == 1


# --- escalation --------------------------------------------------------------------------


def test_an_overdue_task_escalates_to_the_managers_bell_once_past_its_tiers_threshold(
        alice, mallory, tea, make_customer):
    b_customer = make_customer(alice, name="乙 B 类客户")
    set_tier(b_customer, "b")
    add_task(alice, tea, MONDAY)  # A: 3 days
    add_task(alice, b_customer, MONDAY, title="催款")  # B: 7 days
    assert escalate(at(MONDAY + dt.timedelta(days=2), "09:00")) == 0
    assert escalate(at(MONDAY + dt.timedelta(days=3), "09:00")) == 1
    [note] = bell(mallory)
    assert note.title == "跟进逾期升级：Alice 王 的「杭州西湖茶业有限公司」已逾期 3 天"
    assert note.link == reverse("followup:team_member", args=[alice.pk]) == f"/followup/team/{alice.pk}/"
    assert "回访报价" in note.body and note.level == "warning"
    assert escalate(at(MONDAY + dt.timedelta(days=4), "09:00")) == 0  # once
    assert escalate(at(MONDAY + dt.timedelta(days=7), "09:00")) == 1  # the B task's turn
    assert len(bell(mallory)) == 2 and bell(alice) == []
    assert set(FollowUpTask.objects.values_list("escalated_to", flat=True)) == {mallory.pk}


def test_the_thresholds_are_settings_managers_change_and_zero_means_never(alice, mallory, tea):
    escalation_settings_save(actor=mallory, origin="manual", data={
        "escalate_vip_days": 1, "escalate_a_days": 0, "escalate_b_days": 7,
        "escalate_c_days": 14, "escalate_other_days": 1})
    add_task(alice, tea, MONDAY)
    assert escalate(at(MONDAY + dt.timedelta(days=30), "09:00")) == 0


def test_a_rep_without_a_manager_is_not_escalated_until_one_is_set(alice, mallory, tea):
    alice.manager = None
    alice.save(update_fields=["manager"])
    add_task(alice, tea, MONDAY)
    later = at(MONDAY + dt.timedelta(days=5), "09:00")
    assert escalate(later) == 0
    alice.manager = mallory
    alice.save(update_fields=["manager"])
    assert escalate(later) == 1


def test_an_escalated_task_says_so_on_my_day_and_in_the_team_view(alice, mallory, tea, login):
    day = timezone.localdate() - dt.timedelta(days=5)
    add_task(alice, tea, day)
    assert escalate(timezone.now()) == 1
    mine = login(alice).get(reverse("followup:today")).content.decode()
    team = login(mallory).get(reverse("followup:team_member", args=[alice.pk])).content.decode()
    assert "已升级" in mine and "已升级" in team


@pytest.mark.django_db(transaction=True)
def test_two_workers_at_once_send_each_reminder_and_escalation_once(alice, mallory, make_customer):
    if connection.vendor == "sqlite":  # one writer at a time by design; PostgreSQL is the race
        pytest.skip("two concurrent writers need PostgreSQL")
    customers = [make_customer(alice, name=f"并发客户{i}") for i in range(30)]
    for customer in customers:
        set_tier(customer, "a")
        add_task(alice, customer, MONDAY)
    barrier = threading.Barrier(2)
    counts: list[int] = []

    def run(send, now):
        try:
            barrier.wait()
            counts.append(send(actor=system_actor(), origin="system", now=now))
        finally:
            connection.close()

    for send, now in ((reminders_send, at(MONDAY, "14:01")),
                      (escalations_send, at(MONDAY + dt.timedelta(days=3), "09:00"))):
        threads = [threading.Thread(target=run, args=(send, now)) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert sum(counts[:2]) == 30 and sum(counts[2:]) == 30  # split between them, never twice
    assert FollowUpTask.objects.filter(reminded_at__isnull=True).count() == 0
    assert sum(n.body.count("\n") + 1 for n in bell(alice)) == 30  # every task named once
    escalated = bell(mallory)
    assert sum(n.body.count("\n") + 1 for n in escalated) == 30


@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_in_the_middle_of_an_escalation_sends_it_exactly_once_after_restart(
        alice, mallory, tea, worker, worker_log):
    """A real crash: the worker has claimed the task (its UPDATE not yet committed) and is
    held writing the notification — another session holds a lock on the notifications
    table — when it is killed with kill -9. Its transaction dies with it; a new worker
    re-runs the job and sends the escalation once."""
    if connection.vendor == "sqlite":  # SQLite's writer holds the only write lock:
        pytest.skip("nothing outside can hold a SQLite writer mid-transaction")
    import psycopg

    from tests.jobs.test_worker_process import wait_for

    add_task(alice, tea, MONDAY)
    params = {"now": at(MONDAY + dt.timedelta(days=4), "09:00").isoformat()}  # a Friday
    db = connection.settings_dict
    blocker = psycopg.connect(host=db["HOST"], port=db["PORT"], dbname=db["NAME"],
                              user=db["USER"], password=db["PASSWORD"] or None)
    table = connection.ops.quote_name(Notification._meta.db_table)

    def waiting_on_a_lock() -> int:
        with connection.cursor() as cursor:  # autocommit: a fresh view of pg_stat_activity
            cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = "
                           "current_database() AND wait_event_type = 'Lock'")
            return cursor.fetchone()[0]

    try:
        blocker.execute(f"LOCK TABLE {table} IN SHARE MODE")  # no notification is written
        first = worker()
        job = job_start(actor=system_actor(), origin="system", kind=ESCALATE_JOB, params=params)
        wait_for(waiting_on_a_lock, what="the worker held writing the notification",
                 log=worker_log)
        os.killpg(first.pid, signal.SIGKILL)  # mid-transaction: claimed, not committed
        first.wait(timeout=10)
    finally:
        blocker.rollback()  # let go: the dead worker's session finds its client gone
        blocker.close()
    wait_for(lambda: not waiting_on_a_lock(), what="the dead worker's session to end")
    task = FollowUpTask.objects.get()
    assert task.escalated_at is None and bell(mallory) == []
    worker()
    again = wait_for(lambda: (j := Job.objects.get(pk=job.pk)).finished and j,
                     what="the escalation job, re-run", log=worker_log)
    assert again.status == "done" and again.attempts == 2
    assert again.result == {"升级的任务": 1}
    [note] = bell(mallory)
    assert "杭州西湖茶业有限公司" in note.title and "逾期 4 天" in note.title
