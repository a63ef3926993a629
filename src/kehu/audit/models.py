"""The audit trail: who read, searched, exported, imported, merged, deleted, changed a role,
signed in or failed to — one chained row each (see chain.py)."""

from __future__ import annotations

import json

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Action(models.TextChoices):
    """What an audit entry records."""

    VIEWED = "viewed", _("查看客户")
    REVEALED = "revealed", _("显示完整信息")
    SEARCHED = "searched", _("搜索")
    EXPORTED = "exported", _("导出")
    IMPORTED = "imported", _("导入")
    MERGED = "merged", _("合并客户")
    DELETED = "deleted", _("删除客户")
    ROLE_CHANGED = "role_changed", _("更改角色或权限")
    SIGNED_IN = "signed_in", _("登录")
    SIGN_IN_FAILED = "sign_in_failed", _("登录失败")
    SIGNED_OUT = "signed_out", _("退出登录")
    PRUNED = "pruned", _("按保留期清理")
    SEALED = "sealed", _("封存变更日志")
    ERASED = "erased", _("删除个人信息")


class AuditEntry(models.Model):
    """One audited act. `digest` is HMAC-SHA256(key, previous digest + this row's canonical
    JSON), so changing, deleting or inserting a row breaks the chain at that row.

    `actor` has no database constraint and is never nulled: a digest covers the actor's id,
    and deleting a person must not rewrite (and so break) their entries; `actor_name` keeps
    the name for the screen."""

    at = models.DateTimeField(db_index=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                              on_delete=models.DO_NOTHING, db_constraint=False, related_name="+")
    actor_name = models.CharField(max_length=150, blank=True)
    action = models.CharField(max_length=32, choices=Action.choices)
    customer_id = models.BigIntegerField(null=True, blank=True)
    label = models.CharField(max_length=200, blank=True)
    details = models.JSONField(default=dict, blank=True)
    ip = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=300, blank=True)
    digest = models.CharField(max_length=64)

    class Meta:
        indexes = [
            models.Index(fields=["actor", "id"], name="audit_actor_id"),
            models.Index(fields=["customer_id", "id"], name="audit_customer_id"),
            models.Index(fields=["action", "id"], name="audit_action_id"),
        ]

    def __str__(self) -> str:
        return f"{self.action} #{self.pk}"

    @property
    def details_text(self) -> str:
        """The details as the screen and the export show them (JSON, Chinese as is)."""
        return json.dumps(self.details, ensure_ascii=False) if self.details else ""


class AuditHead(models.Model):
    """The chain's one head row (pk 1): the last entry and its digest, and the anchor — the
    last entry retention deleted — from which verification starts. Writers lock it
    (SELECT … FOR UPDATE) in the transaction that inserts their entry, so entries chain in
    id order under concurrent writers. `mac` covers the other fields, so the head cannot be
    moved back to hide deleted tail entries or forward to skip old ones."""

    last_id = models.BigIntegerField(default=0)
    digest = models.CharField(max_length=64, blank=True)
    anchor_id = models.BigIntegerField(default=0)
    anchor_digest = models.CharField(max_length=64, blank=True)
    # The last change-log row sealed into the chain (sealing.py).
    sealed_id = models.BigIntegerField(default=0)
    mac = models.CharField(max_length=64, blank=True)

    def __str__(self) -> str:
        return f"audit head #{self.last_id}"
