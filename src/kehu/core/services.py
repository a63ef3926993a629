"""Helpers every service uses: the change log, versions and the system actor."""

from __future__ import annotations

from typing import Any

from django.db import models

from kehu.accounts.models import User
from kehu.core.errors import VersionConflict
from kehu.core.models import ChangeLog, Origin

SYSTEM_USERNAME = "system"


def system_actor() -> User:
    """The actor background jobs and the command line act as, so provenance is never empty."""
    user, _ = User.objects.get_or_create(
        username=SYSTEM_USERNAME,
        defaults={"is_system": True, "is_active": False, "display_name": "System"},
    )
    return user


def check_version(instance: models.Model, expected: int | None) -> None:
    """Refuse the write when the caller's version is stale (HTTP 412 in the API)."""
    if expected is not None and int(expected) != instance.version:
        raise VersionConflict(instance.version)


def log_change(
    *,
    actor: User | None,
    action: str,
    instance: models.Model,
    customer_id: int | None,
    changes: dict[str, Any] | None = None,
    origin: str = Origin.MANUAL,
) -> ChangeLog:
    return ChangeLog.objects.create(
        actor=actor,
        action=action,
        model=instance._meta.label_lower,
        object_id=instance.pk,
        customer_id=customer_id,
        changes=changes or {},
        origin=origin,
    )


def diff(instance: models.Model, data: dict[str, Any]) -> dict[str, list[Any]]:
    """{field: [old, new]} for the fields in `data` whose value would change."""
    changes = {}
    for field, new in data.items():
        old = getattr(instance, field)
        if old != new:
            changes[field] = [_jsonable(old), _jsonable(new)]
    return changes


def _jsonable(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | float | str | list | dict):
        return value
    return str(value)
