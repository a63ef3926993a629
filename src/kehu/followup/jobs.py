"""Follow-up's jobs: the nightly generation of plan tasks (and after a plan changes);
reminders at the due time, escalations and the morning digest (reminders.py, digest.py).

Units, each committing with its checkpoint, so `kill -9` resumes after the last one and
a second run writes nothing (generation.py: NOT EXISTS, the partial unique index, ON
CONFLICT DO NOTHING): the calendar table rebuilt and open plan tasks moved off days that
stopped being working days; then `generation.generate` over ranges of 50,000 customer ids.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from kehu.accounts.services import system_actor
from kehu.core.models import Origin
from kehu.customers.models import Customer
from kehu.followup.calendar import is_working_day
from kehu.followup.coverage import coverage_refresh
from kehu.followup.digest import digests_send
from kehu.followup.generation import generate, realign_to_calendar, shift_refresh
from kehu.followup.reminders import escalations_send, reminders_send
from kehu.followup.services import GENERATE_JOB
from kehu.jobs.context import JobContext
from kehu.jobs.registry import job

RANGE = 50_000
REMIND_JOB, ESCALATE_JOB, DIGEST_JOB = "followup.remind", "followup.escalate", "followup.digest"
COVERAGE_JOB = "followup.coverage"


@job(GENERATE_JOB, title=_("生成跟进任务"), max_attempts=3, schedule="15 4 * * *")
def generate_tasks(ctx: JobContext) -> dict[str, Any]:
    """Every customer in an active plan gets its next open plan task (see generation.py)."""
    today = timezone.localdate()
    if not ctx.state.get("calendar"):
        ctx.stage(str(_("更新工作日历")))
        with transaction.atomic():
            shift_refresh(today)
            moved = realign_to_calendar()
            # The ranges start at the lowest id, fixed for the job's life so that a resumed
            # run walks the same ranges (ids need not start near 0: a PostgreSQL sequence
            # after years of deletes, or a test database, took 25,000 empty ranges).
            first = Customer.objects.order_by("pk").values_list("pk", flat=True).first() or 0
            ctx.checkpoint(0, calendar=True, moved=moved, base=first - first % RANGE)
    base = ctx.state.get("base", 0)
    last = Customer.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    ranges = max(0, last - base) // RANGE + 1
    ctx.stage(str(_("生成跟进任务")), total=ranges, done=ctx.state.get("units", 0))
    actor = system_actor()
    for unit in range(ctx.state.get("units", 0), ranges):
        with transaction.atomic():
            counts = generate(first=base + unit * RANGE, last=base + (unit + 1) * RANGE,
                              actor=actor, today=today)
            ctx.checkpoint(1, units=unit + 1,
                           created=ctx.state.get("created", 0) + counts["created"],
                           cancelled=ctx.state.get("cancelled", 0) + counts["cancelled"])
    coverage_refresh()  # the new tasks in the figure now, not at the next 10-minute run
    return {str(_("新任务")): ctx.state.get("created", 0),
            str(_("取消（换计划）")): ctx.state.get("cancelled", 0),
            str(_("因节假日顺延")): ctx.state.get("moved", 0)}


def _now(ctx: JobContext) -> dt.datetime:
    """The job's clock: `now` (ISO) in the params lets a test or an admin run it as of then."""
    raw = ctx.params.get("now")
    return dt.datetime.fromisoformat(raw) if raw else timezone.now()


def _batches(ctx: JobContext, send: Any, label: str) -> dict[str, Any]:
    # Each batch claims and notifies in its own transaction (the claim is the checkpoint:
    # a rerun after kill -9 finds only what was not sent), until a batch finds nothing.
    now, actor, total = _now(ctx), system_actor(), 0
    while sent := send(actor=actor, origin=Origin.SYSTEM, now=now):
        total += sent
    return {label: total}


# Every 5 minutes: due moments are mostly on the hour (09:00, 12:00, 14:00, 19:00 — the
# preferred contact times), so a reminder is at most 5 minutes late, for a fifth of the
# Job rows and queue round-trips a per-minute run would cost.
@job(REMIND_JOB, title=_("跟进到期提醒"), max_attempts=3, schedule="*/5 * * * *")
def remind(ctx: JobContext) -> dict[str, Any]:
    """Tell assignees their follow-ups are due, each task once (reminders.py)."""
    return _batches(ctx, reminders_send, str(_("提醒的任务")))


# Overdue days change at midnight: once a working morning is enough, and a manager is not
# paged at 00:05 or on a holiday (the next working morning catches up).
@job(ESCALATE_JOB, title=_("跟进逾期升级"), max_attempts=3, schedule="0 9 * * *")
def escalate(ctx: JobContext) -> dict[str, Any]:
    """Escalate follow-ups overdue past their tier's threshold to the manager, once each."""
    if not is_working_day(timezone.localdate(_now(ctx))):
        return {str(_("非工作日")): 1}
    return _batches(ctx, escalations_send, str(_("升级的任务")))


@job(DIGEST_JOB, title=_("每日跟进摘要"), max_attempts=3, schedule="30 8 * * *")
def digest(ctx: JobContext) -> dict[str, Any]:
    """Each rep with follow-ups due today or overdue gets one digest a working day."""
    now = _now(ctx)
    if not is_working_day(timezone.localdate(now)):
        return {str(_("非工作日")): 1}
    return {str(_("发送的摘要")): digests_send(actor=system_actor(), origin=Origin.SYSTEM, now=now)}


# Every 10 minutes: a call logged shows in the figure within 10 minutes. A run cost 2.6 s
# over 997,029 open plan tasks at 1,000,000 customers (SQLite, bench DB, 2026-12-05).
@job(COVERAGE_JOB, title=_("计算跟进覆盖率"), max_attempts=3, schedule="*/10 * * * *")
def coverage_snapshot(ctx: JobContext) -> dict[str, Any]:
    """Today's coverage snapshot (coverage.py), replaced in one transaction."""
    return {str(_("覆盖率明细行")): coverage_refresh(_now(ctx))}
