"""Keyset (cursor) pagination: every page costs the same, at any depth.

A cursor is the sort value and id of the last row shown, base64-encoded. The
order is always (sort column, id) so ties break the same way every time.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _


@dataclass(frozen=True)
class Page:
    items: list[Any]
    next_cursor: str | None
    prev_cursor: str | None


def paginate(
    qs: QuerySet, *, sort: str, cursor: str | None, limit: int, datetime_fields: set[str]
) -> Page:
    """One page of `qs` ordered by `sort` ("name" or "-name"), after or before `cursor`."""
    field = sort.lstrip("-")
    descending = sort.startswith("-")
    backwards, anchor = _decode(cursor, field in datetime_fields) if cursor else (False, None)
    forward_desc = descending != backwards
    if anchor is not None:
        qs = qs.filter(_after(field, anchor, forward_desc))
    order = [f"-{field}", "-id"] if forward_desc else [field, "id"]
    rows = list(qs.order_by(*order)[: limit + 1])
    more = len(rows) > limit
    rows = rows[:limit]
    if backwards:
        rows.reverse()
    has_next = more if not backwards else anchor is not None
    has_prev = (anchor is not None) if not backwards else more
    return Page(
        items=rows,
        next_cursor=_encode(rows[-1], field, False) if rows and has_next else None,
        prev_cursor=_encode(rows[0], field, True) if rows and has_prev else None,
    )


def _after(field: str, anchor: tuple[Any, int], descending: bool) -> Q:
    """Rows strictly past (value, id) in the sort order.

    Written as `field <= v AND (field < v OR id < pk)` rather than the textbook
    `field < v OR (field = v AND id < pk)`: the first conjunct is a plain range the
    database serves from the (field, id) index, where the OR form makes SQLite scan.
    """
    value, pk = anchor
    op = "lt" if descending else "gt"
    return Q(**{f"{field}__{op}e": value}) & (Q(**{f"{field}__{op}": value}) | Q(**{f"id__{op}": pk}))


def _encode(row: Any, field: str, backwards: bool) -> str:
    value = getattr(row, field)
    if isinstance(value, dt.datetime | dt.date):
        value = value.isoformat()
    raw = json.dumps([1 if backwards else 0, value, row.pk], ensure_ascii=False)
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def _decode(cursor: str, is_datetime: bool) -> tuple[bool, tuple[Any, int]]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        backwards, value, pk = json.loads(base64.urlsafe_b64decode(padded))
        if is_datetime and value is not None:
            value = dt.datetime.fromisoformat(value)
        return bool(backwards), (value, int(pk))
    except (ValueError, TypeError) as exc:
        raise ValidationError({"cursor": [_("无效的分页游标")]}) from exc
