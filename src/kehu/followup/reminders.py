"""Reminders at the due time and escalations past a per-tier threshold, each sent once.

The claim is the mark itself: one `UPDATE … SET reminded_at (escalated_at) … WHERE … IS
NULL … RETURNING id` in the transaction that writes the notifications. A rerun, a worker
restarted after `kill -9` (the uncommitted claim rolled back with its notifications) and
a second worker running at the same time (PostgreSQL re-checks the WHERE on the row it
waited for; SQLite's IMMEDIATE transactions take turns) all find nothing left to send.

A person is told only about tasks whose customer they can see (the customers' gate, as
the digest reads my day): a task assigned to someone who cannot see its customer, or on a
customer in the recycle bin (a merged duplicate's too), rings nobody. Deleted customers'
tasks are not claimed (restored, they ring again); a task claimed for someone who cannot
see its customer keeps its mark and is not told about.

One notification per person per batch, not per task: a rep whose thirty plan tasks fall
due at 09:00 gets one line in the bell naming them, not thirty (one task: its customer
and title, linking to the card; several: the first few, linking to my day).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import OuterRef, Q, Subquery
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from kehu.accounts.models import User
from kehu.classification.models import CustomerClass
from kehu.customers.models import Customer
from kehu.customers.scoping import customer_ids_for
from kehu.followup.models import ESCALATION_TIERS, FollowUpSettings, FollowUpTask, TaskStatus
from kehu.followup.ranking import TIER_DIMENSION
from kehu.notifications.models import Level
from kehu.notifications.services import notify

BATCH = 500
# A task past its due moment by more than this is not reminded on its own (a worker that
# was down for days would otherwise ring every old task at once): the digest and my day
# list it. It keeps reminded_at empty, outside the partial index's range.
GRACE = dt.timedelta(hours=24)
# The tiers with their own threshold; any other tier (or none) takes the "" one.
NAMED_TIERS = tuple(key for key, _column, _label in ESCALATION_TIERS if key)
NAMED = 3  # customers named in a notification about several tasks


def settings_get() -> FollowUpSettings:
    """The one settings row; its defaults, unsaved, until someone changes them."""
    return FollowUpSettings.objects.order_by("pk").first() or FollowUpSettings()


def _claim(column_sql: str, params: Sequence[Any], ids: Sequence[int] | None = None,
           where_sql: str = "", where_params: Sequence[Any] = ()) -> list[int]:
    """UPDATE the open, unmarked tasks among `ids` (or matching `where_sql`); their ids."""
    table = connection.ops.quote_name(FollowUpTask._meta.db_table)
    mark = column_sql.split("=", 1)[0].strip()
    if ids is not None:
        where_sql, where_params = f"id IN ({', '.join(['%s'] * len(ids))})", list(ids)
    sql = (f"UPDATE {table} SET {column_sql} WHERE {mark} IS NULL AND status = %s "
           f"AND {where_sql} RETURNING id")
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, TaskStatus.OPEN, *where_params])
        return sorted(row[0] for row in cursor.fetchall())


def _db_time(value: dt.datetime) -> Any:
    return connection.ops.adapt_datetimefield_value(value)


# --- reminders at the due time ------------------------------------------------------------


def reminders_send(*, actor: User, origin: str, now: dt.datetime | None = None) -> int:
    """Remind assignees of open tasks whose due moment has come (within GRACE): one batch
    claimed and notified in one transaction. Returns the tasks reminded (0: none left)."""
    now = now or timezone.now()
    table = connection.ops.quote_name(FollowUpTask._meta.db_table)
    customers = connection.ops.quote_name(Customer._meta.db_table)
    with transaction.atomic():
        ids = _claim("reminded_at = %s", [_db_time(now)], where_sql=(
            f"id IN (SELECT t.id FROM {table} t JOIN {customers} c ON c.id = t.customer_id "
            "WHERE t.status = %s AND t.reminded_at IS NULL AND c.deleted_at IS NULL "
            "AND t.assignee_id IS NOT NULL AND t.due_at <= %s AND t.due_at > %s "
            "ORDER BY t.due_at, t.id LIMIT %s)"),
            where_params=[TaskStatus.OPEN, _db_time(now), _db_time(now - GRACE), BATCH])
        tasks = _tasks(ids)
        for assignee, own in _group(tasks, lambda t: t.assignee).items():
            if own := _seen_by(assignee, own):
                _notify_due(assignee, own, actor=actor, origin=origin)
    return len(ids)


def _tasks(ids: list[int]) -> list[FollowUpTask]:
    return list(FollowUpTask.objects.filter(pk__in=ids).select_related(
        "customer", "assignee", "escalated_to").order_by("due_at", "id")) if ids else []


def _seen_by(recipient: User, tasks: list[FollowUpTask]) -> list[FollowUpTask]:
    """The tasks whose customer `recipient` may see (the gate: scope, shares, not deleted).

    Asked of the customers, by id: the tasks joined to the gate made SQLite walk a rep's
    125,000 customers by owner for a batch of 500 tasks (23 s at 1,000,000; 0.01 s so)."""
    visible = customer_ids_for(recipient, {t.customer_id for t in tasks})
    return [t for t in tasks if t.customer_id in visible]


def _group(tasks: Iterable[FollowUpTask], key: Any) -> dict[Any, list[FollowUpTask]]:
    groups: dict[Any, list[FollowUpTask]] = defaultdict(list)
    for task in tasks:
        groups[key(task)].append(task)
    return groups


def in_language_of(user: User) -> Any:
    return translation.override(user.language or settings.LANGUAGE_CODE)


def _notify_due(assignee: User, tasks: list[FollowUpTask], *, actor: User, origin: str) -> None:
    with in_language_of(assignee):
        lines = [f"{t.customer.name} — {t.title}（{timezone.localtime(t.due_at):%m-%d %H:%M}）"
                 for t in tasks]
        if len(tasks) == 1:
            task = tasks[0]
            title = _("跟进提醒：%(customer)s — %(task)s") % {
                "customer": task.customer.name, "task": task.title}
            link = reverse("customers:detail", args=[task.customer_id]) + "#followup"
        else:
            title = _("%(n)d 个跟进已到时间：%(names)s") % {
                "n": len(tasks), "names": _names(tasks)}
            link = reverse("followup:today")
        notify(recipient=assignee, title=title, body="\n".join(lines), link=link,
               actor=actor, origin=origin)


def _names(tasks: list[FollowUpTask]) -> str:
    names = list(dict.fromkeys(t.customer.name for t in tasks))
    more = _(" 等") if len(names) > NAMED else ""
    return "、".join(names[:NAMED]) + more


# --- escalation to the manager ------------------------------------------------------------


def _due_to_escalate(today: dt.date, thresholds: dict[str, int]) -> Any:
    """Open, unescalated tasks overdue by at least their tier's days, whose assignee has an
    active manager (none: not escalated, and it will be once a manager is set)."""
    tier = CustomerClass.objects.filter(customer_id=OuterRef("customer_id"),
                                        dimension__key=TIER_DIMENSION).values("value__key")[:1]
    by_tier = Q()
    for key, days in thresholds.items():
        due = Q(due_date__lte=today - dt.timedelta(days=days))
        if key:
            by_tier |= Q(tier=key) & due
        else:  # no tier, or a tier this table does not name
            by_tier |= (Q(tier__isnull=True) | ~Q(tier__in=NAMED_TIERS)) & due
    return (FollowUpTask.objects.filter(
        status=TaskStatus.OPEN, escalated_at__isnull=True, assignee__isnull=False,
        customer__deleted_at__isnull=True,
        assignee__manager__isnull=False, assignee__manager__is_active=True,
        due_date__lte=today - dt.timedelta(days=min(thresholds.values())))
        .annotate(tier=Subquery(tier)).filter(by_tier))


def escalations_send(*, actor: User, origin: str, now: dt.datetime | None = None) -> int:
    """Escalate one batch of tasks overdue past their tier's threshold to the assignee's
    manager, claimed and notified in one transaction. Returns the tasks escalated."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    thresholds = settings_get().thresholds()
    if not thresholds:
        return 0
    users = connection.ops.quote_name(User._meta.db_table)
    table = connection.ops.quote_name(FollowUpTask._meta.db_table)
    with transaction.atomic():
        candidates = list(_due_to_escalate(today, thresholds).order_by("due_date", "id")
                          .values_list("pk", flat=True)[:BATCH])
        if not candidates:
            return 0
        ids = _claim(f"escalated_at = %s, escalated_to_id = (SELECT u.manager_id FROM {users} u "
                     f"WHERE u.id = {table}.assignee_id)", [_db_time(now)], ids=candidates)
        tasks = _tasks(ids)
        for (manager, rep), own in _group(tasks, lambda t: (t.escalated_to, t.assignee)).items():
            if own := _seen_by(manager, own):
                _notify_escalated(manager, rep, own, today, actor=actor, origin=origin)
    return len(ids)


def _notify_escalated(manager: User, rep: User, tasks: list[FollowUpTask], today: dt.date, *,
                      actor: User, origin: str) -> None:
    with in_language_of(manager):
        def overdue(task: FollowUpTask) -> str:
            return _("%(customer)s 逾期 %(n)d 天") % {
                "customer": task.customer.name, "n": (today - task.due_date).days}

        if len(tasks) == 1:
            title = _("跟进逾期升级：%(rep)s 的「%(customer)s」已逾期 %(n)d 天") % {
                "rep": rep.label, "customer": tasks[0].customer.name,
                "n": (today - tasks[0].due_date).days}
        else:
            title = _("跟进逾期升级：%(rep)s 有 %(n)d 个跟进逾期（%(first)s 等）") % {
                "rep": rep.label, "n": len(tasks), "first": overdue(tasks[0])}
        body = "\n".join(_("%(line)s — %(task)s，应于 %(day)s 跟进") % {
            "line": overdue(t), "task": t.title, "day": t.due_date.isoformat()} for t in tasks)
        notify(recipient=manager, title=title, body=body, level=Level.WARNING,
               link=reverse("followup:team_member", args=[rep.pk]), actor=actor, origin=origin)
