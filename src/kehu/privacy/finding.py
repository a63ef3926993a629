"""Finding everything held on one person: by a full phone, e-mail or ID number through the
match keys (`CustomerKey`: blind indexes where the column is encrypted, so encrypted values
are found too — the same lookup as the import's match), and by name across customers and
contacts. Customers in the recycle bin are found as well: they still hold the person.

The values searched for are not stored anywhere (not in the request, the audit entry or
the log): they are what the person asked to be found by.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import Q
from django.utils.translation import gettext as _

from kehu.accounts.models import User
from kehu.accounts.policy import require_admin
from kehu.core.cleaning import Collector, text_cleaner
from kehu.core.errors import ValidationError
from kehu.customers.encryption import stored_key
from kehu.customers.models import Contact, Customer, CustomerKey
from kehu.customers.normalizers import normalize_email, normalize_id_number, normalize_phone

LIMIT = 50
ERASED_PREFIX = "已删除客户 #"


@dataclass(frozen=True)
class Match:
    """One customer or contact that may be the person, and why it was found."""

    customer: Customer
    contact: Contact | None
    reasons: tuple[str, ...]

    @property
    def key(self) -> str:
        return subject_key(self.customer.pk, self.contact.pk if self.contact else None)


def subject_key(customer_id: int, contact_id: int | None) -> str:
    """How a page names a subject to tick: "customer:ID" or "contact:ID"."""
    return f"contact:{contact_id}" if contact_id else f"customer:{customer_id}"


def _optional(normalise: Any) -> Any:
    def clean(value: Any) -> str:
        text = str(value or "").strip()
        return normalise(text) if text else ""

    return clean


def clean_search(data: dict[str, Any]) -> dict[str, str]:
    collector = Collector()
    collector.run("phone", _optional(normalize_phone), data.get("phone"))
    collector.run("email", _optional(lambda v: normalize_email(v).lower()), data.get("email"))
    collector.run("id_number", _optional(normalize_id_number), data.get("id_number"))
    collector.run("name", text_cleaner(100), data.get("name"))
    values = collector.result()
    if not any(values.values()):
        raise ValidationError({"name": [_("请至少填写电话、邮箱、身份证号或姓名中的一项")]})
    return values


def find_person(*, viewer: User, data: dict[str, Any]) -> list[Match]:
    """Every customer and contact that holds one of the given values (admins only)."""
    require_admin(viewer, _("只有管理员可以处理个人信息权利请求"))
    values = clean_search(data)
    found: dict[str, tuple[Customer, Contact | None, list[str]]] = {}

    def add(customer: Customer, contact: Contact | None, reason: str) -> None:
        key = subject_key(customer.pk, contact.pk if contact else None)
        found.setdefault(key, (customer, contact, []))[2].append(reason)

    by_key = {kind: values[field] for kind, field in
              (("phone", "phone"), ("email", "email"), ("id_number", "id_number")) if values[field]}
    for kind, value in by_key.items():
        ids = CustomerKey.objects.filter(kind=kind, value=stored_key(kind, value)) \
            .values_list("customer_id", flat=True)
        for customer in Customer.objects.filter(pk__in=ids).prefetch_related("contacts"):
            label = {"phone": _("电话"), "email": _("邮箱"), "id_number": _("身份证号")}[kind]
            if _holds(customer.phones, customer.emails, customer.id_number, kind, value):
                add(customer, None, label)
            for contact in customer.contacts.all():
                if _holds(contact.phones, [contact.email], "", kind, value):
                    add(customer, contact, label)
    if values["name"]:
        name = values["name"]
        for customer in Customer.objects.filter(Q(name__contains=name) | Q(short_name=name)) \
                .exclude(name__startswith=ERASED_PREFIX).order_by("id")[:LIMIT]:
            add(customer, None, _("名称"))
        for contact in Contact.objects.filter(name__contains=name).select_related("customer") \
                .order_by("id")[:LIMIT]:
            add(contact.customer, contact, _("联系人姓名"))
    return [Match(c, t, tuple(dict.fromkeys(r))) for c, t, r in found.values()]


def _holds(phones: list[str], emails: list[str], id_number: str, kind: str, value: str) -> bool:
    if kind == "phone":
        return value in phones
    if kind == "email":
        return value in [e.lower() for e in emails if e]
    return bool(id_number) and id_number.upper() == value


def subjects_of(request_subjects: list[dict[str, Any]]) -> list[Match]:
    """The request's confirmed subjects as rows (a deleted contact is left out)."""
    customers = Customer.objects.in_bulk([s["customer"] for s in request_subjects])
    contacts = Contact.objects.in_bulk([s["contact"] for s in request_subjects if s["contact"]])
    matches = []
    for subject in request_subjects:
        customer = customers.get(subject["customer"])
        contact = contacts.get(subject["contact"]) if subject["contact"] else None
        if customer is not None and (contact is not None or not subject["contact"]):
            matches.append(Match(customer, contact, ()))
    return matches
