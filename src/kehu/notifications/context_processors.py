"""`unread_notifications` on every page, for the bell in the header."""

from __future__ import annotations

import functools
from typing import Any

from django.http import HttpRequest

from kehu.notifications.selectors import unread_count


def notifications(request: HttpRequest) -> dict[str, Any]:
    """The signed-in user's unread count, counted only if the template shows it.

    A callable, which templates call when they read it: HTMX fragments and pages without
    the header never run the query, a page with the bell runs one indexed COUNT (cached, so
    the badge and its label share it).
    """
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {"unread_notifications": functools.cache(lambda: unread_count(user))}
