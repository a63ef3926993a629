"""Model fields encrypted at rest: transparent to everything that reads the model.

`from_db_value` opens the stored ciphertext and `get_db_prep_value` seals the value (see
`core/crypto.py`), so templates, forms, exports, masking and the services keep reading and
writing plain values. A field is encrypted always (`encrypt_when=None`: ID numbers) or when
its name is in `KEHU_ENCRYPT_FIELDS` (phones, emails, wechat: the admin's choice). Empty
values stay empty (so `exclude(phones=[])` and `wechat=""` still filter), and a stored
value that is not a ciphertext is read as it is: a column turns encrypted value by value,
as `kehu keys rotate` rewrites it, and a page never stops in between.

What no longer works on an encrypted column is SQL on its content (`icontains`, equality,
JSON element tests): those go through the blind indexes (`customers.encryption`). The short
columns are `text` in the database, since a ciphertext is longer than the value's
`max_length`, which still bounds what the forms accept; the lists stay JSON.
"""

from __future__ import annotations

import json
from typing import Any

from django.conf import settings
from django.db import models

from kehu.core import crypto


class EncryptedMixin:
    """What both encrypted field types share: when to encrypt, and the associated data."""

    encrypted_field = True

    def __init__(self, *args: Any, encrypt_when: str | None = None, mask: str = "id",
                 **kwargs: Any) -> None:
        self.encrypt_when = encrypt_when
        self.mask = mask  # how the change log shows it (core.masking): phone, email or id
        super().__init__(*args, **kwargs)

    def deconstruct(self):
        name, path, args, kwargs = super().deconstruct()
        if self.encrypt_when is not None:
            kwargs["encrypt_when"] = self.encrypt_when
        return name, path, args, kwargs

    @property
    def encrypted(self) -> bool:
        """Whether values written now are sealed (reads open either kind)."""
        return self.encrypt_when is None or self.encrypt_when in settings.KEHU_ENCRYPT_FIELDS

    @property
    def label(self) -> str:
        """The associated data: a ciphertext opens only in the column it was written for."""
        return f"{self.model._meta.db_table}.{self.column}"

    def open(self, stored: Any) -> Any:
        """A value as a raw cursor reads it, opened (raw readers: search grams, keys)."""
        raise NotImplementedError


class EncryptedCharField(EncryptedMixin, models.CharField):
    """A short text (a WeChat id, an ID number) sealed when encrypted; a `text` column."""

    def db_type(self, connection) -> str:
        return connection.data_types["TextField"]

    def from_db_value(self, value, expression, connection):
        return self.open(value)

    def open(self, stored: Any) -> Any:
        return crypto.decrypt(stored, self.label) if crypto.is_ciphertext(stored) else stored

    def get_db_prep_value(self, value, connection, prepared=False):
        value = super().get_db_prep_value(value, connection, prepared)
        if value and self.encrypted and not crypto.is_ciphertext(value):
            return crypto.encrypt(value, self.label)
        return value


class EncryptedJSONField(EncryptedMixin, models.JSONField):
    """A JSON list (phones, e-mails) sealed whole when encrypted: the column then holds one
    JSON string, so neither the values nor how many there are can be read from it."""

    def from_db_value(self, value, expression, connection):
        return self.open(super().from_db_value(value, expression, connection))

    def open(self, stored: Any) -> Any:
        if isinstance(stored, str) and stored[:1] in ('"', "[", "{"):
            stored = json.loads(stored)  # a raw cursor reads the JSON text
        if crypto.is_ciphertext(stored):
            return json.loads(crypto.decrypt(stored, self.label))
        return stored

    def get_db_prep_value(self, value, connection, prepared=False):
        if value and self.encrypted and not isinstance(value, models.expressions.Expression):
            value = crypto.encrypt(json.dumps(value, ensure_ascii=False, cls=self.encoder),
                                   self.label)
        return super().get_db_prep_value(value, connection, prepared)


def encrypted_fields(model: type[models.Model]) -> list[EncryptedMixin]:
    return [f for f in model._meta.concrete_fields if getattr(f, "encrypted_field", False)]
