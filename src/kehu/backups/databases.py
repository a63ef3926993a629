"""The database half of a backup: a consistent copy out, a restore in, table checksums.

SQLite goes through the online backup API (`sqlite3.Connection.backup` in one step: one read
transaction, so writers keep going in the WAL while the copy is taken and the copy is one
point in time). PostgreSQL goes through the server's own `pg_dump --format=custom`, run on a
snapshot this module exported, so the manifest's row counts and the dump see the same rows.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import sqlite3
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from django.core.management.base import CommandError
from django.db import connection

SQLITE_MEMBER = "database.sqlite3"
POSTGRES_MEMBER = "database.pgdump"


def member_name(vendor: str) -> str:
    return SQLITE_MEMBER if vendor == "sqlite" else POSTGRES_MEMBER


def sqlite_path() -> Path:
    return Path(connection.settings_dict["NAME"])


def live_target() -> str:
    """What `open_cursor` needs to reach the live database (committed rows only)."""
    return str(sqlite_path()) if connection.vendor == "sqlite" else connection.settings_dict["NAME"]


def snapshot_sqlite(dest: Path) -> dict[str, Any]:
    """Copy the live SQLite database to `dest`; counts and migrations read from the copy."""
    source = sqlite3.connect(sqlite_path(), timeout=60)
    target = sqlite3.connect(dest)
    try:
        source.backup(target)  # pages=-1: the whole file in one step, one point in time
    finally:
        source.close()
    try:
        return describe(target.cursor(), "sqlite")
    finally:
        target.close()


def snapshot_postgres(dest: Path) -> dict[str, Any]:
    """pg_dump the configured database on a snapshot whose row counts go in the manifest."""
    import psycopg

    with psycopg.connect(**pg_params(), autocommit=False) as conn:
        conn.execute("BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        snapshot = conn.execute("SELECT pg_export_snapshot()").fetchone()[0]
        facts = describe(conn.cursor(), "postgresql")
        # The snapshot lives as long as this transaction: pg_dump runs while it is open.
        _pg_tool("pg_dump", ["--format=custom", "--no-owner", "--no-privileges",
                             f"--snapshot={snapshot}", f"--file={dest}"])
        conn.rollback()
    return facts


def restore_sqlite(member: Path, target: Path) -> None:
    """Put the backed-up database file in place of `target` (its WAL and SHM go with it)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    for suffix in ("-wal", "-shm"):
        Path(f"{target}{suffix}").unlink(missing_ok=True)
    staging = target.with_name(target.name + ".restoring")
    shutil.copyfile(member, staging)
    os.replace(staging, target)


def restore_postgres(member: Path, dbname: str | None = None) -> None:
    """pg_restore into the configured (empty) database, or `dbname` on the same server."""
    _pg_tool("pg_restore", ["--no-owner", "--no-privileges", "--exit-on-error",
                            "--single-transaction", str(member)], dbname=dbname)


def pg_params(dbname: str | None = None) -> dict[str, Any]:
    s = connection.settings_dict
    params = {"dbname": dbname or s["NAME"], "user": s.get("USER") or None,
              "password": s.get("PASSWORD") or None, "host": s.get("HOST") or None,
              "port": s.get("PORT") or None}
    return {k: v for k, v in params.items() if v}


def _pg_tool(tool: str, args: list[str], dbname: str | None = None) -> None:
    params = pg_params(dbname)
    env = {**os.environ, "PGPASSWORD": str(params.get("password", ""))}
    command = [str(pg_binary(tool)), f"--dbname={params['dbname']}"]
    command += [f"--{opt}={params[opt]}" for opt in ("host", "port", "user") if opt in params]
    done = subprocess.run([*command, *args], env=env, capture_output=True, text=True,  # noqa: S603
                          check=False)
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["?"])[-1]
        raise CommandError(f"{tool} 失败：{last}")


def pg_binary(tool: str) -> Path:
    """The tool of the server's major version (an older pg_dump refuses a newer server)."""
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version_num")
        major = int(cursor.fetchone()[0]) // 10000
    for candidate in (Path(f"/usr/lib/postgresql/{major}/bin/{tool}"),):
        if candidate.exists():
            return candidate
    found = shutil.which(tool)
    if not found:
        raise CommandError(f"找不到 {tool}：请安装 PostgreSQL {major} 的客户端工具")
    return Path(found)


def describe(cursor: Any, vendor: str) -> dict[str, Any]:
    """Row counts of every table and the migrations applied, as seen by `cursor`."""
    tables = table_names(cursor, vendor)
    counts = {}
    for table in tables:
        cursor.execute(f'SELECT COUNT(*) FROM "{table}"')  # noqa: S608 (names from the catalogue)
        counts[table] = cursor.fetchone()[0]
    migrations: list[str] = []
    if "django_migrations" in tables:
        cursor.execute("SELECT app, name FROM django_migrations ORDER BY app, name")
        migrations = [f"{app}.{name}" for app, name in cursor.fetchall()]
    return {"row_counts": counts, "migrations": migrations}


def table_names(cursor: Any, vendor: str) -> list[str]:
    if vendor == "sqlite":
        cursor.execute("SELECT name FROM sqlite_master WHERE type = 'table' "
                       "AND name NOT LIKE 'sqlite_%' ORDER BY name")
    else:
        cursor.execute("SELECT tablename FROM pg_tables WHERE schemaname = current_schema() "
                       "ORDER BY tablename")
    return [row[0] for row in cursor.fetchall()]


def key_columns(cursor: Any, vendor: str, table: str) -> list[str]:
    """The primary key's columns (every column when there is none): the rows' order."""
    if vendor == "sqlite":
        cursor.execute(f'PRAGMA table_info("{table}")')
        rows = cursor.fetchall()
        keys = [r[1] for r in sorted(rows, key=lambda r: r[5]) if r[5]]
        return keys or [r[1] for r in rows]
    cursor.execute(
        "SELECT a.attname FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid "
        "AND a.attnum = ANY(i.indkey) WHERE i.indrelid = %s::regclass AND i.indisprimary "
        "ORDER BY array_position(i.indkey, a.attnum)", [f'"{table}"'])
    keys = [r[0] for r in cursor.fetchall()]
    if keys:
        return keys
    cursor.execute("SELECT column_name FROM information_schema.columns WHERE table_name = %s "
                   "AND table_schema = current_schema() ORDER BY ordinal_position", [table])
    return [r[0] for r in cursor.fetchall()]


def table_checksum(cursor: Any, vendor: str, table: str, *, columns: list[str] | None = None,
                   canon: Callable[[tuple], tuple] | None = None) -> tuple[int, str]:
    """(rows, SHA-256 of every row in primary-key order) of one table.

    Between two databases of one vendor the rows are hashed as the driver reads them. Across
    vendors (`kehu migrate-db`) name the `columns` (a table's columns need not be in the same
    order on both) and give `canon`, which makes each row vendor-neutral before it is hashed
    (`backups/columns.py`); keys are then ordered byte-wise on both sides, as SQLite does.
    """
    keys = key_columns(cursor, vendor, table)
    text = _collatable(cursor, table) if canon is not None and vendor != "sqlite" else set()
    order = ", ".join(f'"{c}"' + (' COLLATE "C"' if c in text else "") for c in keys)
    names = ", ".join(f'"{c}"' for c in columns) if columns else "*"
    return rows_checksum(cursor, f'SELECT {names} FROM "{table}" ORDER BY {order}', canon)  # noqa: S608


def rows_checksum(cursor: Any, query: str,
                  canon: Callable[[tuple], tuple] | None = None) -> tuple[int, str]:
    """(rows, SHA-256 of the rows `query` reads, in its order, each made neutral by `canon`)."""
    cursor.execute(query)
    digest, rows = hashlib.sha256(), 0
    while batch := cursor.fetchmany(2000):
        for row in batch:
            digest.update(repr(canon(tuple(row)) if canon else tuple(row)).encode())
            rows += 1
    return rows, digest.hexdigest()


def _collatable(cursor: Any, table: str) -> set[str]:
    """A PostgreSQL table's text columns (ordered by the database's locale unless told)."""
    cursor.execute("SELECT attname FROM pg_attribute WHERE attrelid = %s::regclass "
                   "AND attnum > 0 AND attcollation <> 0", [f'"{table}"'])
    return {r[0] for r in cursor.fetchall()}


def checksums(cursor: Any, vendor: str) -> dict[str, tuple[int, str]]:
    return {t: table_checksum(cursor, vendor, t) for t in table_names(cursor, vendor)}


@contextlib.contextmanager
def scratch_postgres(name: str) -> Iterator[str]:
    """A throwaway database on the live server, dropped afterwards."""
    import psycopg

    admin = pg_params("postgres")
    with psycopg.connect(**admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield name
    finally:
        with psycopg.connect(**admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextlib.contextmanager
def open_cursor(vendor: str, target: str) -> Iterator[Any]:
    """A DB-API cursor on a SQLite file or a PostgreSQL database of the live server."""
    if vendor == "sqlite":
        conn = sqlite3.connect(target)
        try:
            yield conn.cursor()
        finally:
            conn.close()
        return
    import psycopg

    with psycopg.connect(**pg_params(target)) as conn, conn.cursor() as cursor:
        yield cursor
