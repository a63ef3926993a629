"""Normalisers of what people type into customer records: phones to E.164, emails, credit codes.

Used by every write path (web form, API, import, demo) through the services.
"""

from __future__ import annotations

import re
import unicodedata
from functools import cache

import phonenumbers
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils import timezone
from django.utils.translation import gettext as _
from stdnum.cn import ric, uscc
from stdnum.exceptions import ValidationError as StdnumError

_EXTENSION = re.compile(r"\s*(?:转|分机|ext\.?|x)\s*(\d{1,6})\s*$", re.IGNORECASE)
_SEPARATORS = re.compile(r"[/／;；,，、]|\s{2,}")
# Bracketed notes such as (微信同号) or (办公室); an area code like (0755) is kept.
_NOTES = re.compile(r"[（(][^）)]*[^\d\s\-+）)][^）)]*[）)]")


def split_phone_cell(raw: str) -> list[str]:
    """A sheet cell may hold several numbers and notes in brackets; return each number.

    Numbers are apart when separated by / ; , 、 (in either width), two spaces, or one
    space when every piece is a whole number on its own (seven digits or more:
    "13812345678 13987654321"), never inside "+86 138 1234 5678".
    """
    # The stored form of an extension (+862158881234;ext=8001, RFC 3966) reads as typed, so
    # a value read back from Kehu (an export, an API GET sent back) cleans to itself.
    cleaned = _NOTES.sub(" ", unicodedata.normalize("NFKC", raw)).replace(";ext=", " 转 ")
    parts: list[str] = []
    for part in _SEPARATORS.split(cleaned):
        pieces = part.split()
        if len(pieces) > 1 and all(_digits(p) >= 7 for p in pieces):
            parts.extend(pieces)
        elif part.strip():
            parts.append(part.strip())
    return parts


def _digits(text: str) -> int:
    return sum(ch.isdigit() for ch in text)


# A Chinese mobile as sheets write it: 13812345678, 138-1234-5678, +86 138 1234 5678, 86-138…
_CN_MOBILE = re.compile(r"(?:\+?86[-\s]?)?(1[3-9][0-9])[-\s]?([0-9]{4})[-\s]?([0-9]{4})")  # ASCII digits only


def normalize_phone(raw: str, region: str | None = None) -> str:
    """One number to E.164 (with ;ext= for an extension), or a ValidationError saying why."""
    text = raw.strip()
    mobile = _CN_MOBILE.fullmatch(text)
    if mobile and (region or settings.KEHU_PHONE_REGION) == "CN":
        digits = "".join(mobile.groups())
        if _mobile_prefix_valid(digits[:5]):
            return "+86" + digits
    extension = ""
    match = _EXTENSION.search(text)
    if match:
        extension, text = match.group(1), text[: match.start()]
    text = re.sub(r"^00", "+", text.replace("（", "(").replace("）", ")"))
    if re.fullmatch(r"86[-\s]?1\d{2}.*", text):
        text = "+" + text
    try:
        number = phonenumbers.parse(text, region or settings.KEHU_PHONE_REGION)
    except phonenumbers.NumberParseException as exc:
        raise ValidationError(_("“%(value)s” 不是电话号码") % {"value": raw}) from exc
    if not phonenumbers.is_valid_number(number):
        raise ValidationError(_("“%(value)s” 不是有效的电话号码（位数或号段不对）") % {"value": raw})
    e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    return f"{e164};ext={extension}" if extension else e164


@cache  # at most 70,000 prefixes (13000-19999)
def _mobile_prefix_valid(prefix: str) -> bool:
    """Whether every Chinese mobile starting with these five digits is valid.

    Parsing with phonenumbers costs ~130 µs a number, most of an import row's time; its
    Chinese mobile patterns fix at most the first five digits, so a prefix whose lowest
    and highest numbers are both valid is valid throughout, and the number skips parsing.
    Parsed as a national number, as the slow path does (CN strips carrier prefixes such
    as 1799x there, which makes 17993006709 no number at all).
    """
    for tail in ("000000", "999999"):
        try:
            number = phonenumbers.parse(prefix + tail, "CN")
        except phonenumbers.NumberParseException:
            return False
        e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
        if not phonenumbers.is_valid_number(number) or e164 != "+86" + prefix + tail:
            return False
    return True


def normalize_phones(values: list[str] | str | None) -> list[str]:
    """Normalise a list of numbers (or one cell with several), dropping exact repeats."""
    if not values:
        return []
    cells = [values] if isinstance(values, str) else list(values)
    result: list[str] = []
    for cell in cells:
        for part in split_phone_cell(str(cell)):
            number = normalize_phone(part)
            if number not in result:
                result.append(number)
    return result


def normalize_email(raw: str) -> str:
    value = raw.strip()
    local, sep, domain = value.rpartition("@")
    value = f"{local}{sep}{domain.lower()}" if sep else value
    try:
        validate_email(value)
    except ValidationError as exc:
        raise ValidationError(_("“%(value)s” 不是有效的邮箱地址") % {"value": raw}) from exc
    return value


def normalize_emails(values: list[str] | str | None) -> list[str]:
    if not values:
        return []
    cells = [values] if isinstance(values, str) else list(values)
    result: list[str] = []
    for cell in cells:
        for part in re.split(r"[;；,，\s]+", str(cell)):
            if part and (email := normalize_email(part)).lower() not in map(str.lower, result):
                result.append(email)
    return result


def normalize_credit_code(raw: str) -> str:
    """The 18-character unified social credit code, checked including its check digit."""
    value = raw.strip().upper().replace(" ", "")
    if not value:
        return ""
    if len(value) != 18:
        raise ValidationError(
            _("统一社会信用代码应为 18 位，这里是 %(count)d 位") % {"count": len(value)}
        )
    try:
        return uscc.validate(value)
    except StdnumError as exc:
        raise ValidationError(_("统一社会信用代码校验位不正确")) from exc


def normalize_id_number(raw: str) -> str:
    """A resident ID number (身份证号, GB 11643): 18 characters, 17 digits and a check
    character (0-9 or X) that must be right, and a real birth date. The birthplace is not
    checked: python-stdnum's list of counties refuses real numbers of newer counties."""
    value = raw.strip().upper().replace(" ", "")
    if not value:
        return ""
    if len(value) != 18:
        raise ValidationError(_("身份证号应为 18 位，这里是 %(count)d 位") % {"count": len(value)})
    if not value[:17].isascii() or not value[:17].isdigit() or value[17] not in "0123456789X":
        raise ValidationError(_("身份证号应为 17 位数字加一位校验码（数字或 X）"))
    if ric.calc_check_digit(value) != value[17]:
        raise ValidationError(_("身份证号校验码不正确"))
    try:
        born = ric.get_birth_date(value)
    except StdnumError as exc:
        raise ValidationError(_("身份证号中的出生日期不存在")) from exc
    if born.year < 1900 or born > timezone.localdate():
        raise ValidationError(_("身份证号中的出生日期不合理"))
    return value
