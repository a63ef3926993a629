"""The consent ledger's API: a customer's consents, a grant, a withdrawal. The same services
as the card's panel; out of scope is 404, a read-only person or a `read` token 403."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import HttpRequest, HttpResponse
from ninja import Router, Schema
from pydantic import ConfigDict, Field

from kehu.api.inputs import payload_data
from kehu.api.responses import json_response
from kehu.api.schemas import READ_ERRORS, WRITE_ERRORS
from kehu.core.models import Origin
from kehu.privacy import selectors, services
from kehu.privacy.choices import Channel, ConsentState, LegalBasis, Purpose
from kehu.privacy.models import Consent

router = Router(tags=["consents"])


def _listing(choices: Any) -> str:
    return ", ".join(f"{value} ({label})" for value, label in choices)


class ConsentIn(Schema):
    model_config = ConfigDict(extra="forbid")

    purpose: str = Field(..., description=_listing(Purpose.choices))
    legal_basis: str = Field(LegalBasis.CONSENT, description=_listing(LegalBasis.choices))
    notice_version: str = Field(..., description="The notice text the person saw, e.g. "
                                                 "隐私政策 v3 2026-10 (at most 100 characters)")
    channel: str = Field(..., description=_listing(Channel.choices))
    contact: int | None = Field(None, description="A contact of this customer; null: the "
                                                  "customer itself")
    sensitive: bool = Field(False, description="A separate consent covering sensitive personal "
                                               "information (PIPL art. 29); legal_basis consent")
    granted_at: dt.datetime | None = Field(None, description="Default: now; not in the future")
    collected_by: int | None = Field(None, description="An active person; default: you")
    note: str = Field("", description="At most 255 characters")


class WithdrawIn(Schema):
    model_config = ConfigDict(extra="forbid")

    note: str = Field("", description="Why, or how the person asked (at most 255 characters)")


class ConsentOut(Schema):
    id: int
    customer: int
    contact: int | None
    contact_name: str
    purpose: str
    legal_basis: str
    notice_version: str
    channel: str
    sensitive: bool
    note: str
    collected_by: int | None
    granted_at: dt.datetime
    withdrawn_at: dt.datetime | None
    withdrawn_by: int | None
    withdrawal_note: str
    is_current: bool = Field(..., description="The newest row of its subject and purpose")
    version: int


class ConsentListOut(Schema):
    states: dict[str, str] = Field(..., description="Per purpose: " +
                                   _listing(ConsentState.choices))
    items: list[ConsentOut]


class WithdrawOut(Schema):
    changed: bool = Field(..., description="False: it was withdrawn already, nothing changed")
    message: str
    consent: ConsentOut


def consent_dict(c: Consent) -> dict[str, Any]:
    return {"id": c.pk, "customer": c.customer_id, "contact": c.contact_id,
            "contact_name": c.contact_name, "purpose": c.purpose, "legal_basis": c.legal_basis,
            "notice_version": c.notice_version, "channel": c.channel, "sensitive": c.sensitive,
            "note": c.note, "collected_by": c.collected_by_id, "granted_at": c.granted_at,
            "withdrawn_at": c.withdrawn_at, "withdrawn_by": c.withdrawn_by_id,
            "withdrawal_note": c.withdrawal_note, "is_current": c.is_current,
            "version": c.version}


@router.get("/customers/{int:customer_id}/consents",
            response={200: ConsentListOut, **READ_ERRORS})
def consent_list(request: HttpRequest, customer_id: int) -> HttpResponse:
    """The customer's consent ledger, newest first, and its state per purpose."""
    rows = selectors.consent_list(viewer=request.auth, customer=customer_id)
    return json_response({"states": selectors.states_for(rows),
                          "items": [consent_dict(c) for c in rows]})


@router.post("/customers/{int:customer_id}/consents", response={201: ConsentOut, **WRITE_ERRORS})
def consent_grant(request: HttpRequest, customer_id: int, payload: ConsentIn) -> HttpResponse:
    """Record a grant; 422 naming every bad field, or while a live grant of the same subject
    and purpose exists (withdraw it first)."""
    consent = services.consent_grant(actor=request.auth, origin=Origin.API, customer=customer_id,
                                     data=payload_data(payload))
    return json_response(consent_dict(consent), status=201, version=consent.version)


@router.post("/customers/{int:customer_id}/consents/{int:consent_id}/withdraw",
             response={200: WithdrawOut, **WRITE_ERRORS})
def consent_withdraw(request: HttpRequest, customer_id: int, consent_id: int,
                     payload: WithdrawIn) -> HttpResponse:
    """Withdraw, effective at once. Withdrawing again changes nothing: `changed` is false."""
    selectors.consent_of_customer(viewer=request.auth, customer=customer_id, pk=consent_id)
    done = services.consent_withdraw(actor=request.auth, origin=Origin.API, consent=consent_id,
                                     note=payload.note)
    return json_response({"changed": done.changed, "message": done.message,
                          "consent": consent_dict(done.consent)}, version=done.consent.version)
