"""Benchmark classification at 1,000,000 customers: RFM, the full run, one customer, a preview.

    .venv/bin/python bench/classify.py [--backend sqlite|postgres|both]
        [--data-dir var/bench/dedup-c1000000-s1] [--pg-dir var/bench/classify-pg-c1000000]

Reads the dedup bench's database (1,009,971 customers, 9,948,369 orders; `bench/dedup.py`
builds it) and migrates it. PostgreSQL: a server of its own whose data directory stays in
`--pg-dir` (started for the run, stopped after it); on the first run an empty database is
migrated and the customers, orders and what they name (users, departments, roles, tags)
are copied from the SQLite file with COPY, then ANALYZEd. In one run per database:

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
classifies from nothing and then once more.
Results: printed and saved to bench/results/classify-<sqlite|pg>-<thousands>k.md.
"""

from __future__ import annotations

import argparse
import atexit
import datetime as dt
import json
import os
import random
import shutil
import sqlite3
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DATA_DIR = ROOT / "var" / "bench" / "dedup-c1000000-s1"
PG_DIR = ROOT / "var" / "bench" / "classify-pg-c1000000"
# Copied to PostgreSQL: what the customers and orders name, and themselves (the big two
# last). Their foreign keys are not checked during the copy (session_replication_role).
PG_TABLES = ("accounts_department", "accounts_role", "accounts_user", "customers_tag",
             "customers_customer_tags", "customers_customer", "history_order")
# A server for 10,000,000 rows on this machine (23 GB RAM, 2 cores); durability off, as
# the test server runs: the numbers are about the queries, not the disk.
PG_OPTIONS = ("-c fsync=off -c synchronous_commit=off -c full_page_writes=off "
              "-c shared_buffers=2GB -c work_mem=128MB -c maintenance_work_mem=1GB "
              "-c max_wal_size=8GB -c effective_cache_size=8GB")
ONE_CUSTOMER = 50
CAPTURED: dict[str, list[str]] = {}  # the plans of the shipped figures statements' INSERTs


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--backend", choices=("sqlite", "postgres", "both"), default="both")
    parser.add_argument("--data-dir", default=str(DATA_DIR))
    parser.add_argument("--pg-dir", default=str(PG_DIR))
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--skip", default="", help="steps to leave out, e.g. 3,4")
    parser.add_argument("--limit", type=float, default=180,
                        help="seconds before figures_compute() is stopped (SQLite)")
    parser.add_argument("--load-only", action="store_true", help="migrate (and load) only")
    args = parser.parse_args(argv)
    if args.backend == "both":
        for backend in ("sqlite", "postgres"):
            subprocess.run([sys.executable, __file__, *_forward(argv, backend)], check=True)
        return 0
    setup(args)
    if args.load_only:
        return 0
    skip = {int(s) for s in args.skip.split(",") if s.strip()}
    lines = measure(args, skip)
    text = "\n".join(lines) + "\n"
    print(text)
    from kehu.customers.models import Customer

    thousands = int(float(f"{Customer.objects.count():.1g}")) // 1000  # 1,009,971: 1000k
    name = "sqlite" if args.backend == "sqlite" else "pg"
    (ROOT / "bench" / "results" / f"classify-{name}-{thousands}k.md").write_text(text)
    return 0


def _forward(argv: list[str] | None, backend: str) -> list[str]:
    rest = list(sys.argv[1:] if argv is None else argv)
    if "--backend" in rest:
        at = rest.index("--backend")
        del rest[at:at + 2]
    rest = [a for a in rest if not a.startswith("--backend=")]
    return [*rest, "--backend", backend]


# --- the databases -----------------------------------------------------------------------


def setup(args: argparse.Namespace) -> None:
    """Django on the chosen database, migrated (and for PostgreSQL loaded once)."""
    os.environ.update({"KEHU_DATA_DIR": args.data_dir, "KEHU_DEBUG": "0",
                       "DJANGO_SETTINGS_MODULE": "kehu.config.settings",
                       # No refresh jobs from the bench's own writes: it times the work itself.
                       "KEHU_CLASSIFY_DELAY_SECONDS": "0"})
    os.environ.pop("DATABASE_URL", None)
    if args.backend == "postgres":
        os.environ["DATABASE_URL"] = pg_start(Path(args.pg_dir))
    sys.path.insert(0, str(ROOT / "src"))
    import django

    django.setup()
    from django.core.management import call_command

    started = time.monotonic()
    call_command("migrate", interactive=False, verbosity=0)
    print(f"migrated in {time.monotonic() - started:.0f} s", flush=True)
    if args.backend == "postgres":
        pg_load(Path(args.pg_dir), Path(args.data_dir) / "kehu.sqlite3")


def pg_start(base: Path) -> str:
    """The bench's own server on a data directory kept between runs, with its database
    `kehu` (created on the first run); stopped at exit."""
    server = pg_server(base)
    url = f"{server}/kehu"
    import psycopg

    with psycopg.connect(f"{server}/postgres", autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = 'kehu'").fetchone():
            conn.execute("CREATE DATABASE kehu")
    return url


def pg_server(base: Path) -> str:
    """A PostgreSQL server on `base`/data (initialised on the first run, kept after), on a
    free port, stopped when this process exits; its URL without a database name."""
    from kehu.core.testing.pgserver import _free_port, _pg_bin, _run, _run_as, _wait_for

    bin_dir, as_user = _pg_bin(), _run_as()
    data, sock = base / "data", base / "sock"
    sock.mkdir(parents=True, exist_ok=True)
    if as_user:
        shutil.chown(base, as_user)
        shutil.chown(sock, as_user)
    fresh = not (data / "PG_VERSION").exists()
    if fresh:
        _run(as_user, [str(bin_dir / "initdb"), "-D", str(data), "-U", "postgres", "-A", "trust",
                       "-E", "UTF8", "--locale=C.UTF-8", "--no-sync"])
    port = _free_port()
    _run(as_user, [str(bin_dir / "pg_ctl"), "-D", str(data), "-o",
                   f"-p {port} -k {sock} {PG_OPTIONS}", "-w", "-s", "-t", "300",
                   "-l", str(base / "server.log"), "start"])
    atexit.register(_run, as_user, [str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "fast",
                                    "-s", "stop"], False)
    _wait_for(port)
    return f"postgresql://postgres@127.0.0.1:{port}"


def pg_load(base: Path, source: Path) -> None:
    """Copy the customers, orders and what they name from the SQLite file, once."""
    marker = base / "loaded.json"
    if marker.exists():
        return
    import psycopg

    source_db = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    counts: dict[str, int] = {}
    started = time.monotonic()
    with psycopg.connect(os.environ["DATABASE_URL"], autocommit=True) as conn:
        conn.execute("SET session_replication_role = replica")  # no FK triggers while loading
        conn.execute("SET TimeZone = 'UTC'")  # SQLite holds naive UTC date-times
        for table in PG_TABLES:
            counts[table] = _pg_copy(conn, source_db, table)
            print(f"  {table}: {counts[table]:,} rows, {time.monotonic() - started:.0f} s",
                  flush=True)
        conn.execute("VACUUM ANALYZE")
    seconds = round(time.monotonic() - started)
    print(f"loaded and analyzed in {seconds} s", flush=True)
    marker.write_text(json.dumps({"rows": counts, "seconds": seconds}))


def _pg_copy(conn: Any, source_db: sqlite3.Connection, table: str) -> int:
    """One table: its plain indexes dropped, the rows streamed with COPY, the indexes
    built again (one sort each instead of 10,000,000 inserts into each)."""
    pg_columns = [r[0] for r in conn.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_name = %s "
        "ORDER BY ordinal_position", [table])]
    sqlite_columns = {r[1] for r in source_db.execute(f'PRAGMA table_info("{table}")')}
    columns = [c for c in pg_columns if c in sqlite_columns]
    indexes = conn.execute("""
        SELECT i.relname, pg_get_indexdef(i.oid) FROM pg_index x
        JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_class t ON t.oid = x.indrelid
        WHERE t.relname = %s AND NOT EXISTS (SELECT 1 FROM pg_constraint c
                                             WHERE c.conindid = i.oid)""", [table]).fetchall()
    conn.execute(f"DELETE FROM {table}")  # what migrate put there (the system user)
    for name, _definition in indexes:
        conn.execute(f'DROP INDEX "{name}"')
    names = ", ".join(f'"{c}"' for c in columns)
    rows = source_db.execute(f'SELECT {names} FROM "{table}"')
    n = 0
    with conn.cursor() as cursor, cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
        while batch := rows.fetchmany(10_000):
            for row in batch:
                copy.write_row(row)
            n += len(batch)
    for _name, definition in indexes:
        conn.execute(definition)
    if "id" in columns:
        conn.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                     f"COALESCE((SELECT MAX(id) FROM {table}), 1))")
    return n


# --- the measurements ----------------------------------------------------------------------


def measure(args: argparse.Namespace, skip: set[int]) -> list[str]:
    from django.db import connection

    from kehu.customers.models import Customer
    from kehu.history.models import Order

    database = _database_name(connection)
    lines = [f"# Classification at {Customer.objects.count():,} customers, "
             f"{Order.objects.count():,} orders ({database}, {time.strftime('%Y-%m-%d')})", "",
             f"Command: `.venv/bin/python bench/classify.py {' '.join(sys.argv[1:])}`. "
             f"Load average at the start: {os.getloadavg()[0]:.2f} (2 cores, shared).", ""]
    bare = bare_aggregate()
    lines += bare["lines"]
    computed = figures(bare["warm"], args.limit)
    lines += computed["lines"]
    if 3 not in skip:
        lines += full_run()
    if 4 not in skip:
        lines += one_customer(args.seed)
    if 5 not in skip:
        lines += previews()
    lines += plans(connection)
    lines += [f"Load average at the end: {os.getloadavg()[0]:.2f}.", ""]
    return lines


def _database_name(connection: Any) -> str:
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SHOW server_version")
            return f"PostgreSQL {cursor.fetchone()[0]}: {PG_OPTIONS.replace('-c ', '')}"
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
