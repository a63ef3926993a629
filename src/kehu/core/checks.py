"""Start-up checks of the field-encryption keys (core/crypto.py): configured keys must load,
and a production deployment should keep them outside the data directory."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.checks import Error, Tags, Warning, register
from django.core.exceptions import ImproperlyConfigured

from kehu.core import crypto


@register(Tags.security)
def check_encryption_keys(app_configs: Any = None, **kwargs: Any) -> list:
    """Malformed keys stop `kehu check` (and the server's start-up checks) rather than the
    first page that opens an ID number. A missing key file is not an error: it is written
    on first use (development)."""
    if not settings.KEHU_ENCRYPTION_KEYS and not Path(settings.KEHU_KEY_FILE).exists():
        return []
    try:
        crypto.keyring()
    except ImproperlyConfigured as exc:
        return [Error(f"field-encryption keys: {exc}", id="core.E001")]
    return []


@register(Tags.security, deploy=True)
def check_keys_apart_from_data(app_configs: Any = None, **kwargs: Any) -> list:
    if settings.KEHU_ENCRYPTION_KEYS:
        return []
    key_file = Path(settings.KEHU_KEY_FILE).resolve()
    if key_file.parent != Path(settings.DATA_DIR).resolve():
        return []
    return [Warning("The field-encryption keys are in the data directory, beside the database: "
                    "set KEHU_KEY_FILE to a file elsewhere (or KEHU_ENCRYPTION_KEYS and "
                    "KEHU_BLIND_INDEX_KEY) and keep a copy apart from the backups",
                    id="core.W001")]
