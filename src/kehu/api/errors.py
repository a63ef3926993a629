"""One error shape for the whole API: {"detail": "...", "errors": [{"field", "message"}]}.

Services raise Django's exceptions (and VersionConflict); this module is the only
place that turns them into HTTP answers, so every endpoint fails the same way.
"""

from __future__ import annotations

import logging
from typing import Any

from django.core.exceptions import PermissionDenied, RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.signals import got_request_exception
from django.http import Http404, HttpRequest, HttpResponse
from django.http.multipartparser import MultiPartParserError
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as SchemaValidationError

from kehu.api.responses import etag, json_response
from kehu.core.errors import VersionConflict, field_errors
from kehu.core.uploads import too_large_errors
from kehu.core.versions import VersionMissing

logger = logging.getLogger("kehu.api")

# Stable, machine-readable details; field messages carry the translated text.
NOT_FOUND = "Not found"
UNAUTHENTICATED = "Authentication required"
FORBIDDEN = "Permission denied"
INVALID = "Validation failed"
STALE = "Precondition failed: the record has changed"
PRECONDITION_REQUIRED = "Precondition required: send If-Match with the version you read"
MALFORMED_BODY = "Malformed request body"
TOO_LARGE = "Request body too large"
# Ninja names the body parameter in its error locations; endpoints call it `payload`.
BODY_PARAM = "payload"


def error_body(detail: str, errors: list[dict[str, str]] | None = None) -> dict[str, Any]:
    return {"detail": detail, "errors": errors or []}


def error_response(status: int, detail: str, errors: list | None = None) -> HttpResponse:
    return json_response(error_body(detail, errors), status=status)


def install(api: NinjaAPI) -> None:
    """Register the handlers on `api` (replacing ninja's defaults)."""
    handlers = {
        Exception: _unexpected,
        Http404: _not_found,
        PermissionDenied: _forbidden,
        DjangoValidationError: _invalid,
        SchemaValidationError: _schema_invalid,
        VersionConflict: _stale,
        VersionMissing: _precondition_required,  # a ValidationError, but 428, not 422
        MultiPartParserError: _malformed_body,  # e.g. multipart without a boundary
        HttpError: _http_error,
        RequestDataTooBig: _too_large,  # a body or an upload over its limit
    }
    for exc_class, handler in handlers.items():
        api.add_exception_handler(exc_class, handler)


def _not_found(request: HttpRequest, exc: Exception) -> HttpResponse:
    # Never echo the exception: missing and out-of-scope must read exactly the same.
    return error_response(404, NOT_FOUND)


def _forbidden(request: HttpRequest, exc: PermissionDenied) -> HttpResponse:
    return error_response(403, str(exc) or FORBIDDEN)


def _invalid(request: HttpRequest, exc: DjangoValidationError) -> HttpResponse:
    return error_response(422, INVALID, field_errors(exc))


def _schema_invalid(request: HttpRequest, exc: SchemaValidationError) -> HttpResponse:
    errors = [{"field": schema_field(e.get("loc", ())), "message": str(e.get("msg", ""))}
              for e in exc.errors]
    return error_response(422, INVALID, errors)


def schema_field(loc: tuple | list) -> str:
    """("body", "payload", "phones", 0) -> "phones.0"; ("query", "limit") -> "limit"."""
    parts = [str(p) for p in loc]
    if parts and parts[0] in ("body", "query", "path", "header", "cookie", "form", "file"):
        source, parts = parts[0], parts[1:]
        if source == "body" and parts[:1] == [BODY_PARAM]:
            parts = parts[1:]
    return ".".join(parts) or "__all__"


def _stale(request: HttpRequest, exc: VersionConflict) -> HttpResponse:
    response = error_response(412, STALE)
    response["ETag"] = etag(exc.current_version)
    return response


def _precondition_required(request: HttpRequest, exc: VersionMissing) -> HttpResponse:
    return error_response(428, PRECONDITION_REQUIRED, field_errors(exc))


def _malformed_body(request: HttpRequest, exc: MultiPartParserError) -> HttpResponse:
    # Django's parser messages are English and safe to show ("Invalid boundary in multipart").
    return error_response(400, MALFORMED_BODY, [{"field": "body", "message": str(exc)[:200]}])


def _http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    if isinstance(exc, AuthenticationError) or exc.status_code == 401:
        response = error_response(401, UNAUTHENTICATED)
        response["WWW-Authenticate"] = 'Bearer realm="kehu"'
        return response
    if exc.status_code == 400:  # ninja's "Cannot parse request body": name what is broken
        return error_response(400, MALFORMED_BODY, [{"field": "body", "message": str(exc)}])
    return error_response(exc.status_code, str(exc))


def _too_large(request: HttpRequest, exc: RequestDataTooBig) -> HttpResponse:
    # The upload handler stops at the limit, naming the file, what arrived and the limit.
    return error_response(413, TOO_LARGE, too_large_errors(request, exc))


def _unexpected(request: HttpRequest, exc: Exception) -> HttpResponse:
    """A bug: log it, tell Django (the test client re-raises it), answer in JSON."""
    logger.error("API error on %s %s", request.method, request.path, exc_info=exc)
    got_request_exception.send(sender=None, request=request)
    return error_response(500, "Internal server error")
