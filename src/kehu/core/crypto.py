"""Field encryption at rest (字段加密): the keys, the cipher and the blind index.

- **Cipher**: AES-256-GCM (`cryptography`), a fresh 96-bit random nonce per value. A stored
  value reads `enc:v1:<key id>:<base64url(nonce + ciphertext + tag)>`. The associated data
  is the value's place (`customers_customer.phones`) and the key id, so a ciphertext pasted
  into another column, or relabelled with another key id, fails to decrypt.
- **Keys** (256 bits each) come from `KEHU_ENCRYPTION_KEYS` (base64, comma-separated) with
  `KEHU_BLIND_INDEX_KEY`, else from the key file `KEHU_KEY_FILE` (default
  `<data dir>/keys`; `index <base64>` and `data <base64>` lines). Never Django's SECRET_KEY,
  never the database. The first data key encrypts; every listed data key decrypts. A key's
  id is a fingerprint of it (8 hex digits), so an id can never name two different keys.
  Without either, a development key file is written once (mode 0600) on first use — `kehu
  setup` does it up front and says where it is.
- **Blind index**: HMAC-SHA256 under the separate index key of `kind NUL normalised value`,
  128 bits in hex behind `h1:`. Equal normalised values give equal indexes, so exact lookup,
  the import's match and duplicate detection work on encrypted fields; nothing else does
  (no part, no range, no order). The index key is not rotated with the data keys: changing
  it means rebuilding every index (`kehu keys rotate` does, as part of its pass).

This module imports no app: the fields (`core/fields.py`) and the apps above call it.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import secrets
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

PREFIX = "enc:v1:"
BLIND_PREFIX = "h1:"
KEY_BYTES = 32
NONCE_BYTES = 12


class DecryptionError(ValueError):
    """A stored ciphertext that does not open: tampered, moved, or under a key not configured.

    Raised loudly (a page fails) rather than showing garbage or an empty value; the message
    names the column and the key id, never the value."""


@dataclass(frozen=True)
class KeyRing:
    """The configured keys: data keys by id (the first encrypts), and the blind-index key."""

    data: tuple[tuple[str, bytes], ...]
    index: bytes
    source: str  # where they came from, for `kehu keys status`

    @property
    def current_id(self) -> str:
        return self.data[0][0]

    def key(self, key_id: str) -> bytes | None:
        return next((key for kid, key in self.data if kid == key_id), None)

    @property
    def ids(self) -> list[str]:
        return [kid for kid, _ in self.data]


def key_id(key: bytes) -> str:
    """A key's public name: 8 hex digits of a hash of it (never the key itself)."""
    return hashlib.sha256(b"kehu-key-id\x00" + key).hexdigest()[:8]


def new_key() -> str:
    """A fresh 256-bit key, base64 (for `kehu keys generate` and the development file)."""
    return base64.b64encode(secrets.token_bytes(KEY_BYTES)).decode("ascii")


def _decode_key(text: str, where: str) -> bytes:
    try:
        key = base64.b64decode(text.strip(), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ImproperlyConfigured(f"{where}: a key is not base64") from exc
    if len(key) != KEY_BYTES:
        raise ImproperlyConfigured(f"{where}: a key must be {KEY_BYTES} bytes (256 bits), "
                                   f"this one is {len(key)}")
    return key


def _ring(data: list[bytes], index: bytes | None, source: str) -> KeyRing:
    if not data:
        raise ImproperlyConfigured(f"{source}: no data key")
    if index is None:
        raise ImproperlyConfigured(f"{source}: no blind-index key")
    if index in data:
        raise ImproperlyConfigured(f"{source}: the blind-index key must differ from the data keys")
    ids = [key_id(k) for k in data]
    if len(set(ids)) != len(ids):
        raise ImproperlyConfigured(f"{source}: a data key is listed twice")
    return KeyRing(tuple(zip(ids, data, strict=True)), index, source)


def parse_key_file(text: str, where: str) -> KeyRing:
    """`index <base64>` once, `data <base64>` one or more (the first encrypts); # comments."""
    data: list[bytes] = []
    index: bytes | None = None
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        kind, _, value = line.partition(" ")
        if kind == "data":
            data.append(_decode_key(value, f"{where}:{number}"))
        elif kind == "index" and index is None:
            index = _decode_key(value, f"{where}:{number}")
        else:
            raise ImproperlyConfigured(f"{where}:{number}: expected 'data <base64>' or one "
                                       "'index <base64>'")
    return _ring(data, index, where)


KEY_FILE_HEADER = """\
# Kehu field-encryption keys (字段加密密钥). Keep a copy somewhere other than the backups:
# a backup holds encrypted values, and restoring it needs these keys.
# The first 'data' key encrypts, every 'data' key decrypts; 'index' keys the blind indexes.
"""


def write_key_file(path: Path) -> bool:
    """Write a new key file (mode 0600) unless one exists; True when it was written."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return False
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(f"{KEY_FILE_HEADER}index {new_key()}\ndata {new_key()}\n")
    return True


def key_file_path() -> Path:
    return Path(settings.KEHU_KEY_FILE)


@lru_cache(maxsize=8)
def _load(keys: str, index_key: str, key_file: str) -> KeyRing:
    if keys:
        data = [_decode_key(k, "KEHU_ENCRYPTION_KEYS") for k in keys.split(",") if k.strip()]
        index = _decode_key(index_key, "KEHU_BLIND_INDEX_KEY") if index_key else None
        return _ring(data, index, "KEHU_ENCRYPTION_KEYS")
    if index_key:
        raise ImproperlyConfigured("KEHU_BLIND_INDEX_KEY is set without KEHU_ENCRYPTION_KEYS")
    path = Path(key_file)
    write_key_file(path)  # development: a fresh machine works without any setting
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ImproperlyConfigured(f"KEHU_KEY_FILE: {exc}") from exc
    return parse_key_file(text, str(path))


def keyring() -> KeyRing:
    """The configured keys (read once per configuration and process)."""
    return _load(settings.KEHU_ENCRYPTION_KEYS, settings.KEHU_BLIND_INDEX_KEY,
                 str(settings.KEHU_KEY_FILE))


def reset() -> None:
    """Forget the loaded keys (tests; a re-read after the key file changed)."""
    _load.cache_clear()
    _aead.cache_clear()


@lru_cache(maxsize=16)
def _aead(key: bytes) -> AESGCM:
    return AESGCM(key)


def _associated(label: str, kid: str) -> bytes:
    return f"kehu:v1:{label}:{kid}".encode()


def is_ciphertext(value: object) -> bool:
    return isinstance(value, str) and value.startswith(PREFIX)


def encrypt(plaintext: str, label: str) -> str:
    """`plaintext` sealed under the current key, bound to `label` (its table.column)."""
    ring = keyring()
    kid = ring.current_id
    nonce = secrets.token_bytes(NONCE_BYTES)
    sealed = _aead(ring.data[0][1]).encrypt(nonce, plaintext.encode("utf-8"),
                                            _associated(label, kid))
    return f"{PREFIX}{kid}:{base64.urlsafe_b64encode(nonce + sealed).decode('ascii').rstrip('=')}"


def decrypt(value: str, label: str) -> str:
    """The plaintext of a stored ciphertext; DecryptionError when it does not open."""
    kid, body = stored_key_id(value), value[len(PREFIX) + 9:]
    key = keyring().key(kid) if kid else None
    if key is None:
        raise DecryptionError(f"{label}: encrypted under key {kid or '?'}, which is not "
                              "configured (KEHU_ENCRYPTION_KEYS / KEHU_KEY_FILE)")
    try:
        raw = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
        if len(raw) < NONCE_BYTES + 16:
            raise ValueError("too short")
        return _aead(key).decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:],
                                  _associated(label, kid)).decode("utf-8")
    except (InvalidTag, ValueError, binascii.Error) as exc:
        raise DecryptionError(f"{label}: a stored value under key {kid} fails its integrity "
                              "check (altered, or copied from another column)") from exc


def stored_key_id(value: str) -> str | None:
    """The key id a stored ciphertext names, or None for anything else."""
    if not is_ciphertext(value) or value[len(PREFIX) + 8:len(PREFIX) + 9] != ":":
        return None
    return value[len(PREFIX):len(PREFIX) + 8]


def blind_index(kind: str, normalised: str) -> str:
    """The keyed hash stored in place of a value that must stay findable by equality."""
    digest = hmac.new(keyring().index, f"{kind}\x00{normalised}".encode(), hashlib.sha256)
    return BLIND_PREFIX + digest.hexdigest()[:32]


def is_blind(value: object) -> bool:
    return isinstance(value, str) and value.startswith(BLIND_PREFIX)
