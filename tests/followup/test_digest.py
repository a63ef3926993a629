"""The morning digest: one notification per rep a working day, with today's and overdue
counts and the top five in my day's order; sent once per person per day (issue 12, item 4)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from kehu.accounts.services import system_actor
from kehu.followup import digest as digest_module
from kehu.followup.digest import digests_send
from kehu.followup.jobs import DIGEST_JOB
from kehu.followup.models import DigestSent
from kehu.jobs.services import job_start, run_here
from kehu.notifications.models import Notification
from tests.followup.conftest import set_tier
from tests.followup.test_reminders import MONDAY, add_task, at

pytestmark = pytest.mark.django_db


def send(now: dt.datetime) -> int:
    return digests_send(actor=system_actor(), origin="system", now=now)


@pytest.fixture
def book(alice, bob, make_customer):
    """alice: 6 customers, one due Monday, five overdue; bob: a task next week only."""
    customers = [make_customer(alice, name=f"客户{i}号") for i in range(6)]
    set_tier(customers[3], "a")
    add_task(alice, customers[0], MONDAY, title="今天的")
    for customer in customers[1:]:
        add_task(alice, customer, MONDAY - dt.timedelta(days=2), title="逾期的")
    add_task(bob, make_customer(bob, name="bob 的客户"), MONDAY + dt.timedelta(days=7))
    return customers


def test_each_rep_with_due_work_gets_one_digest_with_counts_and_the_top_five(alice, bob, book):
    assert send(at(MONDAY, "08:30")) == 1
    [note] = Notification.objects.filter(recipient=alice)
    assert note.title == "今日跟进：今天到期 1 个，逾期 5 个"
    assert note.link == reverse("followup:today")
    lines = note.body.splitlines()
    assert len(lines) == 5 and lines[0].startswith("1. 客户3号 — 逾期的（A 类 · 逾期 2 天")
    assert not Notification.objects.filter(recipient=bob).exists()  # nothing due: no digest


def test_a_second_run_the_same_day_sends_nothing_and_the_next_day_sends_again(alice, book):
    assert send(at(MONDAY, "08:30")) == 1
    assert send(at(MONDAY, "10:00")) == 0
    assert send(at(MONDAY + dt.timedelta(days=1), "08:30")) == 1
    assert Notification.objects.filter(recipient=alice).count() == 2
    assert DigestSent.objects.filter(user=alice).count() == 2


def test_a_crash_before_the_commit_leaves_no_claim_and_the_rerun_sends_it(alice, book,
                                                                         monkeypatch):
    real = digest_module.notify

    def dies(**kwargs):
        real(**kwargs)
        raise SystemExit("the worker is killed")

    monkeypatch.setattr(digest_module, "notify", dies)
    with pytest.raises(SystemExit):
        send(at(MONDAY, "08:30"))
    assert not DigestSent.objects.exists() and not Notification.objects.exists()
    monkeypatch.setattr(digest_module, "notify", real)
    assert send(at(MONDAY, "08:35")) == 1


def test_the_job_skips_holidays_and_weekends(alice, book):
    saturday = at(MONDAY - dt.timedelta(days=2), "08:30")
    job = job_start(actor=system_actor(), origin="system", kind=DIGEST_JOB, queued=False,
                    params={"now": saturday.isoformat()})
    assert run_here(job).result == {"非工作日": 1}
    job = job_start(actor=system_actor(), origin="system", kind=DIGEST_JOB, queued=False,
                    params={"now": at(MONDAY, "08:30").isoformat()})
    assert run_here(job).result == {"发送的摘要": 1}


def test_the_digest_reads_as_the_rep_sees_it(alice, book, make_customer, root):
    """A task assigned to alice on a customer she cannot see is not in her digest."""
    hidden = make_customer(root, name="总部的客户")
    from kehu.followup.models import FollowUpTask

    FollowUpTask.objects.create(customer=hidden, assignee=alice, title="看不到的", due_date=MONDAY,
                                due_at=at(MONDAY, "09:00"), created_at=timezone.now(),
                                event_at=timezone.now())
    send(at(MONDAY, "08:30"))
    [note] = Notification.objects.filter(recipient=alice)
    assert "总部的客户" not in note.body and note.title == "今日跟进：今天到期 1 个，逾期 5 个"
