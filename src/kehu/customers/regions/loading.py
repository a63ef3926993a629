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


def customers_fill(*, index: RegionIndex, connection: Any = None) -> list[int]:
    """Give every customer the canonical names and the code of its region text, where the
    text matches the list (广东 深圳 → 广东省 深圳市 440300), and no code where it does not.
    One SELECT DISTINCT of the region texts (a few thousand at a million customers), each
    text matched once in Python, one UPDATE joining a temporary table of the texts that
    change. Returns the ids of the customers it changed.

    The temporary table is keyed by the text alone: one text may be stored with two codes
    (written under an older list, or by hand), and two rows of one text there would make
    the UPDATE's scalar subquery return two rows, which PostgreSQL refuses."""
    connection = connection or default_connection
    table = connection.ops.quote_name("customers_customer")
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT DISTINCT province, city, district, region_code FROM {table}")
        changes = _changes(index, cursor.fetchall())
        if not changes:
            return []
        cursor.execute(f"CREATE TEMPORARY TABLE {_FILL_TABLE} (province varchar(32), "
                       "city varchar(32), district varchar(32), new_province varchar(32), "
                       "new_city varchar(32), new_district varchar(32), new_code varchar(6))")
        cursor.execute(f"CREATE UNIQUE INDEX {_FILL_TABLE}_key "
                       f"ON {_FILL_TABLE} (province, city, district)")
        cursor.executemany(f"INSERT INTO {_FILL_TABLE} VALUES (%s, %s, %s, %s, %s, %s, %s)", changes)
        # IS NOT is SQLite's null-safe "differs" (IS DISTINCT FROM only since 3.39).
        differs = "IS NOT" if connection.vendor == "sqlite" else "IS DISTINCT FROM"
        same = (f"f.province = {table}.province AND f.city = {table}.city "
                f"AND f.district = {table}.district")
        changed = (f"EXISTS (SELECT 1 FROM {_FILL_TABLE} f WHERE {same} AND ("
                   f"f.new_province <> {table}.province OR f.new_city <> {table}.city "
                   f"OR f.new_district <> {table}.district "
                   f"OR {table}.region_code {differs} f.new_code))")
        cursor.execute(f"SELECT id FROM {table} WHERE {changed}")
        ids = [row[0] for row in cursor.fetchall()]
        cursor.execute(
            f"UPDATE {table} SET (province, city, district, region_code) = "
            f"(SELECT f.new_province, f.new_city, f.new_district, f.new_code "
            f"FROM {_FILL_TABLE} f WHERE {same}) WHERE {changed}")
        cursor.execute(f"DROP TABLE {_FILL_TABLE}")
    return ids


def _changes(index: RegionIndex, rows: list[tuple]) -> list[tuple]:
    """One row per region text (province, city, district) whose names or any of its stored
    codes differ from what the list says: the text, then its new names and code."""
    codes: dict[tuple, set] = {}
    for province, city, district, code in rows:
        codes.setdefault((province, city, district), set()).add(code)
    out = []
    for (province, city, district), stored in codes.items():
        if not (province or city or district):
            new: tuple = (province, city, district, None)
        else:
            found = match_region(province, city, district, index=index)
            new = (found.province, found.city, found.district, found.code)
        if new[:3] != (province, city, district) or stored != {new[3]}:
            out.append((province, city, district, *new))
    return out
