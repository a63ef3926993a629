"""Many rows into one table, fast: multi-row INSERT … RETURNING id, values adapted once per
column type instead of once per value through the field.

`Model.objects.bulk_create` builds a model instance per row and prepares every value
through its field (get_db_prep_save: ~4 µs a value): for an import batch of customers,
contacts and change-log rows that was 270 of the 630 µs a row cost (profiled, 20,000
rows). Here a row is a tuple in the column order given; `auto_now`/`auto_now_add` columns
are filled with the same now. Both databases return the new ids in insert order
(SQLite ≥ 3.35 and PostgreSQL both support RETURNING on a multi-row VALUES).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from operator import itemgetter
from typing import Any

from django.db import connection, models
from django.utils import timezone

# SQLite allows 32,766 bound values per statement (3.32+); stay well below it.
MAX_VALUES = 30000
_EMPTY_JSON = {dict: "{}", list: "[]"}


def insert_dicts(model: type[models.Model], rows: Sequence[dict[str, Any]]) -> list[int]:
    """INSERT rows given as {attname: value} (owner_id, not owner); a column a row leaves
    out takes the field's default. Returns the new ids in order."""
    fields = [f for f in model._meta.concrete_fields if not f.primary_key
              and not getattr(f, "auto_now", False) and not getattr(f, "auto_now_add", False)]
    defaults = {f.attname: f.get_default() for f in fields}
    names = [f.attname for f in fields]
    # itemgetter over the row laid on the defaults, in C: 4.5 -> 2.3 µs a 30-column row
    # (12 given), where a generator of row.get per column ran in Python.
    pick = itemgetter(*names)
    if len(names) == 1:
        return insert_rows(model, names, [(pick({**defaults, **row}),) for row in rows])
    return insert_rows(model, names, [pick({**defaults, **row}) for row in rows])


def insert_rows(model: type[models.Model], columns: Sequence[str],
                rows: Sequence[Sequence[Any]]) -> list[int]:
    """INSERT `rows` (tuples in the order of `columns`, attnames) and return their ids."""
    if not rows:
        return []
    by_attname = {f.attname: f for f in model._meta.concrete_fields}
    fields = [by_attname[name] for name in columns]
    now = timezone.now()
    stamped = [f for f in model._meta.concrete_fields
               if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False)]
    stamped = [f for f in stamped if f.attname not in columns]
    adapters = [_adapter(f) for f in fields]
    # The stamps are one value for every row: adapted once (per row they were 140,000 calls,
    # 0.74 s of a 20,000-row import under cProfile).
    adapted = [(i, adapt) for i, adapt in enumerate(adapters) if adapt is not _same]
    fields += stamped
    extra = tuple(_adapter(f)(now) for f in stamped)
    table = connection.ops.quote_name(model._meta.db_table)
    names = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    per_row = len(fields)
    chunk = max(1, MAX_VALUES // per_row)
    ids: list[int] = []
    mark = param_mark()
    with connection.cursor() as cursor:
        for start in range(0, len(rows), chunk):
            part = rows[start:start + chunk]
            marks = ", ".join(["(" + ", ".join([mark] * per_row) + ")"] * len(part))
            params: list[Any] = []
            for row in part:
                values = list(row)
                for index, adapt in adapted:
                    values[index] = adapt(values[index])
                params += values
                params += extra
            cursor.execute(f"INSERT INTO {table} ({names}) VALUES {marks} RETURNING id", params)
            ids.extend(r[0] for r in cursor.fetchall())
    return ids


def param_mark() -> str:
    """The placeholder for a long statement built by hand: SQLite's own `?` where Django's
    SQLite cursor would turn each %s into ? with a regex over the statement (0.75 s of a
    20,000-row import under cProfile; with none to turn, the statement passes as it is).
    Its debug cursor (DEBUG, the query-count tests) prints statements by substituting %s,
    so it gets those, as does PostgreSQL."""
    return "?" if connection.vendor == "sqlite" and not connection.queries_logged else "%s"


def _adapter(field: models.Field) -> Callable[[Any], Any]:
    if getattr(field, "encrypted_field", False) and field.encrypted:  # sealed (core/fields.py)
        # An empty value is stored in the clear (the field seals only values), so it takes
        # the plain path: the ledger's empty before/after were 4 field calls an import row.
        plain = _plain_adapter(field)
        return lambda v: field.get_db_prep_save(v, connection) if v else plain(v)
    return _plain_adapter(field)


def _plain_adapter(field: models.Field) -> Callable[[Any], Any]:
    ops = connection.ops
    if isinstance(field, models.JSONField) and connection.vendor == "sqlite":
        # What ops.adapt_json_value does (json.dumps(v, cls=encoder)) with one encoder
        # for all the rows instead of one built per value.
        encode = (field.encoder or json.JSONEncoder)().encode

        def adapt(value: Any) -> str | None:
            # Empty ones without the encoder: the import's ledger rows hold two {} each,
            # 4 of the 9 JSON values an import row encoded (2.4 µs each under cProfile).
            if not value:
                return _EMPTY_JSON.get(type(value)) or (None if value is None else encode(value))
            return encode(value)

        return adapt
    if isinstance(field, models.JSONField):  # psycopg's Jsonb on PostgreSQL
        return lambda v: None if v is None else ops.adapt_json_value(v, field.encoder)
    if isinstance(field, models.DateTimeField):
        return ops.adapt_datetimefield_value
    if isinstance(field, models.DateField):
        return ops.adapt_datefield_value
    if isinstance(field, models.DecimalField):
        return lambda v: ops.adapt_decimalfield_value(v, field.max_digits, field.decimal_places)
    return _same


def _same(value: Any) -> Any:
    return value
