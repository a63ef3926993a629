"""Which customer data is encrypted, and the blind indexes that keep it findable.

A match-key kind (`CustomerKey.kind`) is *encrypted* when its columns are: `id_number`
always, `phone`, `email` and `wechat` when KEHU_ENCRYPT_FIELDS names phones, emails or
wechat. Its `CustomerKey` rows then hold the blind index of the normalised value
(`core.crypto.blind_index`), and quick search, the import's match and duplicate detection
ask for it instead of the value (`stored_key`). `wechat` keys exist only while WeChat ids
are encrypted: in the clear, search reads the column itself.

The search grams (`searchindex`) of an encrypted value are one token, `k` + the blind index,
instead of its digits or trigrams: an encrypted phone is found by its complete number only.
"""

from __future__ import annotations

from functools import lru_cache

from django.conf import settings
from django.db import connection

from kehu.core import crypto

# kind -> the KEHU_ENCRYPT_FIELDS name that encrypts it (None: always encrypted)
KIND_SETTING: dict[str, str | None] = {"phone": "phones", "email": "emails", "wechat": "wechat",
                                       "id_number": None}


def encrypted_kinds() -> frozenset[str]:
    """The key kinds whose values are encrypted (and so indexed blind) now."""
    return _kinds_for(tuple(settings.KEHU_ENCRYPT_FIELDS))


@lru_cache(maxsize=16)
def _kinds_for(chosen: tuple[str, ...]) -> frozenset[str]:
    # Built once per setting: an import asks for every key it looks up (30,000 times in
    # 20,000 rows, 2.6 µs each built afresh under cProfile).
    return frozenset(kind for kind, name in KIND_SETTING.items() if name is None or name in chosen)


_COLUMN = {"seen": False}


def id_number_column() -> bool:
    """Whether `customers_customer.id_number` exists yet. The backfills of migrations 0005 and
    0006 call the key and gram writers on databases migrated from before 0014, which adds
    it; only a positive answer is cached, so the check runs again until the column is there."""
    if not _COLUMN["seen"]:
        with connection.cursor() as cursor:
            columns = connection.introspection.get_table_description(cursor, "customers_customer")
        _COLUMN["seen"] = any(c.name == "id_number" for c in columns)
    return _COLUMN["seen"]


def normalise(kind: str, value: str) -> str:
    """A key's value as compared: e-mails and WeChat ids without case, codes upper-case."""
    value = value.strip()
    if kind in ("email", "wechat"):
        return value.lower()
    if kind in ("credit_code", "id_number"):
        return value.upper()
    return value


def stored_key(kind: str, value: str) -> str:
    """What `CustomerKey.value` holds for this (normalised) value of `kind`."""
    if kind in encrypted_kinds():
        return crypto.blind_index(kind, normalise(kind, value))
    return normalise(kind, value)


def blind_gram(kind: str, value: str) -> str:
    """The one search gram of an encrypted value (letters and digits only, for FTS5)."""
    return "k" + crypto.blind_index(kind, normalise(kind, value))[len(crypto.BLIND_PREFIX):]
