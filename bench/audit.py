"""What recording an audit entry adds to a request: the customer card, N times with the
audit entry and N times without (interleaved, so drift hits both alike), against the
chained insert alone and a raw INSERT of the same row.

    .venv/bin/python bench/audit.py [--requests 400] [--db sqlite|postgres]

A throwaway database under var/bench/audit/ (SQLite, WAL, IMMEDIATE transactions like the
app's) or a throwaway PostgreSQL server (the test suite's: fsync off, so commits are
cheaper than on a real server's disk). In process through Django's test client, signed in
as a sales rep viewing her own customer. Prints p50 / p90 / p99 in ms and writes
bench/results/audit-<db>.md.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=400)
    parser.add_argument("--db", choices=("sqlite", "postgres"), default="sqlite")
    args = parser.parse_args()
    data_dir = ROOT / "var" / "bench" / f"audit-{args.db}"
    shutil.rmtree(data_dir, ignore_errors=True)
    data_dir.mkdir(parents=True)
    os.environ["KEHU_DATA_DIR"] = str(data_dir)
    os.environ["DJANGO_SETTINGS_MODULE"] = "kehu.config.settings"
    os.environ.pop("DATABASE_URL", None)
    if args.db == "postgres":
        os.environ["DATABASE_URL"] = _postgres()
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=0)
    report = measure(args.requests)
    text = render(args, report)
    print(text)
    (ROOT / "bench" / "results" / f"audit-{args.db}.md").write_text(text, encoding="utf-8")


def _postgres() -> str:
    """A throwaway server (stopped at exit) with an empty database `kehu`."""
    sys.path.insert(0, str(ROOT / "src"))
    from kehu.core.testing.pgserver import start_server_with_database

    return start_server_with_database()


def measure(n: int) -> dict[str, list[float]]:
    from unittest import mock

    from django.db import connection
    from django.test import Client
    from django.urls import reverse

    from kehu.accounts.services import department_path, user_create
    from kehu.audit import services as audit
    from kehu.audit.models import Action
    from kehu.customers.services import customer_create

    rep, _ = user_create(username="rep", role_code="sales", department=department_path("总部"))
    customer = customer_create(actor=rep, origin="demo", data={
        "kind": "company", "name": "杭州西湖茶业有限公司", "phones": ["13812345678"]})
    client = Client(HTTP_USER_AGENT="bench/1.0")
    client.force_login(rep)
    url = reverse("customers:detail", args=[customer.pk])
    real = audit.record
    times: dict[str, list[float]] = {"card, recorded": [], "card, not recorded": [],
                                      "audit.record alone": [], "raw INSERT alone": []}

    def card(record) -> float:
        with mock.patch.object(audit, "record", record):
            start = time.perf_counter()
            assert client.get(url).status_code == 200
            return time.perf_counter() - start

    for _ in range(20):  # warm caches, templates, connections
        card(real)
        card(lambda *a, **k: None)
    for _ in range(n):
        times["card, recorded"].append(card(real))
        times["card, not recorded"].append(card(lambda *a, **k: None))
    for _ in range(n):
        start = time.perf_counter()
        real(rep, Action.VIEWED, customer_id=customer.pk, label=customer.name)
        times["audit.record alone"].append(time.perf_counter() - start)
        start = time.perf_counter()
        with connection.cursor() as cursor:  # the row alone: no chain, no head, autocommit
            cursor.execute(
                "INSERT INTO audit_auditentry (at, actor_id, actor_name, action, customer_id, "
                "label, details, ip, user_agent, digest) VALUES (%s, %s, %s, %s, %s, %s, %s, "
                "%s, %s, %s)", [audit.chain.now(), rep.pk, "rep", "viewed", customer.pk,
                                customer.name, "{}", "127.0.0.1", "bench/1.0", "0" * 64])
        times["raw INSERT alone"].append(time.perf_counter() - start)
    return times


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


def render(args, report: dict[str, list[float]]) -> str:
    from django.db import connection

    lines = [f"# Audit cost per request — {connection.vendor}, {args.requests} requests each",
             "", f"`.venv/bin/python bench/audit.py --requests {args.requests} --db {args.db}`",
             "", "| what | p50 ms | p90 ms | p99 ms |", "|---|---:|---:|---:|"]
    for name, values in report.items():
        lines.append(f"| {name} | {statistics.median(values) * 1000:.2f} | "
                     f"{_pct(values, 0.9):.2f} | {_pct(values, 0.99):.2f} |")
    added = (statistics.median(report["card, recorded"])
             - statistics.median(report["card, not recorded"])) * 1000
    lines += ["", f"Added p50 per recorded request: **{added:.2f} ms** "
              f"(card p50 {statistics.median(report['card, not recorded']) * 1000:.2f} ms without).",
              ""]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
