"""A customer's rules re-run by themselves after a write touched them, debounced.

Every write that names a customer announces it (`core.signals.customers_changed`: the
change log and the set-based writers). Here, inside the writer's transaction, the ids are
marked `Pending` (one upsert: atomic with the write, so a crash loses neither or both), and
after the commit one `classification.refresh` job is started per window of
`KEHU_CLASSIFY_DELAY_SECONDS` (its key is the window), queued to run when the window ends:
a burst of writes — an import's batches — shares one job, and the write itself pays one
small INSERT. The job re-runs the pending customers and clears them (jobs.py).
"""

from __future__ import annotations

import time
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from kehu.classification.models import Pending
from kehu.core.models import Origin
from kehu.core.signals import customers_changed

REFRESH = "classification.refresh"
_started_window: list[int | None] = [None]  # this process started that window's job


def connect() -> None:
    customers_changed.connect(_on_change, dispatch_uid="classification")


def _on_change(sender: Any, ids: set[int], **kwargs: Any) -> None:
    if not settings.KEHU_CLASSIFY_DELAY_SECONDS:
        return
    now = timezone.now()
    Pending.objects.bulk_create([Pending(customer_id=pk, marked_at=now) for pk in ids],
                                update_conflicts=True, unique_fields=["customer_id"],
                                update_fields=["marked_at"], batch_size=1000)
    transaction.on_commit(ensure_refresh, robust=True)


def ensure_refresh() -> None:
    """Start this window's refresh job unless it exists (never fails the caller)."""
    from kehu.accounts.services import system_actor
    from kehu.jobs import queue
    from kehu.jobs.models import Job
    from kehu.jobs.services import job_start

    delay = settings.KEHU_CLASSIFY_DELAY_SECONDS or 1
    now = time.time()
    window = int(now // delay)
    if _started_window[0] == window:
        return
    _started_window[0] = window
    key = f"{REFRESH}:{window}"
    try:
        with transaction.atomic():
            if Job.objects.filter(key=key).exists():
                return
            job = job_start(actor=system_actor(), origin=Origin.SYSTEM, kind=REFRESH, key=key,
                            queued=False)
    except IntegrityError:  # another process started it a moment ago
        return
    queue.send(job.pk, delay=(window + 1) * delay - now + 0.2)


def after_bulk_job(sender: Any, job: Any, **kwargs: Any) -> None:
    """Demo data bypasses the services (raw inserts, no change log): once a demo load is
    done, the full run classifies everyone."""
    if job.kind != "demo.load" or job.status != "done" or not settings.KEHU_CLASSIFY_DELAY_SECONDS:
        return
    from kehu.accounts.services import system_actor
    from kehu.classification.services import RUN_JOB
    from kehu.jobs.services import job_start

    with transaction.atomic():
        job_start(actor=system_actor(), origin=Origin.SYSTEM, kind=RUN_JOB)
