"""Opportunities (商机) on their pipelines, and the pipelines and stages themselves."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from ninja import Router

from kehu.api.inputs import payload_data
from kehu.api.responses import json_response, parse_if_match
from kehu.api.schemas import IF_MATCH, READ_ERRORS, VERSIONED_ERRORS, WRITE_ERRORS
from kehu.history import selectors, services
from kehu.history.api import schemas as s
from kehu.history.api import serializers
from kehu.history.api.records import API, CUSTOMER, STATUS, Filter, RecordKind, one
from kehu.history.api.records import register as register_kind
from kehu.history.models import Opportunity, Pipeline, Stage

OPPORTUNITY = RecordKind(
    kind="opportunity", plural="opportunities", model=Opportunity, schema_in=s.OpportunityIn,
    schema_out=s.OpportunityOut, page=s.OpportunityPage, create=services.opportunity_create,
    update=services.opportunity_update, delete=services.opportunity_delete,
    filters=(CUSTOMER, Filter("pipeline", int | None, "pipeline_id"), STATUS),
    create_doc="Defaults: the default pipeline, its first open stage, you as the owner.",
)


def register(router: Router) -> None:
    register_kind(router, OPPORTUNITY)
    deal = "/opportunities/{int:opportunity_id}"
    router.post(f"{deal}/move", response={200: s.OpportunityOut, **VERSIONED_ERRORS})(opportunity_move)
    router.post(f"{deal}/close", response={200: s.OpportunityOut, **VERSIONED_ERRORS})(opportunity_close)
    router.get("/pipelines", response={200: list[s.PipelineOut], **READ_ERRORS})(pipeline_list)
    router.post("/pipelines", response={201: s.PipelineOut, **WRITE_ERRORS})(pipeline_create)
    router.patch("/pipelines/{int:pipeline_id}",
                 response={200: s.PipelineOut, **WRITE_ERRORS})(pipeline_update)
    router.post("/pipelines/{int:pipeline_id}/stages",
                response={201: s.StageOut, **WRITE_ERRORS})(stage_create)
    router.patch("/stages/{int:stage_id}", response={200: s.StageOut, **WRITE_ERRORS})(stage_update)


def opportunity_move(
    request: HttpRequest, opportunity_id: int, payload: s.MoveIn, if_match: str | None = IF_MATCH
) -> HttpResponse:
    """Move to another stage of the same pipeline (what the kanban's drag and drop does)."""
    services.opportunity_move(actor=request.auth, origin=API, opportunity=Opportunity(pk=opportunity_id),
                              stage=payload.stage, expected_version=parse_if_match(if_match))
    return one(request, "opportunity", opportunity_id)


def opportunity_close(
    request: HttpRequest, opportunity_id: int, payload: s.CloseIn, if_match: str | None = IF_MATCH
) -> HttpResponse:
    """Won or lost, with a reason (required when lost)."""
    services.opportunity_close(actor=request.auth, origin=API, opportunity=Opportunity(pk=opportunity_id),
                               won=payload.won, reason=payload.reason,
                               expected_version=parse_if_match(if_match))
    return one(request, "opportunity", opportunity_id)


def pipeline_list(request: HttpRequest) -> HttpResponse:
    pipelines = selectors.pipeline_list(viewer=request.auth)
    return json_response([serializers.pipeline_dict(p) for p in pipelines])


def pipeline_create(request: HttpRequest, payload: s.PipelineIn) -> HttpResponse:
    pipeline = services.pipeline_save(actor=request.auth, origin=API, data=payload_data(payload))
    return json_response(serializers.pipeline_dict(pipeline), status=201)


def pipeline_update(request: HttpRequest, pipeline_id: int, payload: s.PipelineIn) -> HttpResponse:
    pipeline = services.pipeline_save(actor=request.auth, origin=API, data=payload_data(payload),
                                      pipeline=get_object_or_404(Pipeline, pk=pipeline_id))
    return json_response(serializers.pipeline_dict(pipeline))


def stage_create(request: HttpRequest, pipeline_id: int, payload: s.StageIn) -> HttpResponse:
    data = {**payload_data(payload), "pipeline": get_object_or_404(Pipeline, pk=pipeline_id).pk}
    stage = services.stage_save(actor=request.auth, origin=API, data=data)
    return json_response(serializers.stage_dict(stage), status=201)


def stage_update(request: HttpRequest, stage_id: int, payload: s.StageIn) -> HttpResponse:
    stage = services.stage_save(actor=request.auth, origin=API, data=payload_data(payload),
                                stage=get_object_or_404(Stage, pk=stage_id))
    return json_response(serializers.stage_dict(stage))
