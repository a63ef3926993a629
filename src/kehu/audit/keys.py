"""The audit key: from KEHU_AUDIT_KEY, else the file KEHU_AUDIT_KEY_FILE, else (development)
a key generated once into <data dir>/audit_key with mode 0600.

Never Django's SECRET_KEY (whoever can sign a session must not be able to forge the log) and
never the database (whoever edits the table must not find the key beside it). A production
deployment sets one of the two variables; `kehu check --deploy` warns when neither is set.
"""

from __future__ import annotations

import os
import secrets
from functools import lru_cache
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

MIN_LENGTH = 32


def configured() -> bool:
    """Whether the deployment names its own key (rather than the generated development one)."""
    return bool(settings.KEHU_AUDIT_KEY or settings.KEHU_AUDIT_KEY_FILE)


def dev_key_path() -> Path:
    return Path(settings.DATA_DIR) / "audit_key"


@lru_cache(maxsize=4)
def _load(key: str, key_file: str, dev_path: str) -> bytes:
    if key:
        value = key
    elif key_file:
        try:
            value = Path(key_file).read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise ImproperlyConfigured(f"KEHU_AUDIT_KEY_FILE: {exc}") from exc
    else:
        value = _dev_key(Path(dev_path))
    if len(value) < MIN_LENGTH:
        raise ImproperlyConfigured(f"the audit key must be at least {MIN_LENGTH} characters")
    return value.encode("utf-8")


def _dev_key(path: Path) -> str:
    """Read the development key, writing it first (0600, never overwritten) on first use."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text(encoding="utf-8").strip()
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(secrets.token_urlsafe(48))
    return path.read_text(encoding="utf-8").strip()


def audit_key() -> bytes:
    """The key the chain's HMACs use (cached per configuration)."""
    return _load(settings.KEHU_AUDIT_KEY, str(settings.KEHU_AUDIT_KEY_FILE or ""),
                 str(dev_key_path()))
