"""Answers the probes and /metrics before every other middleware.

A load balancer or Prometheus calls a server by its own address (Host: 10.0.0.5:8000) over
plain HTTP: further down, the host check would answer 400 and, with KEHU_HTTPS, the
redirect would send it to https:// on a port that speaks none. The answers carry no page,
no cookie and nothing that depends on the host, so skipping those checks here is safe; it
also keeps a probe off the session, the sign-in and the rate limits (one `SELECT 1` is all
/readyz costs). The same views are routed in config/urls.py, so reverse() and the URL
matrix know them.
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from kehu.ops.health import healthz, readyz
from kehu.ops.metrics import metrics

PROBES: dict[str, Callable[[HttpRequest], HttpResponse]] = {
    "/healthz": healthz, "/readyz": readyz, "/metrics": metrics}


class ProbeMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        view = PROBES.get(request.path_info)
        if view is None or request.method not in ("GET", "HEAD"):
            return self.get_response(request)
        response = view(request)
        # What the security middlewares further down would have said: nothing here is a page.
        response["Content-Security-Policy"] = "default-src 'none'; frame-ancestors 'none'"
        response["X-Content-Type-Options"] = "nosniff"
        response["Cache-Control"] = "no-store"
        return response
