"""Cross-cutting records: the change log every service writes to."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Origin(models.TextChoices):
    """Where a row came from (provenance, kept on every record)."""

    MANUAL = "manual", _("手工")
    IMPORT = "import", _("导入")
    API = "api", _("API")
    SYSTEM = "system", _("系统")
    DEMO = "demo", _("演示数据")


class ChangeLog(models.Model):
    """One change to one record, written by the service that made it, in its transaction."""

    at = models.DateTimeField(auto_now_add=True, db_index=True)
    # PROTECT: the audit seals ranges of these rows (audit/sealing.py), so a person who
    # changed anything is deactivated, never deleted — deleting would rewrite their rows.
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    origin = models.CharField(max_length=16, choices=Origin.choices, default=Origin.MANUAL)
    action = models.CharField(max_length=32)
    model = models.CharField(max_length=64)
    object_id = models.BigIntegerField()
    customer_id = models.BigIntegerField(null=True, db_index=True)
    changes = models.JSONField(default=dict, blank=True)

    class Meta:
        indexes = [models.Index(fields=["model", "object_id"])]

    def __str__(self) -> str:
        return f"{self.action} {self.model}#{self.object_id}"
