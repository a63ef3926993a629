"""A copy of everything held on the person (查阅、复制 / 可携带: PIPL arts. 45, GDPR arts. 15,
20): for each confirmed subject of a request, the customer or contact row, custom values,
every holding's rows (holdings.py — the same list an erasure works through), attachment
names and the audit entries about them. The sections are plain rows; the files (JSON and
xlsx) are written by transfer/export/subject_report.py, where the sheet writers live.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext as _

from kehu.accounts.models import User
from kehu.audit.models import AuditEntry
from kehu.customers.models import Contact, CustomValue
from kehu.history.models import Attachment
from kehu.privacy.finding import Match, subjects_of
from kehu.privacy.holdings import holdings
from kehu.privacy.models import SubjectRequest
from kehu.privacy.requests import request_get

SKIPPED = frozenset({"name_pinyin", "name_initials", "name_key", "region_code"})


@dataclass
class Section:
    title: str
    headers: list[str]
    rows: list[list[Any]] = field(default_factory=list)


def subject_report(*, viewer: User, request: SubjectRequest | int) -> list[Section]:
    """Every section of every confirmed subject of the request (admins only)."""
    request = request_get(viewer, getattr(request, "pk", request))
    sections: list[Section] = []
    for match in subjects_of(request.subjects):
        sections.extend(_sections(match))
    return [s for s in sections if s.rows]


def _sections(match: Match) -> list[Section]:
    customer, contact = match.customer, match.contact
    prefix = f"{customer.pk}" if contact is None else f"{customer.pk}-{contact.pk}"
    sections = []
    if contact is None:
        sections.append(_rows_section(f"{prefix} {_('客户')}", [customer]))
        sections.append(_rows_section(f"{prefix} {_('联系人')}",
                                      list(Contact.objects.filter(customer=customer))))
        values = CustomValue.objects.filter(customer=customer).select_related("field")
        sections.append(Section(f"{prefix} {_('自定义字段')}", [_("字段"), _("值")],
                                [[v.field.label, v.text or v.number or v.date] for v in values]))
    else:
        sections.append(_rows_section(f"{prefix} {_('联系人')}", [contact]))
    for holding in holdings():
        rows = holding.model_class.objects.filter(**{holding.customer_field: customer.pk})
        if contact is not None:
            if not holding.contact_field:
                continue
            rows = rows.filter(**{holding.contact_field: contact.pk})
        sections.append(_rows_section(f"{prefix} {holding.title}", list(rows.order_by("pk"))))
    attachments = Attachment.objects.filter(communication__customer=customer)
    if contact is not None:
        attachments = attachments.filter(communication__contact=contact)
    sections.append(Section(f"{prefix} {_('附件')}", [_("文件名"), _("大小"), _("上传时间")], [
        [a.original_name, a.size, _local(a.uploaded_at)] for a in attachments.order_by("pk")]))
    if contact is None:
        entries = AuditEntry.objects.filter(customer_id=customer.pk).order_by("pk")
        sections.append(Section(f"{prefix} {_('审计记录')}",
                                [_("时间"), _("用户"), _("操作"), _("对象")],
                                [[_local(e.at), e.actor_name, e.get_action_display(), e.label]
                                 for e in entries]))
    return sections


def _rows_section(title: str, rows: list[models.Model]) -> Section:
    if not rows:
        return Section(title, [])
    fields = [f for f in rows[0]._meta.concrete_fields if f.name not in SKIPPED]
    return Section(title, [str(f.verbose_name) for f in fields],
                   [[_value(row, f) for f in fields] for row in rows])


def _value(row: models.Model, field: models.Field) -> Any:
    value = getattr(row, field.attname)
    if isinstance(value, list | dict):
        return json.dumps(value, ensure_ascii=False, cls=DjangoJSONEncoder)
    if hasattr(value, "tzinfo") and getattr(value, "tzinfo", None) is not None:
        return _local(value)
    if field.choices and value not in (None, ""):
        return getattr(row, f"get_{field.name}_display")()
    return value


def _local(moment: Any) -> Any:
    return timezone.localtime(moment).replace(tzinfo=None) if moment else moment


def report_json(sections: list[Section], request: SubjectRequest) -> bytes:
    """The sections as one JSON document: each row a {header: value} object."""
    document = {"request": request.pk, "kind": request.kind,
                "generated_at": timezone.now().isoformat(),
                "sections": [{"title": s.title,
                              "rows": [dict(zip(s.headers, r, strict=True)) for r in s.rows]}
                             for s in sections]}
    return json.dumps(document, ensure_ascii=False, indent=2, cls=DjangoJSONEncoder).encode()
