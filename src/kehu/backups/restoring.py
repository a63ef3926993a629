"""Restore a verified backup into an empty instance, and the restore drill."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import CommandError
from django.db import connection, connections

from kehu.audit.anchors import anchors_set_aside
from kehu.backups import archive, databases


def backup_restore(path: Path, *, force: bool = False) -> dict[str, Any]:
    """Verify every checksum, refuse a non-empty instance unless forced, then restore."""
    manifest = archive.backup_verify(path)
    vendor = connection.vendor
    if manifest["vendor"] != vendor:
        raise CommandError(f"备份来自 {manifest['vendor']}，本实例使用 {vendor}")
    media = Path(settings.MEDIA_ROOT)
    if not force and (_database_in_use(vendor) or _has_files(media)):
        raise CommandError("目标实例不是空的（已有数据表或文件）；确认覆盖请加 --force")
    with tempfile.TemporaryDirectory() as tmp:
        dump = archive.extract(path, manifest["database"], Path(tmp) / manifest["database"])
        connections.close_all()
        if vendor == "sqlite":
            databases.restore_sqlite(dump, databases.sqlite_path())
        else:
            if force:
                _empty_postgres()
            databases.restore_postgres(dump)
    files = archive.extract_files(path, media)
    anchors_set_aside("before-restore")  # the restored chain is older than the anchors
    return {"tables": len(manifest["row_counts"]), "files": files}


def _database_in_use(vendor: str) -> bool:
    if vendor == "sqlite" and not databases.sqlite_path().exists():
        return False
    with connection.cursor() as cursor:
        return bool(databases.table_names(cursor, vendor))


def _has_files(media: Path) -> bool:
    return media.exists() and any(p.is_file() for p in media.rglob("*"))


def _empty_postgres() -> None:
    with connection.cursor() as cursor:
        cursor.execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public")
    connections.close_all()


def backup_drill(path: Path) -> list[dict[str, Any]]:
    """Restore into a scratch database; compare every table with the live one.

    Returns one row per table: name, live and restored counts and checksums, `same`.
    """
    manifest = archive.backup_verify(path)
    vendor = connection.vendor
    with tempfile.TemporaryDirectory() as tmp:
        dump = archive.extract(path, manifest["database"], Path(tmp) / manifest["database"])
        if vendor == "sqlite":
            scratch = Path(tmp) / "drill.sqlite3"
            databases.restore_sqlite(dump, scratch)
            return _compare(vendor, str(scratch))
        with databases.scratch_postgres(f"kehu_drill_{os.getpid()}") as name:
            databases.restore_postgres(dump, dbname=name)
            return _compare(vendor, name)


def _compare(vendor: str, target: str) -> list[dict[str, Any]]:
    # A plain DB-API connection on both sides: Django's cursor converts types on the way out.
    with databases.open_cursor(vendor, databases.live_target()) as cursor:
        live = databases.checksums(cursor, vendor)
    with databases.open_cursor(vendor, target) as cursor:
        restored = databases.checksums(cursor, vendor)
    rows = []
    for table in sorted(set(live) | set(restored)):
        a, b = live.get(table), restored.get(table)
        rows.append({"table": table, "live": a[0] if a else None,
                     "restored": b[0] if b else None,
                     "live_sum": a[1][:12] if a else "", "restored_sum": b[1][:12] if b else "",
                     "same": a == b})
    return rows
