"""The morning digest: each rep with follow-ups due today or overdue gets one notification
(and its e-mail copy) a working day — how many are due today and overdue, and the top five
in my day's order, read as the rep sees them (`selectors.my_day`, through the gate).

Exactly once per person per day: a `DigestSent` row (unique person and day) is inserted
in the transaction that writes the notification. A rerun, a restarted worker or a second
worker meets the unique pair and skips that person; a crash before the commit leaves
neither row, so the next run sends it.
"""

from __future__ import annotations

import datetime as dt

from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from kehu.accounts.models import User
from kehu.followup.models import DigestSent, FollowUpTask, TaskStatus
from kehu.followup.reminders import in_language_of
from kehu.followup.selectors import Agenda, my_day
from kehu.notifications.services import notify

TOP = 5


def digest_recipients(*, today: dt.date) -> list[User]:
    """Active people with an open task due today or overdue and no digest yet today (one
    query; who they are is the recipients' business, what they read goes through the gate)."""
    open_due = FollowUpTask.objects.filter(assignee=OuterRef("pk"), status=TaskStatus.OPEN,
                                           due_date__lte=today)
    sent = DigestSent.objects.filter(user=OuterRef("pk"), day=today)
    return list(User.objects.filter(is_active=True, is_system=False)
                .filter(Exists(open_due)).exclude(Exists(sent)).order_by("pk"))


def digests_send(*, actor: User, origin: str, now: dt.datetime | None = None) -> int:
    """Send today's digest to every recipient still without one; each person in their own
    transaction with their claim. Returns how many were sent."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    sent = 0
    for user in digest_recipients(today=today):
        with transaction.atomic():
            try:
                with transaction.atomic():
                    DigestSent.objects.create(user=user, day=today, sent_at=now)
            except IntegrityError:
                continue  # another worker sent it a moment ago
            agenda = my_day(viewer=user, day="today", today=today)["paging"]
            if agenda.rows:
                _notify(user, agenda, actor=actor, origin=origin)
                sent += 1
    return sent


def _notify(user: User, agenda: Agenda, *, actor: User, origin: str) -> None:
    with in_language_of(user):
        title = _("今日跟进：今天到期 %(today)d 个，逾期 %(overdue)d 个") % {
            "today": agenda.total - agenda.overdue, "overdue": agenda.overdue}
        lines = [f"{n}. {r.task.customer.name} — {r.task.title}（{r.reason}）"
                 for n, r in enumerate(agenda.rows[:TOP], start=1)]
        notify(recipient=user, title=title, body="\n".join(lines),
               link=reverse("followup:today"), actor=actor, origin=origin)
