"""Operations the apps' migrations share."""

from __future__ import annotations

from collections.abc import Sequence

from django.db import migrations, transaction
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


def on_postgresql(forward: Sequence[str], backward: Sequence[str]) -> migrations.RunPython:
    """Statements run on PostgreSQL only (SQLite keeps its own structures), each in a
    transaction of its own: in a non-atomic migration a long step then holds its locks no
    longer than it must."""
    def run(statements: Sequence[str]):
        def apply(apps, schema_editor) -> None:
            if schema_editor.connection.vendor == "postgresql":
                for statement in statements:
                    with transaction.atomic():
                        schema_editor.execute(statement)
        return apply

    return migrations.RunPython(run(forward), run(backward))
