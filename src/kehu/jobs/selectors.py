"""Reading jobs: a user sees their own, an admin sees everyone's; anything else is a 404."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Count, Min, QuerySet
from django.http import Http404
from django.utils import timezone

from kehu.accounts.models import User
from kehu.accounts.policy import access_for
from kehu.jobs.models import Job, JobFile, Schedule, Status


def jobs_for(viewer: User, *, everyone: bool = False) -> QuerySet[Job]:
    """The viewer's jobs, newest first (an admin asking for `everyone` gets all of them)."""
    jobs = Job.objects.select_related("actor").prefetch_related("files")
    if everyone and access_for(viewer).is_admin:
        return jobs
    return jobs.filter(actor=viewer)


def job_get(viewer: User, pk: object) -> Job:
    """One job, if it is the viewer's or the viewer is an admin; otherwise 404."""
    try:
        job_id = int(pk)  # type: ignore[call-overload]
    except (TypeError, ValueError):
        raise Http404 from None
    job = jobs_for(viewer, everyone=True).filter(pk=job_id).first() if 0 < job_id < 2**63 else None
    if job is None:
        raise Http404
    return job


def job_file_get(viewer: User, job_pk: object, file_pk: object) -> JobFile:
    job = job_get(viewer, job_pk)
    file = next((f for f in job.files.all() if str(f.pk) == str(file_pk)), None)
    if file is None:
        raise Http404
    return file


@dataclass(frozen=True)
class Progress:
    """What a progress bar shows: percent, done/total, rate and time left."""

    percent: int | None
    done: int
    total: int | None
    rate: float | None  # units per second in this attempt
    eta: dt.timedelta | None
    elapsed: dt.timedelta | None


def progress_of(job: Job, now: dt.datetime | None = None) -> Progress:
    now = now or timezone.now()
    end = job.finished_at or now
    elapsed = end - job.started_at if job.started_at else None
    rate = eta = None
    if job.status == Status.RUNNING and job.resumed_at:
        seconds = (now - job.resumed_at).total_seconds()
        if seconds > 0.5 and job.done > job.resumed_done:
            rate = (job.done - job.resumed_done) / seconds
            if job.total:
                eta = dt.timedelta(seconds=round(max(job.total - job.done, 0) / rate))
    percent = None
    if job.total:
        percent = min(100, int(job.done * 100 / job.total))
    if job.status == Status.DONE:
        percent = 100
    return Progress(percent, job.done, job.total, rate, eta, elapsed)


def schedules_for(viewer: User) -> QuerySet[Schedule]:
    if not access_for(viewer).is_admin:
        return Schedule.objects.none()
    return Schedule.objects.select_related("last_job")


def latest_of_kind(kind: str) -> Job | None:
    """The newest finished run of a job kind (when the nightly duplicate finder last ran):
    when and how it ended, no content — safe to show whoever ran it."""
    return (Job.objects.filter(kind=kind, status__in=(Status.DONE, Status.FAILED))
            .order_by("-finished_at", "-pk").only("pk", "status", "finished_at").first())


# --- the queue at a glance (metrics): counts only, no job's content ----------------------

WAITING = (Status.QUEUED, Status.RUNNING, Status.RETRYING)


def queue_depth() -> dict[str, int]:
    """Unfinished jobs by status, every waiting status present (0 when none): one query on
    the (status, heartbeat_at) index; finished jobs are not counted (they pile up for
    KEHU_JOB_RETENTION_DAYS and say nothing about the queue)."""
    counts = dict.fromkeys((str(s) for s in WAITING), 0)
    rows = Job.objects.filter(status__in=WAITING).values("status").annotate(n=Count("id"))
    counts.update({row["status"]: row["n"] for row in rows.order_by()})
    return counts


def oldest_queued_at() -> dt.datetime | None:
    """When the longest-waiting queued job was created (None: nothing is queued)."""
    return Job.objects.filter(status=Status.QUEUED).aggregate(at=Min("created_at"))["at"]
