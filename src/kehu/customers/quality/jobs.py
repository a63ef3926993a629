"""Data quality's jobs: the nightly run and the debounced refresh after writes.

The run has three parts, each resumable after `kill -9` from its last committed unit:
scores over ranges of customer ids (one statement each), re-validation in batches of
live customers by id (the checkpoint is the last id done), and the day's snapshot. Every
unit overwrites what it computes, so a second run changes nothing it has not to.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils.translation import gettext_lazy as _

from kehu.customers.models import Customer
from kehu.customers.quality.checking import live_batch, problems_write
from kehu.customers.quality.scoring import Scoring, scores_range
from kehu.customers.quality.services import RUN_JOB, quality_refresh, snapshot_take
from kehu.customers.quality.triggers import REFRESH_JOB, pending_clear, pending_take
from kehu.jobs.context import JobContext
from kehu.jobs.registry import job

RANGE = 50_000  # customer ids per scoring unit
BATCH = 1_000  # customers per re-validation unit
PARTS = ("scores", "problems", "snapshot")


@job(RUN_JOB, title=_("数据质量检查"), max_attempts=3, schedule="40 3 * * *")
def quality_run(ctx: JobContext) -> dict[str, Any]:
    """Every customer scored and re-validated, then today's snapshot (params: `parts`, a
    subset of scores / problems / snapshot; `batch`, customers per re-validation unit)."""
    parts = [p for p in ctx.params.get("parts", PARTS) if p in PARTS]
    result: dict[str, Any] = {}
    if "scores" in parts:
        result[str(_("评分客户"))] = _scores(ctx)
    if "problems" in parts:
        result[str(_("有问题的客户"))] = _problems(ctx, int(ctx.params.get("batch", BATCH)))
    if "snapshot" in parts and not ctx.state.get("snapshot"):
        ctx.stage(str(_("记录今日快照")))
        with transaction.atomic():
            snapshot_take()
            ctx.checkpoint(0, snapshot=True)
    return result


def _scores(ctx: JobContext) -> int:
    last = Customer.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    ranges = last // RANGE + 1
    ctx.stage(str(_("计算完整度")), total=ranges, done=ctx.state.get("score_units", 0))
    scoring = Scoring.current()
    for unit in range(ctx.state.get("score_units", 0), ranges):
        with transaction.atomic():
            scored = scores_range(unit * RANGE, (unit + 1) * RANGE, scoring=scoring)
            ctx.checkpoint(1, score_units=unit + 1, scored=ctx.state.get("scored", 0) + scored)
    return ctx.state.get("scored", 0)


def _problems(ctx: JobContext, batch: int) -> int:
    ctx.stage(str(_("重新校验已存数据")), total=Customer.objects.filter(
        deleted_at__isnull=True).count(), done=ctx.state.get("checked", 0))
    while True:
        rows = live_batch(ctx.state.get("after", 0), batch)
        if not rows:
            return ctx.state.get("invalid", 0)
        with transaction.atomic():
            found = problems_write(rows)
            ctx.checkpoint(len(rows), after=rows[-1].pk,
                           checked=ctx.state.get("checked", 0) + len(rows),
                           invalid=ctx.state.get("invalid", 0) + found)


@job(REFRESH_JOB, title=_("更新变动客户的数据质量"), max_attempts=5)
def quality_refresh_changed(ctx: JobContext) -> dict[str, Any]:
    """The customers marked since their quality was last computed, 500 a unit; a unit
    commits the new rows and clears its marks together."""
    ctx.stage(str(_("更新数据质量")))
    customers = 0
    while True:
        ids, read_at = pending_take()
        if not ids:
            break
        with ctx.step(advance=len(ids)):
            quality_refresh(ids)
            pending_clear(ids, read_at)
        customers += len(ids)
    return {str(_("客户")): customers}
