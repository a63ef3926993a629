"""Writing notifications and marking them read. Writes need an actor (and, for new rows, an origin).

Any service or job tells someone something with `notify`. Sending the e-mail copy is a job
(`notifications.email`, kehu/notifications/jobs.py), so no web request ever waits on an
SMTP server and a server that is down only delays the mail.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _

from kehu.accounts.models import User
from kehu.accounts.services import system_actor
from kehu.core.errors import ValidationError
from kehu.core.models import Origin
from kehu.jobs.services import job_start
from kehu.notifications.models import Level, Notification

EMAIL_JOB = "notifications.email"
TITLE_MAX = Notification._meta.get_field("title").max_length
LINK_MAX = Notification._meta.get_field("link").max_length


def notify(*, recipient: User, title: str, body: str = "", link: str = "", level: str = Level.INFO,
           actor: User | None, origin: str) -> Notification | None:
    """Tell `recipient` something; None when they cannot read it (inactive or the system user).

    `link` is a path on this site ("/customers/42/"); a full or protocol-relative URL is
    refused, so a notification can never send someone to another site. When SMTP is set up
    and the recipient has an address, an e-mail job is queued with the row.
    """
    if not recipient.is_active or recipient.is_system:
        return None
    values = _clean(title=title, body=body, link=link, level=level, origin=origin)
    with transaction.atomic():
        notification = Notification.objects.create(recipient=recipient, actor=actor, **values)
        if settings.KEHU_EMAIL_ENABLED and recipient.email:
            _queue_email(notification)
    return notification


def notification_mark_read(*, actor: User, notification_ids: Iterable[int] | None = None,
                           everything: bool = False) -> int:
    """Mark the actor's own notifications read (the given ids, or all); returns how many changed.

    Ids of someone else's notifications are simply not matched: nobody can touch another
    person's bell.
    """
    if everything == (notification_ids is not None):
        raise TypeError("give either notification_ids or everything=True")
    unread = Notification.objects.filter(recipient=actor, read_at__isnull=True)
    if notification_ids is not None:
        unread = unread.filter(pk__in=list(notification_ids))
    return unread.update(read_at=timezone.now())


def is_site_path(link: str) -> bool:
    """A path on this site: starts with one "/", names no scheme or host, and holds no
    backslash, space or control character (browsers drop or bend those, "/\\evil.example"
    goes to another site in some). Paths Kehu makes (`reverse`) always pass."""
    return (link.startswith("/") and not link.startswith("//")
            and not any(c == "\\" or c.isspace() or unicodedata.category(c)[0] == "C" for c in link)
            and url_has_allowed_host_and_scheme(link, allowed_hosts=set()))


def _clean(*, title: str, body: str, link: str, level: str, origin: str) -> dict[str, str]:
    errors: dict[str, list[str]] = {}
    # A subject is one line: e-mail headers refuse line breaks.
    title = " ".join(str(title).split())
    if not title:
        errors["title"] = [_("通知需要标题")]
    elif len(title) > TITLE_MAX:  # a long record name must not make the work that reports it fail
        title = title[: TITLE_MAX - 1] + "…"
    link = str(link).strip()
    if link and (len(link) > LINK_MAX or not is_site_path(link)):
        errors["link"] = [_("通知的链接必须是本站的路径（以 / 开头），不能指向其他网站")]
    if level not in Level.values:
        errors["level"] = [_("没有这种通知级别：%(level)s") % {"level": level}]
    if origin not in Origin.values:
        errors["origin"] = [_("没有这种来源：%(origin)s") % {"origin": origin}]
    if errors:
        raise ValidationError(errors)
    return {"title": title, "body": str(body).strip(), "link": link, "level": level, "origin": origin}


def _queue_email(notification: Notification) -> None:
    # The system sends it, so the mails do not crowd the recipient's own list of jobs.
    job_start(actor=system_actor(), origin=Origin.SYSTEM, kind=EMAIL_JOB,
              params={"notification": notification.pk})
