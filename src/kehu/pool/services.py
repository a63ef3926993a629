"""Writes of the pool: release, claim and assign a customer; pools and rules (admins).

Every customer move goes through `_move`: the owner set through customers' one path for
it (`customers.bulk.customers_owner_set`: transfer record, change log, version), the
pool entry written or removed, and a `PoolMove` for the timeline — in one transaction.
A claim locks the pool entry (two members claiming one customer: the second finds it
gone) and the claimant's own user row (one person's claims take turns, so the daily
limit and the cap on customers held are counted right under concurrent requests).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from kehu.accounts.models import DataScope, User
from kehu.accounts.policy import access_for, assignable_user, require_admin
from kehu.core.cleaning import text_cleaner
from kehu.core.errors import Http404, PermissionDenied, ValidationError
from kehu.core.records import record_create, record_delete, record_update
from kehu.customers.bulk import customers_owner_set, customers_shares_end
from kehu.customers.models import Customer
from kehu.customers.scoping import MANAGE, VIEW, as_pk, customer_for
from kehu.pool import cleaning
from kehu.pool.gate import is_member, pool_members, pools_of_department
from kehu.pool.models import MoveKind, Pool, PoolEntry, PoolMove, PoolRule

ADMINS_ONLY = gettext_lazy("只有管理员可以设置公海")


def may_assign(user: User) -> bool:
    """Admins and managers (a writing role that covers more than their own customers)."""
    access = access_for(user)
    return access.is_admin or (access.can_write and access.scope != DataScope.OWN)


# --- moves ---------------------------------------------------------------------------------


def _move(*, actor: User, origin: str, customer_id: int, owner_id: int | None,
          to_user_id: int | None, pool: Pool, kind: str, reason: str, now: dt.datetime) -> None:
    said = f"{MoveKind(kind).label}：{reason}" if reason else str(MoveKind(kind).label)
    customers_owner_set(actor=actor, origin=origin, owners={customer_id: owner_id},
                        to_user_id=to_user_id, reason=said)
    ended = 0
    if to_user_id is None:  # into the pool: masked for all but admins, so no share outlives it
        ended = customers_shares_end(actor=actor, origin=origin, customer_ids=[customer_id],
                                     reason=said).get(customer_id, 0)
    PoolMove.objects.create(customer_id=customer_id, pool=pool, kind=kind, actor=actor,
                            from_user_id=owner_id, to_user_id=to_user_id, reason=reason[:255],
                            shares_ended=ended, origin=origin, at=now)


@transaction.atomic
def pool_release(*, actor: User, origin: str, customer: Any, reason: str = "",
                 now: dt.datetime | None = None) -> PoolEntry:
    """释放到公海: whoever may manage the customer (its owner, their manager) gives it back to
    the pool of the owner's department. The previous owner may not claim it back for the
    pool's `reclaim_wait_days`."""
    now = now or timezone.now()
    customer = customer_for(actor, customer, MANAGE, lock=True)
    if customer.owner_id is None:
        raise ValidationError({"customer": [_("该客户没有负责人")]})
    owner = User.objects.filter(pk=customer.owner_id).first()
    pools = pools_of_department(owner.department_id if owner else None)
    if not pools:
        raise ValidationError({"customer": [_("负责人所在部门没有公海，无法释放")]})
    reason = text_cleaner(255)(reason) or _("主动释放")
    # An entry an ordinary transfer left behind before transfers ended them is stale.
    PoolEntry.objects.filter(customer_id=customer.pk).delete()
    entry = PoolEntry.objects.create(
        customer_id=customer.pk, pool=pools[0], entered_at=now, previous_owner_id=customer.owner_id,
        reason=reason, no_reclaim_until=now + dt.timedelta(days=pools[0].reclaim_wait_days))
    _move(actor=actor, origin=origin, customer_id=customer.pk, owner_id=customer.owner_id,
          to_user_id=None, pool=pools[0], kind=MoveKind.RELEASED, reason=reason, now=now)
    return entry


def _entry_for(actor: User, customer: Any) -> PoolEntry:
    """The locked pool entry of a customer in one of the actor's pools. 404 when the
    customer is missing or out of sight; for one the actor sees: 403 when it is in a pool
    they are not a member of (the analyst), 422 when it is no longer in a pool (claimed)."""
    pk = as_pk(customer)
    entry = PoolEntry.objects.select_for_update(of=("self",)).select_related("pool").filter(
        customer_id=pk, customer__deleted_at__isnull=True, customer__owner__isnull=True).first()
    if entry is not None and is_member(actor, entry.pool_id):
        return entry
    if not Customer.objects.visible_to(actor, VIEW).filter(pk=pk).exists():
        raise Http404
    if entry is not None:
        raise PermissionDenied(_("你不是公海“%(pool)s”的成员") % {"pool": entry.pool.name})
    raise ValidationError({"customer": [_("该客户已不在公海中")]})


@transaction.atomic
def pool_claim(*, actor: User, origin: str, customer: Any, now: dt.datetime | None = None) -> Customer:
    """领取: a member with a writing role takes a pool customer — within the pool's daily
    limit per person and cap on customers held, and not its previous owner before
    `no_reclaim_until`. Each refusal names its limit."""
    now = now or timezone.now()
    entry = _entry_for(actor, customer)
    if not access_for(actor).can_write:
        raise PermissionDenied(_("你只有查看权限"))
    User.objects.select_for_update().filter(pk=actor.pk).first()  # this person's claims in turn
    _check_limits(actor, entry, now)
    _leave(actor=actor, origin=origin, entry=entry, to_user=actor, kind=MoveKind.CLAIMED,
           reason="", now=now)
    return Customer.objects.get(pk=entry.customer_id)


def claims_today(user: User, pool: Pool, now: dt.datetime) -> int:
    start = timezone.localtime(now).replace(hour=0, minute=0, second=0, microsecond=0)
    return PoolMove.objects.filter(to_user=user, kind=MoveKind.CLAIMED, pool=pool, at__gte=start,
                                   at__lt=start + dt.timedelta(days=1)).count()


def held_by(user: User) -> int:
    return Customer.objects.filter(owner=user, deleted_at__isnull=True).count()


def _check_limits(actor: User, entry: PoolEntry, now: dt.datetime) -> None:
    pool = entry.pool
    if entry.previous_owner_id == actor.pk and entry.no_reclaim_until and now < entry.no_reclaim_until:
        day = timezone.localtime(entry.no_reclaim_until).date().isoformat()
        raise ValidationError({"customer": [_(
            "你是该客户的原负责人，%(day)s 之后才能重新领取") % {"day": day}]})
    claimed = claims_today(actor, pool, now)
    if claimed >= pool.daily_claims:
        raise ValidationError({"daily_claims": [_(
            "今日已从“%(pool)s”领取 %(count)d 个客户，已达每人每日 %(limit)d 个的上限") % {
            "pool": pool.name, "count": claimed, "limit": pool.daily_claims}]})
    if pool.max_held is not None:
        held = held_by(actor)
        if held >= pool.max_held:
            raise ValidationError({"max_held": [_(
                "你已持有 %(count)d 个客户，已达“%(pool)s”每人最多持有 %(limit)d 个的上限") % {
                "pool": pool.name, "count": held, "limit": pool.max_held}]})


def _leave(*, actor: User, origin: str, entry: PoolEntry, to_user: User, kind: str, reason: str,
           now: dt.datetime) -> None:
    pool, customer_id = entry.pool, entry.customer_id
    entry.delete()
    _move(actor=actor, origin=origin, customer_id=customer_id, owner_id=None,
          to_user_id=to_user.pk, pool=pool, kind=kind, reason=reason, now=now)


def pool_entries_end(*, actor: User | None, origin: str, ids: list[int], to_user_id: int,
                     reason: str = "", now: dt.datetime | None = None) -> int:
    """Customers given an owner by a path other than the pool's (an admin's 转移 of a pool
    customer) leave their pool in that path's transaction (`customers.signals.owners_changed`):
    the entry goes, and a move (分配, by that actor, to the new owner) says so on the
    timeline. A claim or an assignment removed its entry first and finds none here."""
    now = now or timezone.now()
    ended = 0
    for start in range(0, len(ids), 500):
        entries = list(PoolEntry.objects.select_for_update().filter(
            customer_id__in=ids[start:start + 500]).order_by("customer_id"))
        if not entries:
            continue
        PoolEntry.objects.filter(pk__in=[e.pk for e in entries]).delete()
        PoolMove.objects.bulk_create(
            PoolMove(customer_id=e.customer_id, pool_id=e.pool_id, kind=MoveKind.ASSIGNED,
                     actor=actor, to_user_id=to_user_id, reason=reason[:255], origin=origin,
                     at=now) for e in entries)
        ended += len(entries)
    return ended


@transaction.atomic
def pool_assign(*, actor: User, origin: str, customer: Any, to_user: Any, reason: str = "",
                now: dt.datetime | None = None) -> Customer:
    """分配: an admin or a manager in the pool hands a pool customer to a member of the pool
    within their scope. A manager's decision: the claim limits do not apply."""
    now = now or timezone.now()
    entry = _entry_for(actor, customer)
    if not may_assign(actor):
        raise PermissionDenied(_("只有管理员和主管可以分配公海客户"))
    person = assignable_user(actor, to_user)
    if person is None or not pool_members(entry.pool).filter(pk=person.pk).exists():
        raise ValidationError({"to_user": [_("只能分配给你管辖范围内、属于该公海的同事")]})
    reason = text_cleaner(255)(reason)
    _leave(actor=actor, origin=origin, entry=entry, to_user=person, kind=MoveKind.ASSIGNED,
           reason=reason, now=now)
    return Customer.objects.get(pk=entry.customer_id)


# --- pools and rules (admins) ----------------------------------------------------------------


@transaction.atomic
def pool_save(*, actor: User, origin: str, data: dict[str, Any], pool: Pool | None = None,
              expected_version: int | None = None) -> Pool:
    require_admin(actor, ADMINS_ONLY)
    values = cleaning.clean_pool(data)
    departments = values.pop("departments")
    clash = Pool.objects.filter(name=values["name"]).exclude(pk=getattr(pool, "pk", None))
    if clash.exists():
        raise ValidationError({"name": [_("已有同名公海")]})
    if pool is None:
        pool = record_create(actor=actor, instance=Pool(**values), origin=origin,
                             summary={k: str(v) for k, v in values.items()})
    else:
        pool = Pool.objects.select_for_update().get(pk=pool.pk)
        pool = record_update(actor=actor, instance=pool, values=values, origin=origin,
                             expected_version=expected_version)
    pool.departments.set(departments)
    return pool


@transaction.atomic
def pool_delete(*, actor: User, origin: str, pool: Pool, expected_version: int | None = None) -> None:
    """A pool holding customers is not deleted (deactivate it, or let them be claimed first)."""
    require_admin(actor, ADMINS_ONLY)
    pool = Pool.objects.select_for_update().get(pk=pool.pk)
    held = PoolEntry.objects.filter(pool=pool).count()
    if held:
        raise ValidationError({"pool": [_("公海中还有 %(count)d 个客户，不能删除，可改为停用") % {
            "count": held}]})
    record_delete(actor=actor, instance=pool, origin=origin, expected_version=expected_version)


@transaction.atomic
def rule_save(*, actor: User, origin: str, pool: Pool, data: dict[str, Any],
              rule: PoolRule | None = None, expected_version: int | None = None) -> PoolRule:
    require_admin(actor, ADMINS_ONLY)
    values = cleaning.clean_rule(data)
    if rule is None:
        position = PoolRule.objects.filter(pool=pool).count()
        return record_create(actor=actor, instance=PoolRule(pool=pool, position=position, **values),
                             origin=origin, summary={k: str(v) for k, v in values.items()})
    rule = PoolRule.objects.select_for_update().get(pk=rule.pk)
    return record_update(actor=actor, instance=rule, values=values, origin=origin,
                         expected_version=expected_version)


@transaction.atomic
def rule_delete(*, actor: User, origin: str, rule: PoolRule,
                expected_version: int | None = None) -> None:
    require_admin(actor, ADMINS_ONLY)
    rule = PoolRule.objects.select_for_update().get(pk=rule.pk)
    record_delete(actor=actor, instance=rule, origin=origin, expected_version=expected_version)
