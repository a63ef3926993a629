"""A customer's whole history at a glance: the timeline, the card's figures, preferences."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from ninja import Query, Router

from kehu.api.inputs import payload_data
from kehu.api.pagination import page_body
from kehu.api.responses import json_response, parse_if_match
from kehu.api.schemas import IF_MATCH, READ_ERRORS, VERSIONED_ERRORS, PageParams
from kehu.history import selectors, services
from kehu.history.api import schemas as s
from kehu.history.api import serializers
from kehu.history.api.records import API


def register(router: Router) -> None:
    router.get("/customers/{int:customer_id}/timeline",
               response={200: s.TimelinePage, **READ_ERRORS})(customer_timeline)
    router.get("/customers/{int:customer_id}/summary",
               response={200: s.SummaryOut, **READ_ERRORS})(customer_summary)
    router.get("/customers/{int:customer_id}/preference",
               response={200: s.PreferenceOut, **READ_ERRORS})(preference_detail)
    router.put("/customers/{int:customer_id}/preference",
               response={200: s.PreferenceOut, **VERSIONED_ERRORS})(preference_save)


def customer_timeline(
    request: HttpRequest, customer_id: int, page: Query[PageParams],
    kinds: str | None = Query(None, description="Comma-separated: communication,order,…"),
) -> HttpResponse:
    """Everything that happened with the customer, newest first, in keyset pages."""
    wanted = [k.strip() for k in kinds.split(",") if k.strip()] if kinds else None
    result = selectors.timeline(viewer=request.auth, customer_id=customer_id, kinds=wanted,
                                cursor=page.cursor, limit=page.limit)
    return json_response(page_body(result, serializers.timeline_entry_dict))


def customer_summary(request: HttpRequest, customer_id: int) -> HttpResponse:
    """The figures on the card: spend, orders, last contact, satisfaction, pipeline, complaints."""
    summary = selectors.customer_summary(viewer=request.auth, customer_id=customer_id)
    return json_response(serializers.summary_dict(summary))


def preference_detail(request: HttpRequest, customer_id: int) -> HttpResponse:
    """The customer's preferences (empty values until someone records them)."""
    preference = selectors.preference_get(viewer=request.auth, customer_id=customer_id)
    if preference is None:
        return json_response(serializers.empty_preference(customer_id))
    return json_response(serializers.preference_dict(preference), version=preference.version)


def preference_save(
    request: HttpRequest, customer_id: int, payload: s.PreferenceIn,
    if_match: str | None = IF_MATCH,
) -> HttpResponse:
    services.preference_save(actor=request.auth, origin=API, customer=customer_id,
                             data=payload_data(payload), expected_version=parse_if_match(if_match))
    return preference_detail(request, customer_id)
