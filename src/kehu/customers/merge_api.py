"""The merge API: merge a duplicate into a customer, and undo a merge — the same services
as the merge page (`customers.merging`), so the same gate, choices and refusals."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import HttpRequest, HttpResponse
from ninja import Router, Schema
from pydantic import ConfigDict, Field

from kehu.api.responses import json_response, parse_if_match
from kehu.api.schemas import IF_MATCH, VERSIONED_ERRORS, WRITE_ERRORS
from kehu.core.models import Origin
from kehu.customers import merging
from kehu.customers.models import MergeRecord

merges_router = Router(tags=["customers"])


class MergeIn(Schema):
    """Merge `duplicate` into the customer of the path; If-Match names the survivor's version."""

    model_config = ConfigDict(extra="forbid")

    duplicate: int = Field(..., description="The customer merged away (it goes to the recycle bin)")
    duplicate_version: int | None = Field(None, description="The duplicate's version, if checked")
    choices: dict[str, str | list[str]] = Field(
        default_factory=dict,
        description='Per field: "survivor", "duplicate", "union" (phones, emails) or a value '
                    'typed by hand; "custom.<key>" and "preference": "survivor" | "duplicate". '
                    "Left out: the non-empty value, else the newer customer's; lists united.")


class MergeOut(Schema):
    id: int
    survivor: int
    duplicate: int | None
    at: dt.datetime
    undone_at: dt.datetime | None
    choices: dict[str, Any]
    moved: dict[str, int] = Field(description='Rows moved per table ("app.Model.field")')


@merges_router.post("/customers/{int:customer_id}/merge",
                    response={201: MergeOut, **VERSIONED_ERRORS})
def customer_merge(
    request: HttpRequest, customer_id: int, payload: MergeIn, if_match: str | None = IF_MATCH
) -> HttpResponse:
    versions = {customer_id: parse_if_match(if_match), payload.duplicate: payload.duplicate_version}
    record = merging.customer_merge(actor=request.auth, origin=Origin.API, survivor=customer_id,
                                    duplicate=payload.duplicate, choices=payload.choices,
                                    expected_versions=versions)
    return json_response(_merge_body(record), status=201)


@merges_router.post("/merges/{int:merge_id}/undo", response={200: MergeOut, **WRITE_ERRORS})
def merge_undo(request: HttpRequest, merge_id: int) -> HttpResponse:
    """Everything back as before the merge; refused (422, naming what changed) after an edit."""
    record = merging.customer_merge_undo(actor=request.auth, origin=Origin.API, merge=merge_id)
    return json_response(_merge_body(record))


def _merge_body(record: MergeRecord) -> dict[str, Any]:
    return {"id": record.pk, "survivor": record.survivor_id, "duplicate": record.duplicate_id,
            "at": record.at, "undone_at": record.undone_at, "choices": record.choices,
            "moved": {label: len(ids) for label, ids in record.moved.items() if ids}}
