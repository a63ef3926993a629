"""Every change to customers, contacts, shares and custom values goes through here.

Services take a required `actor`, validate with `cleaning`, write in one
transaction, log the change, and re-check that the actor can still see what
they wrote (rolling back if not).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from kehu.accounts.models import User
from kehu.accounts.policy import access_for, covers_owner, forget_access
from kehu.accounts.selectors import user_get_active
from kehu.core.errors import Http404, PermissionDenied, ValidationError
from kehu.core.models import Origin
from kehu.core.scoping import CHANGE, VIEW
from kehu.core.services import check_version, diff, log_change
from kehu.customers import cleaning
from kehu.customers.models import (
    Contact,
    Customer,
    CustomerShare,
    CustomField,
    CustomValue,
    OwnershipTransfer,
    Tag,
)
from kehu.customers.pinyin import name_pinyin


def customer_for_change(*, actor: User, pk: int) -> Customer:
    """The customer `actor` may change: 404 when out of sight, 403 when read-only."""
    customer = Customer.objects.visible_to(actor, CHANGE).filter(pk=pk).first()
    if customer is not None:
        return customer
    if Customer.objects.visible_to(actor, VIEW).filter(pk=pk).exists():
        raise PermissionDenied(_("你只有查看权限"))
    raise Http404


@transaction.atomic
def customer_create(
    *, actor: User, data: dict[str, Any], origin: str = Origin.MANUAL
) -> Customer:
    if not access_for(actor).can_write:
        raise PermissionDenied(_("你只有查看权限"))
    values = _clean_customer_values(data, partial=False)
    custom = _clean_custom(data.get("custom"), partial=False)
    owner = _owner_for_create(actor, data.get("owner"))
    tags = _tags(data.get("tags"))
    customer = Customer(**values, owner=owner, created_by=actor, origin=origin)
    _set_pinyin(customer)
    customer.save()
    if tags is not None:
        customer.tags.set(tags)
    _write_custom_values(customer, custom)
    log_change(actor=actor, action="create", instance=customer, customer_id=customer.pk,
               origin=origin, changes={"name": [None, customer.name]})
    _ensure_still_visible(actor, customer)
    return customer


@transaction.atomic
def customer_update(
    *,
    actor: User,
    customer: Customer,
    data: dict[str, Any],
    expected_version: int | None = None,
    origin: str = Origin.MANUAL,
) -> Customer:
    customer = _lock_for_change(actor, customer.pk)
    check_version(customer, expected_version)
    values = _clean_customer_values(data, partial=True, current=customer)
    custom = _clean_custom(data.get("custom"), partial=True)
    tags = _tags(data.get("tags"))
    changes = diff(customer, values)
    for field, value in values.items():
        setattr(customer, field, value)
    if "name" in values or "kind" in values:
        _set_pinyin(customer)
    if tags is not None:
        before = sorted(customer.tags.values_list("name", flat=True))
        customer.tags.set(tags)
        if before != sorted(t.name for t in tags):
            changes["tags"] = [before, sorted(t.name for t in tags)]
    changes.update(_write_custom_values(customer, custom))
    customer.version = F("version") + 1
    customer.save()
    customer.refresh_from_db(fields=["version", "updated_at"])
    log_change(actor=actor, action="update", instance=customer, customer_id=customer.pk,
               changes=changes, origin=origin)
    _ensure_still_visible(actor, customer)
    return customer


@transaction.atomic
def customer_delete(
    *, actor: User, customer: Customer, expected_version: int | None = None,
    origin: str = Origin.MANUAL,
) -> None:
    """Soft delete: the customer moves to the recycle bin and can be restored."""
    customer = _lock_for_change(actor, customer.pk)
    check_version(customer, expected_version)
    Customer.objects.filter(pk=customer.pk).update(
        deleted_at=timezone.now(), version=F("version") + 1, updated_at=timezone.now()
    )
    log_change(actor=actor, action="delete", instance=customer, customer_id=customer.pk,
               origin=origin)


@transaction.atomic
def customer_restore(*, actor: User, pk: int, origin: str = Origin.MANUAL) -> Customer:
    customer = _deleted_customer_for_change(actor, pk)
    Customer.objects.filter(pk=pk).update(
        deleted_at=None, version=F("version") + 1, updated_at=timezone.now()
    )
    log_change(actor=actor, action="restore", instance=customer, customer_id=pk, origin=origin)
    customer.refresh_from_db()
    return customer


@transaction.atomic
def customer_transfer(
    *, actor: User, customer_ids: Iterable[int], to_user: User, reason: str = "",
    origin: str = Origin.MANUAL,
) -> int:
    """Hand customers over to `to_user` (single or bulk), keeping a transfer record for each."""
    if not to_user.is_active or to_user.is_system:
        raise ValidationError({"to_user": [_("接收人不是有效用户")]})
    ids = sorted(set(customer_ids))
    customers = list(
        Customer.objects.visible_to(actor, CHANGE).filter(pk__in=ids).select_for_update()
    )
    if len(customers) != len(ids):
        _raise_missing(actor, ids, {c.pk for c in customers})
    moved = [c for c in customers if c.owner_id != to_user.pk]
    OwnershipTransfer.objects.bulk_create(
        OwnershipTransfer(customer=c, from_user_id=c.owner_id, to_user=to_user, actor=actor,
                          reason=reason[:255])
        for c in moved
    )
    Customer.objects.filter(pk__in=[c.pk for c in moved]).update(
        owner=to_user, version=F("version") + 1, updated_at=timezone.now()
    )
    for c in moved:
        log_change(actor=actor, action="transfer", instance=c, customer_id=c.pk,
                   changes={"owner": [c.owner_id, to_user.pk], "reason": reason}, origin=origin)
    return len(moved)


@transaction.atomic
def customer_share(
    *, actor: User, customer: Customer, user: User, origin: str = Origin.MANUAL
) -> CustomerShare:
    customer = _lock_for_change(actor, customer.pk)
    share, _created = CustomerShare.objects.get_or_create(
        customer=customer, user=user, defaults={"created_by": actor}
    )
    forget_access(user)
    log_change(actor=actor, action="share", instance=customer, customer_id=customer.pk,
               changes={"shared_with": user.pk}, origin=origin)
    return share


@transaction.atomic
def customer_unshare(
    *, actor: User, customer: Customer, user: User, origin: str = Origin.MANUAL
) -> None:
    customer = _lock_for_change(actor, customer.pk)
    CustomerShare.objects.filter(customer=customer, user=user).delete()
    forget_access(user)
    log_change(actor=actor, action="unshare", instance=customer, customer_id=customer.pk,
               changes={"shared_with": user.pk}, origin=origin)


# --- contacts -------------------------------------------------------------


@transaction.atomic
def contact_create(
    *, actor: User, customer: Customer, data: dict[str, Any], origin: str = Origin.MANUAL
) -> Contact:
    customer = _lock_for_change(actor, customer.pk)
    values = cleaning.clean_contact(data)
    contact = Contact(customer=customer, created_by=actor, origin=origin, **values)
    if not customer.contacts.exists():
        contact.is_primary = True
    contact.save()
    _keep_one_primary(contact)
    log_change(actor=actor, action="create", instance=contact, customer_id=customer.pk,
               origin=origin, changes={"name": [None, contact.name]})
    return contact


@transaction.atomic
def contact_update(
    *, actor: User, contact: Contact, data: dict[str, Any], expected_version: int | None = None,
    origin: str = Origin.MANUAL,
) -> Contact:
    contact = _contact_for_change(actor, contact.pk)
    check_version(contact, expected_version)
    values = cleaning.clean_contact(data, partial=True)
    changes = diff(contact, values)
    for field, value in values.items():
        setattr(contact, field, value)
    contact.version = F("version") + 1
    contact.save()
    contact.refresh_from_db(fields=["version", "updated_at"])
    _keep_one_primary(contact)
    log_change(actor=actor, action="update", instance=contact,
               customer_id=contact.customer_id, changes=changes, origin=origin)
    return contact


@transaction.atomic
def contact_delete(
    *, actor: User, contact: Contact, expected_version: int | None = None,
    origin: str = Origin.MANUAL,
) -> None:
    contact = _contact_for_change(actor, contact.pk)
    check_version(contact, expected_version)
    log_change(actor=actor, action="delete", instance=contact, customer_id=contact.customer_id,
               changes={"name": [contact.name, None]}, origin=origin)
    contact.delete()


# --- tags and custom fields (admin) ----------------------------------------


def tag_get_or_create(*, name: str) -> Tag:
    name = name.strip()[:50]
    if not name:
        raise ValidationError({"tags": [_("标签不能为空")]})
    if "\x00" in name:  # PostgreSQL cannot store it
        raise ValidationError({"tags": [_("不能包含空字符（NUL）")]})
    return Tag.objects.get_or_create(name=name)[0]


@transaction.atomic
def custom_field_save(
    *, actor: User, data: dict[str, Any], field: CustomField | None = None
) -> CustomField:
    """Create or change a custom field definition (admins only)."""
    if not access_for(actor).is_admin:
        raise PermissionDenied(_("只有管理员可以定义自定义字段"))
    field = field or CustomField()
    for name in ("key", "label", "label_en", "field_type", "choices", "required",
                 "show_in_list", "position", "is_active"):
        if name in data:
            setattr(field, name, data[name])
    if field.field_type in ("choice", "multi_choice") and not field.choices:
        raise ValidationError({"choices": [_("单选和多选字段需要至少一个选项")]})
    field.full_clean()
    field.save()
    log_change(actor=actor, action="define", instance=field, customer_id=None,
               changes={"key": field.key, "type": field.field_type})
    return field


# --- internals -------------------------------------------------------------


def _lock_for_change(actor: User, pk: int) -> Customer:
    customer_for_change(actor=actor, pk=pk)
    return Customer.objects.select_for_update().get(pk=pk)


def _contact_for_change(actor: User, pk: int) -> Contact:
    contact = Contact.objects.visible_to(actor, CHANGE).filter(pk=pk).first()
    if contact is None:
        if Contact.objects.visible_to(actor, VIEW).filter(pk=pk).exists():
            raise PermissionDenied(_("你只有查看权限"))
        raise Http404
    return Contact.objects.select_for_update().get(pk=pk)


def _keep_one_primary(contact: Contact) -> None:
    if contact.is_primary:
        Contact.objects.filter(customer_id=contact.customer_id, is_primary=True).exclude(
            pk=contact.pk
        ).update(is_primary=False)


def _deleted_customer_for_change(actor: User, pk: int) -> Customer:
    access = access_for(actor)
    if not access.can_write:
        raise PermissionDenied(_("你只有查看权限"))
    customer = Customer.objects.in_recycle_bin_of(actor).filter(pk=pk).first()
    if customer is None:
        raise Http404
    return customer


def _raise_missing(actor: User, wanted: list[int], found: set[int]) -> None:
    missing = [pk for pk in wanted if pk not in found]
    visible = set(
        Customer.objects.visible_to(actor, VIEW).filter(pk__in=missing).values_list("pk", flat=True)
    )
    if visible:
        raise PermissionDenied(_("你只有查看权限"))
    raise Http404


def _ensure_still_visible(actor: User, customer: Customer) -> None:
    """Nobody may write a record out of their own reach; the caller's transaction rolls back."""
    if not Customer.objects.visible_to(actor, VIEW).filter(pk=customer.pk).exists():
        raise PermissionDenied(_("保存后你将无法查看该客户，已撤销"))


def _clean_customer_values(
    data: dict[str, Any], *, partial: bool, current: Customer | None = None
) -> dict[str, Any]:
    values = cleaning.clean_customer(data, partial=partial)
    merged = {f: getattr(current, f) for f in ("kind", "credit_code", "gender")} if current else {}
    merged.update(values)
    cleaning.check_kind_fields(merged)
    return values


def _clean_custom(data: dict[str, Any] | None, *, partial: bool) -> dict[str, Any]:
    if data is None and partial:
        return {}
    fields = list(CustomField.objects.filter(is_active=True))
    return cleaning.clean_custom_values(fields, data or {}, partial=partial)


def _owner_for_create(actor: User, owner: User | int | None) -> User:
    if owner in (None, ""):
        return actor
    owner_id = owner.pk if isinstance(owner, User) else int(owner)
    if not covers_owner(access_for(actor), owner_id):
        raise ValidationError({"owner": [_("只能把客户分配给你管辖范围内的同事")]})
    user = user_get_active(owner_id)
    if user is None:
        raise ValidationError({"owner": [_("负责人不存在")]})
    return user


def _tags(names: Iterable[str] | None) -> list[Tag] | None:
    if names is None:
        return None
    if isinstance(names, str):
        names = [n for n in names.replace("，", ",").split(",")]
    return [tag_get_or_create(name=n) for n in names if str(n).strip()]


def _set_pinyin(customer: Customer) -> None:
    customer.name_pinyin, customer.name_initials = name_pinyin(
        customer.name, is_person=customer.kind == "person"
    )


def _write_custom_values(customer: Customer, values: dict[str, Any]) -> dict[str, list]:
    """Replace the stored rows of each given field; returns {custom.key: [old, new]}."""
    changes = {}
    fields = {f.key: f for f in CustomField.objects.filter(key__in=values)}
    for key, value in values.items():
        field = fields[key]
        rows = CustomValue.objects.filter(customer=customer, field=field)
        old = [_stored(field, r) for r in rows]
        new = value if isinstance(value, list) else ([] if value is None else [value])
        if [str(v) for v in old] == [str(v) for v in new]:
            continue
        rows.delete()
        CustomValue.objects.bulk_create(_value_row(customer, field, v) for v in new)
        changes[f"custom.{key}"] = [[str(v) for v in old], [str(v) for v in new]]
    return changes


def _value_row(customer: Customer, field: CustomField, value: Any) -> CustomValue:
    return CustomValue(customer=customer, field=field, **{field.value_column: value})


def _stored(field: CustomField, row: CustomValue) -> Any:
    return getattr(row, field.value_column)
