"""Benchmark importing orders and communications (the per-record service path).

    .venv/bin/python bench/import_history.py [--rows 5000]
    .venv/bin/python bench/pg.py -- bench/import_history.py --data-dir {data_dir}  # PostgreSQL

A fresh data directory (var/bench/import-history/) with 2,000 demo customers; a CSV of
`--rows` communications and one of `--rows` order lines (two lines an order) naming the
customers by name, imported through the real run and job in this process. Prints rows/s
and writes bench/results/import-history-sqlite.md.

With `--data-dir` (an existing demo database: bench/run.py's, or on PostgreSQL, DATABASE_URL
set by bench/pg.py, its copy there) nothing is built: the sheets name 1,500 of its
customers whose names are unique in the table, and everything runs in one transaction
rolled back at the end (the product, the runs, the records, the change log; the runs'
own transactions are savepoints in it, so their commits are not in the seconds); the
stored sheets (and a key file the run had to write) are removed from the data directory.
Results: bench/results/import-history-<sqlite|pg>-<thousands>k.md.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import os
import random
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=5000)
    parser.add_argument("--data-dir", default=None,
                        help="an existing demo database, in a transaction rolled back")
    args = parser.parse_args(argv)
    existing = args.data_dir is not None
    if existing:
        data_dir = Path(args.data_dir).resolve()
        folder = Path(tempfile.mkdtemp(prefix="kehu-bench-import-history-"))
        if not os.environ.get("DATABASE_URL", "").startswith(("postgres://", "postgresql://")):
            os.environ.pop("DATABASE_URL", None)
    else:
        data_dir = folder = ROOT / "var" / "bench" / "import-history"
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        os.environ.pop("DATABASE_URL", None)
    os.environ["KEHU_DATA_DIR"] = str(data_dir)
    os.environ["DJANGO_SETTINGS_MODULE"] = "kehu.config.settings"
    os.environ.setdefault("KEHU_DEBUG", "0")
    sys.path.insert(0, str(ROOT / "src"))
    load_start = os.getloadavg()
    import django

    django.setup()
    from as_found import files_as_found
    from django.core.management import call_command
    from django.db import connection, transaction

    call_command("migrate", interactive=False, verbosity=0)
    try:
        # A fresh database keeps what it imported, and its runs commit as they go.
        with files_as_found() if existing else contextlib.nullcontext(), \
                transaction.atomic() if existing else contextlib.nullcontext():
            lines, customers = measure(args, folder, existing)
            if existing:
                transaction.set_rollback(True)
    finally:
        if existing:
            shutil.rmtree(folder, ignore_errors=True)
    vendor = "pg" if connection.vendor == "postgresql" else "sqlite"
    name = "PostgreSQL" if vendor == "pg" else "SQLite"
    header = [f"# Importing history, {name} ({time.strftime('%Y-%m-%d')})", ""]
    if existing:
        command = ("bench/pg.py -- bench/import_history.py --data-dir {data_dir}" if vendor == "pg"
                   else f"bench/import_history.py --data-dir {args.data_dir}")
        header += [f"`.venv/bin/python {command} --rows {args.rows}`: into the demo database "
                   f"({customers:,} customers), the sheets naming 1,500 of them, in one "
                   "transaction rolled back at the end. Load "
                   f"{' / '.join(f'{x:.2f}' for x in load_start)} at the start, "
                   f"{' / '.join(f'{x:.2f}' for x in os.getloadavg())} at the end "
                   "(1 / 5 / 15 min, 2 cores).", ""]
    text = "\n".join([*header, "| sheet | rows | records created | rejected | seconds | rows/s |",
                      "|---|---|---|---|---|---|", *lines, ""])
    print(text)
    out = (f"import-history-{vendor}-{round(customers / 1000)}k.md" if existing
           else "import-history-sqlite.md")
    (ROOT / "bench" / "results" / out).write_text(text)
    return 0


def measure(args: argparse.Namespace, folder: Path, existing: bool) -> tuple[list[str], int]:
    from kehu.accounts.models import User
    from kehu.customers.models import Customer
    from kehu.demo import generate
    from kehu.history.services import product_save

    if not existing:
        generate(2000, 3)
    admin = User.objects.get(username="admin")
    sku = "BENCH-SKU-1" if existing else "SKU-1"
    product_save(actor=admin, origin="manual",
                 data={"sku": sku, "name": "标准套餐", "unit_price": "100.00"})
    unique = unique_names(existing)
    rng = random.Random(1)
    lines = []
    for target, header, row in (
            ("communications", ["客户", "跟进时间", "跟进方式", "跟进内容"],
             lambda i: [rng.choice(unique), f"2025-{i % 12 + 1}-{i % 28 + 1} {i % 24}:{i % 60:02d}",
                        rng.choice(["电话", "拜访", "微信"]), f"第 {i} 次沟通"]),
            ("orders", ["订单号", "客户", "下单日期", "产品编号", "数量", "金额"],
             lambda i: [f"B-{i // 2}", unique[(i // 2) % len(unique)], "2025-06-01", sku,
                        1 + i % 3, ""])):
        path = folder / f"{target}.csv"
        with path.open("w", encoding="utf-8-sig", newline="") as out:
            csv.writer(out).writerows([header, *(row(i) for i in range(args.rows))])
        seconds, run = import_once(admin, path, target)
        lines.append(f"| {target} | {args.rows:,} | {run.created:,} | {run.rejected:,} | "
                     f"{seconds:.1f} | {args.rows / seconds:,.0f} |")
    return lines, Customer.objects.count()


def unique_names(existing: bool) -> list[str]:
    """1,500 live customers' names no other customer has: of the 2,000 demo customers, or
    on an existing database of the first 3,000 live customers by id."""
    from django.db.models import Count

    from kehu.customers.models import Customer

    live = Customer.objects.filter(deleted_at__isnull=True)
    if not existing:
        names = list(live.values_list("name", flat=True).distinct())
        return [n for n in names if names.count(n) == 1][:1500]
    names = list(live.order_by("pk").values_list("name", flat=True)[:3000])
    counts = dict(Customer.objects.filter(name__in=names).values_list("name")
                  .annotate(n=Count("id")).values_list("name", "n"))
    return [n for n in dict.fromkeys(names) if counts.get(n) == 1][:1500]


def import_once(actor, path: Path, target: str):
    from kehu.jobs.services import run_here
    from kehu.transfer.importing import import_start
    from kehu.transfer.services import default_match, import_configure, import_upload

    started = time.perf_counter()
    run = import_upload(actor=actor, origin="manual", target=target, file=path, filename=path.name)
    run = import_configure(actor=actor, origin="manual", run=run, mapping=run.mapping,
                           match=default_match(target, run.mapping))
    run = import_start(actor=actor, origin="manual", run=run, dry_run=False, queued=False)
    job = run_here(run.import_job)
    assert job.status == "done", job.error
    run.refresh_from_db()
    return time.perf_counter() - started, run


if __name__ == "__main__":
    sys.exit(main())
