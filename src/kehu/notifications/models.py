"""Notifications: one message for one person, shown under the bell and, when SMTP is set up,
copied to their e-mail address by the job runner."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from kehu.core.models import Origin


class Level(models.TextChoices):
    INFO = "info", _("消息")
    SUCCESS = "success", _("成功")
    WARNING = "warning", _("注意")
    ERROR = "error", _("错误")


class Notification(models.Model):
    """Something a person should know about, with a site-relative link to what it is about.

    `read_at` empty means unread (the bell counts these). `emailed_at` is set by the e-mail
    job in the same transaction as it sends, so a re-run never sends the same one twice;
    `email_error` keeps the last failure for whoever looks into a missing mail.
    """

    recipient = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                                  related_name="notifications")
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                              on_delete=models.SET_NULL, related_name="+")
    origin = models.CharField(max_length=16, choices=Origin.choices)
    title = models.CharField(max_length=200)
    body = models.TextField(blank=True)
    link = models.CharField(max_length=500, blank=True)  # a path on this site, never a full URL
    level = models.CharField(max_length=16, choices=Level.choices, default=Level.INFO)
    created_at = models.DateTimeField(auto_now_add=True)
    read_at = models.DateTimeField(null=True, blank=True)
    emailed_at = models.DateTimeField(null=True, blank=True)
    email_error = models.TextField(blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            # The bell: COUNT(*) WHERE recipient = ? AND read_at IS NULL, on every page.
            models.Index(fields=["recipient", "read_at", "-created_at"], name="notif_unread"),
            # The list: newest first, keyset pages on (created_at, id).
            models.Index(fields=["recipient", "-created_at", "-id"], name="notif_list"),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def unread(self) -> bool:
        return self.read_at is None
