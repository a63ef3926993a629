"""The request behind the audit entries a service writes during it.

Services know their actor but not the request; the address and user agent of an entry they
record come from here. One context variable, set for the length of each request."""

from __future__ import annotations

from collections.abc import Callable
from contextvars import ContextVar

from django.http import HttpRequest, HttpResponse

_REQUEST: ContextVar[HttpRequest | None] = ContextVar("kehu_audit_request", default=None)


def current_request() -> HttpRequest | None:
    return _REQUEST.get()


class AuditContextMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        token = _REQUEST.set(request)
        try:
            return self.get_response(request)
        finally:
            _REQUEST.reset(token)
