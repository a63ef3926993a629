"""KEHU_DB_POOL, KEHU_DB_PGBOUNCER and KEHU_DB_PREPARE: strict parsing and what they do
to DATABASES."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from django.core.exceptions import ImproperlyConfigured

from kehu.config.env import env_pool


@pytest.mark.parametrize(("raw", "expected"), [
    ("", None), ("off", None), ("0", None), ("false", None),
    ("on", {"min_size": 1, "max_size": 4, "timeout": 10}),
    ("1", {"min_size": 1, "max_size": 1, "timeout": 10}),
    ("8", {"min_size": 1, "max_size": 8, "timeout": 10}),
    ("2-6", {"min_size": 2, "max_size": 6, "timeout": 10}),
])
def test_pool_sizes(monkeypatch, raw, expected):
    monkeypatch.setenv("KEHU_DB_POOL", raw)
    assert env_pool("KEHU_DB_POOL") == expected


@pytest.mark.parametrize("raw", ["many", "6-2", "-4", "2-", "1.5"])
def test_a_bad_pool_stops_the_start(monkeypatch, raw):
    monkeypatch.setenv("KEHU_DB_POOL", raw)
    with pytest.raises(ImproperlyConfigured, match="KEHU_DB_POOL"):
        env_pool("KEHU_DB_POOL")


def database_settings(**env: str | None) -> subprocess.CompletedProcess:
    """DATABASES as the settings build them under `env` (a None unsets the variable)."""
    code = ("import json; from kehu.config import settings as s; "
            "print(json.dumps({k: s.DATABASES['default'][k] for k in "
            "('OPTIONS', 'CONN_MAX_AGE', 'DISABLE_SERVER_SIDE_CURSORS') "
            "if k in s.DATABASES['default']}))")
    merged = {k: v for k, v in {**os.environ, **env}.items() if v is not None}
    return subprocess.run([sys.executable, "-c", code], env=merged,
                          capture_output=True, text=True, timeout=60)


def test_a_pool_on_postgresql_replaces_persistent_connections():
    run = database_settings(DATABASE_URL="postgresql://kehu@db.example:5432/kehu",
                            KEHU_DB_POOL="2-8", KEHU_DB_PGBOUNCER="false")
    assert run.returncode == 0, run.stderr
    db = json.loads(run.stdout)
    assert db["OPTIONS"]["pool"] == {"min_size": 2, "max_size": 8, "timeout": 10}
    assert db["CONN_MAX_AGE"] == 0 and db["DISABLE_SERVER_SIDE_CURSORS"] is False


def test_pgbouncer_mode_turns_server_side_cursors_off():
    run = database_settings(DATABASE_URL="postgresql://kehu@pgbouncer:6432/kehu",
                            KEHU_DB_PGBOUNCER="true", KEHU_DB_POOL="off")
    assert run.returncode == 0, run.stderr
    db = json.loads(run.stdout)
    assert db["DISABLE_SERVER_SIDE_CURSORS"] is True and "pool" not in db["OPTIONS"]


def test_postgresql_prepares_repeated_statements_unless_behind_pgbouncer():
    direct = database_settings(DATABASE_URL="postgresql://kehu@db.example:5432/kehu",
                               KEHU_DB_PGBOUNCER="false", KEHU_DB_POOL="off", KEHU_DB_PREPARE=None)
    assert direct.returncode == 0, direct.stderr
    options = json.loads(direct.stdout)["OPTIONS"]
    assert options["server_side_binding"] is True and options["prepare_threshold"] == 2
    for env in ({"KEHU_DB_PGBOUNCER": "true", "KEHU_DB_PREPARE": None},
                {"KEHU_DB_PGBOUNCER": "false", "KEHU_DB_PREPARE": "off"}):
        run = database_settings(DATABASE_URL="postgresql://kehu@pgbouncer:6432/kehu",
                                KEHU_DB_POOL="off", **env)
        assert run.returncode == 0, run.stderr
        options = json.loads(run.stdout)["OPTIONS"]
        assert "server_side_binding" not in options and "prepare_threshold" not in options


def test_a_pool_on_sqlite_stops_the_start(tmp_path):
    run = database_settings(DATABASE_URL=f"sqlite:///{tmp_path / 'x.sqlite3'}", KEHU_DB_POOL="on")
    assert run.returncode != 0 and "KEHU_DB_POOL needs DATABASE_URL to be PostgreSQL" in run.stderr
