"""The pool API: the pool's customers, claiming, assigning and releasing; pools and their
rules (admins). The same services as the web pages (`services.pool_claim` …)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from ninja import Query, Router, Schema
from pydantic import ConfigDict, Field

from kehu.accounts.policy import require_admin
from kehu.api.inputs import payload_data
from kehu.api.pagination import page_body
from kehu.api.responses import json_response, no_content, parse_if_match
from kehu.api.schemas import IF_MATCH, READ_ERRORS, VERSIONED_ERRORS, WRITE_ERRORS, PageParams
from kehu.core.inputs import parse_id
from kehu.core.models import Origin
from kehu.customers.api import CustomerListParams, CustomerOut, customer_dict
from kehu.customers.filters import CustomerFilters
from kehu.customers.selectors import customer_get
from kehu.pool import selectors, services
from kehu.pool.models import Pool, PoolRule

router = Router(tags=["pool"])


class PoolEntryOut(Schema):
    pool: int
    pool_name: str
    entered_at: dt.datetime
    reason: str
    previous_owner: int | None


class PoolCustomerOut(Schema):
    customer: CustomerOut
    entry: PoolEntryOut | None


class PoolCustomerPage(Schema):
    items: list[PoolCustomerOut]
    next_cursor: str | None
    prev_cursor: str | None


class PoolCustomerParams(CustomerListParams):
    pool: int | None = Field(None, description="One of your pools; default: all of them")


class PoolAssignIn(Schema):
    model_config = ConfigDict(extra="forbid")

    to_user: int = Field(..., description="A member of the pool within your scope")
    reason: str = Field("", max_length=255)


class PoolReleaseIn(Schema):
    model_config = ConfigDict(extra="forbid")

    reason: str = Field("", max_length=255)


class PoolRuleIn(Schema):
    model_config = ConfigDict(extra="forbid")

    target_value: int | None = Field(None, description="A classification value id; null: all")
    idle_days: int = Field(..., description="Days without a communication or hand-over")
    no_deal_days: int | None = Field(None, description="Days without a won deal or a "
                                                       "spending order; null: not used")
    warn_days: int = 3
    exempt_won: bool = True
    exempt_open_opportunities: bool = True
    is_active: bool = True


class PoolRuleOut(PoolRuleIn):
    model_config = ConfigDict(extra="forbid")

    id: int
    pool: int
    version: int


class PoolIn(Schema):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(..., max_length=100)
    departments: list[int] = Field(..., description="Department ids; their sub-departments too")
    daily_claims: int = 5
    max_held: int | None = Field(None, description="Customers a rep may own to claim; null: no cap")
    reclaim_wait_days: int = 30
    is_active: bool = True


class PoolOut(PoolIn):
    model_config = ConfigDict(extra="forbid")

    id: int
    version: int
    held: int = Field(..., description="Customers in the pool now")
    rules: list[PoolRuleOut]


def _entry_dict(entry: Any) -> dict[str, Any] | None:
    if entry is None:
        return None
    return {"pool": entry.pool_id, "pool_name": entry.pool.name, "entered_at": entry.entered_at,
            "reason": entry.reason, "previous_owner": entry.previous_owner_id}


def _rule_dict(rule: PoolRule) -> dict[str, Any]:
    return {"id": rule.pk, "pool": rule.pool_id, "target_value": rule.target_value_id,
            "idle_days": rule.idle_days, "no_deal_days": rule.no_deal_days,
            "warn_days": rule.warn_days, "exempt_won": rule.exempt_won,
            "exempt_open_opportunities": rule.exempt_open_opportunities,
            "is_active": rule.is_active, "version": rule.version}


def _pool_dict(pool: Pool) -> dict[str, Any]:
    return {"id": pool.pk, "name": pool.name, "departments": sorted(
        d.pk for d in pool.departments.all()), "daily_claims": pool.daily_claims,
        "max_held": pool.max_held, "reclaim_wait_days": pool.reclaim_wait_days,
        "is_active": pool.is_active, "version": pool.version, "held": pool.held,
        "rules": [_rule_dict(r) for r in pool.rules.all()]}


@router.get("/pool/customers", response={200: PoolCustomerPage, **READ_ERRORS})
def pool_customers(request: HttpRequest, page: Query[PageParams],
                   filters: Query[PoolCustomerParams]) -> HttpResponse:
    """The customers of your pools (masked until claimed), with the customer list's filters."""
    parsed = CustomerFilters.from_params(request.GET)
    result = selectors.pool_customers(viewer=request.auth, filters=parsed, pool_id=filters.pool,
                                      cursor=page.cursor, limit=page.limit)
    return json_response(page_body(result, lambda c: {
        "customer": customer_dict(c), "entry": _entry_dict(c.pool_entry)}))


@router.post("/pool/customers/{int:customer_id}/claim", response={200: CustomerOut, **WRITE_ERRORS})
def pool_claim(request: HttpRequest, customer_id: int) -> HttpResponse:
    """Claim a customer of your pool: within the daily limit and the cap on customers held;
    a previous owner only after the pool's wait (422 naming the limit)."""
    services.pool_claim(actor=request.auth, origin=Origin.API, customer=customer_id)
    return _customer(request, customer_id)


@router.post("/pool/customers/{int:customer_id}/assign", response={200: CustomerOut, **WRITE_ERRORS})
def pool_assign(request: HttpRequest, customer_id: int, payload: PoolAssignIn) -> HttpResponse:
    """Hand a pool customer to a member of the pool (admins and managers)."""
    services.pool_assign(actor=request.auth, origin=Origin.API, customer=customer_id,
                         to_user=payload.to_user, reason=payload.reason)
    return _customer(request, customer_id)


@router.post("/customers/{int:customer_id}/release", response={200: PoolEntryOut, **WRITE_ERRORS})
def pool_release(request: HttpRequest, customer_id: int, payload: PoolReleaseIn) -> HttpResponse:
    """Give a customer you manage back to the pool of its owner's department."""
    entry = services.pool_release(actor=request.auth, origin=Origin.API, customer=customer_id,
                                  reason=payload.reason)
    return json_response(_entry_dict(entry))


def _customer(request: HttpRequest, customer_id: int) -> HttpResponse:
    customer = customer_get(viewer=request.auth, pk=customer_id)
    return json_response(customer_dict(customer), version=customer.version)


# --- pools and rules (admins) ----------------------------------------------------------------


def _pool(pool_id: int) -> Pool:
    return get_object_or_404(selectors.pools_for_settings(), pk=parse_id(pool_id, field="pool"))


def _pool_response(pool_id: int, status: int = 200) -> HttpResponse:
    pool = _pool(pool_id)
    return json_response(_pool_dict(pool), status=status, version=pool.version)


@router.get("/pool/pools", response={200: list[PoolOut], **READ_ERRORS})
def pool_list(request: HttpRequest) -> HttpResponse:
    require_admin(request.auth, services.ADMINS_ONLY)
    return json_response([_pool_dict(p) for p in selectors.pools_for_settings()])


@router.post("/pool/pools", response={201: PoolOut, **WRITE_ERRORS})
def pool_create(request: HttpRequest, payload: PoolIn) -> HttpResponse:
    pool = services.pool_save(actor=request.auth, origin=Origin.API, data=payload_data(payload))
    return _pool_response(pool.pk, status=201)


@router.get("/pool/pools/{int:pool_id}", response={200: PoolOut, **READ_ERRORS})
def pool_detail(request: HttpRequest, pool_id: int) -> HttpResponse:
    require_admin(request.auth, services.ADMINS_ONLY)
    return _pool_response(pool_id)


@router.patch("/pool/pools/{int:pool_id}", response={200: PoolOut, **VERSIONED_ERRORS})
def pool_update(request: HttpRequest, pool_id: int, payload: PoolIn,
                if_match: str | None = IF_MATCH) -> HttpResponse:
    version = parse_if_match(if_match)  # 428 before anything else, as every change
    require_admin(request.auth, services.ADMINS_ONLY)
    services.pool_save(actor=request.auth, origin=Origin.API, data=payload_data(payload),
                       pool=_pool(pool_id), expected_version=version)
    return _pool_response(pool_id)


@router.delete("/pool/pools/{int:pool_id}", response={204: None, **VERSIONED_ERRORS})
def pool_delete(request: HttpRequest, pool_id: int, if_match: str | None = IF_MATCH) -> HttpResponse:
    """Refused (422) while the pool holds customers."""
    version = parse_if_match(if_match)
    require_admin(request.auth, services.ADMINS_ONLY)
    services.pool_delete(actor=request.auth, origin=Origin.API, pool=_pool(pool_id),
                         expected_version=version)
    return no_content()


@router.post("/pool/pools/{int:pool_id}/rules", response={201: PoolRuleOut, **WRITE_ERRORS})
def rule_create(request: HttpRequest, pool_id: int, payload: PoolRuleIn) -> HttpResponse:
    require_admin(request.auth, services.ADMINS_ONLY)
    rule = services.rule_save(actor=request.auth, origin=Origin.API, pool=_pool(pool_id),
                              data=payload_data(payload))
    return json_response(_rule_dict(rule), status=201, version=rule.version)


def _rule(pool_id: int, rule_id: int) -> PoolRule:
    return get_object_or_404(PoolRule, pk=parse_id(rule_id, field="rule"),
                             pool_id=parse_id(pool_id, field="pool"))


@router.patch("/pool/pools/{int:pool_id}/rules/{int:pool_rule_id}",
              response={200: PoolRuleOut, **VERSIONED_ERRORS})
def rule_update(request: HttpRequest, pool_id: int, pool_rule_id: int, payload: PoolRuleIn,
                if_match: str | None = IF_MATCH) -> HttpResponse:
    version = parse_if_match(if_match)
    require_admin(request.auth, services.ADMINS_ONLY)
    rule = _rule(pool_id, pool_rule_id)
    rule = services.rule_save(actor=request.auth, origin=Origin.API, pool=rule.pool,
                              data=payload_data(payload), rule=rule, expected_version=version)
    rule.refresh_from_db()
    return json_response(_rule_dict(rule), version=rule.version)


@router.delete("/pool/pools/{int:pool_id}/rules/{int:pool_rule_id}",
               response={204: None, **VERSIONED_ERRORS})
def rule_delete(request: HttpRequest, pool_id: int, pool_rule_id: int,
                if_match: str | None = IF_MATCH) -> HttpResponse:
    version = parse_if_match(if_match)
    require_admin(request.auth, services.ADMINS_ONLY)
    services.rule_delete(actor=request.auth, origin=Origin.API, rule=_rule(pool_id, pool_rule_id),
                         expected_version=version)
    return no_content()
