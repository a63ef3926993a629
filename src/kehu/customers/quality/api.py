"""The data-quality API: the caller's summary, one customer's quality, "信息已核实" — the
same selectors and service as the page and the card, so the same scope."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import HttpRequest, HttpResponse
from ninja import Router, Schema
from pydantic import Field

from kehu.api.responses import json_response
from kehu.api.schemas import READ_ERRORS, WRITE_ERRORS
from kehu.core.models import Origin
from kehu.customers.quality import selectors, services

quality_router = Router(tags=["quality"])


class QualityFiguresOut(Schema):
    customers: int
    average: float | None = Field(None, description="Average completeness 0–100 of the scored")
    stale: int = Field(..., description="Neither updated nor verified within stale_days")
    invalid: int = Field(..., description="With at least one problem found by re-validation")


class QualityOwnerFiguresOut(QualityFiguresOut):
    owner: int | None
    label: str


class QualityTeamFiguresOut(QualityFiguresOut):
    department: int | None
    label: str


class QualityTrendOut(Schema):
    day: dt.date
    customers: int
    average: float | None
    stale: int
    invalid: int


class QualityWorstOut(Schema):
    id: int
    name: str
    owner: int | None
    completeness: int
    problem_count: int
    stale: bool


class QualitySummaryOut(Schema):
    stale_days: int
    total: QualityFiguresOut
    by_owner: list[QualityOwnerFiguresOut] = Field(..., description="Worst average first")
    by_team: list[QualityTeamFiguresOut] = Field(..., description="By the owner's department")
    worst: list[QualityWorstOut] = Field(..., description="Least complete first, then most problems")
    trend: list[QualityTrendOut] = Field(..., description="The nightly snapshots of the last 90 days")


class QualityFieldOut(Schema):
    key: str
    label: str
    weight: int


class QualityProblemOut(Schema):
    field: str
    reason: str


class CustomerQualityOut(Schema):
    customer_id: int
    completeness: int = Field(..., description="0–100, computed now with the current weights")
    missing: list[QualityFieldOut] = Field(..., description="Counted fields it lacks, heaviest first")
    stale: bool
    stale_days: int
    touched_at: dt.datetime = Field(..., description="Its last update or verification")
    verified_at: dt.datetime | None
    verified_by: int | None
    problems: list[QualityProblemOut]
    checked_at: dt.datetime | None = Field(None, description="When re-validation last ran on it")


class QualityVerificationOut(Schema):
    customer_id: int
    verified_at: dt.datetime
    verified_by: int


def _figures(row: dict[str, Any]) -> dict[str, Any]:
    return {"customers": row["customers"], "average": row["average"], "stale": row["stale"],
            "invalid": row["invalid"]}


@quality_router.get("/quality", response={200: QualitySummaryOut, **READ_ERRORS})
def quality_summary(request: HttpRequest) -> HttpResponse:
    """Data quality of your customers (your scope): in all, per owner, per team, the worst
    records and the trend."""
    viewer = request.auth
    summary = selectors.quality_summary(viewer=viewer)
    worst = selectors.quality_worst(viewer=viewer)
    return json_response({
        "stale_days": summary["stale_days"], "total": _figures(summary["total"]),
        "by_owner": [{**_figures(r), "owner": r["owner_id"], "label": r["label"]}
                     for r in summary["by_owner"]],
        "by_team": [{**_figures(r), "department": r["team"], "label": r["label"]}
                    for r in summary["by_team"]],
        "worst": [{"id": c.pk, "name": c.name, "owner": c.owner_id,
                   "completeness": c.quality.completeness,
                   "problem_count": c.quality.problem_count, "stale": c.is_stale} for c in worst],
        "trend": selectors.quality_trend(viewer=viewer),
    })


@quality_router.get("/customers/{int:customer_id}/quality",
                    response={200: CustomerQualityOut, **READ_ERRORS})
def customer_quality(request: HttpRequest, customer_id: int) -> HttpResponse:
    found = selectors.customer_quality(viewer=request.auth, customer_id=customer_id)
    return json_response({
        "customer_id": customer_id, "completeness": found["completeness"],
        "missing": [{"key": m["key"], "label": str(m["label"]), "weight": m["weight"]}
                    for m in found["missing"]],
        "stale": found["stale"], "stale_days": found["stale_days"],
        "touched_at": found["touched_at"], "verified_at": found["verified_at"],
        "verified_by": found["verified_by"].pk if found["verified_by"] else None,
        "problems": found["problems"], "checked_at": found["checked_at"]})


@quality_router.post("/customers/{int:customer_id}/quality/verify",
                     response={201: QualityVerificationOut, **WRITE_ERRORS})
def customer_verify(request: HttpRequest, customer_id: int) -> HttpResponse:
    """"信息已核实": you checked the customer's data and found it current (clears stale)."""
    verification = services.customer_verify(actor=request.auth, origin=Origin.API,
                                            customer_id=customer_id)
    return json_response({"customer_id": customer_id, "verified_at": verification.created_at,
                          "verified_by": verification.created_by_id}, status=201)
