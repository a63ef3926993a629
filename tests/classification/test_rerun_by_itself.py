"""A rep logs big orders for a small customer; without anyone pressing a button the
customer moves into tier A, the card says which rule and which figure put it there, and
the timeline shows the change. A real worker process runs the debounced job."""

from __future__ import annotations

import datetime as dt
import time

import pytest
from django.test import override_settings
from django.utils import timezone

from kehu.accounts.services import system_actor
from kehu.classification.models import ClassChange, CustomerClass, Pending
from kehu.history import services as history
from kehu.jobs.models import Job
from kehu.jobs.services import run_in_foreground

pytestmark = pytest.mark.django_db(transaction=True)


def buy(actor, customer, quantity: int, days_ago: int = 3) -> None:
    day = (timezone.localdate() - dt.timedelta(days=days_ago)).isoformat()
    history.order_create(actor=actor, customer=customer, origin="manual", data={
        "ordered_on": day, "status": "paid", "lines": [{"product": "M-1", "quantity": quantity}]})


def tier(customer) -> str | None:
    row = CustomerClass.objects.filter(customer=customer, dimension__key="value_tier") \
        .select_related("value").first()
    return row.value.key if row else None


def test_new_orders_move_a_customer_into_tier_a_by_themselves(alice, product, make_customer,
                                                             worker, worker_log, login):
    leader, second, small = (make_customer(alice, name=n) for n in ("龙头公司", "二号公司", "小微公司"))
    buy(alice, leader, 10)   # ¥600,000
    buy(alice, second, 3)    # ¥180,000
    buy(alice, small, 1)     # ¥60,000
    run_in_foreground(actor=system_actor(), origin="system", kind="classification.run", params={})
    assert (tier(leader), tier(second), tier(small)) == ("a", "b", "c")

    with override_settings(KEHU_CLASSIFY_DELAY_SECONDS=1):
        buy(alice, small, 20)  # ¥1,200,000 more: now the biggest customer of all
    assert Pending.objects.filter(customer_id=small.pk).exists()
    job = Job.objects.get(kind="classification.refresh")
    worker()
    deadline = time.monotonic() + 60
    # The tier moves inside the job; its row says done a moment later (the last commit).
    while (tier(small) != "a" or Job.objects.get(pk=job.pk).status != "done") \
            and time.monotonic() < deadline:
        time.sleep(0.2)
    assert tier(small) == "a", worker_log.read_text(errors="replace")[-3000:]
    job.refresh_from_db()
    assert job.status == "done" and not Pending.objects.exists()

    change = ClassChange.objects.filter(customer=small, dimension__key="value_tier").latest("at")
    assert (change.from_value.key, change.to_value.key) == ("c", "a")
    assert change.rule.builtin_key == "tier_a" and change.figures["rfm.monetary"] == "1260000.00"

    client = login(alice)
    card = client.get(f"/customers/{small.pk}/").content.decode()
    assert "A 类" in card and "ABC 分级：营收前 70%" in card and "¥1,260,000" in card
    timeline = client.get(f"/history/customers/{small.pk}/?kind=classification").content.decode()
    assert "价值等级" in timeline and "C 类" in timeline and "A 类" in timeline
