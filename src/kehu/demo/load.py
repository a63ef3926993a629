"""Fast bulk writes for the demo loader: raw executemany, explicit ids, indexes set aside.

Everything here is safe to run again after a crash at any point: id ranges are reserved
before use, sequences only move forward, and indexes are dropped and created by name
from the models' definitions (`IF EXISTS` / `IF NOT EXISTS`).

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

from django.db import connection, models, transaction


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
    if getattr(field, "encrypted_field", False):  # sealed when encrypted (core/fields.py)
        return lambda v: field.get_db_prep_save(v, connection)
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


def sequence_past(model: type[models.Model], last_id: int) -> None:
    """PostgreSQL, after explicit ids up to `last_id`: make sure the id sequence hands out
    larger ones. Never moves it back (it may be past a reserved range). Cheap enough to run
    in every batch's transaction, so the sequence is right after any commit."""
    if connection.vendor != "postgresql" or last_id < 1:
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_get_serial_sequence(%s, %s)",
                       [model._meta.db_table, model._meta.pk.column])
        sequence = cursor.fetchone()[0]
        cursor.execute(f"SELECT setval(%s, GREATEST(%s, last_value)) FROM {sequence}",
                       [sequence, last_id])


def reserve_ids(model: type[models.Model], count: int) -> int:
    """The first of `count` fresh ids for explicit inserts into `model`'s table.

    The table's id sequence is moved past them at once, so that rows the application
    inserts meanwhile (the load runs as a background job) never take one of them, and a
    second reservation starts after the first even before its rows exist.
    """
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            return _reserve_postgresql(cursor, model, count)
        if connection.vendor == "sqlite":
            return _reserve_sqlite(cursor, model, count)
        return next_id(model)


def _reserve_postgresql(cursor, model: type[models.Model], count: int) -> int:
    table = model._meta.db_table
    # No insert may draw from the sequence between reading and moving it.
    cursor.execute(f"LOCK TABLE {connection.ops.quote_name(table)} IN SHARE ROW EXCLUSIVE MODE")
    cursor.execute("SELECT pg_get_serial_sequence(%s, %s)", [table, model._meta.pk.column])
    sequence = cursor.fetchone()[0]
    cursor.execute(f"SELECT CASE WHEN is_called THEN last_value + 1 ELSE last_value END FROM {sequence}")
    first = max(next_id(model), cursor.fetchone()[0])
    if count:
        cursor.execute("SELECT setval(%s, %s)", [sequence, first + count - 1])
    return first


def _reserve_sqlite(cursor, model: type[models.Model], count: int) -> int:
    # AUTOINCREMENT tables: SQLite hands out max(largest rowid, sqlite_sequence.seq) + 1.
    # (Django opens transactions IMMEDIATE here, so nobody writes between read and update.)
    table = model._meta.db_table
    cursor.execute("SELECT seq FROM sqlite_sequence WHERE name = %s", [table])
    row = cursor.fetchone()
    first = max(next_id(model), (row[0] if row else 0) + 1)
    if count and row:
        cursor.execute("UPDATE sqlite_sequence SET seq = %s WHERE name = %s", [first + count - 1, table])
    elif count:
        cursor.execute("INSERT INTO sqlite_sequence (name, seq) VALUES (%s, %s)", [table, first + count - 1])
    return first


@contextlib.contextmanager
def indexes_set_aside(*model_list: type[models.Model]) -> Iterator[None]:
    """Drop the non-unique secondary indexes of these models, and create them again after.

    Building an index once over a million rows is far cheaper than updating it per insert.
    Unique indexes stay, so uniqueness is still enforced during the load. Both halves are
    idempotent and read the indexes from the models, not from the database, so a load
    killed with its indexes dropped simply runs this again when it resumes: it drops what
    is still there and ends with every index present. (Indexes a migration made by hand,
    such as the PostgreSQL trigram index of quick search, are not the models' and stay.)
    """
    drop_indexes(*model_list)
    try:
        yield
    finally:
        create_indexes(*model_list)


def drop_indexes(*model_list: type[models.Model]) -> None:
    """Drop the models' non-unique secondary indexes that exist."""
    with connection.cursor() as cursor:
        for name, _ddl in model_indexes(*model_list):
            cursor.execute(f"DROP INDEX IF EXISTS {name}")


def create_indexes(*model_list: type[models.Model]) -> None:
    """Create the models' non-unique secondary indexes that do not exist (the migrations' DDL)."""
    with connection.cursor() as cursor:
        for _name, ddl in model_indexes(*model_list):
            cursor.execute(ddl.replace("CREATE INDEX ", "CREATE INDEX IF NOT EXISTS ", 1))


def model_indexes(*model_list: type[models.Model]) -> list[tuple[str, str]]:
    """(quoted name, CREATE INDEX statement) of every non-unique index the models declare:
    field indexes (foreign keys, db_index, PostgreSQL's LIKE twins) and Meta.indexes.

    The schema editor's own `_model_indexes_sql` (what CreateModel runs) makes the very DDL
    the migrations ran; it is only assembled here, never executed by the editor, so it is
    not entered (SQLite refuses to enter one inside a transaction).
    """
    editor = connection.schema_editor(collect_sql=True)
    statements = [s for m in model_list for s in editor._model_indexes_sql(m)]
    return [(str(s.parts["name"]), str(s)) for s in statements]


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
