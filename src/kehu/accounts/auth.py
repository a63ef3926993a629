"""Who is calling: a bearer token (scripts, integrations) or the browser session (the web UI).

Both answers are the `User`; endpoints never look at tokens or cookies themselves.
"""

from __future__ import annotations

from django.http import HttpRequest
from django.utils import translation
from ninja.errors import HttpError
from ninja.security import APIKeyCookie, HttpBearer
from ninja.utils import check_csrf

from kehu.accounts.models import User
from kehu.accounts.services import token_authenticate


class BearerAuth(HttpBearer):
    """`Authorization: Bearer kehu_…` — tokens are looked up by their hash (one query)."""

    def authenticate(self, request: HttpRequest, token: str) -> User | None:
        user = token_authenticate(token.strip())
        if user is None:
            return None
        _adopt(request, user)
        return user


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
