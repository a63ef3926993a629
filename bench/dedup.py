"""Benchmark duplicates (查重): the check on one create, the batch finder, its quality.

    .venv/bin/python bench/dedup.py [--customers 1000000] [--seed 1] [--copies 10000]
    .venv/bin/python bench/pg.py -- bench/dedup.py --data-dir {data_dir}    # PostgreSQL: the check

Builds its own demo database in var/bench/dedup-c<N>-s<seed>/ on the first run (the
demo generator, ~15 minutes at 1,000,000) and injects `--copies` labelled duplicates
once (`kehu.demo.duplicates`: the ways real sheets write
one customer twice). Then, in one run:
- the check on one create (`duplicates_of`, as the customer form and the import call it)
  for 300 names and phones, p50/p99, next to the raw index lookups it makes (name_key and
  CustomerKey) in the same process;
- the batch finder over the whole table (`duplicate_pairs`): time and peak memory;
- precision and recall against the labelled pairs at several thresholds.
Results: printed and saved to bench/results/dedup-sqlite-<thousands>k.md.

With `--data-dir` (bench/run.py's demo database, or on PostgreSQL, DATABASE_URL set by
bench/pg.py, its copy there) it builds nothing and injects nothing: only the check on one
create, on that database, read only (dedup-pg-<thousands>k.md on PostgreSQL,
dedup-sqlite-<thousands>k-demo.md on SQLite). The finder and its precision and recall need
the labelled copies, which would have to be written into the shared demo database (and the
finder reads in a process of its own, so a rolled-back transaction would hide them from it).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import run  # noqa: E402  (bench/run.py: the database)

THRESHOLDS = (0.6, 0.7, 0.8, 0.85, 0.9, 0.95)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--copies", type=int, default=10_000)
    parser.add_argument("--finder-only", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--data-dir", default=None,
                        help="an existing demo database: the check on one create only")
    args = parser.parse_args(argv)
    if args.data_dir:
        return check_only(args)
    os.environ.pop("DATABASE_URL", None)
    data_dir = prepare(args)
    if args.finder_only:  # the child: the finder alone, so its peak RSS is its own
        return run_finder(Path(args.finder_only))
    pairs = labelled_pairs(args, data_dir)
    lines = [f"# Duplicates at {args.customers:,} customers (SQLite, {time.strftime('%Y-%m-%d')})",
             "", f"{len(pairs):,} labelled copies injected (kehu.demo.duplicates).", ""]
    lines += check_latency(args)
    lines += finder(args, pairs)
    text = "\n".join(lines) + "\n"
    print(text)
    out = run.ROOT / "bench" / "results" / f"dedup-sqlite-{args.customers // 1000}k.md"
    out.write_text(text)
    return 0


def check_only(args: argparse.Namespace) -> int:
    """The check on one create on an existing database (SQLite, or PostgreSQL when
    DATABASE_URL names it), nothing written."""
    os.environ["KEHU_DATA_DIR"] = str(Path(args.data_dir).resolve())
    os.environ["DJANGO_SETTINGS_MODULE"] = "kehu.config.settings"
    if not os.environ.get("DATABASE_URL", "").startswith(("postgres://", "postgresql://")):
        os.environ.pop("DATABASE_URL", None)
    sys.path.insert(0, str(run.ROOT / "src"))
    load_start = os.getloadavg()
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from kehu.customers.models import Customer

    call_command("migrate", interactive=False, verbosity=0)
    pg = connection.vendor == "postgresql"
    customers = Customer.objects.count()
    command = ("bench/pg.py -- bench/dedup.py --data-dir {data_dir}" if pg
               else f"bench/dedup.py --data-dir {args.data_dir}")
    lines = [f"# Duplicates at {customers:,} customers ({'PostgreSQL' if pg else 'SQLite'}, "
             f"{time.strftime('%Y-%m-%d %H:%M')})", "",
             f"`.venv/bin/python {command}`: bench/run.py's demo database, no labelled copies "
             "injected, so only the check on one create (the batch finder and its precision "
             "and recall need the copies: `bench/dedup.py` on SQLite builds a database of its "
             "own for them). Load average "
             f"{' / '.join(f'{x:.2f}' for x in load_start)} at the start (2 cores, shared).", ""]
    lines += check_latency(args)
    lines += [f"Load average at the end: {' / '.join(f'{x:.2f}' for x in os.getloadavg())}.",
              ""]
    text = "\n".join(lines) + "\n"
    print(text)
    name = f"dedup-pg-{round(customers / 1000)}k.md" if pg \
        else f"dedup-sqlite-{round(customers / 1000)}k-demo.md"
    (run.ROOT / "bench" / "results" / name).write_text(text)
    return 0


def prepare(args: argparse.Namespace) -> Path:
    """Its own demo database (var/bench/dedup-c<N>-s<seed>/, built on the first run): the
    labelled copies go in once and must not reach the other benchmarks' data."""
    target = run.ROOT / "var" / "bench" / f"dedup-c{args.customers}-s{args.seed}"
    target.mkdir(parents=True, exist_ok=True)
    os.environ["KEHU_DATA_DIR"] = str(target)
    os.environ["DJANGO_SETTINGS_MODULE"] = "kehu.config.settings"
    sys.path.insert(0, str(run.ROOT / "src"))
    import django

    django.setup()
    from django.core.management import call_command

    from kehu.customers.models import Customer
    from kehu.demo import generate

    call_command("migrate", interactive=False, verbosity=0)
    if not Customer.objects.exists():
        started = time.monotonic()
        print(f"Building the dedup database: {args.customers:,} customers …", flush=True)
        generate(args.customers, args.seed, stdout=sys.stdout)
        print(f"built in {time.monotonic() - started:.0f} s", flush=True)
    return target


def labelled_pairs(args: argparse.Namespace, data_dir: Path) -> set[tuple[int, int]]:
    marker = data_dir / "dedup-pairs.json"
    if marker.exists():
        return {tuple(p) for p in json.loads(marker.read_text())}
    from kehu.customers.models import Customer
    from kehu.demo.duplicates import inject_duplicates

    first, last = (Customer.objects.order_by("pk").values_list("pk", flat=True).first(),
                   Customer.objects.order_by("-pk").values_list("pk", flat=True).first())
    started = time.monotonic()
    pairs = inject_duplicates(range(first, last + 1), args.copies, seed=args.seed)
    print(f"injected {len(pairs):,} copies in {time.monotonic() - started:.0f} s", flush=True)
    marker.write_text(json.dumps(pairs))
    return set(pairs)


def check_latency(args: argparse.Namespace) -> list[str]:
    from django.db import connection

    from kehu.accounts.models import User
    from kehu.customers.duplicates import duplicates_of
    from kehu.customers.models import Customer

    viewer = User.objects.filter(is_superuser=True).first() or User.objects.first()
    rng = random.Random(args.seed)
    top = Customer.objects.order_by("-pk").values_list("pk", flat=True).first()
    samples = []
    while len(samples) < 300:
        row = Customer.objects.filter(pk__gte=rng.randrange(1, top)).values(
            "kind", "name", "city", "phones", "name_key").first()
        if row:
            samples.append(row)
    app, raw = [], []
    for row in samples:
        values = {k: row[k] for k in ("kind", "name", "city", "phones")}
        started = time.perf_counter()
        duplicates_of(viewer=viewer, values=values)
        app.append((time.perf_counter() - started) * 1000)
        started = time.perf_counter()
        with connection.cursor() as cursor:
            cursor.execute("SELECT id FROM customers_customer WHERE name_key = %s "
                           "AND deleted_at IS NULL LIMIT 20", [row["name_key"]])
            cursor.fetchall()
            phones = row["phones"] or [""]
            marks = ",".join(["%s"] * len(phones))
            cursor.execute("SELECT customer_id FROM customers_customerkey WHERE kind = 'phone' "
                           f"AND value IN ({marks})", phones)
            cursor.fetchall()
        raw.append((time.perf_counter() - started) * 1000)
    return ["## The check on one create (300 customers' own names and phones)", "",
            "| | p50 ms | p99 ms |", "|---|---|---|",
            f"| duplicates_of | {pct(app, 50):.2f} | {pct(app, 99):.2f} |",
            f"| raw index lookups | {pct(raw, 50):.2f} | {pct(raw, 99):.2f} |", ""]


def run_finder(out: Path) -> int:
    from kehu.customers.duplicates import duplicate_pairs

    started = time.monotonic()
    counted: list[int] = [0]
    pairs = [(p.a, p.b, p.score) for p in duplicate_pairs(threshold=min(THRESHOLDS),
                                                         progress=counted.append)]
    out.write_text(json.dumps({
        "seconds": time.monotonic() - started, "candidates": counted[-1], "pairs": pairs,
        "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
    return 0


def finder(args: argparse.Namespace, truth: set[tuple[int, int]]) -> list[str]:
    out = run.ROOT / "var" / "bench" / "dedup-pairs-found.json"
    subprocess.run([sys.executable, __file__, "--customers", str(args.customers), "--seed",
                    str(args.seed), "--finder-only", str(out)], check=True)
    result = json.loads(out.read_text())
    found = result["pairs"]
    lines = ["## The batch finder (duplicate_pairs over the whole table, its own process)", "",
             f"{result['seconds']:.0f} s, {result['candidates']:,} candidate pairs scored, "
             f"{len(found):,} at or above {min(THRESHOLDS)}; peak RSS {result['peak_mb']:.0f} MB "
             "(Django, the SQLite page cache and the pairs found included).", "",
             "| threshold | pairs | precision | recall |", "|---|---|---|---|"]
    for threshold in THRESHOLDS:
        pairs = {(a, b) for a, b, score in found if score >= threshold}
        hits = len(pairs & truth)
        lines.append(f"| {threshold} | {len(pairs):,} | {hits / max(len(pairs), 1):.3f} | "
                     f"{hits / max(len(truth), 1):.3f} |")
    missed = sorted(truth - {(a, b) for a, b, score in found if score >= 0.8})
    lines += ["", f"Missed at 0.8: {len(missed):,} (first: {missed[:5]})", ""]
    return lines


def pct(values: list[float], q: int) -> float:
    return statistics.quantiles(values, n=100)[q - 1] if q < 100 else max(values)


if __name__ == "__main__":
    sys.exit(main())
