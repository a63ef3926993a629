"""Login throttling, on django-axes.

Failed sign-ins are counted per account and per client address; when either count
reaches KEHU_LOGIN_FAILURE_LIMIT, sign-ins for that account (or from that address) are
refused — the right password included — until KEHU_LOGIN_COOLOFF_MINUTES have passed
since the last counted failure. Attempts made while locked are not counted, so hammering
a locked account does not keep it locked. A successful sign-in clears the account's count.

Only password sign-ins go through here (the login page and the admin's); API bearer
tokens are not logins.
"""

from __future__ import annotations

import ipaddress

from axes.backends import AxesStandaloneBackend
from axes.handlers.database import AxesDatabaseHandler
from axes.helpers import get_client_username
from axes.models import AccessAttempt
from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


class LoginThrottleBackend(AxesStandaloneBackend):
    """Refuses a locked account or address; the next backend checks the password.

    Django's test client and code in a shell call `authenticate()` without a request.
    They get a stand-in request without an address: a locked account stays locked for
    them too, and their failures are not counted (no client to throttle).
    """

    def authenticate(self, request: HttpRequest | None, username: str | None = None,
                     password: str | None = None, **kwargs):
        return super().authenticate(request if request is not None else HttpRequest(),
                                    username=username, password=password, **kwargs)


class LoginThrottleHandler(AxesDatabaseHandler):
    """Axes' database handler, except that a successful sign-in clears only the count of
    the account that signed in — never the address's, or one's own login would let an
    insider keep guessing other people's passwords from the same address."""

    def reset_user_attempts(self, request: HttpRequest, credentials: dict | None = None) -> int:
        username = get_client_username(request, credentials)
        if not username:
            return 0
        count, _deleted = AccessAttempt.objects.filter(username=username).delete()
        return count


def client_address(request: HttpRequest) -> str | None:
    """The client's address: the connection's, or — behind KEHU_PROXY_COUNT reverse proxies
    that append to X-Forwarded-For — the entry the outermost trusted proxy added.
    Entries further left are whatever the client sent and are never trusted."""
    remote = request.META.get("REMOTE_ADDR") or None
    proxies = settings.KEHU_PROXY_COUNT
    if not proxies:
        return remote
    forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
    if len(forwarded) < proxies:
        return remote
    try:
        return str(ipaddress.ip_address(forwarded[-proxies]))
    except ValueError:
        return remote


def locked_out(request: HttpRequest, original_response: HttpResponse | None = None,
               credentials: dict | None = None) -> HttpResponse:
    """The answer to a sign-in while locked: 429 and a page saying when to try again."""
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    return render(request, "accounts/login_locked.html", {"minutes": minutes},
                  status=429)
