"""The e-mail copy of a notification, sent by the job runner (never inside a web request)."""

from __future__ import annotations

import smtplib
from typing import Any

from django.conf import settings
from django.core.mail import send_mail
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from kehu.jobs.context import JobContext
from kehu.jobs.registry import job
from kehu.notifications.models import Notification
from kehu.notifications.services import EMAIL_JOB

ERROR_LIMIT = 2000  # characters of the last SMTP failure kept on the notification


@job(EMAIL_JOB, title=gettext_lazy("发送通知邮件"), max_attempts=5)
def send_notification_email(ctx: JobContext) -> dict[str, Any]:
    """Send one notification by e-mail, at most once: `emailed_at` commits with the sending.

    A failure (server down, address refused) is kept on the notification and raised, so the
    runner retries with its back-off; a re-run after a success finds `emailed_at` and stops.
    """
    pk = int(ctx.params["notification"])
    try:
        with ctx.step(advance=1):
            sent = _send_once(pk)
    except (smtplib.SMTPException, OSError) as exc:
        error = f"{type(exc).__name__}: {exc}"[:ERROR_LIMIT]
        Notification.objects.filter(pk=pk).update(email_error=error)
        raise
    return {"sent": sent}


def _send_once(pk: int) -> int:
    notification = (Notification.objects.select_for_update().select_related("recipient")
                    .filter(pk=pk).first())
    if notification is None or notification.emailed_at is not None:
        return 0  # gone with its recipient, or sent already
    recipient = notification.recipient
    # Checked again now: SMTP may have been switched off, or the person left, since it was queued.
    if not (settings.KEHU_EMAIL_ENABLED and recipient.is_active and recipient.email):
        return 0
    with translation.override(recipient.language or settings.LANGUAGE_CODE):
        message = mail_text(notification)
    send_mail(notification.title, message, None, [recipient.email])
    notification.emailed_at, notification.email_error = timezone.now(), ""
    notification.save(update_fields=["emailed_at", "email_error"])
    return 1


def mail_text(notification: Notification) -> str:
    """The body, then the link: absolute with KEHU_BASE_URL, otherwise the site path."""
    parts = [notification.body] if notification.body else []
    if notification.link:
        parts.append(_("查看：%(url)s") % {"url": settings.KEHU_BASE_URL + notification.link})
    parts.append("— " + _("客户 Kehu"))
    return "\n\n".join(parts) + "\n"


@job("notifications.prune", title=gettext_lazy("清理过期通知"), schedule="40 3 * * *")
def prune_notifications(ctx: JobContext) -> dict[str, Any]:
    """Delete notifications older than KEHU_JOB_RETENTION_DAYS, in batches."""
    import datetime as dt

    cutoff = timezone.now() - dt.timedelta(days=settings.KEHU_JOBS["RETENTION_DAYS"])
    old = Notification.objects.filter(created_at__lt=cutoff)
    ctx.stage(gettext_lazy("删除过期通知"), total=old.count())
    removed = 0
    while ids := list(old.values_list("pk", flat=True)[:1000]):
        with ctx.step(advance=len(ids)):
            Notification.objects.filter(pk__in=ids).delete()
        removed += len(ids)
    return {str(gettext_lazy("删除的通知")): removed}
