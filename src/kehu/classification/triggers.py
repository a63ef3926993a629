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

from typing import Any

from django.conf import settings
from django.db import transaction

from kehu.classification.models import Pending
from kehu.core.marks import marks_set
from kehu.core.models import Origin
from kehu.core.signals import customers_changed

REFRESH = "classification.refresh"


def connect() -> None:
    customers_changed.connect(_on_change, dispatch_uid="classification")


def _on_change(sender: Any, ids: set[int], **kwargs: Any) -> None:
    if not settings.KEHU_CLASSIFY_DELAY_SECONDS:
        return
    marks_set(Pending, ids)
    transaction.on_commit(ensure_refresh, robust=True)


def ensure_refresh() -> None:
    from kehu.jobs.services import job_start_debounced

    job_start_debounced(kind=REFRESH, seconds=settings.KEHU_CLASSIFY_DELAY_SECONDS)


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
