"""Batched reads and writes for imports (issue 9): one query per batch, never per row.

`customers_bulk_create` is `customer_create` for a thousand rows at once: the rows come
cleaned by the same `cleaning` functions (the import calls them row by row, so a bad
value is refused exactly as in the web form), and the writes are set-based — customers,
contacts, tags, custom values, change log and match keys each one INSERT per batch.
Updates of matched customers go through `customer_update` row by row (the one write
path with its version check); undo of an import's creations through
`customers_bulk_remove`.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from itertools import groupby
from operator import itemgetter
from typing import Any

from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from kehu.accounts.models import User
from kehu.accounts.policy import access_for, covers_owner
from kehu.audit import services as audit
from kehu.audit.models import Action
from kehu.core.errors import PermissionDenied, ValidationError
from kehu.core.inserts import insert_dicts
from kehu.core.models import ChangeLog
from kehu.core.signals import announce_customers_changed
from kehu.customers.encryption import stored_key
from kehu.customers.keys import keys_refresh
from kehu.customers.models import (
    Contact,
    Customer,
    CustomerKey,
    CustomerShare,
    CustomField,
    CustomValue,
    OwnershipTransfer,
    Tag,
)
from kehu.customers.names import name_key
from kehu.customers.pinyin import name_pinyin
from kehu.customers.scoping import CHANGE, MANAGE
from kehu.customers.searchindex import customer_grams_text, search_index_write
from kehu.customers.selectors import attach_tags_and_custom
from kehu.customers.signals import announce_owners_changed

# Keys looked up per query: an import batch of 2,000 rows holds ~4,000, and SQLite binds
# at most 32,766 parameters (a sheet with many phones a row must not pass it).
KEYS_PER_QUERY = 10_000
# Rows that belong to a customer and go with it: what undo may remove along with it.
OWN_ROWS = frozenset({Contact, CustomValue, CustomerKey, Customer.tags.through})


@dataclass(frozen=True)
class Created:
    """A row `customers_bulk_create` wrote (version 1): a plain record, not a model instance
    (building those cost 130 µs a row in an import, profiled at 20,000 rows)."""

    pk: int
    name: str
    customer_id: int
    version: int = 1


@dataclass
class NewCustomer:
    """One customer to create: values already cleaned by `cleaning.clean_customer`."""

    values: dict[str, Any]
    owner_id: int
    tags: list[str] = field(default_factory=list)
    custom: dict[str, Any] = field(default_factory=dict)  # cleaned, {key: value or [values]}
    contact: dict[str, Any] | None = None  # cleaned by `cleaning.clean_contact`
    # name_key, name_pinyin, name_initials and the search grams, when prepared ahead
    # (`new_customer_prepare`); None: computed at the insert.
    derived: dict[str, str] | None = None
    grams: str | None = None  # space-separated, as customer_grams_text gives them


def keys_lookup(pairs: Iterable[tuple[str, str]], *, stored: bool = False
                ) -> dict[tuple[str, str], set[int]]:
    """(kind, value) -> ids of the live customers holding that key, for a whole batch.

    Values are normalised values as the cleaners give them; an encrypted kind's is looked up
    by its blind index and answered under the value asked for. With `stored`, values are
    `CustomerKey.value`s as read from the table (the duplicate finder's groups).

    No scope here on purpose: a match on a customer outside the importer's scope must be
    seen (and refused without revealing it), not mistaken for "no such customer"."""
    wanted: dict[str, dict[str, str]] = defaultdict(dict)  # kind -> stored -> asked
    for kind, value in pairs:
        if value:
            wanted[kind][value if stored else stored_key(kind, value)] = value
    found: dict[tuple[str, str], set[int]] = defaultdict(set)
    if not wanted:
        return found
    pairs = [(kind, value) for kind, values in wanted.items() for value in sorted(values)]
    for start in range(0, len(pairs), KEYS_PER_QUERY):
        for kind, value, customer_id in _keys_holders(pairs[start:start + KEYS_PER_QUERY]):
            found[(kind, wanted[kind].get(value, value))].add(customer_id)
    return found


def _keys_holders(pairs: list[tuple[str, str]]) -> list[tuple[str, str, int]]:
    """(kind, value, customer id) of the live customers holding these keys, in one query:
    plain SQL, as the ORM's filter prepared each value one by one (49,900 parameter
    resolutions for a 20,000-row import, profiled)."""
    where, params = [], []
    for kind, chunk in groupby(pairs, key=itemgetter(0)):
        values = [value for _kind, value in chunk]
        where.append(f"(k.kind = %s AND k.value IN ({', '.join(['%s'] * len(values))}))")
        params += [kind, *values]
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT k.kind, k.value, k.customer_id FROM {CustomerKey._meta.db_table} k"  # noqa: S608
            f" JOIN {Customer._meta.db_table} c ON c.id = k.customer_id"
            f" WHERE c.deleted_at IS NULL AND ({' OR '.join(where)})", params)
        return cursor.fetchall()


@transaction.atomic
def customers_bulk_create(*, actor: User, origin: str, items: list[NewCustomer],
                          note: dict[str, Any] | None = None
                          ) -> tuple[list[Created], list[Created]]:
    """Create cleaned customers (each with at most one contact) in a few set-based writes.

    `note` goes into every change-log row (the import's id). Owners must lie in the
    actor's own scope, as in `customer_create`."""
    access = access_for(actor)
    if not access.can_write:
        raise PermissionDenied(_("你只有查看权限"))
    if any(not covers_owner(access, owner) for owner in {i.owner_id for i in items}):
        raise ValidationError({"owner": [_("只能把客户分配给你管辖范围内的同事")]})
    rows = [_customer(item, actor, origin) for item in items]
    customers = [Created(pk, row["name"], pk)
                 for pk, row in zip(insert_dicts(Customer, rows), rows, strict=True)]
    contact_rows = [{"customer_id": c.pk, "is_primary": True, **i.contact,
                     "created_by_id": actor.pk, "origin": origin}
                    for c, i in zip(customers, items, strict=True) if i.contact]
    contacts = [Created(pk, row["name"], row["customer_id"])
                for pk, row in zip(insert_dicts(Contact, contact_rows), contact_rows, strict=True)]
    _add_tags(customers, items)
    _add_custom_values(customers, items)
    extra = note or {}
    log = {"actor_id": actor.pk, "origin": origin, "action": "create"}
    insert_dicts(ChangeLog, [
        *({**log, "model": "customers.customer", "object_id": c.pk, "customer_id": c.pk,
           "changes": {"name": [None, c.name], **extra}} for c in customers),
        *({**log, "model": "customers.contact", "object_id": t.pk,
           "customer_id": t.customer_id, "changes": {"name": [None, t.name], **extra}}
          for t in contacts)])
    keys_refresh(c.pk for c in customers)
    search_index_write(_grams(customers, items, rows))
    announce_customers_changed(c.pk for c in customers)
    return customers, contacts


def new_customer_prepare(item: NewCustomer) -> None:
    """Compute what the insert derives from a cleaned customer — name key, pinyin and its
    search grams — ahead of `customers_bulk_create`, with no query: the import does it in
    its cleaning process (`core.forked`), so the writer only stores them. A caller that
    changes the values afterwards sets `derived` and `grams` back to None."""
    item.derived = _derived(item.values)
    item.grams = customer_grams_text(*_gram_values({**item.values, **item.derived},
                                                  [item.contact] if item.contact else []))


def _derived(values: dict[str, Any]) -> dict[str, str]:
    pinyin, initials = name_pinyin(values["name"], is_person=values["kind"] == "person")
    return {"name_key": name_key(values["name"]), "name_pinyin": pinyin,
            "name_initials": initials}


def _gram_values(row: dict[str, Any], contacts: list[dict[str, Any]]
                 ) -> tuple[tuple, list[tuple]]:
    """A customer row and its contacts' as `customer_grams_text` takes them (a column a
    row leaves out holds its default, '' or [])."""
    return ((row["kind"], row["name"], row.get("short_name") or "", row["name_pinyin"],
             row["name_initials"], row.get("phones") or [], row.get("emails") or [],
             row.get("wechat") or "", row.get("id_number") or ""),
            [(c["name"], c.get("phones") or [], c.get("email") or "", c.get("wechat") or "")
             for c in contacts])


def _grams(customers: list[Created], items: list[NewCustomer], rows: list[dict[str, Any]]
           ) -> list[tuple[int, str]]:
    """Each new customer's grams: as prepared, or computed from the row just inserted."""
    return [(c.pk, item.grams if item.grams is not None
             else customer_grams_text(*_gram_values(row, [item.contact] if item.contact else [])))
            for c, item, row in zip(customers, items, rows, strict=True)]


def _customer(item: NewCustomer, actor: User, origin: str) -> dict[str, Any]:
    return {**item.values, **(item.derived or _derived(item.values)), "owner_id": item.owner_id,
            "created_by_id": actor.pk, "origin": origin}


def _add_tags(customers: list[Customer], items: list[NewCustomer]) -> None:
    names = sorted({n for i in items for n in i.tags})
    if not names:
        return
    Tag.objects.bulk_create([Tag(name=n) for n in names], ignore_conflicts=True)
    ids = dict(Tag.objects.filter(name__in=names).values_list("name", "pk"))
    through = Customer.tags.through
    through.objects.bulk_create(
        [through(customer_id=c.pk, tag_id=ids[n])
         for c, i in zip(customers, items, strict=True) for n in dict.fromkeys(i.tags)],
        batch_size=500)


def _add_custom_values(customers: list[Customer], items: list[NewCustomer]) -> None:
    keys = {k for i in items for k in i.custom}
    if not keys:
        return
    fields = {f.key: f for f in CustomField.objects.filter(key__in=keys)}
    rows = []
    for customer, item in zip(customers, items, strict=True):
        for key, value in item.custom.items():
            for one in value if isinstance(value, list) else [value]:
                if one is not None:
                    rows.append(CustomValue(customer_id=customer.pk, field=fields[key],
                                            **{fields[key].value_column: one}))
    CustomValue.objects.bulk_create(rows, batch_size=500)


@transaction.atomic
def customers_bulk_remove(*, actor: User, origin: str, versions: dict[int, int],
                          contacts: Iterable[int] = (), note: dict[str, Any] | None = None) -> int:
    """Delete for good customers an import created — undo, not the recycle bin.

    All or nothing: refused, naming each customer, when one was changed since
    (`versions`: id -> the version the import left), is out of the actor's reach, or has
    rows of its own that the import did not write (a call logged, a contact added:
    `contacts` are the contact ids the import created)."""
    ids = sorted(versions)
    found = {c.pk: c for c in Customer.objects.visible_to(actor, MANAGE).filter(pk__in=ids)
             .select_for_update()}
    problems = [_("客户 #%(id)s 已不在你的管辖范围内或已删除") % {"id": pk}
                for pk in ids if pk not in found]
    problems += [_("“%(name)s”在导入后被修改过") % {"name": c.name}
                 for pk, c in found.items() if c.version != versions[pk]]
    problems += _rows_added_since(found, set(contacts))
    if problems:
        raise ValidationError({"undo": problems})
    extra = note or {}
    ChangeLog.objects.bulk_create(
        [ChangeLog(actor=actor, origin=origin, action="remove", model="customers.customer",
                   object_id=c.pk, customer_id=c.pk, changes={"name": [c.name, None], **extra})
         for c in found.values()], batch_size=500)
    for start in range(0, len(ids), 500):
        Customer.objects.filter(pk__in=ids[start:start + 500]).delete()
    audit.record(actor, Action.DELETED, label=_("删除 %(n)s 个客户") % {"n": len(ids)},
                 details={"customers": ids[:1000], "count": len(ids), "permanent": True,
                          "origin": origin, "note": extra})
    return len(ids)


def _rows_added_since(customers: dict[int, Customer], own_contacts: set[int]) -> list[str]:
    """Names of customers that hold rows other than the import's own (history, shares…)."""
    busy: set[int] = set()
    ids = list(customers)
    for relation in Customer._meta.related_objects:
        model = relation.related_model
        if model in OWN_ROWS or not hasattr(relation, "field"):
            continue
        column = relation.field.name
        for start in range(0, len(ids), 500):
            busy.update(model._default_manager.filter(
                **{f"{column}__in": ids[start:start + 500]}).values_list(column, flat=True))
    for start in range(0, len(ids), 500):
        chunk = ids[start:start + 500]
        busy.update(Contact.objects.filter(customer_id__in=chunk)
                    .exclude(pk__in=own_contacts).values_list("customer_id", flat=True))
    return [_("“%(name)s”在导入后有了新的记录（联系人、沟通、订单等）") % {"name": customers[pk].name}
            for pk in sorted(busy)]


def customers_for_import(*, actor: User, ids: Iterable[int]) -> dict[int, Customer]:
    """The matched customers `actor` may change, with tags, custom values and contacts, to
    compare a batch's rows against. Not masked: the values are compared, never shown."""
    wanted = sorted(set(ids))
    found: dict[int, Customer] = {}
    for start in range(0, len(wanted), 500):
        rows = list(Customer.objects.visible_to(actor, CHANGE)
                    .filter(pk__in=wanted[start:start + 500]).prefetch_related("contacts"))
        attach_tags_and_custom(rows)
        found.update((c.pk, c) for c in rows)
    return found


def current_versions(*, viewer: User, model: str,
                     ids: Iterable[int]) -> dict[int, tuple[int, str | None]]:
    """id -> (version, name) of the customers or contacts ("customers.customer" /
    "customers.contact") that still exist, for undo to name every record changed since
    before it touches any. The name is None where the record left `viewer`'s scope."""
    table = {"customers.customer": Customer, "customers.contact": Contact}[model]
    wanted = sorted(set(ids))
    versions: dict[int, tuple[int, str | None]] = {}
    for start in range(0, len(wanted), 500):
        chunk = wanted[start:start + 500]
        names = dict(table.objects.visible_to(viewer).filter(pk__in=chunk)
                     .values_list("pk", "name"))
        versions.update((pk, (version, names.get(pk))) for pk, version in
                        table.objects.filter(pk__in=chunk).values_list("pk", "version"))
    return versions


def contact_customers(ids: Iterable[int]) -> dict[int, int]:
    """contact id -> its customer's id, for the contacts that still exist."""
    wanted = sorted(set(ids))
    found: dict[int, int] = {}
    for start in range(0, len(wanted), 500):
        found.update(Contact.objects.filter(pk__in=wanted[start:start + 500])
                     .values_list("pk", "customer_id"))
    return found


def customer_references(*, actor: User, refs: Iterable[tuple[str, str]]
                        ) -> dict[tuple[str, str], dict[int, str]]:
    """(kind, value) -> {id: name} of the customers `actor` may change that a history sheet
    names: by exact name ("name"), or by a normalised phone or credit code (the match keys).

    Through the gate (CHANGE): a customer out of scope is not found, exactly as one that
    does not exist, so an import of orders never says whose a number or a name is.
    """
    wanted: dict[str, set[str]] = defaultdict(set)
    for kind, value in refs:
        if value:
            wanted[kind].add(value)
    by_key = keys_lookup((k, v) for k, vs in wanted.items() if k != "name" for v in vs)
    ids = sorted({i for found in by_key.values() for i in found})
    visible = Customer.objects.visible_to(actor, CHANGE)
    names: dict[int, str] = {}
    for start in range(0, len(ids), 500):
        names.update(visible.filter(pk__in=ids[start:start + 500]).values_list("pk", "name"))
    result: dict[tuple[str, str], dict[int, str]] = defaultdict(dict)
    for key, found in by_key.items():
        result[key] = {i: names[i] for i in sorted(found) if i in names}
    wanted_names = sorted(wanted.get("name", ()))
    for start in range(0, len(wanted_names), 500):  # the index cust_name_live serves it
        for pk, name in (visible.filter(name__in=wanted_names[start:start + 500])
                         .values_list("pk", "name")):
            result[("name", name)][pk] = name
    return result


def contacts_by_name(customer_ids: Iterable[int]) -> dict[tuple[int, str], int]:
    """(customer id, contact name) -> contact id, for the customers a batch names (the
    caller found them through the gate); the earliest contact wins a repeated name."""
    wanted = sorted(set(customer_ids))
    found: dict[tuple[int, str], int] = {}
    for start in range(0, len(wanted), 500):
        for pk, customer_id, name in (Contact.objects
                                      .filter(customer_id__in=wanted[start:start + 500])
                                      .order_by("id").values_list("pk", "customer_id", "name")):
            found.setdefault((customer_id, name), pk)
    return found


def customers_owner_set(*, actor: User | None, origin: str, owners: dict[int, int | None],
                        to_user_id: int | None, reason: str = "") -> int:
    """Give customers a new owner — or none (`to_user_id` None) — for a caller that has
    decided by rules of its own that they may move: the customer pool (released to the
    pool, reclaimed by its job, claimed by a member, assigned by a manager), whose claimant
    cannot pass the org-chart gate for a customer nobody owns. `owners` maps each customer
    id to its owner as the caller locked or selected it. Set-based for the nightly
    reclaim: per 500 customers one INSERT of transfer records, one of change-log rows and
    one UPDATE. Runs in the caller's transaction, which `signals.owners_changed`'s
    receivers join. Returns how many moved."""
    moved = sorted(pk for pk, owner in owners.items() if owner != to_user_id)
    now = timezone.now()
    for start in range(0, len(moved), 500):
        chunk = moved[start:start + 500]
        OwnershipTransfer.objects.bulk_create(
            OwnershipTransfer(customer_id=pk, from_user_id=owners[pk], to_user_id=to_user_id,
                              actor=actor, reason=reason[:255]) for pk in chunk)
        Customer.objects.filter(pk__in=chunk).update(owner_id=to_user_id, updated_at=now,
                                                     version=F("version") + 1)
        ChangeLog.objects.bulk_create(
            ChangeLog(actor=actor, origin=origin, action="transfer", model="customers.customer",
                      object_id=pk, customer_id=pk,
                      changes={"owner": [owners[pk], to_user_id], "reason": reason})
            for pk in chunk)
    announce_owners_changed(ids=moved, to_user_id=to_user_id, actor=actor, origin=origin,
                            reason=reason)
    announce_customers_changed(moved)
    return len(moved)


def customers_shares_end(*, actor: User | None, origin: str, customer_ids: Iterable[int],
                         reason: str = "") -> dict[int, int]:
    """End every share (running or not) of these customers, for a caller that has decided
    they may no longer be shared: the pool, releasing or reclaiming them — a share is the
    owner's side's grant, and a pool customer is masked for all but admins, which an old
    share to someone outside the pool would not be. One change-log row per share ended
    (as `customer_unshare` writes, with the reason); per 500 customers one SELECT, one
    DELETE and one INSERT. Runs in the caller's transaction. Returns {customer id: shares
    ended} for the customers that had any."""
    wanted = sorted(set(customer_ids))
    ended: dict[int, int] = defaultdict(int)
    for start in range(0, len(wanted), 500):
        shares = CustomerShare.objects.filter(customer_id__in=wanted[start:start + 500])
        pairs = list(shares.order_by("customer_id", "user_id").values_list("customer_id", "user_id"))
        if not pairs:
            continue
        shares.delete()
        ChangeLog.objects.bulk_create(
            ChangeLog(actor=actor, origin=origin, action="unshare", model="customers.customer",
                      object_id=pk, customer_id=pk,
                      changes={"shared_with": user_id, "reason": reason})
            for pk, user_id in pairs)
        for pk, _user_id in pairs:
            ended[pk] += 1
    return dict(ended)
