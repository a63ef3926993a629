"""Cursor pages in the API: the selectors do keyset pagination, this only shapes the body."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from kehu.core.pagination import Page


def page_body(page: Page, serialize: Callable[[Any], dict[str, Any]]) -> dict[str, Any]:
    return {
        "items": [serialize(row) for row in page.items],
        "next_cursor": page.next_cursor,
        "prev_cursor": page.prev_cursor,
    }
