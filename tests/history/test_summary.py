"""The card's figures match an independent computation over the same rows."""

import datetime as dt
import random
from decimal import ROUND_HALF_UP, Decimal

import pytest
from django.http import Http404
from django.utils import timezone

from kehu.history import selectors, services
from kehu.history.models import Pipeline

CENT = Decimal("0.01")
SHANGHAI = dt.timezone(dt.timedelta(hours=8))
TODAY = dt.date(2026, 6, 30)
STATUSES = ["draft", "confirmed", "paid", "cancelled", "refunded"]


def random_history(rng, actor, customer, catalogue):
    """Create a random history through the services; return the plain facts it was built from."""
    facts = {"orders": [], "contacts": [], "surveys": [], "opportunities": [], "tickets": []}
    products = list(catalogue.values())
    for _ in range(rng.randint(0, 12)):
        lines = [{"product": rng.choice(products).sku, "quantity": rng.randint(1, 5),
                  "unit_price": f"{rng.randint(100, 99999) / 100:.2f}",
                  "discount": f"{rng.randint(0, 50) / 100:.2f}"} for _ in range(rng.randint(1, 3))]
        day = dt.date(2024, 1, 1) + dt.timedelta(days=rng.randint(0, 800))
        status = rng.choice(STATUSES)
        services.order_create(actor=actor, origin="manual", customer=customer,
                              data={"ordered_on": day, "status": status, "lines": lines})
        total = sum(Decimal(str(li["quantity"])) * Decimal(li["unit_price"]) - Decimal(li["discount"])
                    for li in lines)
        facts["orders"].append((day, status, total))
    for _ in range(rng.randint(0, 5)):
        at = dt.datetime(2025, 1, 1, 8, tzinfo=SHANGHAI) + dt.timedelta(hours=rng.randint(0, 9000))
        services.communication_log(actor=actor, origin="manual", customer=customer, data={"occurred_at": at})
        facts["contacts"].append(at)
    for n in range(rng.randint(0, 6)):
        kind = rng.choice(["csat", "nps"])
        score = rng.randint(1, 5) if kind == "csat" else rng.randint(0, 10)
        day = dt.date(2025, 1, 1) + dt.timedelta(days=rng.randint(0, 5))  # ties on the day
        survey = services.survey_record(actor=actor, origin="manual", customer=customer,
                                        data={"kind": kind, "score": score, "answered_on": day})
        facts["surveys"].append((kind, day, survey.pk, score, n))
    stages = list(Pipeline.objects.get(is_default=True).stages.all())
    for _ in range(rng.randint(0, 5)):
        stage = rng.choice(stages)
        amount = Decimal(rng.randint(0, 10_000_000)) / 100
        services.opportunity_create(actor=actor, origin="manual", customer=customer, data={
            "title": "商机", "amount": amount, "stage": stage.pk})
        facts["opportunities"].append((stage.kind, stage.probability, amount))
    for _ in range(rng.randint(0, 4)):
        kind, status = rng.choice(["complaint", "inquiry"]), rng.choice(
            ["open", "in_progress", "resolved", "closed"])
        services.ticket_create(actor=actor, origin="manual", customer=customer,
                               data={"kind": kind, "subject": "反馈", "status": status})
        facts["tickets"].append((kind, status))
    return facts


def independent_summary(facts):
    spending = [(day, total) for day, status, total in facts["orders"]
                if status in ("confirmed", "paid")]
    total = sum((t for _d, t in spending), Decimal(0))
    days = sorted({d for d, _t in spending})
    last_contact = max(facts["contacts"], default=None)
    open_opps = [(p, a) for kind, p, a in facts["opportunities"] if kind == "open"]

    def latest(kind):
        answers = [(day, pk, score) for k, day, pk, score, _n in facts["surveys"] if k == kind]
        return max(answers)[2] if answers else None

    return {
        "total_spent": total.quantize(CENT),
        "order_count": len(spending),
        "average_order_value": (total / len(spending)).quantize(CENT, ROUND_HALF_UP)
        if spending else None,
        "average_days_between_purchases": (days[-1] - days[0]).days / (len(days) - 1)
        if len(days) >= 2 else None,
        "last_purchase": days[-1] if days else None,
        "last_contact": last_contact,
        "days_since_last_contact": (TODAY - timezone.localdate(last_contact)).days
        if last_contact else None,
        "latest_csat": latest("csat"),
        "latest_nps": latest("nps"),
        "open_opportunities": len(open_opps),
        "weighted_pipeline": (sum((a * p for p, a in open_opps), Decimal(0)) / 100)
        .quantize(CENT, ROUND_HALF_UP),
        "open_complaints": sum(1 for kind, status in facts["tickets"]
                               if kind == "complaint" and status in ("open", "in_progress")),
    }


@pytest.mark.parametrize("seed", range(12))
def test_the_figures_match_an_independent_computation(
    seed, alice, alices_customer, make_customer, catalogue
):
    rng = random.Random(seed)
    facts = random_history(rng, alice, alices_customer, catalogue)
    # Another customer's history must not leak into these figures.
    random_history(rng, alice, make_customer(alice, name="无关客户有限公司"), catalogue)
    summary = selectors.customer_summary(viewer=alice, customer_id=alices_customer.pk, today=TODAY)
    assert vars(summary) == independent_summary(facts)


def test_the_figures_cost_a_handful_of_queries_and_stay_in_scope(
    alice, charlie, alices_customer, catalogue, django_assert_max_num_queries
):
    random_history(random.Random(99), alice, alices_customer, catalogue)
    # 8, and the scope's size once per process and scope (customers.scope_plans): in a test
    # the sizes start unknown, so the first read through the gate counts them
    with django_assert_max_num_queries(10):
        selectors.customer_summary(viewer=alice, customer_id=alices_customer.pk)
    with pytest.raises(Http404):
        selectors.customer_summary(viewer=charlie, customer_id=alices_customer.pk)


def test_a_customer_without_history_has_empty_figures(alice, alices_customer):
    summary = selectors.customer_summary(viewer=alice, customer_id=alices_customer.pk)
    assert (summary.total_spent, summary.order_count, summary.average_order_value) == (0, 0, None)
    assert summary.last_contact is None and summary.weighted_pipeline == 0
