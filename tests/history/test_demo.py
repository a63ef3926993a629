"""The demo step: believable, deterministic history for the demo customers."""

import datetime as dt
from collections import Counter

import pytest
from django.db.models import Count, Sum

from kehu.customers.models import Customer
from kehu.demo import STEPS, generate
from kehu.history.demo import history_step
from kehu.history.models import (
    Communication,
    Need,
    Opportunity,
    Order,
    OrderLine,
    Preference,
    Product,
    Survey,
    Ticket,
)

NOW = dt.datetime(2026, 6, 1, tzinfo=dt.UTC)


def snapshot():
    orders = list(Order.objects.order_by("id").values_list(
        "customer_id", "ordered_on", "status", "total", "number"))
    lines = list(OrderLine.objects.order_by("id").values_list("order_id", "product_id", "amount"))
    calls = list(Communication.objects.order_by("id").values_list("customer_id", "occurred_at", "subject"))
    return orders, lines, calls


def test_the_history_step_is_registered_and_fills_three_years(db):
    assert history_step in STEPS
    ctx = generate(customers=150, seed=11, now=NOW)
    customers = len(ctx.customer_ids)
    orders = Order.objects.filter(origin="demo")
    assert 4 * customers <= orders.count() <= 20 * customers  # ≈10 per customer on average
    first, last = min(orders.values_list("ordered_on", flat=True)), max(
        orders.values_list("ordered_on", flat=True))
    assert (last - first).days > 2 * 365 and last <= NOW.date()
    # Every order's total is the sum of its lines.
    sums = dict(OrderLine.objects.values("order_id").annotate(s=Sum("amount"))
                .values_list("order_id", "s"))
    assert all(abs(sums[pk] - total) < 0.005 for pk, total in orders.values_list("pk", "total"))
    # Repeat buyers: the top fifth of customers place more than half of the orders.
    per_customer = sorted(orders.values("customer_id").annotate(n=Count("id"))
                          .values_list("n", flat=True), reverse=True)
    assert sum(per_customer[: customers // 5]) > orders.count() / 2
    assert Product.objects.count() >= 40
    assert Communication.objects.exclude(outcome="").exists()
    assert set(Opportunity.objects.values_list("status", flat=True)) == {"open", "won", "lost"}
    assert Survey.objects.exists() and Ticket.objects.filter(kind="complaint").exists()


def test_orders_peak_in_january_and_the_fourth_quarter(db):
    generate(customers=300, seed=5, now=NOW)
    by_month = Counter(d.month for d in Order.objects.values_list("ordered_on", flat=True))
    assert by_month[1] > by_month[2] * 1.8
    assert by_month[11] + by_month[12] > by_month[7] + by_month[8]


def test_the_same_seed_gives_the_same_history(db):
    generate(customers=60, seed=3, now=NOW)
    first = snapshot()
    for model in (Order, Communication, Opportunity, Survey, Ticket, Need, Preference):
        model.objects.all().delete()
    generate(customers=60, seed=3, now=NOW)
    second = snapshot()
    # Same rows (ids move on because the second run inserts new customers).
    assert [row[1:4] for row in first[0]] == [row[1:4] for row in second[0]]
    assert [row[1:] for row in first[1]] == [row[1:] for row in second[1]]
    assert [row[1:] for row in first[2]] == [row[1:] for row in second[2]]


def test_a_history_load_killed_halfway_continues_the_order_ids_without_a_gap_or_a_repeat(db):
    def kill_in_the_third_batch(done: int, total: int, first_id: int) -> None:
        if done == 3:
            raise RuntimeError("kill -9")
        saved.update(batches=done, first_id=first_id)

    saved: dict[str, int] = {}
    with pytest.raises(RuntimeError):
        generate(customers=100, seed=3, now=NOW, batch_size=20, on_batch=kill_in_the_third_batch)
    orders_before = Order.objects.count()
    assert saved["batches"] == 2 and orders_before > 0
    ctx = generate(customers=100, seed=3, now=NOW, batch_size=20, start_batch=saved["batches"],
                   first_id=saved["first_id"])
    ids = list(Order.objects.order_by("id").values_list("id", flat=True))
    assert ids == list(range(1, len(ids) + 1)) and len(ids) > orders_before
    numbers = Order.objects.values_list("number", flat=True)
    assert len(set(numbers)) == len(ids)
    live = set(Customer.objects.filter(deleted_at__isnull=True).values_list("pk", flat=True))
    assert set(Communication.objects.values_list("customer_id", flat=True)) == live
    assert live <= set(ctx.customer_ids)
