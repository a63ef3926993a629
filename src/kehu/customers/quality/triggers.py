"""A customer's quality recomputed by itself after a write touched it, debounced.

The same shape as classification's (classification/triggers.py): every write that names a
customer sends `core.signals.customers_changed`; here, inside the writer's transaction, the
ids are marked `QualityPending` (one upsert, atomic with the write), and after the commit
one `customers.quality_refresh` job is started per window of `KEHU_QUALITY_DELAY_SECONDS`,
queued to run when the window ends — an import's batches share one job. 0 turns it off
(the nightly run still covers everyone).
"""

from __future__ import annotations

import time
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from kehu.core.models import Origin
from kehu.core.signals import customers_changed
from kehu.customers.quality.models import QualityPending

REFRESH_JOB = "customers.quality_refresh"
_started_window: list[int | None] = [None]  # this process started that window's job


def connect() -> None:
    customers_changed.connect(_on_change, dispatch_uid="customers.quality")


def _on_change(sender: Any, ids: set[int], **kwargs: Any) -> None:
    if not settings.KEHU_QUALITY_DELAY_SECONDS:
        return
    now = timezone.now()
    QualityPending.objects.bulk_create(
        [QualityPending(customer_id=pk, marked_at=now) for pk in ids], update_conflicts=True,
        unique_fields=["customer_id"], update_fields=["marked_at"], batch_size=1000)
    transaction.on_commit(ensure_refresh, robust=True)


def ensure_refresh() -> None:
    """Start this window's refresh job unless it exists (never fails the caller)."""
    from kehu.accounts.services import system_actor
    from kehu.jobs import queue
    from kehu.jobs.models import Job
    from kehu.jobs.services import job_start

    delay = settings.KEHU_QUALITY_DELAY_SECONDS or 1
    now = time.time()
    window = int(now // delay)
    if _started_window[0] == window:
        return
    _started_window[0] = window
    key = f"{REFRESH_JOB}:{window}"
    try:
        with transaction.atomic():
            if Job.objects.filter(key=key).exists():
                return
            job = job_start(actor=system_actor(), origin=Origin.SYSTEM, kind=REFRESH_JOB,
                            key=key, queued=False)
    except IntegrityError:  # another process started it a moment ago
        return
    queue.send(job.pk, delay=(window + 1) * delay - now + 0.2)


def pending_take(limit: int = 500) -> tuple[list[int], Any]:
    """The next marked customers and the moment they were read."""
    read_at = timezone.now()
    ids = list(QualityPending.objects.filter(marked_at__lte=read_at).order_by("marked_at")
               .values_list("customer_id", flat=True)[:limit])
    return ids, read_at


def pending_clear(ids: list[int], read_at: Any) -> None:
    """Clear the marks that were read; one set again since (a newer write) stays."""
    QualityPending.objects.filter(customer_id__in=ids, marked_at__lte=read_at).delete()


def after_bulk_job(sender: Any, job: Any, **kwargs: Any) -> None:
    """Demo data bypasses the services (raw inserts, no change log): once a demo load is
    done, the full run scores everyone."""
    if job.kind != "demo.load" or job.status != "done" or not settings.KEHU_QUALITY_DELAY_SECONDS:
        return
    from kehu.accounts.services import system_actor
    from kehu.customers.quality.services import RUN_JOB
    from kehu.jobs.services import job_start

    with transaction.atomic():
        job_start(actor=system_actor(), origin=Origin.SYSTEM, kind=RUN_JOB)
