"""The order of my day (今日待办) and the reason shown per row.

Score (higher first; ties: earlier due moment, then task id):

| what | points |
|---|---|
| value tier | VIP 40, A 30, B 15, C 5 |
| days overdue | 2 a day, at most 60 |
| churn signal: days since the last purchase (CustomerFigures) | ≥ 365: 20, ≥ 180: 12, ≥ 90: 6 |
| open opportunities | 5 each (at most 15) + 1 per ¥10,000 of their value (at most 20) |
| an open complaint (投诉, not resolved or closed) | 25 |

Every input is read with the due tasks themselves (`with_signals`: correlated subqueries in
the one statement, plain values); the talking points' extra figures for the shown page only
(`TalkFacts.load`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db.models import Count, DecimalField, Exists, IntegerField, Max, OuterRef, QuerySet, Subquery, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from kehu.classification.models import CustomerClass, CustomerFigures, Dimension
from kehu.followup.talking import render_points
from kehu.history.choices import OpportunityStatus, TicketKind, TicketStatus
from kehu.history.models import Communication, Opportunity, Ticket

TIER_DIMENSION = "value_tier"
TIER_POINTS = {"vip": 40, "a": 30, "b": 15, "c": 5}


SIGNAL_COLUMNS = ("tier_key", "tier_label", "last_order_on", "deals", "deal_value",
                  "complaint")


def with_signals(tasks: QuerySet) -> QuerySet:
    """`tasks` as plain rows (id, customer id, due date, due moment, then SIGNAL_COLUMNS): every
    ranking input a correlated subquery on the task's customer, in the one statement that
    reads the due tasks. For 500 due tasks at 1,000,000 customers (SQLite) the keys and then
    a query per signal with the 500 customer ids as IN lists took 3 + 13 ms (p50), this
    statement 10.5 ms: its subqueries are index lookups for the rows the LIMIT keeps."""
    cid = OuterRef("customer_id")
    tier = CustomerClass.objects.filter(
        # The dimension by a scalar subquery, not a join: SQLite seeks the (dimension,
        # customer) unique index per task (EXPLAIN); with the dimension's key in the WHERE
        # an earlier query walked the class_members index over all 1,000,000 tier rows.
        customer_id=cid, dimension_id=Subquery(
            Dimension.objects.filter(key=TIER_DIMENSION).values("pk")[:1]))
    deals = Opportunity.objects.filter(customer_id=cid, status=OpportunityStatus.OPEN) \
        .order_by().values("customer_id")
    complaints = Ticket.objects.filter(
        customer_id=cid, kind=TicketKind.COMPLAINT,
        status__in=[TicketStatus.OPEN, TicketStatus.IN_PROGRESS])
    money = DecimalField(max_digits=18, decimal_places=2)
    return tasks.annotate(
        tier_key=Subquery(tier.values("value__key")[:1]),
        tier_label=Subquery(tier.values("value__label")[:1]),
        last_order_on=Subquery(CustomerFigures.objects.filter(customer_id=cid)
                               .values("last_order_on")[:1]),
        deals=Subquery(deals.annotate(n=Count("id")).values("n"), output_field=IntegerField()),
        deal_value=Subquery(deals.annotate(total=Sum("amount")).values("total"),
                            output_field=money),
        complaint=Exists(complaints),
    ).values_list("id", "customer_id", "due_date", "due_at", *SIGNAL_COLUMNS)


@dataclass
class Signals:
    """What ranks the due tasks, by customer, as plain values (no model rows: the ranking
    reads up to 500 customers, of which a page of 50 is shown)."""

    tiers: dict[int, tuple[str, str]] = field(default_factory=dict)  # (key, label)
    last_orders: dict[int, dt.date] = field(default_factory=dict)
    deals: dict[int, tuple[int, Decimal]] = field(default_factory=dict)
    complaints: dict[int, int] = field(default_factory=dict)

    @classmethod
    def from_rows(cls, rows: list[tuple]) -> Signals:
        """From `with_signals` rows (a customer's columns are the same on each of its rows)."""
        found = cls()
        for _pk, cid, _due, _at, tier_key, tier_label, last_order, deals, value, complaint in rows:
            if tier_key is not None:
                found.tiers[cid] = (tier_key, tier_label)
            if last_order is not None:
                found.last_orders[cid] = last_order
            if deals:
                found.deals[cid] = (deals, value or Decimal(0))
            if complaint:
                found.complaints[cid] = 1
        return found


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
