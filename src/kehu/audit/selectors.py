"""Reading the audit trail: admins only, filtered by person, customer, action and time."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from kehu.accounts.models import User
from kehu.accounts.policy import access_for
from kehu.audit.masking import mask_details
from kehu.audit.models import Action, AuditEntry
from kehu.core.errors import ValidationError
from kehu.core.models import ChangeLog

PAGE_SIZE = 50


@dataclass
class AuditFilters:
    """The screen's and the export's filters, parsed from query parameters."""

    actor: str = ""  # a username
    customer: int | None = None
    action: str = ""
    since: dt.date | None = None
    until: dt.date | None = None
    errors: dict[str, list[str]] = field(default_factory=dict)

    @classmethod
    def from_params(cls, params: Any) -> AuditFilters:
        found = cls(actor=(params.get("actor") or "").strip()[:150])
        errors: dict[str, list[str]] = {}
        customer = (params.get("customer") or "").strip()
        if customer:
            if customer.isdigit() and len(customer) < 19:
                found.customer = int(customer)
            else:
                errors["customer"] = [_("客户编号应为数字")]
        action = params.get("action") or ""
        if action:
            if action in Action.values:
                found.action = action
            else:
                errors["action"] = [_("没有这种操作")]
        for name in ("since", "until"):
            text = (params.get(name) or "").strip()
            if text:
                try:
                    setattr(found, name, dt.date.fromisoformat(text))
                except ValueError:
                    errors[name] = [_("日期格式应为 YYYY-MM-DD")]
        found.errors = errors
        return found

    def as_params(self) -> dict[str, str]:
        values = {"actor": self.actor, "customer": self.customer or "", "action": self.action,
                  "since": self.since.isoformat() if self.since else "",
                  "until": self.until.isoformat() if self.until else ""}
        return {k: str(v) for k, v in values.items() if v}


def _admin_only(viewer: User) -> None:
    if not access_for(viewer).is_admin:
        raise PermissionDenied


def _moment(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


def entries(*, viewer: User, filters: AuditFilters) -> QuerySet[AuditEntry]:
    """The entries the filters select, newest first (admins only: 403 for anyone else)."""
    _admin_only(viewer)
    if filters.errors:
        raise ValidationError(filters.errors)
    qs = AuditEntry.objects.order_by("-pk")
    if filters.actor:
        qs = qs.filter(actor_name=filters.actor)
    if filters.customer is not None:
        qs = qs.filter(customer_id=filters.customer)
    if filters.action:
        qs = qs.filter(action=filters.action)
    if filters.since:
        qs = qs.filter(at__gte=_moment(filters.since))
    if filters.until:
        qs = qs.filter(at__lt=_moment(filters.until + dt.timedelta(days=1)))
    return qs


@dataclass(frozen=True)
class AuditPage:
    items: list[AuditEntry]
    next_before: int | None


def entry_page(*, viewer: User, filters: AuditFilters, before: int | None = None,
               limit: int = PAGE_SIZE) -> AuditPage:
    """One page, keyset by id (`before`: the last id of the previous page)."""
    qs = entries(viewer=viewer, filters=filters)
    if before is not None:
        qs = qs.filter(pk__lt=before)
    rows = list(qs[: limit + 1])
    more = len(rows) > limit
    return AuditPage(rows[:limit], rows[limit - 1].pk if more else None)


def entry_rows(*, viewer: User, filters: AuditFilters, chunk: int = 2000) -> Iterator[AuditEntry]:
    """Every selected entry, newest first, a chunk at a time (for exports)."""
    qs = entries(viewer=viewer, filters=filters)
    before = None
    while True:
        batch = list((qs.filter(pk__lt=before) if before else qs)[:chunk])
        yield from batch
        if len(batch) < chunk:
            return
        before = batch[-1].pk


def changes_for_customer(*, viewer: User, customer_id: int, limit: int = 50) -> list[ChangeLog]:
    """The change log's field-level rows of one customer, for the screen beside its audit
    entries (the audit chain seals them: see docs/architecture.md)."""
    _admin_only(viewer)
    rows = list(ChangeLog.objects.filter(customer_id=customer_id).select_related("actor")
                .order_by("-pk")[:limit])
    for row in rows:  # the log keeps values as written; the screen shows them masked
        row.changes = mask_details(row.changes)
    return rows
