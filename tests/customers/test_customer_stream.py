"""The whole list as one stream (what exports read): the list's rows, order and finishing.

A manager pages through his list; the stream, cut into batches of two, must hold the same
customers in the same order under every sort the list offers, ties included, and every
batch must be finished (owner, tags, masking) as a page is.
"""

from __future__ import annotations

import pytest

from kehu.accounts.models import Role
from kehu.accounts.services import user_create
from kehu.customers.filters import CustomerFilters
from kehu.customers.models import Customer
from kehu.customers.selectors import customer_list, customer_stream

pytestmark = pytest.mark.django_db


def paged_ids(viewer, filters) -> list[int]:
    ids, cursor = [], None
    while True:
        page = customer_list(viewer=viewer, filters=filters, cursor=cursor, limit=2)
        ids += [c.pk for c in page.items]
        if page.next_cursor is None:
            return ids
        cursor = page.next_cursor


@pytest.fixture
def book(alice, bob, charlie, make_customer):
    names = ["杭州西湖茶业", "宁波港口物流", "苏州园林设计", "无锡太湖渔业", "嘉兴南湖纺织"]
    made = [make_customer(alice if i % 2 else bob, name=n, phones=[f"1381234567{i}"],
                          tags=["重点客户"] if i == 3 else []) for i, n in enumerate(names)]
    make_customer(charlie, name="深圳南山科技")  # outside Mallory's team
    # Two customers written in the same instant: the id breaks the tie, as on the pages.
    Customer.objects.filter(pk__in=[made[1].pk, made[2].pk]).update(
        updated_at=made[0].updated_at)
    return made


@pytest.mark.parametrize("sort", ["-updated_at", "updated_at", "name", "-name", "-created_at"])
def test_a_managers_stream_is_his_list_in_the_lists_order(mallory, book, sort):
    filters = CustomerFilters.from_params({"sort": sort})
    streamed = list(customer_stream(viewer=mallory, filters=filters, batch=2))
    assert [r.pk for r in streamed] == paged_ids(mallory, filters)
    assert "深圳南山科技" not in {r.name for r in streamed}
    assert len(streamed) == 5


def test_every_batch_is_finished_and_masked_like_a_page(book, east):
    Role.objects.create(code="auditor", name="审计", data_scope="all", can_write=False,
                        masks_sensitive=True, may_export=True)
    auditor = user_create(username="audrey", role_code="auditor", display_name="Audrey",
                          password="audrey-pass-123")[0]
    streamed = list(customer_stream(viewer=auditor, filters=CustomerFilters(), batch=2))
    assert len(streamed) == 6
    for row in streamed:
        assert row.owner is not None and row.owner.label
        assert all("****" in phone for phone in row.phones), row.phones
    assert [r.tag_names for r in streamed if r.name == "无锡太湖渔业"] == [["重点客户"]]


def test_a_filtered_and_searched_stream_keeps_to_the_filter(mallory, bob, book):
    filters = CustomerFilters.from_params({"owner": str(bob.pk), "q": "湖", "sort": "name"})
    streamed = list(customer_stream(viewer=mallory, filters=filters, batch=1))
    assert {r.name for r in streamed} == {"杭州西湖茶业", "嘉兴南湖纺织"}
    assert [r.pk for r in streamed] == paged_ids(mallory, filters)
    ranked = CustomerFilters.from_params({"q": "湖"})  # best match first: read page by page
    assert [r.pk for r in customer_stream(viewer=mallory, filters=ranked, batch=1)] == \
        paged_ids(mallory, ranked)
