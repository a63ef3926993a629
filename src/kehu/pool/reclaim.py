"""The nightly reclaim, set-based: idle customers go back to their pool, owners are warned.

One unit is a range of customer ids (as follow-up's generation), in the caller's
transaction. Per active rule of an active pool (pools by name, rules by position):

1. reclaim — one `INSERT INTO pool_poolentry … SELECT` of the rule's candidates past the
   threshold, `ON CONFLICT DO NOTHING` (a customer is in one pool at most: an earlier rule
   or pool wins) `RETURNING` the customers and their owners; then their owners are cleared
   through customers' one path for it (`customers_owner_set`: transfer records, change
   log, version; set-based per 500) and a `PoolMove` each is written for the timeline;
2. warn — one `INSERT INTO pool_poolwarning … SELECT` of the candidates within `warn_days`
   of the threshold, keyed by customer, owner and the customer's activity clock (unique),
   `ON CONFLICT DO NOTHING RETURNING`; one notification per owner and rule for what it
   returned. The claim and the notifications commit together: a rerun, or a worker killed
   mid-unit (both rolled back), warns once.

A rule's candidates: live customers owned by someone of the pool's departments (or below),
of the rule's classification value (or all), not exempt — `exempt_won`: a won opportunity
or a spending order (confirmed, paid) ever; `exempt_open_opportunities`: an open one — and
either **idle**: no communication, no hand-over (an `OwnershipTransfer`: a claim, an
assignment, a transfer) and not created within `idle_days`; or, when `no_deal_days` is set,
**no deal**: no won opportunity closed, no spending order placed, no hand-over and not
created within `no_deal_days`. Each is NOT EXISTS on the history's (customer, time) indexes.
With the owners cleared, in the same unit: the customers' shares end (each in the change
log), and follow-up, hearing `customers.signals.owners_changed`, cancels their open tasks.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Any

from django.conf import settings
from django.db import connection
from django.db.models import Exists, F, OuterRef, QuerySet, Subquery
from django.db.models.functions import Coalesce, Greatest
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from kehu.accounts.models import User
from kehu.classification.models import CustomerClass
from kehu.core.models import Origin
from kehu.customers.bulk import customers_owner_set, customers_shares_end
from kehu.customers.models import Customer, OwnershipTransfer
from kehu.history.choices import SPENDING_STATUSES, OpportunityStatus
from kehu.history.models import Communication, Opportunity, Order
from kehu.notifications.services import notify
from kehu.pool.gate import pool_members
from kehu.pool.models import MoveKind, PoolEntry, PoolMove, PoolRule, PoolWarning

NAMED = 5  # customers named in one warning


def active_rules() -> list[PoolRule]:
    return list(PoolRule.objects.filter(is_active=True, pool__is_active=True)
                .select_related("pool").order_by("pool__name", "pool_id", "position", "id"))


def _of(model: Any, **extra: Any) -> QuerySet:
    return model.objects.filter(customer_id=OuterRef("pk"), **extra)


def rule_base(rule: PoolRule, first: int, last: int) -> QuerySet[Customer]:
    """The rule's customers in the id range, before any threshold: owned by the pool's
    people, of its target, not exempt."""
    owners = pool_members(rule.pool, active=False).values("pk")
    qs = Customer.objects.filter(deleted_at__isnull=True, owner__isnull=False,
                                 owner_id__in=owners, pk__gte=first, pk__lt=last)
    if rule.target_value_id:
        qs = qs.filter(pk__in=CustomerClass.objects.filter(value_id=rule.target_value_id)
                       .values("customer_id"))
    if rule.exempt_won:
        qs = qs.exclude(Exists(_of(Opportunity, status=OpportunityStatus.WON))) \
            .exclude(Exists(_of(Order, status__in=SPENDING_STATUSES)))
    if rule.exempt_open_opportunities:
        qs = qs.exclude(Exists(_of(Opportunity, status=OpportunityStatus.OPEN)))
    return qs


def idle_since(qs: QuerySet[Customer], cutoff: dt.datetime) -> QuerySet[Customer]:
    """No communication, no hand-over, not created since `cutoff`."""
    return qs.filter(created_at__lt=cutoff) \
        .exclude(Exists(_of(Communication, occurred_at__gte=cutoff))) \
        .exclude(Exists(_of(OwnershipTransfer, at__gte=cutoff)))


def no_deal_since(qs: QuerySet[Customer], cutoff: dt.datetime) -> QuerySet[Customer]:
    """No won opportunity closed, no spending order, no hand-over, not created since `cutoff`."""
    day = timezone.localtime(cutoff).date()
    return qs.filter(created_at__lt=cutoff) \
        .exclude(Exists(_of(Opportunity, status=OpportunityStatus.WON, closed_at__gte=cutoff))) \
        .exclude(Exists(_of(Order, status__in=SPENDING_STATUSES, ordered_on__gte=day))) \
        .exclude(Exists(_of(OwnershipTransfer, at__gte=cutoff)))


def _thresholds(rule: PoolRule, now: dt.datetime, *, ahead: int = 0) -> list[tuple[Any, dt.datetime, str]]:
    """(filter, cutoff, reason) per clause of the rule, `ahead` days early (the warning)."""
    clauses = [(idle_since, rule.idle_days, _("超过 %(days)d 天未跟进"))]
    if rule.no_deal_days:
        clauses.append((no_deal_since, rule.no_deal_days, _("超过 %(days)d 天未成交")))
    return [(where, now - dt.timedelta(days=days - ahead), reason % {"days": days})
            for where, days, reason in clauses]


def _db(value: dt.datetime) -> Any:
    return connection.ops.adapt_datetimefield_value(value)


def _insert(table: Any, columns: str, select: QuerySet, fields: tuple[str, ...], extra: str,
            extra_params: list, returning: str) -> list[tuple]:
    """INSERT INTO table (columns) SELECT <fields of the queryset>, <extra> … ON CONFLICT DO
    NOTHING RETURNING …: the ORM's query (the gate-free candidates) wrapped as a sub-select."""
    sql, params = select.values_list(*fields).query.sql_with_params()
    picked = ", ".join(f"m.{name}" for name in fields)
    statement = (f"INSERT INTO {connection.ops.quote_name(table._meta.db_table)} ({columns}) "
                 f"SELECT {picked}, {extra} FROM ({sql}) AS m WHERE true "
                 f"ON CONFLICT DO NOTHING RETURNING {returning}")
    with connection.cursor() as cursor:
        cursor.execute(statement, [*extra_params, *params])
        return cursor.fetchall()


def reclaim(*, first: int, last: int, actor: User, now: dt.datetime) -> dict[str, int]:
    """One unit: every active rule's reclaim, then its warnings (see the module)."""
    _end_stale(first, last, actor)
    rules = active_rules()
    moved = sum(_reclaim_rule(rule, first, last, actor, now) for rule in rules)
    warned = sum(_warn_rule(rule, first, last, actor, now) for rule in rules)
    return {"reclaimed": moved, "warned": warned}


def _end_stale(first: int, last: int, actor: User) -> None:
    """What moves leave nowadays but older data may hold: an entry whose customer has an
    owner again (transfers now end it) goes, or the customer could never come back; a
    share of a pool customer (moves now end them) ends, logged like the moves' own."""
    entries = PoolEntry.objects.filter(customer_id__gte=first, customer_id__lt=last)
    entries.filter(customer__owner__isnull=False).delete()
    shared = entries.filter(customer__owner__isnull=True, customer__shares__isnull=False) \
        .values_list("customer_id", flat=True).distinct()
    customers_shares_end(actor=actor, origin=Origin.SYSTEM, customer_ids=list(shared),
                         reason=_("客户在公海中"))


def _reclaim_rule(rule: PoolRule, first: int, last: int, actor: User, now: dt.datetime) -> int:
    total = 0
    for where, cutoff, reason in _thresholds(rule, now):
        select = where(rule_base(rule, first, last), cutoff).annotate(cid=F("pk"), oid=F("owner_id"))
        until = now + dt.timedelta(days=rule.pool.reclaim_wait_days)
        rows = _insert(PoolEntry, "customer_id, previous_owner_id, pool_id, rule_id, entered_at, "
                       "reason, no_reclaim_until", select, ("cid", "oid"), "%s, %s, %s, %s, %s",
                       [rule.pool_id, rule.pk, _db(now), reason, _db(until)],
                       "customer_id, previous_owner_id")
        if not rows:
            continue
        owners = dict(rows)
        said = f"{MoveKind.RECLAIMED.label}：{reason}"
        customers_owner_set(actor=actor, origin=Origin.SYSTEM, owners=owners, to_user_id=None,
                            reason=said)
        ended = customers_shares_end(actor=actor, origin=Origin.SYSTEM, customer_ids=owners,
                                     reason=said)
        PoolMove.objects.bulk_create(
            (PoolMove(customer_id=pk, pool_id=rule.pool_id, kind=MoveKind.RECLAIMED, actor=actor,
                      from_user_id=owner, reason=reason, shares_ended=ended.get(pk, 0),
                      origin=Origin.SYSTEM, at=now)
             for pk, owner in sorted(owners.items())), batch_size=500)
        total += len(rows)
    return total


def _activity_clock() -> Any:
    """The latest of a customer's last contact, hand-over, won deal and creation: what a
    warning is keyed by, so a contact (which restarts the clock) allows a new warning."""
    def last(model: Any, field: str, **extra: Any) -> Any:
        return Coalesce(Subquery(_of(model, **extra).order_by(f"-{field}").values(field)[:1]),
                        F("created_at"))
    return Greatest(last(Communication, "occurred_at"), last(OwnershipTransfer, "at"),
                    last(Opportunity, "closed_at", status=OpportunityStatus.WON), F("created_at"))


def _warn_rule(rule: PoolRule, first: int, last: int, actor: User, now: dt.datetime) -> int:
    found: dict[int, list[int]] = defaultdict(list)
    for where, cutoff, _reason in _thresholds(rule, now, ahead=rule.warn_days):
        select = where(rule_base(rule, first, last), cutoff).annotate(
            cid=F("pk"), oid=F("owner_id"), since=_activity_clock())
        for customer_id, owner_id in _insert(
                PoolWarning, "customer_id, owner_id, idle_since, rule_id, warned_at", select,
                ("cid", "oid", "since"), "%s, %s", [rule.pk, _db(now)], "customer_id, owner_id"):
            found[owner_id].append(customer_id)
    for owner in User.objects.filter(pk__in=sorted(found)):
        _notify_owner(owner, rule, sorted(found[owner.pk]), actor)
    return sum(len(ids) for ids in found.values())


def _notify_owner(owner: User, rule: PoolRule, ids: list[int], actor: User) -> None:
    names = list(Customer.objects.filter(pk__in=ids[:NAMED]).order_by("pk")
                 .values_list("name", flat=True))
    with translation.override(owner.language or settings.LANGUAGE_CODE):
        named = "、".join(names) + (_(" 等 %(count)d 个客户") % {"count": len(ids)}
                                    if len(ids) > NAMED else "")
        notify(recipient=owner, actor=actor, origin=Origin.SYSTEM,
               title=_("%(count)d 个客户将在 %(days)d 天内回到公海") % {
                   "count": len(ids), "days": rule.warn_days},
               body=_("%(names)s 长期未跟进或未成交，将回到公海“%(pool)s”。请及时跟进。") % {
                   "names": named, "pool": rule.pool.name},
               link=f"/customers/{ids[0]}/" if len(ids) == 1 else "/customers/")
