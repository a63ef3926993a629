"""显示完整号码: one full value of a masked field, for a role that may reveal, with a reason.

A masking role (the analyst's) sees 138****5678 everywhere. A role with `may_reveal` (set by
an admin under 成员与权限) may ask for one value at a time — one phone, one e-mail, the
WeChat id, the ID number, of the customer or of one of its contacts — stating why; every
reveal is an audit entry (`revealed`: who, which customer, which field, the reason; never
the value). Without the flag: 403, and the card shows no button. The customer goes through
the gate first, so a customer out of scope is the same 404 as everywhere.
"""

from __future__ import annotations

from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.utils.translation import gettext as _

from kehu.accounts.models import User
from kehu.accounts.policy import access_for
from kehu.audit import services as audit
from kehu.audit.models import Action
from kehu.customers.models import Contact, Customer, CustomField, CustomValue
from kehu.customers.scoping import VIEW
from kehu.customers.sensitive import CONTACT_SENSITIVE, CUSTOMER_SENSITIVE

REASON_MIN, REASON_MAX = 2, 200


def may_reveal(viewer: User) -> bool:
    """Whether the viewer gets the 显示完整号码 button (and the route answers)."""
    return access_for(viewer).may_reveal


def reveal_check(*, viewer: User, customer_id: int) -> Customer:
    """The customer, if the viewer may ask to reveal its values: the gate first (404 out of
    scope), then the permission (403)."""
    customer = Customer.objects.get_for(viewer, customer_id, VIEW)
    if not may_reveal(viewer):
        raise PermissionDenied(_("你的角色不能查看完整号码"))
    return customer


def reveal_value(*, viewer: User, customer_id: int, field: str, reason: str,
                 index: int = 0, contact_id: int | None = None) -> str:
    """The full value of `field` (the `index`-th of a list) of the customer, or of its
    contact `contact_id`; recorded in the audit trail with `reason`."""
    customer = reveal_check(viewer=viewer, customer_id=customer_id)
    reason = " ".join((reason or "").split())
    table = CONTACT_SENSITIVE if contact_id is not None else CUSTOMER_SENSITIVE
    errors: dict[str, list[str]] = {}
    if not REASON_MIN <= len(reason) <= REASON_MAX:
        errors["reason"] = [_("请说明查看原因（%(min)d–%(max)d 个字）")
                            % {"min": REASON_MIN, "max": REASON_MAX}]
    sensitive = _sensitive_field(field) if contact_id is None else None
    if field not in table and sensitive is None:
        errors["field"] = [_("这个字段没有隐藏的内容")]
    if errors:  # every bad field at once
        raise ValidationError(errors)
    if sensitive is not None:
        value = _sensitive_value(customer, sensitive, index)
        audit.record(viewer, Action.REVEALED, customer_id=customer.pk, label=customer.name,
                     details={"field": field, "reason": reason, "index": index})
        return value
    source: Customer | Contact = customer
    if contact_id is not None:
        source = Contact.objects.filter(pk=contact_id, customer_id=customer.pk).first()
        if source is None:
            raise Http404
    value = getattr(source, field)
    if isinstance(value, list):
        if not 0 <= index < len(value):
            raise Http404
        value = value[index]
    if not value:
        raise Http404
    where = f"contact.{field}" if contact_id is not None else field
    details = {"field": where, "reason": reason}
    if isinstance(getattr(source, field), list):
        details["index"] = index
    if contact_id is not None:
        details["contact_id"] = contact_id
    audit.record(viewer, Action.REVEALED, customer_id=customer.pk, label=customer.name,
                 details=details)
    return str(value)


def _sensitive_field(field: str) -> CustomField | None:
    """"custom.<key>" of an active sensitive custom field (敏感个人信息), else None."""
    if not field.startswith("custom."):
        return None
    return CustomField.objects.filter(key=field.removeprefix("custom."), sensitive=True,
                                      is_active=True).first()


def _sensitive_value(customer: Customer, field: CustomField, index: int) -> str:
    values = list(CustomValue.objects.filter(customer=customer, field=field).order_by("id")
                  .values_list(field.value_column, flat=True))
    shown = [format(v.normalize(), "f") if isinstance(v, Decimal) else str(v)
             for v in values if v not in (None, "")]
    if not shown or index != 0:
        raise Http404
    return "、".join(shown)  # a multiple choice: all its options, as the card lists them
