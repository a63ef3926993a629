"""What django-prometheus's middlewares add to a request: the customer list API, p50.

    .venv/bin/python bench/metrics.py [--customers 200] [--rounds 1000]
    .venv/bin/python bench/pg.py -- bench/metrics.py --data-dir {data_dir}     # PostgreSQL

Builds a throwaway SQLite database under var/bench/metrics/ with that many customers of one
sales rep, then calls GET /api/v1/customers (a page of 50) in process through Django's test
client, alternating a client whose middleware includes the two Prometheus middlewares with
one whose middleware does not (so drift hits both alike). prometheus_client runs in
multiprocess mode, as under `kehu serve` (every increment is a write to a memory-mapped
file). Prints both medians and the difference in ms, and saves them to
bench/results/metrics-sqlite.md.

On PostgreSQL (DATABASE_URL set, as bench/pg.py sets it, and `--data-dir` its data
directory) there is no throwaway database: the rep and the customers are created in
bench/pg.py's copy of bench/run.py's demo database, inside one transaction rolled back at
the end (so the rep's list is a page of a 1,000,000-customer table). Results:
bench/results/metrics-pg-<thousands>k.md.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import platform
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=1000)
    parser.add_argument("--data-dir", default=None,
                        help="on PostgreSQL: bench/pg.py's data directory ({data_dir})")
    args = parser.parse_args()
    postgres = os.environ.get("DATABASE_URL", "").startswith(("postgres://", "postgresql://"))
    if postgres and not args.data_dir:
        raise SystemExit("on PostgreSQL: bench/pg.py -- bench/metrics.py --data-dir {data_dir}")
    if postgres:
        data_dir = Path(args.data_dir).resolve()
    else:
        os.environ.pop("DATABASE_URL", None)
        data_dir = ROOT / "var" / "bench" / "metrics"
        shutil.rmtree(data_dir, ignore_errors=True)
        data_dir.mkdir(parents=True)
    metrics_dir = tempfile.mkdtemp(prefix="kehu-bench-metrics-")
    os.environ.update({"KEHU_DATA_DIR": str(data_dir), "PROMETHEUS_MULTIPROC_DIR": metrics_dir,
                       "DJANGO_SETTINGS_MODULE": "kehu.config.settings", "KEHU_DEBUG": "0",
                       "KEHU_API_RATE_PER_TOKEN": "off", "KEHU_API_RATE_PER_ADDRESS": "off"})
    load_start = os.getloadavg()
    import django

    django.setup()
    from as_found import files_as_found
    from django.core.management import call_command
    from django.db import transaction

    from kehu.customers.models import Customer

    call_command("migrate", interactive=False, verbosity=0)
    try:  # on SQLite the database is thrown away instead, and nothing wraps the requests
        with files_as_found() if postgres else contextlib.nullcontext(), \
                transaction.atomic() if postgres else contextlib.nullcontext():
            table = Customer.objects.count()
            medians = measure(build(args.customers), args.rounds)
            if postgres:
                transaction.set_rollback(True)
    finally:
        shutil.rmtree(metrics_dir, ignore_errors=True)
    report(args, postgres, table, load_start, medians)


def build(customers: int) -> str:
    from kehu.accounts.services import department_path, token_create, user_create
    from kehu.customers.services import customer_create

    rep, _ = user_create(username="bench.metrics", role_code="sales",
                         department=department_path("总部"))
    for n in range(customers):
        customer_create(actor=rep, origin="demo", data={"kind": "company",
                                                        "name": f"基准客户{n:04d}有限公司"})
    return token_create(user=rep, name="bench")[1]


def measure(token: str, rounds: int) -> tuple[float, float]:
    from django.conf import settings
    from django.test import Client, override_settings

    plain = [m for m in settings.MIDDLEWARE if not m.startswith("django_prometheus")]
    counted = [plain[0], "django_prometheus.middleware.PrometheusBeforeMiddleware", *plain[1:],
               "django_prometheus.middleware.PrometheusAfterMiddleware"]
    clients = {}
    for name, middleware in (("without", plain), ("with", counted)):
        with override_settings(MIDDLEWARE=middleware):
            clients[name] = Client(HTTP_AUTHORIZATION=f"Bearer {token}")
            for _ in range(20):  # load the middleware chain, warm caches
                assert clients[name].get("/api/v1/customers").status_code == 200
    times: dict[str, list[float]] = {"without": [], "with": []}
    for _ in range(rounds):
        for name, client in clients.items():
            start = time.perf_counter()
            client.get("/api/v1/customers")
            times[name].append((time.perf_counter() - start) * 1000)
    without, with_ = (statistics.median(times[n]) for n in ("without", "with"))
    print(f"GET /api/v1/customers, {rounds} calls each, p50: without {without:.3f} ms, "
          f"with django-prometheus {with_:.3f} ms, added {with_ - without:+.3f} ms")
    return without, with_


def report(args: argparse.Namespace, postgres: bool, table: int,
           load_start: tuple[float, ...], medians: tuple[float, float]) -> None:
    without, with_ = medians
    where = (f"PostgreSQL, bench/pg.py's copy of the demo database ({table:,} customers; the "
             "rep and hers created in a transaction rolled back at the end)" if postgres
             else "SQLite, a throwaway database of the rep's customers only")
    command = ("bench/pg.py -- bench/metrics.py --data-dir {data_dir}" if postgres
               else "bench/metrics.py")
    lines = [f"# django-prometheus's middlewares on the customer list API, "
             f"{'PostgreSQL' if postgres else 'SQLite'}", "",
             f"- {time.strftime('%Y-%m-%d %H:%M %Z')}; {os.cpu_count()} cores; load "
             f"{' '.join(f'{x:.2f}' for x in load_start)} at the start, "
             f"{' '.join(f'{x:.2f}' for x in os.getloadavg())} at the end; Python "
             f"{platform.python_version()}",
             f"- `.venv/bin/python {command} --customers {args.customers} --rounds "
             f"{args.rounds}`: {where}; a sales rep's first page of 50 of her "
             f"{args.customers} customers, in process (Django's test client), the two clients "
             "alternating; prometheus_client in multiprocess mode", "",
             "| GET /api/v1/customers | p50 ms |", "|---|---|",
             f"| without the middlewares | {without:.3f} |",
             f"| with django-prometheus's two | {with_:.3f} |",
             f"| added | {with_ - without:+.3f} ({(with_ - without) / without:+.1%}) |", ""]
    name = f"metrics-pg-{round(table / 1000)}k.md" if postgres else "metrics-sqlite.md"
    (ROOT / "bench" / "results" / name).write_text("\n".join(lines))


if __name__ == "__main__":
    main()
