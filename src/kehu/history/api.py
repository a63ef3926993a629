"""The history API: communications, products, orders, needs, preferences, opportunities,
pipelines, surveys, tickets, and each customer's timeline and summary figures.

Thin like the customers API: parse, call one service or selector, serialize. A
record attached to a customer is visible exactly when its customer is; writes
pass a bare `Model(pk=...)` and the services decide 404 / 403 under lock.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from ninja import File, Query, Router, Schema
from ninja.files import UploadedFile

from kehu.api.pagination import page_body
from kehu.api.responses import json_response, no_content, parse_if_match
from kehu.api.schemas import IF_MATCH, READ_ERRORS, VERSIONED_ERRORS, WRITE_ERRORS, PageParams
from kehu.core.errors import Http404
from kehu.core.models import Origin
from kehu.history import api_schemas as s
from kehu.history import selectors, services
from kehu.history.models import (
    Communication,
    Need,
    Opportunity,
    Order,
    Pipeline,
    Stage,
    Survey,
    Ticket,
)

router = Router(tags=["history"])
API = Origin.API  # provenance of every write made through this router


def _payload(payload: Schema) -> dict[str, Any]:
    # Only what the client sent: a PATCH must not blank the fields it left out.
    return payload.model_dump(exclude_unset=True)


def _one(request: HttpRequest, kind: str, pk: int, status: int = 200) -> HttpResponse:
    """One record the caller can see, serialized, with its version as ETag (404 otherwise)."""
    record = selectors.record_get(viewer=request.auth, kind=kind, pk=pk)
    version = getattr(record, "version", None)
    return json_response(s.SERIALIZERS[kind](record), status=status, version=version)


def _page(request: HttpRequest, record: str, page: PageParams, **filters: Any) -> HttpResponse:
    # `record`, not `kind`: tickets and surveys have a `kind` filter of their own.
    result = selectors.LISTS[record](viewer=request.auth, cursor=page.cursor, limit=page.limit,
                                     **filters)
    return json_response(page_body(result, s.SERIALIZERS[record]))


# --- the customer's timeline and figures --------------------------------------------


@router.get("/customers/{int:customer_id}/timeline", response={200: s.TimelinePage, **READ_ERRORS})
def customer_timeline(
    request: HttpRequest, customer_id: int, page: Query[PageParams],
    kinds: str | None = Query(None, description="Comma-separated: communication,order,…"),
) -> HttpResponse:
    """Everything that happened with the customer, newest first, in keyset pages."""
    wanted = [k.strip() for k in kinds.split(",") if k.strip()] if kinds else None
    result = selectors.timeline(viewer=request.auth, customer_id=customer_id, kinds=wanted,
                                cursor=page.cursor, limit=page.limit)
    return json_response(page_body(result, s.timeline_entry_dict))


@router.get("/customers/{int:customer_id}/summary", response={200: s.SummaryOut, **READ_ERRORS})
def customer_summary(request: HttpRequest, customer_id: int) -> HttpResponse:
    """The figures on the card: spend, orders, last contact, satisfaction, pipeline, complaints."""
    summary = selectors.customer_summary(viewer=request.auth, customer_id=customer_id)
    return json_response(s.summary_dict(summary))


# --- communications ------------------------------------------------------------------


@router.get("/communications", response={200: s.CommunicationPage, **READ_ERRORS})
def communication_list(
    request: HttpRequest, page: Query[PageParams], customer: int | None = None
) -> HttpResponse:
    return _page(request, "communication", page, customer_id=customer)


@router.post("/customers/{int:customer_id}/communications",
             response={201: s.CommunicationOut, **WRITE_ERRORS})
def communication_log(
    request: HttpRequest, customer_id: int, payload: s.CommunicationIn
) -> HttpResponse:
    record = services.communication_log(actor=request.auth, customer=customer_id,
                                        data=_payload(payload), origin=API)
    return _one(request, "communication", record.pk, status=201)


@router.get("/communications/{int:communication_id}", response={200: s.CommunicationOut, **READ_ERRORS})
def communication_detail(request: HttpRequest, communication_id: int) -> HttpResponse:
    return _one(request, "communication", communication_id)


@router.patch("/communications/{int:communication_id}",
              response={200: s.CommunicationOut, **VERSIONED_ERRORS})
def communication_update(
    request: HttpRequest, communication_id: int, payload: s.CommunicationIn,
    if_match: str | None = IF_MATCH,
) -> HttpResponse:
    services.communication_update(actor=request.auth, origin=API,
                                  communication=Communication(pk=communication_id),
                                  data=_payload(payload),
                                  expected_version=parse_if_match(if_match))
    return _one(request, "communication", communication_id)


@router.delete("/communications/{int:communication_id}", response={204: None, **VERSIONED_ERRORS})
def communication_delete(
    request: HttpRequest, communication_id: int, if_match: str | None = IF_MATCH
) -> HttpResponse:
    services.communication_delete(actor=request.auth, origin=API,
                                  communication=Communication(pk=communication_id),
                                  expected_version=parse_if_match(if_match))
    return no_content()


@router.post("/communications/{int:communication_id}/attachments",
             response={201: s.AttachmentOut, **WRITE_ERRORS})
def attachment_add(
    request: HttpRequest, communication_id: int, file: File[UploadedFile]
) -> HttpResponse:
    """Upload one file (multipart/form-data, field `file`); size and type are limited."""
    attachment = services.attachment_add(actor=request.auth, origin=API,
                                         communication=Communication(pk=communication_id),
                                         upload=file)
    return json_response(s.attachment_dict(attachment), status=201)


# --- products (read for all, write for admins and managers) -----------------------------


@router.get("/products", response={200: s.ProductPage, **READ_ERRORS})
def product_list(
    request: HttpRequest, page: Query[PageParams], active: bool | None = None
) -> HttpResponse:
    return _page(request, "product", page, active=active)


@router.post("/products", response={201: s.ProductOut, **WRITE_ERRORS})
def product_create(request: HttpRequest, payload: s.ProductIn) -> HttpResponse:
    product = services.product_save(actor=request.auth, origin=API, data=_payload(payload))
    return _one(request, "product", product.pk, status=201)


@router.get("/products/{int:product_id}", response={200: s.ProductOut, **READ_ERRORS})
def product_detail(request: HttpRequest, product_id: int) -> HttpResponse:
    return _one(request, "product", product_id)


@router.patch("/products/{int:product_id}", response={200: s.ProductOut, **WRITE_ERRORS})
def product_update(request: HttpRequest, product_id: int, payload: s.ProductIn) -> HttpResponse:
    product = selectors.record_get(viewer=request.auth, kind="product", pk=product_id)
    services.product_save(actor=request.auth, origin=API, data=_payload(payload), product=product)
    return _one(request, "product", product_id)


# --- orders ------------------------------------------------------------------------------


@router.get("/orders", response={200: s.OrderPage, **READ_ERRORS})
def order_list(
    request: HttpRequest, page: Query[PageParams], customer: int | None = None,
    status: str | None = None,
) -> HttpResponse:
    return _page(request, "order", page, customer_id=customer, status=status)


@router.post("/customers/{int:customer_id}/orders", response={201: s.OrderOut, **WRITE_ERRORS})
def order_create(request: HttpRequest, customer_id: int, payload: s.OrderIn) -> HttpResponse:
    order = services.order_create(actor=request.auth, customer=customer_id,
                                  data=_payload(payload), origin=API)
    return _one(request, "order", order.pk, status=201)


@router.post("/orders/bulk", response={200: s.BulkOrdersOut, **WRITE_ERRORS})
def orders_bulk(request: HttpRequest, payload: s.BulkOrdersIn) -> HttpResponse:
    """An ERP or shop pushes many orders at once: idempotent by `external_number`.

    All or nothing: one bad order and nothing is written; errors name the row
    (`orders.17.lines.0.product`). Orders already known are counted, not changed.
    """
    rows = [row.model_dump(exclude_unset=True) for row in payload.orders]
    result = services.orders_ingest(actor=request.auth, orders=rows, origin=API)
    return json_response(result)


@router.get("/orders/{int:order_id}", response={200: s.OrderOut, **READ_ERRORS})
def order_detail(request: HttpRequest, order_id: int) -> HttpResponse:
    return _one(request, "order", order_id)


@router.patch("/orders/{int:order_id}", response={200: s.OrderOut, **VERSIONED_ERRORS})
def order_update(
    request: HttpRequest, order_id: int, payload: s.OrderIn, if_match: str | None = IF_MATCH
) -> HttpResponse:
    services.order_update(actor=request.auth, origin=API, order=Order(pk=order_id), data=_payload(payload),
                          expected_version=parse_if_match(if_match))
    return _one(request, "order", order_id)


@router.delete("/orders/{int:order_id}", response={204: None, **VERSIONED_ERRORS})
def order_delete(request: HttpRequest, order_id: int, if_match: str | None = IF_MATCH) -> HttpResponse:
    services.order_delete(actor=request.auth, origin=API, order=Order(pk=order_id),
                          expected_version=parse_if_match(if_match))
    return no_content()


# --- preference and needs -----------------------------------------------------------------


@router.get("/customers/{int:customer_id}/preference",
            response={200: s.PreferenceOut, **READ_ERRORS})
def preference_detail(request: HttpRequest, customer_id: int) -> HttpResponse:
    """The customer's preferences (empty values until someone records them)."""
    preference = selectors.preference_get(viewer=request.auth, customer_id=customer_id)
    if preference is None:
        return json_response(s.empty_preference(customer_id))
    return json_response(s.preference_dict(preference), version=preference.version)


@router.put("/customers/{int:customer_id}/preference",
            response={200: s.PreferenceOut, **VERSIONED_ERRORS})
def preference_save(
    request: HttpRequest, customer_id: int, payload: s.PreferenceIn,
    if_match: str | None = IF_MATCH,
) -> HttpResponse:
    services.preference_save(actor=request.auth, origin=API, customer=customer_id,
                             data=_payload(payload), expected_version=parse_if_match(if_match))
    return preference_detail(request, customer_id)


@router.get("/needs", response={200: s.NeedPage, **READ_ERRORS})
def need_list(
    request: HttpRequest, page: Query[PageParams], customer: int | None = None,
    status: str | None = None,
) -> HttpResponse:
    return _page(request, "need", page, customer_id=customer, status=status)


@router.post("/customers/{int:customer_id}/needs", response={201: s.NeedOut, **WRITE_ERRORS})
def need_create(request: HttpRequest, customer_id: int, payload: s.NeedIn) -> HttpResponse:
    need = services.need_create(actor=request.auth, customer=customer_id,
                                data=_payload(payload), origin=API)
    return _one(request, "need", need.pk, status=201)


@router.get("/needs/{int:need_id}", response={200: s.NeedOut, **READ_ERRORS})
def need_detail(request: HttpRequest, need_id: int) -> HttpResponse:
    return _one(request, "need", need_id)


@router.patch("/needs/{int:need_id}", response={200: s.NeedOut, **VERSIONED_ERRORS})
def need_update(
    request: HttpRequest, need_id: int, payload: s.NeedIn, if_match: str | None = IF_MATCH
) -> HttpResponse:
    services.need_update(actor=request.auth, origin=API, need=Need(pk=need_id), data=_payload(payload),
                         expected_version=parse_if_match(if_match))
    return _one(request, "need", need_id)


@router.delete("/needs/{int:need_id}", response={204: None, **VERSIONED_ERRORS})
def need_delete(request: HttpRequest, need_id: int, if_match: str | None = IF_MATCH) -> HttpResponse:
    services.need_delete(actor=request.auth, origin=API, need=Need(pk=need_id),
                         expected_version=parse_if_match(if_match))
    return no_content()


# --- opportunities ----------------------------------------------------------------------


@router.get("/opportunities", response={200: s.OpportunityPage, **READ_ERRORS})
def opportunity_list(
    request: HttpRequest, page: Query[PageParams], customer: int | None = None,
    pipeline: int | None = None, status: str | None = None,
) -> HttpResponse:
    return _page(request, "opportunity", page, customer_id=customer, pipeline_id=pipeline,
                 status=status)


@router.post("/customers/{int:customer_id}/opportunities",
             response={201: s.OpportunityOut, **WRITE_ERRORS})
def opportunity_create(
    request: HttpRequest, customer_id: int, payload: s.OpportunityIn
) -> HttpResponse:
    record = services.opportunity_create(actor=request.auth, customer=customer_id,
                                         data=_payload(payload), origin=API)
    return _one(request, "opportunity", record.pk, status=201)


@router.get("/opportunities/{int:opportunity_id}", response={200: s.OpportunityOut, **READ_ERRORS})
def opportunity_detail(request: HttpRequest, opportunity_id: int) -> HttpResponse:
    return _one(request, "opportunity", opportunity_id)


@router.patch("/opportunities/{int:opportunity_id}", response={200: s.OpportunityOut, **VERSIONED_ERRORS})
def opportunity_update(
    request: HttpRequest, opportunity_id: int, payload: s.OpportunityIn, if_match: str | None = IF_MATCH
) -> HttpResponse:
    services.opportunity_update(actor=request.auth, origin=API, opportunity=Opportunity(pk=opportunity_id),
                                data=_payload(payload), expected_version=parse_if_match(if_match))
    return _one(request, "opportunity", opportunity_id)


@router.delete("/opportunities/{int:opportunity_id}", response={204: None, **VERSIONED_ERRORS})
def opportunity_delete(
    request: HttpRequest, opportunity_id: int, if_match: str | None = IF_MATCH
) -> HttpResponse:
    services.opportunity_delete(actor=request.auth, origin=API, opportunity=Opportunity(pk=opportunity_id),
                                expected_version=parse_if_match(if_match))
    return no_content()


@router.post("/opportunities/{int:opportunity_id}/move", response={200: s.OpportunityOut, **VERSIONED_ERRORS})
def opportunity_move(
    request: HttpRequest, opportunity_id: int, payload: s.MoveIn, if_match: str | None = IF_MATCH
) -> HttpResponse:
    """Move to another stage of the same pipeline (what the kanban's drag and drop does)."""
    services.opportunity_move(actor=request.auth, origin=API, opportunity=Opportunity(pk=opportunity_id),
                              stage=payload.stage, expected_version=parse_if_match(if_match))
    return _one(request, "opportunity", opportunity_id)


@router.post("/opportunities/{int:opportunity_id}/close",
             response={200: s.OpportunityOut, **VERSIONED_ERRORS})
def opportunity_close(
    request: HttpRequest, opportunity_id: int, payload: s.CloseIn, if_match: str | None = IF_MATCH
) -> HttpResponse:
    """Won or lost, with a reason (required when lost)."""
    services.opportunity_close(actor=request.auth, origin=API, opportunity=Opportunity(pk=opportunity_id),
                               won=payload.won, reason=payload.reason,
                               expected_version=parse_if_match(if_match))
    return _one(request, "opportunity", opportunity_id)


# --- pipelines and stages (read for all, write for admins) ------------------------------------


@router.get("/pipelines", response={200: list[s.PipelineOut], **READ_ERRORS})
def pipeline_list(request: HttpRequest) -> HttpResponse:
    pipelines = selectors.pipeline_list(viewer=request.auth)
    return json_response([s.pipeline_dict(p) for p in pipelines])


@router.post("/pipelines", response={201: s.PipelineOut, **WRITE_ERRORS})
def pipeline_create(request: HttpRequest, payload: s.PipelineIn) -> HttpResponse:
    pipeline = services.pipeline_save(actor=request.auth, origin=API, data=_payload(payload))
    return json_response(s.pipeline_dict(pipeline), status=201)


@router.patch("/pipelines/{int:pipeline_id}", response={200: s.PipelineOut, **WRITE_ERRORS})
def pipeline_update(request: HttpRequest, pipeline_id: int, payload: s.PipelineIn) -> HttpResponse:
    pipeline = services.pipeline_save(actor=request.auth, origin=API, data=_payload(payload),
                                      pipeline=_exists(Pipeline, pipeline_id))
    return json_response(s.pipeline_dict(pipeline))


@router.post("/pipelines/{int:pipeline_id}/stages", response={201: s.StageOut, **WRITE_ERRORS})
def stage_create(request: HttpRequest, pipeline_id: int, payload: s.StageIn) -> HttpResponse:
    stage = services.stage_save(actor=request.auth, origin=API,
                                data={**_payload(payload), "pipeline": _exists(Pipeline, pipeline_id).pk})
    return json_response(s.stage_dict(stage), status=201)


@router.patch("/stages/{int:stage_id}", response={200: s.StageOut, **WRITE_ERRORS})
def stage_update(request: HttpRequest, stage_id: int, payload: s.StageIn) -> HttpResponse:
    stage = services.stage_save(actor=request.auth, origin=API, data=_payload(payload),
                                stage=_exists(Stage, stage_id))
    return json_response(s.stage_dict(stage))


def _exists(model: type, pk: int) -> Any:
    """Pipelines and stages are company-wide configuration, readable by everyone signed in."""
    found = model.objects.filter(pk=pk).first()
    if found is None:
        raise Http404
    return found


# --- surveys and tickets -------------------------------------------------------------------


@router.get("/surveys", response={200: s.SurveyPage, **READ_ERRORS})
def survey_list(
    request: HttpRequest, page: Query[PageParams], customer: int | None = None
) -> HttpResponse:
    return _page(request, "survey", page, customer_id=customer)


@router.post("/customers/{int:customer_id}/surveys", response={201: s.SurveyOut, **WRITE_ERRORS})
def survey_record(request: HttpRequest, customer_id: int, payload: s.SurveyIn) -> HttpResponse:
    survey = services.survey_record(actor=request.auth, customer=customer_id,
                                    data=_payload(payload), origin=API)
    return _one(request, "survey", survey.pk, status=201)


@router.get("/surveys/{int:survey_id}", response={200: s.SurveyOut, **READ_ERRORS})
def survey_detail(request: HttpRequest, survey_id: int) -> HttpResponse:
    return _one(request, "survey", survey_id)


@router.delete("/surveys/{int:survey_id}", response={204: None, **VERSIONED_ERRORS})
def survey_delete(request: HttpRequest, survey_id: int, if_match: str | None = IF_MATCH) -> HttpResponse:
    services.survey_delete(actor=request.auth, origin=API, survey=Survey(pk=survey_id),
                           expected_version=parse_if_match(if_match))
    return no_content()


@router.get("/tickets", response={200: s.TicketPage, **READ_ERRORS})
def ticket_list(
    request: HttpRequest, page: Query[PageParams], customer: int | None = None,
    status: str | None = None, kind: str | None = None,
) -> HttpResponse:
    return _page(request, "ticket", page, customer_id=customer, status=status, kind=kind or "")


@router.post("/customers/{int:customer_id}/tickets", response={201: s.TicketOut, **WRITE_ERRORS})
def ticket_create(request: HttpRequest, customer_id: int, payload: s.TicketIn) -> HttpResponse:
    ticket = services.ticket_create(actor=request.auth, customer=customer_id,
                                    data=_payload(payload), origin=API)
    return _one(request, "ticket", ticket.pk, status=201)


@router.get("/tickets/{int:ticket_id}", response={200: s.TicketOut, **READ_ERRORS})
def ticket_detail(request: HttpRequest, ticket_id: int) -> HttpResponse:
    return _one(request, "ticket", ticket_id)


@router.patch("/tickets/{int:ticket_id}", response={200: s.TicketOut, **VERSIONED_ERRORS})
def ticket_update(
    request: HttpRequest, ticket_id: int, payload: s.TicketIn, if_match: str | None = IF_MATCH
) -> HttpResponse:
    services.ticket_update(actor=request.auth, origin=API, ticket=Ticket(pk=ticket_id),
                           data=_payload(payload), expected_version=parse_if_match(if_match))
    return _one(request, "ticket", ticket_id)


@router.delete("/tickets/{int:ticket_id}", response={204: None, **VERSIONED_ERRORS})
def ticket_delete(request: HttpRequest, ticket_id: int, if_match: str | None = IF_MATCH) -> HttpResponse:
    services.ticket_delete(actor=request.auth, origin=API, ticket=Ticket(pk=ticket_id),
                           expected_version=parse_if_match(if_match))
    return no_content()

