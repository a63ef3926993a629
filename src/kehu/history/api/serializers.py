"""Records of the history as JSON-ready dicts, one function per kind (`SERIALIZERS`)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

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
def register_timeline_serializer(kind: str, serializer: Any) -> None:
    """The API's dict of a kind another app put on the timeline (`register_timeline_kind`)."""
    SERIALIZERS[kind] = serializer


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
