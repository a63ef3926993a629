"""Every write of follow-up: plans, tasks, completion, calendar days.

Services take a required keyword `actor` and `origin`, validate with `cleaning` (every
bad field at once), reach customers through their gate (a task on a customer the actor
cannot see is a 404, on one they may only read a 403) and write through `core.records`
(provenance, version, change log). Plan tasks are written set-based by `generation.py`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from typing import Any

from django.db import transaction
from django.db.models import F, Max, Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from kehu.accounts.models import User
from kehu.accounts.policy import access_for, assignable_user, require_admin
from kehu.core.errors import Http404, PermissionDenied, ValidationError
from kehu.core.models import ChangeLog
from kehu.core.records import check_version, log_change, record_create, record_update
from kehu.customers.scoping import CHANGE, customer_for, customer_ids_for
from kehu.customers.segments import may_publish, segment_get
from kehu.followup import cleaning
from kehu.followup.generation import (
    CONTACT_TIMES,
    DEFAULT_TIME,
    generate,
    moment,
    shift_refresh,
)
from kehu.followup.models import (
    CalendarDay,
    FollowUpPlan,
    FollowUpSettings,
    FollowUpTask,
    TaskKind,
    TaskStatus,
)
from kehu.history.selectors import preference_get

GENERATE_JOB = "followup.generate"


# --- plans (跟踪计划) ---------------------------------------------------------------------


def may_plan(user: User) -> bool:
    """Admins and managers (the segments' publishing rule: a writing role that reaches
    beyond its own customers) keep plans."""
    return may_publish(user)


def require_planner(user: User) -> None:
    """403 for someone who keeps no plans (nor the escalation settings)."""
    if not may_plan(user):
        raise PermissionDenied(_("只有管理员和经理可以设置跟踪计划"))


CALENDAR_ADMINS_ONLY = gettext_lazy("只有管理员可以修改工作日历")


def plans_editable_by(user: User) -> Any:
    """The plans `user` may change: every plan for an admin, their own for a manager."""
    if access_for(user).is_admin:
        return FollowUpPlan.objects.all()
    if may_plan(user):
        return FollowUpPlan.objects.filter(created_by=user)
    return FollowUpPlan.objects.none()


def plan_get_editable(*, actor: User, pk: Any) -> FollowUpPlan:
    """A plan `actor` may change: 403 for someone who keeps no plans, 404 for missing or
    another manager's."""
    require_planner(actor)
    plan = plans_editable_by(actor).filter(pk=pk).first()
    if plan is None:
        raise Http404
    return plan


def _plan_values(actor: User, data: dict[str, Any]) -> dict[str, Any]:
    from kehu.classification.models import DimensionValue

    collector = cleaning.plan_collector(data)
    target = str(data.get("target") or "").strip()  # "value:<id>" or "segment:<id>"
    kind, _sep, raw = target.partition(":")
    values: dict[str, Any] = {"target_value": None, "target_segment": None}
    if kind == "value" and raw.isdigit():
        values["target_value"] = DimensionValue.objects.filter(pk=int(raw), is_active=True).first()
        if values["target_value"] is None:
            collector.add_error("target", _("没有这个分类值"))
    elif kind == "segment" and raw.isdigit():
        try:
            values["target_segment"] = segment_get(viewer=actor, pk=int(raw))
        except Http404:
            collector.add_error("target", _("没有这个分群，或您看不到它"))
    else:
        collector.add_error("target", _("请选择一个分类值或分群"))
    assignee = data.get("assignee")
    values["assignee"] = None
    if assignee not in (None, ""):
        values["assignee"] = assignable_user(actor, assignee)
        if values["assignee"] is None:
            collector.add_error("assignee", _("执行人应为您范围内的在职同事"))
    return {**collector.result(), **values}


@transaction.atomic
def plan_save(*, actor: User, origin: str, data: dict[str, Any], plan: FollowUpPlan | None = None,
              expected_version: int | None = None, regenerate: bool = True) -> FollowUpPlan:
    """Create a plan (last in the order) or change one; the tasks follow (a job, unless the
    caller starts one itself: `regenerate=False`)."""
    require_planner(actor)
    values = _plan_values(actor, data)
    if plan is None:
        last = FollowUpPlan.objects.aggregate(m=Max("position"))["m"]
        plan = FollowUpPlan(**values, position=(last or 0) + 10)
        plan = record_create(actor=actor, instance=plan, origin=origin,
                             summary={"name": plan.name, "cadence_days": plan.cadence_days})
    else:
        current = plan_get_editable(actor=actor, pk=plan.pk)
        current = FollowUpPlan.objects.select_for_update().get(pk=current.pk)
        plan = record_update(actor=actor, instance=current, values=values, origin=origin,
                             expected_version=expected_version)
    if regenerate:
        _regenerate(actor, origin)
    return plan


@transaction.atomic
def plan_move(*, actor: User, origin: str, plan: FollowUpPlan, direction: str) -> None:
    """Move a plan one place up or down the order (a customer follows the first plan that
    holds it); positions are renumbered 10, 20, 30…"""
    plan = plan_get_editable(actor=actor, pk=plan.pk)
    plans = list(FollowUpPlan.objects.select_for_update().order_by("position", "id"))
    index = next(i for i, p in enumerate(plans) if p.pk == plan.pk)
    other = index - 1 if direction == "up" else index + 1
    if not 0 <= other < len(plans):
        return
    plans[index], plans[other] = plans[other], plans[index]
    for position, row in enumerate(plans, start=1):
        if row.position != position * 10:
            FollowUpPlan.objects.filter(pk=row.pk).update(position=position * 10,
                                                          version=F("version") + 1)
    log_change(actor=actor, action="move", instance=plan, origin=origin,
               changes={"direction": direction})
    _regenerate(actor, origin)


def _regenerate(actor: User, origin: str) -> None:
    from kehu.jobs.services import job_start

    job_start(actor=actor, origin=origin, kind=GENERATE_JOB)


@transaction.atomic
def escalation_settings_save(*, actor: User, origin: str, data: dict[str, Any],
                             expected_version: int | None = None) -> FollowUpSettings:
    """Days overdue after which a task escalates to the assignee's manager, per tier
    (admins and managers, like plans; the change log keeps who changed what)."""
    require_planner(actor)
    values = cleaning.clean_escalation(data)
    row = FollowUpSettings.objects.select_for_update().order_by("pk").first() \
        or FollowUpSettings.objects.create()
    return record_update(actor=actor, instance=row, values=values, origin=origin,
                         expected_version=expected_version)


# --- tasks --------------------------------------------------------------------------------


@transaction.atomic
def task_create(*, actor: User, origin: str, customer: Any, data: dict[str, Any]) -> FollowUpTask:
    """A manual task or a one-off reminder on a customer the actor may change. The due date
    is kept as given (a person chose it); without a time, the customer's preferred contact
    time or 09:00."""
    customer = customer_for(actor, customer, CHANGE, lock=True)  # 404 out of sight, 403 read-only
    errors: dict[str, list] = {}
    try:
        values = cleaning.clean_task(data)
    except ValidationError as exc:
        errors = exc.update_error_dict(errors)
        values = {}
    assignee = actor
    if data.get("assignee") not in (None, ""):
        assignee = assignable_user(actor, data.get("assignee"))
        if assignee is None:
            errors.setdefault("assignee", []).append(_("执行人应为您范围内的在职同事"))
        elif not customer_ids_for(assignee, [customer.pk]):
            # The assignee is told the customer's name and works on it: they must see it.
            errors.setdefault("assignee", []).append(_("执行人看不到这个客户"))
    if errors:
        raise ValidationError(errors)
    due_time = values.pop("due_time") or _preferred_time(actor, customer.pk)
    now = timezone.now()
    task = FollowUpTask(customer=customer, assignee=assignee, **values,
                        due_at=moment(values["due_date"], due_time), created_at=now, event_at=now)
    return record_create(actor=actor, instance=task, origin=origin,
                         summary={"kind": task.kind, "title": task.title,
                                  "due_date": task.due_date.isoformat()})


def _preferred_time(actor: User, customer_id: int) -> dt.time:
    """The moment of the customer's preferred contact time, read as the actor (history's
    selector, through the gate), else 09:00."""
    preference = preference_get(viewer=actor, customer_id=customer_id)
    wanted = preference.preferred_contact_time if preference else ""
    return CONTACT_TIMES.get(wanted, DEFAULT_TIME)


@transaction.atomic
def task_complete(*, actor: User, origin: str, task: FollowUpTask | int,
                  communication: Any = None, expected_version: int | None = None) -> FollowUpTask:
    """Mark a task done (by the actor, with the communication that did it). A task already
    done or cancelled is left as it is. A plan task's next one is scheduled at once."""
    task = FollowUpTask.objects.get_for(actor, task, CHANGE, lock=True)
    if task.status != TaskStatus.OPEN:
        return task
    return _finish(actor, origin, task, TaskStatus.DONE, communication, expected_version)


@transaction.atomic
def task_cancel(*, actor: User, origin: str, task: FollowUpTask | int,
                expected_version: int | None = None) -> FollowUpTask:
    task = FollowUpTask.objects.get_for(actor, task, CHANGE, lock=True)
    if task.status != TaskStatus.OPEN:
        return task
    return _finish(actor, origin, task, TaskStatus.CANCELLED, None, expected_version)


@transaction.atomic
def task_log(*, actor: User, origin: str, task: FollowUpTask | int,
             data: dict[str, Any]) -> tuple[Any, FollowUpTask]:
    """Log a communication for an open task (any kind) through history's service and
    complete that task with it; the channel defaults to the task's. 404 out of sight, 403
    read-only; a task already done or cancelled is refused (nothing is logged).
    Returns (communication, task)."""
    from kehu.history.services import communication_log

    task = FollowUpTask.objects.get_for(actor, task, CHANGE, lock=True)
    if task.status != TaskStatus.OPEN:
        raise ValidationError(_("这个跟进任务已完成或已取消"))
    if task.channel and not data.get("channel"):
        data = {**data, "channel": task.channel}
    communication = communication_log(actor=actor, customer=task.customer_id, data=data,
                                      origin=origin)
    # A plan task is completed by the log itself (complete_by_communication); any other here.
    task = FollowUpTask.objects.select_for_update().get(pk=task.pk)
    if task.status == TaskStatus.OPEN:
        task = _finish(actor, origin, task, TaskStatus.DONE, communication, None)
    return communication, task


def _finish(actor: User | None, origin: str, task: FollowUpTask, status: str, communication: Any,
            expected_version: int | None) -> FollowUpTask:
    # done_at / done_by: when and by whom a person finished it, done or cancelled — the
    # next plan task is due one cadence after that day (generation._finished_by_hand), not
    # after the old last contact again (which re-made the same overdue task).
    now = timezone.now()
    values: dict[str, Any] = {"status": status, "event_at": now, "done_at": now, "done_by": actor}
    if status == TaskStatus.DONE:
        values["communication"] = communication
    task = record_update(actor=actor, instance=task, values=values, origin=origin,
                         expected_version=expected_version, action=f"task_{status}")
    if task.kind == TaskKind.PLAN:
        generate(ids=[task.customer_id], actor=_system())
    return task


def _system() -> User:
    from kehu.accounts.services import system_actor

    return system_actor()


def complete_by_communication(*, communication: Any) -> FollowUpTask | None:
    """A logged communication completes the customer's open plan task (due or not: the
    contact was made), by whoever logged it; the next is due one cadence after the
    communication's day, on a working day (generation). Called in the log's transaction."""
    task = FollowUpTask.objects.select_for_update().filter(
        customer_id=communication.customer_id, status=TaskStatus.OPEN, kind=TaskKind.PLAN).first()
    actor = communication.created_by
    origin = communication.origin
    if task is None:
        generate(ids=[communication.customer_id], actor=_system())
        return None
    return _finish(actor, origin, task, TaskStatus.DONE, communication, None)


def merge_settle(*, actor: User, origin: str, survivor_id: int, duplicate_id: int) -> None:
    """After a merge (in its transaction): the duplicate, now in the recycle bin, keeps its
    tasks for its timeline, but its open ones are cancelled — nobody is to follow up a
    customer that is gone, and the survivor holds one open plan task at most; the survivor
    is planned afresh (its open plan task re-made from the merged history's last contact)."""
    now = timezone.now()
    survivor_plan = Q(customer_id=survivor_id, kind=TaskKind.PLAN)
    for task in FollowUpTask.objects.select_for_update().filter(
            Q(customer_id=duplicate_id) | survivor_plan, status=TaskStatus.OPEN).order_by("pk"):
        record_update(actor=actor, instance=task, origin=origin, action="task_cancelled",
                      values={"status": TaskStatus.CANCELLED, "event_at": now})
    generate(ids=[survivor_id], actor=_system())


def tasks_cancel_unowned(*, actor: User | None, origin: str, customer_ids: Iterable[int],
                         reason: str = "") -> int:
    """Customers left without an owner (the pool's reclaim or release, in its transaction:
    `customers.signals.owners_changed`): their open tasks of every kind are cancelled, each
    with a change-log row as a cancellation is recorded (`task_cancelled`) naming the move's
    reason — nobody is to follow up a customer nobody owns, and its previous owner no longer
    may. A system cancellation (no done_at): the claimant's plan task is planned from the
    last contact."""
    return _open_tasks_set(
        actor=actor, origin=origin, customer_ids=customer_ids, where=Q(), action="task_cancelled",
        values={"status": TaskStatus.CANCELLED, "event_at": timezone.now()},
        changes=lambda _before: {"status": [TaskStatus.OPEN, TaskStatus.CANCELLED],
                                 "reason": reason})


def plan_tasks_follow_owner(*, actor: User | None, origin: str, customer_ids: Iterable[int],
                            to_user_id: int) -> int:
    """Customers handed to another owner (a transfer, a hand-over, a claim), in the move's
    transaction: the open plan tasks of plans that leave the work to the owner go to the new
    owner with their due date kept, each with a change-log row (`task_reassigned`) — the
    previous owner may no longer see the customer, and the new one must find the task on
    their day. Tasks a plan gives to a named person, and manual tasks, stay where they are."""
    # the plans as a subquery, not a join: PostgreSQL refuses FOR UPDATE on an outer join's side
    owners_plans = FollowUpPlan.objects.filter(assignee__isnull=True).values("pk")
    return _open_tasks_set(
        actor=actor, origin=origin, customer_ids=customer_ids, action="task_reassigned",
        where=Q(kind=TaskKind.PLAN, plan_id__in=owners_plans) & ~Q(assignee_id=to_user_id),
        values={"assignee_id": to_user_id},
        changes=lambda before: {"assignee": [before, to_user_id]})


def tasks_hand_over(sender: Any, ids: list[int], from_user: User, to_user: User, actor: User,
                    origin: str, **kwargs: Any) -> dict[str, int]:
    """A handover's receiver (customers.signals.handed_over): every open task assigned to the
    leaver on those customers — manual ones and reminders too — goes to the receiver."""
    return {"tasks": _open_tasks_set(
        actor=actor, origin=origin, customer_ids=ids, action="task_reassigned",
        where=Q(assignee=from_user), values={"assignee_id": to_user.pk},
        changes=lambda before: {"assignee": [before, to_user.pk], "reason": "handover"})}


def _open_tasks_set(*, actor: User | None, origin: str, customer_ids: Iterable[int], where: Q,
                    values: dict[str, Any], action: str,
                    changes: Callable[[int | None], dict[str, Any]]) -> int:
    """The open tasks of these customers matching `where` take `values`, each with a
    change-log row (`action`, `changes(its assignee before)`), in the caller's transaction.
    Set-based: per 500 customers one SELECT … FOR UPDATE, one UPDATE and one INSERT."""
    ids = sorted(set(customer_ids))
    done = 0
    for start in range(0, len(ids), 500):
        rows = list(FollowUpTask.objects.select_for_update().filter(
            where, customer_id__in=ids[start:start + 500], status=TaskStatus.OPEN)
            .order_by("pk").values_list("pk", "customer_id", "assignee_id"))
        if not rows:
            continue
        FollowUpTask.objects.filter(pk__in=[pk for pk, _c, _a in rows]).update(
            **values, version=F("version") + 1)
        ChangeLog.objects.bulk_create(
            ChangeLog(actor=actor, origin=origin, action=action, object_id=pk,
                      model=FollowUpTask._meta.label_lower, customer_id=customer,
                      changes=changes(before))
            for pk, customer, before in rows)
        done += len(rows)
    return done


def plans_read(dimensions: Iterable[int]) -> bool:
    """Whether a customer's moving in these dimensions may move it between plans: an active
    plan targets one of their values, or a segment (whose condition may name any). A
    lifecycle change under plans by tier re-planned for nothing: ~25 ms of the 40 ms a
    customer's re-classification took (SQLite, 1,000,000 customers)."""
    return FollowUpPlan.objects.filter(is_active=True).filter(
        Q(target_segment__isnull=False) | Q(target_value__dimension_id__in=list(dimensions))
    ).exists()


def replan(ids: Iterable[int]) -> None:
    """Customers whose tier, stage or owner changed: their open plan task follows the plan
    that holds them now (cancelled and re-created with that plan's cadence; one claimed
    from the pool gets its task, its new owner's), at once."""
    ids = sorted(set(ids))
    system = _system()
    for start in range(0, len(ids), 1000):
        generate(ids=ids[start:start + 1000], actor=system)


# --- the calendar (admins) ----------------------------------------------------------------


@transaction.atomic
def calendar_day_save(*, actor: User, origin: str, data: dict[str, Any]) -> CalendarDay:
    """Declare a holiday or a make-up working day (one per date: saving a date again
    changes it). Open plan tasks due on a day that stopped being a working day move."""
    require_admin(actor, CALENDAR_ADMINS_ONLY)
    values = cleaning.clean_calendar_day(data)
    current = CalendarDay.objects.select_for_update().filter(date=values["date"]).first()
    if current is None:
        day = record_create(actor=actor, instance=CalendarDay(**values), origin=origin,
                            summary={k: str(v) for k, v in values.items()})
    else:
        day = record_update(actor=actor, instance=current, values=values, origin=origin)
    _calendar_changed()
    return day


@transaction.atomic
def calendar_day_delete(*, actor: User, origin: str, day: CalendarDay,
                        expected_version: int | None = None) -> None:
    require_admin(actor, CALENDAR_ADMINS_ONLY)
    day = CalendarDay.objects.select_for_update().filter(pk=day.pk).first()
    if day is None:
        raise Http404
    check_version(day, expected_version)
    log_change(actor=actor, action="delete", instance=day, origin=origin,
               changes={"date": day.date.isoformat(), "kind": day.kind})
    day.delete()
    _calendar_changed()


def _calendar_changed() -> None:
    from kehu.followup.generation import realign_to_calendar

    shift_refresh()
    realign_to_calendar()
