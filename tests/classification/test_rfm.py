"""RFM scores, segments and the revenue share match an independent computation in plain
Python over the same orders (on whichever database the suite runs on)."""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal

import pytest

from kehu.classification.figures import figures_compute, figures_refresh
from kehu.classification.models import CustomerFigures
from kehu.customers.models import Customer
from kehu.history.models import Order

TODAY = dt.date(2026, 6, 30)
SPENDING = {"confirmed", "paid"}


def _ntile(ordered: list[int], tiles: int = 5) -> dict[int, int]:
    """SQL's NTILE: the first (n % tiles) buckets hold one more row."""
    size, extra = divmod(len(ordered), tiles)
    scores, at = {}, 0
    for bucket in range(1, tiles + 1):
        width = size + (1 if bucket <= extra else 0)
        for pk in ordered[at:at + width]:
            scores[pk] = bucket
        at += width
    return scores


def _segment(r: int, f: int, m: int) -> str:
    """The documented table, written out as a person would read it."""
    if r >= 4 and f >= 4 and m >= 4:
        return "champions"
    if r >= 3 and f >= 3:
        return "loyal"
    if r >= 4 and f == 1:
        return "new"
    if r >= 3:
        return "potential"
    if f >= 4 and m >= 4:
        return "cant_lose"
    if f >= 3:
        return "at_risk"
    return "hibernating" if r == 2 else "lost"


def expected(orders: list[tuple[int, dt.date, str, Decimal]], window: int = 365) -> dict:
    start = TODAY - dt.timedelta(days=window - 1)
    per: dict[int, dict] = {}
    for customer, day, status, total in orders:
        if status not in SPENDING or day < start:
            continue
        row = per.setdefault(customer, {"last": day, "n": 0, "spent": Decimal(0)})
        row["last"] = max(row["last"], day)
        row["n"] += 1
        row["spent"] += total
    ids = list(per)
    r = _ntile(sorted(ids, key=lambda c: (per[c]["last"], c)))
    f = _ntile(sorted(ids, key=lambda c: (per[c]["n"], c)))
    # M is read off the revenue ranking (highest first) that also gives the share, so
    # its remainder rows go to the top buckets: 6 - NTILE over the descending order.
    m = {c: 6 - tile for c, tile in
         _ntile(sorted(ids, key=lambda c: (-per[c]["spent"], c))).items()}
    whole = sum(row["spent"] for row in per.values())
    above, share = Decimal(0), {}
    for c in sorted(ids, key=lambda c: (-per[c]["spent"], c)):
        share[c] = (above * 100 / whole).quantize(Decimal("0.001"))
        above += per[c]["spent"]
    return {c: {"recency_days": (TODAY - per[c]["last"]).days, "frequency": per[c]["n"],
                "monetary": per[c]["spent"], "r": r[c], "f": f[c], "m": m[c],
                "segment": _segment(r[c], f[c], m[c]), "revenue_share": share[c]} for c in ids}


def _make(root, customers: int, seed: int) -> list[tuple[int, dt.date, str, Decimal]]:
    rng = random.Random(seed)
    made = Customer.objects.bulk_create(
        [Customer(kind="company", name=f"客户{seed}-{i}", owner=root) for i in range(customers)])
    orders, rows = [], []
    for customer in made:
        for _n in range(rng.choice([0, 1, 1, 2, 3, 5, 8])):
            day = TODAY - dt.timedelta(days=rng.randint(0, 700))
            status = rng.choice(["paid", "paid", "confirmed", "cancelled", "draft"])
            # Whole hundreds: many ties in money, as in real order books.
            total = Decimal(rng.choice([100, 500, 500, 1200, 9900, 20000]))
            orders.append(Order(customer=customer, number=f"N{seed}-{len(orders)}",
                                ordered_on=day, status=status, total=total))
            rows.append((customer.pk, day, status, total))
    Order.objects.bulk_create(orders)
    return rows


def stored() -> dict[int, dict]:
    return {row.customer_id: {"recency_days": row.recency_days, "frequency": row.frequency,
                              "monetary": row.monetary, "r": row.r, "f": row.f, "m": row.m,
                              "segment": row.segment, "revenue_share": row.revenue_share}
            for row in CustomerFigures.objects.filter(r__isnull=False)}


@pytest.mark.django_db
@pytest.mark.parametrize("customers, seed", [(7, 1), (240, 2), (601, 3)])
def test_rfm_matches_plain_python(root, customers, seed):
    orders = _make(root, customers, seed)
    scored = figures_compute(today=TODAY)
    want = expected(orders)
    assert scored == len(want)
    assert stored() == want
    # Every customer with a spending order has a row (those without one have none); those
    # without an order in the window have no scores.
    ever = {customer for customer, _day, status, _total in orders if status in SPENDING}
    assert set(CustomerFigures.objects.values_list("customer_id", flat=True)) == ever
    assert not CustomerFigures.objects.filter(r__isnull=True, frequency__gt=0).exists()


@pytest.mark.django_db
def test_one_customers_refresh_scores_like_the_last_full_run(root):
    """Between full runs a refreshed customer is scored against the last run's cuts: the
    score the full run gave some customer with the same figure (NTILE splits a tie by id;
    the cuts give a tie the higher score)."""
    _make(root, 300, 4)
    figures_compute(today=TODAY)
    before = stored()
    seen: dict[tuple[str, object], set] = {}
    for row in before.values():
        for letter, figure in (("r", "recency_days"), ("f", "frequency"), ("m", "monetary"),
                               ("revenue_share", "monetary")):
            seen.setdefault((letter, row[figure]), set()).add(row[letter])
    ids = list(before)[:80]
    figures_refresh(ids, today=TODAY)
    after = stored()
    for pk in ids:
        row = after[pk]
        assert (row["frequency"], row["monetary"]) == (before[pk]["frequency"],
                                                       before[pk]["monetary"])
        assert row["r"] == max(seen[("r", row["recency_days"])])
        assert row["f"] == max(seen[("f", row["frequency"])])
        assert row["m"] == max(seen[("m", row["monetary"])])
        assert row["revenue_share"] == min(seen[("revenue_share", row["monetary"])])


@pytest.mark.django_db
@pytest.mark.parametrize("customers", [1, 2, 4, 5, 6, 13])
def test_few_customers_and_ties_score_like_ntile(root, customers):
    """Fewer customers than tiles, and ties on every figure: NTILE splits a tie by customer
    id, and so must the cuts SQLite scores R and F with (tile_starts, _tile_cuts)."""
    made = Customer.objects.bulk_create(
        [Customer(kind="company", name=f"并列{i}", owner=root) for i in range(customers)])
    orders, rows = [], []
    for n, customer in enumerate(made):
        day = TODAY - dt.timedelta(days=(n % 3) * 10)  # three days, many customers each
        for _k in range(1 + n % 2):  # one or two orders
            total = Decimal((500, 1200)[n % 2])
            orders.append(Order(customer=customer, number=f"T{customers}-{len(orders)}",
                                ordered_on=day, status="paid", total=total))
            rows.append((customer.pk, day, "paid", total))
    Order.objects.bulk_create(orders)
    assert figures_compute(today=TODAY) == customers
    assert stored() == expected(rows)


def test_a_customer_removed_for_good_takes_its_figures_with_it(root):
    """No database key ties the figures to their customer (the rewrite's checks cost a
    quarter of it): Django's delete still removes them with the customer, and the next
    rewrite ranks the others alone."""
    orders = _make(root, 12, 3)
    figures_compute(today=TODAY)
    gone = CustomerFigures.objects.order_by("customer_id").values_list("customer_id", flat=True)[0]
    Customer.objects.get(pk=gone).delete()  # its orders go with it
    assert not CustomerFigures.objects.filter(customer_id=gone).exists()
    assert not Order.objects.filter(customer_id=gone).exists()
    figures_compute(today=TODAY)
    assert stored() == expected([row for row in orders if row[0] != gone])
