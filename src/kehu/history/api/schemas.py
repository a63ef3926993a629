"""The documented shapes of the history API.

Input schemas only name and type the fields (validation lives in the services);
output is built as plain dicts by `serializers` (see `kehu.api.responses.json_response`);
these schemas document the contract and the tests check real responses against them.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from ninja import Schema
from pydantic import ConfigDict, Field

from kehu.api.schemas import UserRef, page_of

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
