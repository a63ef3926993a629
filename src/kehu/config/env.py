"""Strict parsers for settings read from the environment.

A malformed value fails loudly at start-up instead of silently falling back.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from django.core.exceptions import ImproperlyConfigured

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def env_str(name: str, default: str = "") -> str:
    """Read NAME, or the contents of the file named by NAME_FILE (for secrets)."""
    file_path = os.environ.get(f"{name}_FILE")
    if file_path:
        return Path(file_path).read_text(encoding="utf-8").strip()
    return os.environ.get(name, default)


def env_bool(name: str, default: bool = False) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name}={raw!r} is not a boolean (use 1/0, true/false, yes/no)")


def env_choice(name: str, default: str, choices: tuple[str, ...]) -> str:
    value = env_str(name, default).strip().lower()
    if value not in choices:
        raise ImproperlyConfigured(f"{name}={value!r}: use one of {', '.join(choices)}")
    return value


def env_int(name: str, default: int, *, minimum: int | None = None) -> int:
    """An integer; with `minimum`, a smaller value stops the start-up instead of being used."""
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = int(raw)
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name}={raw!r} is not an integer") from exc
    if minimum is not None and value < minimum:
        raise ImproperlyConfigured(f"{name}={raw!r} is below the minimum of {minimum}")
    return value


def env_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if raw is None:
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]


def env_choices(name: str, allowed: list[str], default: list[str] | None = None) -> list[str]:
    """A comma-separated list of names from `allowed`; an unknown name stops the start-up."""
    chosen = env_list(name, default or [])
    if unknown := sorted(set(chosen) - set(allowed)):
        raise ImproperlyConfigured(f"{name}: unknown {', '.join(unknown)} "
                                   f"(known: {', '.join(allowed)})")
    return chosen


# --- e-mail (SMTP) -------------------------------------------------------------------------

_EMAIL_SCHEMES = {"smtp": False, "smtps": True}  # scheme -> implicit TLS (SSL) from the start
_EMAIL_QUERY = {"tls", "ssl", "timeout"}


def env_email(prefix: str = "KEHU_EMAIL") -> dict[str, Any] | None:
    """Django's EMAIL_* settings from `<prefix>_URL` or `<prefix>_HOST` and friends, or None.

    None means no SMTP server is configured, so nothing is ever sent. A URL is read strictly
    (`smtp://user:pass@host:587?tls=1`, `smtps://user:pass@host` for SSL, `smtp://host:1025`):
    an unknown scheme, option or a bad port stops the start-up with a message that names the
    variable but never echoes the password.
    """
    url = env_str(f"{prefix}_URL").strip()
    host = env_str(f"{prefix}_HOST").strip()
    if url and host:
        raise ImproperlyConfigured(f"set {prefix}_URL or {prefix}_HOST, not both")
    if url:
        return parse_email_url(url, name=f"{prefix}_URL")
    if not host:
        return None
    tls, ssl = env_bool(f"{prefix}_USE_TLS", False), env_bool(f"{prefix}_USE_SSL", False)
    if tls and ssl:
        raise ImproperlyConfigured(f"{prefix}_USE_TLS and {prefix}_USE_SSL exclude each other")
    port = env_int(f"{prefix}_PORT", _default_port(tls=tls, ssl=ssl), minimum=1)
    if port > 65535:
        raise ImproperlyConfigured(f"{prefix}_PORT={port} is not a port (1-65535)")
    return {"EMAIL_HOST": host, "EMAIL_PORT": port, "EMAIL_HOST_USER": env_str(f"{prefix}_USER"),
            "EMAIL_HOST_PASSWORD": env_str(f"{prefix}_PASSWORD"), "EMAIL_USE_TLS": tls,
            "EMAIL_USE_SSL": ssl, "EMAIL_TIMEOUT": env_int(f"{prefix}_TIMEOUT", 30, minimum=1)}


def parse_email_url(url: str, *, name: str = "KEHU_EMAIL_URL") -> dict[str, Any]:
    """`smtp[s]://[user[:password]@]host[:port][?tls=1|ssl=1&timeout=N]` as EMAIL_* settings.

    User and password are percent-decoded, so a password may hold `@` or `:` as %40 / %3A.
    """

    def bad(why: str) -> ImproperlyConfigured:
        return ImproperlyConfigured(f"{name}: {why} (expected smtp://user:password@host:587?tls=1, "
                                    "smtps://user:password@host or smtp://host:1025)")

    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise bad("the port is not a number from 1 to 65535") from exc
    if parts.scheme not in _EMAIL_SCHEMES:
        raise bad(f"unknown scheme {parts.scheme!r}")
    if port == 0:
        raise bad("the port is not a number from 1 to 65535")
    if not parts.hostname:
        raise bad("no host")
    if parts.path not in ("", "/") or parts.fragment:
        raise bad("a path or #fragment has no meaning here")
    try:
        query = parse_qsl(parts.query, keep_blank_values=True, strict_parsing=bool(parts.query))
    except ValueError as exc:
        raise bad("the options after ? are not key=value pairs") from exc
    options = dict(query)
    if unknown := sorted(set(options) - _EMAIL_QUERY):
        raise bad(f"unknown option {', '.join(unknown)} (known: ssl, timeout, tls)")
    if len(options) != len(query):
        raise bad("an option is given twice")
    ssl_option, tls = _url_flag(options, "ssl", bad), _url_flag(options, "tls", bad)
    ssl = _EMAIL_SCHEMES[parts.scheme] or ssl_option
    if tls and ssl:
        raise bad("STARTTLS (tls=1) and SSL (smtps:// or ssl=1) exclude each other")
    config: dict[str, Any] = {
        "EMAIL_HOST": parts.hostname, "EMAIL_PORT": port or _default_port(tls=tls, ssl=ssl),
        "EMAIL_HOST_USER": unquote(parts.username or ""),
        "EMAIL_HOST_PASSWORD": unquote(parts.password or ""),
        "EMAIL_USE_TLS": tls, "EMAIL_USE_SSL": ssl, "EMAIL_TIMEOUT": 30}
    if "timeout" in options:
        timeout = options["timeout"]
        if not (timeout.isascii() and timeout.isdigit()) or int(timeout) < 1:
            raise bad("timeout must be a whole number of seconds")
        config["EMAIL_TIMEOUT"] = int(timeout)
    return config


def _url_flag(options: dict[str, str], key: str, bad: Callable[[str], Exception]) -> bool:
    value = options.get(key, "0").strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise bad(f"{key}={value!r} is not a boolean (use 1/0)")


def _default_port(*, tls: bool, ssl: bool) -> int:
    return 465 if ssl else 587 if tls else 25


def env_base_url(name: str) -> str:
    """An absolute http(s) address without a trailing slash (links in e-mails), or ""."""
    raw = env_str(name).strip()
    if not raw:
        return ""
    parts = urlsplit(raw)
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.query or parts.fragment:
        raise ImproperlyConfigured(f"{name}={raw!r} is not an address like https://crm.example.com")
    return raw.rstrip("/")


PERIODS = {"s": 1, "sec": 1, "second": 1, "m": 60, "min": 60, "minute": 60,
           "h": 3600, "hour": 3600, "d": 86400, "day": 86400}


@dataclass(frozen=True)
class Rate:
    calls: int
    seconds: int


def env_rate(name: str, default: str) -> Rate | None:
    """A rate limit: "600/min" → Rate(600, 60); "off" → None; anything else stops the start-up."""
    text = env_str(name, default)
    value = text.strip().lower()
    if value in ("off", "0", "none", ""):
        return None
    calls, _slash, period = value.partition("/")
    number, unit = _split_period(period)
    if not calls.isdigit() or int(calls) < 1 or unit not in PERIODS or number < 1:
        raise ImproperlyConfigured(
            f"{name}={text!r}: write calls/period, e.g. 600/min, 20/s, 10000/day, or off")
    return Rate(int(calls), number * PERIODS[unit])


def _split_period(period: str) -> tuple[int, str]:
    digits = ""
    while period[:1].isdigit():
        digits, period = digits + period[0], period[1:]
    return (int(digits) if digits else 1), period


def env_pool(name: str) -> dict[str, int] | None:
    """A database connection pool per process: "off" (default) → None; "on" → 1 to 4
    connections; "N" → 1 to N; "MIN-MAX" → MIN to MAX. Anything else stops the start-up."""
    raw = env_str(name, "off").strip().lower()
    if raw in _FALSE:
        return None
    if raw in _TRUE - {"1"}:  # "1" is a size of one
        return {"min_size": 1, "max_size": 4, "timeout": 10}
    low, dash, high = raw.partition("-")
    if not dash:
        low, high = "1", low
    if not (low.isdigit() and high.isdigit()) or int(high) < 1 or int(low) > int(high):
        raise ImproperlyConfigured(f"{name}={raw!r}: use off, on, a size (8) or MIN-MAX (2-8)")
    return {"min_size": int(low), "max_size": int(high), "timeout": 10}
