"""The API's shape, shared by every router: JSON 404s and 405s, documented input rules.

`make_api()` builds the one NinjaAPI with the error handlers (see `errors`) and the
input check every operation runs (see `inputs`); the project assembles it with each
app's router in `kehu.config.api`. Unknown paths and wrong methods under /api/v1/
answer in the error shape too instead of Django's HTML pages, and the OpenAPI document
states the rules: integers carry their 64-bit bounds and If-Match is required.
This module imports no app.
"""

from __future__ import annotations

from functools import wraps
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.urls import URLPattern, re_path
from django.views.decorators.csrf import csrf_exempt
from ninja import NinjaAPI, Swagger

from kehu.api import errors
from kehu.api.inputs import refuse_malformed_input
from kehu.api.responses import IF_MATCH_HEADER
from kehu.core.inputs import INT64_MAX, INT64_MIN

DESCRIPTION = (
    "客户管理 REST API. Authenticate with `Authorization: Bearer <token>`.\n\n"
    "**Concurrency.** Every record you can change carries a `version`, sent as the "
    "`ETag` header. Changing or deleting such a record (PATCH, PUT, DELETE, and the "
    "`move` / `close` actions) **requires** `If-Match` with the ETag you read "
    "(`3`, `\"3\"` or `W/\"3\"`): without it the answer is **428 Precondition "
    "Required**, with a stale one **412 Precondition Failed** (and the current "
    "`ETag`); `If-Match: *` explicitly accepts whatever version is current.\n\n"
    "**Errors** are always `{\"detail\", \"errors\": [{\"field\", \"message\"}]}`. "
    "No string may contain a NUL byte or a lone UTF-16 surrogate, and no integer may "
    "exceed 64 bits: such input is a 422 naming the field."
)


class KehuAPI(NinjaAPI):
    """NinjaAPI whose URL list ends in a JSON 404, whose 405s are JSON, and whose OpenAPI
    document states the rules `inputs` and `responses.parse_if_match` enforce."""

    def get_openapi_schema(self, **kwargs: Any) -> Any:
        schema = super().get_openapi_schema(**kwargs)
        _document_input_rules(schema)
        return schema

    def _get_urls(self) -> list:
        urls = [_json_405(p) if isinstance(p, URLPattern) else p for p in super()._get_urls()]
        urls.append(re_path(r"^.*$", _not_found, name="not-found"))
        return urls


def _json_405(pattern: URLPattern) -> URLPattern:
    view = pattern.callback

    @wraps(view)
    def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        response = view(request, *args, **kwargs)
        if response.status_code == 405 and "json" not in response.get("Content-Type", ""):
            allowed = response.get("Allow", "")
            response = errors.error_response(405, "Method not allowed")
            response["Allow"] = allowed
        return response

    pattern.callback = wrapped
    return pattern


@csrf_exempt  # nothing here to protect: an unknown path is a JSON 404, not the CSRF page
def _not_found(request: HttpRequest) -> HttpResponse:
    return errors.error_response(404, errors.NOT_FOUND)


def _document_input_rules(node: Any, *, in_path: bool = False) -> None:
    """Integers without bounds get the 64-bit ones (path ids: digits only, so from 0);
    the If-Match header is marked required (a change without it answers 428)."""
    if isinstance(node, list):
        for item in node:
            _document_input_rules(item, in_path=in_path)
        return
    if not isinstance(node, dict):
        return
    if node.get("in") == "header" and node.get("name") == IF_MATCH_HEADER:
        node["required"] = True
    if node.get("type") == "integer":
        node.setdefault("minimum", 0 if in_path else INT64_MIN)
        node.setdefault("maximum", INT64_MAX)
        node.setdefault("format", "int64")
    for value in node.values():
        _document_input_rules(value, in_path=in_path or node.get("in") == "path")


def make_api(*, auth: list, docs_decorator: Any = None) -> KehuAPI:
    """The API under /api/v1/ with its error handlers and input check; routers come later.
    `docs_decorator` guards the docs page and the schema (who may read them)."""
    api = KehuAPI(
        title="Kehu API", version="1", urls_namespace="api", auth=auth, description=DESCRIPTION,
        docs_decorator=docs_decorator,
        # Swagger UI otherwise fetches a validator badge from swagger.io: the docs stay offline.
        docs=Swagger(settings={"validatorUrl": None}),
    )
    errors.install(api)
    api.add_decorator(refuse_malformed_input)  # every operation, after auth and schema validation
    return api
