"""The card's timeline: one stream of every kind, newest first, paged at a constant cost."""

import datetime as dt
import random

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.http import Http404
from django.utils import timezone

from kehu.history import selectors, services
from kehu.history.models import (
    Communication,
    Need,
    Opportunity,
    Order,
    Pipeline,
    Survey,
    Ticket,
)
from kehu.history.timeline import SOURCES

SHANGHAI = dt.timezone(dt.timedelta(hours=8))
START = dt.datetime(2023, 1, 1, 9, 0, tzinfo=SHANGHAI)


def build_history(customer, user, rng, per_kind):
    """Bulk-insert `per_kind[kind]` rows of each kind with clustered times (many exact ties)."""

    def moment():
        # A coarse grid of hours, so many rows share the very same moment.
        return START + dt.timedelta(hours=rng.randrange(0, 24 * 400, 6))

    def day():
        return (START + dt.timedelta(days=rng.randrange(0, 400))).date()

    common = {"customer": customer, "created_by": user}
    pipeline = Pipeline.objects.get(is_default=True)
    stage = pipeline.stages.first()
    Communication.objects.bulk_create(
        Communication(channel="phone", occurred_at=moment(), **common)
        for _ in range(per_kind["communication"]))
    Order.objects.bulk_create(
        Order(number=f"T{n}", ordered_on=day(), total=1, **common)
        for n in range(per_kind["order"]))
    Survey.objects.bulk_create(
        Survey(kind="csat", score=5, answered_on=day(), **common) for _ in range(per_kind["survey"]))
    Ticket.objects.bulk_create(
        Ticket(kind="inquiry", subject="咨询", opened_at=moment(), **common)
        for _ in range(per_kind["ticket"]))
    needs = Need.objects.bulk_create(Need(content="需求", **common) for _ in range(per_kind["need"]))
    opportunities = Opportunity.objects.bulk_create(
        Opportunity(title="商机", pipeline=pipeline, stage=stage, owner=user, **common)
        for _ in range(per_kind["opportunity"]))
    # created_at is auto_now_add: spread it over the same grid with one statement per table.
    for model, rows in ((Need, needs), (Opportunity, opportunities)):
        with connection.cursor() as cursor:
            cursor.executemany(
                f"UPDATE {model._meta.db_table} SET created_at = %s WHERE id = %s",  # noqa: S608
                [(connection.ops.adapt_datetimefield_value(moment()), row.pk) for row in rows])


def expected_order(customer):
    """Every (kind, id) of the customer, sorted independently of the selector."""
    def at(value):
        if isinstance(value, dt.datetime):
            return value
        return timezone.make_aware(dt.datetime.combine(value, dt.time.min))

    fields = {Communication: ("communication", "occurred_at"), Order: ("order", "ordered_on"),
              Survey: ("survey", "answered_on"), Ticket: ("ticket", "opened_at"),
              Need: ("need", "created_at"), Opportunity: ("opportunity", "created_at")}
    keys = [(at(value), kind, pk)
            for model, (kind, field) in fields.items()
            for pk, value in model.objects.filter(customer=customer).values_list("pk", field)]
    return [(kind, pk) for _at, kind, pk in sorted(keys, reverse=True)]


def walk(viewer, customer, **kwargs):
    seen, cursor, pages = [], None, 0
    while True:
        page = selectors.timeline(viewer=viewer, customer_id=customer.pk, cursor=cursor, **kwargs)
        seen += [(e.kind, e.obj.pk) for e in page.items]
        pages += 1
        cursor = page.next_cursor
        if cursor is None:
            return seen, pages


def test_5000_entries_page_through_each_exactly_once_in_order(
    alice, alices_customer, django_assert_num_queries
):
    per_kind = {"communication": 2000, "order": 1000, "survey": 500, "ticket": 500,
                "need": 500, "opportunity": 500}
    build_history(alices_customer, alice, random.Random(3), per_kind)
    expected = expected_order(alices_customer)
    assert len(expected) == 5000

    seen, pages = walk(alice, alices_customer, limit=30)
    assert seen == expected
    assert pages == 167  # 5000 / 30, rounded up

    # Any page, however deep, costs the same: the customer check, one query per kind (the
    # registered ones too: classification's changes), and
    # one per list the entries show (attachments, order lines, products) for the kinds on
    # the page — the entries come finished.
    deep = selectors.timeline(viewer=alice, customer_id=alices_customer.pk, limit=30)
    for _ in range(100):
        deep = selectors.timeline(viewer=alice, customer_id=alices_customer.pk,
                                  cursor=deep.next_cursor, limit=30)
    page = selectors.timeline(viewer=alice, customer_id=alices_customer.pk,
                              cursor=deep.next_cursor, limit=30)
    with_lists = {e.kind for e in page.items} & {"communication", "order", "opportunity"}
    with django_assert_num_queries(1 + len(SOURCES) + len(with_lists)):
        selectors.timeline(viewer=alice, customer_id=alices_customer.pk,
                           cursor=deep.next_cursor, limit=30)


def test_the_timeline_filters_by_kind(alice, alices_customer):
    build_history(alices_customer, alice, random.Random(5), {
        "communication": 40, "order": 30, "survey": 5, "ticket": 5, "need": 5, "opportunity": 5})
    seen, _pages = walk(alice, alices_customer, kinds={"order", "survey"}, limit=7)
    expected = [e for e in expected_order(alices_customer) if e[0] in {"order", "survey"}]
    assert seen == expected and len(seen) == 35


def test_an_outsider_sees_no_timeline_and_junk_cursors_are_refused(
    alice, charlie, alices_customer
):
    services.communication_log(actor=alice, origin="manual", customer=alices_customer,
                               data={"subject": "拜访"})
    with pytest.raises(Http404):
        selectors.timeline(viewer=charlie, customer_id=alices_customer.pk)
    with pytest.raises(ValidationError):
        selectors.timeline(viewer=alice, customer_id=alices_customer.pk, cursor="not-a-cursor")
    with pytest.raises(ValidationError):
        selectors.timeline(viewer=alice, customer_id=alices_customer.pk, kinds={"gossip"})


def test_a_logged_call_comes_first_on_the_card(alice, alices_customer, catalogue):
    services.order_create(actor=alice, origin="manual", customer=alices_customer, data={
        "ordered_on": "2024-06-01", "lines": [{"product": "TEA-LJ-250", "quantity": 1}]})
    call = services.communication_log(actor=alice, origin="manual", customer=alices_customer,
                                      data={"subject": "回访", "next_follow_up": "2030-01-01"})
    page = selectors.timeline(viewer=alice, customer_id=alices_customer.pk)
    assert [(e.kind, e.obj.pk) for e in page.items][0] == ("communication", call.pk)
    assert [e.kind for e in page.items] == ["communication", "order"]
