"""Signed-in sessions a person can see and end (登录设备), and the idle timeout.

`SignIn` rows mirror the sessions of signed-in people: written on `user_logged_in`,
removed on `user_logged_out` or when the person ends one. Ending one deletes the session
from Django's store, so that browser is signed out at its next request. The idle timeout
keeps the time of the last request in the session itself, refreshed at most once a minute
(a session write per page view would cost SQLite a write lock per click); past
`KEHU_SESSION_IDLE_MINUTES` without a request the session ends. The absolute lifetime is
Django's SESSION_COOKIE_AGE (`KEHU_SESSION_DAYS`).
"""

from __future__ import annotations

import datetime as dt
import time
from importlib import import_module
from typing import Any

from django.conf import settings
from django.contrib.auth import logout
from django.contrib.auth.signals import user_logged_in, user_logged_out
from django.contrib.auth.views import redirect_to_login
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from kehu.accounts.models import SignIn, User
from kehu.accounts.throttle import client_address
from kehu.core.errors import Http404
from kehu.core.records import log_change

SEEN = "_kehu_seen"  # the session key holding the last request's time (epoch seconds)
REFRESH_SECONDS = 60


def connect() -> None:
    user_logged_in.connect(_signed_in, dispatch_uid="kehu-sign-in")
    user_logged_out.connect(_signed_out, dispatch_uid="kehu-sign-out")


def live_cutoff() -> Any:
    """Rows last seen before this belong to sessions the idle timeout has ended (last seen
    moves once a minute, hence the slack)."""
    return timezone.now() - dt.timedelta(minutes=settings.KEHU_SESSION_IDLE_MINUTES + 2)


def sign_ins_of(viewer: User, *, current: str | None) -> list[SignIn]:
    """The viewer's live sessions, the current browser first, then by last activity."""
    rows = sorted(SignIn.objects.filter(user=viewer, last_seen_at__gte=live_cutoff()),
                  key=lambda row: (row.session_key != current, -row.last_seen_at.timestamp()))
    for row in rows:
        row.is_current = row.session_key == current
    return rows


def _signed_in(sender: Any, request: HttpRequest, user: User, **kwargs: Any) -> None:
    # The person's dead sessions go as a new one starts: the table keeps addresses and
    # browsers no longer than the sessions they describe.
    SignIn.objects.filter(user=user, last_seen_at__lt=live_cutoff()).delete()
    session = request.session
    if session.session_key is None:
        session.save()
    session[SEEN] = int(time.time())
    SignIn.objects.update_or_create(session_key=session.session_key, defaults={
        "user": user, "last_seen_at": timezone.now(), "address": client_address(request),
        "user_agent": request.META.get("HTTP_USER_AGENT", "")[:200]})


def _signed_out(sender: Any, request: HttpRequest, user: User | None, **kwargs: Any) -> None:
    key = getattr(getattr(request, "session", None), "session_key", None)
    if key:
        SignIn.objects.filter(session_key=key).delete()


def sessions_end_every(user: User) -> int:
    """End every recorded session of `user` at once (an admin deactivating them or setting a
    new password); the caller logs it. A session from before the `SignIn` rows ends anyway at
    its next request: an inactive person or a changed password no longer authenticates it."""
    store = import_module(settings.SESSION_ENGINE).SessionStore
    with transaction.atomic():
        rows = list(SignIn.objects.filter(user=user).select_for_update())
        for row in rows:
            store(session_key=row.session_key).delete()
        SignIn.objects.filter(pk__in=[row.pk for row in rows]).delete()
    return len(rows)


def sessions_end(*, actor: User, origin: str, keep: str | None, pk: int | None = None) -> int:
    """End one of the actor's sessions (`pk`; anyone else's is a 404) or every one but
    `keep` (the current). Returns how many ended."""
    store = import_module(settings.SESSION_ENGINE).SessionStore
    rows = SignIn.objects.filter(user=actor)
    rows = rows.filter(pk=pk) if pk is not None else rows.exclude(session_key=keep or "")
    with transaction.atomic():
        ended = list(rows.select_for_update())
        if pk is not None and not ended:
            raise Http404
        for row in ended:
            store(session_key=row.session_key).delete()
        SignIn.objects.filter(pk__in=[row.pk for row in ended]).delete()
        # Recorded even when nothing was left to end: the person asked.
        log_change(actor=actor, action="sessions_end", instance=actor, origin=origin,
                   changes={"ended": len(ended)})
    return len(ended)


class IdleTimeoutMiddleware:
    """After auth: a signed-in session idle for longer than KEHU_SESSION_IDLE_MINUTES ends
    (the next request goes to the login page); otherwise its last-seen time moves on."""

    def __init__(self, get_response: Any) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and hasattr(request, "session"):
            now = int(time.time())
            seen = request.session.get(SEEN, now)
            if now - seen > settings.KEHU_SESSION_IDLE_MINUTES * 60:
                logout(request)  # the API then answers 401 as to anybody signed out
                if not request.path.startswith("/api/"):
                    return redirect_to_login(request.get_full_path())
            if now - seen >= REFRESH_SECONDS or SEEN not in request.session:
                request.session[SEEN] = now
                SignIn.objects.filter(session_key=request.session.session_key) \
                    .update(last_seen_at=timezone.now())
        return self.get_response(request)
