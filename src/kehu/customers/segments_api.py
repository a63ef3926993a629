"""The segments API: list and save segments, and page through a segment's customers — the
same services and selectors as the list page (customers.segments), so the same visibility,
refusals and scope (a segment's customers are always the caller's own)."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from django.http import HttpRequest, HttpResponse
from ninja import Query, Router, Schema
from pydantic import ConfigDict, Field

from kehu.api.pagination import page_body
from kehu.api.responses import json_response
from kehu.api.schemas import READ_ERRORS, WRITE_ERRORS, PageParams
from kehu.core.models import Origin
from kehu.customers import selectors
from kehu.customers.api import CustomerPage, customer_dict
from kehu.customers.filters import CustomerFilters
from kehu.customers.models import Segment
from kehu.customers.segments import segment_get, segment_list, segment_save

segments_router = Router(tags=["segments"])


class SegmentIn(Schema):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(..., max_length=100)
    condition: dict[str, Any] = Field(..., description=(
        'A condition, as for GET /customers?filter= ({"all": [...]}, {"any": [...]} or a leaf)'))
    visibility: Literal["private", "team", "everyone"] = Field(
        "private", description="team: your department and the ones below it; everyone: "
                               "admins and managers only")


class SegmentOut(Schema):
    id: int
    name: str
    condition: dict[str, Any]
    visibility: str
    owner: int
    updated_at: dt.datetime
    member_count: int | None = Field(None, description=(
        "Your own segments only: how many of your customers match (refreshed on save and "
        "hourly); null for others' segments — their customers in it are yours, see /customers"))


@segments_router.get("/segments", response={200: list[SegmentOut], **READ_ERRORS})
def segments(request: HttpRequest) -> HttpResponse:
    """Your segments, your department's team segments and the company's."""
    viewer = request.auth
    return json_response([_body(s, viewer) for s in segment_list(viewer=viewer)])


@segments_router.post("/segments", response={201: SegmentOut, **WRITE_ERRORS})
def segment_create(request: HttpRequest, payload: SegmentIn) -> HttpResponse:
    segment = segment_save(actor=request.auth, origin=Origin.API, data=payload.model_dump())
    return json_response(_body(segment, request.auth), status=201)


@segments_router.get("/segments/{int:segment_id}/customers",
                     response={200: CustomerPage, **READ_ERRORS})
def segment_customers(request: HttpRequest, segment_id: int,
                      page: Query[PageParams]) -> HttpResponse:
    """Your customers in the segment (never the owner's), newest change first."""
    segment = segment_get(viewer=request.auth, pk=segment_id)
    filters = CustomerFilters(segment=segment.pk)
    result = selectors.customer_rows(viewer=request.auth, filters=filters, cursor=page.cursor,
                                     limit=page.limit)
    return json_response(page_body(result, customer_dict))


def _body(segment: Segment, viewer: Any) -> dict[str, Any]:
    return {"id": segment.pk, "name": segment.name, "condition": segment.condition,
            "visibility": segment.visibility, "owner": segment.owner_id,
            "updated_at": segment.updated_at,
            "member_count": segment.member_count if segment.owner_id == viewer.pk else None}
