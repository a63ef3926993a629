"""The order of my day (今日待办) and the reason shown per row.

Score (higher first; ties: earlier due moment, then task id):

| what | points |
|---|---|
| value tier | VIP 40, A 30, B 15, C 5 |
| days overdue | 2 a day, at most 60 |
| churn signal: days since the last purchase (CustomerFigures) | ≥ 365: 20, ≥ 180: 12, ≥ 90: 6 |
| open opportunities | 5 each (at most 15) + 1 per ¥10,000 of their value (at most 20) |
| an open complaint (投诉, not resolved or closed) | 25 |

Every input is read for all the due tasks at once (`Signals.load`: one query per kind, plain
values); the talking points' extra figures for the shown page only (`TalkFacts.load`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db.models import Count, Max, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from kehu.classification.models import CustomerClass, CustomerFigures
from kehu.followup.talking import render_points
from kehu.history.choices import OpportunityStatus, TicketKind, TicketStatus
from kehu.history.models import Communication, Opportunity, Ticket

TIER_DIMENSION = "value_tier"
TIER_POINTS = {"vip": 40, "a": 30, "b": 15, "c": 5}


@dataclass
class Signals:
    """What ranks the due tasks, one query per kind, as plain values (no model rows: the
    ranking reads up to 500 customers, of which a page of 50 is shown)."""

    tiers: dict[int, tuple[str, str]] = field(default_factory=dict)  # (key, label)
    last_orders: dict[int, dt.date] = field(default_factory=dict)
    deals: dict[int, tuple[int, Decimal]] = field(default_factory=dict)
    complaints: dict[int, int] = field(default_factory=dict)

    @classmethod
    def load(cls, ids: list[int]) -> Signals:
        if not ids:
            return cls()
        open_complaints = [TicketStatus.OPEN, TicketStatus.IN_PROGRESS]
        return cls(
            # Every class of these customers, the tier kept in Python: with the dimension in
            # the WHERE, SQLite walked the (dimension, value, customer) index over all
            # 1,000,000 tier rows (72 ms) instead of the customers' few rows (2 ms).
            tiers={cid: (key, label) for cid, dim, key, label in CustomerClass.objects.filter(
                customer_id__in=ids).values_list(
                "customer_id", "dimension__key", "value__key", "value__label")
                if dim == TIER_DIMENSION},
            last_orders=dict(CustomerFigures.objects.filter(
                customer_id__in=ids, last_order_on__isnull=False)
                .values_list("customer_id", "last_order_on")),
            deals={r["customer_id"]: (r["n"], r["total"] or Decimal(0)) for r in
                   Opportunity.objects.filter(customer_id__in=ids, status=OpportunityStatus.OPEN)
                   .values("customer_id").annotate(n=Count("id"), total=Sum("amount"))},
            complaints=dict(Ticket.objects.filter(
                customer_id__in=ids, kind=TicketKind.COMPLAINT, status__in=open_complaints)
                .values("customer_id").annotate(n=Count("id")).values_list("customer_id", "n")),
        )


@dataclass
class TalkFacts:
    """What a page's talking points fill in beyond the signals: 12-month spend and the
    last contact, read for the shown rows only."""

    spent: dict[int, Decimal] = field(default_factory=dict)
    contacted: dict[int, dt.datetime] = field(default_factory=dict)

    @classmethod
    def load(cls, ids: list[int]) -> TalkFacts:
        if not ids:
            return cls()
        return cls(
            spent=dict(CustomerFigures.objects.filter(customer_id__in=ids)
                       .values_list("customer_id", "monetary")),
            contacted=dict(Communication.objects.filter(customer_id__in=ids)
                           .values("customer_id").annotate(last=Max("occurred_at"))
                           .values_list("customer_id", "last")),
        )


def _money(value: Decimal) -> str:
    return f"¥{value:,.0f}"


Part = tuple[int, Callable[[], str] | None]  # points, and the reason in words (made on demand)


def _parts(cid: int, due_date: dt.date, signals: Signals, today: dt.date) -> list[Part]:
    parts: list[Part] = []
    tier = signals.tiers.get(cid)
    if tier is not None:
        parts.append((TIER_POINTS.get(tier[0], 0), lambda: tier[1]))
    overdue = (today - due_date).days
    if overdue > 0:
        parts.append((min(overdue * 2, 60), lambda: _("逾期 %(n)d 天") % {"n": overdue}))
    elif overdue == 0:
        parts.append((0, lambda: _("今天到期")))
    last_order = signals.last_orders.get(cid)
    if last_order is not None:
        idle = (today - last_order).days
        parts.append((20 if idle >= 365 else 12 if idle >= 180 else 6 if idle >= 90 else 0,
                      (lambda: _("已 %(n)d 天未购买") % {"n": idle}) if idle >= 90 else None))
    deals, value = signals.deals.get(cid, (0, Decimal(0)))
    if deals:
        parts.append((min(deals * 5, 15) + min(int(value // 10000), 20),
                      lambda: _("%(n)d 个进行中的商机 %(value)s") % {"n": deals,
                                                              "value": _money(value)}))
    if signals.complaints.get(cid):
        parts.append((25, lambda: _("有未处理的投诉")))
    return parts


def score(cid: int, due_date: dt.date, signals: Signals, today: dt.date) -> int:
    """The points of one open task of customer `cid` due on `due_date`."""
    return sum(points for points, _say in _parts(cid, due_date, signals, today))


def reasons(cid: int, due_date: dt.date, signals: Signals, today: dt.date) -> list[str]:
    """Why it scores what it does, in words — for the rows shown only (gettext for 500
    rows was 11 ms of a 36 ms agenda)."""
    return [say() for _points, say in _parts(cid, due_date, signals, today) if say]


def points_for(task: Any, signals: Signals, facts: TalkFacts, today: dt.date) -> str:
    """The plan's talking points with this customer's figures filled in."""
    if task.plan is None or not task.plan.talking_points:
        return ""
    cid = task.customer_id
    tier, last_order = signals.tiers.get(cid), signals.last_orders.get(cid)
    spent, contacted = facts.spent.get(cid), facts.contacted.get(cid)
    return render_points(task.plan.talking_points, {
        "客户名称": task.customer.name,
        "等级": tier[1] if tier else "",
        "最近下单": last_order.isoformat() if last_order else "",
        "近12月消费": _money(spent) if spent is not None else "",
        "未联系天数": (today - timezone.localtime(contacted).date()).days if contacted else "",
    })
