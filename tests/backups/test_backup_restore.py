"""An admin's backups: taken while Kehu runs, refused when tampered with, restored whole."""

from __future__ import annotations

import contextlib
import datetime as dt
import tarfile
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from kehu.backups import archive, databases, retention
from kehu.history import services as history

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "files"
    settings.KEHU_BACKUP_DIR = tmp_path / "backups"
    return settings.MEDIA_ROOT


@pytest.fixture
def alices_book(alice, make_customer, media, django_capture_on_commit_callbacks):
    """Three customers of alice's, one call with a quote attached (written at commit)."""
    customers = [make_customer(alice, name=f"杭州茶叶{n}号店") for n in range(3)]
    call = history.communication_log(actor=alice, origin="manual", customer=customers[0],
                                     data={"subject": "发送报价"})
    with django_capture_on_commit_callbacks(execute=True):
        history.attachment_add(actor=alice, origin="manual", communication=call,
                               upload=SimpleUploadedFile("报价单.pdf", b"%PDF-1.4 quote"))
    return customers


@contextlib.contextmanager
def restored(backup: Path, tmp_path: Path) -> Iterator[Any]:
    """A cursor on the backup's database restored into a scratch file or database."""
    manifest = archive.backup_verify(backup)
    dump = archive.extract(backup, manifest["database"], tmp_path / manifest["database"])
    vendor = connection.vendor
    if vendor == "sqlite":
        target = tmp_path / "restored.sqlite3"
        databases.restore_sqlite(dump, target)
        with databases.open_cursor(vendor, str(target)) as cursor:
            yield cursor
        return
    with databases.scratch_postgres("kehu_test_restore") as name:
        # pg_restore adds the foreign keys after the rows: a dangling one fails the restore.
        databases.restore_postgres(dump, dbname=name)
        with databases.open_cursor(vendor, name) as cursor:
            yield cursor


def restored_checksums(backup: Path, tmp_path: Path) -> dict:
    with restored(backup, tmp_path) as cursor:
        return databases.checksums(cursor, connection.vendor)


def live_checksums() -> dict:
    with databases.open_cursor(connection.vendor, databases.live_target()) as cursor:
        return databases.checksums(cursor, connection.vendor)


def test_a_backup_restores_every_table_row_for_row_and_every_attachment(
        alices_book, media, tmp_path):
    backup = tmp_path / "kehu.tar.gz"
    call_command("backup", str(backup))
    assert restored_checksums(backup, tmp_path) == live_checksums()
    fresh = tmp_path / "fresh-files"
    assert archive.extract_files(backup, fresh) == 1
    [original] = [p for p in media.rglob("*") if p.is_file()]
    assert (fresh / original.relative_to(media)).read_bytes() == b"%PDF-1.4 quote"
    manifest = archive.backup_verify(backup)
    assert manifest["vendor"] == connection.vendor
    assert manifest["row_counts"]["customers_customer"] == 3
    assert "customers.0001_initial" in manifest["migrations"]
    # the database copy, the files and the manifest; no secret key, no job queue
    assert {n for n in manifest["sha256"] if not n.startswith("files/")} == {
        manifest["database"]}


def test_the_drill_reports_every_table_equal_then_fails_on_a_difference(
        alices_book, alice, make_customer, tmp_path, capsys):
    backup = tmp_path / "kehu.tar"
    call_command("backup", str(backup))
    call_command("backup", "drill", str(backup))
    assert "全部一致" in capsys.readouterr().out
    make_customer(alice, name="备份之后的新客户")
    with pytest.raises(CommandError, match="customers_customer"):
        call_command("backup", "drill", str(backup))
    assert "customers_customer" in capsys.readouterr().out


def test_a_tampered_attachment_is_refused_naming_the_member(alices_book, tmp_path):
    backup = tmp_path / "kehu.tar"  # uncompressed, so one byte can be flipped in place
    archive.backup_create(backup)
    with tarfile.open(backup) as tar:
        member = next(m for m in tar.getmembers() if m.name.startswith("files/"))
    with backup.open("r+b") as handle:
        handle.seek(member.offset_data)
        handle.write(b"X")
    with pytest.raises(CommandError, match=f"成员 {member.name} 的校验和不符"):
        call_command("restore", str(backup))


def test_a_truncated_backup_is_refused_in_one_line(alices_book, tmp_path):
    backup = tmp_path / "kehu.tar.gz"
    archive.backup_create(backup)
    backup.write_bytes(backup.read_bytes()[: backup.stat().st_size // 2])
    with pytest.raises(CommandError, match="备份") as refused:
        call_command("restore", str(backup))
    assert "\n" not in str(refused.value)


def test_restore_refuses_an_instance_that_already_has_data(alices_book, tmp_path):
    backup = tmp_path / "kehu.tar.gz"
    archive.backup_create(backup)
    with pytest.raises(CommandError, match="--force"):
        call_command("restore", str(backup))


ORPHANS = """SELECT COUNT(*) FROM customers_customer c WHERE NOT EXISTS (
    SELECT 1 FROM core_changelog l WHERE l.model = 'customers.customer'
    AND l.action = 'create' AND l.object_id = c.id)"""


def writes_seen(manifests: list[dict]) -> int:
    return len({m["row_counts"]["customers_customer"] for m in manifests})


def test_a_backup_taken_while_customers_are_written_is_one_point_in_time(
        alice, make_customer, media, tmp_path):
    stop, written = threading.Event(), [0]

    def backup_after_a_new_customer(path: Path) -> dict:
        seen = written[0]
        while written[0] == seen and writer.is_alive():  # the writer commits between copies
            stop.wait(0.005)
        return archive.backup_create(path)

    def keep_writing() -> None:
        try:
            while not stop.is_set():
                make_customer(alice, name=f"并发客户{written[0]}")
                written[0] += 1
        finally:
            connection.close()

    writer = threading.Thread(target=keep_writing)
    writer.start()
    try:
        make_customer(alice, name="先有的客户")
        backups = [tmp_path / f"during-{n}.tar" for n in range(3)]
        manifests = [backup_after_a_new_customer(path) for path in backups]
    finally:
        stop.set()
        writer.join()
    for backup, manifest in zip(backups, manifests, strict=True):
        (tmp_path / backup.stem).mkdir()
        with restored(backup, tmp_path / backup.stem) as cursor:
            counts = {t: rows for t, (rows, _sum) in databases.checksums(
                cursor, connection.vendor).items()}
            if connection.vendor == "sqlite":
                cursor.execute("PRAGMA foreign_key_check")
                assert cursor.fetchall() == []
            # A customer and its change-log row commit together: a copy taken between the
            # two writes of one customer would show a customer without its "create" row.
            cursor.execute(ORPHANS)
            assert cursor.fetchone()[0] == 0
        assert counts == manifest["row_counts"]
        assert counts["customers_customer"] >= 1
    assert writes_seen(manifests) == 3  # the writer really ran between the copies


def test_retention_keeps_the_newest_of_seven_days_and_four_weeks(tmp_path):
    folder = tmp_path / "backups"
    folder.mkdir()
    first = dt.datetime(2026, 10, 1, 2, 30, tzinfo=dt.UTC)
    for night in range(60):  # two months of nightly backups, two on 11-25 (a manual re-run)
        (folder / archive.stamp_name(first + dt.timedelta(days=night))).touch()
    (folder / archive.stamp_name(dt.datetime(2026, 11, 25, 3, 0, tzinfo=dt.UTC))).touch()
    (folder / "notes.txt").touch()
    retention.prune(folder, daily=7, weekly=4)
    kept = sorted(p.name for p in folder.iterdir())
    assert kept == [
        "kehu-20261108-103000.tar.gz",  # Sunday ends ISO week 45
        "kehu-20261115-103000.tar.gz",  # week 46
        "kehu-20261122-103000.tar.gz",  # week 47
        "kehu-20261123-103000.tar.gz",  # the last seven days, 11-23 (Mon) to 11-29 (Sun)
        "kehu-20261124-103000.tar.gz",
        "kehu-20261125-110000.tar.gz",  # the day's newest (a re-run), not its 10:30 one
        "kehu-20261126-103000.tar.gz", "kehu-20261127-103000.tar.gz",
        "kehu-20261128-103000.tar.gz", "kehu-20261129-103000.tar.gz",
        "notes.txt",
    ]
