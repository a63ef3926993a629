"""The real command line: `kehu restore` into a fresh instance, and the nightly job."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connection

from kehu.backups import archive, databases
from kehu.jobs.models import Job, Schedule
from kehu.jobs.schedules import run_due, sync_schedules
from kehu.jobs.testing import drain, flush_queue, worker_env
from tests.backups.test_backup_restore import alices_book, live_checksums, media  # noqa: F401

pytestmark = pytest.mark.django_db(transaction=True)
SHANGHAI = dt.timezone(dt.timedelta(hours=8))


def kehu(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    command = [str(Path(sys.executable).with_name("kehu")), *args]
    return subprocess.run(command, env=env, capture_output=True, text=True, check=False)  # noqa: S603


def assert_a_working_instance(env: dict[str, str]) -> None:
    """Django's checks pass on the restored database and no migration is missing."""
    for command in (["check", "--database", "default"], ["migrate", "--check"]):
        done = kehu(*command, env=env)
        assert done.returncode == 0, done.stdout + done.stderr


def test_kehu_restore_rebuilds_a_fresh_instance_table_for_table_file_for_file(
        alices_book, media, tmp_path, settings):  # noqa: F811
    backup = tmp_path / "kehu.tar.gz"
    archive.backup_create(backup)
    fresh = tmp_path / "fresh"
    env = {**worker_env(), "KEHU_DATA_DIR": str(fresh)}
    vendor = connection.vendor
    if vendor == "sqlite":
        env["DATABASE_URL"] = f"sqlite:///{fresh / 'kehu.sqlite3'}"
        restored = kehu("restore", str(backup), env=env)
        target = str(fresh / "kehu.sqlite3")
        assert restored.returncode == 0, restored.stderr
        again = kehu("restore", str(backup), env=env)  # now it has data: refused
        forced = kehu("restore", "--force", str(backup), env=env)
        assert_a_working_instance(env)
        with databases.open_cursor(vendor, target) as cursor:
            tables = databases.checksums(cursor, vendor)
    else:
        with databases.scratch_postgres("kehu_test_fresh") as name:
            env["DATABASE_URL"] = env["DATABASE_URL"].rsplit("/", 1)[0] + f"/{name}"
            restored = kehu("restore", str(backup), env=env)
            assert restored.returncode == 0, restored.stderr
            again = kehu("restore", str(backup), env=env)
            forced = kehu("restore", "--force", str(backup), env=env)
            assert_a_working_instance(env)
            with databases.open_cursor(vendor, name) as cursor:
                tables = databases.checksums(cursor, vendor)
    assert tables == live_checksums()
    originals = {p.relative_to(media): p.read_bytes() for p in media.rglob("*") if p.is_file()}
    copies = {p.relative_to(fresh / "files"): p.read_bytes()
              for p in (fresh / "files").rglob("*") if p.is_file()}
    assert copies == originals and len(copies) == 1
    assert forced.returncode == 0, forced.stderr  # --force overwrites, and the tables match
    assert (again.returncode, again.stderr.strip()) == (
        1, "错误：目标实例不是空的（已有数据表或文件）；确认覆盖请加 --force")


def test_the_nightly_backup_runs_at_half_past_two_and_reports_its_file(
        alices_book, settings):  # noqa: F811
    flush_queue()
    sync_schedules(now=dt.datetime(2026, 12, 1, 12, 0, tzinfo=SHANGHAI))
    Schedule.objects.exclude(name="backups.nightly").update(enabled=False)
    assert run_due(now=dt.datetime(2026, 12, 2, 2, 29, tzinfo=SHANGHAI)) == []
    [started] = run_due(now=dt.datetime(2026, 12, 2, 2, 30, tzinfo=SHANGHAI))
    drain()
    job = Job.objects.get(pk=started.pk)
    assert job.status == "done", job.error
    [written] = Path(settings.KEHU_BACKUP_DIR).glob("kehu-*.tar.gz")
    assert job.result["文件"] == written.name and job.result["删除旧备份"] == 0
    assert archive.backup_verify(written)["row_counts"]["customers_customer"] == 3
