"""Generic cleaners: turning what people type into clean values, collecting every error.

Each app's `cleaning` module builds its record types' cleaners from these, so a text
limit, a choice, a date or a number is refused the same way (with the same message)
everywhere. Imports no app.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _


class Collector:
    """Runs one cleaner per field and keeps every error instead of stopping at the first.

    A field takes a single value unless it is in `LIST_FIELDS` (or a custom field, whose
    multiple-choice answers are lists); a subclass names its own list fields.
    """

    LIST_FIELDS: frozenset[str] = frozenset()

    def __init__(self) -> None:
        self.cleaned: dict[str, Any] = {}
        self.errors: dict[str, list[str]] = {}

    def run(self, field: str, cleaner: Callable[[Any], Any], value: Any) -> None:
        if isinstance(value, list | dict) and field not in self.LIST_FIELDS \
                and not field.startswith("custom."):
            self.add_error(field, _("应为单个值，不是列表"))
            return
        try:
            self.cleaned[field] = cleaner(value)
        except ValidationError as exc:
            self.errors.setdefault(field, []).extend(exc.messages)

    def add_error(self, field: str, message: str) -> None:
        self.errors.setdefault(field, []).append(message)

    def result(self) -> dict[str, Any]:
        if self.errors:
            raise ValidationError(self.errors)
        return self.cleaned


def text_cleaner(limit: int) -> Callable[[Any], str]:
    def clean(value: Any) -> str:
        text = "" if value is None else str(value).strip()
        if "\x00" in text:  # PostgreSQL cannot store it; Django's form fields refuse it too
            raise ValidationError(_("不能包含空字符（NUL）"))
        if len(text) > limit:
            raise ValidationError(_("最多 %(limit)d 个字符，这里有 %(count)d 个")
                                  % {"limit": limit, "count": len(text)})
        return text

    return clean


def choice_cleaner(choices, *, required: bool = False) -> Callable[[Any], str]:
    def clean(value: Any) -> str:
        text = "" if value is None else str(value).strip()
        if not text and not required:
            return ""
        if text in choices.values:
            return text
        by_label = {str(label): val for val, label in choices.choices}
        if text in by_label:
            return by_label[text]
        raise ValidationError(_("“%(value)s” 不是可选值（%(options)s）") % {
            "value": text, "options": "、".join(choices.values)})

    return clean


def clean_date(value: Any) -> dt.date | None:
    if value in (None, ""):
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    text = str(value).strip().replace("年", "-").replace("月", "-").replace("日", "")
    text = text.replace("/", "-").replace(".", "-")
    try:
        return dt.date.fromisoformat("-".join(part.zfill(2) for part in text.split("-")))
    except ValueError as exc:
        raise ValidationError(_("“%(value)s” 不是日期（例如 2024-05-01）") % {"value": value}) from exc


def clean_decimal(value: Any) -> Decimal:
    try:
        number = Decimal(str(value).replace(",", "").strip())
    except InvalidOperation as exc:
        raise ValidationError(_("“%(value)s” 不是数字") % {"value": value}) from exc
    if not number.is_finite():
        raise ValidationError(_("“%(value)s” 不是数字") % {"value": value})
    return number
