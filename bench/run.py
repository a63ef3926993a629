"""Benchmark the customer list: Kehu against a hand-written raw-SQL baseline.

    .venv/bin/python bench/run.py [--customers 1000000] [--seed 1] [--requests 300]

Builds (or reuses) a demo database in var/bench/ (or uses DATABASE_URL), starts
`kehu serve` and bench/raw_app.py with 2 gunicorn sync workers each on
127.0.0.1, runs every scenario with 2 client threads (http.client keep-alive),
and prints p50/p95/p99/max per scenario; the table is saved to
bench/results/list-<database>-<N>k.md (scopes-… for --org enterprise). Traffic goes to
127.0.0.1 only; every scenario stops after --requests requests or --seconds seconds,
whichever comes first.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
RESULTS = ROOT / "bench" / "results" / "list.md"  # named per organisation, database and size
CLIENT_THREADS = 2
WORKERS = 2


@dataclass
class Scenario:
    """One kind of request; `paths(state)` yields the next path (it may follow cursors)."""

    name: str
    who: str  # "admin", "rep" (bearer tokens) or "web" (admin's session cookie)
    make: Callable[[], Callable[[dict | None], str]]
    raw: bool = True  # whether the raw baseline serves it too


@dataclass
class Result:
    times: list[float] = field(default_factory=list)
    errors: int = 0
    status: str = ""

    def pct(self, q: float) -> float:
        ordered = sorted(self.times)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    data_dir = prepare_environment(args)
    setup = build_database(args)
    env = {**os.environ, "KEHU_DATA_DIR": str(data_dir), "KEHU_DEBUG": "0",
           # a benchmark is the runaway script the rate limits stop: off here
           "KEHU_API_RATE_PER_TOKEN": "off", "KEHU_API_RATE_PER_ADDRESS": "off"}
    servers = []
    try:
        kehu_port, raw_port = free_ports(2)
        servers.append(start([str(BIN / "kehu"), "serve", "--host", "127.0.0.1", "--port",
                              str(kehu_port), "--workers", str(WORKERS)], env, data_dir / "kehu.log"))
        servers.append(start([str(BIN / "gunicorn"), "--chdir", str(ROOT / "bench"), "-w",
                              str(WORKERS), "-b", f"127.0.0.1:{raw_port}", "raw_app:application"],
                             env, data_dir / "raw.log"))
        for server, port in zip(servers, (kehu_port, raw_port), strict=True):
            wait_for(server, port)
        rows = run_all(args, setup, kehu_port, raw_port)
        load = throughput(args, setup, kehu_port, raw_port) if args.load_seconds else []
    finally:
        for server in servers:
            stop(server)
    report(args, setup, rows, load)
    return 0


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--requests", type=int, default=300, help="per scenario and server")
    parser.add_argument("--seconds", type=float, default=60, help="time limit per scenario")
    parser.add_argument("--deep-pages", type=int, default=100, help="pages followed by next_cursor")
    parser.add_argument("--only", default="", help="run only scenarios whose name contains this")
    parser.add_argument("--load-seconds", type=float, default=10,
                        help="throughput under concurrent load, per target (0: skip)")
    parser.add_argument("--load-threads", type=int, default=8)
    parser.add_argument("--org", choices=("demo", "enterprise"), default="demo",
                        help="the demo team, or the 200-rep company of bench/org.py (SQLite)")
    return parser.parse_args(argv)


def prepare_environment(args: argparse.Namespace) -> Path:
    """Point Kehu at the bench database (a data dir per size and seed) and set Django up."""
    backend = "pg" if os.environ.get("DATABASE_URL") else "sqlite"
    data_dir = ROOT / "var" / "bench" / f"{backend}-c{args.customers}-s{args.seed}"
    if args.org == "enterprise":  # reshaped from the demo database in a process of its own
        subprocess.run([sys.executable, str(ROOT / "bench" / "org.py"), "--customers",
                        str(args.customers), "--seed", str(args.seed)], check=True,
                       stdout=subprocess.DEVNULL)
        data_dir = data_dir.with_name(data_dir.name + "-enterprise")
        if backend == "pg":  # moved up with `kehu migrate-db`: the SQLite copy's keys and people
            shaped = ROOT / "var" / "bench" / f"sqlite-c{args.customers}-s{args.seed}-enterprise"
            data_dir.mkdir(parents=True, exist_ok=True)
            for name in ("secret_key", "audit_key", "enterprise.json"):
                if not (data_dir / name).exists():
                    shutil.copy2(shaped / name, data_dir / name)
    data_dir.mkdir(parents=True, exist_ok=True)
    os.environ["KEHU_DATA_DIR"] = str(data_dir)
    os.environ["DJANGO_SETTINGS_MODULE"] = "kehu.config.settings"
    sys.path.insert(0, str(ROOT / "src"))
    import django

    django.setup()
    return data_dir


def build_database(args: argparse.Namespace) -> dict:
    """Migrate, load the demo data once (reused on later runs), and prepare identities."""
    from django.core.management import call_command

    from kehu.customers.models import Customer
    from kehu.demo import generate

    call_command("migrate", interactive=False, verbosity=0)
    marker = Path(os.environ["KEHU_DATA_DIR"]) / "bench-ready.json"
    count = Customer.objects.count()
    if marker.exists() and count >= args.customers:
        built = json.loads(marker.read_text())
    elif count == args.customers:  # loaded beforehand with `kehu demo --customers N`
        built = {"customers": count, "seed": args.seed, "seconds": "?"}
        marker.write_text(json.dumps(built))
    elif count == 0:
        print(f"Building the bench database: {args.customers:,} customers …", flush=True)
        started = time.monotonic()
        generate(args.customers, args.seed, stdout=sys.stdout)
        built = {"customers": args.customers, "seed": args.seed,
                 "seconds": round(time.monotonic() - started, 1)}
        marker.write_text(json.dumps(built))
    else:
        sys.exit(f"The bench database has {count:,} customers, not {args.customers:,}: "
                 "give it an empty database or the matching --customers.")
    people = json.loads((marker.parent / "enterprise.json").read_text()) \
        if args.org == "enterprise" else {}
    return {**built, **identities(people), "org": args.org, "people": people}


def identities(people: dict[str, str]) -> dict:
    """Tokens for the admin, one rep and `people` (role → username), an admin session, and
    cursors deep in the table."""
    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore
    from django.db import connection

    from kehu.accounts.models import User
    from kehu.accounts.services import token_create
    from kehu.core.pagination import _encode
    from kehu.customers.models import Customer

    admin, rep = User.objects.get(username="admin"), User.objects.get(username="wang.fang")
    # The web list as a manager: an admin's session without a second factor is sent to
    # sign in (accounts/twofactor.py), and a bench must not weaken that rule.
    manager = User.objects.get(username="zhou.min")
    session = SessionStore()
    session.update({SESSION_KEY: str(manager.pk), HASH_SESSION_KEY: manager.get_session_auth_hash(),
                    BACKEND_SESSION_KEY: "django.contrib.auth.backends.ModelBackend"})
    session.create()
    live = Customer.objects.filter(deleted_at__isnull=True).order_by("-updated_at", "-id")
    total = live.count()
    return {
        "vendor": connection.vendor, "live": total, "rep_id": rep.pk,
        "tokens": {"admin": token_create(user=admin, name="bench")[1],
                   "rep": token_create(user=rep, name="bench")[1],
                   **{role: token_create(user=User.objects.get(username=name), name="bench")[1]
                      for role, name in people.items() if role != "seconds"}},
        "cookie": f"{settings.SESSION_COOKIE_NAME}={session.session_key}",
        "middle": _encode(live[total // 2], "updated_at", False),
        "end": _encode(live[max(total - 100, 0)], "updated_at", False),
    }


def scenarios(args: argparse.Namespace, setup: dict) -> list[Scenario]:
    api = "/api/v1/customers"

    def fixed(path: str, **params: str) -> Callable[[], Callable[[dict | None], str]]:
        return lambda: (lambda _last: f"{path}?{urlencode(params)}" if params else path)

    def follow() -> Callable[[dict | None], str]:
        depth = {"pages": 0}

        def next_path(last: dict | None) -> str:
            cursor = (last or {}).get("next_cursor")
            depth["pages"] = depth["pages"] + 1 if cursor and depth["pages"] < args.deep_pages else 0
            return f"{api}?limit=50" + (f"&cursor={cursor}" if depth["pages"] else "")
        return next_path

    if setup["org"] == "enterprise":
        return org_scenarios(setup, fixed)
    filters = {"industry": "software", "owner": str(setup["rep_id"])}
    return [
        Scenario("first page", "admin", fixed(api, limit="50")),
        Scenario(f"next_cursor, pages 1-{args.deep_pages}", "admin", follow),
        Scenario("cursor at the middle", "admin", fixed(api, limit="50", cursor=setup["middle"])),
        Scenario("cursor near the end", "admin", fixed(api, limit="50", cursor=setup["end"])),
        Scenario("filter industry+owner, first page", "admin", fixed(api, limit="50", **filters)),
        Scenario("filter industry+owner, middle", "admin",
                 fixed(api, limit="50", cursor=setup["middle"], **filters)),
        Scenario("sales rep (own scope), middle", "rep",
                 fixed(api, limit="50", cursor=setup["middle"])),
        Scenario("quick search q=科技", "admin", fixed(api, limit="50", q="科技")),
        Scenario("quick search q=zj (initials)", "admin", fixed(api, limit="50", q="zj")),
        Scenario("web list /customers/ (a manager's session)", "web", fixed("/customers/"),
                 raw=False),
    ]


# Who the enterprise scenarios read as (bench/org.py), and what their scope is.
ORG_PEOPLE = (
    ("admin", "admin"), ("quiet_rep", "rep (~700 customers)"),
    ("busy_rep", "rep (~140,000 customers)"), ("pool_rep", "rep in the pool's regions"),
    ("sharer", "rep with 500 shares"), ("small_manager", "manager of 2 reps, 100 customers"),
    ("department_manager", "department manager (11 reps)"),
    ("pool_department_manager", "department manager (8 reps) + pool"),
    ("region_manager", "regional manager, 50 reps + pool"),
)


ORG_LABELS = {
    "demo": "the demo team (2 managers, 8 reps own everything)",
    "enterprise": "bench/org.py — 200 reps in 20 departments under 5 regional managers, Zipf "
                  "ownership, 20 % in a pool serving 2 regions, one rep with 500 shares",
}


def org_scenarios(setup: dict, fixed: Callable) -> list[Scenario]:
    """Each person of the 200-rep company: the first page, a deep page, a filter."""
    api = "/api/v1/customers"
    found = []
    for who, label in ORG_PEOPLE:
        found += [
            Scenario(f"{label}: first page", who, fixed(api, limit="50")),
            Scenario(f"{label}: cursor at the middle", who,
                     fixed(api, limit="50", cursor=setup["middle"])),
            Scenario(f"{label}: industry filter", who, fixed(api, limit="50", industry="software")),
        ]
    return found


def run_all(args: argparse.Namespace, setup: dict, kehu_port: int, raw_port: int) -> list[tuple]:
    rows = []
    check_same_shape(setup, kehu_port, raw_port)
    for scenario in [s for s in scenarios(args, setup) if args.only in s.name]:
        kehu = measure(args, setup, scenario, kehu_port)
        raw = measure(args, setup, scenario, raw_port) if scenario.raw else None
        rows.append((scenario.name, kehu, raw))
        print(f"  {scenario.name:<40} kehu {summary(kehu):<34} raw {summary(raw)}", flush=True)
    return rows


def measure(args: argparse.Namespace, setup: dict, scenario: Scenario, port: int) -> Result:
    """Warm up, then CLIENT_THREADS threads send requests until the count or time is used up."""
    headers = {"Cookie": setup["cookie"]} if scenario.who == "web" else \
        {"Authorization": f"Bearer {setup['tokens'][scenario.who]}"}
    result, lock = Result(), threading.Lock()
    budget = {"left": args.requests}
    deadline = time.monotonic() + args.seconds
    warm = Client(port, headers)
    next_path, last = scenario.make(), None
    for _ in range(5):
        status, last, _elapsed = warm.get(next_path(last))
        if status != 200:
            result.status = f"HTTP {status}"
            return result

    def worker() -> None:
        client, next_path, last = Client(port, headers), scenario.make(), None
        while time.monotonic() < deadline:
            with lock:
                if budget["left"] <= 0:
                    return
                budget["left"] -= 1
            status, last, elapsed = client.get(next_path(last))
            with lock:
                if status == 200:
                    result.times.append(elapsed)
                else:
                    result.errors += 1

    threads = [threading.Thread(target=worker) for _ in range(CLIENT_THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return result


class Client:
    """One keep-alive connection (reopened when the server closes it, as gunicorn sync does)."""

    def __init__(self, port: int, headers: dict[str, str]) -> None:
        self.port, self.headers = port, headers
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)

    def get(self, path: str) -> tuple[int, dict | None, float]:
        started = time.perf_counter()
        try:
            self.conn.request("GET", path, headers=self.headers)
            response = self.conn.getresponse()
            body = response.read()
        except (http.client.HTTPException, OSError):
            self.conn.close()
            self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
            return 599, None, time.perf_counter() - started
        elapsed = time.perf_counter() - started
        if response.getheader("Connection", "").lower() == "close":
            self.conn.close()
        data = json.loads(body) if "json" in (response.getheader("Content-Type") or "") else None
        return response.status, data, elapsed


def throughput(args: argparse.Namespace, setup: dict, kehu_port: int, raw_port: int
               ) -> list[tuple[str, float, int]]:
    """Requests per second with `--load-threads` clients at once: the list's first page on
    Kehu and on the raw app, and Kehu's /healthz — the floor of the same server (gunicorn and
    the outermost middleware, no database) that any view of Kehu's stands on."""
    admin = {"Authorization": f"Bearer {setup['tokens']['admin']}"}
    targets = [("Kehu GET /api/v1/customers?limit=50", kehu_port, "/api/v1/customers?limit=50"),
               ("raw GET /api/v1/customers?limit=50", raw_port, "/api/v1/customers?limit=50"),
               ("Kehu GET /healthz (the server's floor)", kehu_port, "/healthz")]
    found = []
    for label, port, path in targets:
        rate, errors = load_one(port, path, admin, args.load_threads, args.load_seconds)
        found.append((label, rate, errors))
        print(f"  load {label:<44} {rate:7.0f} req/s, {errors} errors", flush=True)
    return found


def load_one(port: int, path: str, headers: dict, threads: int, seconds: float
             ) -> tuple[float, int]:
    """(requests per second answered 200, other answers) with `threads` clients at once."""
    counts, lock = {"ok": 0, "errors": 0}, threading.Lock()
    deadline = time.monotonic() + seconds

    def worker() -> None:
        client = Client(port, headers)
        while time.monotonic() < deadline:
            status = client.get(path)[0]
            with lock:
                counts["ok" if status == 200 else "errors"] += 1

    started = time.monotonic()
    running = [threading.Thread(target=worker) for _ in range(threads)]
    for thread in running:
        thread.start()
    for thread in running:
        thread.join()
    return counts["ok"] / (time.monotonic() - started), counts["errors"]


def check_same_shape(setup: dict, kehu_port: int, raw_port: int) -> None:
    """The baseline must answer like Kehu, or the comparison means nothing."""
    headers = {"Authorization": f"Bearer {setup['tokens']['admin']}"}
    path = f"/api/v1/customers?limit=50&cursor={setup['middle']}"
    kehu, raw = Client(kehu_port, headers).get(path), Client(raw_port, headers).get(path)
    if kehu[0] != 200 or raw[0] != 200:
        print(f"  warning: first page answered kehu HTTP {kehu[0]}, raw HTTP {raw[0]}")
        return
    same_ids = [i["id"] for i in kehu[1]["items"]] == [i["id"] for i in raw[1]["items"]]
    same_keys = kehu[1]["items"][0].keys() == raw[1]["items"][0].keys()
    same_cursor = kehu[1]["next_cursor"] == raw[1]["next_cursor"]
    if not (same_ids and same_keys and same_cursor):
        print(f"  warning: responses differ (ids {same_ids}, keys {same_keys}, cursor {same_cursor})")


def summary(result: Result | None) -> str:
    if result is None:
        return "-"
    if not result.times:
        return f"n/a ({result.status or f'{result.errors} errors'})"
    return f"p50 {result.pct(.5):.1f} p99 {result.pct(.99):.1f} ms (n={len(result.times)})"


def report(args: argparse.Namespace, setup: dict, rows: list[tuple],
           load: list[tuple[str, float, int]]) -> None:
    machine = machine_description()
    lines = [
        "# Customer list benchmark", "",
        f"- {time.strftime('%Y-%m-%d %H:%M')}, {setup['vendor']}, {setup['customers']:,} demo customers "
        f"(seed {setup['seed']}, {setup['live']:,} live), built in {setup['seconds']} s",
        f"- {WORKERS} gunicorn sync workers per server, {CLIENT_THREADS} client threads, up to "
        f"{args.requests} requests or {args.seconds:.0f} s per scenario; times in ms, client side",
        f"- organisation: {ORG_LABELS[setup['org']]}",
        f"- machine: {machine['cpus']} cores ({machine['cpu']}), {machine['memory_gib']} GiB, "
        f"{machine['system']}, Python {machine['python']}, SQLite {machine['sqlite']}",
        "", "| scenario | Kehu p50 | p95 | p99 | max | raw p50 | p95 | p99 | max | p50 × | p99 × |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for name, kehu, raw in rows:
        lines.append(f"| {name} | {cells(kehu)} | {cells(raw)} | {ratio(kehu, raw, .5)} | "
                     f"{ratio(kehu, raw, .99)} |")
    if load:
        lines += ["", f"Throughput, {args.load_threads} clients at once for "
                  f"{args.load_seconds:.0f} s each:", "", "| target | requests/s | errors |",
                  "|---|---|---|"]
        lines += [f"| {label} | {rate:.0f} | {errors} |" for label, rate, errors in load]
    text = "\n".join(lines) + "\n"
    shape = "list" if setup["org"] == "demo" else "scopes"
    results = RESULTS.with_name(f"{shape}-{setup['vendor']}-{setup['customers'] // 1000}k.md")
    results.parent.mkdir(parents=True, exist_ok=True)
    results.write_text(text, encoding="utf-8")
    results.with_suffix(".json").write_text(json.dumps({
        "when": time.strftime("%Y-%m-%dT%H:%M:%S"), "database": setup["vendor"],
        "customers": setup["customers"], "org": setup["org"], "machine": machine,
        "scenarios": [{"name": name, "kehu": numbers(kehu), "raw": numbers(raw)}
                      for name, kehu, raw in rows],
        "throughput": [{"target": label, "per_second": round(rate, 1), "errors": errors}
                       for label, rate, errors in load],
    }, ensure_ascii=False, indent=1), encoding="utf-8")
    print("\n" + text + f"\nSaved to {results.relative_to(ROOT)} and .json")


def numbers(result: Result | None) -> dict | None:
    if result is None or not result.times:
        return None
    return {"n": len(result.times), "errors": result.errors,
            **{f"p{int(q * 100)}": round(result.pct(q), 2) for q in (.5, .95, .99)},
            "max": round(max(result.times) * 1000, 2)}


def machine_description() -> dict:
    """What the numbers were measured on, for the results files."""
    import platform
    import sqlite3

    cpu = next((line.split(":", 1)[1].strip() for line in
                Path("/proc/cpuinfo").read_text().splitlines() if line.startswith("model name")),
               platform.processor()) if Path("/proc/cpuinfo").exists() else platform.processor()
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return {"cpus": os.cpu_count(), "cpu": cpu, "memory_gib": round(memory, 1),
            "system": f"{platform.system()} {platform.release()}",
            "python": platform.python_version(), "sqlite": sqlite3.sqlite_version}


def cells(result: Result | None) -> str:
    if result is None:
        return " | | | "
    if not result.times:
        return f"{result.status or 'errors'} | | | "
    return " | ".join(f"{result.pct(q):.1f}" for q in (.5, .95, .99)) + \
        f" | {max(result.times) * 1000:.1f}"


def ratio(kehu: Result, raw: Result | None, q: float) -> str:
    if raw is None or not raw.times or not kehu.times:
        return ""
    return f"{kehu.pct(q) / raw.pct(q):.1f}"


def free_ports(count: int) -> list[int]:
    """Distinct free ports: every socket stays open until all are picked."""
    sockets = [socket.socket() for _ in range(count)]
    try:
        for s in sockets:
            s.bind(("127.0.0.1", 0))
        return [s.getsockname()[1] for s in sockets]
    finally:
        for s in sockets:
            s.close()


def start(command: list[str], env: dict[str, str], log: Path) -> subprocess.Popen:
    # A session of its own, so that stopping it stops the gunicorn workers too.
    with log.open("ab") as out:
        return subprocess.Popen(command, env=env, cwd=ROOT, start_new_session=True,
                                stdout=out, stderr=subprocess.STDOUT)


def wait_for(server: subprocess.Popen, port: int, seconds: float = 60) -> None:
    """Wait until our server listens; fail if it died (e.g. the port was taken meanwhile)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"the server for port {port} exited; see its log in the data directory")
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.2)
    raise SystemExit(f"no server on port {port} after {seconds} s")


def stop(server: subprocess.Popen) -> None:
    if server.poll() is None:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()


if __name__ == "__main__":
    sys.exit(main())
