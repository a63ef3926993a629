"""Operations the apps' migrations share."""

from __future__ import annotations

from django.db import migrations
from django.db.migrations.operations.base import Operation


def index_dropped(index: str, table: str, column: str,
                  state: Operation) -> migrations.SeparateDatabaseAndState:
    """Drop a one-column index by its name, on both databases, with `state` (the AlterField
    that records it) applied to the migration state only: for the same change SQLite's
    schema editor would rebuild the whole table, a copy of every row."""
    return migrations.SeparateDatabaseAndState(
        database_operations=[migrations.RunSQL(
            f'DROP INDEX IF EXISTS "{index}"', f'CREATE INDEX "{index}" ON "{table}" ("{column}")')],
        state_operations=[state])
