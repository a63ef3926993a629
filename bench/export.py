"""Benchmark exports: the customer list of an admin to CSV and xlsx, next to a raw baseline.

    .venv/bin/python bench/export.py [--data-dir var/bench/sqlite-c1000000-s1] [--rows N]
        [--only raw,csv,xlsx,orders-raw,orders-csv,orders-xlsx]

Each measurement runs in a child process of its own, so its peak RSS (ru_maxrss) is its
own: (1) raw: sqlite3 → csv.writer of the customer table's same columns, no scope, no
masking, no tags; (2) Kehu CSV and (3) Kehu xlsx through the real path
(`transfer.export.services.write_customers`: the list's selector page by page, labels,
phones as the list shows them, formula escaping, XlsxWriter constant_memory). The database
is only read: the bench does not write the export's change-log row. The orders-* runs do
the same for order lines (one row per line, `export.selectors.order_line_rows`: pages of
500 customers, their orders 2,000 at a time, then those orders' lines) next to a raw join
of the same columns. (The 1M demo database
predates accounts.0004; run on a migrated copy of it: cp the file, `kehu migrate`.)
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import resource
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RAW_COLUMNS = ("name", "kind", "short_name", "industry", "company_size", "province", "city",
               "district", "address", "phones", "emails", "wechat", "gender", "birthday",
               "credit_code", "source", "owner_id", "notes")


def child(kind: str, data_dir: Path, rows: int | None, out: Path) -> dict:
    start = time.perf_counter()
    if kind == "raw":
        db = sqlite3.connect(f"file:{data_dir / 'kehu.sqlite3'}?mode=ro", uri=True)
        sql = (f"SELECT {', '.join(RAW_COLUMNS)} FROM customers_customer"
               " WHERE deleted_at IS NULL ORDER BY updated_at DESC, id DESC")
        if rows:
            sql += f" LIMIT {rows}"
        count = 0
        with out.open("w", encoding="utf-8-sig", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(RAW_COLUMNS)
            for row in db.execute(sql):
                writer.writerow(row)
                count += 1
    elif kind == "orders-raw":
        count = raw_orders(data_dir, rows, out)
    else:
        count = kehu_export(kind, data_dir, rows, out)
    seconds = time.perf_counter() - start
    return {"kind": kind, "rows": count, "seconds": seconds, "rate": count / seconds,
            "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            "anon_mb": PEAK_ANON[0],
            "bytes": out.stat().st_size}


ORDERS_SQL = """
SELECT c.name, c.credit_code, o.number, o.external_number, o.ordered_on, o.status, o.currency,
       p.sku, p.name, l.quantity, l.unit_price, l.discount, l.amount, o.notes
FROM history_order o JOIN customers_customer c ON c.id = o.customer_id
JOIN history_orderline l ON l.order_id = o.id JOIN history_product p ON p.id = l.product_id
WHERE c.deleted_at IS NULL ORDER BY o.id, l.id"""


def raw_orders(data_dir: Path, rows: int | None, out: Path) -> int:
    db = sqlite3.connect(f"file:{data_dir / 'kehu.sqlite3'}?mode=ro", uri=True)
    count = 0
    with out.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle)
        for row in db.execute(ORDERS_SQL + (f" LIMIT {rows}" if rows else "")):
            writer.writerow(row)
            count += 1
    return count


def kehu_export(kind: str, data_dir: Path, rows: int | None, out: Path) -> int:
    os.environ["KEHU_DATA_DIR"] = str(data_dir)
    os.environ["DJANGO_SETTINGS_MODULE"] = "kehu.config.settings"
    os.environ.pop("DATABASE_URL", None)
    import django

    django.setup()
    from kehu.accounts.models import User
    from kehu.customers.filters import CustomerFilters
    from kehu.transfer.export.columns import customer_columns
    from kehu.transfer.export.history_columns import history_columns
    from kehu.transfer.export.selectors import HistoryFilters, order_line_rows
    from kehu.transfer.export.services import write_customers, write_rows

    admin = User.objects.filter(role__is_admin=True, is_active=True).order_by("pk").first()
    target, _sep, fmt = kind.rpartition("-")
    with out.open("wb") as stream:
        if target == "orders":
            lines = order_line_rows(viewer=admin, filters=CustomerFilters(),
                                    history=HistoryFilters())
            return write_rows(lines, fmt=fmt, stream=stream, columns=history_columns("orders"),
                              limit=rows, progress=sample_memory)
        return write_customers(viewer=admin, filters=CustomerFilters(), fmt=fmt, stream=stream,
                               columns=customer_columns(), limit=rows, progress=sample_memory)


PEAK_ANON = [0]


def sample_memory(_rows: int) -> None:
    """Anonymous RSS (heap), sampled every 1,000 rows. ru_maxrss also counts the pages of
    the database file SQLite maps into memory (mmap_size 1 GB in settings), not our data."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("RssAnon:"):
            PEAK_ANON[0] = max(PEAK_ANON[0], int(line.split()[1]) // 1024)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", default=str(ROOT / "var/bench/sqlite-c1000000-s1"))
    parser.add_argument("--rows", type=int, default=None, help="stop after N rows")
    parser.add_argument("--only", default="raw,csv,xlsx")
    parser.add_argument("--child", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--out-dir", default=str(ROOT / "var/bench/export-out"))
    args = parser.parse_args()
    data_dir, out_dir = Path(args.data_dir).resolve(), Path(args.out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    if args.child:
        suffix = "xlsx" if args.child.endswith("xlsx") else "csv"
        out = out_dir / f"export-{args.child}.{suffix}"
        print(json.dumps(child(args.child, data_dir, args.rows, out)))
        return
    results = []
    for kind in args.only.split(","):
        argv = [sys.executable, __file__, "--child", kind, "--data-dir", str(data_dir),
                "--out-dir", str(out_dir)] + (["--rows", str(args.rows)] if args.rows else [])
        line = subprocess.run(argv, check=True, capture_output=True, text=True).stdout
        results.append(json.loads(line.strip().splitlines()[-1]))
        r = results[-1]
        print(f"{r['kind']:11} {r['rows']:>9,} rows {r['seconds']:7.1f} s {r['rate']:>9,.0f} rows/s"
              f"  peak RSS {r['rss_mb']:6.0f} MB (heap {r['anon_mb']:4} MB)"
              f"  {r['bytes'] / 1e6:7.1f} MB file", flush=True)


if __name__ == "__main__":
    main()
