"""Run a benchmark on PostgreSQL: the bench's own server, and the SQLite bench database
moved up to it once with `kehu migrate-db`.

    .venv/bin/python bench/pg.py [--customers 1000000] [--seed 1] [--org demo|enterprise]
                                 -- bench/board.py [its arguments]

The server keeps its data in var/bench/pg-server/ between runs (started here, stopped when
the command ends). Each shape has a database of its own (`kehu_c<N>_s<S>`, `…_enterprise`),
filled on first use from var/bench/sqlite-c<N>-s<S>[-enterprise]/ — build that first with
`bench/run.py` (and `--org enterprise`) — by `kehu migrate-db`, which copies every table and
checks each one's rows and checksum. The keys and people files come along to
var/bench/pg-c<N>-s<S>[-enterprise]/, the data directory the PostgreSQL runs use.

The command runs with DATABASE_URL set to that database; `{data_dir}` in its arguments is
replaced by that data directory (for the scripts that take `--data-dir`).
"""

from __future__ import annotations

import argparse
import atexit
import os
import shutil
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

ROOT = Path(__file__).resolve().parent.parent
BIN = ROOT / ".venv" / "bin"
# A server for 10,000,000 rows on this machine (23 GB RAM, 2 cores); durability off, as
# the test server runs: the numbers are about the queries, not the disk.
PG_OPTIONS = ("-c fsync=off -c synchronous_commit=off -c full_page_writes=off "
              "-c shared_buffers=2GB -c work_mem=128MB -c maintenance_work_mem=1GB "
              "-c max_wal_size=8GB -c effective_cache_size=8GB")
CARRIED = ("secret_key", "audit_key", "enterprise.json", "bench-ready.json")


def main(argv: list[str] | None = None) -> int:
    args, command = parse_args(argv)
    shape = f"c{args.customers}-s{args.seed}" + ("-enterprise" if args.org == "enterprise" else "")
    source = ROOT / "var" / "bench" / f"sqlite-{shape}"
    data_dir = ROOT / "var" / "bench" / f"pg-{shape}"
    if not (source / "kehu.sqlite3").exists():
        sys.exit(f"{source} has no database yet: run bench/run.py"
                 f"{' --org enterprise' if args.org == 'enterprise' else ''} first")
    server = pg_server(ROOT / "var" / "bench" / "pg-server")
    url = f"{server}/kehu_{shape.replace('-', '_')}"
    data_dir.mkdir(parents=True, exist_ok=True)
    for name in CARRIED:
        if (source / name).exists() and not (data_dir / name).exists():
            shutil.copy2(source / name, data_dir / name)
    if _empty(server, url):
        print(f"Moving {source.name} up to PostgreSQL (kehu migrate-db) …", flush=True)
        env = {**os.environ, "KEHU_DATA_DIR": str(source)}
        env.pop("DATABASE_URL", None)
        subprocess.run([str(BIN / "kehu"), "migrate"], env=env, check=True)  # the source first
        subprocess.run([str(BIN / "kehu"), "migrate-db", "--to", url], env=env, check=True)
    env = {**os.environ, "DATABASE_URL": url, "KEHU_DATA_DIR": str(data_dir)}
    command = [part.replace("{data_dir}", str(data_dir)) for part in command]
    return subprocess.run([str(BIN / "python"), *command], env=env, cwd=ROOT).returncode


def pg_server(base: Path) -> str:
    """A PostgreSQL server on `base`/data (initialised on the first run, kept after), on a
    free port, stopped when this process exits; its URL without a database name."""
    from kehu.core.testing.pgserver import _free_port, _pg_bin, _run, _run_as, _wait_for

    bin_dir, as_user = _pg_bin(), _run_as()
    data, sock = base / "data", base / "sock"
    sock.mkdir(parents=True, exist_ok=True)
    if as_user:
        shutil.chown(base, as_user)
        shutil.chown(sock, as_user)
    fresh = not (data / "PG_VERSION").exists()
    if fresh:
        _run(as_user, [str(bin_dir / "initdb"), "-D", str(data), "-U", "postgres", "-A", "trust",
                       "-E", "UTF8", "--locale=C.UTF-8", "--no-sync"])
    port = _free_port()
    _run(as_user, [str(bin_dir / "pg_ctl"), "-D", str(data), "-o",
                   f"-p {port} -k {sock} {PG_OPTIONS}", "-w", "-s", "-t", "300",
                   "-l", str(base / "server.log"), "start"])
    atexit.register(_run, as_user, [str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "fast",
                                    "-s", "stop"], False)
    _wait_for(port)
    return f"postgresql://postgres@127.0.0.1:{port}"


def parse_args(argv: list[str] | None) -> tuple[argparse.Namespace, list[str]]:
    argv = sys.argv[1:] if argv is None else argv
    if "--" not in argv:
        sys.exit("usage: bench/pg.py [--customers N] [--seed S] [--org O] -- SCRIPT [ARGS]")
    split = argv.index("--")
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--org", choices=("demo", "enterprise"), default="demo")
    return parser.parse_args(argv[:split]), argv[split + 1:]


def _empty(server: str, url: str) -> bool:
    """Whether the shape's database (created when missing) has no tables yet: migrate-db
    empties it again when a copy fails, so a failed first run starts over next time."""
    import psycopg

    name = url.rsplit("/", 1)[1]
    with psycopg.connect(f"{server}/postgres", autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')
            return True
    with psycopg.connect(url) as conn:
        return conn.execute("SELECT to_regclass('customers_customer')").fetchone()[0] is None


if __name__ == "__main__":
    sys.exit(main())
