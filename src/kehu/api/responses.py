"""Lean JSON responses and the version <-> ETag / If-Match helpers."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from typing import Any

from django.http import HttpResponse

from kehu.core.versions import parse_version

CONTENT_TYPE = "application/json; charset=utf-8"
IF_MATCH_HEADER = "If-Match"


def json_response(
    data: Any, *, status: int = 200, version: int | None = None, location: str | None = None
) -> HttpResponse:
    """Serialize plain dicts straight to JSON: list pages skip a pydantic round-trip per row."""
    # Plain trees of dicts and lists: no cycle to look for (-6% of the encoding time).
    body = json.dumps(data, ensure_ascii=False, separators=(",", ":"), default=_default,
                      check_circular=False)
    try:
        content = body.encode()
    except UnicodeEncodeError:
        # A lone surrogate cannot be UTF-8; escaped, it is still valid JSON (and never a 500).
        content = json.dumps(data, separators=(",", ":"), default=_default).encode()
    response = HttpResponse(content, status=status, content_type=CONTENT_TYPE)
    if version is not None:
        response["ETag"] = etag(version)
    if location:
        response["Location"] = location
    return response


def no_content() -> HttpResponse:
    return HttpResponse(status=204)


def etag(version: int) -> str:
    return f'"{version}"'


def parse_if_match(value: str | None) -> int | None:
    """The version an If-Match header names: `3`, `"3"` or `W/"3"`; None for `*` (any version).

    Required: without the header a change could silently overwrite someone else's, so
    it is `VersionMissing` (428 Precondition Required); junk is a 422 on "If-Match".
    """
    return parse_version(value, field=IF_MATCH_HEADER, allow_any=True)


def _default(value: Any) -> Any:
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    raise TypeError(f"{type(value).__name__} is not JSON serializable")
