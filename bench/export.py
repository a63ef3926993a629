"""Benchmark exports: the customer list of an admin to CSV and xlsx, next to a raw baseline.

    .venv/bin/python bench/export.py [--data-dir var/bench/sqlite-c1000000-s1] [--rows N]
        [--order-rows 200000] [--only raw,raw-xlsx,csv,xlsx,orders-raw,orders-csv,orders-xlsx]
    .venv/bin/python bench/pg.py -- bench/export.py --data-dir {data_dir}     # PostgreSQL

Uses bench/run.py's demo database; DATABASE_URL, when it names a PostgreSQL database (as
bench/pg.py sets it), is used instead of the data directory's SQLite file. Each
measurement runs in a child process of its own, so its peak RSS (ru_maxrss) is its
own: (1) raw: sqlite3 (on PostgreSQL psycopg, a server-side cursor of 2,000 rows a fetch)
→ csv.writer of the customer table's same columns, no scope, no
masking, no tags; raw-xlsx: the same rows into XlsxWriter (constant_memory, each cell
written by its type: the library's own floor for this sheet); (2) Kehu CSV and (3) Kehu
xlsx through the real path
(`transfer.export.services.write_customers`: the list's stream, marketing consent, labels,
phones as the list shows them, formula escaping, XlsxWriter constant_memory). The database
is only read: the bench does not write the export's change-log row. The orders-* runs do
the same for order lines (one row per line, `export.selectors.order_line_rows`: pages of
500 customers, their orders 2,000 at a time, then those orders' lines) next to a raw join
of the same columns, the first `--order-rows` lines (200,000; 0: all of them). Results: printed and saved to
bench/results/export-<sqlite|pg>-<thousands of customers>k.md.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import platform
import resource
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RAW_COLUMNS = ("name", "kind", "short_name", "industry", "company_size", "province", "city",
               "district", "address", "phones", "emails", "wechat", "gender", "birthday",
               "credit_code", "source", "owner_id", "notes")
# PostgreSQL's JSON columns, read as their JSON text as sqlite3 reads them (not decoded).
PG_TEXT = {"phones": "phones::text", "emails": "emails::text"}
KINDS = ("raw", "raw-xlsx", "csv", "xlsx", "orders-raw", "orders-csv", "orders-xlsx")


def postgres_url() -> str | None:
    """DATABASE_URL when it names PostgreSQL (bench/pg.py sets it), else None: SQLite."""
    url = os.environ.get("DATABASE_URL", "")
    return url if url.startswith(("postgres://", "postgresql://")) else None


def raw_rows(data_dir: Path, sql: str) -> Iterator[tuple]:
    """The statement's rows by the driver alone, streamed: sqlite3 on the data directory's
    file (read-only), or psycopg with a server-side cursor on DATABASE_URL."""
    url = postgres_url()
    if url is None:
        db = sqlite3.connect(f"file:{data_dir / 'kehu.sqlite3'}?mode=ro", uri=True)
        yield from db.execute(sql)
        return
    import psycopg

    with psycopg.connect(url) as db, db.cursor(name="raw") as cursor:
        cursor.itersize = 2000
        cursor.execute(sql)
        yield from cursor


def raw_customers_sql(rows: int | None) -> str:
    """The raw baselines' statement: the table's columns, live rows, the list's order."""
    columns = RAW_COLUMNS if postgres_url() is None else [PG_TEXT.get(c, c) for c in RAW_COLUMNS]
    return (f"SELECT {', '.join(columns)} FROM customers_customer"  # noqa: S608
            " WHERE deleted_at IS NULL ORDER BY updated_at DESC, id DESC"
            + (f" LIMIT {rows}" if rows else ""))


def child(kind: str, data_dir: Path, rows: int | None, out: Path) -> dict:
    start = time.perf_counter()
    if kind == "raw":
        sql = raw_customers_sql(rows)
        count = 0
        with out.open("w", encoding="utf-8-sig", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(RAW_COLUMNS)
            for row in raw_rows(data_dir, sql):
                writer.writerow(row)
                count += 1
                if count % 1000 == 0:
                    sample_memory(count)
        sample_memory(count)
    elif kind == "raw-xlsx":
        count = raw_xlsx(data_dir, rows, out)
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
    count = 0
    with out.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle)
        for row in raw_rows(data_dir, ORDERS_SQL + (f" LIMIT {rows}" if rows else "")):
            writer.writerow(row)
            count += 1
            if count % 1000 == 0:
                sample_memory(count)
    sample_memory(count)
    return count


def raw_xlsx(data_dir: Path, rows: int | None, out: Path) -> int:
    """The raw rows into XlsxWriter as Kehu's writer sets it up (constant_memory, no
    string conversions), a cell by its type and an empty one skipped: what XlsxWriter
    alone costs for this sheet, with no scope, masking, labels or formula escaping."""
    import xlsxwriter

    book = xlsxwriter.Workbook(str(out), {"constant_memory": True, "strings_to_formulas": False,
                                          "strings_to_numbers": False, "strings_to_urls": False})
    sheet = book.add_worksheet()
    for col, name in enumerate(RAW_COLUMNS):
        sheet.write_string(0, col, name)
    count = 0
    for count, row in enumerate(raw_rows(data_dir, raw_customers_sql(rows)), 1):
        for col, value in enumerate(row):
            if value is None or value == "":
                continue
            if value.__class__ is str:
                sheet.write_string(count, col, value)
            elif isinstance(value, int | float):
                sheet.write_number(count, col, value)
            else:
                sheet.write_string(count, col, str(value))
        if count % 1000 == 0:
            sample_memory(count)
    book.close()
    sample_memory(count)
    return count


def kehu_export(kind: str, data_dir: Path, rows: int | None, out: Path) -> int:
    os.environ["KEHU_DATA_DIR"] = str(data_dir)
    os.environ["DJANGO_SETTINGS_MODULE"] = "kehu.config.settings"
    if postgres_url() is None:
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
    parser.add_argument("--order-rows", type=int, default=200_000,
                        help="the orders-* exports stop after N lines (0: all)")
    parser.add_argument("--only", default=",".join(KINDS))
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
    vendor = "sqlite" if postgres_url() is None else "pg"
    customers = next(raw_rows(data_dir, "SELECT COUNT(*) FROM customers_customer"))[0]
    load_start = os.getloadavg()
    results = []
    for kind in args.only.split(","):
        rows = args.order_rows if kind.startswith("orders-") and args.order_rows else args.rows
        argv = [sys.executable, __file__, "--child", kind, "--data-dir", str(data_dir),
                "--out-dir", str(out_dir)] + (["--rows", str(rows)] if rows else [])
        line = subprocess.run(argv, check=True, capture_output=True, text=True).stdout
        results.append(json.loads(line.strip().splitlines()[-1]))
        r = results[-1]
        print(f"{r['kind']:11} {r['rows']:>9,} rows {r['seconds']:7.1f} s {r['rate']:>9,.0f} rows/s"
              f"  peak RSS {r['rss_mb']:6.0f} MB (heap {r['anon_mb']:4} MB)"
              f"  {r['bytes'] / 1e6:7.1f} MB file", flush=True)
    path = ROOT / "bench" / "results" / f"export-{vendor}-{round(customers / 1000)}k.md"
    path.write_text(report(args, vendor, customers, load_start, results))
    print(path)


def report(args: argparse.Namespace, vendor: str, customers: int,
           load_start: tuple[float, ...], results: list[dict]) -> str:
    name = "PostgreSQL" if vendor == "pg" else "SQLite"
    driver = "psycopg (server-side cursor)" if vendor == "pg" else "sqlite3"
    command = ("bench/pg.py -- bench/export.py --data-dir {data_dir}" if vendor == "pg"
               else "bench/export.py")
    options = (f" --only {args.only}" if args.only != ",".join(KINDS) else "") + (
        f" --rows {args.rows}" if args.rows else "") + (
        f" --order-rows {args.order_rows}" if args.order_rows != 200_000 else "")
    rates = {r["kind"]: r["rate"] for r in results}
    lines = [f"# Exports as the admin, {customers:,} demo customers, {name}", "",
             f"- {time.strftime('%Y-%m-%d %H:%M %Z')}; {os.cpu_count()} cores; load "
             f"{' '.join(f'{x:.2f}' for x in load_start)} at the start, "
             f"{' '.join(f'{x:.2f}' for x in os.getloadavg())} at the end; Python "
             f"{platform.python_version()}",
             f"- `.venv/bin/python {command}{options}`: each export in a child process of "
             "its own; rows/s of the child's time from its start (Django set up included)",
             f"- raw: {driver} → csv.writer of the same columns (customers: the table's, no "
             "scope, masking, tags or consent; orders: the same join), in the same run; "
             "raw-xlsx: the same rows into XlsxWriter alone (constant_memory), the xlsx "
             "rows' baseline (its raw ÷ Kehu is against this one)",
             "- peak RSS: the child's ru_maxrss"
             + (" (the SQLite file's mapped pages included)" if vendor == "sqlite" else
                " (the PostgreSQL server's memory not included)")
             + "; heap: its largest RssAnon, sampled every 1,000 rows", "",
             "| export | rows | seconds | rows/s | raw ÷ Kehu | peak RSS MB | heap MB | file MB |",
             "|---|---|---|---|---|---|---|---|"]
    for r in results:
        target, _sep, fmt = r["kind"].rpartition("-")
        raw = rates.get(f"{target}-raw" if target else "raw")
        if r["kind"] == "xlsx" and "raw-xlsx" in rates:
            raw = rates["raw-xlsx"]
        ratio = f"{raw / r['rate']:.1f}×" if raw and "raw" not in r["kind"] else "—"
        lines.append(f"| {r['kind']} | {r['rows']:,} | {r['seconds']:.1f} | {r['rate']:,.0f} | "
                     f"{ratio} | {r['rss_mb']:.0f} | {r['anon_mb']} | {r['bytes'] / 1e6:.1f} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
