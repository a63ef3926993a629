"""Turn raw input (form, API body, import row) into clean field values, collecting every error.

One function per record type; it returns the cleaned values or raises one
ValidationError that names each bad field, so callers can show them all at once.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _

from kehu.core.cleaning import Collector as BaseCollector
from kehu.core.cleaning import choice_cleaner, clean_date, clean_decimal, text_cleaner
from kehu.customers import normalizers
from kehu.customers.choices import (
    CompanySize,
    CustomerKind,
    CustomFieldType,
    DecisionRole,
    Gender,
    Industry,
    ShareLevel,
    Source,
)
from kehu.customers.models import CustomField
from kehu.customers.regions.matching import match_region

CUSTOMER_TEXT_LIMITS = {
    "name": 200, "short_name": 100, "province": 32, "city": 32, "district": 32,
    "address": 255, "wechat": 64, "notes": 20000,
}
CUSTOMER_CHOICES = {
    "kind": CustomerKind, "industry": Industry, "company_size": CompanySize,
    "source": Source, "gender": Gender,
}
CUSTOMER_FIELDS = (
    *CUSTOMER_TEXT_LIMITS, *CUSTOMER_CHOICES, "phones", "emails", "birthday", "credit_code",
    "id_number",
)
REGION_FIELDS = ("province", "city", "district")
CONTACT_TEXT_LIMITS = {"name": 100, "title": 100, "wechat": 64, "notes": 20000}
CONTACT_FIELDS = (*CONTACT_TEXT_LIMITS, "decision_role", "phones", "email", "is_primary")


class Collector(BaseCollector):
    """The fields of a customer or a contact that take a list of values."""

    LIST_FIELDS = frozenset({"phones", "emails", "tags"})


__all__ = ["Collector", "clean_date", "clean_decimal"]  # shared with the import and history


def clean_customer(data: dict[str, Any], *, partial: bool = False,
                   region_problems: list[dict[str, str]] | None = None) -> dict[str, Any]:
    """Clean the customer fields present in `data`; with partial=False name and kind are required.
    `region_problems`: a list that gets the region text not in the official list, as
    data-quality problems (kept as typed, never refused: re-validation flags it)."""
    out = Collector()
    for field, limit in CUSTOMER_TEXT_LIMITS.items():
        if field in data:
            out.run(field, text_cleaner(limit), data[field])
    for field, choices in CUSTOMER_CHOICES.items():
        if field in data:
            out.run(field, choice_cleaner(choices, required=field == "kind"), data[field])
    cleaners = {
        "phones": normalizers.normalize_phones,
        "emails": normalizers.normalize_emails,
        "birthday": clean_date,
        "credit_code": lambda v: normalizers.normalize_credit_code(v or ""),
        "id_number": lambda v: normalizers.normalize_id_number(v or ""),
    }
    for field, cleaner in cleaners.items():
        if field in data:
            out.run(field, cleaner, data[field])
    _clean_region(data, out, region_problems)
    for field in ("name", "kind"):
        # A partial update may leave them out, but may not blank them.
        if (not partial or field in data) and not out.cleaned.get(field) \
                and field not in out.errors:
            out.add_error(field, _("必填"))
    return out.result()


def _clean_region(data: dict[str, Any], out: Collector,
                  problems: list[dict[str, str]] | None) -> None:
    """省/市/区 through the official list: canonical names (广东 → 广东省, 深圳 → 深圳市, a
    missing parent filled in) and `region_code`. Text that matches nothing is not refused —
    old sheets are messy — but kept as typed with no code, its reasons put on `problems`
    for data quality. A partial update passes all three (services merge the stored ones)."""
    if not any(field in data for field in REGION_FIELDS) \
            or any(field in out.errors for field in REGION_FIELDS):
        return
    found = match_region(*(out.cleaned.get(field) or "" for field in REGION_FIELDS))
    for field in REGION_FIELDS:
        if field in data or getattr(found, field):
            out.cleaned[field] = getattr(found, field)
    out.cleaned["region_code"] = found.code
    if problems is not None:
        problems += [{"field": field, "reason": _("地区不在官方行政区划中：%(why)s") % {"why": why}}
                     for field, why in found.problems.items()]


def check_kind_fields(values: dict[str, Any]) -> None:
    """Person-only and company-only fields must match the customer's kind."""
    errors = {}
    if values.get("kind") == CustomerKind.PERSON and values.get("credit_code"):
        errors["credit_code"] = _("个人客户没有统一社会信用代码")
    if values.get("kind") == CustomerKind.COMPANY and values.get("id_number"):
        errors["id_number"] = _("企业客户没有身份证号")
    if values.get("kind") == CustomerKind.COMPANY and values.get("gender"):
        errors["gender"] = _("企业客户没有性别")
    if errors:
        raise ValidationError(errors)


def clean_contact(data: dict[str, Any], *, partial: bool = False) -> dict[str, Any]:
    out = Collector()
    for field, limit in CONTACT_TEXT_LIMITS.items():
        if field in data:
            out.run(field, text_cleaner(limit), data[field])
    if "decision_role" in data:
        out.run("decision_role", choice_cleaner(DecisionRole), data["decision_role"])
    if "phones" in data:
        out.run("phones", normalizers.normalize_phones, data["phones"])
    if "email" in data:
        out.run("email", lambda v: normalizers.normalize_email(v) if v else "", data["email"])
    if "is_primary" in data:
        out.cleaned["is_primary"] = bool(data["is_primary"])
    if (not partial or "name" in data) and not out.cleaned.get("name") and "name" not in out.errors:
        out.add_error("name", _("必填"))
    return out.result()


def clean_share(data: dict[str, Any]) -> dict[str, Any]:
    """A share's level (view / edit) and optional end date, which may not lie in the past."""
    collector = Collector()
    collector.run("level", choice_cleaner(ShareLevel, required=True), data.get("level") or ShareLevel.VIEW)
    collector.run("ends_on", _future_date, data.get("ends_on"))
    return collector.result()


def _future_date(value: Any) -> dt.date | None:
    day = clean_date(value)
    if day is not None and day < timezone.localdate():
        raise ValidationError(_("截止日期不能早于今天"))
    return day


def clean_custom_values(
    fields: list[CustomField], data: dict[str, Any], *, partial: bool
) -> dict[str, Any]:
    """Clean {key: raw} for the active custom fields; unknown keys are an error."""
    out = Collector()
    by_key = {f.key: f for f in fields}
    for key in data:
        if key not in by_key:
            out.add_error(f"custom.{key}", _("没有这个自定义字段"))
    for field in fields:
        if field.key not in data and partial:
            continue
        raw = data.get(field.key)
        out.run(f"custom.{field.key}", lambda v, f=field: clean_custom_value(f, v), raw)
    return {k.removeprefix("custom."): v for k, v in out.result().items()}


def clean_custom_value(field: CustomField, raw: Any) -> Any:
    empty = raw is None or raw == "" or raw == []
    if empty:
        if field.required:
            raise ValidationError(_("必填"))
        return [] if field.field_type == CustomFieldType.MULTI_CHOICE else None
    kind = field.field_type
    if isinstance(raw, list | dict) and kind != CustomFieldType.MULTI_CHOICE:
        raise ValidationError(_("应为单个值，不是列表"))
    if kind == CustomFieldType.NUMBER:
        return clean_decimal(raw)
    if kind == CustomFieldType.DATE:
        return clean_date(raw)
    if kind == CustomFieldType.CHOICE:
        return _one_of(field.choices, str(raw))
    if kind == CustomFieldType.MULTI_CHOICE:
        items = raw if isinstance(raw, list) else str(raw).split(",")
        return [_one_of(field.choices, str(item).strip()) for item in items if str(item).strip()]
    return text_cleaner(500)(raw)


def _one_of(options: list[str], value: str) -> str:
    if value not in options:
        raise ValidationError(
            _("“%(value)s” 不在可选项中（%(options)s）")
            % {"value": value, "options": "、".join(options)}
        )
    return value
