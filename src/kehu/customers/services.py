"""Every change to customers, contacts, shares and custom values goes through here.

Services take a required `actor`, validate with `cleaning`, write in one
transaction, log the change, and re-check that the actor can still see what
they wrote (rolling back if not).
"""

from __future__ import annotations

import copy
import datetime as dt
from collections.abc import Iterable
from typing import Any

from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from kehu.accounts.models import User
from kehu.accounts.policy import access_for, covers_owner
from kehu.accounts.selectors import user_get_active
from kehu.audit import services as audit
from kehu.audit.models import Action
from kehu.core.errors import Http404, PermissionDenied, ValidationError
from kehu.core.records import log_change, record_create, record_delete, record_update
from kehu.customers import cleaning
from kehu.customers.choices import ShareLevel
from kehu.customers.keys import keys_refresh
from kehu.customers.models import (
    Contact,
    Customer,
    CustomerShare,
    CustomField,
    CustomValue,
    OwnershipTransfer,
    Tag,
)
from kehu.customers.names import name_key
from kehu.customers.pinyin import name_pinyin
from kehu.customers.scoping import CHANGE, MANAGE, VIEW, as_pk, forget_shares
from kehu.customers.searchindex import search_index_refresh
from kehu.customers.sensitive import SENSITIVE_MASK, has_separate_consent, sees_sensitive_pi
from kehu.customers.signals import announce_owners_changed


@transaction.atomic
def customer_create(
    *, actor: User, data: dict[str, Any], origin: str
) -> Customer:
    if not access_for(actor).can_write:
        raise PermissionDenied(_("你只有查看权限"))
    values = _clean_customer_values(data, partial=False)
    custom = _clean_custom(data.get("custom"), partial=False)
    owner = _owner_for_create(actor, data.get("owner"))
    tags = _tags(data.get("tags"))
    customer = Customer(**values, owner=owner)
    _set_pinyin(customer)
    record_create(actor=actor, instance=customer, origin=origin,
                  summary={"name": [None, customer.name]})
    if tags is not None:
        customer.tags.set(tags)
    _write_custom_values(actor, customer, custom)
    keys_refresh([customer.pk])
    search_index_refresh([customer.pk])
    _ensure_still_visible(actor, customer)
    return customer


@transaction.atomic
def customer_update(
    *,
    actor: User,
    customer: Customer,
    data: dict[str, Any],
    expected_version: int | None = None,
    origin: str,
) -> Customer:
    if "owner" in data:
        raise ValidationError({"owner": [_("负责人不能在编辑时修改，请使用“转移”")]})
    customer = Customer.objects.get_for(actor, customer, CHANGE, lock=True)
    custom = _clean_custom(data.get("custom"), partial=True)
    tags = _tags(data.get("tags"))

    def values(current: Customer) -> dict[str, Any]:
        cleaned = _clean_customer_values(data, partial=True, current=current)
        if "name" in cleaned or "kind" in cleaned:
            cleaned.update(_pinyin_of(cleaned.get("name", current.name),
                                      cleaned.get("kind", current.kind)))
        return cleaned

    def related(current: Customer) -> dict[str, Any]:
        return {**_replace_tags(current, tags), **_write_custom_values(actor, current, custom)}

    record_update(actor=actor, instance=customer, values=values, after_save=related,
                  expected_version=expected_version, origin=origin)
    keys_refresh([customer.pk])
    search_index_refresh([customer.pk])
    _ensure_still_visible(actor, customer)
    return customer


def may_delete(actor: User) -> None:
    if not access_for(actor).may_delete:
        raise PermissionDenied(_("你的角色不能删除客户"))


@transaction.atomic
def customer_delete(
    *, actor: User, customer: Customer, expected_version: int | None = None,
    origin: str,
) -> None:
    """Soft delete: the customer moves to the recycle bin and can be restored.

    Only someone whose own scope covers the owner may delete: a share does not reach; and
    only a role that may delete (the same answer for every id: it tells nothing)."""
    may_delete(actor)
    customer = Customer.objects.get_for(actor, customer, MANAGE, lock=True)
    record_update(actor=actor, instance=customer, values={"deleted_at": timezone.now()},
                  expected_version=expected_version, origin=origin, action="delete")
    audit.record(actor, Action.DELETED, customer_id=customer.pk, label=customer.name,
                 details={"origin": origin})


@transaction.atomic
def customer_restore(*, actor: User, pk: int, origin: str) -> Customer:
    may_delete(actor)  # the recycle bin is the deleters'
    customer = _deleted_customer_for_change(actor, pk)
    return record_update(actor=actor, instance=customer, values={"deleted_at": None},
                         origin=origin, action="restore")


@transaction.atomic
def customer_transfer(
    *, actor: User, customer_ids: Iterable[int], to_user: User, reason: str = "",
    origin: str,
) -> int:
    """Hand customers over to `to_user` (single or bulk), keeping a transfer record for each.

    All or nothing; only customers whose owner the actor's own scope covers (MANAGE).
    """
    to_user = _person(to_user, "to_user")
    ids = sorted({as_pk(pk) for pk in customer_ids})
    customers = list(
        Customer.objects.visible_to(actor, MANAGE).filter(pk__in=ids).select_for_update()
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
    # In this transaction: a pool customer leaves its pool, follow-up plans the new owner.
    announce_owners_changed(ids=[c.pk for c in moved], to_user_id=to_user.pk, actor=actor,
                            origin=origin, reason=reason)
    return len(moved)


@transaction.atomic
def customer_share(
    *, actor: User, customer: Customer | int, user: User | int, origin: str,
    level: str = ShareLevel.VIEW, ends_on: dt.date | str | None = None,
) -> CustomerShare:
    """Share a customer with a colleague (read-only or to edit), optionally until a date.

    Sharing again changes the level and end date of the existing share."""
    customer = Customer.objects.get_for(actor, customer, MANAGE, lock=True)
    user = _person(user, "user")
    values = cleaning.clean_share({"level": level, "ends_on": ends_on})
    if user.pk == customer.owner_id:
        raise ValidationError({"user": [_("不能共享给客户的负责人")]})
    if customer.owner_id is None:  # a share is its owner's side's grant (a pool's: masked)
        raise ValidationError({"user": [_("该客户没有负责人，不能共享")]})
    share, _created = CustomerShare.objects.update_or_create(
        customer=customer, user=user, defaults={**values, "created_by": actor}
    )
    forget_shares(user)
    log_change(actor=actor, action="share", instance=customer, origin=origin,
               changes={"shared_with": user.pk, **{k: str(v) for k, v in values.items()}})
    return share


@transaction.atomic
def customer_unshare(
    *, actor: User, customer: Customer | int, user: User | int, origin: str
) -> None:
    """End a share; the user is whoever holds it (active or not), else 404."""
    customer = Customer.objects.get_for(actor, customer, MANAGE, lock=True)
    share = CustomerShare.objects.filter(customer=customer, user_id=as_pk(user)) \
        .select_related("user").first()
    if share is None:
        raise Http404
    share.delete()
    forget_shares(share.user)
    log_change(actor=actor, action="unshare", instance=customer, origin=origin,
               changes={"shared_with": share.user_id})


# --- contacts -------------------------------------------------------------


@transaction.atomic
def contact_create(
    *, actor: User, customer: Customer, data: dict[str, Any], origin: str
) -> Contact:
    customer = Customer.objects.get_for(actor, customer, CHANGE, lock=True)
    values = cleaning.clean_contact(data)
    contact = Contact(customer=customer, **values)
    if not customer.contacts.exists():
        contact.is_primary = True
    record_create(actor=actor, instance=contact, origin=origin,
                  summary={"name": [None, contact.name]})
    _keep_one_primary(contact)
    keys_refresh([customer.pk])
    search_index_refresh([customer.pk])
    return contact


@transaction.atomic
def contact_update(
    *, actor: User, contact: Contact, data: dict[str, Any], expected_version: int | None = None,
    origin: str,
) -> Contact:
    contact = Contact.objects.get_for(actor, contact, CHANGE, lock=True)
    record_update(actor=actor, instance=contact, values=cleaning.clean_contact(data, partial=True),
                  expected_version=expected_version, origin=origin)
    _keep_one_primary(contact)
    keys_refresh([contact.customer_id])
    search_index_refresh([contact.customer_id])
    return contact


@transaction.atomic
def contact_delete(
    *, actor: User, contact: Contact, expected_version: int | None = None,
    origin: str,
) -> None:
    contact = Contact.objects.get_for(actor, contact, CHANGE, lock=True)
    record_delete(actor=actor, instance=contact, origin=origin, expected_version=expected_version)
    keys_refresh([contact.customer_id])
    search_index_refresh([contact.customer_id])


# --- tags and custom fields (admin) ----------------------------------------


def tag_get_or_create(*, name: str) -> Tag:
    name = name.strip()[:50]
    if not name:
        raise ValidationError({"tags": [_("标签不能为空")]})
    if "\x00" in name:  # PostgreSQL cannot store it
        raise ValidationError({"tags": [_("不能包含空字符（NUL）")]})
    return Tag.objects.get_or_create(name=name)[0]


CUSTOM_FIELD_ATTRS = ("key", "label", "label_en", "field_type", "choices", "required",
                      "show_in_list", "sensitive", "position", "is_active")


@transaction.atomic
def custom_field_save(
    *, actor: User, data: dict[str, Any], origin: str, field: CustomField | None = None
) -> CustomField:
    """Create or change a custom field definition (admins only)."""
    if not access_for(actor).is_admin:
        raise PermissionDenied(_("只有管理员可以定义自定义字段"))
    values = {name: data[name] for name in CUSTOM_FIELD_ATTRS if name in data}
    if field is None:
        field = CustomField(**values)
        _check_custom_field(field)
        return record_create(actor=actor, instance=field, origin=origin,
                             summary={"key": field.key, "type": field.field_type})
    field = CustomField.objects.select_for_update().get(pk=field.pk)

    def checked(current: CustomField) -> dict[str, Any]:
        candidate = copy.copy(current)  # validate the would-be row, log the diff against the stored one
        for name, value in values.items():
            setattr(candidate, name, value)
        _check_custom_field(candidate)
        return values

    return record_update(actor=actor, instance=field, values=checked, origin=origin)


def _check_custom_field(field: CustomField) -> None:
    if field.field_type in ("choice", "multi_choice") and not field.choices:
        raise ValidationError({"choices": [_("单选和多选字段需要至少一个选项")]})
    if field.sensitive and (field.required or field.show_in_list):
        # Required: no customer could be created (its consent comes after it); in the
        # list: a column of ＊＊＊＊ for everyone but admins.
        raise ValidationError({"sensitive": [_("敏感个人信息字段不能设为必填或列表显示")]})
    field.full_clean()


# --- internals -------------------------------------------------------------


def _keep_one_primary(contact: Contact) -> None:
    if contact.is_primary:
        Contact.objects.filter(customer_id=contact.customer_id, is_primary=True).exclude(
            pk=contact.pk
        ).update(is_primary=False)


def _deleted_customer_for_change(actor: User, pk: int) -> Customer:
    access = access_for(actor)
    if not access.can_write:
        raise PermissionDenied(_("你只有查看权限"))
    customer = Customer.objects.in_recycle_bin_of(actor).filter(pk=as_pk(pk)).first()
    if customer is None:
        raise Http404
    return Customer.objects.select_for_update().get(pk=customer.pk)


def _raise_missing(actor: User, wanted: list[int], found: set[int]) -> None:
    missing = [pk for pk in wanted if pk not in found]
    if Customer.objects.visible_to(actor, VIEW).filter(pk__in=missing).exists():
        # Visible but not the actor's to hand over: the gate's own 403 for the first one.
        Customer.objects.get_for(actor, min(missing), MANAGE)
    raise Http404


def _ensure_still_visible(actor: User, customer: Customer) -> None:
    """Nobody may write a record out of their own reach; the caller's transaction rolls back."""
    if not Customer.objects.visible_to(actor, VIEW).filter(pk=customer.pk).exists():
        raise PermissionDenied(_("保存后你将无法查看该客户，已撤销"))


def _clean_customer_values(
    data: dict[str, Any], *, partial: bool, current: Customer | None = None
) -> dict[str, Any]:
    if current is not None and any(f in data for f in cleaning.REGION_FIELDS):
        # The region is matched whole: a new city is read within the stored province.
        data = {**{f: getattr(current, f) for f in cleaning.REGION_FIELDS}, **data}
    values = cleaning.clean_customer(data, partial=partial)
    merged = ({f: getattr(current, f) for f in ("kind", "credit_code", "id_number", "gender")}
              if current else {})
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
    user = _person(owner, "owner")
    if not covers_owner(access_for(actor), user.pk):
        raise ValidationError({"owner": [_("只能把客户分配给你管辖范围内的同事")]})
    return user


def _person(user: User | int | str | None, field: str) -> User:
    """The one rule for who may be made an owner or a share target: an active person."""
    found = user_get_active(user.pk if isinstance(user, User) else user)
    if found is None:
        raise ValidationError({field: [_("用户不存在或已停用")]})
    return found


def _tags(names: Iterable[str] | None) -> list[Tag] | None:
    if names is None:
        return None
    if isinstance(names, str):
        names = [n for n in names.replace("，", ",").split(",")]
    return [tag_get_or_create(name=n) for n in names if str(n).strip()]


def _set_pinyin(customer: Customer) -> None:
    for field, value in _pinyin_of(customer.name, customer.kind).items():
        setattr(customer, field, value)


def _pinyin_of(name: str, kind: str) -> dict[str, str]:
    """The columns derived from the name: pinyin, initials and the duplicate key."""
    pinyin, initials = name_pinyin(name, is_person=kind == "person")
    return {"name_pinyin": pinyin, "name_initials": initials, "name_key": name_key(name)}


def _replace_tags(customer: Customer, tags: list[Tag] | None) -> dict[str, list]:
    if tags is None:
        return {}
    before = sorted(customer.tags.values_list("name", flat=True))
    customer.tags.set(tags)
    after = sorted(t.name for t in tags)
    return {"tags": [before, after]} if before != after else {}


def _write_custom_values(actor: User, customer: Customer,
                         values: dict[str, Any]) -> dict[str, list]:
    """Replace the stored rows of each given field; returns {custom.key: [old, new]}, a
    sensitive field's values logged as SENSITIVE_MASK (the change log is sealed, not
    re-encrypted, and a rep reads it on the timeline)."""
    changes = {}
    refused: dict[str, list[str]] = {}
    fields = {f.key: f for f in CustomField.objects.filter(key__in=values)}
    for key, value in values.items():
        field = fields[key]
        rows = CustomValue.objects.filter(customer=customer, field=field)
        old = [_stored(field, r) for r in rows]
        new = value if isinstance(value, list) else ([] if value is None else [value])
        if [str(v) for v in old] == [str(v) for v in new]:
            continue
        logged = [old, new]
        if field.sensitive:
            if problem := _sensitive_write_problem(actor, customer, new):
                refused[f"custom.{key}"] = [problem]
                continue
            logged = [[SENSITIVE_MASK] * bool(old), [SENSITIVE_MASK] * bool(new)]
        rows.delete()
        CustomValue.objects.bulk_create(_value_row(customer, field, v) for v in new)
        changes[f"custom.{key}"] = [[str(v) for v in side] for side in logged]
    if refused:  # every refused field at once; the transaction rolls back
        raise ValidationError(refused)
    return changes


def sensitive_values_drop(*, actor: User, origin: str, customer_id: int) -> int:
    """Delete the customer's values of sensitive custom fields (its separate consent is
    gone); one change-log row, the values masked. Returns how many were deleted."""
    rows = CustomValue.objects.filter(customer_id=customer_id, field__sensitive=True)
    keys = sorted(set(rows.values_list("field__key", flat=True)))
    if not keys:
        return 0
    count = rows.delete()[0]
    Customer.objects.filter(pk=customer_id).update(version=F("version") + 1)
    customer = Customer.objects.get(pk=customer_id)
    log_change(actor=actor, action="update", instance=customer, origin=origin,
               changes={f"custom.{key}": [[SENSITIVE_MASK], []] for key in keys})
    return count


def _sensitive_write_problem(actor: User, customer: Customer, new: list) -> str:
    """Why `actor` may not set a sensitive custom field of `customer` to `new`, or ""."""
    if not sees_sensitive_pi(actor):
        return str(_("敏感个人信息只能由管理员填写"))
    if new and not has_separate_consent(customer.pk):
        return str(_("客户还没有有效的单独同意（个保法第 29 条）：先在“同意记录”中记录，"
                     "再填写此项"))
    return ""


def _value_row(customer: Customer, field: CustomField, value: Any) -> CustomValue:
    return CustomValue(customer=customer, field=field, **{field.value_column: value})


def _stored(field: CustomField, row: CustomValue) -> Any:
    return getattr(row, field.value_column)
