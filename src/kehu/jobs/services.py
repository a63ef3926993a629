"""Starting, cancelling and re-running jobs; changing schedules. Writes need an actor."""

from __future__ import annotations

import json
import time
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from kehu.accounts.models import User
from kehu.accounts.policy import access_for
from kehu.core.models import Origin
from kehu.core.records import log_change
from kehu.jobs import queue
from kehu.jobs.models import Job, Schedule, Status
from kehu.jobs.registry import kind_get
from kehu.jobs.schedules import check_cron, next_slot


def job_start(*, actor: User, origin: str, kind: str, params: dict[str, Any] | None = None,
              key: str | None = None, title: str | None = None, queued: bool = True) -> Job:
    """Record a job and queue it once the transaction commits. It will run as `actor`.

    `queued=False`: the caller runs it itself, in the foreground (`run_in_foreground`).
    """
    registered = kind_get(kind)
    if registered is None:
        raise ValidationError({"kind": [_("没有这种任务：%(kind)s") % {"kind": kind}]})
    params = dict(params or {})
    try:
        json.dumps(params)
    except TypeError as exc:
        raise ValidationError({"params": [str(exc)]}) from exc
    job = Job.objects.create(kind=kind, title=title or registered.title, actor=actor,
                             origin=origin, params=params, key=key,
                             max_attempts=registered.max_attempts)
    log_change(actor=actor, action="start", instance=job, origin=origin,
               changes={"kind": kind, "params": params})
    if queued:
        transaction.on_commit(lambda: queue.send(job.pk))
    return job


_started_windows: dict[str, int] = {}  # kind → the window this process started a job for


def job_start_debounced(*, kind: str, seconds: int) -> None:
    """Start the system's `kind` job once per window of `seconds`, to run when the window
    ends: a burst of writes (an import's batches) shares one job. Called after a commit;
    never fails the caller (a job another process started a moment ago is enough)."""
    from kehu.accounts.services import system_actor

    delay = seconds or 1
    now = time.time()
    window = int(now // delay)
    if _started_windows.get(kind) == window:
        return
    _started_windows[kind] = window
    key = f"{kind}:{window}"
    try:
        with transaction.atomic():
            if Job.objects.filter(key=key).exists():
                return
            job = job_start(actor=system_actor(), origin=Origin.SYSTEM, kind=kind, key=key,
                            queued=False)
    except IntegrityError:  # another process started it a moment ago
        return
    queue.send(job.pk, delay=(window + 1) * delay - now + 0.2)


def run_in_foreground(*, actor: User, origin: str, kind: str, params: dict[str, Any],
                      on_progress: Any = None, out: Any = None) -> Job:
    """Run a job in this process (the command line), reporting progress; it is still a Job
    row, in My jobs like any other. Returns the finished row."""
    job = job_start(actor=actor, origin=origin, kind=kind, params=params, queued=False)
    return run_here(job, on_progress=on_progress, out=out)


def run_here(job: Job, *, on_progress: Any = None, out: Any = None) -> Job:
    """Run a job started with queued=False in this process; returns the finished row."""
    from kehu.jobs.runner import execute

    execute(job.pk, on_progress=on_progress, out=out)
    job.refresh_from_db()
    return job


def job_cancel(*, actor: User, job: Job, origin: str) -> Job:
    """Ask a queued or running job to stop at its next checkpoint (its actor or an admin)."""
    _may_touch(actor, job)
    with transaction.atomic():
        job = Job.objects.select_for_update().get(pk=job.pk)
        if job.finished:
            return job
        if job.status in (Status.QUEUED, Status.RETRYING):
            job.status = Status.CANCELLED
            job.finished_at = timezone.now()
        job.cancel_requested = True
        job.save(update_fields=["status", "cancel_requested", "finished_at"])
        log_change(actor=actor, action="cancel", instance=job, origin=origin)
    return job


def job_rerun(*, actor: User, job: Job, origin: str) -> Job:
    """Run a failed or cancelled job again from its checkpoint, with fresh attempts (admins)."""
    if not access_for(actor).is_admin:
        raise PermissionDenied
    with transaction.atomic():
        job = Job.objects.select_for_update().get(pk=job.pk)
        if job.status not in (Status.FAILED, Status.CANCELLED):
            raise ValidationError({"status": [_("只有失败或已取消的任务可以重新运行")]})
        job.status, job.attempts, job.cancel_requested, job.finished_at = Status.QUEUED, 0, False, None
        job.save(update_fields=["status", "attempts", "cancel_requested", "finished_at"])
        log_change(actor=actor, action="rerun", instance=job, origin=origin)
        transaction.on_commit(lambda: queue.send(job.pk))
    return job


def schedule_update(*, actor: User, schedule: Schedule, origin: str, cron: str | None = None,
                    enabled: bool | None = None) -> Schedule:
    """Change a schedule's time or pause it (admins); the next slot follows the new time."""
    if not access_for(actor).is_admin:
        raise PermissionDenied
    with transaction.atomic():
        schedule = Schedule.objects.select_for_update().get(pk=schedule.pk)
        before = {"cron": schedule.cron, "enabled": schedule.enabled}
        if cron is not None:
            schedule.cron = check_cron(cron)
        if enabled is not None:
            schedule.enabled = enabled
        schedule.next_run_at = next_slot(schedule.cron, timezone.now(), schedule.time_zone)
        schedule.save()
        after = {"cron": schedule.cron, "enabled": schedule.enabled}
        log_change(actor=actor, action="update", instance=schedule, origin=origin,
                   changes={k: [before[k], after[k]] for k in after if before[k] != after[k]})
    return schedule


def schedule_run_now(*, actor: User, schedule: Schedule, origin: str) -> Job:
    """Start a schedule's job now, outside its slots (admins)."""
    if not access_for(actor).is_admin:
        raise PermissionDenied
    with transaction.atomic():
        job = job_start(actor=actor, origin=origin, kind=schedule.kind, params=schedule.params)
        Schedule.objects.filter(pk=schedule.pk).update(last_job=job)
    return job


def _may_touch(actor: User, job: Job) -> None:
    if job.actor_id != actor.pk and not access_for(actor).is_admin:
        raise PermissionDenied
