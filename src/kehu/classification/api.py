"""The classification API: a customer's RFM and places, the RFM grid, a rule's preview."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from django.http import HttpRequest, HttpResponse
from ninja import Router, Schema
from pydantic import ConfigDict, Field

from kehu.api.responses import json_response
from kehu.api.schemas import READ_ERRORS, WRITE_ERRORS
from kehu.classification import selectors
from kehu.classification.previews import rule_preview

router = Router(tags=["classification"])


class RfmOut(Schema):
    customer_id: int
    recency_days: int | None = Field(None, description="Days since the last purchase in the window")
    frequency: int = Field(..., description="Spending orders in the window")
    monetary: str = Field(..., description="Revenue in the window, a decimal string")
    r: int | None = Field(None, description="1–5, 5 = most recent; null without an order in the window")
    f: int | None = None
    m: int | None = None
    segment: str = Field(..., description="champions, loyal, new, potential, cant_lose, at_risk, "
                                          "hibernating, lost; empty without an order in the window")
    segment_label: str
    computed_on: dt.date | None


class RfmCellOut(Schema):
    r: int
    f: int
    customers: int
    revenue: str


class RfmSegmentOut(Schema):
    segment: str
    label: str
    customers: int
    revenue: str


class RfmGridOut(Schema):
    window_days: int
    computed_at: dt.datetime | None
    customers: int
    revenue: str
    cells: list[RfmCellOut] = Field(..., description="25 cells, R 5 → 1, F 1 → 5")
    segments: list[RfmSegmentOut]


class PlacementOut(Schema):
    dimension: str
    dimension_name: str
    value: str | None
    value_label: str | None
    manual: bool
    rule: str | None
    reasons: list[str]
    since: dt.datetime | None


class PreviewIn(Schema):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(..., max_length=100)
    value: int | None = Field(None, description="The dimension value the rule sets (its id); "
                                                "or, for a tag rule, null")
    tag: str | None = Field(None, max_length=50,
                            description="A tag rule: the tag's name (created when saved)")
    tag_action: Literal["add", "remove"] | None = Field(
        None, description="A tag rule: add the tag where the rule decides, or remove it")
    priority: int = 100
    condition: dict[str, Any] | None = Field(None, description="A condition; null: every customer")
    rule: int | None = Field(None, description="The rule this draft replaces, when editing one")


class ChangeOut(Schema):
    from_value: str | None
    to_value: str | None
    from_color: str | None = Field(None, description="The value's colour (#rrggbb); none for tags")
    to_color: str | None = None
    customers: int
    examples: list[dict[str, Any]]


class PreviewOut(Schema):
    dimension: str = Field(..., description="The dimension's key, or tag:<name> for a tag rule")
    changed: int
    unchanged: int
    manual: int
    changes: list[ChangeOut]


@router.get("/customers/{customer_id}/rfm", response={200: RfmOut, **READ_ERRORS})
def customer_rfm(request: HttpRequest, customer_id: int) -> HttpResponse:
    return json_response(selectors.customer_rfm(viewer=request.auth, customer_id=customer_id))


@router.get("/customers/{customer_id}/classification",
            response={200: list[PlacementOut], **READ_ERRORS})
def customer_classification(request: HttpRequest, customer_id: int) -> HttpResponse:
    """Each dimension's value, and why: the rule and its figures, or a person's override."""
    found = selectors.customer_placements(viewer=request.auth, customer_id=customer_id)
    return json_response([{
        "dimension": p.dimension.key, "dimension_name": p.dimension.name,
        "value": p.row.value.key if p.row else None,
        "value_label": p.row.value.label if p.row else None,
        "manual": bool(p.row and p.row.manual),
        "rule": p.row.rule.name if p.row and p.row.rule else None,
        "reasons": p.reasons, "since": p.row.set_at if p.row else None,
    } for p in found["placements"]])


@router.get("/analytics/rfm", response={200: RfmGridOut, **READ_ERRORS})
def rfm_grid(request: HttpRequest) -> HttpResponse:
    """The R × F grid of your customers: count and revenue per cell and per named segment."""
    grid = selectors.rfm_grid(viewer=request.auth)
    return json_response({
        **grid, "revenue": str(grid["revenue"]),
        "cells": [{**c, "revenue": str(c["revenue"])} for c in grid["cells"]],
        "segments": [{**s, "revenue": str(s["revenue"])} for s in grid["segments"]]})


@router.post("/classification/rules/preview", response={200: PreviewOut, **WRITE_ERRORS})
def preview(request: HttpRequest, payload: PreviewIn) -> HttpResponse:
    """What saving this rule would change, among the customers you may see (admins)."""
    return json_response(rule_preview(viewer=request.auth, data=payload.model_dump()))
