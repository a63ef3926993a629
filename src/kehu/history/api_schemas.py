"""The documented shapes of the history API and the functions that fill them.

Input schemas only name and type the fields (validation lives in the services);
output is built as plain dicts (see `kehu.api.responses.json_response`).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from ninja import Schema
from pydantic import ConfigDict, Field

from kehu.api.schemas import UserRef, page_of
from kehu.history.models import (
    Attachment,
    Communication,
    Need,
    Opportunity,
    Order,
    Pipeline,
    Preference,
    Product,
    Stage,
    Survey,
    Ticket,
)

Money = Decimal | str  # "398.00" or 398.00: amounts are decimals, never floats


class In(Schema):
    """Fields to set; PATCH sends only what changes. Unknown fields are an error."""

    model_config = ConfigDict(extra="forbid")


class CommunicationIn(In):
    channel: str | None = Field(None, description="phone | visit | wechat | email | meeting | other")
    direction: str | None = Field(None, description="outbound | inbound")
    occurred_at: dt.datetime | None = Field(None, description="Defaults to now")
    contact: int | None = Field(None, description="Contact id; defaults to the primary contact")
    subject: str | None = None
    content: str | None = None
    outcome: str | None = None
    next_step: str | None = None
    next_follow_up: dt.date | None = None


class ProductIn(In):
    sku: str | None = None
    name: str | None = None
    category: str | None = Field(None, description="Category name (created when new)")
    unit_price: Money | None = None
    currency: str | None = None
    is_active: bool | None = None


class OrderLineIn(In):
    product: int | str = Field(description="Product id or SKU")
    quantity: Money
    unit_price: Money | None = Field(None, description="Defaults to the catalogue price")
    discount: Money | None = None


class OrderIn(In):
    number: str | None = Field(None, description="Generated when left out")
    external_number: str | None = Field(None, description="The ERP's or shop's order number")
    ordered_on: dt.date | None = None
    status: str | None = Field(None, description="draft | confirmed | paid | cancelled | refunded")
    currency: str | None = None
    notes: str | None = None
    lines: list[OrderLineIn] | None = Field(None, description="On update: replaces all lines")


class BulkOrderIn(OrderIn):
    customer: int


class BulkOrdersIn(In):
    orders: list[BulkOrderIn] = Field(max_length=1000)


class BulkOrdersOut(Schema):
    created: int
    existing: int
    created_ids: list[int]
    existing_ids: list[int]


class PreferenceIn(In):
    preferred_channel: str | None = None
    preferred_contact_time: str | None = None
    interests: list[str] | None = Field(None, description="Product category names")
    budget_min: Money | None = None
    budget_max: Money | None = None
    currency: str | None = None
    decision_maker: int | None = Field(None, description="Contact id")
    pain_points: str | None = None


class NeedIn(In):
    content: str | None = None
    status: str | None = Field(None, description="open | in_progress | met | dropped")


class OpportunityIn(In):
    title: str | None = None
    kind: str | None = Field(None, description="new | cross_sell | upsell | renewal")
    products: list[int | str] | None = Field(None, description="Product ids or SKUs")
    amount: Money | None = None
    currency: str | None = None
    expected_close: dt.date | None = None
    pipeline: int | None = Field(None, description="Defaults to the default pipeline")
    stage: int | None = Field(None, description="Defaults to the pipeline's first open stage")
    owner: int | None = None


class MoveIn(In):
    stage: int


class CloseIn(In):
    won: bool
    reason: str = ""


class PipelineIn(In):
    name: str | None = None
    is_default: bool | None = None


class StageIn(In):
    name: str | None = None
    position: int | None = None
    probability: int | None = Field(None, description="Win probability in percent, 0-100")
    kind: str | None = Field(None, description="open | won | lost")


class SurveyIn(In):
    kind: str | None = Field(None, description="csat (1-5) | nps (0-10)")
    score: int | None = None
    comment: str | None = None
    channel: str | None = None
    answered_on: dt.date | None = None
    contact: int | None = None


class TicketIn(In):
    kind: str | None = Field(None, description="complaint | suggestion | inquiry")
    subject: str | None = None
    content: str | None = None
    status: str | None = Field(None, description="open | in_progress | resolved | closed")
    handler: int | None = None
    resolution: str | None = None
    opened_at: dt.datetime | None = None


# --- output ----------------------------------------------------------------------


class Record(Schema):
    id: int
    customer_id: int
    origin: str
    version: int
    created_at: dt.datetime
    updated_at: dt.datetime
    created_by: UserRef | None


class AttachmentOut(Schema):
    id: int
    name: str
    content_type: str
    size: int
    uploaded_at: dt.datetime


class CommunicationOut(Record):
    channel: str
    direction: str
    occurred_at: dt.datetime
    contact: int | None
    subject: str
    content: str
    outcome: str
    next_step: str
    next_follow_up: dt.date | None
    attachments: list[AttachmentOut]


class ProductOut(Schema):
    id: int
    sku: str
    name: str
    category: str | None
    unit_price: str
    currency: str
    is_active: bool


class OrderLineOut(Schema):
    product: int
    sku: str
    quantity: str
    unit_price: str
    discount: str
    amount: str


class OrderOut(Record):
    number: str
    external_number: str | None
    ordered_on: dt.date
    status: str
    currency: str
    total: str
    notes: str
    lines: list[OrderLineOut]


class PreferenceOut(Schema):
    customer_id: int
    preferred_channel: str
    preferred_contact_time: str
    interests: list[str]
    budget_min: str | None
    budget_max: str | None
    currency: str
    decision_maker: int | None
    pain_points: str
    version: int


class NeedOut(Record):
    content: str
    status: str


class StageOut(Schema):
    id: int
    pipeline: int
    name: str
    position: int
    probability: int
    kind: str


class PipelineOut(Schema):
    id: int
    name: str
    is_default: bool
    stages: list[StageOut]


class OpportunityOut(Record):
    title: str
    kind: str
    products: list[int]
    amount: str
    currency: str
    expected_close: dt.date | None
    pipeline: int
    stage: StageOut
    owner: UserRef | None
    status: str
    close_reason: str
    closed_at: dt.datetime | None


class SurveyOut(Record):
    kind: str
    score: int
    comment: str
    channel: str
    answered_on: dt.date
    contact: int | None


class TicketOut(Record):
    kind: str
    subject: str
    content: str
    status: str
    handler: UserRef | None
    resolution: str
    opened_at: dt.datetime
    resolved_at: dt.datetime | None
    hours_to_resolve: float | None


class TimelineEntryOut(Schema):
    kind: str
    at: dt.datetime
    id: int
    title: str
    data: dict[str, Any]


class SummaryOut(Schema):
    total_spent: str
    order_count: int
    average_order_value: str | None
    average_days_between_purchases: float | None
    last_purchase: dt.date | None
    last_contact: dt.datetime | None
    days_since_last_contact: int | None
    latest_csat: int | None
    latest_nps: int | None
    open_opportunities: int
    weighted_pipeline: str
    open_complaints: int


CommunicationPage = page_of(CommunicationOut, "CommunicationPage")
ProductPage = page_of(ProductOut, "ProductPage")
OrderPage = page_of(OrderOut, "OrderPage")
NeedPage = page_of(NeedOut, "NeedPage")
OpportunityPage = page_of(OpportunityOut, "OpportunityPage")
SurveyPage = page_of(SurveyOut, "SurveyPage")
TicketPage = page_of(TicketOut, "TicketPage")
TimelinePage = page_of(TimelineEntryOut, "TimelinePage")


# --- serialization -----------------------------------------------------------------


def _user(user: Any) -> dict[str, Any] | None:
    return {"id": user.pk, "name": user.label} if user is not None else None


def _money(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def _record(r: Any) -> dict[str, Any]:
    return {"id": r.pk, "customer_id": r.customer_id, "origin": r.origin, "version": r.version,
            "created_at": r.created_at, "updated_at": r.updated_at,
            "created_by": _user(r.created_by)}


def attachment_dict(a: Attachment) -> dict[str, Any]:
    return {"id": a.pk, "name": a.original_name, "content_type": a.content_type, "size": a.size,
            "uploaded_at": a.uploaded_at}


def communication_dict(c: Communication) -> dict[str, Any]:
    return {**_record(c), "channel": c.channel, "direction": c.direction,
            "occurred_at": c.occurred_at, "contact": c.contact_id, "subject": c.subject,
            "content": c.content, "outcome": c.outcome, "next_step": c.next_step,
            "next_follow_up": c.next_follow_up,
            "attachments": [attachment_dict(a) for a in c.attachments.all()]}


def product_dict(p: Product) -> dict[str, Any]:
    return {"id": p.pk, "sku": p.sku, "name": p.name,
            "category": p.category.name if p.category_id else None,
            "unit_price": _money(p.unit_price), "currency": p.currency, "is_active": p.is_active}


def order_dict(o: Order) -> dict[str, Any]:
    lines = [{"product": line.product_id, "sku": line.product.sku, "quantity": str(line.quantity),
              "unit_price": _money(line.unit_price), "discount": _money(line.discount),
              "amount": _money(line.amount)} for line in o.lines.all()]
    return {**_record(o), "number": o.number, "external_number": o.external_number,
            "ordered_on": o.ordered_on, "status": o.status, "currency": o.currency,
            "total": _money(o.total), "notes": o.notes, "lines": lines}


def preference_dict(p: Preference) -> dict[str, Any]:
    return {"customer_id": p.customer_id, "preferred_channel": p.preferred_channel,
            "preferred_contact_time": p.preferred_contact_time,
            "interests": sorted(c.name for c in p.interests.all()),
            "budget_min": _money(p.budget_min), "budget_max": _money(p.budget_max),
            "currency": p.currency, "decision_maker": p.decision_maker_id,
            "pain_points": p.pain_points, "version": p.version}


def empty_preference(customer_id: int) -> dict[str, Any]:
    """What GET answers before anyone recorded a preference (version 0: nothing to match)."""
    return {"customer_id": customer_id, "preferred_channel": "", "preferred_contact_time": "",
            "interests": [], "budget_min": None, "budget_max": None, "currency": "CNY",
            "decision_maker": None, "pain_points": "", "version": 0}


def need_dict(n: Need) -> dict[str, Any]:
    return {**_record(n), "content": n.content, "status": n.status}


def stage_dict(s: Stage) -> dict[str, Any]:
    return {"id": s.pk, "pipeline": s.pipeline_id, "name": s.name, "position": s.position,
            "probability": s.probability, "kind": s.kind}


def pipeline_dict(p: Pipeline) -> dict[str, Any]:
    return {"id": p.pk, "name": p.name, "is_default": p.is_default,
            "stages": [stage_dict(s) for s in p.stages.all()]}


def opportunity_dict(o: Opportunity) -> dict[str, Any]:
    return {**_record(o), "title": o.title, "kind": o.kind,
            "products": sorted(p.pk for p in o.products.all()), "amount": _money(o.amount),
            "currency": o.currency, "expected_close": o.expected_close, "pipeline": o.pipeline_id,
            "stage": stage_dict(o.stage), "owner": _user(o.owner), "status": o.status,
            "close_reason": o.close_reason, "closed_at": o.closed_at}


def survey_dict(s: Survey) -> dict[str, Any]:
    return {**_record(s), "kind": s.kind, "score": s.score, "comment": s.comment,
            "channel": s.channel, "answered_on": s.answered_on, "contact": s.contact_id}


def ticket_dict(t: Ticket) -> dict[str, Any]:
    hours = None
    if t.resolved_at is not None:
        hours = round((t.resolved_at - t.opened_at).total_seconds() / 3600, 2)
    return {**_record(t), "kind": t.kind, "subject": t.subject, "content": t.content,
            "status": t.status, "handler": _user(t.handler), "resolution": t.resolution,
            "opened_at": t.opened_at, "resolved_at": t.resolved_at, "hours_to_resolve": hours}


SERIALIZERS = {
    "communication": communication_dict, "order": order_dict, "need": need_dict,
    "opportunity": opportunity_dict, "survey": survey_dict, "ticket": ticket_dict,
    "product": product_dict,
}


# What timeline_entry_dict reads beyond the row is fetched by the timeline itself
# (kehu.history.timeline.SOURCES): its entries come finished.
def timeline_entry_dict(entry: Any) -> dict[str, Any]:
    return {"kind": entry.kind, "at": entry.at, "id": entry.obj.pk, "title": str(entry.obj),
            "data": SERIALIZERS[entry.kind](entry.obj)}


def summary_dict(s: Any) -> dict[str, Any]:
    return {
        "total_spent": _money(s.total_spent), "order_count": s.order_count,
        "average_order_value": _money(s.average_order_value),
        "average_days_between_purchases": (None if s.average_days_between_purchases is None
                                           else float(s.average_days_between_purchases)),
        "last_purchase": s.last_purchase, "last_contact": s.last_contact,
        "days_since_last_contact": s.days_since_last_contact,
        "latest_csat": s.latest_csat, "latest_nps": s.latest_nps,
        "open_opportunities": s.open_opportunities,
        "weighted_pipeline": _money(s.weighted_pipeline), "open_complaints": s.open_complaints,
    }
