"""Merging a duplicate customer into a survivor (合并客户), and undoing the merge exactly.

The tables to move are not listed here: they are found from Django's model meta — every
concrete foreign key or one-to-one to `Customer` (`customer_relations`), history's
included, which this app may not import. Each gets one rule:

- `move`: every row of the duplicate goes to the survivor (communications, orders, needs,
  opportunities, surveys, tickets, contacts, transfers, and whatever later issues add);
- `unique`: the foreign key is part of a unique constraint (tags' through table): a row
  moves unless the survivor already holds its partner values, else it stays on the duplicate;
- `one`: a one-to-one (the preference): the survivor keeps its own unless the duplicate's
  was chosen; the losing row is kept whole in the merge record and deleted;
- the special cases of `SPECIAL`, by label.

Rows move with `QuerySet.update` of the one column, so nothing else about them changes
(version, updated_at): undo moves the same ids back and writes both customers' rows back
as they were, which leaves every table as before the merge (tests/customers/test_merge*).
The change log keeps both the merge and its undo.
"""

from __future__ import annotations

import datetime as dt
import decimal
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from django.db import models, transaction
from django.dispatch import Signal
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy

from kehu.accounts.models import User
from kehu.accounts.policy import access_for
from kehu.audit import services as audit
from kehu.audit.models import Action
from kehu.core.errors import Http404, PermissionDenied, ValidationError
from kehu.core.records import check_version, jsonable, log_change, record_update
from kehu.customers import cleaning
from kehu.customers.keys import keys_refresh
from kehu.customers.models import Contact, Customer, CustomField, MergeRecord
from kehu.customers.scoping import MANAGE, as_pk
from kehu.customers.searchindex import search_index_refresh
from kehu.customers.services import customer_update

SURVIVOR, DUPLICATE, UNION = "survivor", "duplicate", "union"
# Sent inside the merge's transaction (survivor_id, duplicate_id, actor, origin) for the
# rows a higher app keeps on the duplicate ("kept") and settles itself: follow-up's tasks.
customer_merged = Signal()
LIST_FIELDS = ("phones", "emails")
# The customer's own fields a merge decides, in the model's order; the rest (owner,
# provenance, pinyin and keys) is the survivor's or derived.
MERGE_FIELDS = tuple(f.name for f in Customer._meta.concrete_fields
                     if f.name in cleaning.CUSTOMER_FIELDS)

# Relations that need more than their generic rule, by "app.Model.field".
SPECIAL = {
    # One set of values per custom field: the chosen side's (the other is parked on the
    # duplicate, so undo only moves rows back).
    "customers.CustomValue.customer": "custom",
    # Derived from the customer and its contacts: rebuilt by keys_refresh afterwards.
    "customers.CustomerKey.customer": "rebuilt",
    # Figures computed from the customer's history: the merge announces the survivor, whose
    # figures and classes are worked out again (classification's refresh marks).
    "classification.CustomerFigures.customer": "rebuilt",
    # Unique per user, and never to the survivor's own owner (customer_share's rule).
    "customers.CustomerShare.customer": "shares",
    # Moved, then only the survivor's primary contact stays primary.
    "customers.Contact.customer": "contacts",
    # The merges themselves stay with the customers they name.
    "customers.MergeRecord.survivor": "kept",
    "customers.MergeRecord.duplicate": "kept",
    # Follow-up tasks stay with their customer (the timeline): the survivor may hold an open
    # plan task of its own (one per customer). Follow-up hears `customer_merged`, cancels the
    # duplicate's open tasks and plans the survivor afresh.
    "followup.FollowUpTask.customer": "kept",
    # A pool entry stays with the duplicate (in the recycle bin, out of every pool list): the
    # survivor, which the merging person manages, has an owner and so no place in a pool.
    "pool.PoolEntry.customer": "kept",
    # Consents move with the rest (rule "move", no special case): a survivor holding a live
    # and a withdrawn current row reads as withdrawn until someone asks again; undo moves
    # them back as they were (the state is read from the rows, nothing to rebuild).
}


@dataclass(frozen=True)
class Relation:
    """One foreign key to Customer and how a merge treats it."""

    model: type[models.Model]
    field: str  # the foreign key's attname (customer_id)
    label: str  # "app.Model.field"
    rule: str  # move | unique | one | custom | rebuilt | shares | contacts | kept
    partners: tuple[str, ...] = ()  # the other columns of its unique constraint
    accessor: str = ""  # a one-to-one's name on Customer (preference): its choice key

    @property
    def verbose(self) -> str:
        return str(TABLE_NAMES.get(self.model._meta.label, self.model._meta.verbose_name))


# What a person calls the rows of each table (the models carry no Chinese verbose names;
# history's are named here as text, this app may not import it).
TABLE_NAMES = {
    "customers.Customer_tags": _lazy("标签"), "customers.Contact": _lazy("联系人"),
    "customers.CustomerShare": _lazy("共享"), "customers.OwnershipTransfer": _lazy("转移记录"),
    "customers.CustomValue": _lazy("自定义字段"), "history.Communication": _lazy("跟进记录"),
    "history.Order": _lazy("订单"), "history.Preference": _lazy("偏好"),
    "history.Need": _lazy("需求"), "history.Opportunity": _lazy("商机"),
    "history.Survey": _lazy("满意度调查"), "history.Ticket": _lazy("工单"),
}


def customer_relations() -> list[Relation]:
    """Every concrete foreign key and one-to-one to Customer, with its rule."""
    found = []
    for rel in Customer._meta.get_fields(include_hidden=True):
        if not (rel.auto_created and not rel.concrete and (rel.one_to_many or rel.one_to_one)):
            continue
        model, field = rel.related_model, rel.field
        label = f"{model._meta.label}.{field.name}"
        partners = _unique_partners(model, field.name)
        rule = SPECIAL.get(label) or ("one" if rel.one_to_one else
                                      "unique" if partners else "move")
        accessor = rel.get_accessor_name() if rel.one_to_one else ""
        found.append(Relation(model, field.attname, label, rule, partners, accessor or ""))
    return found


def _unique_partners(model: type[models.Model], name: str) -> tuple[str, ...]:
    sets = [tuple(c.fields) for c in model._meta.constraints
            if isinstance(c, models.UniqueConstraint) and c.condition is None and c.fields]
    sets += [tuple(t) for t in model._meta.unique_together]
    for fields in sets:
        if name in fields and len(fields) > 1:
            return tuple(model._meta.get_field(f).attname for f in fields if f != name)
    return ()


# --- merge ---------------------------------------------------------------------------


@transaction.atomic
def customer_merge(
    *, actor: User, origin: str, survivor: Customer | int, duplicate: Customer | int,
    choices: dict[str, Any] | None = None, expected_versions: dict[int, int] | None = None,
) -> MergeRecord:
    """Merge `duplicate` into `survivor`: chosen field values, every related row moved,
    the duplicate to the recycle bin; both customers' history records it.

    Both through the gate with MANAGE: the merge deletes the duplicate and hands its
    shares to the survivor, which only someone whose own scope covers both owners may do
    (a share never reaches; out of scope is 404 as everywhere)."""
    may_merge(actor)
    s, d = _lock_pair(actor, survivor, duplicate)
    for customer in (s, d):
        check_version(customer, (expected_versions or {}).get(customer.pk))
    resolved = resolve_choices(s, d, choices or {})
    record = MergeRecord(survivor=s, duplicate=d, duplicate_name=d.name, actor=actor,
                         origin=origin, survivor_before=_dump(s), duplicate_before=_dump(d),
                         survivor_version=0, duplicate_version=0)
    data = _update_data(s, d, resolved["fields"])
    if data:  # nothing to change: no empty update in the survivor's history
        customer_update(actor=actor, customer=s, data=data, origin=origin)
    moved: dict[str, list[int]] = defaultdict(list)
    for relation in customer_relations():
        _MOVERS[relation.rule](relation, s, d, record, moved, resolved)
    record.moved = dict(moved)
    keys_refresh([s.pk, d.pk])
    search_index_refresh([s.pk, d.pk])
    counts = {label: len(ids) for label, ids in moved.items() if ids}
    record_update(actor=actor, instance=d, values={"deleted_at": timezone.now()}, origin=origin,
                  action="merge", after_save=lambda _d: {"merged_into": s.pk, "moved": counts})
    record.survivor_version = Customer._base_manager.get(pk=s.pk).version
    record.duplicate_version = d.version
    record.choices = jsonable(resolved["shown"])
    record.save()
    log_change(actor=actor, action="merge", instance=s, origin=origin,
               changes={"merged": d.pk, "name": d.name, "moved": counts,
                        "choices": record.choices, "merge": record.pk})
    customer_merged.send(sender=MergeRecord, survivor_id=s.pk, duplicate_id=d.pk, actor=actor,
                         origin=origin)
    audit.record(actor, Action.MERGED, customer_id=s.pk, label=f"{d.name} → {s.name}",
                 details={"survivor": s.pk, "duplicate": d.pk, "merge": record.pk,
                          "moved": counts, "origin": origin})
    return record


def may_merge(actor: User) -> None:
    """403 for a role that may not merge (the same answer for every pair: it tells nothing)."""
    if not access_for(actor).may_merge:
        raise PermissionDenied(_("你的角色不能合并客户"))


def _lock_pair(actor: User, survivor: Customer | int, duplicate: Customer | int
               ) -> tuple[Customer, Customer]:
    s_pk, d_pk = as_pk(survivor), as_pk(duplicate)
    if s_pk == d_pk:
        raise ValidationError({"duplicate": [_("不能把客户合并到它自己")]})
    locked = {pk: Customer.objects.get_for(actor, pk, MANAGE, lock=True)
              for pk in sorted((s_pk, d_pk))}  # one lock order, no deadlock between two merges
    return locked[s_pk], locked[d_pk]


def resolve_choices(s: Customer, d: Customer, choices: dict[str, Any]) -> dict[str, Any]:
    """Each decision as "survivor" | "duplicate" | "union" | a typed value, defaults filled in.

    Default: the non-empty value, else the newer customer's (updated_at); lists united;
    a one-to-one row: the survivor's if it has one."""
    fields = {f: choices.get(f, default_choice(f, s, d)) for f in MERGE_FIELDS}
    custom = {k: v for k, v in choices.items() if k.startswith("custom.")}
    ones = {r.accessor: choices.get(r.accessor, SURVIVOR) for r in customer_relations()
            if r.rule == "one"}
    unknown = set(choices) - set(fields) - set(custom) - set(ones)
    bad = [k for k, v in {**custom, **ones}.items() if v not in (SURVIVOR, DUPLICATE)]
    if unknown or bad:
        raise ValidationError({k: [_("不能合并这一项")] for k in sorted(unknown | set(bad))})
    return {"fields": fields, "custom": custom, "ones": ones,
            "shown": {**{f: fields[f] for f in fields if fields[f] != SURVIVOR}, **custom,
                      **{k: v for k, v in ones.items() if v != SURVIVOR}}}


def default_choice(field: str, s: Customer, d: Customer) -> str:
    a, b = getattr(s, field), getattr(d, field)
    if field in LIST_FIELDS:
        return UNION
    if _empty(b) or a == b:
        return SURVIVOR
    if _empty(a):
        return DUPLICATE
    return DUPLICATE if d.updated_at > s.updated_at else SURVIVOR


def _empty(value: Any) -> bool:
    return value is None or value == "" or value == []


def _update_data(s: Customer, d: Customer, fields: dict[str, Any]) -> dict[str, Any]:
    """What customer_update gets: only the fields that change, raw, so that a value typed
    by hand is cleaned exactly as the edit form's would be."""
    data = {}
    for field, choice in fields.items():
        if choice == SURVIVOR:
            continue
        if choice == DUPLICATE:
            value = getattr(d, field)
        elif choice == UNION and field in LIST_FIELDS:
            value = [*getattr(s, field), *(v for v in getattr(d, field)
                                          if v not in getattr(s, field))]
        else:
            value = choice
        if value != getattr(s, field):
            data[field] = value
    return data


# --- the movers: one per rule --------------------------------------------------------


def _rows_of(relation: Relation, customer: Customer) -> models.QuerySet:
    return relation.model._base_manager.filter(**{relation.field: customer.pk})


def _move_ids(relation: Relation, ids: list[int], to: Customer, record: MergeRecord,
              into: dict[str, list[int]]) -> None:
    if not ids:
        return
    if any(f.name == "version" for f in relation.model._meta.concrete_fields):
        versions = dict(relation.model._base_manager.filter(pk__in=ids)
                        .values_list("pk", "version"))
        record.versions.setdefault(relation.model._meta.label, {}).update(
            {str(pk): v for pk, v in versions.items()})
    relation.model._base_manager.filter(pk__in=ids).update(**{relation.field: to.pk})
    into[relation.label].extend(sorted(ids))


def _move_all(relation: Relation, s: Customer, d: Customer, record: MergeRecord,
              moved: dict, resolved: dict) -> None:
    ids = list(_rows_of(relation, d).values_list("pk", flat=True))
    _move_ids(relation, ids, s, record, moved)


def _move_unique(relation: Relation, s: Customer, d: Customer, record: MergeRecord,
                 moved: dict, resolved: dict, exclude: set[tuple] = frozenset()) -> None:
    taken = set(_rows_of(relation, s).values_list(*relation.partners)) | set(exclude)
    rows = _rows_of(relation, d).values_list("pk", *relation.partners)
    _move_ids(relation, [pk for pk, *key in rows if tuple(key) not in taken], s, record, moved)


def _move_shares(relation: Relation, s: Customer, d: Customer, record: MergeRecord,
                 moved: dict, resolved: dict) -> None:
    if s.owner_id is None:  # an ownerless survivor (a pool's) keeps no shares, as on a share
        return  # the duplicate's stay with it in the bin (an undo finds them there)
    _move_unique(relation, s, d, record, moved, resolved, exclude={(s.owner_id,)})


def _move_contacts(relation: Relation, s: Customer, d: Customer, record: MergeRecord,
                   moved: dict, resolved: dict) -> None:
    had_primary = Contact.objects.filter(customer=s, is_primary=True).exists()
    _move_all(relation, s, d, record, moved, resolved)
    if had_primary:
        demoted = Contact.objects.filter(pk__in=moved[relation.label], is_primary=True)
        record.demoted = sorted(demoted.values_list("pk", flat=True))
        demoted.update(is_primary=False)


def _move_one(relation: Relation, s: Customer, d: Customer, record: MergeRecord,
              moved: dict, resolved: dict) -> None:
    theirs = _rows_of(relation, d).first()
    if theirs is None:
        return
    ours = _rows_of(relation, s).first()
    if ours is not None:
        if resolved["ones"].get(relation.accessor) != DUPLICATE:
            return
        record.removed.append(_set_aside(relation, ours))
    _move_ids(relation, [theirs.pk], s, record, moved)


def _move_custom(relation: Relation, s: Customer, d: Customer, record: MergeRecord,
                 moved: dict, resolved: dict) -> None:
    """Per field: the duplicate's rows move where the survivor has none; where both have
    values, the chosen side's end on the survivor and the other side's on the duplicate."""
    def by_field(customer: Customer) -> dict[int, list[int]]:
        rows = defaultdict(list)
        for pk, field_id in _rows_of(relation, customer).values_list("pk", "field_id"):
            rows[field_id].append(pk)
        return rows

    ours, theirs = by_field(s), by_field(d)
    keys = dict(CustomField.objects.filter(pk__in=theirs).values_list("pk", "key"))
    parked: dict[str, list[int]] = defaultdict(list)
    for field_id, ids in theirs.items():
        if field_id in ours:
            choice = resolved["custom"].get(f"custom.{keys[field_id]}",
                                            DUPLICATE if d.updated_at > s.updated_at else SURVIVOR)
            if choice != DUPLICATE:
                continue
            _move_ids(relation, ours[field_id], d, record, parked)
        _move_ids(relation, ids, s, record, moved)
    record.parked = {**record.parked, **parked}


def _leave(*args: Any) -> None:
    """Rows that stay where they are (the merge records) or are rebuilt (match keys)."""


_MOVERS = {"move": _move_all, "unique": _move_unique, "one": _move_one, "custom": _move_custom,
           "shares": _move_shares, "contacts": _move_contacts, "rebuilt": _leave, "kept": _leave}


# --- undo ------------------------------------------------------------------------------


@transaction.atomic
def customer_merge_undo(*, actor: User, origin: str, merge: MergeRecord | int) -> MergeRecord:
    """Put everything back as it was before the merge: every moved row to the duplicate,
    the survivor's rows and fields restored, the duplicate out of the recycle bin.

    Refused, naming what changed, when the survivor or a moved row was edited since (its
    version), a moved row was deleted or moved on, or the duplicate was purged or restored."""
    may_merge(actor)
    record = MergeRecord.objects.get_for(actor, merge, MANAGE)  # 404 out of scope, 403 read-only
    s = Customer.objects.get_for(actor, record.survivor_id, MANAGE, lock=True)
    d = Customer._base_manager.select_for_update().filter(pk=record.duplicate_id).first()
    if d is not None and not _reaches_duplicate(actor, d):
        raise Http404  # the survivor is hers, the duplicate was another's she cannot manage
    _refuse_if_changed(record, s, d)
    relations = {r.label: r for r in customer_relations()}
    for label, ids in record.moved.items():
        _relation(relations, label).model._base_manager.filter(pk__in=ids) \
            .update(**{relations[label].field: d.pk})
    for label, ids in record.parked.items():
        _relation(relations, label).model._base_manager.filter(pk__in=ids) \
            .update(**{relations[label].field: s.pk})
    for item in record.removed:
        _put_back(item)
    Contact.objects.filter(pk__in=record.demoted).update(is_primary=True)
    for customer, before in ((s, record.survivor_before), (d, record.duplicate_before)):
        Customer._base_manager.filter(pk=customer.pk).update(**_load(Customer, before))
    keys_refresh([s.pk, d.pk])
    search_index_refresh([s.pk, d.pk])
    record.undone_at, record.undone_by = timezone.now(), actor
    record.save(update_fields=["undone_at", "undone_by"])
    for customer, other in ((s, d), (d, s)):
        log_change(actor=actor, action="merge_undo", instance=customer, origin=origin,
                   changes={"merge": record.pk, "other": other.pk})
    audit.record(actor, Action.MERGED, customer_id=s.pk, label=f"{s.name} ↛ {d.name}",
                 details={"survivor": s.pk, "duplicate": d.pk, "merge": record.pk,
                          "undo": True, "origin": origin})
    return record


def _reaches_duplicate(actor: User, d: Customer) -> bool:
    """Undo restores the duplicate: only who may restore it from the bin (or, once someone
    restored it, manage it) may undo."""
    return (Customer.objects.in_recycle_bin_of(actor).filter(pk=d.pk).exists()
            or Customer.objects.visible_to(actor, MANAGE).filter(pk=d.pk).exists())


def _relation(relations: dict[str, Relation], label: str) -> Relation:
    if label not in relations:  # a table the code no longer has
        raise ValidationError({"merge": [_("合并时的数据表已不存在，无法撤销")]})
    return relations[label]


def _refuse_if_changed(record: MergeRecord, s: Customer, d: Customer | None) -> None:
    if record.undone_at is not None:
        raise ValidationError({"merge": [_("这次合并已经撤销过了")]})
    if d is None:
        raise ValidationError({"merge": [_("被合并的客户“%(name)s”已被彻底删除，无法撤销合并")
                                         % {"name": record.duplicate_name}]})
    problems = []
    if s.version != record.survivor_version:
        problems.append(_("客户“%(name)s”在合并后被修改过") % {"name": s.name})
    if d.deleted_at is None or d.version != record.duplicate_version:
        problems.append(_("被合并的客户“%(name)s”已从回收站恢复或被修改过") % {"name": d.name})
    problems += _moved_rows_changed(record, s, d)
    if problems:
        raise ValidationError({"merge": [_("无法撤销合并：") + p for p in problems]})


def _moved_rows_changed(record: MergeRecord, s: Customer, d: Customer) -> list[str]:
    """Each moved or parked row that is gone, on another customer, or at a new version."""
    relations = {r.label: r for r in customer_relations()}
    problems = []
    for where, owner in ((record.moved, s), (record.parked, d)):
        for label, ids in where.items():
            relation = _relation(relations, label)
            rows = {row.pk: row for row in relation.model._base_manager.filter(pk__in=ids)}
            versions = record.versions.get(relation.model._meta.label, {})
            for pk in ids:
                row = rows.get(pk)
                what = {"kind": relation.verbose, "name": str(row) if row else f"#{pk}"}
                if row is None:
                    problems.append(_("%(kind)s“%(name)s”在合并后被删除了") % what)
                elif getattr(row, relation.field) != owner.pk:
                    problems.append(_("%(kind)s“%(name)s”在合并后被移到了别的客户") % what)
                elif str(pk) in versions and getattr(row, "version", None) != versions[str(pk)]:
                    problems.append(_("%(kind)s“%(name)s”在合并后被修改过") % what)
    return problems


# --- rows kept whole -------------------------------------------------------------------


def _set_aside(relation: Relation, row: models.Model) -> dict[str, Any]:
    """Delete a losing one-to-one row, keeping it (and its many-to-many rows) to put back."""
    model = relation.model
    links = {}
    for m2m in model._meta.many_to_many:
        through = m2m.remote_field.through
        column = m2m.m2m_field_name() + "_id"
        links[through._meta.label] = [_dump(t) for t in
                                      through._base_manager.filter(**{column: row.pk})]
    item = {"model": model._meta.label, "row": _dump(row), "links": links}
    model._base_manager.filter(pk=row.pk).delete()
    return item


def _put_back(item: dict[str, Any]) -> None:
    from django.apps import apps

    model = apps.get_model(item["model"])
    row = model(pk=item["row"]["id"], **_load(model, item["row"]))
    row.save_base(raw=True, force_insert=True)  # raw: updated_at and the rest as they were
    for label, rows in item["links"].items():
        through = apps.get_model(label)
        through._base_manager.bulk_create([through(pk=r["id"], **_load(through, r))
                                           for r in rows])


def _dump(row: models.Model) -> dict[str, Any]:
    """Every column of a row as JSON holds it exactly (times with microseconds and zone)."""
    return {f.attname: _encode(getattr(row, f.attname)) for f in row._meta.concrete_fields}


def _encode(value: Any) -> Any:
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return str(value)
    return value


def _load(model: type[models.Model], data: dict[str, Any]) -> dict[str, Any]:
    fields = {f.attname: f for f in model._meta.concrete_fields}
    return {name: value if isinstance(fields[name], models.JSONField)
            else fields[name].to_python(value)
            for name, value in data.items() if name in fields and name != "id"}
