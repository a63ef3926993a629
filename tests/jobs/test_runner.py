"""A job runs once, as its actor, retries with backoff, and stays visible when it fails."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from kehu.accounts.services import system_actor
from kehu.core.models import ChangeLog
from kehu.jobs import runner, services
from kehu.jobs.models import Job, Status
from kehu.jobs.selectors import progress_of
from kehu.jobs.testing import drain

pytestmark = pytest.mark.django_db


def start(actor, **params):
    return services.job_start(actor=actor, origin="manual", kind="test.units", params=params)


def units_done(job):
    return sorted(c["unit"] for c in ChangeLog.objects.filter(
        action="unit", object_id=job.pk).values_list("changes", flat=True))


def test_a_started_job_runs_once_its_transaction_commits(alice, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        job = start(alice, count=5)
    assert drain() == 1
    job.refresh_from_db()
    assert (job.status, job.done, job.total, job.result) == (Status.DONE, 5, 5, {"units": 5})
    assert units_done(job) == [0, 1, 2, 3, 4]
    assert job.actor == alice and job.attempts == 1 and job.finished_at is not None
    assert progress_of(job).percent == 100


def test_a_job_rolled_back_with_its_transaction_never_runs(alice, django_capture_on_commit_callbacks):
    from django.db import transaction

    with (django_capture_on_commit_callbacks(execute=True), pytest.raises(RuntimeError),
          transaction.atomic()):
        start(alice, count=1)
        raise RuntimeError("the request failed")
    assert drain() == 0 and not Job.objects.exists()


def test_a_duplicate_message_does_not_run_a_job_twice(alice):
    job = start(alice, count=3)
    runner.execute(job.pk)
    assert runner.execute(job.pk) is None
    assert units_done(job) == [0, 1, 2]


def test_a_failing_job_retries_with_growing_delays_then_stays_failed(alice):
    job = start(alice, count=2, fail_times=5)
    runner.execute(job.pk)
    job.refresh_from_db()
    assert job.status == Status.RETRYING and "第 1 次故意失败" in job.error
    first_delay = job.retry_at - timezone.now()
    drain()  # the retries are due "now" for drain; the third attempt fails for good
    job.refresh_from_db()
    assert job.status == Status.FAILED and job.attempts == 3 and "第 3 次故意失败" in job.error
    assert runner.backoff(1) < runner.backoff(2) < runner.backoff(3) <= dt.timedelta(hours=1)
    assert dt.timedelta(seconds=5) < first_delay <= runner.backoff(1)
    assert units_done(job) == []


def test_an_admin_reruns_a_failed_job_from_its_checkpoint(alice, root):
    job = start(alice, count=4, fail_times=3)
    drain_all(job)
    job.refresh_from_db()
    assert job.status == Status.FAILED
    with pytest.raises(PermissionDenied):
        services.job_rerun(actor=alice, job=job, origin="manual")
    services.job_rerun(actor=root, job=job, origin="manual")
    runner.execute(job.pk)
    job.refresh_from_db()
    assert job.status == Status.DONE and units_done(job) == [0, 1, 2, 3]
    assert ChangeLog.objects.filter(action="rerun", object_id=job.pk, actor=root).exists()


def test_only_failed_or_cancelled_jobs_can_be_rerun(alice, root):
    job = start(alice, count=1)
    with pytest.raises(ValidationError):
        services.job_rerun(actor=root, job=job, origin="manual")


def drain_all(job):
    for _attempt in range(job.max_attempts):
        runner.execute(job.pk)
        job.refresh_from_db()
        if job.status != Status.RETRYING:
            return
        Job.objects.filter(pk=job.pk).update(status=Status.QUEUED)


def test_a_job_interrupted_mid_way_resumes_after_its_last_committed_unit(alice):
    job = start(alice, count=6, crash_at=3)
    with pytest.raises(SystemExit):
        runner.execute(job.pk)  # the worker "dies" before unit 3
    job.refresh_from_db()
    assert job.status == Status.RUNNING and job.done == 3 and job.state == {"next": 3}
    assert runner.recover() == []  # its heartbeat is fresh: someone may still be running it
    Job.objects.filter(pk=job.pk).update(state={"next": 3, "crashed_once": True})
    later = timezone.now() + runner.lease() + dt.timedelta(seconds=1)
    assert runner.recover(now=later) == [job.pk]
    drain()
    job.refresh_from_db()
    assert job.status == Status.DONE and job.attempts == 2
    assert units_done(job) == [0, 1, 2, 3, 4, 5]  # every unit exactly once


def test_cancelling_stops_a_job_at_its_next_checkpoint(alice, bob):
    job = start(alice, count=3)
    with pytest.raises(PermissionDenied):
        services.job_cancel(actor=bob, job=job, origin="manual")
    Job.objects.filter(pk=job.pk).update(status=Status.RUNNING, cancel_requested=True,
                                         heartbeat_at=timezone.now() - dt.timedelta(hours=1))
    runner.execute(job.pk)
    job.refresh_from_db()
    assert job.status == Status.CANCELLED and units_done(job) == []


def test_cancelling_a_queued_job_ends_it_at_once(alice):
    job = start(alice, count=3)
    services.job_cancel(actor=alice, job=job, origin="manual")
    job.refresh_from_db()
    assert job.status == Status.CANCELLED and runner.execute(job.pk) is None


def test_a_deactivated_actors_job_fails_without_retrying(alice):
    job = start(alice, count=2)
    alice.is_active = False
    alice.save()
    runner.execute(job.pk)
    job.refresh_from_db()
    assert job.status == Status.FAILED and "deactivated" in job.error and units_done(job) == []


def test_the_system_actor_runs_jobs_although_it_cannot_sign_in(db):
    job = services.job_start(actor=system_actor(), origin="system", kind="test.units",
                             params={"count": 1})
    runner.execute(job.pk)
    job.refresh_from_db()
    assert job.status == Status.DONE


def test_an_unknown_kind_or_unserialisable_params_are_refused(alice):
    with pytest.raises(ValidationError) as unknown:
        services.job_start(actor=alice, origin="manual", kind="no.such", params={})
    assert "kind" in unknown.value.message_dict
    with pytest.raises(ValidationError) as params:
        services.job_start(actor=alice, origin="manual", kind="test.units", params={"x": object()})
    assert "params" in params.value.message_dict


def test_progress_reports_rate_and_time_left(alice):
    job = start(alice, count=100)
    now = timezone.now()
    Job.objects.filter(pk=job.pk).update(status=Status.RUNNING, total=100, done=40, resumed_done=20,
                                         started_at=now - dt.timedelta(seconds=30),
                                         resumed_at=now - dt.timedelta(seconds=10))
    job.refresh_from_db()
    progress = progress_of(job, now=now)
    assert progress.percent == 40 and progress.rate == pytest.approx(2.0)
    assert progress.eta == dt.timedelta(seconds=30) and progress.elapsed == dt.timedelta(seconds=30)
