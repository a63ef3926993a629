"""The generation job is set-based, idempotent (run twice → the same rows) and resumes
after a worker dies between units, doing no unit twice except the one that died."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from kehu.accounts.services import system_actor
from kehu.followup import jobs as followup_jobs
from kehu.followup.models import CalendarDay, FollowUpTask
from kehu.followup.services import GENERATE_JOB, calendar_day_save
from kehu.jobs import runner
from kehu.jobs.models import Job, Status
from kehu.jobs.services import job_start, run_here
from kehu.jobs.testing import drain
from tests.followup.conftest import set_tier

pytestmark = pytest.mark.django_db


@pytest.fixture
def book(alice, make_customer, plans):
    customers = [make_customer(alice, name=f"客户{i}号公司") for i in range(7)]
    for i, customer in enumerate(customers):
        set_tier(customer, "abc"[i % 3])
    FollowUpTask.objects.all().delete()
    Job.objects.all().delete()  # the plans' own generation jobs: this test runs its own
    return customers


def rows() -> list[tuple]:
    return sorted(FollowUpTask.objects.values_list("customer_id", "plan_id", "status", "due_date",
                                                  "due_at"))


def test_running_twice_gives_the_same_rows(book):
    for _ in range(2):
        job = job_start(actor=system_actor(), origin="system", kind=GENERATE_JOB, queued=False)
        assert run_here(job).status == "done"
        assert len(rows()) == 7
    first = rows()
    job = job_start(actor=system_actor(), origin="system", kind=GENERATE_JOB, queued=False)
    assert run_here(job).result["新任务"] == 0
    assert rows() == first


def test_a_worker_killed_mid_run_resumes_after_its_last_unit(book, monkeypatch):
    first_id = book[0].pk
    monkeypatch.setattr(followup_jobs, "RANGE", 2)
    # Customer ids start at first_id: with ranges of 2 from id 0, count the units that hold them.
    real = followup_jobs.generate
    units = []

    def dies_on_the_third_unit(**kwargs):
        units.append(kwargs["first"])
        if len([u for u in units if u >= first_id - 1]) == 3:
            raise SystemExit("the worker is killed")
        return real(**kwargs)

    monkeypatch.setattr(followup_jobs, "generate", dies_on_the_third_unit)
    job = job_start(actor=system_actor(), origin="system", kind=GENERATE_JOB, queued=False)
    with pytest.raises(SystemExit):
        runner.execute(job.pk)
    job.refresh_from_db()
    assert job.status == Status.RUNNING
    made = FollowUpTask.objects.count()
    assert 0 < made < 7
    monkeypatch.setattr(followup_jobs, "generate", lambda **kw: (units.append(kw["first"]),
                                                                 real(**kw))[1])
    later = timezone.now() + runner.lease() + dt.timedelta(seconds=1)
    assert runner.recover(now=later) == [job.pk]
    drain()
    job.refresh_from_db()
    assert job.status == Status.DONE and job.attempts == 2
    assert FollowUpTask.objects.filter(status="open").count() == 7
    died = [u for u in units if u >= first_id - 1][2]
    assert units.count(died) == 2 and all(units.count(u) == 1 for u in units if u != died)


def test_an_admin_holiday_moves_open_plan_tasks_off_it(book, root):
    job = job_start(actor=system_actor(), origin="system", kind=GENERATE_JOB, queued=False)
    run_here(job)
    task = FollowUpTask.objects.filter(status="open").order_by("pk").first()
    day = task.due_date
    calendar_day_save(actor=root, origin="manual", data={"date": day.isoformat(),
                                                         "kind": "holiday", "name": "临时放假"})
    task.refresh_from_db()
    assert task.due_date > day
    assert CalendarDay.objects.count() == 1
