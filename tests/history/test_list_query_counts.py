"""The kanban and the lists of opportunities, orders and tickets ask the database the same
number of questions however many rows they show: no query per card or per row (no N+1).

Each story counts a page's queries with a few rows, adds many more (of several customers,
owners and stages, with order lines and products), and counts again.
"""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from kehu.history import services
from kehu.history.models import Pipeline, Stage

pytestmark = pytest.mark.django_db


def queries(client, url, **params) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url, params)
    assert response.status_code == 200
    return len(captured.captured_queries)


@pytest.fixture
def customers(alice, bob, make_customer):
    return [make_customer(alice, name=f"杭州客户{n}有限公司") for n in range(3)] + \
        [make_customer(bob, name=f"无锡客户{n}有限公司") for n in range(3)]


def add_deals(customers, n):
    stages = list(Stage.objects.filter(pipeline=Pipeline.objects.get(is_default=True),
                                       kind="open"))
    for i in range(n):
        customer = customers[i % len(customers)]
        deal = services.opportunity_create(actor=customer.owner, origin="manual", customer=customer,
                                           data={"title": f"商机{i}", "amount": 100 + i})
        services.opportunity_move(actor=customer.owner, origin="manual", opportunity=deal,
                                  stage=stages[i % len(stages)])


def test_the_board_asks_the_same_questions_for_two_deals_or_sixty(mallory, customers, login):
    client = login(mallory)
    add_deals(customers, 2)
    client.get("/history/board/")  # the first view of a session warms what it caches
    few = queries(client, "/history/board/")
    add_deals(customers, 60)
    assert queries(client, "/history/board/") == few
    assert queries(client, "/history/board/", owner=customers[0].owner_id) == few


def test_the_opportunity_list_asks_the_same_questions_for_two_rows_or_sixty(
        mallory, customers, login):
    client = login(mallory)
    add_deals(customers, 2)
    client.get("/history/opportunities/")
    few = queries(client, "/history/opportunities/")
    add_deals(customers, 60)
    assert queries(client, "/history/opportunities/") == few


def test_the_order_list_asks_the_same_questions_for_two_orders_or_sixty(
        mallory, customers, catalogue, login):
    def add_orders(n):
        for i in range(n):
            customer = customers[i % len(customers)]
            services.order_create(actor=customer.owner, origin="manual", customer=customer, data={
                "lines": [{"product": "TEA-LJ-250", "quantity": 1 + i % 3},
                          {"product": "SET-GL-01", "quantity": 1}]})

    client = login(mallory)
    add_orders(2)
    client.get("/history/orders/")
    few = queries(client, "/history/orders/")
    add_orders(60)
    assert queries(client, "/history/orders/") == few


def test_the_ticket_list_asks_the_same_questions_for_two_tickets_or_sixty(
        mallory, customers, login):
    def add_tickets(n):
        for i in range(n):
            customer = customers[i % len(customers)]
            services.ticket_create(actor=customer.owner, origin="manual", customer=customer, data={
                "kind": "complaint", "subject": f"问题{i}", "handler": customer.owner_id})

    client = login(mallory)
    add_tickets(2)
    client.get("/history/tickets/")
    few = queries(client, "/history/tickets/")
    add_tickets(60)
    assert queries(client, "/history/tickets/") == few
