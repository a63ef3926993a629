"""A real `kehu worker` process: it runs queued jobs, survives kill -9, catches up schedules.

These tests commit (transaction=True) so the worker process, which opens the same test
database and queue files (kehu.jobs.testing.worker_env), sees what they write.
"""

from __future__ import annotations

import datetime as dt
import os
import signal
import time

import pytest
from django.utils import timezone

from kehu.customers.models import Customer
from kehu.history.models import Order
from kehu.jobs.models import Job, Schedule, Status
from kehu.jobs.services import job_start

pytestmark = pytest.mark.django_db(transaction=True)


def wait_for(predicate, *, seconds: float = 60, what: str = "", log=None):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    detail = log.read_text(errors="replace")[-3000:] if log and log.exists() else ""
    raise AssertionError(f"timed out waiting for {what}\n{detail}")


def job_row(pk: int) -> Job:
    return Job.objects.get(pk=pk)


def test_a_demo_load_killed_halfway_finishes_after_restart_with_every_batch_once(
        root, worker, worker_log):
    job = job_start(actor=root, origin="manual", kind="demo.load",
                    params={"customers": 600, "seed": 7, "batch_size": 50})
    first = worker()
    wait_for(lambda: 150 <= job_row(job.pk).done < 500, what="a few batches", log=worker_log)
    os.killpg(first.pid, signal.SIGKILL)  # the whole worker, mid-batch, no clean-up
    first.wait(timeout=10)
    interrupted = job_row(job.pk)
    assert interrupted.status == Status.RUNNING and interrupted.done < interrupted.total
    committed = set(Customer.objects.values_list("pk", flat=True))
    assert len(committed) == interrupted.done  # rows and checkpoint committed together
    assert interrupted.state["batches"] * 50 == interrupted.done
    their_orders = Order.objects.filter(customer_id__in=committed).count()

    worker()
    done = wait_for(lambda: (j := job_row(job.pk)).finished and j, what="the job to finish",
                    log=worker_log)
    assert done.status == Status.DONE, done.error
    assert done.attempts == 2 and done.done == done.total == 600 and done.state["batches"] == 12
    assert Customer.objects.count() == 600  # nothing lost, no batch written twice
    # The batches finished before the kill were not redone: their customers' history is unchanged.
    assert Order.objects.filter(customer_id__in=committed).count() == their_orders


def test_a_schedule_missed_while_no_worker_ran_runs_once_when_one_starts(root, worker, worker_log):
    from kehu.jobs.schedules import sync_schedules

    sync_schedules()
    missed_since = timezone.now() - dt.timedelta(days=3)
    Schedule.objects.filter(name="jobs.prune").update(cron="*/5 * * * *", next_run_at=missed_since)
    worker()
    job = wait_for(lambda: Job.objects.filter(kind="jobs.prune").first(), what="the catch-up job",
                   log=worker_log)
    wait_for(lambda: job_row(job.pk).status == Status.DONE, what="the catch-up job to finish",
             log=worker_log)
    time.sleep(1.5)  # a second look: 864 missed slots must not have started 864 jobs
    assert Job.objects.filter(kind="jobs.prune").count() == 1
    schedule = Schedule.objects.get(name="jobs.prune")
    assert schedule.next_run_at > timezone.now() - dt.timedelta(minutes=1)
    assert schedule.last_job_id == job.pk and job.key.startswith(f"schedule:{schedule.pk}:")


def test_a_job_queued_while_the_worker_runs_is_picked_up_within_a_second_or_so(root, worker,
                                                                              worker_log):
    worker()
    time.sleep(1)
    job = job_start(actor=root, origin="manual", kind="jobs.prune")
    done = wait_for(lambda: job_row(job.pk).finished, seconds=20, what="the job", log=worker_log)
    assert done and job_row(job.pk).status == Status.DONE
