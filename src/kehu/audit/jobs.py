"""Retention: entries older than KEHU_AUDIT_RETENTION_DAYS go nightly; the chain keeps
verifying from the anchor the deletion leaves (services.prune)."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _

from kehu.audit.anchors import anchor_now
from kehu.audit.sealing import seal_changes
from kehu.audit.services import prune
from kehu.jobs.context import JobContext
from kehu.jobs.registry import job

RETENTION_JOB = "audit.retention"


@job(RETENTION_JOB, title=_("审计日志保留期清理"), max_attempts=3, schedule="45 3 * * *")
def audit_retention(ctx: JobContext) -> dict[str, Any]:
    ctx.stage(str(_("删除过期审计记录")))
    return {str(_("删除")): prune()}


SEAL_JOB = "audit.seal"


@job(SEAL_JOB, title=_("封存变更日志"), max_attempts=3, schedule="*/10 * * * *")
def audit_seal(ctx: JobContext) -> dict[str, Any]:
    """Seal the change log's new rows into the audit chain (sealing.py), then write the
    chain's head to the anchor file (anchors.py)."""
    sealed = seal_changes()
    anchor_now()
    return {str(_("封存行数")): sealed}
