"""The classification settings through the API: dimensions, their values, the rules, and a
person's override of one customer's value — what 设置 → 客户分类 and the card do, for
scripts and other systems.

Everyone signed in reads the dimensions and the rules (they are the company's published
standards, 分类标准); only admins change them (the services refuse anyone else, 403). An
override follows the customer: 404 out of sight, 403 for a read-only role. Writes go
through the same services as the screens, so every bad field is named at once and every
change is in the change log; saving or deleting a rule re-runs the classification (a job).
"""

from __future__ import annotations

from typing import Any, Literal

from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from ninja import Router, Schema
from pydantic import ConfigDict, Field

from kehu.api.inputs import payload_data
from kehu.api.responses import json_response, no_content, parse_if_match
from kehu.api.schemas import IF_MATCH, READ_ERRORS, VERSIONED_ERRORS, WRITE_ERRORS
from kehu.classification import selectors, services, settings_services
from kehu.classification.models import Dimension, DimensionValue, Rule

API = "api"


class ValueOut(Schema):
    id: int
    key: str
    label: str
    label_en: str
    color: str
    is_active: bool
    version: int


class DimensionOut(Schema):
    id: int
    key: str
    name: str
    name_en: str
    is_active: bool
    version: int
    values: list[ValueOut]


class DimensionIn(Schema):
    model_config = ConfigDict(extra="forbid")

    key: str | None = Field(None, max_length=50, description="Fixed at creation; derived from the "
                                                            "name when left out")
    name: str | None = Field(None, max_length=50)
    name_en: str | None = Field(None, max_length=50)
    is_active: bool | None = None


class ValueIn(Schema):
    model_config = ConfigDict(extra="forbid")

    key: str | None = Field(None, max_length=50, description="Fixed at creation")
    label: str | None = Field(None, max_length=50)
    label_en: str | None = Field(None, max_length=50)
    color: str | None = Field(None, description="#RRGGBB")
    is_active: bool | None = None


class RuleOut(Schema):
    id: int
    name: str
    dimension: str | None = Field(..., description="The dimension's key; null for a tag rule")
    value: str | None = Field(..., description="The value's key it sets; null for a tag rule")
    tag: str | None
    tag_action: str
    priority: int
    condition: dict[str, Any] | None
    words: str = Field(..., description="The condition in words, as the settings screen says it")
    is_active: bool
    description: str
    version: int


class RuleIn(Schema):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(..., max_length=100)
    value: int | None = Field(None, description="The dimension value the rule sets (its id)")
    tag: str | None = Field(None, max_length=50, description="A tag rule: the tag's name")
    tag_action: Literal["add", "remove"] | None = None
    priority: int = 100
    condition: dict[str, Any] | None = Field(None, description="A condition; null: every customer")
    is_active: bool = True
    description: str = Field("", max_length=255)


class OverrideIn(Schema):
    model_config = ConfigDict(extra="forbid")

    value: str = Field(..., description="The key of one of the dimension's active values")


class PlacedOut(Schema):
    dimension: str
    value: str | None
    manual: bool


router = Router(tags=["classification"])


@router.get("/classification/dimensions", response={200: list[DimensionOut], **READ_ERRORS})
def dimension_list(request: HttpRequest) -> HttpResponse:
    """Every dimension with its values, in the order the card and the menus show them."""
    return json_response([_dimension_dict(d)
                          for d in selectors.dimensions_configured(viewer=request.auth)])


@router.post("/classification/dimensions", response={201: DimensionOut, **WRITE_ERRORS})
def dimension_create(request: HttpRequest, payload: DimensionIn) -> HttpResponse:
    dimension = settings_services.dimension_save(actor=request.auth, origin=API,
                                                 data=payload_data(payload))
    return json_response(_dimension_dict(dimension), status=201, version=dimension.version)


@router.patch("/classification/dimensions/{int:dimension_id}",
              response={200: DimensionOut, **VERSIONED_ERRORS})
def dimension_update(request: HttpRequest, dimension_id: int, payload: DimensionIn,
                     if_match: str = IF_MATCH) -> HttpResponse:
    dimension = settings_services.dimension_save(
        actor=request.auth, origin=API, data=payload_data(payload),
        dimension=get_object_or_404(Dimension, pk=dimension_id), version=parse_if_match(if_match))
    return json_response(_dimension_dict(dimension), version=dimension.version)


@router.post("/classification/dimensions/{int:dimension_id}/values",
             response={201: ValueOut, **WRITE_ERRORS})
def value_create(request: HttpRequest, dimension_id: int, payload: ValueIn) -> HttpResponse:
    value = settings_services.value_save(actor=request.auth, origin=API, data=payload_data(payload),
                                         dimension=get_object_or_404(Dimension, pk=dimension_id))
    return json_response(_value_dict(value), status=201, version=value.version)


@router.patch("/classification/values/{int:value_id}", response={200: ValueOut, **VERSIONED_ERRORS})
def value_update(request: HttpRequest, value_id: int, payload: ValueIn,
                 if_match: str = IF_MATCH) -> HttpResponse:
    value = settings_services.value_save(actor=request.auth, origin=API, data=payload_data(payload),
                                         value=get_object_or_404(DimensionValue, pk=value_id),
                                         version=parse_if_match(if_match))
    return json_response(_value_dict(value), version=value.version)


@router.delete("/classification/values/{int:value_id}", response={204: None, **VERSIONED_ERRORS})
def value_delete(request: HttpRequest, value_id: int, if_match: str = IF_MATCH) -> HttpResponse:
    """Refused (422, with the counts) while rules set it or customers hold it: deactivate it."""
    settings_services.value_delete(actor=request.auth, origin=API,
                                   value=get_object_or_404(DimensionValue, pk=value_id),
                                   version=parse_if_match(if_match))
    return no_content()


@router.get("/classification/rules", response={200: list[RuleOut], **READ_ERRORS})
def rule_list(request: HttpRequest, dimension: str | None = None) -> HttpResponse:
    """The rules in decision order per dimension (tag rules last, by tag); `dimension` (a key)
    narrows to one dimension's rules."""
    rules = selectors.rules_configured(viewer=request.auth, dimension_key=dimension)
    return json_response([_rule_dict(rule) for rule in rules])


@router.post("/classification/rules", response={201: RuleOut, **WRITE_ERRORS})
def rule_create(request: HttpRequest, payload: RuleIn) -> HttpResponse:
    """A new rule; the classification re-runs (a job) once it is saved."""
    rule = services.rule_save(actor=request.auth, origin=API, data=payload.model_dump())
    return json_response(_rule_dict(_with_words(rule, request)), status=201, version=rule.version)


@router.patch("/classification/rules/{int:rule_id}", response={200: RuleOut, **VERSIONED_ERRORS})
def rule_update(request: HttpRequest, rule_id: int, payload: RuleIn,
                if_match: str = IF_MATCH) -> HttpResponse:
    """Replace a rule's fields (send the whole rule); the classification re-runs."""
    rule = services.rule_save(actor=request.auth, origin=API, data=payload.model_dump(),
                              rule=get_object_or_404(Rule, pk=rule_id), version=parse_if_match(if_match))
    return json_response(_rule_dict(_with_words(rule, request)), version=rule.version)


@router.delete("/classification/rules/{int:rule_id}", response={204: None, **VERSIONED_ERRORS})
def rule_delete(request: HttpRequest, rule_id: int, if_match: str = IF_MATCH) -> HttpResponse:
    services.rule_delete(actor=request.auth, origin=API, rule=get_object_or_404(Rule, pk=rule_id),
                         version=parse_if_match(if_match))
    return no_content()


@router.put("/customers/{int:customer_id}/classification/{dimension_key}",
            response={200: PlacedOut, **WRITE_ERRORS})
def class_override(request: HttpRequest, customer_id: int, dimension_key: str,
                   payload: OverrideIn) -> HttpResponse:
    """Set the customer's value by hand: kept, and marked as a person's, until cleared."""
    dimension = get_object_or_404(Dimension, key=dimension_key, is_active=True)
    row = services.class_override(actor=request.auth, origin=API, customer_id=customer_id,
                                  dimension=dimension,
                                  value=services.value_of(dimension, payload.value))
    return json_response(_placed(dimension, row))


@router.delete("/customers/{int:customer_id}/classification/{dimension_key}",
               response={200: PlacedOut, **WRITE_ERRORS})
def class_override_clear(request: HttpRequest, customer_id: int,
                         dimension_key: str) -> HttpResponse:
    """Clear a person's override: the rules decide again at once (the answer says how)."""
    dimension = get_object_or_404(Dimension, key=dimension_key, is_active=True)
    row = services.class_override(actor=request.auth, origin=API, customer_id=customer_id,
                                  dimension=dimension, value=None)
    return json_response(_placed(dimension, row))


# --- helpers -------------------------------------------------------------------------------


def _with_words(rule: Rule, request: HttpRequest) -> Rule:
    rule.words = selectors.rule_words(rule.condition, viewer=request.auth)
    return rule


def _value_dict(value: DimensionValue) -> dict[str, Any]:
    return {"id": value.pk, "key": value.key, "label": value.label, "label_en": value.label_en,
            "color": value.color, "is_active": value.is_active, "version": value.version}


def _dimension_dict(dimension: Dimension) -> dict[str, Any]:
    values = sorted(dimension.values.all(), key=lambda v: (v.position, v.pk))
    return {"id": dimension.pk, "key": dimension.key, "name": dimension.name,
            "name_en": dimension.name_en, "is_active": dimension.is_active,
            "version": dimension.version, "values": [_value_dict(v) for v in values]}


def _rule_dict(rule: Rule) -> dict[str, Any]:
    value = rule.value
    return {"id": rule.pk, "name": rule.name,
            "dimension": value.dimension.key if value else None,
            "value": value.key if value else None,
            "tag": rule.tag.name if rule.tag_id else None, "tag_action": rule.tag_action,
            "priority": rule.priority, "condition": rule.condition, "words": rule.words,
            "is_active": rule.is_active, "description": rule.description,
            "version": rule.version}


def _placed(dimension: Dimension, row: Any) -> dict[str, Any]:
    return {"dimension": dimension.key, "value": row.value.key if row else None,
            "manual": bool(row and row.manual)}
