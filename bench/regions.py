"""Benchmark the regions backfill (`regions.loading.customers_fill`) at 1,000,000 customers.

    .venv/bin/python bench/regions.py [--customers 1000000] [--texts 2500]

A synthetic table, not the demo database: a fresh SQLite file under
var/bench/regions-c<N>/ holding only the columns the backfill reads and writes
(`customers_customer`: id, province, city, district, region_code and its index), filled with
`--texts` distinct region texts written in short names (广东 深圳 南山, 北京 朝阳 …, drawn
from the bundled list), spread evenly over the customers, no codes. Then, each in one
transaction as `kehu regions update` runs it: the backfill that rewrites every customer
(canonical names and a code), and a second run that finds nothing to change. Prints the
texts, the customers changed and the times. SQLite only (the embedded default).
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BATCH = 50_000


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--texts", type=int, default=2_500)
    args = parser.parse_args()
    data_dir = ROOT / f"var/bench/regions-c{args.customers}"
    shutil.rmtree(data_dir, ignore_errors=True)
    data_dir.mkdir(parents=True)
    os.environ["KEHU_DATA_DIR"] = str(data_dir)
    os.environ["DJANGO_SETTINGS_MODULE"] = "kehu.config.settings"
    sys.path.insert(0, str(ROOT / "src"))
    import django

    django.setup()
    from django.db import connection, transaction

    from kehu.customers.regions import loading, snapshot
    from kehu.customers.regions.index import RegionIndex

    bundled = snapshot.read()
    index = RegionIndex(bundled.rows, as_of=bundled.as_of)
    texts = _short_texts(index, args.texts)
    with connection.cursor() as cursor:
        cursor.execute("CREATE TABLE customers_customer (id integer PRIMARY KEY, "
                       "province varchar(32) NOT NULL, city varchar(32) NOT NULL, "
                       "district varchar(32) NOT NULL, region_code varchar(6) NULL)")
        cursor.execute("CREATE INDEX cust_region_code ON customers_customer (region_code)")
        for start in range(0, args.customers, BATCH):
            cursor.executemany(
                "INSERT INTO customers_customer VALUES (%s, %s, %s, %s, NULL)",
                [(pk, *texts[pk % len(texts)])
                 for pk in range(start + 1, min(start + BATCH, args.customers) + 1)])
    print(f"{args.customers:,} customers, {len(texts):,} distinct region texts (short names)")
    for run in ("first run (every customer changes)", "second run (nothing to change)"):
        started = time.perf_counter()
        with transaction.atomic():
            changed = loading.customers_fill(index=index)
        print(f"{run}\t{len(changed):,} changed\t{time.perf_counter() - started:.1f} s",
              flush=True)
    return 0


def _short_texts(index, wanted: int) -> list[tuple[str, str, str]]:
    """Region texts as people write them: short names of a district, its city and province
    (the city left out for a municipality), every district once until `wanted`."""
    texts = []
    for division in index.by_code.values():
        if division.level != 3 or not division.short:
            continue
        province, city, district = index.path(division)
        city_text = "" if index.only_city(province) is city else (city.short or city.name)
        texts.append((province.short or province.name, city_text, division.short))
        if len(texts) == wanted:
            break
    return texts


if __name__ == "__main__":
    sys.exit(main())
