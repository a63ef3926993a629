"""No list page or API list makes a query per row (N+1): each is rendered with a short page
of rows and with several times as many, as the admin and as a manager whose department is a scope
filter, and must make the same number of queries both times.

Rows come from the demo generator (every kind of history for every customer), the same
code that fills a real installation; the timeline, jobs and notifications through their
services.
"""

from __future__ import annotations

import json

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from kehu.customers.models import Contact, Customer
from kehu.demo import generate
from kehu.history import services as history_services
from kehu.history.models import Communication, Need, Opportunity, Order, Survey, Ticket
from kehu.jobs.services import job_start
from kehu.notifications.services import notify

pytestmark = pytest.mark.django_db

FEW, MANY = 10, 50  # customers; the demo gives each several rows of most kinds

# Found by this test, each making a query per row (SQLite, admin, 10 then 50 demo customers):
# communications 36 queries for 32 rows then 54; surveys 7 for 3 rows then 16; tickets 6 for
# 2 rows then 10; opportunities 10 for 7 rows then 12 (a manager) — each row's author (and
# a communication's attachments) read one at a time. Fixed in history/selectors.py: the
# lists join the author and prefetch the attachments.


def row(what: str, url: str, model: type) -> object:
    """One list: what it is, its url, the model whose rows it lists."""
    return pytest.param(what, url, model, id=what)


LISTS = [
    row("web customers", "/customers/", Customer),
    row("web orders", "/history/orders/", Order),
    row("web tickets", "/history/tickets/", Ticket),
    row("web opportunities", "/history/opportunities/", Opportunity),
    row("web board", "/history/board/", Opportunity),
    row("api customers", "/api/v1/customers", Customer),
    row("api contacts", "/api/v1/contacts", Contact),
    row("api communications", "/api/v1/communications", Communication),
    row("api orders", "/api/v1/orders", Order),
    row("api needs", "/api/v1/needs", Need),
    row("api surveys", "/api/v1/surveys", Survey),
    row("api tickets", "/api/v1/tickets", Ticket),
    row("api opportunities", "/api/v1/opportunities", Opportunity),
]


def queries_for(client: Client, url: str) -> int:
    """Queries of one request, after a first one has warmed what is cached per process."""
    assert client.get(url).status_code == 200
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200
    return len(captured)


def signed_in(username: str) -> Client:
    client = Client()
    client.force_login(get_user_model().objects.get(username=username))
    return client


@pytest.mark.parametrize("username", ["admin", "zhou.min"])
@pytest.mark.parametrize(("what", "url", "model"), LISTS)
def test_a_list_makes_as_many_queries_for_fifty_customers_as_for_ten(what, url, model, username):
    # Both sizes have rows in the viewer's scope: an empty list legitimately skips its
    # prefetches, so the comparison is between a short page and a full one.
    generate(FEW, seed=1)
    few_rows = model.objects.count()
    few = queries_for(signed_in(username), url)
    generate(MANY - FEW, seed=2)
    for seed in range(3, 8):  # a rare kind (tickets: 2 of the first 10, 1 of the next 40 on
        if model.objects.count() >= 2 * few_rows:  # 2026-12-06) needs more customers to double
            break
        generate(MANY - FEW, seed=seed)
    assert few_rows >= 1 and model.objects.count() >= 2 * few_rows, what
    many = queries_for(signed_in(username), url)
    assert many == few, f"{what} as {username}: {few} queries with {few_rows} rows, {many} with more"


def _log(actor, customer, count: int) -> None:
    for n in range(count):
        history_services.communication_log(actor=actor, origin="manual", customer=customer,
                                           data={"channel": "phone", "subject": f"第 {n} 次回访"})
        history_services.ticket_create(actor=actor, origin="manual", customer=customer,
                                       data={"kind": "inquiry", "subject": f"问题 {n}"})


def test_a_customers_timeline_makes_as_many_queries_for_thirty_entries_as_for_three(
        alice, alices_customer, login):
    pages = [f"/history/customers/{alices_customer.pk}/",
             f"/api/v1/customers/{alices_customer.pk}/timeline"]
    _log(alice, alices_customer, 3)
    few = [queries_for(login(alice), url) for url in pages]
    _log(alice, alices_customer, 27)
    api = login(alice).get(pages[1]).json()
    assert len(api["items"]) > 3 * 2, json.dumps(api)[:300]
    assert [queries_for(login(alice), url) for url in pages] == few


def test_the_job_and_notification_lists_make_as_many_queries_for_thirty_rows_as_for_three(
        alice, login):
    def add(count: int) -> None:
        for n in range(count):
            job_start(actor=alice, origin="manual", kind="jobs.prune", queued=False)
            notify(recipient=alice, title=f"提醒 {n}", link="/customers/", actor=alice, origin="manual")

    add(3)
    few = [queries_for(login(alice), url) for url in ("/jobs/", "/notifications/")]
    add(27)
    assert [queries_for(login(alice), url) for url in ("/jobs/", "/notifications/")] == few
