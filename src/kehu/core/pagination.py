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

from django.core.exceptions import FieldDoesNotExist, ValidationError
from django.db import connections
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from kehu.core.inputs import INT64_MAX, string_problem

# Our own cursors are well under 200 characters; anything much longer is not one of them.
MAX_CURSOR_LENGTH = 512


@dataclass(frozen=True)
class Page:
    items: list[Any]
    next_cursor: str | None
    prev_cursor: str | None


def paginate(
    qs: QuerySet, *, sort: str, cursor: str | None, limit: int, datetime_fields: set[str],
    branches: list[Q] | None = None, branch_base: QuerySet | None = None,
) -> Page:
    """One page of `qs` ordered by `sort` ("name" or "-name"), after or before `cursor`.

    `branches` (filters whose union holds every row of `qs`, each served by an index in the
    sort order) make the page from each branch's first rows: see `_branch_rows`. They are
    read from `branch_base` when given: `qs` without its scope test, which the branches
    are, so that the test is not written twice into each branch's query."""
    field = sort.lstrip("-")
    descending = sort.startswith("-")
    backwards, anchor = (_decode(cursor, qs, field, field in datetime_fields) if cursor
                         else (False, None))
    forward_desc = descending != backwards
    if anchor is not None:
        qs = qs.filter(_after(field, anchor, forward_desc))
        if branch_base is not None:
            branch_base = branch_base.filter(_after(field, anchor, forward_desc))
    order = [f"-{field}", "-id"] if forward_desc else [field, "id"]
    if branches:
        rows = _branch_rows(qs, branches, field, order, limit + 1, branch_base)
    else:
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


def _branch_rows(qs: QuerySet, branches: list[Q], field: str, order: list[str], count: int,
                 base: QuerySet | None = None) -> list[Any]:
    """The first `count` rows of `qs` in `order`, read branch by branch (from `base`).

    Each branch gives its own first `count` (sort value, id) pairs — a short range of an
    index — and the best `count` of all of them are the page: the rows are then read by id,
    through `qs`. A small team's page costs owners × page rows this way instead of every row
    the team owns (scope_plans). Branches may overlap (a shared customer the viewer also
    owns): the ids are made unique before the page is cut.

    Why `base`: a branch `owner_id = 114` that also carries the scope's own test
    (`owner_id + 0 IN (…12 owners)`) made PostgreSQL multiply both into a row estimate 15
    times too small, and read each owner's rows through a bitmap and sort them all instead
    of walking the owner's index to the first matches (a department's filtered page).
    """
    base = qs if base is None else base
    parts = [base.filter(branch).order_by(*order).values_list(field, "id")[:count]
             for branch in branches]
    if len(parts) > 1 and connections[qs.db].features.supports_slicing_ordering_in_compound:
        # One statement on PostgreSQL: a round trip and a plan per branch cost ~1 ms there (a
        # department of 11 reps: 13 queries). SQLite cannot slice inside a UNION, and its
        # queries cost no round trip.
        # Cut in the database: the branches' best `count` of all, sorted there (a merge of
        # the branches' index ranges), not every branch's `count` rows sent and parsed (a
        # department of 11 reps: 51 rows instead of 561). UNION, not UNION ALL: a row two
        # branches hold (a shared customer the viewer also owns) must count once, or the
        # page would come out short.
        pairs = list(parts[0].union(*parts[1:]).order_by(*order)[:count])
    else:
        pairs = [pair for part in parts for pair in part]
    keyed = {pk: (value, pk) for value, pk in pairs}
    descending = order[0].startswith("-")
    best = sorted(keyed.values(), reverse=descending)[:count]
    rows = {row.pk: row for row in qs.filter(pk__in=[pk for _value, pk in best])}
    return [rows[pk] for _value, pk in best if pk in rows]


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


def _decode(cursor: str, qs: QuerySet, field: str, is_datetime: bool) -> tuple[bool, tuple[Any, int]]:
    """(backwards, (sort value, id)) from one of our cursors; a 422 on "cursor" for anything else."""
    backwards, value, pk = decode_cursor_values(cursor, 3)
    if backwards not in (0, 1) or isinstance(backwards, bool) or not _is_id(pk):
        raise invalid_cursor()
    if value is None:
        raise invalid_cursor()
    value = cursor_moment(value) if is_datetime else _as_column_value(qs, field, value)
    return bool(backwards), (value, pk)


def invalid_cursor() -> ValidationError:
    return ValidationError({"cursor": [_("无效的分页游标")]})


def decode_cursor_values(cursor: Any, count: int) -> list[Any]:
    """The `count` flat JSON scalars a cursor encodes, or a ValidationError on "cursor".

    Whatever a client sends instead of a cursor we gave out — too long, not base64,
    not JSON, nested, of another length, a number wider than 64 bits, a string no
    column can hold — is refused here, before anything reaches a query.
    """
    if not isinstance(cursor, str) or not cursor or len(cursor) > MAX_CURSOR_LENGTH:
        raise invalid_cursor()
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        values = json.loads(base64.urlsafe_b64decode(padded.encode("ascii")))
    except (ValueError, TypeError, RecursionError) as exc:  # binascii and Unicode errors are ValueErrors
        raise invalid_cursor() from exc
    if not isinstance(values, list) or len(values) != count or not all(map(_is_scalar, values)):
        raise invalid_cursor()
    return values


def cursor_moment(value: Any) -> dt.datetime:
    """An aware datetime from a cursor's ISO text, one the database and the local time zone can hold."""
    try:
        moment = dt.datetime.fromisoformat(value) if isinstance(value, str) else None
        if moment is None or timezone.is_naive(moment):
            raise ValueError(value)
        moment.astimezone(dt.UTC)
        timezone.localtime(moment)
    except (ValueError, TypeError, OverflowError) as exc:
        raise invalid_cursor() from exc
    return moment


def _as_column_value(qs: QuerySet, field: str, value: Any) -> Any:
    """The cursor's sort value as the column's type (a text for a number column is refused)."""
    try:
        column = qs.model._meta.get_field(field)
    except FieldDoesNotExist:
        return value
    try:
        converted = column.to_python(value)
        column.get_prep_value(converted)
    except (ValidationError, ValueError, TypeError, OverflowError) as exc:
        raise invalid_cursor() from exc
    if converted is None:
        raise invalid_cursor()
    return converted


def _is_id(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 < value <= INT64_MAX


def _is_scalar(value: Any) -> bool:
    if value is None or isinstance(value, bool):
        return True
    if isinstance(value, int):
        return -INT64_MAX <= value <= INT64_MAX
    if isinstance(value, float):
        return value == value and abs(value) != float("inf")
    if isinstance(value, str):
        return string_problem(value) is None
    return False
