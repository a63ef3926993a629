"""The nightly duplicate finder: every probable pair stored for the duplicates page."""

from __future__ import annotations

from typing import Any

from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from kehu.customers.duplicates import duplicate_pairs
from kehu.customers.duplicates_store import pairs_store
from kehu.jobs.context import JobContext
from kehu.jobs.registry import job

DEDUP_JOB = "customers.dedup"


@job(DEDUP_JOB, title=_("查重"), max_attempts=2, schedule="0 3 * * *")
def find_duplicates(ctx: JobContext) -> dict[str, Any]:
    """Idempotent: a rerun (or a retry after kill -9) replaces the open pairs again."""
    ctx.stage(str(_("查找候选")))

    def scored(count: int) -> None:  # candidate pairs scored so far, a chunk at a time
        ctx.stage(str(_("比较候选对")), done=count)

    pairs = list(duplicate_pairs(progress=scored))
    counts = pairs_store(pairs, now=timezone.now())
    return {str(_("可能重复")): counts["open"], str(_("已标为不是重复")): counts["dismissed"]}
