"""Time the customer card of a customer with a long history (default 5,000 entries).

    .venv/bin/python bench/card.py [--entries 5000] [--rounds 20]

Builds a throwaway database under var/bench/card/, gives one customer that many
timeline entries (communications, orders, needs, surveys, tickets), then times, in
process through Django's test client, the card page, the history panel, the first and
a deep timeline page of the API and the summary. Prints median and max in ms.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import shutil
import statistics
import sys
import time
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=5000)
    parser.add_argument("--rounds", type=int, default=20)
    args = parser.parse_args()
    data_dir = ROOT / "var" / "bench" / "card"
    shutil.rmtree(data_dir, ignore_errors=True)
    data_dir.mkdir(parents=True)
    os.environ["KEHU_DATA_DIR"] = str(data_dir)
    os.environ["DJANGO_SETTINGS_MODULE"] = "kehu.config.settings"
    os.environ.pop("DATABASE_URL", None)
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=0)
    rep, customer = build(args.entries)
    measure(rep, customer, args.rounds, args.entries)


def build(entries: int):
    from django.utils import timezone

    from kehu.accounts.services import department_path, user_create
    from kehu.customers.services import contact_create, customer_create
    from kehu.history.models import Communication, Need, Order, Survey, Ticket

    rep, _ = user_create(username="rep", role_code="sales", department=department_path("总部"))
    customer = customer_create(actor=rep, origin="demo", data={"kind": "company",
                                                               "name": "长历史客户有限公司"})
    contact_create(actor=rep, origin="demo", customer=customer, data={"name": "王经理",
                                                                      "phones": "13800138000"})
    now = timezone.now()
    share = {"communication": 0.5, "order": 0.3, "need": 0.1, "survey": 0.05, "ticket": 0.05}
    n = {kind: int(entries * part) for kind, part in share.items()}
    common = {"customer": customer, "created_by": rep}
    Communication.objects.bulk_create(
        Communication(channel="phone", occurred_at=now - dt.timedelta(hours=3 * i),
                      subject=f"第 {i} 次电话", content="沟通内容" * 20, **common)
        for i in range(n["communication"]))
    Order.objects.bulk_create(
        Order(number=f"SO-{i:06d}", ordered_on=(now - dt.timedelta(days=i % 1000)).date(),
              status="paid", total=Decimal(1000 + i), **common)
        for i in range(n["order"]))
    Need.objects.bulk_create(Need(content=f"需求 {i}", **common) for i in range(n["need"]))
    Survey.objects.bulk_create(
        Survey(kind="csat", score=1 + i % 5, answered_on=(now - dt.timedelta(days=i)).date(),
               **common) for i in range(n["survey"]))
    Ticket.objects.bulk_create(
        Ticket(kind="complaint", subject=f"投诉 {i}", opened_at=now - dt.timedelta(days=i),
               status="resolved", **common) for i in range(n["ticket"]))
    return rep, customer


def measure(rep, customer, rounds: int, entries: int) -> None:
    from django.test import Client

    from kehu.accounts.services import token_create

    web = Client()
    web.force_login(rep)
    _, secret = token_create(user=rep, name="bench")
    api = Client(HTTP_AUTHORIZATION=f"Bearer {secret}")
    base = f"/api/v1/customers/{customer.pk}"
    cursor = None
    for _ in range(40):  # walk 40 pages of 30 to get a deep cursor
        body = api.get(f"{base}/timeline", {"limit": 30, **({"cursor": cursor} if cursor else {})})
        cursor = body.json()["next_cursor"]
    cases = [
        ("card page /customers/<id>/", web, f"/customers/{customer.pk}/", {}),
        ("history panel (HTMX)", web, f"/history/customers/{customer.pk}/", {}),
        ("API timeline, first page", api, f"{base}/timeline", {"limit": 30}),
        ("API timeline, page 41", api, f"{base}/timeline", {"limit": 30, "cursor": cursor}),
        ("API summary", api, f"{base}/summary", {}),
    ]
    print(f"Customer with {entries:,} timeline entries; {rounds} rounds each; ms in process")
    print("| request | median | max |\n|---|---|---|")
    for label, client, url, params in cases:
        times = []
        for _ in range(rounds + 1):
            started = time.perf_counter()
            response = client.get(url, params)
            times.append((time.perf_counter() - started) * 1000)
            if response.status_code != 200:
                sys.exit(f"{label}: HTTP {response.status_code}")
        times = times[1:]  # the first call warms caches
        print(f"| {label} | {statistics.median(times):.1f} | {max(times):.1f} |")


if __name__ == "__main__":
    main()
