"""Who is calling: a bearer token (scripts, integrations) or the browser session (the web UI).

Both answers are the `User`; endpoints never look at tokens or cookies themselves.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse
from django.utils import translation
from django.utils.translation import gettext as _
from ninja.errors import HttpError
from ninja.security import APIKeyCookie, HttpBearer
from ninja.utils import check_csrf

from kehu.accounts.models import TokenScope, User
from kehu.accounts.services import token_authenticate
from kehu.accounts.throttle import client_address
from kehu.api.errors import NOT_FOUND, error_response

READING = ("GET", "HEAD", "OPTIONS")


class BearerAuth(HttpBearer):
    """`Authorization: Bearer kehu_…` — tokens are looked up by their hash (one query). A
    read-only token may only read: anything else is a 403 that says so."""

    def authenticate(self, request: HttpRequest, token: str) -> User | None:
        found = token_authenticate(token.strip(), address=client_address(request))
        if found is None:
            return None
        _adopt(request, found.user)
        if found.scope == TokenScope.READ and request.method not in READING:
            raise HttpError(403, _("这个 API 令牌只读，不能修改数据"))
        return found.user


class SessionAuth(APIKeyCookie):
    """The signed-in browser session; unsafe methods must carry the CSRF token.

    Ninja's own SessionAuth checks CSRF before it knows whether anybody is signed in,
    which turns an anonymous POST into 403; here an anonymous call stays a 401.
    """

    param_name = "sessionid"

    def __init__(self) -> None:
        from django.conf import settings

        self.param_name = settings.SESSION_COOKIE_NAME
        super().__init__(csrf=True)

    def _get_key(self, request: HttpRequest) -> str | None:
        return request.COOKIES.get(self.param_name)

    def authenticate(self, request: HttpRequest, key: str | None) -> User | None:
        user = getattr(request, "user", None)
        if not key or user is None or not user.is_authenticated:
            return None
        if check_csrf(request) is not None:
            raise HttpError(403, "CSRF check failed")
        return user


def _adopt(request: HttpRequest, user: User) -> None:
    """Make the token's user the request's user, in the user's own language."""
    request.user = user
    if user.language:
        translation.activate(user.language)
        request.LANGUAGE_CODE = translation.get_language()


AUTH = [BearerAuth(), SessionAuth()]



def docs_gate(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """The API's documentation (/api/v1/docs and openapi.json) as KEHU_API_DOCS says:
    "login" (the default) for people signed in or holding a token — the schema names every
    field and filter, a map an outsider should not get for free; "public"; or "off" (404).
    Anonymous visitors of the docs page go to the sign-in page; of the schema, a 401."""

    @wraps(view)
    def gated(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        access = settings.KEHU_API_DOCS
        if access == "off":
            return error_response(404, NOT_FOUND)
        if access == "public" or _docs_reader(request):
            return view(request, *args, **kwargs)
        if request.path.endswith(".json"):
            return error_response(401, "Unauthorized")
        return redirect_to_login(request.get_full_path())

    return gated


def _docs_reader(request: HttpRequest) -> bool:
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        return True
    secret = bearer_secret(request)
    return bool(secret) and token_authenticate(
        secret, address=client_address(request)) is not None


def bearer_secret(request: HttpRequest) -> str:
    """The secret of an `Authorization: Bearer …` header ("" without one), unchecked: for
    callers that need it before or beside authentication (the docs gate, the rate limits)."""
    scheme, _space, secret = request.META.get("HTTP_AUTHORIZATION", "").partition(" ")
    return secret.strip() if scheme.lower() == "bearer" else ""
