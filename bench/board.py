"""Time the kanban and the history lists for the admin, a manager and a rep, next to raw SQL.

    .venv/bin/python bench/board.py [--data-dir var/bench/sqlite-c1000000-s1] [--rounds 100]
                                    [--list-rounds 30] [--deep 10000] [--no-migrate] [--label x]

Uses an existing demo database (`kehu demo --customers N`, or bench/run.py's): KEHU_DATA_DIR
is --data-dir, or DATABASE_URL names a PostgreSQL one. In process, through Django's test
client signed in as each person (no HTTP server: what is timed is Kehu's own work — the
middleware, the selectors, the queries and the templates), it times for the admin, a manager
(zhou.min) and a rep (wang.fang):

- the board `/history/board/` (the default pipeline: every column's head and first cards);
- the first page of `/history/opportunities/`, `/history/orders/`, `/history/tickets/`, and a
  deep page by cursor (`--deep` rows in, in the person's own list).

Beside each, in the same run and on the same connection, the raw SQL of the same rows: for
the board, the column heads from the tallies plus each column's first cards joined to their
customers and owners; for a list, its page joined the same way (the orders' lines too); and,
for the board, the plan it replaced — a GROUP BY over every opportunity in the scope. Raw SQL
covers the scope's owners, shares and pools (the pools' column heads from their tallies).
p50/p95/p99/max in ms; `--boards-only` leaves the lists out. The table goes to
bench/results/board-<db>-<N>k[-label].md.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import platform
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PEOPLE = {"admin": "admin", "manager": "zhou.min", "rep": "wang.fang"}
LISTS = {  # path: (table, sort column, what the page joins)
    "opportunities": ("history_opportunity", "created_at"),
    "orders": ("history_order", "ordered_on"),
    "tickets": ("history_ticket", "opened_at"),
}


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    setup(args)
    from django.db import connection

    from kehu.customers.models import Customer

    customers = Customer.objects.count()
    vendor = "pg" if connection.vendor == "postgresql" else "sqlite"
    rows: list[tuple[str, list[float], list[float] | None]] = []
    for role, username in people(args).items():
        rows += measure_person(args, role, username)
    path = ROOT / "bench" / "results" / (
        f"board-{vendor}-{round(customers / 1000)}k{'-' + args.label if args.label else ''}.md")
    report(args, path, vendor, customers, rows)
    return 0


def people(args: argparse.Namespace) -> dict[str, str]:
    """The demo's admin, manager and rep; in bench/org.py's company (its data directory holds
    enterprise.json), the admin and that company's managers and reps instead."""
    shaped = Path(args.data_dir) / "enterprise.json"
    if not shaped.exists():
        return PEOPLE
    found = json.loads(shaped.read_text())
    return {"admin": "admin", **{role: found[role] for role in (
        "small_manager", "department_manager", "region_manager", "quiet_rep", "busy_rep")}}


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-dir", default=str(ROOT / "var" / "bench" / "sqlite-c1000000-s1"))
    parser.add_argument("--rounds", type=int, default=100, help="timed board requests per person")
    parser.add_argument("--list-rounds", type=int, default=30,
                        help="timed requests per list scenario (a rep's list can take seconds)")
    parser.add_argument("--boards-only", action="store_true", help="time the boards alone")
    parser.add_argument("--deep", type=int, default=10_000, help="rows before the deep page")
    parser.add_argument("--no-migrate", action="store_true", help="time the code as it is "
                        "on a database as it is (a before-run of older code)")
    parser.add_argument("--label", default="", help="added to the result file's name")
    return parser.parse_args(argv)


def setup(args: argparse.Namespace) -> None:
    os.environ["KEHU_DATA_DIR"] = str(Path(args.data_dir).resolve())
    os.environ["DJANGO_SETTINGS_MODULE"] = "kehu.config.settings"
    os.environ.setdefault("KEHU_DEBUG", "0")
    import django

    django.setup()
    from django.conf import settings

    # Admins sign in with a second factor; force_login has none, and the sign-in is not
    # what is measured here.
    settings.KEHU_TWO_FACTOR_ENFORCED = False
    if not args.no_migrate:
        from django.core.management import call_command

        call_command("migrate", interactive=False, verbosity=0)
    from kehu.core.warm import freeze_after_warm_up

    freeze_after_warm_up()  # as kehu.config.wsgi does in each web process


def measure_person(args: argparse.Namespace, role: str, username: str) -> list[tuple]:
    from django.test import Client

    from kehu.accounts.models import User
    from kehu.history.models import Pipeline

    user = User.objects.get(username=username)
    client = Client()
    client.force_login(user)
    scope = Scope(user)
    pipeline = Pipeline.objects.order_by("-is_default", "pk").first()
    rows = [(f"{role} · board", page_times(client, "/history/board/", {}, args.rounds),
             sql_times(lambda: scope.board(pipeline.pk), args.rounds) if has_tallies() else None),
            (f"{role} · board heads by GROUP BY (the plan before, raw only)", None,
             sql_times(lambda: scope.heads_by_group_by(pipeline.pk), 5))]
    if role == "manager" and scope.owners:  # the 负责人 filter: one of their people's deals
        one = next((pk for pk in scope.owners if pk != user.pk), scope.owners[0])
        rows.append((f"{role} · board of one owner (?owner=)",
                     page_times(client, "/history/board/", {"owner": one}, args.rounds), None))
    for name, (table, sort) in LISTS.items() if not args.boards_only else ():
        url = f"/history/{name}/"
        rounds = args.list_rounds
        rows.append((f"{role} · {name} first page", page_times(client, url, {}, rounds),
                     sql_times(lambda t=table, s=sort: scope.page(t, s, None), rounds)))
        anchor = scope.anchor(table, sort, args.deep)
        if anchor is None:
            continue
        cursor = encode_cursor(table, sort, anchor)
        rows.append((f"{role} · {name} {args.deep:,} rows in",
                     page_times(client, url, {"cursor": cursor}, rounds),
                     sql_times(lambda t=table, s=sort, a=anchor: scope.page(t, s, a), rounds)))
    return rows


def has_tallies() -> bool:
    """Whether the database has the kanban's tallies (a before-run on an older one has not)."""
    from django.db import connection

    return "history_stagetally" in connection.introspection.table_names()


def page_times(client, url: str, params: dict, rounds: int) -> list[float]:
    for _ in range(2):  # warm the caches and the session
        client.get(url, params)
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        response = client.get(url, params)
        times.append((time.perf_counter() - started) * 1000)
        if response.status_code != 200:
            sys.exit(f"{url}: HTTP {response.status_code}")
    return times


def sql_times(run: Callable[[], object], rounds: int) -> list[float]:
    run()
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        run()
        times.append((time.perf_counter() - started) * 1000)
    return times


class Scope:
    """The raw SQL of what one person sees: their owners (as `visible_to` writes them: one
    owner by equality, several as `owner_id + 0 IN (...)`), their shares, live customers."""

    def __init__(self, user) -> None:
        from kehu.accounts.policy import access_for
        from kehu.customers.scoping import VIEW, shares_of
        from kehu.pool.gate import member_pool_ids

        access = access_for(user)
        self.owners = None if access.sees_all else sorted(access.owner_ids)
        self.shared = [] if access.sees_all else sorted(shares_of(user).for_action(VIEW))
        self.pools = [] if access.sees_all else sorted(member_pool_ids(user))

    def where(self, alias: str = "c") -> tuple[str, list]:
        if self.owners is None:
            return f"{alias}.deleted_at IS NULL", []
        if len(self.owners) == 1:
            clause, params = f"{alias}.owner_id = %s", list(self.owners)
        else:
            marks = ", ".join(["%s"] * len(self.owners))
            clause, params = f"{alias}.owner_id + 0 IN ({marks})", list(self.owners)
        if self.shared:
            clause += f" OR {alias}.id IN ({', '.join(['%s'] * len(self.shared))})"
            params += self.shared
        if self.pools:  # probed per row: an IN over the pool's 200,000 entries reads them all
            clause += (f" OR (SELECT 1 FROM pool_poolentry e WHERE e.customer_id = {alias}.id AND "
                       f"e.pool_id IN ({', '.join(['%s'] * len(self.pools))})) IS NOT NULL")
            params += self.pools
        return f"{alias}.deleted_at IS NULL AND ({clause})", params

    def board(self, pipeline_id: int) -> None:
        from django.db import connection

        with connection.cursor() as cursor:
            cursor.execute("SELECT id FROM history_stage WHERE pipeline_id = %s "
                           "ORDER BY position, id", [pipeline_id])
            stages = [r[0] for r in cursor.fetchall()]
            marks = ", ".join(["%s"] * len(stages))
            heads = (f"SELECT stage, SUM(opportunities), SUM(amount_cents) FROM history_stagetally "
                     f"WHERE stage IN ({marks})")
            params = list(stages)
            if self.owners is not None:
                heads += f" AND customer_owner IN ({', '.join(['%s'] * len(self.owners))})"
                params += self.owners
            cursor.execute(heads + " GROUP BY stage", params)
            cursor.fetchall()
            if self.pools:
                cursor.execute("SELECT stage, SUM(opportunities), SUM(amount_cents) FROM "
                               f"pool_poolstagetally WHERE stage IN ({marks}) AND pool IN "
                               f"({', '.join(['%s'] * len(self.pools))}) GROUP BY stage",
                               [*stages, *self.pools])
                cursor.fetchall()
            where, scope = self.where()
            for stage in stages:
                cursor.execute(
                    "SELECT o.id, o.title, o.amount, o.currency, o.expected_close, o.version, "
                    "o.updated_at, c.name, u.username FROM history_opportunity o "
                    "JOIN customers_customer c ON c.id = o.customer_id "
                    "LEFT JOIN accounts_user u ON u.id = o.owner_id "
                    f"WHERE o.stage_id = %s AND {where} "
                    "ORDER BY o.updated_at DESC, o.id DESC LIMIT 21", [stage, *scope])
                cursor.fetchall()

    def heads_by_group_by(self, pipeline_id: int) -> None:
        from django.db import connection

        where, scope = self.where()
        with connection.cursor() as cursor:
            cursor.execute("SELECT o.stage_id, COUNT(*), SUM(o.amount) FROM history_opportunity o "
                           "JOIN customers_customer c ON c.id = o.customer_id "
                           f"WHERE o.pipeline_id = %s AND {where} GROUP BY o.stage_id",
                           [pipeline_id, *scope])
            cursor.fetchall()

    def page(self, table: str, sort: str, anchor: tuple | None) -> None:
        from django.db import connection

        where, scope = self.where()
        after, params = "", []
        if anchor is not None:
            after = f" AND r.{sort} <= %s AND (r.{sort} < %s OR r.id < %s)"
            params = [anchor[0], anchor[0], anchor[1]]
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT r.*, c.name FROM {table} r "  # noqa: S608 (names are ours)
                           "JOIN customers_customer c ON c.id = r.customer_id "
                           f"WHERE {where}{after} ORDER BY r.{sort} DESC, r.id DESC LIMIT 51",
                           [*scope, *params])
            ids = [r[0] for r in cursor.fetchall()]
            if table == "history_order" and ids:
                cursor.execute("SELECT l.*, p.name FROM history_orderline l JOIN history_product p "
                               f"ON p.id = l.product_id WHERE l.order_id IN "
                               f"({', '.join(['%s'] * len(ids))}) ORDER BY l.id", ids)
                cursor.fetchall()

    def anchor(self, table: str, sort: str, depth: int) -> tuple | None:
        """(sort value, id) of the row `depth` rows into this person's list (found once)."""
        from django.db import connection

        where, scope = self.where()
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT r.{sort}, r.id FROM {table} r "  # noqa: S608
                           "JOIN customers_customer c ON c.id = r.customer_id "
                           f"WHERE {where} ORDER BY r.{sort} DESC, r.id DESC "
                           "LIMIT 1 OFFSET %s", [*scope, depth])
            row = cursor.fetchone()
        return tuple(row) if row else None


def encode_cursor(table: str, sort: str, anchor: tuple) -> str:
    """A cursor as `kehu.core.pagination` writes one: [forward, sort value, id], base64."""
    from django.apps import apps

    model = {"history_opportunity": "Opportunity", "history_order": "Order",
             "history_ticket": "Ticket"}[table]
    row = apps.get_model("history", model).objects.only(sort).get(pk=anchor[1])
    value = getattr(row, sort).isoformat()
    raw = json.dumps([0, value, row.pk], ensure_ascii=False)
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def pct(times: list[float], q: float) -> float:
    ordered = sorted(times)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def cells(times: list[float] | None) -> str:
    if not times:
        return " | | | "
    return " | ".join(f"{pct(times, q):.1f}" for q in (.5, .95, .99)) + f" | {max(times):.1f}"


def report(args: argparse.Namespace, path: Path, vendor: str, customers: int,
           rows: list[tuple]) -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT COUNT(*) FROM history_opportunity")
        opportunities = cursor.fetchone()[0]
    mem = Path("/proc/meminfo").read_text().split("\n", 1)[0].split()[1]
    lines = [
        f"# The kanban and the history lists, {customers:,} demo customers, "
        f"{'PostgreSQL' if vendor == 'pg' else 'SQLite'}", "",
        f"- {time.strftime('%Y-%m-%d %H:%M %Z')}; {opportunities:,} opportunities; "
        f"{os.cpu_count()} cores, {int(mem) / 1024 / 1024:.1f} GiB, load "
        f"{' '.join(f'{x:.2f}' for x in os.getloadavg())} at the end; Python "
        f"{platform.python_version()}",
        f"- `{' '.join(['bench/board.py', *sys.argv[1:]])}`: in process (Django's test client, "
        f"no HTTP server), {args.rounds} timed requests per board and {args.list_rounds} per list "
        "scenario after 2 warm-ups; ms",
        "- raw: the same rows by hand-written SQL on the same connection in the same run",
        "", "| scenario | Kehu p50 | p95 | p99 | max | raw p50 | p95 | p99 | max |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    lines += [f"| {name} | {cells(kehu)} | {cells(raw)} |" for name, kehu, raw in rows]
    text = "\n".join(lines) + "\n"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    print(text + f"\nSaved to {path.relative_to(ROOT)}")


if __name__ == "__main__":
    sys.exit(main())
