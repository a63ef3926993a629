"""The timeline hands back finished entries (issue 6 #4).

The API used to call `prefetch_entries` on the page it got, and the card's history
panel had to remember to as well; a caller that forgot paid one query per entry and
relation. Now the timeline selector fetches what its entries show itself, and masks
their contacts for anna (analyst) like every other read.
"""

from __future__ import annotations

import pytest
from django.template.loader import render_to_string

from kehu.history import selectors, services
from kehu.history.api.serializers import timeline_entry_dict
from kehu.history.timeline import SOURCES

pytestmark = pytest.mark.django_db


def one_of_each(alice, customer, contact, catalogue, n=1):
    for i in range(n):
        services.communication_log(actor=alice, origin="manual", customer=customer, data={
            "subject": f"回访{i}", "contact": contact.pk})
        services.order_create(actor=alice, origin="manual", customer=customer, data={
            "ordered_on": "2026-05-01", "lines": [{"product": "TEA-LJ-250", "quantity": 2},
                                                  {"product": "SET-GL-01", "quantity": 1}]})
        services.opportunity_create(actor=alice, origin="manual", customer=customer, data={
            "title": f"年度采购{i}", "amount": "50000", "products": ["TEA-LJ-250"]})
        services.need_create(actor=alice, origin="manual", customer=customer,
                             data={"content": "需要礼盒定制"})
        services.survey_record(actor=alice, origin="manual", customer=customer,
                               data={"kind": "nps", "score": 9, "contact": contact.pk})
        services.ticket_create(actor=alice, origin="manual", customer=customer,
                               data={"kind": "complaint", "subject": "到货延迟", "handler": alice.pk})


def test_timeline_entries_come_prefetched_without_the_caller_asking(
    alice, alices_customer, primary_contact, catalogue, django_assert_num_queries
):
    one_of_each(alice, alices_customer, primary_contact, catalogue, n=2)
    page = selectors.timeline(viewer=alice, customer_id=alices_customer.pk)
    assert {e.kind for e in page.items} == {
        "communication", "order", "opportunity", "need", "survey", "ticket"}
    with django_assert_num_queries(0):  # the API's serializers and the card's template
        bodies = [timeline_entry_dict(entry) for entry in page.items]
        html = "".join(render_to_string("history/partials/entry.html", {"entry": entry})
                       for entry in page.items)
    orders = [b for b in bodies if b["kind"] == "order"]
    assert [line["sku"] for line in orders[0]["data"]["lines"]] == ["TEA-LJ-250", "SET-GL-01"]
    assert "陈经理" in html and "回访1" in html


def test_a_timeline_page_costs_the_same_for_one_or_five_entries_of_each_kind(
    alice, alices_customer, primary_contact, catalogue, django_assert_num_queries
):
    one_of_each(alice, alices_customer, primary_contact, catalogue, n=1)
    selectors.timeline(viewer=alice, customer_id=alices_customer.pk)  # warm the access answer
    # The customer check, one query per kind (history's six and those other apps register:
    # classification's changes), and attachments, order lines, products.
    with django_assert_num_queries(1 + len(SOURCES) + 3):
        selectors.timeline(viewer=alice, customer_id=alices_customer.pk)
    one_of_each(alice, alices_customer, primary_contact, catalogue, n=4)
    with django_assert_num_queries(1 + len(SOURCES) + 3):
        page = selectors.timeline(viewer=alice, customer_id=alices_customer.pk)
    assert len(page.items) == 30


def test_the_analyst_reads_the_timelines_contacts_masked(
    anna, alice, alices_customer, primary_contact, catalogue
):
    one_of_each(alice, alices_customer, primary_contact, catalogue)
    entries = selectors.timeline(viewer=anna, customer_id=alices_customer.pk).items
    contacts = [e.obj.contact for e in entries if e.kind in ("communication", "survey")]
    assert len(contacts) == 2
    assert all(c.phones == ["139****1111"] and c.is_masked for c in contacts)
    mine = selectors.timeline(viewer=alice, customer_id=alices_customer.pk).items
    assert next(e.obj.contact for e in mine if e.kind == "survey").phones == ["+8613900001111"]
