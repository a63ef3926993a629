"""Reading notifications: everyone sees their own and nobody else's (someone else's is a 404)."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.http import Http404

from kehu.accounts.models import User
from kehu.core.inputs import INT64_MAX
from kehu.core.pagination import Page, paginate
from kehu.notifications.models import Notification

PAGE_SIZE = 30


def _own(viewer: User) -> QuerySet[Notification]:
    if not viewer.is_authenticated:
        return Notification.objects.none()
    return Notification.objects.filter(recipient=viewer)


def unread_count(viewer: User) -> int:
    """The number on the bell: one COUNT served by the (recipient, read_at, …) index."""
    if not viewer.is_authenticated:
        return 0
    return _own(viewer).filter(read_at__isnull=True).count()


def notifications_for(viewer: User, *, cursor: str | None = None, limit: int = PAGE_SIZE) -> Page:
    """One page of the viewer's notifications, newest first (a bad cursor: ValidationError)."""
    return paginate(_own(viewer), sort="-created_at", cursor=cursor, limit=limit,
                    datetime_fields={"created_at"})


def notification_get(viewer: User, pk: Any) -> Notification:
    """One of the viewer's own notifications; anyone else's, or a missing one, is a 404."""
    try:
        number = int(pk)
    except (TypeError, ValueError):
        raise Http404 from None
    found = _own(viewer).filter(pk=number).first() if 0 < number <= INT64_MAX else None
    if found is None:
        raise Http404
    return found
