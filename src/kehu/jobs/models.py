"""Jobs, the files they produce, and the schedules that start them."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from kehu.core.models import Origin


class Status(models.TextChoices):
    QUEUED = "queued", _("排队中")
    RUNNING = "running", _("运行中")
    RETRYING = "retrying", _("等待重试")
    DONE = "done", _("已完成")
    FAILED = "failed", _("失败")
    CANCELLED = "cancelled", _("已取消")


FINISHED = (Status.DONE, Status.FAILED, Status.CANCELLED)


class Job(models.Model):
    """One run of a registered job kind: who started it, how far it got, what it produced.

    `state` is the job's own checkpoint; it is written in the same transaction as each unit
    of work (JobContext.step), so a worker killed at any moment resumes where the last
    committed unit left off.
    """

    kind = models.CharField(max_length=64, db_index=True)
    title = models.CharField(max_length=200)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="jobs")
    origin = models.CharField(max_length=16, choices=Origin.choices)
    params = models.JSONField(default=dict, blank=True)
    # One job per key: a schedule's time slot, so a slot never starts two jobs.
    key = models.CharField(max_length=200, null=True, blank=True, unique=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED)
    stage = models.CharField(max_length=200, blank=True)
    done = models.BigIntegerField(default=0)
    total = models.BigIntegerField(null=True, blank=True)
    state = models.JSONField(default=dict, blank=True)
    result = models.JSONField(default=dict, blank=True)
    error = models.TextField(blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    max_attempts = models.PositiveSmallIntegerField(default=3)
    cancel_requested = models.BooleanField(default=False)
    worker = models.CharField(max_length=120, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    # Start of the current attempt and `done` at that moment: the rate of this attempt.
    resumed_at = models.DateTimeField(null=True, blank=True)
    resumed_done = models.BigIntegerField(default=0)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    retry_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["actor", "-created_at"]),
            models.Index(fields=["status", "heartbeat_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.kind}#{self.pk} {self.status}"

    @property
    def finished(self) -> bool:
        return self.status in FINISHED


class JobFile(models.Model):
    """A file a job produced (an export, an error report); downloadable by its actor or an admin."""

    job = models.ForeignKey(Job, on_delete=models.CASCADE, related_name="files")
    name = models.CharField(max_length=200)
    path = models.CharField(max_length=500)  # relative to MEDIA_ROOT
    size = models.BigIntegerField(default=0)
    content_type = models.CharField(max_length=100, default="application/octet-stream")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return self.name


class Schedule(models.Model):
    """A periodic job: a cron expression in a time zone, the next slot, and the last outcome."""

    name = models.CharField(max_length=64, unique=True)
    kind = models.CharField(max_length=64)
    params = models.JSONField(default=dict, blank=True)
    cron = models.CharField(max_length=100)
    time_zone = models.CharField(max_length=64, default=settings.TIME_ZONE)
    enabled = models.BooleanField(default=True)
    next_run_at = models.DateTimeField()
    last_run_at = models.DateTimeField(null=True, blank=True)
    last_job = models.ForeignKey(Job, null=True, blank=True, on_delete=models.SET_NULL,
                                 related_name="+")

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.cron})"
