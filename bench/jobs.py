"""Benchmark the background jobs: queue throughput and the web list while a job writes.

    .venv/bin/python bench/jobs.py [--customers 20000] [--jobs 2000] [--backend sqlite|postgres|both]

For each backend: a demo database of --customers customers, built once under
var/bench/jobs-<backend>-c<N>/ and restored before every run (the long job adds
customers): SQLite from a pristine copy of the file, PostgreSQL by pg_restore into a
throwaway server of its own (kehu.core.testing.pgserver); `kehu serve` (2 gunicorn sync
workers) and one `kehu worker` (2 threads) on it, and 2 client threads sending
`GET /api/v1/customers?limit=50` as the admin (bearer token) in three phases:

1. idle: the worker waits, the web load runs --seconds seconds (the baseline);
2. throughput: --jobs `jobs.prune` jobs started in one transaction under the same web
   load; jobs/s from the first job's creation to the last one's finish;
3. long job: one `demo.load` of --job-customers customers (batches of 1,000) under the
   same web load for the job's whole run; non-200 answers and "database is locked" lines
   in the server and worker logs (must be 0), and the job's own rate.

Each backend runs in a child process of its own (Django's settings are per process);
the parent prints the table and saves bench/results/jobs.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

from run import (
    BIN,
    CLIENT_THREADS,
    ROOT,
    WORKERS,
    Client,
    Result,
    free_ports,
    identities,
    start,
    stop,
    wait_for,
)

RESULTS = ROOT / "bench" / "results" / "jobs.md"
BACKENDS = ("sqlite", "postgres")
LIST = "/api/v1/customers?limit=50"
LOCKED = "database is locked"
WORKER_THREADS = 2


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.child:
        result = run_backend(args)
        Path(args.child).write_text(json.dumps(result, indent=1), encoding="utf-8")
        return 0
    backends = BACKENDS if args.backend == "both" else (args.backend,)
    signal.signal(signal.SIGTERM, interrupted)
    machine = describe_machine()
    results = {}
    for backend in backends:
        print(f"== {backend} ==", flush=True)
        out = data_dir_for(backend, args.customers) / "result.json"
        out.parent.mkdir(parents=True, exist_ok=True)
        out.unlink(missing_ok=True)
        command = [sys.executable, __file__, *(argv if argv is not None else sys.argv[1:]),
                   "--backend", backend, "--child", str(out)]
        child = subprocess.Popen(command, cwd=ROOT)
        try:
            code = child.wait()
        except BaseException:  # Ctrl-C or SIGTERM: let the child stop its servers first
            child.send_signal(signal.SIGTERM)
            child.wait(timeout=30)
            raise
        if code != 0 or not out.exists():
            print(f"  {backend}: the run failed (exit status {code}); see the logs in "
                  f"{out.parent.relative_to(ROOT)}", flush=True)
            continue
        results[backend] = json.loads(out.read_text(encoding="utf-8"))
    if not results:
        return 1
    report(args, argv, machine, results)
    return 0 if len(results) == len(backends) else 1


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--customers", type=int, default=20_000, help="customers in the database")
    parser.add_argument("--jobs", type=int, default=2000, help="jobs.prune jobs for the throughput")
    parser.add_argument("--job-customers", type=int, default=20_000,
                        help="customers the long demo.load job writes")
    parser.add_argument("--backend", choices=(*BACKENDS, "both"), default="both")
    parser.add_argument("--seconds", type=float, default=20, help="length of the idle baseline")
    parser.add_argument("--timeout", type=float, default=300, help="longest wait for a phase's jobs")
    parser.add_argument("--child", default="", help=argparse.SUPPRESS)  # internal: one backend
    return parser.parse_args(argv)


def data_dir_for(backend: str, customers: int) -> Path:
    return ROOT / "var" / "bench" / f"jobs-{backend}-c{customers}"


# --- one backend, in its own process ---------------------------------------------------


def run_backend(args: argparse.Namespace) -> dict[str, Any]:
    signal.signal(signal.SIGTERM, interrupted)  # stop the servers on the way out
    load_before = os.getloadavg()
    data_dir = data_dir_for(args.backend, args.customers)
    env = prepare_environment(args.backend, data_dir)
    built = build_database(args, data_dir)
    setup = identities({})
    from kehu.accounts.models import User

    admin = User.objects.get(username="admin")
    logs = {"server": data_dir / "kehu.log", "worker": data_dir / "worker.log"}
    for log in logs.values():
        log.write_bytes(b"")
    processes = []
    try:
        (port,) = free_ports(1)
        processes.append(start([str(BIN / "kehu"), "serve", "--host", "127.0.0.1", "--port",
                                str(port), "--workers", str(WORKERS)], env, logs["server"]))
        processes.append(start([str(BIN / "kehu"), "worker"], env, logs["worker"]))
        wait_for(processes[0], port)
        wait_for_worker(processes[1], logs["worker"])
        load = WebLoad(port, setup["tokens"]["admin"])
        load.warm_up()
        phases = {
            "idle": phase_idle(args, load, logs),
            "throughput": phase_throughput(args, load, logs, admin),
            "long": phase_long_job(args, load, logs, admin),
        }
    finally:
        for process in processes:
            stop(process)
    from django.db import connection

    return {"backend": args.backend, "vendor": connection.vendor, "version": db_version(),
            "broker": broker(), **built, "phases": phases,
            "load": [round(x, 2) for x in (*load_before[:1], *os.getloadavg()[:1])]}


def interrupted(signum: int, frame: Any) -> None:
    raise SystemExit(f"stopped by signal {signum}")


def prepare_environment(backend: str, data_dir: Path) -> dict[str, str]:
    """Point this process and the servers at the backend's database, then set Django up."""
    data_dir.mkdir(parents=True, exist_ok=True)
    for name in ("DATABASE_URL", "KEHU_JOB_BROKER", "KEHU_JOB_QUEUE_FILE"):
        os.environ.pop(name, None)
    if backend == "postgres":
        os.environ["DATABASE_URL"] = start_postgres()
    else:
        restore_sqlite(data_dir)
    os.environ.update({"KEHU_DATA_DIR": str(data_dir), "KEHU_DEBUG": "0",
                       "KEHU_WORKER_THREADS": str(WORKER_THREADS),
                       "KEHU_API_RATE_PER_TOKEN": "off", "KEHU_API_RATE_PER_ADDRESS": "off",
                       "DJANGO_SETTINGS_MODULE": "kehu.config.settings"})
    sys.path.insert(0, str(ROOT / "src"))
    import django

    django.setup()
    return dict(os.environ)


def start_postgres() -> str:
    """A throwaway server (stopped at exit) with an empty database `kehu`."""
    sys.path.insert(0, str(ROOT / "src"))
    from kehu.core.testing.pgserver import start_server_with_database

    return start_server_with_database()


def restore_sqlite(data_dir: Path) -> None:
    """Every run starts from the database as built (the long job adds customers) and an
    empty queue."""
    pristine = data_dir / "pristine.sqlite3"
    for name in ("kehu.sqlite3", "kehu.sqlite3-wal", "kehu.sqlite3-shm", "queue.sqlite3",
                 "queue.sqlite3-wal", "queue.sqlite3-shm"):
        (data_dir / name).unlink(missing_ok=True)
    if pristine.exists():  # no connection is open yet: a plain copy is safe here
        shutil.copyfile(pristine, data_dir / "kehu.sqlite3")


def build_database(args: argparse.Namespace, data_dir: Path) -> dict[str, Any]:
    """Load the demo customers once and keep a pristine copy: SQLite's backup of the file,
    PostgreSQL's pg_dump (restored into each run's throwaway server in seconds)."""
    from django.core.management import call_command

    from kehu.demo import generate

    marker = data_dir / "bench-ready.json"
    dump = data_dir / "pristine.pgdump"
    postgres = args.backend == "postgres"
    reused = marker.exists() and (dump if postgres else data_dir / "pristine.sqlite3").exists()
    if reused and postgres:
        pg_tool("pg_restore", "--no-owner", "--exit-on-error", "-d", os.environ["DATABASE_URL"],
                str(dump))
    call_command("migrate", interactive=False, verbosity=0)
    if reused:
        analyze()
        return {**json.loads(marker.read_text()), "reused": True}
    print(f"  building the database: {args.customers:,} customers …", flush=True)
    started = time.monotonic()
    generate(args.customers, 1)
    built = {"customers": args.customers, "build_seconds": round(time.monotonic() - started, 1)}
    if postgres:
        pg_tool("pg_dump", "-Fc", "-f", str(dump), os.environ["DATABASE_URL"])
    else:
        backup_sqlite(data_dir / "kehu.sqlite3", data_dir / "pristine.sqlite3")
    marker.write_text(json.dumps(built))
    analyze()
    return {**built, "reused": False}


def backup_sqlite(source_path: Path, target_path: Path) -> None:
    """SQLite's own backup, never a file copy: closing another descriptor of a database file
    this process has open drops its POSIX locks; another process then takes itself for the
    last connection and deletes the WAL under our connection's feet (our later writes are
    lost to everyone else)."""
    from django.db import connections

    connections.close_all()
    source, target = sqlite3.connect(source_path), sqlite3.connect(target_path)
    try:
        source.backup(target)
    finally:
        target.close()
        source.close()


def pg_tool(name: str, *arguments: str) -> None:
    from kehu.core.testing.pgserver import _pg_bin

    subprocess.run([str(_pg_bin() / name), *arguments], check=True)  # noqa: S603


def analyze() -> None:
    """PostgreSQL: statistics (a restore has none; the demo loader ends with ANALYZE) and the
    visibility map, as autovacuum leaves a settled database. SQLite: nothing, as Kehu runs
    no ANALYZE there."""
    from django.db import connection

    if connection.vendor != "postgresql":
        return
    import psycopg

    connection.close()
    with psycopg.connect(os.environ["DATABASE_URL"], autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")


def wait_for_worker(worker: subprocess.Popen, log: Path, seconds: float = 60) -> None:
    """The worker prints one line once it recovered, caught up and starts consuming."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if worker.poll() is not None:
            raise SystemExit(f"the worker exited; see {log}")
        if "Kehu" in log.read_text(encoding="utf-8", errors="replace"):
            return
        time.sleep(0.2)
    raise SystemExit(f"the worker did not start in {seconds} s; see {log}")


class WebLoad:
    """CLIENT_THREADS keep-alive clients sending the customer list until stopped."""

    def __init__(self, port: int, token: str) -> None:
        self.port, self.headers = port, {"Authorization": f"Bearer {token}"}

    def warm_up(self) -> None:
        client = Client(self.port, self.headers)
        for _ in range(20):
            status, _data, _elapsed = client.get(LIST)
            if status != 200:
                raise SystemExit(f"{LIST} answered HTTP {status} while warming up")

    def start(self) -> None:
        self.result, self.statuses = Result(), Counter()
        self._stop, lock = threading.Event(), threading.Lock()

        def client_loop() -> None:
            client = Client(self.port, self.headers)
            while not self._stop.is_set():
                status, _data, elapsed = client.get(LIST)
                with lock:
                    self.statuses[status] += 1
                    if status == 200:
                        self.result.times.append(elapsed)
                    else:
                        self.result.errors += 1

        self._threads = [threading.Thread(target=client_loop) for _ in range(CLIENT_THREADS)]
        self.started = time.monotonic()
        for thread in self._threads:
            thread.start()

    def stop(self) -> dict[str, Any]:
        self._stop.set()
        for thread in self._threads:
            thread.join()
        seconds = time.monotonic() - self.started
        result = self.result
        web: dict[str, Any] = {"seconds": round(seconds, 1), "requests": sum(self.statuses.values()),
                               "errors": result.errors,
                               "statuses": {str(k): v for k, v in sorted(self.statuses.items())}}
        if result.times:
            web.update(p50=round(result.pct(.5), 1), p99=round(result.pct(.99), 1),
                       max=round(max(result.times) * 1000, 1),
                       rps=round(len(result.times) / seconds, 1))
        return web


class LogWatch:
    """Lines the server and worker logs gained during a phase: locks and tracebacks."""

    def __init__(self, logs: dict[str, Path]) -> None:
        self.logs = logs
        self.offsets = {name: path.stat().st_size for name, path in logs.items()}

    def findings(self) -> dict[str, Any]:
        found: dict[str, Any] = {}
        for name, path in self.logs.items():
            with path.open("rb") as log:
                log.seek(self.offsets[name])
                text = log.read().decode("utf-8", errors="replace")
            lines = text.splitlines()
            locked = [line for line in lines if LOCKED in line]
            found[name] = {"locked": len(locked), "tracebacks": text.count("Traceback"),
                           "errors": sum("ERROR" in line for line in lines),
                           "sample": (locked or [line for line in lines if "Error" in line])[:5]}
        return found


def phase_idle(args: argparse.Namespace, load: WebLoad, logs: dict[str, Path]) -> dict[str, Any]:
    watch = LogWatch(logs)
    load.start()
    time.sleep(args.seconds)
    web = load.stop()
    print(f"  idle: web {web_summary(web)}", flush=True)
    return {"web": web, "logs": watch.findings()}


def phase_throughput(args: argparse.Namespace, load: WebLoad, logs: dict[str, Path],
                     admin: Any) -> dict[str, Any]:
    from django.db import transaction

    from kehu.jobs.models import Job
    from kehu.jobs.services import job_start

    watch = LogWatch(logs)
    load.start()
    time.sleep(1)
    began = time.monotonic()
    with transaction.atomic():  # queued on commit, all at once
        ids = [job_start(actor=admin, origin="system", kind="jobs.prune").pk
               for _ in range(args.jobs)]
        created = time.monotonic() - began
    enqueued = time.monotonic() - began  # + the commit and the on_commit queue sends
    jobs = Job.objects.filter(pk__gte=min(ids), pk__lte=max(ids), kind="jobs.prune")
    finished = wait_until(lambda: jobs.filter(status__in=("done", "failed", "cancelled")).count()
                          == len(ids), args.timeout)
    waited = time.monotonic() - began
    web = load.stop()
    first = jobs.order_by("created_at").values_list("created_at", flat=True).first()
    last = jobs.exclude(finished_at=None).order_by("-finished_at").values_list(
        "finished_at", flat=True).first()
    statuses = Counter(jobs.values_list("status", flat=True))
    span = (last - first).total_seconds() if first and last else None
    done = statuses.get("done", 0)
    out = {"jobs": len(ids), "all_finished": finished, "statuses": dict(statuses),
           "create_seconds": round(created, 2), "enqueue_seconds": round(enqueued, 2),
           "wall_seconds": round(waited, 1),
           "span_seconds": round(span, 2) if span else None,
           "jobs_per_second": round(done / span, 1) if span else None,
           "web": web, "logs": watch.findings()}
    print(f"  throughput: {done}/{len(ids)} done in {span or 0:.1f} s = "
          f"{out['jobs_per_second']} jobs/s (enqueue {enqueued:.1f} s); web {web_summary(web)}",
          flush=True)
    return out


def phase_long_job(args: argparse.Namespace, load: WebLoad, logs: dict[str, Path],
                   admin: Any) -> dict[str, Any]:
    from kehu.customers.models import Customer
    from kehu.jobs.models import Job
    from kehu.jobs.services import job_start

    before = Customer.objects.count()
    watch = LogWatch(logs)
    load.start()
    time.sleep(1)
    params = {"customers": args.job_customers, "seed": 99, "batch_size": 1000}
    job = job_start(actor=admin, origin="system", kind="demo.load", params=params)
    finished = wait_until(lambda: Job.objects.get(pk=job.pk).finished, args.timeout)
    web = load.stop()
    job.refresh_from_db()
    seconds = ((job.finished_at or job.heartbeat_at) - (job.resumed_at or job.started_at)
               ).total_seconds() if job.started_at else None
    added = Customer.objects.count() - before
    out = {"job_id": job.pk, "params": params, "finished": finished, "status": job.status,
           "attempts": job.attempts, "progress": f"{job.done}/{job.total}", "customers_added": added,
           "queued_seconds": round((job.started_at - job.created_at).total_seconds(), 2)
           if job.started_at else None,
           "job_seconds": round(seconds, 1) if seconds else None,
           "customers_per_second": round(added / seconds) if seconds else None,
           "error": job.error[-2000:], "web": web, "logs": watch.findings()}
    print(f"  long job: {job.status}, {added:,} customers in {seconds or 0:.1f} s = "
          f"{out['customers_per_second']}/s; web {web_summary(web)}; "
          f"'{LOCKED}' lines: {sum(v['locked'] for v in out['logs'].values())}", flush=True)
    return out


def wait_until(condition: Any, timeout: float, every: float = 0.25) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(every)
    return False


def db_version() -> str:
    from django.db import connection

    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("SELECT sqlite_version()")
            return f"SQLite {cursor.fetchone()[0]} (WAL, IMMEDIATE, synchronous=NORMAL)"
        cursor.execute("SHOW server_version")
        return f"PostgreSQL {cursor.fetchone()[0]} (fsync=off, synchronous_commit=off)"


def broker() -> str:
    from kehu.jobs.queue import broker_label

    return broker_label().replace(str(ROOT) + "/", "")


def web_summary(web: dict[str, Any]) -> str:
    if "p50" not in web:
        return f"no 200 answers ({web['statuses']})"
    return (f"p50 {web['p50']} p99 {web['p99']} max {web['max']} ms, {web['requests']} requests, "
            f"{web['errors']} non-200")


# --- the report ------------------------------------------------------------------------


def describe_machine() -> dict[str, str]:
    mem = Path("/proc/meminfo").read_text().split("\n", 1)[0].split()[1]
    return {"date": time.strftime("%Y-%m-%d %H:%M %Z"), "nproc": str(os.cpu_count()),
            "ram": f"{int(mem) / 1024 / 1024:.1f} GiB",
            "load": " ".join(f"{x:.2f}" for x in os.getloadavg()),
            "python": platform.python_version(), "kernel": platform.release()}


def report(args: argparse.Namespace, argv: list[str] | None, machine: dict[str, str],
           results: dict[str, dict]) -> None:
    names = list(results)
    heads = {"sqlite": "SQLite", "postgres": "PostgreSQL"}
    lines = [
        "# Background jobs benchmark", "",
        f"- {machine['date']}; {machine['nproc']} CPUs, {machine['ram']} RAM, Linux "
        f"{machine['kernel']}, Python {machine['python']}; load average at the start "
        f"{machine['load']}",
        "- `" + " ".join([".venv/bin/python bench/jobs.py",
                          *(argv if argv is not None else sys.argv[1:])]) + "`",
        f"- `kehu serve` with {WORKERS} gunicorn sync workers, one `kehu worker` with "
        f"{WORKER_THREADS} threads; web load: {CLIENT_THREADS} client threads in a loop on "
        f"`GET {LIST}` (admin, bearer token); times in ms, client side",
    ]
    for name in names:
        r = results[name]
        built = "reused" if r["reused"] else "built"
        lines.append(f"- {heads[name]}: {r['version']}, queue {r['broker']}; {r['customers']:,} "
                     f"demo customers ({built}, {r['build_seconds']} s to build); 1-minute load "
                     f"average {r['load'][0]} before, {r['load'][1]} after")
    lines += ["", "| | " + " | ".join(heads[n] for n in names) + " |",
              "|---|" + "---|" * len(names)]

    def row(label: str, cell: Any) -> None:
        values = []
        for name in names:
            try:
                value = cell(results[name]["phases"])
            except (KeyError, TypeError, ZeroDivisionError):
                value = "–"
            values.append("–" if value is None else str(value))
        lines.append(f"| {label} | " + " | ".join(values) + " |")

    def web_rows(phase: str, label: str) -> None:
        row(f"{label}: web p50 / p99 / max", lambda p: "{p50} / {p99} / {max}".format(**p[phase]["web"]))
        row(f"{label}: requests (non-200)", lambda p: f"{p[phase]['web']['requests']} "
            f"({p[phase]['web']['errors']})")

    web_rows("idle", f"worker idle, {args.seconds:.0f} s")
    row(f"throughput: {args.jobs} × jobs.prune, jobs/s (created → done)",
        lambda p: f"**{p['throughput']['jobs_per_second']}**")
    row("throughput: rows created / + queue sends on commit / first created → last done, s",
        lambda p: f"{p['throughput']['create_seconds']} / {p['throughput']['enqueue_seconds']} / "
                  f"{p['throughput']['span_seconds']}")
    row("throughput: job statuses", lambda p: ", ".join(f"{k} {v}" for k, v in
                                                       p["throughput"]["statuses"].items()))
    web_rows("throughput", "during the throughput")
    row("throughput: web p99 ÷ idle p99",
        lambda p: f"{p['throughput']['web']['p99'] / p['idle']['web']['p99']:.1f}×")
    long = f"long job: demo.load {args.job_customers:,}"
    row(f"{long}: status, attempts", lambda p: f"{p['long']['status']}, {p['long']['attempts']}")
    row(f"{long}: seconds, customers/s", lambda p: f"{p['long']['job_seconds']} s, "
        f"{p['long']['customers_per_second']}/s")
    web_rows("long", "during the long job")
    row("long job: web p99 ÷ idle p99",
        lambda p: f"**{p['long']['web']['p99'] / p['idle']['web']['p99']:.1f}×**")
    row(f"long job: \"{LOCKED}\" lines, server / worker log",
        lambda p: f"{p['long']['logs']['server']['locked']} / {p['long']['logs']['worker']['locked']}")
    row("all phases: tracebacks, server / worker log",
        lambda p: f"{sum(p[x]['logs']['server']['tracebacks'] for x in p)} / "
                  f"{sum(p[x]['logs']['worker']['tracebacks'] for x in p)}")
    text = "\n".join(lines) + "\n"
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(text, encoding="utf-8")
    print("\n" + text + f"\nSaved to {RESULTS.relative_to(ROOT)}")


if __name__ == "__main__":
    sys.exit(main())
