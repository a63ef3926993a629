"""Reads for the merge page: two customers side by side, what differs, what will move.

Both customers through the gate with MANAGE, like the merge itself (404 out of scope,
403 for a read-only role). The defaults shown are the merge's own (`merging.default_choice`),
so what the page preselects is what a merge without choices would do.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db.models import QuerySet
from django.utils.translation import gettext as _

from kehu.accounts.models import User
from kehu.accounts.policy import access_for
from kehu.core.views import display_phone
from kehu.customers import selectors
from kehu.customers.merging import (
    DUPLICATE,
    LIST_FIELDS,
    MERGE_FIELDS,
    SURVIVOR,
    UNION,
    customer_relations,
    default_choice,
)
from kehu.customers.models import Customer, CustomField, MergeRecord
from kehu.customers.scoping import MANAGE, VIEW

# Fields a person may also type a value for by hand (free text).
TYPED_FIELDS = frozenset({"name", "short_name", "province", "city", "district", "address",
                          "wechat", "notes"})


@dataclass
class FieldRow:
    """One differing field: its label, both values as shown, the options and the default."""

    key: str
    label: str
    ours: str
    theirs: str
    default: str
    options: list[tuple[str, str]]
    typed: bool = False
    chosen: str = ""  # what the page shows checked (set by the view)
    typed_value: str = ""


@dataclass
class MergePreview:
    survivor: Customer
    duplicate: Customer
    rows: list[FieldRow] = field(default_factory=list)
    same: int = 0  # fields both hold alike (not shown)
    moves: list[tuple[str, int]] = field(default_factory=list)  # (table, rows of the duplicate)


def merge_preview(*, viewer: User, survivor: int, duplicate: int) -> MergePreview:
    s = selectors.customer_get(viewer=viewer, pk=survivor, action=MANAGE)
    d = selectors.customer_get(viewer=viewer, pk=duplicate, action=MANAGE)
    preview = MergePreview(s, d)
    for name in MERGE_FIELDS:
        a, b = getattr(s, name), getattr(d, name)
        if a == b or (not a and not b):
            preview.same += 1
            continue
        preview.rows.append(_field_row(s, d, name))
    preview.rows += _custom_rows(s, d)
    preview.rows += _one_to_one_rows(s, d)
    preview.moves = _moves(s, d)
    return preview


def _field_row(s: Customer, d: Customer, name: str) -> FieldRow:
    label = str(Customer._meta.get_field(name).verbose_name)
    options = [(SURVIVOR, _("保留")), (DUPLICATE, _("采用被合并的"))]
    if name in LIST_FIELDS:
        options.append((UNION, _("合并两者")))
    return FieldRow(name, label, _shown(s, name), _shown(d, name), default_choice(name, s, d),
                    options, typed=name in TYPED_FIELDS)


def _custom_rows(s: Customer, d: Customer) -> list[FieldRow]:
    """Custom fields both customers hold with different values (one only: it just moves)."""
    ours, theirs = selectors.custom_values_by_key(s), selectors.custom_values_by_key(d)
    rows = []
    for custom in CustomField.objects.filter(key__in=set(ours) & set(theirs)).order_by("position"):
        a, b = ours[custom.key], theirs[custom.key]
        if a == b:
            continue
        newer = DUPLICATE if d.updated_at > s.updated_at else SURVIVOR
        rows.append(FieldRow(f"custom.{custom.key}", custom.label, _text(a), _text(b), newer,
                             [(SURVIVOR, _("保留")), (DUPLICATE, _("采用被合并的"))]))
    return rows


def _one_to_one_rows(s: Customer, d: Customer) -> list[FieldRow]:
    """A one-to-one row (the preference) both customers have: which one survives."""
    rows = []
    for relation in customer_relations():
        if relation.rule != "one":
            continue
        rows_of = relation.model._base_manager.filter
        if rows_of(**{relation.field: s.pk}).exists() and rows_of(**{relation.field: d.pk}).exists():
            rows.append(FieldRow(relation.accessor, relation.verbose, _("已填写"), _("已填写"),
                                 SURVIVOR, [(SURVIVOR, _("保留")), (DUPLICATE, _("采用被合并的"))]))
    return rows


def _moves(s: Customer, d: Customer) -> list[tuple[str, int]]:
    """How many rows of each table will follow the duplicate whatever is chosen: not a tag
    or share the survivor already has, nor a custom value or preference both hold (those
    are the choices above)."""
    moves = []
    for relation in customer_relations():
        if relation.rule in ("kept", "rebuilt") or (relation.rule == "shares"
                                                      and s.owner_id is None):
            continue  # an ownerless survivor takes no shares (merging._move_shares)
        theirs = relation.model._base_manager.filter(**{relation.field: d.pk})
        ours = relation.model._base_manager.filter(**{relation.field: s.pk})
        if relation.partners:
            taken = set(ours.values_list(*relation.partners))
            if relation.rule == "shares":
                taken.add((s.owner_id,))
            count = sum(tuple(key) not in taken for key in theirs.values_list(*relation.partners))
        elif relation.rule == "custom":
            count = theirs.exclude(field_id__in=ours.values("field_id")).count()
        elif relation.rule == "one":
            count = 0 if ours.exists() else theirs.count()
        else:
            count = theirs.count()
        if count:
            moves.append((relation.verbose, count))
    return moves


def _shown(customer: Customer, name: str) -> str:
    value = getattr(customer, name)
    if name == "phones":
        return "、".join(display_phone(p) for p in value)
    display = getattr(customer, f"get_{name}_display", None)
    if display is not None and value:
        return str(display())
    return _text(value)


def _text(value: Any) -> str:
    if isinstance(value, list):
        return "、".join(_text(v) for v in value)
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")
    if isinstance(value, dt.date):
        return value.isoformat()
    return "" if value is None else str(value)


def merge_get(*, viewer: User, pk: int) -> MergeRecord:
    """One merge the viewer may see (through its survivor), with both customers joined."""
    return MergeRecord.objects.select_related("survivor", "duplicate", "actor") \
        .get_for(viewer, pk, VIEW)


def merge_can_undo(*, viewer: User, record: MergeRecord) -> bool:
    """Whether to offer 撤销合并 (to show a button, never to guard: the service checks)."""
    if record.undone_at is not None or record.duplicate_id is None \
            or not access_for(viewer).may_merge:
        return False
    customers = Customer.objects
    return (customers.visible_to(viewer, MANAGE).filter(pk=record.survivor_id).exists()
            and (customers.in_recycle_bin_of(viewer).filter(pk=record.duplicate_id).exists()
                 or customers.visible_to(viewer, MANAGE).filter(pk=record.duplicate_id).exists()))


def merges_into(*, viewer: User, duplicate_ids: list[int]) -> dict[int, MergeRecord]:
    """{duplicate id: the merge that put it in the bin} — the bin's pointer to the survivor."""
    qs: QuerySet[MergeRecord] = MergeRecord.objects.visible_to(viewer) \
        .filter(duplicate_id__in=duplicate_ids, undone_at__isnull=True).select_related("survivor")
    return {m.duplicate_id: m for m in qs.order_by("at", "id")}


def moved_counts(record: MergeRecord) -> list[tuple[str, int]]:
    """What a merge moved, per table, as a person names them."""
    names = {r.label: r.verbose for r in customer_relations()}
    return [(names.get(label, label), len(ids)) for label, ids in record.moved.items() if ids]
