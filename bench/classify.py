"""Benchmark classification at 1,000,000 customers: RFM, the full run, one customer, a preview.

    .venv/bin/python bench/classify.py [--backend sqlite|both] [--skip 3,5]
        [--data-dir var/bench/sqlite-c1000000-s1]
    .venv/bin/python bench/pg.py -- bench/classify.py --backend postgres --data-dir {data_dir}

Runs on bench/run.py's demo database (1,000,000 customers, ~10,000,000 orders) and migrates
it; on PostgreSQL on bench/pg.py's server and its copy of the same database (`both` runs
the SQLite one, then the PostgreSQL one through bench/pg.py). In one run per database:

1. the bare aggregate (`bare_aggregate_sql()`: GROUP BY customer and the three NTILEs,
   every row fetched), twice — the baseline;
2. `figures_compute()` (the same aggregate, the share and the segment, written to the
   figures table; twice when it finishes), its ratio to the second bare run (target ≤ 1.6×, ≤ 15 s);
3. the full classification (`classification.run` in the foreground) twice: the second
   run should change nothing;
4. one customer's re-classification after a new paid order (`classify_customers([id])`
   in its own transaction) for 50 customers: p50 / p99 (target ≤ 50 ms); the orders are
   deleted and the customers re-classified afterwards, so the database stays as it was;
5. a preview of the value tier's rules over every customer, as the admin (target ≤ 2 s)
   and as a sales rep.
Step 3 first deletes every class and class change (this database only), so each run
classifies from nothing and then once more. `--skip 1` leaves out steps 1 and 2.
Results: printed and saved to bench/results/classify-<sqlite|pg>-<thousands>k.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DATA_DIR = ROOT / "var" / "bench" / "sqlite-c1000000-s1"  # bench/run.py's demo database
ONE_CUSTOMER = 50
CAPTURED: dict[str, list[str]] = {}  # the plans of the shipped figures statements' INSERTs


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--backend", choices=("sqlite", "postgres", "both"), default="both")
    parser.add_argument("--data-dir", default=str(DATA_DIR))
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--skip", default="", help="steps to leave out, e.g. 3,4")
    parser.add_argument("--limit", type=float, default=180,
                        help="seconds before figures_compute() is stopped (SQLite)")
    args = parser.parse_args(argv)
    if args.backend == "both":
        both(__file__, args)
        return 0
    setup(args)
    skip = {int(s) for s in args.skip.split(",") if s.strip()}
    lines = measure(args, skip)
    text = "\n".join(lines) + "\n"
    print(text)
    from kehu.customers.models import Customer

    thousands = int(float(f"{Customer.objects.count():.1g}")) // 1000  # 1,009,971: 1000k
    name = "sqlite" if args.backend == "sqlite" else "pg"
    (ROOT / "bench" / "results" / f"classify-{name}-{thousands}k.md").write_text(text)
    return 0


def both(script: str, args: argparse.Namespace) -> None:
    """`script` on SQLite (the data directory given), then on bench/pg.py's PostgreSQL copy
    of bench/run.py's demo database."""
    same = [f"--{name.replace('_', '-')}={value}" for name, value in vars(args).items()
            if name not in ("backend", "data_dir")]
    subprocess.run([sys.executable, script, "--backend", "sqlite", "--data-dir", args.data_dir,
                    *same], check=True)
    subprocess.run([sys.executable, str(ROOT / "bench" / "pg.py"), "--", script, "--backend",
                    "postgres", "--data-dir", "{data_dir}", *same], check=True)


# --- the databases -----------------------------------------------------------------------


def setup(args: argparse.Namespace) -> None:
    """Django on the chosen database, migrated."""
    os.environ.update({"KEHU_DATA_DIR": args.data_dir, "KEHU_DEBUG": "0",
                       "DJANGO_SETTINGS_MODULE": "kehu.config.settings",
                       # No refresh jobs from the bench's own writes: it times the work itself.
                       "KEHU_CLASSIFY_DELAY_SECONDS": "0"})
    if args.backend == "postgres" and not os.environ.get("DATABASE_URL", "").startswith("postgres"):
        sys.exit("on PostgreSQL through bench/pg.py: bench/pg.py -- bench/classify.py "
                 "--backend postgres --data-dir {data_dir}")
    if args.backend == "sqlite":
        os.environ.pop("DATABASE_URL", None)
    sys.path.insert(0, str(ROOT / "src"))
    import django

    django.setup()
    from django.core.management import call_command

    started = time.monotonic()
    call_command("migrate", interactive=False, verbosity=0)
    print(f"migrated in {time.monotonic() - started:.0f} s", flush=True)


# --- the measurements ----------------------------------------------------------------------


def measure(args: argparse.Namespace, skip: set[int]) -> list[str]:
    from django.db import connection

    from kehu.customers.models import Customer
    from kehu.history.models import Order

    database = database_name(connection)
    lines = [f"# Classification at {Customer.objects.count():,} customers, "
             f"{Order.objects.count():,} orders ({database}, {time.strftime('%Y-%m-%d')})", "",
             f"Command: `.venv/bin/python bench/classify.py {' '.join(sys.argv[1:])}`. "
             f"Load average at the start: {os.getloadavg()[0]:.2f} (2 cores, shared).", ""]
    if 1 not in skip:
        bare = bare_aggregate()
        lines += bare["lines"]
        lines += figures(bare["warm"], args.limit)["lines"]
    if 3 not in skip:
        lines += full_run()
    if 4 not in skip:
        lines += one_customer(args.seed)
    if 5 not in skip:
        lines += previews()
    lines += plans(connection)
    lines += [f"Load average at the end: {os.getloadavg()[0]:.2f}.", ""]
    return lines


def database_name(connection: Any) -> str:
    """The database's name and version, and on PostgreSQL the settings that matter."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT version(), string_agg(name || '=' || setting || COALESCE(unit, ''),"
                           " ' ' ORDER BY name) FROM pg_settings WHERE name IN ('fsync', "
                           "'shared_buffers', 'work_mem', 'max_parallel_workers_per_gather')")
            version, settings = cursor.fetchone()
            return f"{version.split(' on ')[0]}: {settings}"
        cursor.execute("SELECT sqlite_version()")
        return f"SQLite {cursor.fetchone()[0]}"


def _window_start() -> dt.date:
    from django.utils import timezone

    from kehu.classification.figures import scheme, window_start

    return window_start(timezone.localdate(), scheme().rfm_window_days)


def bare_aggregate() -> dict[str, Any]:
    from django.db import connection

    from kehu.classification.figures import aggregate_params, bare_aggregate_sql

    sql, params = bare_aggregate_sql(), aggregate_params(_window_start())
    seconds, rows = [], 0
    for _run in range(2):
        started = time.perf_counter()
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            rows = len(cursor.fetchall())
        seconds.append(time.perf_counter() - started)
        print(f"bare aggregate: {rows:,} rows in {seconds[-1]:.1f} s", flush=True)
    return {"warm": seconds[1], "lines": [
        "## 1. The bare aggregate (baseline)", "",
        "`bare_aggregate_sql()` with `aggregate_params(window start)`: GROUP BY customer over "
        "the spending orders and NTILE(5) for R, F and M, every row fetched.", "",
        "| run | rows | seconds |", "|---|---|---|",
        f"| first | {rows:,} | {seconds[0]:.1f} |", f"| second | {rows:,} | {seconds[1]:.1f} |",
        ""]}


def figures(bare_warm: float, limit: float) -> dict[str, Any]:
    """figures_compute() as shipped, twice; stopped after `limit` seconds (SQLite:
    interrupt; the transaction rolls back)."""
    from django.db import connection

    from kehu.classification.figures import figures_compute

    def capture(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        # Explained where it runs: the INSERTs read temporary tables of the transaction.
        words = sql.split()
        if words[:2] == ["INSERT", "INTO"] and words[2] not in CAPTURED:
            execute(_explain(connection) + sql, params, many, context)
            CAPTURED[words[2]] = _plan_text(connection, context["cursor"].fetchall())
        return execute(sql, params, many, context)

    with connection.execute_wrapper(capture):
        seconds, scored = _limited(figures_compute, limit)
    lines = ["## 2. figures_compute() (RFM for every customer, written)", ""]
    if scored is not None:  # a second time: the first one pays for the cold figures table
        first = seconds
        seconds, scored = _limited(figures_compute, limit)
        lines += [f"First run {first:.1f} s, second {seconds:.1f} s (the ratio is the "
                  "second's).", ""]
    if scored is None:
        print(f"figures_compute: stopped after {seconds:.0f} s", flush=True)
        lines += [f"**Did not finish: stopped after {seconds:.0f} s** (target ≤ 1.6× of the "
                  "bare run and ≤ 15 s: MISSED).", ""]
    else:
        ratio = seconds / bare_warm
        print(f"figures_compute: {scored:,} scored in {seconds:.1f} s ({ratio:.2f}×)", flush=True)
        verdict = "met" if ratio <= 1.6 and seconds <= 15 else "MISSED"
        lines += [f"{seconds:.1f} s, {scored:,} customers scored; {ratio:.2f}× the second bare "
                  f"run (target ≤ 1.6× and ≤ 15 s: {verdict}).", ""]
    return {"lines": lines, "shipped_ok": scored is not None}


def _limited(work: Any, limit: float) -> tuple[float, Any]:
    """Run `work()`, stopped after `limit` seconds (SQLite: interrupt(); PostgreSQL:
    statement_timeout); None as its result then."""
    import threading

    from django.db import OperationalError, connection

    connection.ensure_connection()
    timer = None
    if connection.vendor == "sqlite":
        timer = threading.Timer(limit, connection.connection.interrupt)
        timer.start()
    else:
        with connection.cursor() as cursor:
            cursor.execute(f"SET statement_timeout = {int(limit * 1000)}")
    started = time.perf_counter()
    try:
        result = work()
    except OperationalError as exc:
        if "interrupt" not in str(exc) and "statement timeout" not in str(exc):
            raise
        result = None
    finally:
        if timer:
            timer.cancel()
        else:
            with connection.cursor() as cursor:
                cursor.execute("RESET statement_timeout")
    return time.perf_counter() - started, result


def full_run() -> list[str]:
    from kehu.accounts.services import system_actor
    from kehu.jobs.services import run_in_foreground

    lines = ["## 3. The full classification (`classification.run` in the foreground)", ""]
    started = time.perf_counter()
    cleared = _clear_classes()
    lines += [f"Before the first run every class and change row was deleted ({cleared:,} rows, "
              f"{time.perf_counter() - started:.0f} s), so it classifies from nothing; the "
              "second finds nothing to change.", "",
              "| run | seconds | status | result |", "|---|---|---|---|"]
    for label in ("first", "second"):
        started = time.perf_counter()
        job = run_in_foreground(actor=system_actor(), origin="system",
                                kind="classification.run", params={})
        seconds = time.perf_counter() - started
        result = json.dumps(job.result, ensure_ascii=False)
        print(f"classification.run ({label}): {seconds:.1f} s, {job.status}, {result}",
              flush=True)
        lines.append(f"| {label} | {seconds:.1f} | {job.status} | {result} |")
    return [*lines, ""]


def _clear_classes() -> int:
    """The bench database's classes and their history, so every run starts the same."""
    from django.db import connection, transaction

    from kehu.classification.models import ClassChange, CustomerClass

    n = 0
    with transaction.atomic(), connection.cursor() as cursor:
        for model in (ClassChange, CustomerClass):
            cursor.execute(f"DELETE FROM {model._meta.db_table}")
            n += cursor.rowcount
    return n


def one_customer(seed: int) -> list[str]:
    from django.db import transaction
    from django.utils import timezone

    from kehu.classification.services import classify_customers
    from kehu.customers.models import Customer
    from kehu.history.models import Order

    rng = random.Random(seed)
    top = Customer.objects.order_by("-pk").values_list("pk", flat=True).first()
    ids: list[int] = []
    while len(ids) < ONE_CUSTOMER:
        pk = Customer.objects.filter(pk__gte=rng.randrange(1, top), deleted_at__isnull=True) \
            .order_by("pk").values_list("pk", flat=True).first()
        if pk and pk not in ids:
            ids.append(pk)
    today, timings, changed = timezone.localdate(), [], 0
    numbers = []
    for n, pk in enumerate(ids):
        number = f"BENCH-CLASSIFY-{pk}-{n}"
        Order.objects.create(customer_id=pk, number=number, ordered_on=today, status="paid",
                             total=rng.choice((500, 20_000, 400_000)), origin="system")
        numbers.append(number)
        started = time.perf_counter()
        with transaction.atomic():
            counts = classify_customers([pk])
        timings.append((time.perf_counter() - started) * 1000)
        changed += sum(counts.values())
    Order.objects.filter(number__in=numbers).delete()
    with transaction.atomic():
        classify_customers(ids)  # back to where they were
    p50, p99 = pct(timings, 50), pct(timings, 99)
    print(f"one customer: p50 {p50:.1f} ms, p99 {p99:.1f} ms, {changed} changes", flush=True)
    verdict = "met" if p99 <= 50 else "MISSED"
    return ["## 4. One customer after a new paid order (`classify_customers([id])`)", "",
            f"{ONE_CUSTOMER} random customers, one paid order each (¥500, ¥20,000 or "
            "¥400,000, today), then the figures refresh and every dimension's rules for that "
            "customer, in its own transaction (commit included).", "",
            "| p50 ms | p99 ms | max ms | dimension changes |", "|---|---|---|---|",
            f"| {p50:.1f} | {p99:.1f} | {max(timings):.1f} | {changed} |", "",
            f"Target ≤ 50 ms: {verdict}.", ""]


def previews() -> list[str]:
    from kehu.accounts.models import User
    from kehu.classification import engine
    from kehu.classification.models import Dimension

    people = [("admin", User.objects.get(username="admin")),
              ("sales rep", User.objects.filter(role__code="sales", is_active=True)
               .order_by("pk").first())]
    lines = ["## 5. A rule preview over every customer (`engine.preview`)", "",
             "The dimension's active rules as they stand (what the rule form previews), over "
             "the customers the viewer may see.", "",
             "| dimension | viewer | seconds | customers | would change |",
             "|---|---|---|---|---|"]
    for dimension in Dimension.objects.filter(is_active=True).order_by("position", "pk"):
        rules = engine.active_rules(dimension)
        for label, viewer in people:
            started = time.perf_counter()
            plan = engine.preview(viewer=viewer, dimension=dimension, rules=rules, actor=None)
            seconds = time.perf_counter() - started
            seen = plan.changed + plan.unchanged + plan.manual
            print(f"preview {dimension.key} as {viewer.username}: {seconds:.2f} s, "
                  f"{seen:,} customers, {plan.changed:,} would change", flush=True)
            lines.append(f"| {dimension.key} | {label} ({viewer.username}) | {seconds:.2f} | "
                         f"{seen:,} | {plan.changed:,} |")
    return [*lines, "", "Target ≤ 2 s for the admin.", ""]


def plans(connection: Any) -> list[str]:
    """The query plans of the bare aggregate and of the figures statement (not run)."""
    from kehu.classification.figures import aggregate_params, bare_aggregate_sql

    with connection.cursor() as cursor:
        cursor.execute(_explain(connection) + bare_aggregate_sql(),
                       aggregate_params(_window_start()))
        plans = {"the bare aggregate": _plan_text(connection, cursor.fetchall()),
                 **{f"figures_compute()'s INSERT INTO {table}": plan
                    for table, plan in CAPTURED.items()}}
    lines = []
    for label, text in plans.items():
        if text is not None:
            lines += [f"## Query plan of {label}", "", "```", *text, "```", ""]
    return lines


def _explain(connection: Any) -> str:
    return "EXPLAIN QUERY PLAN " if connection.vendor == "sqlite" else "EXPLAIN "


def _plan_text(connection: Any, rows: list[tuple]) -> list[str]:
    return [row[-1] if connection.vendor == "sqlite" else row[0] for row in rows]


def pct(values: list[float], q: int) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1] if q < 100 else max(values)


if __name__ == "__main__":
    sys.exit(main())
