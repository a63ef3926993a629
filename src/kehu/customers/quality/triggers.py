"""A customer's quality recomputed by itself after a write touched it, debounced.

The same shape as classification's (classification/triggers.py): every write that names a
customer sends `core.signals.customers_changed`; here, inside the writer's transaction, the
ids are marked `QualityPending` (one upsert, atomic with the write), and after the commit
one `customers.quality_refresh` job is started per window of `KEHU_QUALITY_DELAY_SECONDS`,
queued to run when the window ends — an import's batches share one job. 0 turns it off
(the nightly run still covers everyone).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import transaction

from kehu.core.marks import marks_clear, marks_set, marks_take
from kehu.core.models import Origin
from kehu.core.signals import customers_changed
from kehu.customers.quality.models import QualityPending

REFRESH_JOB = "customers.quality_refresh"


def connect() -> None:
    customers_changed.connect(_on_change, dispatch_uid="customers.quality")


def _on_change(sender: Any, ids: set[int], **kwargs: Any) -> None:
    if not settings.KEHU_QUALITY_DELAY_SECONDS:
        return
    marks_set(QualityPending, ids)
    transaction.on_commit(ensure_refresh, robust=True)


def ensure_refresh() -> None:
    from kehu.jobs.services import job_start_debounced

    job_start_debounced(kind=REFRESH_JOB, seconds=settings.KEHU_QUALITY_DELAY_SECONDS)


def pending_take(limit: int = 500) -> tuple[list[int], Any]:
    """The next marked customers and the moment they were read."""
    return marks_take(QualityPending, limit)


def pending_clear(ids: list[int], read_at: Any) -> None:
    """Clear the marks that were read; one set again since (a newer write) stays."""
    marks_clear(QualityPending, ids, read_at)


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
