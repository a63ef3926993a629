"""What one value of a column is, on SQLite and on PostgreSQL — for `kehu migrate-db`.

SQLite keeps what Django wrote with little typing: booleans as 0/1, datetimes as UTC text
("2026-12-06 16:45:05.123456"), JSON as text, decimals in a NUMERIC-affinity column (so as
an integer or a float), durations as microseconds, UUIDs as 32 hex digits. PostgreSQL has a
type per column. The target's column types (after `migrate`) say what each value is:

- `to_target` turns a SQLite value into one PostgreSQL's COPY reads as the same value. Most
  go as they are (COPY's text input parses "1" as true, JSON text as jsonb, the UTC text as a
  timestamptz when the session's time zone is UTC); decimals go through Django's own SQLite
  converter (a float read with 15 digits, quantized to the field's places), durations become
  intervals.
- `canonical` turns a value read from either database into one vendor-neutral form, so the
  backups' table checksum (`databases.table_checksum`) compares the two row for row.
"""

from __future__ import annotations

import datetime as dt
import decimal
import ipaddress
import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

# Django's SQLite backend reads a decimal column's float with this context (operations.py).
_FLOAT_CONTEXT = decimal.Context(prec=15)


@dataclass(frozen=True)
class Column:
    """One column of a target table: its name, PostgreSQL type and (numeric) scale."""

    name: str
    type: str
    scale: int | None = None


def decimals(scale: int | None) -> Callable[[Any], decimal.Decimal]:
    """A number as Django reads it from a decimal column of this scale (places)."""
    quantum = decimal.Decimal(1).scaleb(-scale) if scale is not None else None

    def to_decimal(value: Any) -> decimal.Decimal:
        if isinstance(value, float):
            number = _FLOAT_CONTEXT.create_decimal_from_float(value)
        else:
            number = value if isinstance(value, decimal.Decimal) else decimal.Decimal(str(value))
        return number.quantize(quantum) if quantum is not None else number

    return to_decimal


def to_target(column: Column) -> Callable[[Any], Any] | None:
    """How a SQLite value of `column` goes into COPY; None when it goes as it is."""
    if column.type == "numeric":
        to_decimal = decimals(column.scale)
        return lambda v: v if v is None else to_decimal(v)
    if column.type == "interval":
        return lambda v: dt.timedelta(microseconds=v) if isinstance(v, int) else v
    return None


def _utc(value: Any) -> str:
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)  # Django keeps UTC in SQLite, without an offset
    return value.astimezone(dt.UTC).isoformat()


def _json(value: Any) -> str:
    if isinstance(value, str | bytes):
        value = json.loads(value)
    return json.dumps(value, sort_keys=True, ensure_ascii=False)


def _microseconds(value: Any) -> int:
    return value if isinstance(value, int) else value // dt.timedelta(microseconds=1)


def _address(value: Any) -> str:
    return str(ipaddress.ip_address(str(value).split("/")[0]))


CANONICAL: dict[str, Callable[[Any], Any]] = {
    "boolean": lambda v: int(bool(v)),
    "timestamp with time zone": _utc,
    "timestamp without time zone": lambda v: v if isinstance(v, str) else v.isoformat(" "),
    "date": lambda v: v if isinstance(v, str) else v.isoformat(),
    "time without time zone": lambda v: v if isinstance(v, str) else v.isoformat(),
    "jsonb": _json,
    "json": _json,
    "uuid": lambda v: uuid.UUID(str(v)).hex,
    "inet": _address,
    "bytea": bytes,
    "double precision": float,
    "real": float,
    "interval": _microseconds,
}


def _decimal_text(scale: int | None) -> Callable[[Any], str]:
    to_decimal = decimals(scale)
    return lambda v: str(to_decimal(v))


def canonical(columns: list[Column]) -> Callable[[tuple], tuple]:
    """A row of these columns (from either database) in one form for the checksum."""
    makers = []
    for column in columns:
        if column.type == "numeric":
            makers.append(_decimal_text(column.scale))
        else:
            makers.append(CANONICAL.get(column.type))

    def row_of(row: tuple) -> tuple:
        return tuple(v if v is None or make is None else make(v)
                     for v, make in zip(row, makers, strict=True))

    return row_of
