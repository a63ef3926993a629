"""One declarative pattern for the history's record kinds, in the spirit of NetBox's generic views.

Every kind attached to a customer has the same five operations — list (keyset pages,
filters), create on a customer, detail, change (If-Match), delete (If-Match) — that
differ only in their names, schemas and services. A `RecordKind` declares those, and
`register` adds the operations to the router, so a new kind is a declaration, not a
copy of five endpoints. Extra operations (an opportunity's move, attachments) stay
ordinary endpoints next to their declaration.

The views are built with an explicit `__signature__`: django-ninja reads parameter
names and types from it, so each operation keeps its own path parameter name
(`need_id`, `ticket_id`) and its documented filters.
"""

import inspect
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.http import HttpRequest, HttpResponse
from ninja import Query, Router, Schema

from kehu.api.inputs import payload_data
from kehu.api.pagination import page_body
from kehu.api.responses import json_response, no_content, parse_if_match
from kehu.api.schemas import IF_MATCH, READ_ERRORS, VERSIONED_ERRORS, WRITE_ERRORS, PageParams
from kehu.core.models import Origin
from kehu.history import selectors
from kehu.history.api.serializers import SERIALIZERS

API = Origin.API  # provenance of every write made through the history API
P = inspect.Parameter


@dataclass(frozen=True)
class Filter:
    """A list filter: the query parameter, its type, and the selector's keyword for it."""

    param: str
    annotation: Any
    keyword: str
    description: str = ""


@dataclass(frozen=True)
class RecordKind:
    """What tells one kind of history record from another in the API."""

    kind: str  # the serializer, selector and service keyword: "need"
    plural: str  # the URL segment: "needs"
    model: type
    schema_in: type[Schema]
    schema_out: type[Schema]
    page: type[Schema]
    create: Callable[..., Any]  # service(actor=, customer=, data=, origin=)
    update: Callable[..., Any] | None = None  # service(actor=, <kind>=, data=, expected_version=, origin=)
    delete: Callable[..., Any] | None = None  # service(actor=, <kind>=, expected_version=, origin=)
    filters: tuple[Filter, ...] = field(default_factory=tuple)
    create_doc: str = ""

    @property
    def id_param(self) -> str:
        return f"{self.kind}_id"


CUSTOMER = Filter("customer", int | None, "customer_id", "Only this customer's records")
STATUS = Filter("status", str | None, "status")



def one(request: HttpRequest, kind: str, pk: int, status: int = 200) -> HttpResponse:
    """One record the caller can see, serialized, with its version as ETag (404 otherwise)."""
    record = selectors.record_get(viewer=request.auth, kind=kind, pk=pk)
    version = getattr(record, "version", None)
    return json_response(SERIALIZERS[kind](record), status=status, version=version)


def page_of_kind(request: HttpRequest, record: str, page: PageParams, **filters: Any) -> HttpResponse:
    # `record`, not `kind`: tickets and surveys have a `kind` filter of their own.
    result = selectors.LISTS[record](viewer=request.auth, cursor=page.cursor, limit=page.limit,
                                     **filters)
    return json_response(page_body(result, SERIALIZERS[record]))


def register(router: Router, spec: RecordKind) -> None:
    """Add the kind's list, create, detail, change and delete operations to `router`."""
    item = f"/{spec.plural}/{{int:{spec.id_param}}}"
    router.get(f"/{spec.plural}", response={200: spec.page, **READ_ERRORS})(_list_view(spec))
    router.post(f"/customers/{{int:customer_id}}/{spec.plural}",
                response={201: spec.schema_out, **WRITE_ERRORS})(_create_view(spec))
    router.get(item, response={200: spec.schema_out, **READ_ERRORS})(_detail_view(spec))
    if spec.update is not None:
        router.patch(item, response={200: spec.schema_out, **VERSIONED_ERRORS})(_update_view(spec))
    if spec.delete is not None:
        router.delete(item, response={204: None, **VERSIONED_ERRORS})(_delete_view(spec))


def _list_view(spec: RecordKind) -> Callable[..., HttpResponse]:
    def view(request: HttpRequest, page: PageParams, **filters: Any) -> HttpResponse:
        given = {f.keyword: filters.get(f.param) for f in spec.filters}
        return page_of_kind(request, spec.kind, page, **given)

    params = [P("page", P.KEYWORD_ONLY, annotation=Query[PageParams]),
              *(P(f.param, P.KEYWORD_ONLY, default=Query(None, description=f.description),
                  annotation=f.annotation) for f in spec.filters)]
    return _named(view, f"{spec.kind}_list", f"{spec.plural.capitalize()} you can see, newest first.",
                  params)


def _create_view(spec: RecordKind) -> Callable[..., HttpResponse]:
    def view(request: HttpRequest, customer_id: int, payload: Schema) -> HttpResponse:
        record = spec.create(actor=request.auth, customer=customer_id, data=payload_data(payload),
                             origin=API)
        return one(request, spec.kind, record.pk, status=201)

    params = [P("customer_id", P.KEYWORD_ONLY, annotation=int),
              P("payload", P.KEYWORD_ONLY, annotation=spec.schema_in)]
    return _named(view, f"{spec.kind}_create", spec.create_doc, params)


def _detail_view(spec: RecordKind) -> Callable[..., HttpResponse]:
    def view(request: HttpRequest, **path: int) -> HttpResponse:
        return one(request, spec.kind, path[spec.id_param])

    return _named(view, f"{spec.kind}_detail", "", [P(spec.id_param, P.KEYWORD_ONLY, annotation=int)])


def _update_view(spec: RecordKind) -> Callable[..., HttpResponse]:
    def view(request: HttpRequest, payload: Schema, if_match: str | None, **path: int) -> HttpResponse:
        pk = path[spec.id_param]
        spec.update(actor=request.auth, origin=API, data=payload_data(payload),
                    expected_version=parse_if_match(if_match), **{spec.kind: spec.model(pk=pk)})
        return one(request, spec.kind, pk)

    params = [P(spec.id_param, P.KEYWORD_ONLY, annotation=int),
              P("payload", P.KEYWORD_ONLY, annotation=spec.schema_in),
              P("if_match", P.KEYWORD_ONLY, default=IF_MATCH, annotation=str | None)]
    return _named(view, f"{spec.kind}_update", "Change the fields sent (If-Match required).", params)


def _delete_view(spec: RecordKind) -> Callable[..., HttpResponse]:
    def view(request: HttpRequest, if_match: str | None, **path: int) -> HttpResponse:
        spec.delete(actor=request.auth, origin=API, expected_version=parse_if_match(if_match),
                    **{spec.kind: spec.model(pk=path[spec.id_param])})
        return no_content()

    params = [P(spec.id_param, P.KEYWORD_ONLY, annotation=int),
              P("if_match", P.KEYWORD_ONLY, default=IF_MATCH, annotation=str | None)]
    return _named(view, f"{spec.kind}_delete", "Delete for good (If-Match required).", params)


def _named(view: Callable[..., HttpResponse], name: str, doc: str,
           params: list[inspect.Parameter]) -> Callable[..., HttpResponse]:
    """Give a generated view the name (the operation id) and signature ninja documents."""
    view.__name__ = view.__qualname__ = name
    view.__module__ = "kehu.history.api"  # operation ids stay kehu_history_api_need_list
    view.__doc__ = doc or None
    request = P("request", P.POSITIONAL_OR_KEYWORD, annotation=HttpRequest)
    view.__signature__ = inspect.Signature([request, *params], return_annotation=HttpResponse)
    return view
