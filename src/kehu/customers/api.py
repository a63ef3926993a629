"""The customers and contacts API: thin endpoints over the customer services and selectors.

Endpoints parse input, call one service or selector, and serialize with plain dicts.
Writes are passed a bare `Customer(pk=...)` / `Contact(pk=...)`: the services look
the row up again under lock and decide 404 / 403 themselves.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.http import HttpRequest, HttpResponse
from ninja import Query, Router, Schema
from pydantic import ConfigDict, Field

from kehu.api.inputs import payload_data
from kehu.api.pagination import page_body
from kehu.api.responses import json_response, no_content, parse_if_match
from kehu.api.schemas import (
    IF_MATCH,
    READ_ERRORS,
    VERSIONED_ERRORS,
    WRITE_ERRORS,
    PageParams,
    UserRef,
    page_of,
)
from kehu.audit import services as audit
from kehu.audit.models import Action
from kehu.core.models import Origin
from kehu.customers import selectors, services
from kehu.customers.duplicates import duplicates_for_input
from kehu.customers.filters import CustomerFilters
from kehu.customers.models import Contact, Customer
from kehu.customers.reveal import reveal_value

customers_router = Router(tags=["customers"])
contacts_router = Router(tags=["contacts"])


# --- schemas (the documented contract; validation itself lives in the services) ----------


class CustomerIn(Schema):
    """Fields to set. On create `kind` and `name` are required; PATCH sends only what changes."""

    model_config = ConfigDict(extra="forbid")

    kind: str | None = Field(None, description="company | person")
    name: str | None = None
    short_name: str | None = None
    industry: str | None = None
    company_size: str | None = None
    province: str | None = None
    city: str | None = None
    district: str | None = None
    address: str | None = None
    phones: list[str] | None = Field(None, description="Any common format; stored as E.164")
    emails: list[str] | None = None
    wechat: str | None = None
    gender: str | None = None
    birthday: str | None = Field(None, description="YYYY-MM-DD")
    credit_code: str | None = None
    id_number: str | None = Field(None, description="身份证号 of a person (18 characters, "
                                  "checked); stored encrypted, found by its complete value")
    source: str | None = None
    owner: int | None = Field(None, description="User id (create only; use transfer later)")
    tags: list[str] | None = None
    notes: str | None = None
    custom: dict[str, Any] | None = Field(None, description="{custom field key: value}")


class MatchedOut(Schema):
    """Why a quick search found the customer: the field and its value as you may see it."""

    model_config = ConfigDict(extra="forbid")

    field: str = Field(description="name, short_name, pinyin, initials, phone, email, wechat,"
                       " contact, contact_phone, contact_email or contact_wechat")
    text: str = Field(description="The matching value (masked when you see it masked)")
    contact: str | None = Field(None, description="The contact's name, for contact_phone,"
                                " contact_email and contact_wechat")


class CustomerOut(Schema):
    model_config = ConfigDict(extra="forbid")

    id: int
    kind: str
    name: str
    short_name: str
    industry: str
    company_size: str
    province: str
    city: str
    district: str
    region_code: str | None = Field(description="The official division's code (GB/T 2260) of "
                                    "省/市/区 as matched; null when no region is given or the "
                                    "text matches no division")
    address: str
    phones: list[str]
    emails: list[str]
    wechat: str
    gender: str
    birthday: dt.date | None
    credit_code: str
    id_number: str
    source: str
    owner: UserRef | None
    tags: list[str]
    custom: dict[str, Any]
    notes: str
    masked: bool = Field(description="True when sensitive values are shown masked")
    origin: str
    version: int
    created_at: dt.datetime
    updated_at: dt.datetime
    matched: MatchedOut | None = Field(None, description="With `q`: why the customer was found")


class CustomerListParams(Schema):
    """Documented filters; `cf_<key>=value` filters on a custom field too."""

    q: str | None = Field(None, description=(
        "Any part of the name or a contact's name, pinyin or initials, four or more phone"
        " digits, part of an email. Without `sort`: best match first (exact name, name"
        " prefix, exact initials/pinyin, their prefix, anywhere in the name, then contacts,"
        " phones and emails; newest first within each), next_cursor only"))
    kind: str | None = None
    industry: str | None = None
    province: str | None = None
    city: str | None = None
    owner: int | None = None
    tag: str | None = None
    filter: str | None = Field(None, description=(
        'A condition as JSON: {"field": "province", "op": "in", "value": ["浙江省"]}, or'
        ' groups {"all": [...]} / {"any": [...]}; fields: the customer\'s columns, owner'
        ' ("me"), tags, cf.<custom field>, total_spent, order_count, last_order, last_contact,'
        ' open_opportunities, open_complaints (docs/architecture.md, "Conditions")'))
    segment: int | None = Field(None, description=(
        "A saved segment's id (GET /segments): its condition, applied to your own customers"))
    sort: str | None = Field(None, description="name, created_at, updated_at; prefix - to reverse")


class TransferIn(Schema):
    model_config = ConfigDict(extra="forbid")

    ids: list[int] = Field(max_length=1000)
    to_user: int
    reason: str = ""


class TransferOut(Schema):
    moved: int


class ShareIn(Schema):
    """Share with a colleague: `view` (read only) or `edit` (fields and history), until a date.

    A share never lets its user transfer, re-share, delete or restore the customer.
    Sharing again with the same user changes the level and end date."""

    model_config = ConfigDict(extra="forbid")

    user: int
    level: str = Field("view", description="view | edit")
    ends_on: dt.date | None = Field(None, description="Last day of the share (YYYY-MM-DD)")


class ShareOut(Schema):
    customer_id: int
    user: UserRef
    level: str
    ends_on: dt.date | None


class ContactIn(Schema):
    """Fields to set. On create `name` is required."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = None
    title: str | None = None
    decision_role: str | None = None
    phones: list[str] | None = None
    email: str | None = None
    wechat: str | None = None
    is_primary: bool | None = None
    notes: str | None = None


class CustomerRef(Schema):
    model_config = ConfigDict(extra="forbid")

    id: int
    name: str


class ContactOut(Schema):
    model_config = ConfigDict(extra="forbid")

    id: int
    customer: CustomerRef
    name: str
    title: str
    decision_role: str
    phones: list[str]
    email: str
    wechat: str
    is_primary: bool
    notes: str
    masked: bool
    origin: str
    version: int
    created_at: dt.datetime
    updated_at: dt.datetime


CustomerPage = page_of(CustomerOut, "CustomerPage")
ContactPage = page_of(ContactOut, "ContactPage")


# --- serialization -----------------------------------------------------------


def customer_dict(c: Customer) -> dict[str, Any]:
    """One customer as JSON-ready values; tags and custom values must be prefetched."""
    owner = c.owner
    return {
        "id": c.pk, "kind": c.kind, "name": c.name, "short_name": c.short_name,
        "industry": c.industry, "company_size": c.company_size,
        "province": c.province, "city": c.city, "district": c.district,
        "region_code": c.region_code, "address": c.address,
        "phones": c.phones, "emails": c.emails, "wechat": c.wechat, "gender": c.gender,
        "birthday": c.birthday and c.birthday.isoformat(), "credit_code": c.credit_code,
        "id_number": c.id_number, "source": c.source,
        "owner": {"id": owner.pk, "name": owner.label} if owner else None,
        "tags": _tag_names(c),
        "custom": {k: _custom_json(v) for k, v in selectors.custom_values_by_key(c).items()},
        "notes": c.notes, "masked": getattr(c, "is_masked", False), "origin": c.origin,
        # ISO text here rather than in json_response's `default`: a Python call per value
        # from the C encoder cost 0.1 ms of a 50-row page's 0.35 ms of encoding.
        "version": c.version, "created_at": c.created_at.isoformat(),
        "updated_at": c.updated_at.isoformat(), "matched": getattr(c, "matched", None),
    }


def contact_dict(c: Contact) -> dict[str, Any]:
    return {
        "id": c.pk, "customer": {"id": c.customer_id, "name": c.customer.name},
        "name": c.name, "title": c.title, "decision_role": c.decision_role,
        "phones": c.phones, "email": c.email, "wechat": c.wechat, "is_primary": c.is_primary,
        "notes": c.notes, "masked": getattr(c, "is_masked", False), "origin": c.origin,
        "version": c.version, "created_at": c.created_at, "updated_at": c.updated_at,
    }


def _tag_names(c: Customer) -> list[str]:
    # The selectors attach `tag_names` for a whole page at once; fall back to the relation.
    names = getattr(c, "tag_names", None)
    return list(names) if names is not None else [t.name for t in c.tags.all()]


def _custom_json(value: Any) -> Any:
    if isinstance(value, list):
        return [_custom_json(v) for v in value]
    if isinstance(value, Decimal):
        # Numbers are stored with 4 decimals; 12.5000 reads better as 12.5, 3.0000 as 3.
        return int(value) if value == value.to_integral_value() else float(value)
    return value


def _customer_response(request: HttpRequest, pk: int, status: int = 200) -> HttpResponse:
    customer = selectors.customer_get(viewer=request.auth, pk=pk)
    location = f"{request.path.rstrip('/')}/{pk}" if status == 201 else None
    return json_response(customer_dict(customer), status=status, version=customer.version,
                         location=location)


def _contact_response(request: HttpRequest, pk: int, status: int = 200) -> HttpResponse:
    contact = selectors.contact_get(viewer=request.auth, pk=pk)
    return json_response(contact_dict(contact), status=status, version=contact.version)


# --- customers ---------------------------------------------------------------


@customers_router.get("/customers", response={200: CustomerPage, **READ_ERRORS})
def customer_list(
    request: HttpRequest, page: Query[PageParams], filters: Query[CustomerListParams]
) -> HttpResponse:
    """Customers you can see, newest change first; keyset pages, no total count."""
    parsed = CustomerFilters.from_params(request.GET)  # the one filter definition (cf_* too)
    result = selectors.customer_rows(viewer=request.auth, filters=parsed, cursor=page.cursor,
                                     limit=page.limit)
    if parsed.q and not page.cursor:  # a search, recorded once (not again per page)
        audit.record(request, Action.SEARCHED, label=parsed.q,
                     details={"q": parsed.q, "via": "api", "shown": len(result.items)})
    return json_response(page_body(result, customer_dict))


@customers_router.post("/customers", response={201: CustomerOut, **WRITE_ERRORS})
def customer_create(request: HttpRequest, payload: CustomerIn) -> HttpResponse:
    customer = services.customer_create(actor=request.auth, data=payload_data(payload),
                                        origin=Origin.API)
    return _customer_response(request, customer.pk, status=201)


class DuplicateOut(Schema):
    id: int | None = Field(None, description="null when the customer is outside your scope")
    name: str | None = None
    owner: str | None = None
    score: float = Field(description="0–1; at or above 0.95 a shared phone, e-mail or code")
    hard: bool
    reasons: list[str]


@customers_router.post("/customers/duplicates", response={200: list[DuplicateOut],
                                                          **READ_ERRORS})
def customer_duplicates(request: HttpRequest, payload: CustomerIn) -> HttpResponse:
    """The customers a create (or, with `exclude`, an edit) of these values may duplicate —
    what the web form asks before a create. Outside your scope: said to exist, no more."""
    exclude = request.GET.get("exclude")
    found = duplicates_for_input(viewer=request.auth, data=payload_data(payload),
                                 exclude=int(exclude) if exclude and exclude.isdigit() else None)
    return json_response([{"id": c.customer_id if c.name else None, "name": c.name,
                           "owner": c.owner, "score": c.score, "hard": c.hard,
                           "reasons": c.reasons} for c in found])


@customers_router.post("/customers/transfer", response={200: TransferOut, **WRITE_ERRORS})
def customer_transfer(request: HttpRequest, payload: TransferIn) -> HttpResponse:
    """Hand customers over to another user (one or many); all or nothing."""
    moved = services.customer_transfer(actor=request.auth, origin=Origin.API, customer_ids=payload.ids,
                                       to_user=payload.to_user,
                                       reason=payload.reason)
    return json_response({"moved": moved})


@customers_router.get("/customers/{int:customer_id}", response={200: CustomerOut, **READ_ERRORS})
def customer_detail(request: HttpRequest, customer_id: int) -> HttpResponse:
    customer = selectors.customer_get(viewer=request.auth, pk=customer_id)
    audit.record(request, Action.VIEWED, customer_id=customer.pk, label=customer.name,
                 details={"via": "api"})
    return json_response(customer_dict(customer), version=customer.version)


class RevealIn(Schema):
    model_config = ConfigDict(extra="forbid")

    field: str = Field(description="phones, emails, wechat, credit_code, id_number, or "
                                   "custom.<key> of a sensitive custom field (a contact: "
                                   "phones, email, wechat)")
    reason: str = Field(description="why you need the full value (2–200 characters); recorded")
    index: int = Field(0, ge=0, le=1000, description="which of a list (phones, emails)")
    contact_id: int | None = Field(None, ge=1, le=2**63 - 1)


class RevealOut(Schema):
    field: str
    value: str


@customers_router.post("/customers/{int:customer_id}/reveal",
                       response={200: RevealOut, **WRITE_ERRORS})
def customer_reveal(request: HttpRequest, customer_id: int, payload: RevealIn) -> HttpResponse:
    """显示完整号码: one full value of a masked field, for a role that may reveal, with a reason
    recorded in the audit trail (403 without the permission, 404 out of scope)."""
    value = reveal_value(viewer=request.auth, customer_id=customer_id, field=payload.field,
                         reason=payload.reason, index=payload.index,
                         contact_id=payload.contact_id)
    return json_response({"field": payload.field, "value": value})


@customers_router.patch("/customers/{int:customer_id}",
                        response={200: CustomerOut, **VERSIONED_ERRORS})
def customer_update(
    request: HttpRequest, customer_id: int, payload: CustomerIn, if_match: str | None = IF_MATCH
) -> HttpResponse:
    services.customer_update(actor=request.auth, customer=Customer(pk=customer_id),
                             data=payload_data(payload), expected_version=parse_if_match(if_match),
                             origin=Origin.API)
    return _customer_response(request, customer_id)


@customers_router.delete("/customers/{int:customer_id}", response={204: None, **VERSIONED_ERRORS})
def customer_delete(
    request: HttpRequest, customer_id: int, if_match: str | None = IF_MATCH
) -> HttpResponse:
    """Soft delete: the customer goes to the recycle bin (POST …/restore brings it back)."""
    services.customer_delete(actor=request.auth, origin=Origin.API, customer=Customer(pk=customer_id),
                             expected_version=parse_if_match(if_match))
    return no_content()


@customers_router.post("/customers/{int:customer_id}/restore",
                       response={200: CustomerOut, **WRITE_ERRORS})
def customer_restore(request: HttpRequest, customer_id: int) -> HttpResponse:
    services.customer_restore(actor=request.auth, origin=Origin.API, pk=customer_id)
    return _customer_response(request, customer_id)


@customers_router.post("/customers/{int:customer_id}/shares",
                       response={201: ShareOut, **WRITE_ERRORS})
def customer_share(request: HttpRequest, customer_id: int, payload: ShareIn) -> HttpResponse:
    share = services.customer_share(actor=request.auth, origin=Origin.API, customer=customer_id,
                                    **payload_data(payload))
    user = share.user
    return json_response({"customer_id": customer_id, "user": {"id": user.pk, "name": user.label},
                          "level": share.level, "ends_on": share.ends_on}, status=201)


@customers_router.delete("/customers/{int:customer_id}/shares/{int:user_id}",
                         response={204: None, **WRITE_ERRORS})
def customer_unshare(request: HttpRequest, customer_id: int, user_id: int) -> HttpResponse:
    services.customer_unshare(actor=request.auth, origin=Origin.API, customer=customer_id,
                              user=user_id)
    return no_content()


# --- contacts ----------------------------------------------------------------


@customers_router.get("/customers/{int:customer_id}/contacts",
                      response={200: ContactPage, **READ_ERRORS})
def customer_contacts(
    request: HttpRequest, customer_id: int, page: Query[PageParams]
) -> HttpResponse:
    selectors.customer_get(viewer=request.auth, pk=customer_id)  # 404 when out of sight
    return _contact_page(request, customer_id, page)


@customers_router.post("/customers/{int:customer_id}/contacts",
                       response={201: ContactOut, **WRITE_ERRORS})
def contact_create(request: HttpRequest, customer_id: int, payload: ContactIn) -> HttpResponse:
    contact = services.contact_create(actor=request.auth, customer=Customer(pk=customer_id),
                                      data=payload_data(payload), origin=Origin.API)
    response = _contact_response(request, contact.pk, status=201)
    response["Location"] = f"{request.path.rsplit('/customers/', 1)[0]}/contacts/{contact.pk}"
    return response


@contacts_router.get("/contacts", response={200: ContactPage, **READ_ERRORS})
def contact_list(
    request: HttpRequest, page: Query[PageParams], customer: int | None = None
) -> HttpResponse:
    """Contacts of the customers you can see, optionally of one customer."""
    return _contact_page(request, customer, page)


@contacts_router.get("/contacts/{int:contact_id}", response={200: ContactOut, **READ_ERRORS})
def contact_detail(request: HttpRequest, contact_id: int) -> HttpResponse:
    return _contact_response(request, contact_id)


@contacts_router.patch("/contacts/{int:contact_id}", response={200: ContactOut, **VERSIONED_ERRORS})
def contact_update(
    request: HttpRequest, contact_id: int, payload: ContactIn, if_match: str | None = IF_MATCH
) -> HttpResponse:
    services.contact_update(actor=request.auth, origin=Origin.API, contact=Contact(pk=contact_id),
                            data=payload_data(payload), expected_version=parse_if_match(if_match))
    return _contact_response(request, contact_id)


@contacts_router.delete("/contacts/{int:contact_id}", response={204: None, **VERSIONED_ERRORS})
def contact_delete(
    request: HttpRequest, contact_id: int, if_match: str | None = IF_MATCH
) -> HttpResponse:
    services.contact_delete(actor=request.auth, origin=Origin.API, contact=Contact(pk=contact_id),
                            expected_version=parse_if_match(if_match))
    return no_content()


def _contact_page(request: HttpRequest, customer_id: int | None, page: PageParams) -> HttpResponse:
    result = selectors.contact_page(viewer=request.auth, customer_id=customer_id,
                                    cursor=page.cursor, limit=page.limit)
    return json_response(page_body(result, contact_dict))
