"""The Content-Security-Policy every page is served with.

No page runs inline script or loads anything from another origin (static files ship with
the install), so the policy is a constant: scripts, styles, images and connections from
this site only; inline `style` attributes allowed (charts and chips colour themselves with
CSS variables in them) but no inline `<style>` or `<script>` elements, no frames of us
elsewhere, forms posting only here. One header from a middleware: django-csp would add a
dependency and a settings vocabulary for a policy that needs no nonces.
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

POLICY = "; ".join((
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "style-src-attr 'unsafe-inline'",
    "img-src 'self' data:",
    "font-src 'self'",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
))


class ContentSecurityPolicyMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        response.headers.setdefault("Content-Security-Policy", POLICY)
        return response
