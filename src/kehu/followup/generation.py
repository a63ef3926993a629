"""Plan tasks, set-based: the calendar table, which plan holds a customer, the next task.

One unit (a range of customer ids, or a few ids after a write) does, in the caller's
transaction:

1. cancel the open plan tasks no longer right: their plan is inactive or gone, the customer
   left its target, or an earlier plan now holds the customer (a tier change) — one UPDATE;
2. per active plan in `position` order, one `INSERT … SELECT` of a task for every member
   without an open plan task: due on the later of the last contact's day (history's
   communications, in KEHU_TIME_ZONE) and the day a person last marked its plan task done
   or cancelled (`_finished_by_hand`) + the cadence, or today when neither, clamped to the calendar
   window and moved to a working day by joining `WorkingShift`; the time is the customer's
   preferred contact time (上午 09:00, 中午 12:00, 下午 14:00, 晚上 19:00; else 09:00).
   Earlier plans insert first, so a customer in two plans follows the first; the partial
   unique index (one open plan task per customer) and ON CONFLICT DO NOTHING make a rerun
   insert nothing.

A plan's members are its target within its author's gate (`visible_to(created_by)`) and,
for a plan with an assignee, within the assignee's too (a task names its customer to
whoever does it); never a customer without an owner (a pool's, until claimed).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from django.db import connection, transaction
from django.db.models import Exists, F, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Greatest, TruncDate
from django.utils import timezone

from kehu.classification.models import CustomerClass
from kehu.core.errors import ValidationError
from kehu.customers.models import Customer
from kehu.customers.segments import segment_members
from kehu.followup.calendar import admin_days, due_on_working_day, is_working_day
from kehu.followup.models import FollowUpPlan, FollowUpTask, TaskKind, TaskStatus, WorkingShift
from kehu.history.choices import ContactTime
from kehu.history.models import Communication

WINDOW_BEFORE = 366  # days of the calendar table before today: older due dates are clamped
WINDOW_AFTER = 731  # and after it (cadences are at most 365 days)
# A preferred contact time's moment of the day; WorkingShift has a `<value>_at` column for
# each. Any other preference (周末, 随时) or none: the default, the morning's.
CONTACT_TIMES = {ContactTime.MORNING: dt.time(9), ContactTime.NOON: dt.time(12),
                 ContactTime.AFTERNOON: dt.time(14), ContactTime.EVENING: dt.time(19)}
DEFAULT_CONTACT_TIME = ContactTime.MORNING
DEFAULT_TIME = CONTACT_TIMES[DEFAULT_CONTACT_TIME]


# --- the calendar as a table -----------------------------------------------------------------


def shift_window(today: dt.date | None = None) -> tuple[dt.date, dt.date]:
    today = today or timezone.localdate()
    return today - dt.timedelta(days=WINDOW_BEFORE), today + dt.timedelta(days=WINDOW_AFTER)


def moment(day: dt.date, at: dt.time = DEFAULT_TIME) -> dt.datetime:
    """`at` on `day` in KEHU_TIME_ZONE, as an aware datetime."""
    return timezone.make_aware(dt.datetime.combine(day, at))


def shift_refresh(today: dt.date | None = None) -> int:
    """Rewrite the calendar table for the window around today (about 1,100 rows)."""
    with transaction.atomic():
        _lock_shifts()  # first: the rows are then computed from what the last rebuild committed
        rows = _shift_rows(today)
        WorkingShift.objects.all().delete()
        WorkingShift.objects.bulk_create(rows, batch_size=500)
    return len(rows)


def _shift_rows(today: dt.date | None) -> list[WorkingShift]:
    first, last = shift_window(today)
    overrides = admin_days()
    rows, landing = [], None
    day = last
    # Walk backwards: a day's working day is itself, or the next day's working day.
    while day >= first:
        landing = day if is_working_day(day, overrides=overrides) else (
            landing or due_on_working_day(day, overrides=overrides))
        rows.append(WorkingShift(day=day, working_day=landing, **{
            f"{time.value}_at": moment(landing, at) for time, at in CONTACT_TIMES.items()}))
        day -= dt.timedelta(days=1)
    return rows


def _lock_shifts() -> None:
    """One rebuild at a time. The first communications of a day each find the table a day
    behind and rebuild it in their own transaction: two at once inserted the same days and
    the second failed with a duplicate key (a 500, found by tests/ops/test_load_postgres.py).
    On PostgreSQL the rebuild takes the table's lock, so the second waits for the first to
    commit and then rewrites what it sees; readers are not blocked. SQLite's IMMEDIATE
    transactions already let one writer in at a time."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(f'LOCK TABLE "{WorkingShift._meta.db_table}" IN SHARE ROW EXCLUSIVE MODE')


def shift_ensure(today: dt.date | None = None) -> None:
    """Rebuild the table when it does not start where today's window does."""
    first, _last = shift_window(today)
    if WorkingShift.objects.order_by("day").values_list("day", flat=True).first() != first:
        shift_refresh(today)


# --- who is in which plan --------------------------------------------------------------------


def active_plans() -> list[FollowUpPlan]:
    return list(FollowUpPlan.objects.filter(is_active=True).select_related(
        "target_value", "target_segment", "created_by", "assignee"))


def plan_members(plan: FollowUpPlan) -> QuerySet[Customer] | None:
    """The live customers `plan` holds within its author's gate — and its assignee's, when
    it has one (a subquery of the gate, compiled into the SQL); None when its segment's
    condition no longer parses (the plan then holds nobody until it is fixed)."""
    author = plan.created_by
    if plan.target_segment_id:
        try:
            members = segment_members(viewer=author, segment=plan.target_segment)
        except ValidationError:
            return None
    else:
        # EXISTS per customer through the class_members key (dimension, value, customer):
        # an IN listed every customer of the tier first, 70-230 ms to re-plan one customer at
        # 1,000,000; without the dimension SQLite probed by value and walked the tier.
        members = Customer.objects.visible_to(author).filter(Exists(CustomerClass.objects.filter(
            dimension_id=plan.target_value.dimension_id, value_id=plan.target_value_id,
            customer_id=OuterRef("pk"))))
    if plan.assignee_id:
        members = members.filter(pk__in=Customer.objects.visible_to(plan.assignee).values("pk"))
    # A customer nobody owns (a pool's) is nobody's to follow up: its members see it masked
    # and may not log a contact until one claims it — then it is planned for them.
    return members.filter(owner__isnull=False)


def _limit(qs: QuerySet, field: str, ids: list[int] | None, first: int | None,
           last: int | None) -> QuerySet:
    if ids is not None:
        qs = qs.filter(**{f"{field}__in": ids})
    if first is not None:
        qs = qs.filter(**{f"{field}__gte": first, f"{field}__lt": last})
    return qs


def generate(*, ids: Iterable[int] | None = None, first: int | None = None,
             last: int | None = None, actor: Any, today: dt.date | None = None) -> dict[str, int]:
    """One unit: cancel the wrong open plan tasks, insert the missing ones (see the module).
    The caller holds the transaction. Returns {"cancelled": n, "created": n}."""
    today = today or timezone.localdate()
    shift_ensure(today)
    ids = sorted(set(ids)) if ids is not None else None
    plans = [(plan, plan_members(plan)) for plan in active_plans()]
    plans = [(plan, members) for plan, members in plans if members is not None]
    if not plans and not FollowUpTask.objects.filter(status=TaskStatus.OPEN,
                                                     kind=TaskKind.PLAN).exists():
        return {"cancelled": 0, "created": 0}
    cancelled = _cancel_wrong(plans, ids, first, last)
    held = _values_held(plans, ids)
    created = sum(_insert(plan, _limit(members, "pk", ids, first, last), actor, today)
                  for plan, members in plans
                  if held is None or plan.target_value_id is None or plan.target_value_id in held)
    return {"cancelled": cancelled, "created": created}


def _values_held(plans: list, ids: list[int] | None) -> set[int] | None:
    """For a few customers (`ids`): which of the plans' target values they hold now, in
    one query — a plan on another value holds none of them, and its INSERT is not built
    (compiling each plan's INSERT … SELECT is most of a one-customer re-plan: ~4 ms of
    its 19, SQLite, 1,000,000 customers). None for a range unit: every plan runs."""
    targets = [plan.target_value_id for plan, _members in plans if plan.target_value_id]
    if ids is None or not targets:
        return None
    return set(CustomerClass.objects.filter(customer_id__in=ids, value_id__in=targets)
               .values_list("value_id", flat=True))


def _cancel_wrong(plans: list, ids: list[int] | None, first: int | None, last: int | None) -> int:
    right, earlier = Q(pk__in=[]), Q(pk__in=[])
    for plan, members in plans:
        # Members among the unit's customers only: SQLite lists a whole plan's members
        # first otherwise (all of a tier's customers), 1.8 s per re-classified customer at
        # 1,000,000 customers against a few ms.
        holds = Q(customer_id__in=_limit(members, "pk", ids, first, last).values("pk"))
        right |= Q(plan=plan) & holds & ~earlier
        earlier |= holds
    wrong = _limit(FollowUpTask.objects.filter(status=TaskStatus.OPEN, kind=TaskKind.PLAN),
                   "customer_id", ids, first, last).exclude(right)
    now = timezone.now()
    return wrong.update(status=TaskStatus.CANCELLED, event_at=now, version=F("version") + 1)


def _insert(plan: FollowUpPlan, members: QuerySet[Customer], actor: Any, today: dt.date) -> int:
    open_task = FollowUpTask.objects.filter(customer_id=OuterRef("pk"), status=TaskStatus.OPEN,
                                            kind=TaskKind.PLAN)
    zone = timezone.get_current_timezone()
    last_contact = Communication.objects.filter(customer_id=OuterRef("pk")) \
        .order_by("-occurred_at").values("occurred_at")[:1]
    select = members.filter(~Exists(open_task)).annotate(
        cid=F("pk"), oid=F("owner_id"),
        last=TruncDate(Subquery(last_contact), tzinfo=zone),
        fin=Subquery(_finished_by_hand(zone)),
        ptime=F("preference__preferred_contact_time"),
        pchan=F("preference__preferred_channel"),
    ).values_list("cid", "oid", "last", "fin", "ptime", "pchan")
    sql, params = select.query.sql_with_params()
    start, end = shift_window(today)
    due, due_params = _due_sql(plan.cadence_days, today, start, end)
    at, at_params = _moment_sql()
    now = timezone.now()
    statement = (
        f"INSERT INTO {FollowUpTask._meta.db_table} (customer_id, assignee_id, plan_id, kind, "
        "title, notes, channel, due_date, due_at, status, created_by_id, origin, created_at, "
        "event_at, version) "
        "SELECT s.cid, COALESCE(%s, s.oid), %s, 'plan', %s, '', "
        "COALESCE(NULLIF(%s, ''), s.pchan, ''), w.working_day, "
        f"{at}, "
        "'open', %s, 'system', %s, %s, 1 "
        f"FROM (SELECT m.cid, m.oid, m.ptime, m.pchan, {due} AS due FROM ({sql}) AS m) AS s "
        f"JOIN {WorkingShift._meta.db_table} w ON w.day = s.due "
        "WHERE true ON CONFLICT DO NOTHING")
    with connection.cursor() as cursor:
        cursor.execute(statement, [plan.assignee_id, plan.pk, plan.name[:200], plan.channel,
                                   *at_params, getattr(actor, "pk", None), now, now, *due_params,
                                   *params])
        return max(cursor.rowcount, 0)


def _moment_sql() -> tuple[str, list]:
    """The due moment of a row `s` on its working day `w`: the WorkingShift column of the
    customer's preferred contact time (CONTACT_TIMES), else the default's."""
    others = [time for time in CONTACT_TIMES if time != DEFAULT_CONTACT_TIME]
    whens = " ".join(f"WHEN %s THEN w.{time.value}_at" for time in others)
    return (f"CASE s.ptime {whens} ELSE w.{DEFAULT_CONTACT_TIME.value}_at END",
            [time.value for time in others])


def _finished_by_hand(zone: Any) -> QuerySet:
    """The day a person last finished the customer's plan task without logging a contact
    (标记完成 / 取消): its local done day, or the due date it had when finished early. A
    contact's own day is the communication's; a task the system cancelled (a plan or tier
    change) has no done_at and does not count."""
    return FollowUpTask.objects.filter(
        customer_id=OuterRef("pk"), kind=TaskKind.PLAN, done_at__isnull=False,
        communication__isnull=True,
    ).annotate(day=Greatest(TruncDate("done_at", tzinfo=zone), F("due_date"))) \
        .order_by("-day").values("day")[:1]


def _due_sql(cadence: int, today: dt.date, start: dt.date, end: dt.date) -> tuple[str, list]:
    """The raw due day of a member row `m`: the later of its last contact and the day its
    last plan task was finished by hand, + cadence; today when neither; clamped."""
    days = [today.isoformat(), start.isoformat(), end.isoformat()]
    if connection.vendor == "postgresql":  # GREATEST ignores NULLs
        return ("LEAST(GREATEST(COALESCE(GREATEST(m.last, m.fin) + CAST(%s AS integer), "
                "CAST(%s AS date)), CAST(%s AS date)), CAST(%s AS date))", [cadence, *days])
    return ("MIN(MAX(COALESCE(date(MAX(COALESCE(m.last, m.fin), COALESCE(m.fin, m.last)), "
            "'+' || %s || ' days'), %s), %s), %s)", [cadence, *days])


def realign_to_calendar() -> int:
    """Open plan tasks due on a day that is no longer a working day (an admin declared a
    holiday) move to the next one, at 09:00 — one UPDATE."""
    shift = WorkingShift.objects.filter(day=OuterRef("due_date"))
    off = WorkingShift.objects.exclude(day=F("working_day")).values("day")
    return FollowUpTask.objects.filter(status=TaskStatus.OPEN, kind=TaskKind.PLAN,
                                       due_date__in=off).update(
        due_date=Subquery(shift.values("working_day")[:1]),
        due_at=Subquery(shift.values("morning_at")[:1]), version=F("version") + 1)
