"""Start-up checks: the retention period is at least six months (the Cybersecurity Law's
minimum for network logs); a production deployment has its own audit key."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import Error, Tags, Warning, register
from django.core.exceptions import ImproperlyConfigured

from kehu.audit import keys

MIN_RETENTION_DAYS = 183


@register(Tags.security)
def check_retention(app_configs: Any = None, **kwargs: Any) -> list:
    days = settings.KEHU_AUDIT_RETENTION_DAYS
    if days < MIN_RETENTION_DAYS:
        return [Error(f"KEHU_AUDIT_RETENTION_DAYS is {days}; the audit log must be kept at least "
                      f"{MIN_RETENTION_DAYS} days (six months)", id="audit.E001")]
    return []


@register(Tags.security)
def check_key(app_configs: Any = None, **kwargs: Any) -> list:
    if not keys.configured():
        return []
    try:
        keys.audit_key()
    except ImproperlyConfigured as exc:
        return [Error(f"audit key: {exc}", id="audit.E002")]
    return []


@register(Tags.security, deploy=True)
def check_production_key(app_configs: Any = None, **kwargs: Any) -> list:
    if keys.configured():
        return []
    return [Warning("No audit key: set KEHU_AUDIT_KEY or KEHU_AUDIT_KEY_FILE (kept apart from "
                    "the database and its backups); the generated development key under the "
                    "data directory is in use", id="audit.W001")]
