"""Time the customer card of a customer with a long history, next to raw SQL of the same rows.

    .venv/bin/python bench/card.py [--data-dir var/bench/sqlite-c1000000-s1] [--entries 5000]
                                   [--rounds 30]
    .venv/bin/python bench/pg.py -- bench/card.py --data-dir {data_dir}     # PostgreSQL

Uses an existing demo database (bench/run.py's 1,000,000 customers; DATABASE_URL names a
PostgreSQL one, as bench/pg.py sets it). Inside one transaction that is rolled back at the
end, it gives one of the rep wang.fang's customers `--entries` more timeline entries
(communications, orders, needs, surveys, tickets), then times in process, through Django's
test client (the middleware, the gate, the selectors, the templates): the card page, the
history panel, the API's first and 41st timeline page and the API's summary. Beside each, on
the same connection in the same run, the raw SQL of the same rows: per kind the newest 31
rows of the customer (the timeline's merge reads no more), the summary's six aggregates, and
for the card the customer, its contacts and both. p50/p99/max in ms; the table goes to
bench/results/card-<db>-<N>k.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import sys
import time
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
REP = "wang.fang"
# kind: (table, time column, is a date)
KINDS = {"communication": ("history_communication", "occurred_at", False),
         "need": ("history_need", "created_at", False),
         "opportunity": ("history_opportunity", "created_at", False),
         "order": ("history_order", "ordered_on", True),
         "survey": ("history_survey", "answered_on", True),
         "ticket": ("history_ticket", "opened_at", False)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-dir", default=str(ROOT / "var/bench/sqlite-c1000000-s1"))
    parser.add_argument("--entries", type=int, default=5000)
    parser.add_argument("--rounds", type=int, default=30)
    args = parser.parse_args(argv)
    setup(Path(args.data_dir))
    from django.db import connection, transaction

    from kehu.accounts.models import User
    from kehu.customers.models import Customer

    customers = Customer.objects.count()
    vendor = "pg" if connection.vendor == "postgresql" else "sqlite"
    rep = User.objects.get(username=REP)
    with transaction.atomic():
        customer = Customer.objects.filter(owner=rep, deleted_at__isnull=True).order_by("pk").first()
        add_history(rep, customer, args.entries)
        rows = measure(rep, customer, args.rounds)
        transaction.set_rollback(True)
    path = ROOT / "bench" / "results" / f"card-{vendor}-{round(customers / 1000)}k.md"
    report(args, path, vendor, customers, rows)
    print(path.read_text())
    return 0


def setup(data_dir: Path) -> None:
    if not (data_dir / "bench-ready.json").exists():
        sys.exit(f"{data_dir}: no bench database (bench/run.py builds it)")
    os.environ["KEHU_DATA_DIR"] = str(data_dir.resolve())
    os.environ["DJANGO_SETTINGS_MODULE"] = "kehu.config.settings"
    os.environ.setdefault("KEHU_DEBUG", "0")
    sys.path.insert(0, str(ROOT / "src"))
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=0)
    from kehu.core.warm import freeze_after_warm_up

    freeze_after_warm_up()  # as kehu.config.wsgi does in each web process


def add_history(rep, customer, entries: int) -> None:
    from django.utils import timezone

    from kehu.history.models import Communication, Need, Order, Survey, Ticket

    now = timezone.now()
    share = {"communication": 0.5, "order": 0.3, "need": 0.1, "survey": 0.05, "ticket": 0.05}
    n = {kind: int(entries * part) for kind, part in share.items()}
    common = {"customer": customer, "created_by": rep}
    Communication.objects.bulk_create(
        Communication(channel="phone", occurred_at=now - dt.timedelta(hours=3 * i),
                      subject=f"第 {i} 次电话", content="沟通内容" * 20, **common)
        for i in range(n["communication"]))
    Order.objects.bulk_create(
        Order(number=f"BENCH-{customer.pk}-{i:06d}", status="paid", total=Decimal(1000 + i),
              ordered_on=(now - dt.timedelta(days=i % 1000)).date(), **common)
        for i in range(n["order"]))
    Need.objects.bulk_create(Need(content=f"需求 {i}", **common) for i in range(n["need"]))
    Survey.objects.bulk_create(
        Survey(kind="csat", score=1 + i % 5, answered_on=(now - dt.timedelta(days=i)).date(),
               **common) for i in range(n["survey"]))
    Ticket.objects.bulk_create(
        Ticket(kind="complaint", subject=f"投诉 {i}", opened_at=now - dt.timedelta(days=i),
               status="resolved", **common) for i in range(n["ticket"]))


def measure(rep, customer, rounds: int) -> list[tuple[str, list[float], list[float]]]:
    from django.db import connection
    from django.test import Client

    from kehu.accounts.services import token_create

    web = Client()
    web.force_login(rep)
    api = Client(HTTP_AUTHORIZATION=f"Bearer {token_create(user=rep, name='bench')[1]}")
    base = f"/api/v1/customers/{customer.pk}"
    cursor, at = None, None
    for _ in range(40):  # 40 pages of 30: the 41st page's cursor, and its time for raw SQL
        body = api.get(f"{base}/timeline", {"limit": 30, **({"cursor": cursor} if cursor else {})})
        cursor, at = body.json()["next_cursor"], body.json()["items"][-1]["at"]
    before = dt.datetime.fromisoformat(at)
    cur = connection.cursor()
    raw_first = lambda: _raw_timeline(cur, customer.pk, None)  # noqa: E731
    raw_summary = lambda: _raw_summary(cur, customer.pk)  # noqa: E731
    cases: list[tuple[str, Callable[[], object], Callable[[], object]]] = [
        ("card page /customers/<id>/", lambda: web.get(f"/customers/{customer.pk}/"),
         lambda: (_raw_customer(cur, customer.pk), raw_summary(), raw_first())),
        ("history panel (HTMX)", lambda: web.get(f"/history/customers/{customer.pk}/"), raw_first),
        ("API timeline, first page", lambda: api.get(f"{base}/timeline", {"limit": 30}), raw_first),
        ("API timeline, page 41", lambda: api.get(f"{base}/timeline", {"limit": 30, "cursor": cursor}),
         lambda: _raw_timeline(cur, customer.pk, before)),
        ("API summary", lambda: api.get(f"{base}/summary"), raw_summary),
    ]
    return [(label, _times(kehu, rounds, check=True), _times(raw, rounds))
            for label, kehu, raw in cases]


def _times(call: Callable[[], object], rounds: int, *, check: bool = False) -> list[float]:
    times = []
    for _ in range(rounds + 2):  # the first two warm caches
        started = time.perf_counter()
        answer = call()
        times.append((time.perf_counter() - started) * 1000)
        if check and answer.status_code != 200:
            sys.exit(f"HTTP {answer.status_code}")
    return sorted(times[2:])


def _raw_customer(cur, pk: int) -> list:
    cur.execute("SELECT * FROM customers_customer WHERE id = %s", [pk])
    rows = cur.fetchall()
    cur.execute("SELECT * FROM customers_contact WHERE customer_id = %s ORDER BY id", [pk])
    return rows + cur.fetchall()


def _raw_timeline(cur, pk: int, before: dt.datetime | None) -> list:
    """Per kind the newest 31 rows (before the anchor), merged: the page's 30 entries."""
    merged = []
    for table, column, is_date in KINDS.values():
        bound = "" if before is None else f" AND {column} <= %s"
        params = [pk] + ([] if before is None else [before.date() if is_date else before])
        cur.execute(f"SELECT *, {column} FROM {table} WHERE customer_id = %s{bound} "  # noqa: S608
                    f"ORDER BY {column} DESC, id DESC LIMIT 31", params)
        merged += [(str(row[-1]), row) for row in cur.fetchall()]
    return sorted(merged, key=lambda entry: entry[0], reverse=True)[:30]


def _raw_summary(cur, pk: int) -> list:
    statements = [
        "SELECT SUM(total), COUNT(id), MIN(ordered_on), MAX(ordered_on), "
        "COUNT(DISTINCT ordered_on) FROM history_order WHERE customer_id = %s "
        "AND status IN ('confirmed', 'paid')",
        "SELECT MAX(occurred_at) FROM history_communication WHERE customer_id = %s",
        "SELECT COUNT(o.id), SUM(o.amount * s.probability) FROM history_opportunity o "
        "JOIN history_stage s ON s.id = o.stage_id WHERE o.customer_id = %s AND o.status = 'open'",
        "SELECT score FROM history_survey WHERE customer_id = %s AND kind = 'csat' "
        "ORDER BY answered_on DESC, id DESC LIMIT 1",
        "SELECT score FROM history_survey WHERE customer_id = %s AND kind = 'nps' "
        "ORDER BY answered_on DESC, id DESC LIMIT 1",
        "SELECT COUNT(*) FROM history_ticket WHERE customer_id = %s AND kind = 'complaint' "
        "AND status NOT IN ('resolved', 'closed')",
    ]
    found = []
    for sql in statements:
        cur.execute(sql, [pk])
        found += cur.fetchall()
    return found


def _pct(times: list[float], q: float) -> float:
    return times[min(len(times) - 1, int(round(q * (len(times) - 1))))]


def report(args: argparse.Namespace, path: Path, vendor: str, customers: int,
           rows: list[tuple[str, list[float], list[float]]]) -> None:
    lines = [f"# The customer card with {args.entries:,} more timeline entries, "
             f"{customers:,} demo customers, {'PostgreSQL' if vendor == 'pg' else 'SQLite'}", "",
             f"- {time.strftime('%Y-%m-%d %H:%M %Z')}; {os.cpu_count()} cores; load "
             f"{' '.join(f'{x:.2f}' for x in os.getloadavg())} at the end; Python "
             f"{platform.python_version()}",
             f"- `bench/card.py --entries {args.entries} --rounds {args.rounds}`: in process "
             "(Django's test client, no HTTP server), signed in as the rep "
             f"{REP}; {args.rounds} timed requests after 2 warm-ups; ms",
             "- raw: the same rows by hand-written SQL on the same connection in the same run", "",
             "| request | Kehu p50 | p99 | max | raw p50 | p99 | max | p50 × |",
             "|---|---|---|---|---|---|---|---|"]
    for label, kehu, raw in rows:
        lines.append(f"| {label} | {_pct(kehu, .5):.1f} | {_pct(kehu, .99):.1f} | {kehu[-1]:.1f} "
                     f"| {_pct(raw, .5):.1f} | {_pct(raw, .99):.1f} | {raw[-1]:.1f} "
                     f"| {_pct(kehu, .5) / max(_pct(raw, .5), 0.01):.1f} |")
    path.write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    sys.exit(main())
