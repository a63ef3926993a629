"""Database session settings a statement asks for, kept to the caller's transaction."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.conf import settings
from django.db import connection


def parallel_workers(cursor: Any) -> None:
    """Let the rest of this transaction's statements use PostgreSQL's parallel workers.

    Web requests run without them (settings: KEHU_DB_PARALLEL_WORKERS, 0): their queries are
    short, and starting workers costs more than it saves. A job that aggregates a whole
    table is the opposite: the classification figures' aggregate took 3.9-4.2 s with two
    workers against 7 s serial at 1,000,000 customers. Local to the transaction
    (`set_config(..., true)`), so the connection goes back to the web's setting after it.
    Nothing on SQLite, which has one thread either way.
    """
    if connection.vendor == "postgresql":
        cursor.execute("SELECT set_config('max_parallel_workers_per_gather', %s, true)",
                       [str(settings.KEHU_DB_JOB_PARALLEL_WORKERS)])


def execute_planned_each_time(cursor: Any, sql: str, params: list) -> None:
    """Run `sql` with a plan made for these very parameters, never a prepared one.

    With prepared statements on (settings: KEHU_DB_PREPARE), PostgreSQL may settle on one
    generic plan for a statement after five runs. That is what makes the list's pages
    cheaper, and wrong where the best plan depends on the values: the gram probe of a
    common term (限公司, 425,640 of 1,000,000 customers) stops after 9,001 rows of a
    sequential scan (43 ms) with its own plan, and reads every match through the GIN
    index with the generic one (98 ms). Elsewhere (SQLite, no prepared statements) it is a
    plain execute.
    """
    driver = connection.connection  # psycopg's connection under Django's (open: a cursor is)
    threshold = getattr(driver, "prepare_threshold", None)
    if connection.vendor != "postgresql" or threshold is None:
        cursor.execute(sql, params)
        return
    # Through Django's cursor (its execute wrappers and query log see it), with psycopg
    # told not to prepare for this one statement.
    driver.prepare_threshold = None
    try:
        cursor.execute(sql, params)
    finally:
        driver.prepare_threshold = threshold


@contextmanager
def unmapped() -> Iterator[None]:
    """SQLite: read the database through its page cache only, not a memory map, while a
    long job writes a large part of it, and map it again after. Every page a process
    touches through the map stays in its resident memory: a 1,000,000-row import peaked
    at 538 MB resident with 372 MB of its own heap. Nothing on PostgreSQL."""
    if connection.vendor != "sqlite":
        yield
        return
    with connection.cursor() as cursor:
        size = cursor.execute("PRAGMA mmap_size").fetchone()[0]
        cursor.execute("PRAGMA mmap_size=0")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"PRAGMA mmap_size={int(size)}")
