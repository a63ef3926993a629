"""The one write path: create, update and delete a record with its version and change log.

Every service of every app writes through these, so a record always carries who made
it and from where (`created_by`, `origin`), a stale version always answers 412 with
nothing changed, and every change leaves one `ChangeLog` row with the actor and the
true origin (`manual`, `api`, `import`, `system`, `demo`) — in the caller's transaction.

Finding and locking the row is the caller's job (for customer-bound rows: the
customers' scoping gate, `Model.objects.get_for(actor, pk, CHANGE, lock=True)`), because
only the caller knows who may touch it. This module imports no app.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from django.db import models
from django.db.models import F

from kehu.core.errors import VersionConflict
from kehu.core.fields import encrypted_fields
from kehu.core.masking import mask_value
from kehu.core.models import ChangeLog, Origin
from kehu.core.signals import announce_customers_changed

M = TypeVar("M", bound=models.Model)

Values = dict[str, Any] | Callable[[Any], dict[str, Any]]
AfterSave = Callable[[Any], dict[str, Any]]
ORIGINS = frozenset(Origin.values)


def check_version(instance: models.Model, expected: int | None) -> None:
    """Refuse the write when the caller's version is stale (HTTP 412 in the API)."""
    if expected is not None and int(expected) != instance.version:
        raise VersionConflict(instance.version)


def log_change(
    *,
    actor: models.Model | None,
    action: str,
    instance: models.Model,
    origin: str,
    customer_id: int | None = None,
    changes: dict[str, Any] | None = None,
) -> ChangeLog:
    """One change-log row; `origin` is required so that no path forgets to say where it came from."""
    if origin not in ORIGINS:
        raise ValueError(f"unknown origin {origin!r}")
    row = ChangeLog.objects.create(
        actor=actor, action=action, model=instance._meta.label_lower, object_id=instance.pk,
        customer_id=customer_id if customer_id is not None else _customer_id(instance),
        changes=changes or {}, origin=origin,
    )
    announce_customers_changed([row.customer_id])
    return row


def record_create(
    *, actor: models.Model, instance: M, origin: str, summary: dict[str, Any] | None = None
) -> M:
    """Save a new record with its provenance (where the model has it) and log it."""
    if _has_field(instance, "created_by"):
        instance.created_by = actor
    if _has_field(instance, "origin"):
        instance.origin = origin
    instance.save()
    log_change(actor=actor, action="create", instance=instance, origin=origin, changes=summary)
    return instance


def record_update(
    *,
    actor: models.Model,
    instance: M,
    values: Values,
    origin: str,
    expected_version: int | None = None,
    after_save: AfterSave | None = None,
    action: str = "update",
) -> M:
    """Refuse a stale version, apply the whitelisted `values`, bump the version, log.

    `instance` is the current row, already looked up (and locked) by the caller.
    `values` may be a function of it, so it can validate against the stored row (a
    survey's kind, an opportunity's pipeline); `after_save` writes related rows (order
    lines, tags, custom values) and returns the changes it made for the log.
    """
    if _has_field(instance, "version"):
        check_version(instance, expected_version)
    values = values(instance) if callable(values) else values
    changes = diff(instance, values)
    for field, value in values.items():
        setattr(instance, field, value)
    if _has_field(instance, "version"):
        instance.version = F("version") + 1
    instance.save()
    if _has_field(instance, "version"):
        instance.refresh_from_db(fields=["version", *_auto_now(instance)])
    if after_save is not None:
        changes.update(after_save(instance))
    log_change(actor=actor, action=action, instance=instance, origin=origin, changes=changes)
    return instance


def record_delete(
    *, actor: models.Model, instance: models.Model, origin: str, expected_version: int | None = None
) -> None:
    """Delete a row for good (customers themselves go to the recycle bin instead)."""
    if _has_field(instance, "version"):
        check_version(instance, expected_version)
    log_change(actor=actor, action="delete", instance=instance, origin=origin,
               changes={"deleted": str(instance)[:200]})
    instance.delete()


def diff(instance: models.Model, data: dict[str, Any]) -> dict[str, list[Any]]:
    """{field: [old, new]} for the fields in `data` whose value would change.

    A field encrypted at rest is logged masked (138****5678): the change log is sealed by
    the audit trail and never re-encrypted, so it must not keep in the clear what the
    column keeps sealed, nor a ciphertext that a key rotation would leave unreadable."""
    changes = {}
    sealed = {f.name: f.mask for f in encrypted_fields(type(instance)) if f.encrypted}
    for field, new in data.items():
        old = getattr(instance, field)
        if old != new:
            changes[field] = [jsonable(old), jsonable(new)]
            if field in sealed:
                changes[field] = [mask_value(sealed[field], v) for v in changes[field]]
    return changes


def _customer_id(instance: models.Model) -> int | None:
    """The customer a row belongs to, for the customer's change history."""
    customer_id = getattr(instance, "customer_id", None)
    if customer_id is None and instance._meta.label_lower == "customers.customer":
        return instance.pk
    return customer_id


def _has_field(instance: models.Model, name: str) -> bool:
    return any(f.name == name for f in instance._meta.concrete_fields)


def _auto_now(instance: models.Model) -> list[str]:
    return [f.name for f in instance._meta.concrete_fields if getattr(f, "auto_now", False)]


def jsonable(value: Any) -> Any:
    """`value` as a JSON column holds it: dates, decimals and the like as text, at any depth."""
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)
