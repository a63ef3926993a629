"""The one write path every history record kind shares: lock, version check, update, log.

Services for communications, orders, needs, opportunities, surveys and tickets
call these instead of repeating the same dozen lines per model.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from django.db import models
from django.db.models import F
from django.utils.translation import gettext as _

from kehu.accounts.models import User
from kehu.core.errors import Http404, PermissionDenied
from kehu.core.models import Origin
from kehu.core.scoping import CHANGE, VIEW
from kehu.core.services import check_version, diff, log_change
from kehu.customers.models import Customer
from kehu.customers.services import customer_for_change

M = TypeVar("M", bound=models.Model)

Cleaner = Callable[[Any], dict[str, Any]]
AfterSave = Callable[[Any], dict[str, Any]]


def customer_writable(actor: User, customer: Customer | int) -> Customer:
    """The customer `actor` may write history on (404 out of scope, 403 read-only), locked."""
    pk = customer.pk if isinstance(customer, Customer) else int(customer)
    customer_for_change(actor=actor, pk=pk)
    return Customer.objects.select_for_update().get(pk=pk)


def record_for_change(actor: User, model: type[M], pk: int) -> M:
    """The record, locked, if `actor` may change it: 404 when out of sight, 403 when read-only."""
    manager = model._default_manager
    if not manager.visible_to(actor, CHANGE).filter(pk=pk).exists():
        if manager.visible_to(actor, VIEW).filter(pk=pk).exists():
            raise PermissionDenied(_("你只有查看权限"))
        raise Http404
    return manager.select_for_update().get(pk=pk)


def record_create(
    *, actor: User, instance: M, origin: str = Origin.MANUAL, summary: dict[str, Any] | None = None
) -> M:
    """Save a new record with its provenance and log it, in the caller's transaction."""
    instance.created_by = actor
    instance.origin = origin
    instance.save()
    log_change(actor=actor, action="create", instance=instance, customer_id=instance.customer_id,
               origin=origin, changes=summary or {})
    return instance


def record_update(
    *,
    actor: User,
    instance: M,
    clean: Cleaner,
    expected_version: int | None = None,
    after_save: AfterSave | None = None,
    action: str = "update",
    origin: str = Origin.MANUAL,
) -> M:
    """Lock `instance`, refuse a stale version, apply `clean(current)`, bump the version, log.

    `clean` receives the locked current row so it can validate against it (a survey's
    kind, an opportunity's pipeline); `after_save` writes related rows (order lines,
    many-to-many) and returns the changes it made for the log.
    """
    current = record_for_change(actor, type(instance), instance.pk)
    check_version(current, expected_version)
    values = clean(current)
    changes = diff(current, values)
    for field, value in values.items():
        setattr(current, field, value)
    current.version = F("version") + 1
    current.save()
    current.refresh_from_db(fields=["version", "updated_at"])
    if after_save is not None:
        changes.update(after_save(current))
    log_change(actor=actor, action=action, instance=current, customer_id=current.customer_id,
               changes=changes, origin=origin)
    return current


def record_delete(*, actor: User, instance: models.Model, expected_version: int | None = None) -> None:
    """Delete a record (hard delete: the customer itself is what goes to the recycle bin)."""
    current = record_for_change(actor, type(instance), instance.pk)
    check_version(current, expected_version)
    log_change(actor=actor, action="delete", instance=current, customer_id=current.customer_id,
               changes={"deleted": str(current)[:200]})
    current.delete()
