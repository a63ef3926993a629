"""Reads of data quality on behalf of a viewer, every one inside the customers' gate:
the page's figures per rep and per team, its worst records, the trend, and one customer's
detail for the card and the API."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import Avg, Count, F, Q, QuerySet, Sum
from django.utils import timezone

from kehu.accounts.models import Department, User
from kehu.accounts.policy import access_for
from kehu.customers.models import Customer
from kehu.customers.quality.models import CustomerQuality, QualitySnapshot
from kehu.customers.quality.scoring import (
    Scoring,
    quality_fields,
    quality_settings,
    stale_q,
    weights_of,
)
from kehu.customers.scoping import VIEW

TREND_DAYS = 90
WORST = 20


def _figures(stale_days: int, now: dt.datetime) -> dict[str, Any]:
    return {"customers": Count("pk"), "average": Avg("quality__completeness"),
            "stale": Count("pk", filter=stale_q(stale_days, now=now)),
            "invalid": Count("pk", filter=Q(quality__problem_count__gt=0))}


def _rounded(row: dict[str, Any]) -> dict[str, Any]:
    average = row.get("average")
    return {**row, "average": round(average, 1) if average is not None else None}


def quality_summary(*, viewer: User) -> dict[str, Any]:
    """The viewer's customers: in all, per owner (rep) and per owner's department (team),
    each with customers, average completeness, stale and invalid counts; worst average first."""
    now = timezone.now()
    settings = quality_settings()
    visible = Customer.objects.visible_to(viewer, VIEW)
    figures = _figures(settings.stale_days, now)
    total = _rounded(visible.aggregate(**figures))
    by_owner = [_rounded(r) for r in visible.values("owner_id").order_by().annotate(**figures)]
    by_team = [_rounded(r) for r in visible.values(team=F("owner__department_id")).order_by()
               .annotate(**figures)]
    names = {u.pk: u.label for u in User.objects.filter(pk__in=[r["owner_id"] for r in by_owner])}
    teams = dict(Department.objects.filter(pk__in=[r["team"] for r in by_team])
                 .values_list("pk", "name"))
    for row in by_owner:
        row["label"] = names.get(row["owner_id"], "—")
    for row in by_team:
        row["label"] = teams.get(row["team"], "—")
    worst_first = lambda r: (r["average"] if r["average"] is not None else 101, -r["customers"])  # noqa: E731
    return {"total": total, "stale_days": settings.stale_days,
            "by_owner": sorted(by_owner, key=worst_first),
            "by_team": sorted(by_team, key=worst_first)}


def quality_worst(*, viewer: User, limit: int = WORST) -> list[Customer]:
    """The viewer's least complete customers, the ones with most problems first among equals;
    each carries `quality` (or None when not scored yet) and `is_stale`."""
    settings = quality_settings()
    rows = list(Customer.objects.visible_to(viewer, VIEW)
                .filter(quality__isnull=False)
                .select_related("quality", "owner")
                .order_by("quality__completeness", "-quality__problem_count", "pk")[:limit])
    cutoff = timezone.now() - dt.timedelta(days=settings.stale_days)
    for row in rows:
        row.is_stale = _stale(row, row.quality, cutoff)
    return rows


def _stale(customer: Customer, quality: CustomerQuality | None, cutoff: dt.datetime) -> bool:
    verified = quality.verified_at if quality else None
    return customer.updated_at < cutoff and (verified is None or verified < cutoff)


def quality_trend(*, viewer: User, days: int = TREND_DAYS) -> list[dict[str, Any]]:
    """Per day of the last `days`, the snapshots of the owners in the viewer's scope summed:
    customers, average completeness, stale, invalid (shared customers are their owner's)."""
    access = access_for(viewer)
    if access.user_id is None:
        return []
    rows: QuerySet[QualitySnapshot] = QualitySnapshot.objects.filter(
        day__gte=timezone.localdate() - dt.timedelta(days=days - 1))
    if not access.sees_all:
        rows = rows.filter(owner_id__in=access.owner_ids)
    sums = rows.values("day").order_by("day").annotate(
        n=Sum("customers"), score=Sum("completeness_sum"), stale=Sum("stale"),
        invalid=Sum("invalid"))
    return [{"day": r["day"], "customers": r["n"], "stale": r["stale"], "invalid": r["invalid"],
             "average": round(r["score"] / r["n"], 1) if r["n"] else None} for r in sums]


def customer_quality(*, viewer: User, customer_id: int) -> dict[str, Any]:
    """One customer's data quality as the viewer may see it (404 out of scope): the score
    now (computed, not the stored one that may lag a write by seconds), the fields it
    lacks, whether it is stale and since when, the last verification, the problems."""
    customer = Customer.objects.get_for(viewer, customer_id, VIEW)
    scoring = Scoring.current()
    settings = quality_settings()
    score = Customer.objects.filter(pk=customer.pk).annotate(
        score=scoring.expression()).values_list("score", flat=True).first()
    row = CustomerQuality.objects.filter(customer_id=customer.pk) \
        .select_related("verified_by").first()
    cutoff = timezone.now() - dt.timedelta(days=settings.stale_days)
    verified = row.verified_at if row else None
    touched = max(customer.updated_at, verified) if verified else customer.updated_at
    return {
        "customer": customer, "completeness": score,
        "stored_completeness": row.completeness if row and row.scored_at else None,
        "missing": [{"key": f.key, "label": f.label, "weight": scoring.weights[f.key]}
                    for f in scoring.missing(customer.pk)],
        "stale": _stale(customer, row, cutoff), "stale_days": settings.stale_days,
        "touched_at": touched, "days_untouched": (timezone.localdate()
                                                  - timezone.localdate(touched)).days,
        "verified_at": verified, "verified_by": row.verified_by if row else None,
        "problems": row.problems if row else [], "checked_at": row.checked_at if row else None,
    }


def weights_table() -> list[dict[str, Any]]:
    """Each field that may count with its weight and the shipped default (the settings page)."""
    fields = quality_fields()
    weights = weights_of(quality_settings(), fields)
    return [{"key": f.key, "label": f.label, "weight": weights[f.key], "default": f.default,
             "companies_only": f.companies_only, "custom": f.key.startswith("cf.")}
            for f in fields]
