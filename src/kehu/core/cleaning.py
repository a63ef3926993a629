"""Generic cleaners: turning what people type into clean values, collecting every error.

Each app's `cleaning` module builds its record types' cleaners from these, so a text
limit, a choice, a date or a number is refused the same way (with the same message)
everywhere. Imports no app.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Callable
from decimal import Context, Decimal, InvalidOperation
from functools import lru_cache
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import get_language
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


def text_cleaner(limit: int, *, required: bool = False) -> Callable[[Any], str]:
    def clean(value: Any) -> str:
        text = "" if value is None else str(value).strip()
        if required and not text:
            raise ValidationError(_("必填"))
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
        # The stored values first: get_language() goes through asgiref's Local; asked for
        # every value here and once a row by the region match, it took an import's
        # cleaners from 41 to 69 µs a row (20,000 rows).
        if text in _choice_values(choices):
            return text
        by_label = _choice_labels(choices, get_language())
        if text in by_label:
            return by_label[text]
        raise ValidationError(_("“%(value)s” 不是可选值（%(options)s）") % {
            "value": text, "options": "、".join(by_label)})

    return clean


@lru_cache(maxsize=256)
def _choice_values(choices: Any) -> frozenset[str]:
    return frozenset(choices.values)


@lru_cache(maxsize=256)
def _choice_labels(choices: Any, language: str | None) -> dict[str, str]:
    """A choice class's {label: value} in one language, built once: rebuilding it for each
    value cost 130 µs, a tenth of an import row's time (profiled, 5,000 rows)."""
    return {str(label): value for value, label in choices.choices}


def int_between(low: int, high: int, *, message: str | None = None) -> Callable[[Any], int]:
    """A cleaner for a whole number from `low` to `high` (typed as text or given as a
    number); `message` (formatted already) replaces both errors where the field needs
    its own words (a number of days, what 0 means)."""

    def clean(value: Any) -> int:
        try:
            number = int(str(value).strip())
        except (TypeError, ValueError) as exc:
            raise ValidationError(message or _("“%(value)s” 不是整数") % {"value": value}) from exc
        if not low <= number <= high:
            raise ValidationError(message or _("必须在 %(low)d 到 %(high)d 之间")
                                  % {"low": low, "high": high})
        return number

    return clean


# Excel counts days from 1899-12-30 (its day 60 is the 29 February 1900 that never was,
# so serials from 61 on are right). A serial as a number is taken from 61 (1900-03-01) to
# 2958465 (9999-12-31); as text only with five digits, 10000 (1927) to 99999 (2173), so
# that a year or a short number typed in a date column stays an error.
EXCEL_EPOCH = dt.date(1899, 12, 30)
SERIAL_RANGE = (61, 2958465)
_DATE_TEXT = re.compile(
    r"(?P<y>\d{4})\s*(?:[-/.年]\s*(?P<m>\d{1,2})\s*[-/.月]\s*(?P<d>\d{1,2})\s*日?"
    r"|(?P<m8>\d{2})(?P<d8>\d{2}))"
    r"(?:(?:\s+|T)\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?"
)


def clean_bool(value: Any) -> bool:
    """Yes or no as forms, JSON and sheets write it; anything else is refused, not read as yes."""
    if isinstance(value, bool):
        return value
    text = str(value or "").strip().lower()
    if text in ("1", "true", "yes", "on", "是"):
        return True
    if text in ("", "0", "false", "no", "off", "否"):
        return False
    raise ValidationError(_("“%(value)s” 不是是/否") % {"value": value})


def clean_date(value: Any) -> dt.date | None:
    """A day from what forms, APIs and sheets hold, or a ValidationError naming the value.

    Takes date and datetime objects, 2024-05-01, 2022/7/18, 2023年1月5日, 2020.11.30,
    20201130, any of those with a time after them (2020-11-30 00:00:00, the time is
    dropped), full-width digits, and Excel serial numbers (see SERIAL_RANGE).
    """
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, int | float | Decimal) and not isinstance(value, bool):
        return _serial_day(value, value)
    text = unicodedata.normalize("NFKC", str(value)).strip()
    if re.fullmatch(r"\d{5}", text):
        return _serial_day(int(text), value)
    match = _DATE_TEXT.fullmatch(text)
    if not match:
        raise ValidationError(_("“%(value)s” 不是日期（例如 2024-05-01）") % {"value": value})
    year, month, day = (int(match["y"]), int(match["m"] or match["m8"]),
                        int(match["d"] or match["d8"]))
    try:
        return dt.date(year, month, day)
    except ValueError as exc:
        raise ValidationError(_("“%(value)s” 不是有效的日期（没有这一天）") % {"value": value}) from exc


def _serial_day(number: int | float | Decimal, shown: Any) -> dt.date:
    """An Excel serial number (a fraction is the time of day, dropped)."""
    try:
        whole = int(number)
    except (ValueError, OverflowError) as exc:  # NaN, infinity
        raise ValidationError(_("“%(value)s” 不是日期（例如 2024-05-01）") % {"value": shown}) from exc
    low, high = SERIAL_RANGE
    if not low <= whole <= high:
        raise ValidationError(_("“%(value)s” 不是日期：作为 Excel 日期序号超出范围") % {"value": shown})
    return EXCEL_EPOCH + dt.timedelta(days=whole)


# Units sheets put on amounts; 万 and 亿 scale the number (1.2万 = 12000).
_SCALES = {"万": 4, "亿": 8}
_CURRENCY = re.compile(r"^(?:¥|\$|rmb|cny|人民币)\s*|\s*(?:元|rmb|cny|人民币)$", re.IGNORECASE)
_GROUPED = re.compile(r"[+-]?\d{1,3}(?:,\d{3})+(?:\.\d*)?")
_WIDE = Context(prec=1000)


def clean_decimal(value: Any) -> Decimal:
    """A number from what forms, APIs and sheets hold: ￥12,800.00, 1.2万, 8,650.5 元, 3.5亿.

    Thousands separators must be in threes ("1,2" is refused rather than guessed: in
    some countries it means 1.2). Full-width digits and signs are read as ASCII.
    """
    if isinstance(value, bool):
        raise ValidationError(_("“%(value)s” 不是数字") % {"value": value})
    number = Decimal(value) if isinstance(value, Decimal | int) else _decimal_text(value)
    if not number.is_finite():
        raise ValidationError(_("“%(value)s” 不是数字") % {"value": value})
    return number


def _decimal_text(value: Any) -> Decimal:
    text = unicodedata.normalize("NFKC", str(value)).strip()
    text = _CURRENCY.sub("", text)
    text = _CURRENCY.sub("", text).replace(" ", "")  # "¥ 1,200 元": a sign and a unit
    scale = 0
    if text[-1:] in _SCALES:
        scale = _SCALES[text[-1]]
        text = text[:-1]
    if "," in text:
        if not _GROUPED.fullmatch(text):
            raise ValidationError(
                _("“%(value)s” 不是数字：千分位逗号应每三位一个（例如 12,800.00）") % {"value": value})
        text = text.replace(",", "")
    try:
        number = Decimal(text)
        return number.scaleb(scale, _WIDE) if scale else number
    except (InvalidOperation, ArithmeticError) as exc:
        raise ValidationError(_("“%(value)s” 不是数字") % {"value": value}) from exc
