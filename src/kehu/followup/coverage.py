"""Coverage (监控效果, issue 12 item 6): of the customers in a plan, the share contacted
within the plan's cadence — a communication in the last `cadence_days` days.

A customer is in a plan while it holds that plan's open plan task (generation keeps exactly
one, and logging a contact completes it and plans the next at once).

Counting it live cost 11.5 s for one rep's 124,474 plan tasks at 1,000,000 customers
(an EXISTS on the communications per task), on every agenda page. So it is a snapshot:
`coverage_refresh` (the `followup.coverage` job, every 10 minutes: 2.6 s over 997,029
open plan tasks at 1,000,000 customers, SQLite) writes one `CoverageFigure` per (plan,
assignee, customer owner) for the day, and `coverage(viewer=)` sums the latest day's lines
the viewer covers — a few hundred rows, whatever the size of the book.

Scope: lines are read by owner, the gate's own test — a rep reads the lines she is the
assignee of on customers she owns, a manager those of the people she covers on customers
they own, an admin all. A task on a customer shared with its assignee by someone outside
the reader's scope is therefore left out of the reader's figure rather than leaked into it.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.db.models import Count, Exists, OuterRef, Q, Sum
from django.utils import timezone

from kehu.accounts.models import User
from kehu.accounts.policy import access_for
from kehu.followup.models import CoverageFigure, FollowUpPlan, FollowUpTask, TaskKind, TaskStatus
from kehu.followup.services import may_plan
from kehu.history.models import Communication


@dataclass
class Share:
    """Customers in a plan (`total`) and how many were contacted within its cadence."""

    total: int = 0
    contacted: int = 0

    @property
    def percent(self) -> int | None:
        return round(100 * self.contacted / self.total) if self.total else None

    def add(self, total: int, contacted: int) -> None:
        self.total += total
        self.contacted += contacted


@transaction.atomic
def coverage_refresh(now: dt.datetime | None = None) -> int:
    """Replace the day's snapshot with what the open plan tasks say as of `now`; the number
    of lines written. One grouped query per active plan (plans are few); atomic, so a
    killed run leaves the previous snapshot and a rerun writes the same lines."""
    now = now or timezone.now()
    day = timezone.localdate(now)
    lines = []
    for plan in FollowUpPlan.objects.filter(is_active=True):
        recent = Communication.objects.filter(
            customer_id=OuterRef("customer_id"),
            occurred_at__gte=now - dt.timedelta(days=plan.cadence_days))
        groups = (FollowUpTask.objects
                  .filter(plan=plan, status=TaskStatus.OPEN, kind=TaskKind.PLAN,
                          assignee__isnull=False, customer__deleted_at__isnull=True)
                  .values("assignee_id", "customer__owner_id")
                  .annotate(total=Count("id"), contacted=Count("id", filter=Q(Exists(recent))))
                  .order_by())
        lines += [CoverageFigure(day=day, plan=plan, assignee_id=g["assignee_id"],
                                 owner_id=g["customer__owner_id"], total=g["total"],
                                 contacted=g["contacted"], computed_at=now) for g in groups]
    CoverageFigure.objects.filter(day=day).delete()
    CoverageFigure.objects.bulk_create(lines, batch_size=500)
    return len(lines)


def _lines(viewer: User, day: dt.date) -> Any:
    lines = CoverageFigure.objects.filter(day=day)
    access = access_for(viewer)
    if not may_plan(viewer):
        lines = lines.filter(assignee=viewer)
    elif not access.sees_all:
        lines = lines.filter(assignee_id__in=access.owner_ids)
    return lines if access.sees_all else lines.filter(owner_id__in=access.owner_ids)


def coverage(*, viewer: User) -> dict[str, Any]:
    """{"as_of", "all": Share, "plans": [(plan, Share)], "people": [(user, Share)]} from the
    latest snapshot, over the plan tasks the viewer covers (her own for a rep; her team's
    for a manager; everyone's for an admin). `people` is empty for a rep; `as_of` is None
    before the first snapshot."""
    latest = CoverageFigure.objects.order_by("-day").values("day", "computed_at").first()
    total, plans, people = Share(), [], []
    if latest is None or access_for(viewer).user_id is None:
        return {"as_of": None, "all": total, "plans": plans, "people": people}
    per_plan, per_person = defaultdict(Share), defaultdict(Share)
    for row in (_lines(viewer, latest["day"]).values("plan_id", "assignee_id")
                .annotate(total=Sum("total"), contacted=Sum("contacted")).order_by()):
        for share in (total, per_plan[row["plan_id"]], per_person[row["assignee_id"]]):
            share.add(row["total"], row["contacted"])
    plans = [(plan, per_plan[plan.pk]) for plan in
             FollowUpPlan.objects.filter(pk__in=per_plan).order_by("position", "id")]
    if may_plan(viewer):
        users = User.objects.in_bulk(list(per_person))
        people = sorted(((users[pk], s) for pk, s in per_person.items() if pk in users),
                        key=lambda r: (r[1].percent or 0, r[0].pk))
    return {"as_of": latest["computed_at"], "all": total, "plans": plans, "people": people}
