"""The card's timeline: every kind of history in one stream, newest first.

Each page costs one query per kind, whatever the depth: for every kind we take
the newest `limit + 1` rows before the cursor through its (customer, time, id)
index, then merge the sorted streams with heapq. The cursor is the last entry
shown, as (at, kind, id); entries sort by that triple, descending.

Orders and surveys carry a date, not a moment: they sit at local midnight.

Entries come finished: what the card's entry template and the API's serializers read
beyond the row itself is joined (`related`) or fetched for the whole page at once
(`prefetch`: one query per relation per kind on the page), and contacts are masked
for a viewer who sees them masked — callers never have to remember to.
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
from django.db.models import Prefetch, Q, QuerySet, prefetch_related_objects
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from kehu.accounts.models import User
from kehu.core.pagination import Page, cursor_moment, decode_cursor_values, invalid_cursor
from kehu.customers.scoping import customer_for
from kehu.customers.selectors import finish_contacts
from kehu.history.models import (
    Communication,
    Need,
    Opportunity,
    Order,
    OrderLine,
    Survey,
    Ticket,
)


@dataclass(frozen=True)
class TimelineEntry:
    kind: str
    at: dt.datetime
    obj: Any

    @property
    def template(self) -> str:
        return SOURCES[self.kind].template


@dataclass(frozen=True)
class _Source:
    model: type
    field: str
    is_date: bool
    related: tuple[str, ...]  # joined into the kind's own query
    prefetch: tuple[str | Prefetch, ...] = ()  # one query each, for the whole page
    template: str = ""  # a kind another app registers renders with its own entry template

    def lookups(self) -> tuple[str | Prefetch, ...]:
        # A fresh Prefetch each time: Django keeps state on the one it is given.
        return tuple(Prefetch(p.prefetch_through, p.queryset.all()) if isinstance(p, Prefetch)
                     else p for p in self.prefetch)


_ORDER_LINES = Prefetch("lines", OrderLine.objects.select_related("product").order_by("id"))
SOURCES: dict[str, _Source] = {
    "communication": _Source(Communication, "occurred_at", False, ("contact", "created_by"),
                             ("attachments",)),
    "need": _Source(Need, "created_at", False, ("created_by",)),
    "opportunity": _Source(Opportunity, "created_at", False, ("stage", "owner", "created_by"),
                           ("products",)),
    "order": _Source(Order, "ordered_on", True, ("created_by",), (_ORDER_LINES,)),
    "survey": _Source(Survey, "answered_on", True, ("contact", "created_by")),
    "ticket": _Source(Ticket, "opened_at", False, ("handler", "created_by")),
}
TimelineSource = _Source
# The chips of the card's timeline, in order; registered kinds are added after these.
LABELS: list[tuple[str, Any]] = [
    ("communication", gettext_lazy("跟进")), ("order", gettext_lazy("订单")),
    ("opportunity", gettext_lazy("商机")), ("need", gettext_lazy("需求")),
    ("survey", gettext_lazy("满意度")), ("ticket", gettext_lazy("工单")),
]


def register_timeline_kind(kind: str, source: _Source, label: Any) -> None:
    """Another app's rows on the card's timeline (classification: a customer's changes of
    tier or stage). The model needs a (customer, time, id) index and a scoped manager."""
    SOURCES[kind] = source
    LABELS.append((kind, label))


def timeline_kinds() -> frozenset[str]:
    return frozenset(SOURCES)


def timeline(
    *, viewer: User, customer_id: int, kinds: set[str] | None = None,
    cursor: str | None = None, limit: int = 30,
) -> Page:
    """One page of the customer's history, newest first (404 when the customer is out of sight)."""
    customer_id = customer_for(viewer, customer_id).pk  # the gate: 404 when out of sight
    known = timeline_kinds()
    wanted = sorted(known if not kinds else set(kinds))
    unknown = set(wanted) - known
    if unknown:
        raise ValidationError({"kinds": [_("未知类型：%(kinds)s") % {"kinds": "、".join(sorted(unknown))}]})
    anchor = decode_cursor(cursor) if cursor else None
    streams = [_stream(kind, viewer, customer_id, anchor, limit + 1) for kind in wanted]
    merged = heapq.merge(*streams, key=_sort_key, reverse=True)
    entries = list(itertools.islice(merged, limit + 1))
    more = len(entries) > limit
    entries = entries[:limit]
    next_cursor = encode_cursor(entries[-1]) if more and entries else None
    _finish(viewer, entries)
    return Page(items=entries, next_cursor=next_cursor, prev_cursor=None)


def _finish(viewer: User, entries: list[TimelineEntry]) -> None:
    """Prefetch what each kind shows, for the page's entries only; mask their contacts."""
    by_kind: dict[str, list[Any]] = {}
    for entry in entries:
        by_kind.setdefault(entry.kind, []).append(entry.obj)
    for kind, rows in by_kind.items():
        if SOURCES[kind].prefetch:
            prefetch_related_objects(rows, *SOURCES[kind].lookups())
    contacts = {id(e.obj.contact): e.obj.contact for e in entries
                if "contact" in SOURCES[e.kind].related and e.obj.contact is not None}
    finish_contacts(viewer, contacts.values())


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
    """(moment, kind, id) of one of our cursors; anything else is a 422 on "cursor"."""
    at, kind, pk = decode_cursor_values(cursor, 3)  # the shared, strict decoding
    if kind not in SOURCES or isinstance(pk, bool) or not isinstance(pk, int) or pk <= 0:
        raise invalid_cursor()
    return cursor_moment(at), kind, pk
