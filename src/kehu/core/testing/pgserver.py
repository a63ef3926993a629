"""A pytest plugin that starts a throwaway PostgreSQL server for the test run.

It also gives every run its own job-queue file and SQLite test-database file.

Enabled with KEHU_TEST_DB=postgres. It runs before pytest-django reads the
settings, so DATABASE_URL points at the new server; the server and its data
directory are removed when the run ends. As root it runs the server as the
`postgres` system user, because PostgreSQL refuses to run as root.
"""

from __future__ import annotations

import atexit
import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

PG_BIN_CANDIDATES = sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True)


@pytest.hookimpl(tryfirst=True)
def pytest_load_initial_conftests(early_config, parser, args) -> None:
    _files_of_this_run()
    if os.environ.get("KEHU_TEST_DB") != "postgres" or os.environ.get("DATABASE_URL"):
        return
    os.environ["DATABASE_URL"] = start_server()


def _files_of_this_run() -> None:
    """The job queue, the SQLite test database and the data directory (uploaded and job files)
    as files of this run only (in memory-backed /dev/shm where there is one): a worker process
    a test starts opens the same files, and two runs side by side — `make test` runs the
    SQLite and PostgreSQL suites at once — never share a queue or write the same job's files
    (job 1 exists in both databases). The data directory is always this run's: tests never
    write into a real installation's files."""
    shm = Path("/dev/shm")  # noqa: S108 (mkdtemp makes a private directory inside it)
    base = Path(tempfile.mkdtemp(prefix="kehu-test-", dir=shm if shm.is_dir() else None))
    atexit.register(shutil.rmtree, base, ignore_errors=True)
    os.environ["KEHU_DATA_DIR"] = str(base / "data")
    os.environ.setdefault("KEHU_JOB_QUEUE_FILE", str(base / "queue.sqlite3"))
    os.environ.setdefault("KEHU_SQLITE_TEST_NAME", str(base / "test.sqlite3"))
    # Writes do not start classification jobs in tests, except where a test turns it on.
    os.environ.setdefault("KEHU_CLASSIFY_DELAY_SECONDS", "0")
    os.environ.setdefault("KEHU_QUALITY_DELAY_SECONDS", "0")  # nor data-quality jobs
    # The whole suite calls the API from 127.0.0.1 within minutes: the rate limits are off,
    # except in tests/accounts/test_api_rate_limits.py, which sets them.
    os.environ.setdefault("KEHU_API_RATE_PER_TOKEN", "off")
    os.environ.setdefault("KEHU_API_RATE_PER_ADDRESS", "off")


def start_server() -> str:
    bin_dir = _pg_bin()
    base = Path(tempfile.mkdtemp(prefix="kehu-pg-"))
    data, sock = base / "data", base / "sock"
    sock.mkdir()
    as_user = _run_as()
    if as_user:
        shutil.chown(base, as_user)
        shutil.chown(sock, as_user)
    port = _free_port()
    _run(as_user, [str(bin_dir / "initdb"), "-D", str(data), "-U", "postgres", "-A", "trust",
                   "-E", "UTF8", "--locale=C.UTF-8", "--no-sync"])
    options = f"-p {port} -k {sock} -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
    _run(as_user, [str(bin_dir / "pg_ctl"), "-D", str(data), "-o", options, "-w", "-s",
                   "-l", str(base / "server.log"), "start"])

    def stop() -> None:
        _run(as_user, [str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "immediate", "-s", "stop"],
             check=False)
        shutil.rmtree(base, ignore_errors=True)

    atexit.register(stop)
    _wait_for(port)
    return f"postgresql://postgres@127.0.0.1:{port}/kehu"


def start_server_with_database() -> str:
    """A throwaway server (stopped and removed at exit) with an empty database `kehu`, for
    the benches (the test run's database is made by pytest-django)."""
    import psycopg

    url = start_server()
    with psycopg.connect(url.rsplit("/", 1)[0] + "/postgres", autocommit=True) as conn:
        conn.execute("CREATE DATABASE kehu")
    return url


def _pg_bin() -> Path:
    for candidate in PG_BIN_CANDIDATES:
        if (candidate / "initdb").exists():
            return candidate
    found = shutil.which("initdb")
    if found:
        return Path(found).parent
    raise RuntimeError("PostgreSQL server binaries not found: apt-get install postgresql")


def _run_as() -> str | None:
    return "postgres" if os.geteuid() == 0 else None


def _run(as_user: str | None, command: list[str], check: bool = True) -> None:
    if as_user:
        command = ["runuser", "-u", as_user, "--", *command]
    subprocess.run(command, check=check, stdout=subprocess.DEVNULL, cwd="/")  # noqa: S603


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_for(port: int, seconds: float = 20) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise RuntimeError(f"PostgreSQL did not start on port {port}")
