"""Keyset pagination walks every row exactly once, forward and back, in any sort."""

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kehu.customers import selectors
from kehu.customers.filters import CustomerFilters


def walk(viewer, sort, limit):
    filters = CustomerFilters.from_params({"sort": sort})
    pages, cursor = [], None
    while True:
        page = selectors.customer_list(viewer=viewer, filters=filters, cursor=cursor, limit=limit)
        pages.append(page)
        if not page.next_cursor:
            return pages
        cursor = page.next_cursor


@pytest.mark.parametrize("sort", ["name", "-name", "created_at", "-updated_at"])
@settings(max_examples=5, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(limit=st.integers(min_value=1, max_value=7))
def test_every_row_once_forward_and_back(alice, make_customer, sort, limit):
    if not alice.owned_customers.exists():
        for name in ["乙", "甲", "丙", "甲", "丁", "戊", "己", "庚", "乙", "辛", "壬"]:
            make_customer(alice, name=name)
    pages = walk(alice, sort, limit)
    ids = [c.pk for page in pages for c in page.items]
    assert sorted(ids) == sorted(alice.owned_customers.values_list("pk", flat=True))
    assert len(ids) == len(set(ids))
    filters = CustomerFilters.from_params({"sort": sort})
    back = selectors.customer_list(viewer=alice, filters=filters,
                                   cursor=pages[-1].prev_cursor, limit=limit) \
        if pages[-1].prev_cursor else None
    if back is not None:
        assert [c.pk for c in back.items] == [c.pk for c in pages[-2].items]
