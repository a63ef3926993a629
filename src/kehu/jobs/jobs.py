"""The jobs app's own periodic work: forget finished jobs (and their files) after a while."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path
from typing import Any

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from kehu.jobs.context import JobContext
from kehu.jobs.models import FINISHED, Job
from kehu.jobs.registry import job

BATCH = 500


@job("jobs.prune", title=_("清理过期任务记录"), schedule="30 3 * * *")
def prune_jobs(ctx: JobContext) -> dict[str, Any]:
    """Delete jobs finished more than KEHU_JOB_RETENTION_DAYS ago, with their files."""
    cutoff = timezone.now() - dt.timedelta(days=settings.KEHU_JOBS["RETENTION_DAYS"])
    old = Job.objects.filter(status__in=FINISHED, finished_at__lt=cutoff).exclude(pk=ctx.job.pk)
    ctx.stage(_("删除过期任务"), total=old.count())
    removed = 0
    while ids := list(old.values_list("pk", flat=True)[:BATCH]):
        with ctx.step(advance=len(ids)):
            Job.objects.filter(pk__in=ids).delete()
        for job_id in ids:  # after the commit: a crash leaves files, never rows without them
            shutil.rmtree(Path(settings.MEDIA_ROOT) / "jobs" / str(job_id), ignore_errors=True)
        removed += len(ids)
    return {str(_("删除的任务")): removed}
