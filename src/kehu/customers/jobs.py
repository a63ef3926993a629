"""The nightly duplicate finder: every probable pair stored for the duplicates page; the
segments' counts; key rotation's job lives in `rekeying` (registered from here)."""

from __future__ import annotations

from typing import Any

from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from kehu.customers import rekeying  # noqa: F401  (registers customers.rekey)
from kehu.customers.duplicates import duplicate_pairs
from kehu.customers.duplicates_store import pairs_store
from kehu.customers.segments import segment_counts_refresh
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


SEGMENT_COUNTS_JOB = "customers.segment_counts"


@job(SEGMENT_COUNTS_JOB, title=_("分群人数"), max_attempts=2, schedule="17 * * * *")
def count_segments(ctx: JobContext) -> dict[str, Any]:
    """Each segment's count for its owner, hourly: the list of segments shows these instead
    of counting every segment for every viewer on each page (N count queries)."""
    ctx.stage(str(_("统计分群人数")))
    return {str(_("分群")): segment_counts_refresh()}
