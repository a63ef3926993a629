"""Putting a snapshot into the Region table, and the customers' region fields in step with it.

Both are set-based and run in the caller's transaction: migration 0013 (the bundled file,
existing customers backfilled) and `kehu regions update FILE` (a newer list) use them.
"""

from __future__ import annotations

from typing import Any

from django.db import connection as default_connection
from django.utils import timezone

from kehu.customers.regions.index import RegionIndex
from kehu.customers.regions.matching import match_region
from kehu.customers.regions.names import short_name
from kehu.customers.regions.snapshot import Snapshot

_FILL_TABLE = "kehu_region_fill"


def snapshot_load(snapshot: Snapshot, *, region_model: Any, source_model: Any) -> None:
    """Replace the table's rows with the snapshot's (models passed in: the migration has
    its historical ones)."""
    region_model.objects.all().delete()
    region_model.objects.bulk_create(
        [region_model(code=code, name=name, short_name=short_name(name), parent_code=parent,
                      level=level) for code, name, parent, level in snapshot.rows],
        batch_size=1000)
    source_model.objects.all().delete()
    source_model.objects.create(as_of=snapshot.as_of, source=snapshot.source,
                                licence=snapshot.licence, loaded_at=timezone.now())


def customers_fill(*, index: RegionIndex, connection: Any = None) -> int:
    """Give every customer the canonical names and the code of its region text, where the
    text matches the list (广东 深圳 → 广东省 深圳市 440300), and no code where it does not.
    One SELECT DISTINCT of the region triples (a few thousand at a million customers), the
    changes matched in Python, one UPDATE joining a temporary table of them. Returns how
    many distinct triples changed."""
    connection = connection or default_connection
    quote = connection.ops.quote_name
    table = quote("customers_customer")
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT DISTINCT province, city, district, region_code FROM {table}")
        changes = _changes(index, cursor.fetchall())
        if not changes:
            return 0
        cursor.execute(f"CREATE TEMPORARY TABLE {_FILL_TABLE} (province varchar(32), "
                       "city varchar(32), district varchar(32), new_province varchar(32), "
                       "new_city varchar(32), new_district varchar(32), new_code varchar(6))")
        cursor.execute(f"CREATE INDEX {_FILL_TABLE}_key ON {_FILL_TABLE} (province, city, district)")
        cursor.executemany(f"INSERT INTO {_FILL_TABLE} VALUES (%s, %s, %s, %s, %s, %s, %s)", changes)
        same = (f"f.province = {table}.province AND f.city = {table}.city "
                f"AND f.district = {table}.district")
        cursor.execute(
            f"UPDATE {table} SET (province, city, district, region_code) = "
            f"(SELECT f.new_province, f.new_city, f.new_district, f.new_code "
            f"FROM {_FILL_TABLE} f WHERE {same}) "
            f"WHERE EXISTS (SELECT 1 FROM {_FILL_TABLE} f WHERE {same})")
        cursor.execute(f"DROP TABLE {_FILL_TABLE}")
    return len(changes)


def _changes(index: RegionIndex, triples: list[tuple]) -> list[tuple]:
    out = []
    for province, city, district, code in triples:
        if not (province or city or district):
            new: tuple = (province, city, district, None)
        else:
            found = match_region(province, city, district, index=index)
            new = (found.province, found.city, found.district, found.code)
        if new != (province, city, district, code):
            out.append((province, city, district, *new))
    return out
