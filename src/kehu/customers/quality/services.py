"""Writes of data quality: the settings (admins), "信息已核实" (whoever may change the
customer), and the system's refreshes of the stored rows. Every write a person makes takes
a required actor and origin and leaves a change-log row (core/records.py)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, Q, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _

from kehu.accounts.models import User
from kehu.accounts.policy import access_for
from kehu.core.cleaning import Collector
from kehu.core.errors import PermissionDenied
from kehu.core.records import record_create, record_update
from kehu.customers.models import Customer
from kehu.customers.quality.checking import problems_write
from kehu.customers.quality.models import (
    CustomerQuality,
    CustomerVerification,
    QualitySettings,
    QualitySnapshot,
)
from kehu.customers.quality.scoring import (
    MAX_WEIGHT,
    quality_fields,
    quality_settings,
    scores_refresh,
    stale_q,
    weights_of,
)
from kehu.customers.scoping import CHANGE

RUN_JOB = "customers.quality"
MAX_STALE_DAYS = 3650


# --- "信息已核实" ----------------------------------------------------------------------------


@transaction.atomic
def customer_verify(*, actor: User, origin: str, customer_id: int) -> CustomerVerification:
    """Record that `actor` checked the customer's data and found it current: the stale
    flag clears until `stale_days` pass again. Needs the right to change the customer."""
    customer = Customer.objects.get_for(actor, customer_id, CHANGE, lock=True)
    verification = record_create(actor=actor, instance=CustomerVerification(customer=customer),
                                 origin=origin, summary={"verified": [None, True]})
    CustomerQuality.objects.update_or_create(
        customer=customer, defaults={"verified_at": verification.created_at, "verified_by": actor})
    return verification


# --- settings (admins) -----------------------------------------------------------------------


def quality_settings_clean(data: dict[str, Any]) -> dict[str, Any]:
    """Weights (whole numbers 0–100, one per known field) and the stale days (1–3650),
    every bad one named at once (`weights.<key>`, `stale_days`)."""
    out = Collector()
    known = {f.key for f in quality_fields()}
    weights = data.get("weights") or {}
    if not isinstance(weights, dict):
        out.add_error("weights", _("应是 {字段: 权重}"))
        weights = {}
    for key, raw in weights.items():
        if key not in known:
            out.add_error(f"weights.{key}", _("没有这个字段"))
            continue
        out.run(f"weights.{key}", lambda v: _whole(v, 0, MAX_WEIGHT), raw)
    if "stale_days" in data:
        out.run("stale_days", lambda v: _whole(v, 1, MAX_STALE_DAYS), data["stale_days"])
    cleaned = out.result()
    values: dict[str, Any] = {}
    chosen = {k.removeprefix("weights."): v for k, v in cleaned.items() if k.startswith("weights.")}
    if chosen:
        values["weights"] = chosen
    if "stale_days" in cleaned:
        values["stale_days"] = cleaned["stale_days"]
    return values


def _whole(raw: Any, low: int, high: int) -> int:
    text = str(raw if raw is not None else "").strip()
    try:
        value = int(text)
    except ValueError as exc:
        raise ValidationError(_("应是 %(low)d 到 %(high)d 的整数") % {"low": low, "high": high}) from exc
    if not low <= value <= high:
        raise ValidationError(_("应是 %(low)d 到 %(high)d 的整数") % {"low": low, "high": high})
    return value


def quality_settings_save(*, actor: User, origin: str, data: dict[str, Any],
                          expected_version: int | None = None) -> QualitySettings:
    """Change the weights and the stale days (admins). New weights re-score every customer
    in a job started when the change commits."""
    if not access_for(actor).is_admin:
        raise PermissionDenied(_("只有管理员可以设置数据质量"))
    values = quality_settings_clean(data)
    with transaction.atomic():
        current = quality_settings()
        row = QualitySettings.objects.select_for_update().get(pk=current.pk)
        if "weights" in values:
            values["weights"] = {**(row.weights or {}), **values["weights"]}
        fields = quality_fields()
        reweighed = weights_of(row, fields) != weights_of(
            QualitySettings(weights=values.get("weights", row.weights)), fields)
        record_update(actor=actor, instance=row, origin=origin, expected_version=expected_version,
                      values={**values, "updated_by": actor})
        if reweighed:
            _start_rescore(actor, origin)
    return row


def _start_rescore(actor: User, origin: str) -> None:
    from kehu.jobs.services import job_start

    job_start(actor=actor, origin=origin, kind=RUN_JOB, params={"parts": ["scores"]},
              title=_("按新权重重新计算完整度"))


# --- the system's refreshes ----------------------------------------------------------------


def quality_refresh(ids: list[int]) -> int:
    """Score and re-validate a few customers (after their writes); the caller's transaction."""
    scored = scores_refresh(ids)
    live = Customer.objects.filter(pk__in=ids, deleted_at__isnull=True).order_by("pk")
    problems_write(live)
    return scored


def snapshot_take(*, day: dt.date | None = None, now: dt.datetime | None = None) -> int:
    """Write `day`'s per-owner figures (replacing any of that day: idempotent); returns the
    number of owners. The caller's transaction."""
    day = day or timezone.localdate()
    now = now or timezone.now()
    stale_days = quality_settings().stale_days
    rows = (Customer.objects.filter(deleted_at__isnull=True).values("owner_id").order_by()
            .annotate(n=Count("pk"), score=Coalesce(Sum("quality__completeness"), 0),
                      stale=Count("pk", filter=stale_q(stale_days, now=now)),
                      invalid=Count("pk", filter=Q(quality__problem_count__gt=0))))
    QualitySnapshot.objects.filter(day=day).delete()
    QualitySnapshot.objects.bulk_create([
        QualitySnapshot(day=day, owner_id=r["owner_id"], customers=r["n"],
                        completeness_sum=r["score"], stale=r["stale"], invalid=r["invalid"])
        for r in rows])
    return len(rows)
