"""Follow-up's job: the nightly generation of plan tasks (and after a plan changes).

Units, each committing with its checkpoint, so `kill -9` resumes after the last one and
a second run writes nothing (generation.py: NOT EXISTS, the partial unique index, ON
CONFLICT DO NOTHING): the calendar table rebuilt and open plan tasks moved off days that
stopped being working days; then `generation.generate` over ranges of 50,000 customer ids.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from kehu.accounts.services import system_actor
from kehu.customers.models import Customer
from kehu.followup.generation import generate, realign_to_calendar, shift_refresh
from kehu.followup.services import GENERATE_JOB
from kehu.jobs.context import JobContext
from kehu.jobs.registry import job

RANGE = 50_000


@job(GENERATE_JOB, title=_("生成跟进任务"), max_attempts=3, schedule="15 4 * * *")
def generate_tasks(ctx: JobContext) -> dict[str, Any]:
    """Every customer in an active plan gets its next open plan task (see generation.py)."""
    today = timezone.localdate()
    if not ctx.state.get("calendar"):
        ctx.stage(str(_("更新工作日历")))
        with transaction.atomic():
            shift_refresh(today)
            moved = realign_to_calendar()
            ctx.checkpoint(0, calendar=True, moved=moved)
    last = Customer.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    ranges = last // RANGE + 1
    ctx.stage(str(_("生成跟进任务")), total=ranges, done=ctx.state.get("units", 0))
    actor = system_actor()
    for unit in range(ctx.state.get("units", 0), ranges):
        with transaction.atomic():
            counts = generate(first=unit * RANGE, last=(unit + 1) * RANGE, actor=actor, today=today)
            ctx.checkpoint(1, units=unit + 1,
                           created=ctx.state.get("created", 0) + counts["created"],
                           cancelled=ctx.state.get("cancelled", 0) + counts["cancelled"])
    return {str(_("新任务")): ctx.state.get("created", 0),
            str(_("取消（换计划）")): ctx.state.get("cancelled", 0),
            str(_("因节假日顺延")): ctx.state.get("moved", 0)}
