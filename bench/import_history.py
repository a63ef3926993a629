"""Benchmark importing orders and communications (the per-record service path).

    .venv/bin/python bench/import_history.py [--rows 5000]

A fresh data directory (var/bench/import-history/) with 2,000 demo customers; a CSV of
`--rows` communications and one of `--rows` order lines (two lines an order) naming the
customers by name, imported through the real run and job in this process. Prints rows/s
and writes bench/results/import-history-sqlite.md.
"""

from __future__ import annotations

import argparse
import csv
import os
import random
import shutil
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=5000)
    args = parser.parse_args(argv)
    folder = ROOT / "var" / "bench" / "import-history"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    os.environ["KEHU_DATA_DIR"] = str(folder)
    os.environ["DJANGO_SETTINGS_MODULE"] = "kehu.config.settings"
    sys.path.insert(0, str(ROOT / "src"))
    import django

    django.setup()
    from django.core.management import call_command

    from kehu.accounts.models import User
    from kehu.customers.models import Customer
    from kehu.demo import generate
    from kehu.history.services import product_save

    call_command("migrate", interactive=False, verbosity=0)
    generate(2000, 3)
    admin = User.objects.get(username="admin")
    product_save(actor=admin, origin="manual",
                 data={"sku": "SKU-1", "name": "标准套餐", "unit_price": "100.00"})
    names = list(Customer.objects.filter(deleted_at__isnull=True).values_list("name", flat=True)
                 .distinct())
    unique = [n for n in names if names.count(n) == 1][:1500]
    rng = random.Random(1)
    lines = []
    for target, header, row in (
            ("communications", ["客户", "跟进时间", "跟进方式", "跟进内容"],
             lambda i: [rng.choice(unique), f"2025-{i % 12 + 1}-{i % 28 + 1} {i % 24}:{i % 60:02d}",
                        rng.choice(["电话", "拜访", "微信"]), f"第 {i} 次沟通"]),
            ("orders", ["订单号", "客户", "下单日期", "产品编号", "数量", "金额"],
             lambda i: [f"B-{i // 2}", unique[(i // 2) % len(unique)], "2025-06-01", "SKU-1",
                        1 + i % 3, ""])):
        path = folder / f"{target}.csv"
        with path.open("w", encoding="utf-8-sig", newline="") as out:
            csv.writer(out).writerows([header, *(row(i) for i in range(args.rows))])
        seconds, run = import_once(admin, path, target)
        lines.append(f"| {target} | {args.rows:,} | {run.created:,} | {run.rejected:,} | "
                     f"{seconds:.1f} | {args.rows / seconds:,.0f} |")
    text = "\n".join([f"# Importing history, SQLite ({time.strftime('%Y-%m-%d')})", "",
                      "| sheet | rows | records created | rejected | seconds | rows/s |",
                      "|---|---|---|---|---|---|", *lines, ""])
    print(text)
    (ROOT / "bench" / "results" / "import-history-sqlite.md").write_text(text)
    return 0


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
