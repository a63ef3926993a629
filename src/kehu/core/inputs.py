"""What no request may carry, whatever the field, and the one parser of ids people type.

Three things no column can hold and no code path should have to think about:

- a NUL byte (PostgreSQL refuses it in text, search indexes stumble on it);
- a lone surrogate such as "\\ud800" (JSON can spell one, UTF-8 cannot encode it: it
  breaks the database driver, the JSON answer and the HTML page alike);
- an integer wider than 64 bits (every id and number column is at most a bigint).

`malformed` finds all of them in a whole request at once and names each field, so the
caller answers one 422 (API) or one 400 page (web) instead of a 500 somewhere deep
down. The API runs it on every operation (`kehu.api.inputs`), the web on every page
(`kehu.core.views.web_view`). This module imports no app.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

INT64_MIN = -(2**63)
INT64_MAX = 2**63 - 1
ID_DIGITS = re.compile(r"[0-9]{1,19}", re.ASCII)


def string_problem(text: str) -> str | None:
    """Why `text` cannot be stored, or None when it can."""
    if "\x00" in text:
        return _("不能包含空字符（NUL）")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return _("包含无效的 Unicode 字符（单独的代理码位）")
    return None


def integer_problem(number: int) -> str | None:
    if not INT64_MIN <= number <= INT64_MAX:
        return _("数字超出范围（最大 %(max)d）") % {"max": INT64_MAX}
    return None


def malformed(value: Any, field: str = "") -> dict[str, list[str]]:
    """{dotted field: [message]} for every bad string, key or integer inside `value`.

    `value` may be a string, a number, a list, a dict, a Django QueryDict (every value
    of every key) or a pydantic model (its fields, by their public names). Uploaded
    files are the upload checks' business (Django's parser already drops NULs from names).
    """
    found: dict[str, list[str]] = {}
    _walk(value, field, found, depth=0)
    return found


def refuse_malformed(value: Any, field: str = "") -> None:
    """Raise one ValidationError naming every malformed field inside `value`."""
    found = malformed(value, field)
    if found:
        raise ValidationError(found)


def parse_id(value: Any, *, field: str, required: bool = True) -> int | None:
    """A record id as a person or a form sends it ("42"); a ValidationError naming `field`.

    Only ASCII digits count ("²" and "٤" are digits to Python, not ids), and only values
    a bigint column can hold: nothing bigger ever reaches a query.
    """
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise ValidationError({field: [_("请选择或填写编号")]})
        return None
    if isinstance(value, bool):
        number = None
    elif isinstance(value, int):
        number = value
    else:
        text = str(value).strip()
        number = int(text) if ID_DIGITS.fullmatch(text) else None
    if number is None or not 0 < number <= INT64_MAX:
        raise ValidationError({field: [_("“%(value)s” 不是有效的编号") % {"value": _shown(value)}]})
    return number


def parse_ids(values: Iterable[Any], *, field: str) -> list[int]:
    """Several ids (checked boxes): all valid, or one error naming `field`; sorted, unique."""
    ids: set[int] = set()
    bad: list[str] = []
    for value in values:
        try:
            number = parse_id(value, field=field)
        except ValidationError as exc:
            bad.extend(exc.message_dict[field])
        else:
            ids.add(number)
    if bad:
        raise ValidationError({field: bad})
    return sorted(ids)


def _shown(value: Any) -> str:
    """A refused value as it may safely be echoed in a message (short, printable)."""
    text = str(value)[:40]
    return text.encode("utf-8", "replace").decode("utf-8").replace("\x00", "\\0")


def _walk(value: Any, field: str, found: dict[str, list[str]], depth: int) -> None:
    if depth > 64:  # nothing the API accepts nests this deep
        found.setdefault(field or "__all__", []).append(_("嵌套层次过深"))
        return
    problem = None
    if isinstance(value, str):
        problem = string_problem(value)
    elif isinstance(value, int) and not isinstance(value, bool):
        problem = integer_problem(value)
    elif hasattr(value, "lists") and callable(value.lists):  # QueryDict / MultiValueDict
        for key, items in value.lists():
            _key(key, field, found, depth)
            for item in items:
                _walk(item, _join(field, key), found, depth + 1)
    elif isinstance(value, Mapping):
        for key, item in value.items():
            _key(key, field, found, depth)
            _walk(item, _join(field, key), found, depth + 1)
    elif isinstance(value, list | tuple | set | frozenset):
        for index, item in enumerate(value):
            _walk(item, _join(field, index), found, depth + 1)
    elif hasattr(type(value), "model_fields"):  # a pydantic model (ninja Schema)
        for name, info in type(value).model_fields.items():
            _walk(getattr(value, name, None), _join(field, info.alias or name), found, depth + 1)
    if problem:
        found.setdefault(field or "__all__", []).append(problem)


def _key(key: Any, field: str, found: dict[str, list[str]], depth: int) -> None:
    if isinstance(key, str) and string_problem(key):
        # The key itself cannot be echoed: name the place it sits in.
        found.setdefault(field or "__all__", []).append(_("字段名包含无效字符"))


def _join(field: str, part: Any) -> str:
    part = str(part)
    if string_problem(part):
        part = "?"
    return f"{field}.{part}" if field else part
