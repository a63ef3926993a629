"""Sensitive values never enter the audit trail in clear.

The tables of what is sensitive belong to customers (`customers/sensitive.py`), which sits
above this app: it registers them here from its AppConfig.ready, and `mask_details` masks
those keys anywhere in an entry's details with the same rule the screens use
(`core/masking.mask_value`). A search term or filter that is a whole phone number or e-mail
address is masked too, so the log does not keep the number a rep looked up.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from kehu.core.masking import mask_value

_SENSITIVE: dict[str, str] = {}
QUERY_KEYS = frozenset({"q", "query", "search"})
_PHONE_LIKE = re.compile(r"^[+\d][\d\s\-()]{5,}$")


def register_sensitive(table: Mapping[str, str]) -> None:
    """attribute -> mask kind ("phone", "email", "id"), as in customers/sensitive.py."""
    _SENSITIVE.update(table)


def mask_details(value: Any, key: str | None = None) -> Any:
    """`value` with every registered sensitive key's value and every phone- or e-mail-like
    search term masked, recursively."""
    if isinstance(value, dict):
        return {k: mask_details(v, str(k)) for k, v in value.items()}
    if key in _SENSITIVE:
        return mask_value(_SENSITIVE[key], value)
    if isinstance(value, list | tuple):
        return [mask_details(v, key) for v in value]
    if isinstance(value, str) and key in QUERY_KEYS:
        return mask_term(value)
    return value


def mask_term(term: str) -> str:
    """A search term as the log keeps it: a phone-like or e-mail-like term masked."""
    text = term.strip()
    if "@" in text:
        return mask_value("email", text)
    if _PHONE_LIKE.match(text) and sum(c.isdigit() for c in text) >= 7:
        return mask_value("phone", re.sub(r"[\s\-()]", "", text))
    return term
