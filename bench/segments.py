"""Benchmark counting a segment's members at 1,000,000 customers (the condition language).

    .venv/bin/python bench/segments.py [--data-dir var/bench/dedup-c1000000-s1]
    .venv/bin/python bench/pg.py -- bench/segments.py --data-dir {data_dir}     # PostgreSQL

Counts two conditions — 华东 + 制造业 (plain columns) and the same + spent ≥ ¥100,000 (a
history figure, an aggregate over the orders) — as the admin (everyone in scope) and as
one sales rep, twice each (cold, then warm), through `CustomerFilters` on the gate's
queryset, as the list, the API, exports and segment counts do; after each, on the same
connection, a hand-written COUNT of the same condition (the rep: the customers she owns;
her scope may hold shared ones too, so both counts are shown). Uses the data directory's
SQLite database, or the PostgreSQL one DATABASE_URL names (bench/pg.py's copy of
bench/run.py's demo database). Only reads. Prints the counts and times and saves them to
bench/results/segments-<sqlite|pg>-<thousands>k.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PLAIN = {"all": [{"field": "province", "op": "in", "value": ["浙江省", "江苏省", "上海市"]},
                 {"field": "industry", "op": "in", "value": ["manufacturing"]}]}
SPENT = {"all": [*PLAIN["all"], {"field": "total_spent", "op": "gte", "value": "100000"}]}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-dir", default=str(ROOT / "var/bench/dedup-c1000000-s1"))
    args = parser.parse_args()
    os.environ["KEHU_DATA_DIR"] = args.data_dir
    os.environ["DJANGO_SETTINGS_MODULE"] = "kehu.config.settings"
    if not os.environ.get("DATABASE_URL", "").startswith(("postgres://", "postgresql://")):
        os.environ.pop("DATABASE_URL", None)
    sys.path.insert(0, str(ROOT / "src"))
    load_start = os.getloadavg()
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from kehu.accounts.models import User
    from kehu.customers.filters import CustomerFilters
    from kehu.customers.models import Customer
    from kehu.customers.selectors import customers_visible

    call_command("migrate", interactive=False, verbosity=0)
    vendor = "pg" if connection.vendor == "postgresql" else "sqlite"
    people = [User.objects.get(username="admin"), User.objects.filter(role__code="sales").first()]
    rows = []
    for run in ("cold", "warm"):
        for label, condition in (("华东+制造业", PLAIN), ("华东+制造业+消费≥10万", SPENT)):
            for viewer in people:
                filters = CustomerFilters.from_params({"filter": json.dumps(condition)})
                started = time.perf_counter()
                count = filters.apply(customers_visible(viewer=viewer), viewer=viewer).count()
                seconds = time.perf_counter() - started
                started = time.perf_counter()
                raw = raw_count(connection, condition is SPENT,
                                None if viewer.is_superuser or viewer.username == "admin"
                                else viewer.pk)
                raw_seconds = time.perf_counter() - started
                rows.append((run, label, viewer.username, count, seconds, raw, raw_seconds))
                print(f"{run}\t{label}\t{viewer.username}\t{count:,}\t{seconds:.2f} s\t"
                      f"raw {raw:,}\t{raw_seconds:.2f} s", flush=True)
    customers = Customer.objects.count()
    command = ("bench/pg.py -- bench/segments.py --data-dir {data_dir}" if vendor == "pg"
               else f"bench/segments.py --data-dir {args.data_dir}")
    lines = [f"# Counting a segment, {customers:,} customers, "
             f"{'PostgreSQL' if vendor == 'pg' else 'SQLite'}", "",
             f"- {time.strftime('%Y-%m-%d %H:%M %Z')}; {os.cpu_count()} cores; load "
             f"{' '.join(f'{x:.2f}' for x in load_start)} at the start, "
             f"{' '.join(f'{x:.2f}' for x in os.getloadavg())} at the end; Python "
             f"{platform.python_version()}",
             f"- `.venv/bin/python {command}`: `CustomerFilters` on the gate's queryset, "
             "counted, in process; cold then warm; raw: a hand-written COUNT of the same "
             "condition on the same connection right after (the rep: her own customers)", "",
             "| run | condition | viewer | customers | seconds | raw customers | raw seconds |"
             " Kehu ÷ raw |", "|---|---|---|---|---|---|---|---|",
             *[f"| {run} | {label} | {name} | {count:,} | {seconds:.2f} | {raw:,} | "
               f"{raw_seconds:.2f} | {seconds / max(raw_seconds, 0.001):.1f}× |"
               for run, label, name, count, seconds, raw, raw_seconds in rows], ""]
    path = ROOT / "bench" / "results" / f"segments-{vendor}-{round(customers / 1000)}k.md"
    path.write_text("\n".join(lines))
    print(path)
    return 0


def raw_count(connection, spent: bool, owner: int | None) -> int:
    """The condition by hand: live customers of 浙江/江苏/上海 in manufacturing (of one owner),
    with the spending orders' total ≥ 100,000 for `spent`."""
    from kehu.history.choices import SPENDING_STATUSES

    sql = ("SELECT COUNT(*) FROM customers_customer WHERE deleted_at IS NULL "
           "AND province IN (%s, %s, %s) AND industry = %s")
    params: list = [*PLAIN["all"][0]["value"], "manufacturing"]
    if owner is not None:
        sql += " AND owner_id = %s"
        params.append(owner)
    if spent:
        marks = ", ".join(["%s"] * len(SPENDING_STATUSES))
        sql += (" AND id IN (SELECT customer_id FROM history_order WHERE status IN "
                f"({marks}) GROUP BY customer_id HAVING SUM(total) >= 100000)")
        params += [str(status) for status in SPENDING_STATUSES]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchone()[0]


if __name__ == "__main__":
    sys.exit(main())
