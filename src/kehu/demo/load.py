"""Fast bulk writes for the demo loader: raw executemany, explicit ids, indexes set aside.

`bulk_create` would overwrite explicit `created_at`/`updated_at` (their
`pre_save` stamps "now" on auto_now fields) and builds a model instance per
row; plain parameter tuples are several times faster and keep the timestamps.
Columns the generator does not fill get the model field's default, so a field
added to a model later does not break the loader.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from typing import Any

from django.core.management.color import no_style
from django.db import connection, models


class RowWriter:
    """Inserts dict rows into one model's table with a single prepared INSERT."""

    def __init__(self, model: type[models.Model], *, with_id: bool = False) -> None:
        fields = [f for f in model._meta.concrete_fields if with_id or not f.primary_key]
        self.model = model
        self.attnames = [f.attname for f in fields]
        self.fields = {f.attname: f for f in fields}
        self.defaults = {f.attname: f.get_db_prep_save(f.get_default(), connection)
                         for f in fields if not f.primary_key}
        columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
        marks = ", ".join(["%s"] * len(fields))
        table = connection.ops.quote_name(model._meta.db_table)
        self.sql = f"INSERT INTO {table} ({columns}) VALUES ({marks})"
        self.converters = {name: _converter(f) for name, f in self.fields.items()}

    def write(self, rows: list[dict[str, Any]]) -> None:
        if not rows:
            return
        present = rows[0].keys()
        plan = [(name, self.converters[name] if name in present else None) for name in self.attnames]
        params = [
            tuple(convert(row[name]) if convert else self.defaults[name] for name, convert in plan)
            for row in rows
        ]
        with connection.cursor() as cursor:
            cursor.executemany(self.sql, params)


def _converter(field: models.Field):
    """The cheapest correct conversion from a Python value to a DB parameter for `field`."""
    if isinstance(field, models.JSONField):
        if connection.vendor == "postgresql":
            return lambda v: connection.ops.adapt_json_value(v, None)
        return lambda v: json.dumps(v)
    if isinstance(field, models.DateTimeField):
        return lambda v: None if v is None else connection.ops.adapt_datetimefield_value(v)
    if isinstance(field, models.DateField):
        return lambda v: None if v is None else connection.ops.adapt_datefield_value(v)
    return lambda v: v


def next_id(model: type[models.Model]) -> int:
    last = model._default_manager.order_by("-pk").values_list("pk", flat=True).first()
    return (last or 0) + 1


def reset_sequences(*model_list: type[models.Model]) -> None:
    """After explicit ids on PostgreSQL, move the id sequences past them."""
    statements = connection.ops.sequence_reset_sql(no_style(), list(model_list))
    with connection.cursor() as cursor:
        for sql in statements:
            cursor.execute(sql)


@contextlib.contextmanager
def indexes_set_aside(*model_list: type[models.Model]) -> Iterator[None]:
    """Drop the non-unique secondary indexes of these tables, and recreate them (same DDL) after.

    Building an index once over a million rows is far cheaper than updating it per insert.
    Unique indexes stay, so uniqueness is still enforced during the load.
    """
    saved = [d for m in model_list for d in _secondary_indexes(m._meta.db_table)]
    with connection.cursor() as cursor:
        for name, _ddl in saved:
            cursor.execute(f"DROP INDEX {connection.ops.quote_name(name)}")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            for _name, ddl in saved:
                cursor.execute(ddl)


def _secondary_indexes(table: str) -> list[tuple[str, str]]:
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("SELECT name, sql FROM sqlite_master WHERE type = 'index' "
                           "AND tbl_name = %s AND sql IS NOT NULL", [table])
        elif connection.vendor == "postgresql":
            cursor.execute("SELECT indexname, indexdef FROM pg_indexes WHERE tablename = %s", [table])
        else:
            return []
        rows = cursor.fetchall()
    return [(name, ddl) for name, ddl in rows if " UNIQUE " not in ddl.upper()]


def fast_writes() -> contextlib.AbstractContextManager[None]:
    """SQLite: skip fsync for the duration of the load (a crash means reloading the demo)."""
    return sqlite_pragma("synchronous", during="OFF", after="NORMAL")


def foreign_keys_unchecked() -> contextlib.AbstractContextManager[None]:
    """SQLite: no foreign-key check per inserted row; the generators' ids are right by
    construction."""
    return sqlite_pragma("foreign_keys", during="OFF", after="ON")


@contextlib.contextmanager
def sqlite_pragma(name: str, *, during: str, after: str) -> Iterator[None]:
    """Set a SQLite pragma for the duration of a load. SQLite refuses these inside a
    transaction: then the load simply runs with the normal setting."""
    if connection.vendor != "sqlite" or connection.in_atomic_block:
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute(f"PRAGMA {name}={during}")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"PRAGMA {name}={after}")
