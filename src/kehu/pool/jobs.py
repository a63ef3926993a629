"""The pool's job: the nightly reclaim and warnings (reclaim.py), over ranges of customer ids.

Each range commits with its checkpoint, so `kill -9` resumes after the last one; a rerun
moves and warns nobody twice (ON CONFLICT DO NOTHING on the pool entry and the warning).
`now` (ISO) in the params runs it as of then — tests move the clock with it.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from kehu.accounts.services import system_actor
from kehu.customers.models import Customer
from kehu.jobs.context import JobContext
from kehu.jobs.registry import job
from kehu.pool.reclaim import reclaim

RECLAIM_JOB = "pool.reclaim"
RANGE = 50_000


def _now(ctx: JobContext) -> dt.datetime:
    raw = ctx.params.get("now")
    return dt.datetime.fromisoformat(raw) if raw else timezone.now()


# 03:30, before follow-up's generation (04:15) plans the day and before anyone starts work:
# a customer idle past its threshold is in the pool the next morning.
@job(RECLAIM_JOB, title=_("公海回收"), max_attempts=3, schedule="30 3 * * *")
def reclaim_customers(ctx: JobContext) -> dict[str, Any]:
    """Idle customers back to their pool; owners warned before (reclaim.py)."""
    if "base" not in ctx.state:
        first = Customer.objects.order_by("pk").values_list("pk", flat=True).first() or 0
        # The clock and the ranges are fixed for the job's life, so a resumed run walks
        # the same ranges as of the same moment.
        with transaction.atomic():
            ctx.checkpoint(0, base=first - first % RANGE, now=_now(ctx).isoformat())
    base, now = ctx.state["base"], dt.datetime.fromisoformat(ctx.state["now"])
    last = Customer.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    ranges = max(0, last - base) // RANGE + 1
    ctx.stage(str(_("公海回收")), total=ranges, done=ctx.state.get("units", 0))
    actor = system_actor()
    for unit in range(ctx.state.get("units", 0), ranges):
        with transaction.atomic():
            counts = reclaim(first=base + unit * RANGE, last=base + (unit + 1) * RANGE,
                             actor=actor, now=now)
            ctx.checkpoint(1, units=unit + 1,
                           reclaimed=ctx.state.get("reclaimed", 0) + counts["reclaimed"],
                           warned=ctx.state.get("warned", 0) + counts["warned"])
    return {str(_("回收到公海")): ctx.state.get("reclaimed", 0),
            str(_("提醒负责人")): ctx.state.get("warned", 0)}
