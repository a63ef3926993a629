"""Every read of follow-up, taking a `viewer` and returning finished rows.

Tasks are read through the customers' gate (`FollowUpTask.objects.visible_to`): a task
on a customer the viewer cannot see does not exist for them.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db.models import Count
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from kehu.accounts.models import User
from kehu.accounts.policy import access_for
from kehu.core.errors import ValidationError
from kehu.customers.scoping import customer_for
from kehu.followup.calendar import calendar_warning
from kehu.followup.models import CalendarDay, FollowUpPlan, FollowUpTask, TaskStatus
from kehu.followup.ranking import Signals, points_for, score
from kehu.followup.reminders import settings_get
from kehu.followup.services import may_plan, plans_editable_by

DAYS = {"today": _("今天"), "tomorrow": _("明天"), "week": _("未来一周")}
LIMIT = 500  # rows of one agenda: a rep's due tasks are tens, at most hundreds


@dataclass
class AgendaRow:
    """One task of an agenda, ranked, with why it is where it is."""

    task: FollowUpTask
    score: int
    reasons: list[str]
    points: str  # the plan's talking points, filled in

    @property
    def reason(self) -> str:
        return " · ".join(self.reasons)

    @property
    def overdue_days(self) -> int:
        return max((timezone.localdate() - self.task.due_date).days, 0)


def _due_filter(day: str, today: dt.date) -> dict[str, Any]:
    if day == "today":
        return {"due_date__lte": today}
    if day == "tomorrow":
        return {"due_date": today + dt.timedelta(days=1)}
    if day == "week":
        return {"due_date__gt": today, "due_date__lte": today + dt.timedelta(days=7)}
    raise ValidationError({"day": [_("应为 today、tomorrow 或 week")]})


def ranked(tasks: list[FollowUpTask], today: dt.date) -> list[AgendaRow]:
    """Rows for `tasks` (their customer and plan joined), best first (ranking.py)."""
    signals = Signals.load(sorted({t.customer_id for t in tasks}))
    rows = []
    for task in tasks:
        points, reasons = score(task, signals, today)
        rows.append(AgendaRow(task, points, reasons, points_for(task, signals, today)))
    rows.sort(key=lambda r: (-r.score, r.task.due_at, r.task.pk))
    return rows


def _open_tasks(viewer: User) -> Any:
    return FollowUpTask.objects.visible_to(viewer).filter(status=TaskStatus.OPEN) \
        .select_related("customer", "plan", "assignee", "escalated_to")


def my_day(*, viewer: User, day: str = "today", today: dt.date | None = None) -> dict[str, Any]:
    """The viewer's own open tasks due `day` (today: due today and overdue; tomorrow; the
    week after today), ranked. One query for the tasks and one per ranking signal."""
    today = today or timezone.localdate()
    tasks = list(_open_tasks(viewer).filter(assignee=viewer, **_due_filter(day, today))
                 .order_by("due_date", "id")[:LIMIT])
    return {"day": day, "day_label": DAYS[day], "today": today, "rows": ranked(tasks, today)}


def team_overdue(*, viewer: User, today: dt.date | None = None) -> list[dict[str, Any]]:
    """For admins and managers: overdue open tasks per assignee within the viewer's
    scope (people they cover, on customers they see), most first. Empty for others."""
    if not may_plan(viewer):
        return []
    today = today or timezone.localdate()
    qs = _team_tasks(viewer).filter(due_date__lt=today)
    counts = dict(qs.values("assignee").annotate(n=Count("id")).values_list("assignee", "n"))
    people = {u.pk: u for u in User.objects.filter(pk__in=counts)}
    return sorted(({"user": people[pk], "overdue": n} for pk, n in counts.items() if pk in people),
                  key=lambda r: (-r["overdue"], r["user"].pk))


def _team_tasks(viewer: User) -> Any:
    qs = _open_tasks(viewer).filter(assignee__isnull=False)
    access = access_for(viewer)
    return qs if access.sees_all else qs.filter(assignee_id__in=access.owner_ids)


def team_member_overdue(*, viewer: User, user_id: int,
                        today: dt.date | None = None) -> list[AgendaRow]:
    """The overdue tasks behind one count of `team_overdue`, ranked (empty when the person
    is outside the viewer's team)."""
    if not may_plan(viewer):
        return []
    today = today or timezone.localdate()
    tasks = list(_team_tasks(viewer).filter(assignee_id=user_id, due_date__lt=today)
                 .order_by("due_date", "id")[:LIMIT])
    return ranked(tasks, today)


def customer_tasks(*, viewer: User, customer_id: int) -> list[FollowUpTask]:
    """A customer's open tasks, soonest first (404 when the customer is out of sight)."""
    customer_for(viewer, customer_id)
    return list(_open_tasks(viewer).filter(customer_id=customer_id).order_by("due_date", "id"))


def plan_list(*, viewer: User) -> dict[str, Any]:
    """Every plan in order (everyone may read them), and which the viewer may change."""
    plans = list(FollowUpPlan.objects.select_related(
        "target_value__dimension", "target_segment", "assignee", "created_by"))
    editable = set(plans_editable_by(viewer).values_list("pk", flat=True))
    return {"plans": plans, "editable": editable, "may_plan": may_plan(viewer),
            "banner": calendar_warning() if access_for(viewer).is_admin else "",
            "escalation": settings_get()}


def calendar_days(*, viewer: User) -> dict[str, Any]:
    return {"days": list(CalendarDay.objects.all()), "banner": calendar_warning()}
