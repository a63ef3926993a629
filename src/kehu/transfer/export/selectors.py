"""The rows of an export: the viewer's list itself, page after page.

`customer_rows` calls the list's own selector (`customers.selectors.customer_list`)
with the list's filters and sort and follows its keyset cursor, so an export holds
exactly the rows, the masking, the tags and custom values the list shows, and only
one batch at a time in memory.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from kehu.accounts.models import User
from kehu.customers.filters import CustomerFilters
from kehu.customers.selectors import customer_list, customers_visible

BATCH = 2000


def customer_rows(*, viewer: User, filters: CustomerFilters,
                  batch: int = BATCH) -> Iterator[Any]:
    """Every customer of the viewer's filtered list, in the list's order, finished and masked."""
    cursor: str | None = None
    while True:
        page = customer_list(viewer=viewer, filters=filters, cursor=cursor, limit=batch)
        yield from page.items
        if page.next_cursor is None:
            return
        cursor = page.next_cursor


def customer_count(*, viewer: User, filters: CustomerFilters) -> int:
    """How many rows an export of the list would write (to choose download or job)."""
    return filters.apply(customers_visible(viewer=viewer), viewer=viewer).count()
