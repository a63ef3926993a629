"""Running a job: claim it once, run its kind as its actor, retry with backoff, recover.

A worker claims a job in a short transaction (status running, its worker id, attempts
+1). Units of work then commit with their checkpoint (JobContext.step). If the worker dies
(`kill -9`, power loss) the row stays `running`: the next worker on the same host finds the
dead pid at start-up and re-queues it at once; a worker on another host does so once the
heartbeat is older than the lease (KEHU_JOB_LEASE_SECONDS). The re-run starts from the
checkpoint, so nothing is done twice and nothing is lost.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import socket
import threading
import traceback
from typing import Any, TextIO

from django.conf import settings
from django.db import DatabaseError, connection, transaction
from django.db.models import Q
from django.utils import timezone

from kehu.jobs import queue
from kehu.jobs.context import JobCancelled, JobContext, Progress
from kehu.jobs.models import Job, Status
from kehu.jobs.registry import kind_get
from kehu.jobs.signals import job_finished

log = logging.getLogger("kehu.jobs")
HOST = socket.gethostname()
ERROR_LIMIT = 8000  # characters of traceback kept on a failed job


def worker_id() -> str:
    return f"{HOST}:{os.getpid()}"


def lease() -> dt.timedelta:
    return dt.timedelta(seconds=settings.KEHU_JOBS["LEASE_SECONDS"])


def execute(job_id: int, *, on_progress: Progress | None = None,
            out: TextIO | None = None) -> Job | None:
    """Run the job if nobody else is running or has finished it; return it when run."""
    job = _claim(job_id)
    if job is None:
        return None
    kind = kind_get(job.kind)
    beat = _Heartbeat(job.pk)
    beat.start()
    try:
        if kind is None:
            raise LookupError(f"no job kind {job.kind!r} is registered in this process")
        if not (job.actor.is_active or job.actor.is_system):
            job.attempts = job.max_attempts  # no retry: it would fail the same way
            raise PermissionError(f"the job's actor {job.actor.username} is deactivated")
        result = kind.run(JobContext(job, on_progress=on_progress, out=out))
    except JobCancelled:
        _finish(job, Status.CANCELLED)
    except Exception:  # the job's own failure, kept on the row; the worker carries on
        _failed(job, traceback.format_exc())
    else:
        _finish(job, Status.DONE, result=result or {})
    finally:
        beat.stop()
    return job


def _claim(job_id: int) -> Job | None:
    now = timezone.now()
    with transaction.atomic():
        job = Job.objects.select_for_update().select_related("actor").filter(pk=job_id).first()
        if job is None or job.finished:
            return None
        stale = job.heartbeat_at is None or job.heartbeat_at < now - lease()
        if job.status == Status.RUNNING and not stale:
            return None  # another worker has it and is alive
        job.status, job.worker, job.attempts = Status.RUNNING, worker_id(), job.attempts + 1
        job.started_at = job.started_at or now
        job.resumed_at, job.resumed_done, job.heartbeat_at, job.retry_at = now, job.done, now, None
        job.save(update_fields=["status", "worker", "attempts", "started_at", "resumed_at",
                                "resumed_done", "heartbeat_at", "retry_at"])
    return job


def _finish(job: Job, status: str, *, result: dict[str, Any] | None = None, error: str = "") -> None:
    job.status, job.finished_at, job.error = status, timezone.now(), error
    fields = ["status", "finished_at", "error", "heartbeat_at"]
    job.heartbeat_at = job.finished_at
    if result is not None:
        job.result = result
        fields.append("result")
    if status == Status.DONE and job.total is not None:
        job.done = job.total
        fields.append("done")
    with transaction.atomic():
        Job.objects.filter(pk=job.pk).update(**{f: getattr(job, f) for f in fields})
        transaction.on_commit(lambda: job_finished.send(sender=Job, job=job))


def _failed(job: Job, error: str) -> None:
    error = error[-ERROR_LIMIT:]
    if job.attempts >= job.max_attempts:
        log.error("job %s failed for good after %s attempts", job.pk, job.attempts)
        _finish(job, Status.FAILED, error=error)
        return
    delay = backoff(job.attempts)
    job.status, job.error, job.retry_at = Status.RETRYING, error, timezone.now() + delay
    Job.objects.filter(pk=job.pk).update(status=job.status, error=error, retry_at=job.retry_at)
    log.warning("job %s failed (attempt %s), retrying in %s", job.pk, job.attempts, delay)
    queue.send(job.pk, delay=delay.total_seconds())


def backoff(attempt: int) -> dt.timedelta:
    """10 s, 40 s, 160 s … (×4 per attempt, KEHU_JOB_RETRY_SECONDS base), at most an hour."""
    base = settings.KEHU_JOBS["RETRY_SECONDS"]
    return dt.timedelta(seconds=min(base * 4 ** max(attempt - 1, 0), 3600))


class _Heartbeat:
    """Keeps `heartbeat_at` fresh while a unit of work is long, from its own connection."""

    def __init__(self, job_id: int) -> None:
        self.job_id, self._stop = job_id, threading.Event()
        self._thread = threading.Thread(target=self._beat, daemon=True, name=f"heartbeat-{job_id}")

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def _beat(self) -> None:
        every = settings.KEHU_JOBS["LEASE_SECONDS"] / 4
        try:
            while not self._stop.wait(every):
                self._beat_once()
        finally:
            connection.close()

    def _beat_once(self) -> None:
        # A beat that meets a busy database (SQLite's "database is locked" while the job
        # itself writes a long transaction) is skipped, not fatal: the thread dying would
        # let the lease run out and a second worker take a job that is still running.
        try:
            Job.objects.filter(pk=self.job_id, status=Status.RUNNING).update(
                heartbeat_at=timezone.now())
        except DatabaseError as exc:
            log.warning("job %s: heartbeat skipped (%s)", self.job_id, exc)
            connection.close()  # a fresh connection for the next beat


# --- recovery and the minute tick ----------------------------------------------------


def recover(*, now: dt.datetime | None = None, at_startup: bool = False) -> list[int]:
    """Re-queue jobs nobody is working on: a dead worker's, a lost message's. Returns ids.

    Running with a heartbeat older than the lease (or, at start-up, run by a dead process
    on this host); retrying long after its retry time; queued for longer than the lease
    while the queue is empty (its message was lost). A duplicate message is harmless.
    """
    now = now or timezone.now()
    cutoff = now - lease()
    lost = Q(status=Status.RUNNING, heartbeat_at__lt=cutoff) | Q(
        status=Status.RETRYING, retry_at__lt=cutoff)
    if at_startup:
        lost |= Q(status=Status.RUNNING, worker__in=_dead_workers_here())
    if queue.get_huey().pending_count() == 0:
        lost |= Q(status=Status.QUEUED, created_at__lt=cutoff)
    ids = list(Job.objects.filter(lost).values_list("pk", flat=True))
    for job_id in ids:
        Job.objects.filter(pk=job_id, status=Status.RUNNING).update(status=Status.QUEUED)
        queue.send(job_id)
    if ids:
        log.warning("re-queued %s job(s) nobody was running: %s", len(ids), ids)
    return ids


def _dead_workers_here() -> list[str]:
    running = Job.objects.filter(status=Status.RUNNING, worker__startswith=f"{HOST}:")
    dead = []
    for worker in set(running.values_list("worker", flat=True)):
        pid = int(worker.rsplit(":", 1)[1])
        if pid != os.getpid() and not _alive(pid):
            dead.append(worker)
    return dead


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def tick(now: dt.datetime | None = None) -> None:
    """Every minute in every worker: start due schedules, re-queue lost jobs."""
    from kehu.jobs.schedules import run_due

    run_due(now=now)
    recover(now=now)
