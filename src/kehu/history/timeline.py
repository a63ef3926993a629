"""The card's timeline: every kind of history in one stream, newest first.

Each page costs one query per kind, whatever the depth: for every kind we take
the newest `limit + 1` rows before the cursor through its (customer, time, id)
index, then merge the sorted streams with heapq. The cursor is the last entry
shown, as (at, kind, id); entries sort by that triple, descending.

Orders and surveys carry a date, not a moment: they sit at local midnight.
"""

from __future__ import annotations

import base64
import datetime as dt
import heapq
import itertools
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from kehu.accounts.models import User
from kehu.core.errors import Http404
from kehu.core.pagination import Page
from kehu.customers.models import Customer
from kehu.history.models import Communication, Need, Opportunity, Order, Survey, Ticket


@dataclass(frozen=True)
class TimelineEntry:
    kind: str
    at: dt.datetime
    obj: Any


@dataclass(frozen=True)
class _Source:
    model: type
    field: str
    is_date: bool
    related: tuple[str, ...]


SOURCES: dict[str, _Source] = {
    "communication": _Source(Communication, "occurred_at", False, ("contact", "created_by")),
    "need": _Source(Need, "created_at", False, ("created_by",)),
    "opportunity": _Source(Opportunity, "created_at", False, ("stage", "owner")),
    "order": _Source(Order, "ordered_on", True, ("created_by",)),
    "survey": _Source(Survey, "answered_on", True, ("contact",)),
    "ticket": _Source(Ticket, "opened_at", False, ("handler",)),
}
KINDS = frozenset(SOURCES)


def timeline(
    *, viewer: User, customer_id: int, kinds: set[str] | None = None,
    cursor: str | None = None, limit: int = 30,
) -> Page:
    """One page of the customer's history, newest first (404 when the customer is out of sight)."""
    if not Customer.objects.visible_to(viewer).filter(pk=customer_id).exists():
        raise Http404
    wanted = sorted(KINDS if not kinds else set(kinds))
    unknown = set(wanted) - KINDS
    if unknown:
        raise ValidationError({"kinds": [_("未知类型：%(kinds)s") % {"kinds": "、".join(sorted(unknown))}]})
    anchor = decode_cursor(cursor) if cursor else None
    streams = [_stream(kind, viewer, customer_id, anchor, limit + 1) for kind in wanted]
    merged = heapq.merge(*streams, key=_sort_key, reverse=True)
    entries = list(itertools.islice(merged, limit + 1))
    more = len(entries) > limit
    entries = entries[:limit]
    next_cursor = encode_cursor(entries[-1]) if more and entries else None
    return Page(items=entries, next_cursor=next_cursor, prev_cursor=None)


def _sort_key(entry: TimelineEntry) -> tuple[dt.datetime, str, int]:
    return (entry.at, entry.kind, entry.obj.pk)


def _stream(kind: str, viewer: User, customer_id: int, anchor, count: int) -> Iterator[TimelineEntry]:
    source = SOURCES[kind]
    qs: QuerySet = source.model.objects.visible_to(viewer).filter(customer_id=customer_id)
    if anchor is not None:
        qs = qs.filter(_before(kind, source, anchor))
    rows = qs.select_related(*source.related).order_by(f"-{source.field}", "-id")[:count]
    for row in rows:
        yield TimelineEntry(kind, _moment(getattr(row, source.field)), row)


def _moment(value: dt.date | dt.datetime) -> dt.datetime:
    if isinstance(value, dt.datetime):
        return value
    return timezone.make_aware(dt.datetime.combine(value, dt.time.min))


def _before(kind: str, source: _Source, anchor: tuple[dt.datetime, str, int]) -> Q:
    """Rows of `kind` whose (at, kind, id) sorts strictly before the anchor."""
    at, anchor_kind, anchor_id = anchor
    field = source.field
    if source.is_date:
        day = timezone.localdate(at)
        if at > _moment(day):  # every row of that day sits at midnight, before the anchor
            return Q(**{f"{field}__lte": day})
        at = day
    tie = Q(pk__in=[])
    if kind < anchor_kind:
        tie = Q(**{field: at})
    elif kind == anchor_kind:
        tie = Q(**{field: at, "id__lt": anchor_id})
    return Q(**{f"{field}__lt": at}) | tie


def encode_cursor(entry: TimelineEntry) -> str:
    raw = json.dumps([entry.at.isoformat(), entry.kind, entry.obj.pk])
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[dt.datetime, str, int]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        at, kind, pk = json.loads(base64.urlsafe_b64decode(padded))
        moment = dt.datetime.fromisoformat(at)
        if kind not in KINDS or timezone.is_naive(moment):
            raise ValueError(kind)
        return moment, kind, int(pk)
    except (ValueError, TypeError) as exc:
        raise ValidationError({"cursor": [_("无效的分页游标")]}) from exc
