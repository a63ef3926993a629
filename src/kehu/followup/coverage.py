"""Coverage (监控效果, issue 12 item 6): of the customers in a plan, the share contacted
within the plan's cadence — a communication in the last `cadence_days` days.

A customer is in a plan while it holds that plan's open plan task (generation keeps exactly
one, and logging a contact completes it and plans the next at once). Read through the gate
(`FollowUpTask.objects.visible_to`); a rep counts her own tasks, an admin or manager those of
everyone she covers. One grouped query per active plan (plans are few), each an EXISTS on
the communications' (customer, occurred_at) index.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Exists, OuterRef
from django.utils import timezone

from kehu.accounts.models import User
from kehu.accounts.policy import access_for
from kehu.followup.models import FollowUpPlan, FollowUpTask, TaskKind, TaskStatus
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

    def add(self, contacted: bool, n: int) -> None:
        self.total += n
        self.contacted += n if contacted else 0


def _tasks(viewer: User) -> Any:
    qs = FollowUpTask.objects.visible_to(viewer).filter(
        status=TaskStatus.OPEN, kind=TaskKind.PLAN, assignee__isnull=False)
    if not may_plan(viewer):
        return qs.filter(assignee=viewer)
    access = access_for(viewer)
    return qs if access.sees_all else qs.filter(assignee_id__in=access.owner_ids)


def coverage(*, viewer: User, now: dt.datetime | None = None) -> dict[str, Any]:
    """{"all": Share, "plans": [(plan, Share)], "people": [(user, Share)]} over the plan
    tasks the viewer covers (her own for a rep; her team's for a manager; everyone's for an
    admin). `people` is empty for a rep."""
    now = now or timezone.now()
    total, per_person = Share(), defaultdict(Share)
    plans = []
    for plan in FollowUpPlan.objects.filter(is_active=True).order_by("position", "id"):
        since = now - dt.timedelta(days=plan.cadence_days)
        recent = Communication.objects.filter(customer_id=OuterRef("customer_id"),
                                              occurred_at__gte=since)
        share = Share()
        for row in (_tasks(viewer).filter(plan=plan).annotate(contacted=Exists(recent))
                    .values("assignee", "contacted").annotate(n=Count("id")).order_by()):
            for target in (share, total, per_person[row["assignee"]]):
                target.add(row["contacted"], row["n"])
        if share.total:
            plans.append((plan, share))
    people = []
    if may_plan(viewer):
        users = {u.pk: u for u in User.objects.filter(pk__in=per_person)}
        people = sorted(((users[pk], s) for pk, s in per_person.items() if pk in users),
                        key=lambda r: (r[1].percent or 0, r[0].pk))
    return {"all": total, "plans": plans, "people": people}
