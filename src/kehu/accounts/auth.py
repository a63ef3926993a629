"""Who is calling: a bearer token (scripts, integrations) or the browser session (the web UI).

Both answers are the `User`; endpoints never look at tokens or cookies themselves.
"""

from __future__ import annotations

from django.http import HttpRequest
from django.utils import translation
from django.utils.translation import gettext as _
from ninja.errors import HttpError
from ninja.security import APIKeyCookie, HttpBearer
from ninja.utils import check_csrf

from kehu.accounts.models import TokenScope, User
from kehu.accounts.services import token_authenticate
from kehu.accounts.throttle import client_address

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
