"""Reads of customer data on behalf of a viewer. Every one starts from `visible_to`."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from decimal import Decimal
from itertools import islice
from typing import Any

from django.db import connection
from django.db.models import OuterRef, Q, QuerySet, Subquery
from django.db.models.lookups import IsNull

from kehu.accounts.models import User
from kehu.accounts.policy import access_for
from kehu.core.masking import mask_value
from kehu.core.pagination import Page, paginate
from kehu.core.rows import Row, as_rows
from kehu.customers.filters import CustomerFilters
from kehu.customers.models import (
    Contact,
    Customer,
    CustomerShare,
    CustomField,
    OwnershipTransfer,
    Tag,
)
from kehu.customers.ranking import explain, ranked_page
from kehu.customers.scope_plans import live_customers
from kehu.customers.scoping import MANAGE, VIEW, page_branches, scope_reach
from kehu.customers.search import search_filter
from kehu.customers.sensitive import (
    CONTACT_SENSITIVE,
    CUSTOMER_SENSITIVE,
    customers_masked_for,
    mask_sensitive_custom,
    masked_customer_queries,
    masked_fields,
)

__all__ = ["CONTACT_SENSITIVE", "CUSTOMER_SENSITIVE"]  # the table lives in customers.sensitive


def customers_visible(*, viewer: User, action: str = VIEW) -> QuerySet[Customer]:
    return Customer.objects.visible_to(viewer, action)


def customer_list(
    *, viewer: User, filters: CustomerFilters, cursor: str | None = None, limit: int = 50,
    within: QuerySet | None = None,
) -> Page:
    """One keyset page of the viewer's customers. A quick search without a sort asked for
    comes best match first (customers.ranking); with a search, each row carries `matched`
    (why it was found, as the viewer may see it). `within` (a subquery of customer ids)
    narrows the list further: another app's list of customers (the pool) with this one's
    search, filters, paging and masking."""
    return _customer_page(viewer, filters, cursor, limit, within, rows=False)


def customer_rows(
    *, viewer: User, filters: CustomerFilters, cursor: str | None = None, limit: int = 50,
    within: QuerySet | None = None,
) -> Page:
    """`customer_list`'s page (the same rows, order, cursors and finishing) as `CustomerRow`s:
    the columns the API shows, not model instances — for readers that only serialise them."""
    return _customer_page(viewer, filters, cursor, limit, within, rows=True)


# The columns of a customer that the API's customer_dict shows, and those quick search's
# explanation (ranking.explain) reads besides: what a CustomerRow holds.
ROW_FIELDS = (
    "id", "kind", "name", "short_name", "industry", "company_size", "province", "city",
    "district", "region_code", "address", "phones", "emails", "wechat", "gender", "birthday", "credit_code",
    "id_number", "source", "owner_id", "notes", "origin", "version", "created_at", "updated_at",
)
SEARCH_ROW_FIELDS = ("name_initials", "name_pinyin")


class CustomerRow(Row):
    """A customer of a list page as plain values (ROW_FIELDS), finished like an instance:
    `owner`, `tag_names`, `custom`, masking. A row is read-only by construction (no `save`).
    Of the 2.64 ms the admin's first page took (selector and serialisation, 100,000 demo
    customers), rows instead of instances saved 0.35 ms and `RowOwner`s 0.16 ms more."""

    owner: RowOwner | None = None  # attach_owners sets it on rows that have one


@dataclass(frozen=True, slots=True)
class RowOwner:
    """A row's owner as the list shows them: what `attach_owners` reads, and `label` as
    `User.label` gives it, without a user instance (some 20 µs each)."""

    pk: int
    username: str
    display_name: str

    @property
    def label(self) -> str:
        return self.display_name or self.username

    def __str__(self) -> str:
        return self.label


def _filtered(viewer: User, filters: CustomerFilters, within: QuerySet | None,
              base: QuerySet) -> QuerySet:
    """`base` narrowed as the list narrows it (`within`, the filters, the quick search unless
    the list ranks it itself)."""
    if within is not None:
        base = base.filter(pk__in=within)
    if filters.q:  # customers a rule masks (the pool's) match a search on a complete value only
        for ids in masked_customer_queries(viewer):
            base = base.filter(~Q(pk__in=ids) | search_filter(filters.q, masked=CUSTOMER_SENSITIVE))
    return filters.apply(base, viewer=viewer, search=not filters.ranked)


def _customer_page(viewer: User, filters: CustomerFilters, cursor: str | None, limit: int,
                   within: QuerySet | None, *, rows: bool) -> Page:
    masked = masked_fields(viewer, CUSTOMER_SENSITIVE)
    qs = _filtered(viewer, filters, within, customers_visible(viewer=viewer))
    if rows:
        qs = as_rows(qs, ROW_FIELDS + (SEARCH_ROW_FIELDS if filters.q else ()), CustomerRow)
    if filters.ranked:
        page = ranked_page(qs=qs, q=filters.q, masked=masked, cursor=cursor, limit=limit,
                           reach=lambda: scope_reach(viewer))
    else:
        # Only the default order has a per-owner index (owner, updated_at, id) to branch on.
        branches = page_branches(viewer) if filters.sort.lstrip("-") == "updated_at" else None
        page = paginate(qs, sort=filters.sort, cursor=cursor, limit=limit,
                        datetime_fields={"created_at", "updated_at"}, branches=branches,
                        branch_base=(_filtered(viewer, filters, within, live_customers())
                                     if branches else None))
    if filters.q:
        explain(page.items, filters.q, masked=masked)
    attach_owners(page.items, RowOwner if rows else User)
    attach_tags_and_custom(page.items)
    mask_for(viewer, page.items, CUSTOMER_SENSITIVE)
    mask_sensitive_custom(viewer, page.items)
    return page


# What a streamed row holds: the columns of ROW_FIELDS an export writes. Left out, as the
# list needs them and an export does not: the timestamps (two datetime conversions a row),
# the version, the origin, the region's code.
STREAM_FIELDS = tuple(f for f in ROW_FIELDS if f not in {
    "created_at", "updated_at", "version", "origin", "region_code"})


def customer_stream(*, viewer: User, filters: CustomerFilters,
                    batch: int = 2000) -> Iterator[CustomerRow]:
    """Every customer of the viewer's filtered list in the list's order, finished and masked
    like its pages (STREAM_FIELDS), for readers of the whole list (exports).

    One query streamed in batches of `batch` rows (owners, tags, custom values and masking
    are read per batch), not the list's keyset pages: a page costs a query's planning and
    the sort's first rows each time, and an instance per row. As pages of 2,000 instances, a
    CSV export of 1,000,000 customers ran at 12,770 rows/s; streamed, with the export's
    other cuts, 26,521 (bench/results/export-sqlite-1000k.md). A ranked quick search (best
    match first) has an order only within pages, so it is still read page by page."""
    if filters.ranked:
        cursor: str | None = None
        while True:
            page = customer_rows(viewer=viewer, filters=filters, cursor=cursor, limit=batch)
            yield from page.items
            if page.next_cursor is None:
                return
            cursor = page.next_cursor
    order = [filters.sort, "-id" if filters.sort.startswith("-") else "id"]
    qs = _filtered(viewer, filters, None, customers_visible(viewer=viewer)).order_by(*order)
    rows = as_rows(qs, STREAM_FIELDS, CustomerRow).iterator(chunk_size=batch)
    while chunk := list(islice(rows, batch)):
        attach_owners(chunk, RowOwner)
        attach_tags_and_custom(chunk)
        mask_for(viewer, chunk, CUSTOMER_SENSITIVE)
        mask_sensitive_custom(viewer, chunk)
        yield from chunk


def customer_get(*, viewer: User, pk: int, action: str = VIEW) -> Customer:
    """One customer the viewer may `action`, finished (tags, custom values, masking).

    Through the gate: 404 for missing and out of scope alike, 403 when only readable."""
    customer = Customer.objects.select_related("owner", "created_by").get_for(viewer, pk, action)
    attach_tags_and_custom([customer])
    mask_for(viewer, [customer], CUSTOMER_SENSITIVE)
    mask_sensitive_custom(viewer, [customer])
    return customer


def customer_deleted_list(*, viewer: User, limit: int = 200) -> list[Customer]:
    """The recycle bin: soft-deleted customers whose owner is within the viewer's scope."""
    qs = Customer.objects.in_recycle_bin_of(viewer).select_related("owner")
    return list(qs.order_by("-deleted_at")[:limit])


def contact_list(*, viewer: User, customer_id: int) -> list[Contact]:
    """Every contact of one customer, primary first: finished (masked, customer joined)."""
    return finish_contacts(viewer, _contacts_visible(viewer, customer_id))


def contact_page(
    *, viewer: User, customer_id: int | None = None, cursor: str | None = None, limit: int = 50
) -> Page:
    """One keyset page (by id) of the contacts the viewer can see, optionally of one customer;
    finished like `contact_list`. Two queries whatever the page size."""
    page = paginate(_contacts_visible(viewer, customer_id), sort="id", cursor=cursor,
                    limit=limit, datetime_fields=set())
    finish_contacts(viewer, page.items)
    return page


def _contacts_visible(viewer: User, customer_id: int | None) -> QuerySet[Contact]:
    qs = Contact.objects.visible_to(viewer).select_related("customer")
    return qs if customer_id is None else qs.filter(customer_id=customer_id)


def finish_contacts(viewer: User, contacts) -> list[Contact]:
    """Contacts as every caller shows them: masked for a masking viewer, their customer too."""
    rows = list(contacts)
    mask_for(viewer, rows, CONTACT_SENSITIVE)
    customers = {id(c.customer): c.customer for c in rows if Contact.customer.is_cached(c)}
    mask_for(viewer, list(customers.values()), CUSTOMER_SENSITIVE)
    return rows


def contact_get(*, viewer: User, pk: int, action: str = VIEW) -> Contact:
    """One contact the viewer may `action` (the gate's 404 / 403), masked for a masking viewer."""
    contact = Contact.objects.select_related("customer").get_for(viewer, pk, action)
    finish_contacts(viewer, [contact])
    return contact


def tags_in_scope(*, viewer: User) -> list[str]:
    """The tag names to offer the viewer (the list's tag filter, any tag picker): the tags on
    customers the viewer can see. An admin is offered every tag, used or not.

    One query: per tag, an EXISTS over the viewer's visible customers carrying it, which
    stops at the first one found. A tag the viewer uses costs a few index probes whether
    the planner walks the viewer's customers (one owner: the owner index, then the
    (customer_id, tag_id) unique index) or the tag's links (the link table's tag_id index,
    then the customer by primary key). A tag the viewer does not use costs one walk of the
    smaller side. Measured on SQLite with a 300,000-customer demo database (8 reps of
    37,000 customers; 8 tags every team uses plus one team's own tag on 30,000 customers):
    the analyst 10 ms, a rep 100 ms, a manager of 5 reps 57 ms, 0.4 ms without the
    team's own tag. The obvious alternative, a DISTINCT over the links of every visible
    customer, reads the viewer's whole book whatever the tags: 185 ms for the rep and
    515 ms for the manager on the same data.
    """
    tags = Tag.objects.order_by("name").values_list("name", flat=True)
    if access_for(viewer).is_admin:
        return list(tags)
    # A scalar sub-select per tag rather than EXISTS: PostgreSQL made the EXISTS one hash
    # join over every tag link (a demo manager's list: 194 ms at 1,000,000 customers; as a
    # probe per tag that stops at the first customer, 3.3 ms). SQLite runs either per tag.
    used = customers_visible(viewer=viewer).filter(tags=OuterRef("pk")).values("pk")[:1]
    return list(tags.filter(IsNull(Subquery(used), False)))


def transfer_history(*, viewer: User, customer_id: int) -> QuerySet[OwnershipTransfer]:
    return OwnershipTransfer.objects.visible_to(viewer).filter(customer_id=customer_id) \
        .select_related("from_user", "to_user", "actor")


def custom_fields_active() -> list[CustomField]:
    return list(CustomField.objects.filter(is_active=True))


def custom_values_by_key(customer: Customer) -> dict[str, object]:
    """{key: value or [values]} of the customer's custom fields."""
    if not hasattr(customer, "custom"):
        attach_tags_and_custom([customer])
    return customer.custom


def attach_owners(rows: list, make: Callable[..., Any] = User) -> None:
    """Set `owner` on each row from one query over the page's few distinct owners.

    A join would build a full user object per row; a page has 50 rows but a handful
    of owners, and only their names are shown. `make(pk=, username=, display_name=)` builds
    each: a `User` for instances, a `RowOwner` for rows.
    """
    owner_ids = sorted({row.owner_id for row in rows if row.owner_id})
    owners = {
        pk: make(pk=pk, username=username, display_name=display_name)
        for pk, username, display_name in _fetch(
            "SELECT id, username, display_name FROM accounts_user WHERE id IN ({ids})", owner_ids
        )
    }
    for row in rows:
        if row.owner_id:
            row.owner = owners[row.owner_id]


def attach_tags_and_custom(rows: list[Customer]) -> None:
    """Set `tag_names` and `custom` on each row with two queries for the whole page.

    These run on every list page and API list call, so they are plain SQL: the ORM's
    prefetch_related builds a queryset per row, and even a flat ORM query cost more to
    compile than the database took to answer it.
    """
    ids = [row.pk for row in rows]
    tag_names: dict[int, list[str]] = defaultdict(list)
    for customer_id, name in _fetch(
        "SELECT l.customer_id, t.name FROM customers_customer_tags l"
        " JOIN customers_tag t ON t.id = l.tag_id WHERE l.customer_id IN ({ids}) ORDER BY t.name",
        ids,
    ):
        tag_names[customer_id].append(name)
    custom: dict[int, dict[str, object]] = defaultdict(dict)
    sensitive: dict[int, set[str]] = defaultdict(set)
    for customer_id, key, kind, text, number, date, is_sensitive in _fetch(
        "SELECT v.customer_id, f.key, f.field_type, v.text, v.number, v.date, f.sensitive"
        " FROM customers_customvalue v JOIN customers_customfield f ON f.id = v.field_id"
        " WHERE v.customer_id IN ({ids}) AND f.is_active ORDER BY v.id",
        ids,
    ):
        if is_sensitive:  # masked by the caller for a viewer who may not see it
            sensitive[customer_id].add(key)
        value = _typed_custom_value(kind, text, number, date)
        if kind == "multi_choice":
            custom[customer_id].setdefault(key, []).append(value)
        else:
            custom[customer_id][key] = value
    for row in rows:
        row.tag_names = tag_names.get(row.pk, [])
        row.custom = custom.get(row.pk, {})
        row.sensitive_keys = sensitive.get(row.pk, set())


def _fetch(sql: str, ids: list[int]) -> list[tuple]:
    if not ids:
        return []
    with connection.cursor() as cursor:
        cursor.execute(sql.format(ids=", ".join(["%s"] * len(ids))), ids)
        return cursor.fetchall()


def _typed_custom_value(kind: str, text, number, date):
    """What the ORM's converters would give: Decimal and date, whatever the backend returns."""
    if kind == "number":
        return None if number is None else Decimal(str(number))
    if kind == "date":
        return dt.date.fromisoformat(date) if isinstance(date, str) else date
    return text


def mask_for(viewer: User, rows: list, sensitive: dict[str, str]) -> None:
    """Replace sensitive attributes in memory for roles that see them masked.

    Masked instances are flagged so that no service ever saves them back.
    """
    masked = masked_fields(viewer, sensitive)
    by_rule = not masked
    if by_rule:  # a registered rule may still mask some rows (customers.sensitive)
        rows, masked = _masked_by_rule(viewer, rows), dict(sensitive)
    for row in rows:
        if getattr(row, "is_masked", False):
            continue  # never mask a masked value again
        for attr, kind in masked.items():
            setattr(row, attr, mask_value(kind, getattr(row, attr)))
        if by_rule:  # a masking role's search already explains with masked values
            _mask_matched(row)
        row.is_masked = True


def masked_customers(*, viewer: User, owners: Mapping[int, int | None]) -> set[int]:
    """Of these customers (id -> owner id, as the caller read them), those `viewer` sees
    masked: all for a masking role, else the ownerless ones a registered rule masks (the
    pool's) — `mask_for`'s decision, for readers of plain values rather than instances
    (exports, the duplicates page). No query when every one has an owner."""
    if masked_fields(viewer, CUSTOMER_SENSITIVE):
        return set(owners)
    return customers_masked_for(viewer, {pk for pk, owner in owners.items() if owner is None})


def _masked_by_rule(viewer: User, rows: list) -> list:
    """The rows (customers, or contacts with their customer) of ownerless customers that a
    registered rule masks for `viewer`; no query when every row's customer has an owner."""
    def unowned(row) -> int | None:
        if isinstance(row, Customer | CustomerRow):
            return row.pk if row.owner_id is None else None
        if Contact.customer.is_cached(row) and row.customer.owner_id is not None:
            return None
        return getattr(row, "customer_id", None)
    pairs = [(row, pk) for row in rows if (pk := unowned(row)) is not None]
    masked = customers_masked_for(viewer, {pk for _row, pk in pairs})
    return [row for row, pk in pairs if pk in masked]


_MATCH_KINDS = {"phone": "phone", "email": "email", "wechat": "id", "contact_phone": "phone",
                "contact_email": "email", "contact_wechat": "id"}


def _mask_matched(row) -> None:
    """Quick search's "why found" of a row masked by rule shows the value masked too."""
    matched = getattr(row, "matched", None)
    if matched and matched.get("field") in _MATCH_KINDS and matched.get("text"):
        kind = _MATCH_KINDS[matched["field"]]
        row.matched = {**matched, "text": mask_value(kind, matched["text"])}


def customer_allows(*, viewer: User, pk: int, action: str) -> bool:
    """Whether the viewer may `action` the customer (to show or hide a form, never to guard)."""
    return Customer.objects.visible_to(viewer, action).filter(pk=pk).exists()


def share_list(*, viewer: User, customer_id: int) -> list[CustomerShare]:
    """The customer's shares, for those who may manage it (everyone else gets none)."""
    qs = CustomerShare.objects.visible_to(viewer, MANAGE).filter(customer_id=customer_id)
    return list(qs.select_related("user").order_by("user__display_name", "user__username"))


def primary_contact_id(customer_id: int) -> int | None:
    """The customer's primary contact, for defaults (the caller already passed the gate)."""
    return (Contact.objects.filter(customer_id=customer_id, is_primary=True)
            .values_list("pk", flat=True).first())


def contact_belongs_to(contact_id: int, customer_id: int) -> bool:
    """Whether the contact is one of the customer's (a contact of another customer is an error)."""
    return Contact.objects.filter(pk=contact_id, customer_id=customer_id).exists()
