"""Benchmark follow-up at 1,000,000 customers: the nightly generation, my day, reminders.

    .venv/bin/python bench/followup.py [--backend sqlite|both]
        [--data-dir var/bench/sqlite-c1000000-s1] [--requests 200] [--skip 2,3]
    .venv/bin/python bench/pg.py -- bench/followup.py --backend postgres --data-dir {data_dir}

Uses bench/run.py's demo database, on SQLite and (through bench/pg.py) its PostgreSQL copy,
and migrates it; the value tier is classified first when it has no classes. The demo's
default plans (A every 30 days, B 90, C 180) are created through `plan_save` as the admin
when there are none. In one run per database:

1. the nightly generation (`followup.generate` in the foreground) twice, after deleting
   this database's follow-up tasks: from nothing, then again (nothing to change); beside
   it the bare SQL counting each plan's customers joined to their last communication;
2. my day for a sales rep (`selectors.my_day`, the API `GET /api/v1/followup/today` with a
   bearer token, the web page `/followup/today/` signed in), `--requests` times each, beside
   the raw due-task query: first as generated (the rep's real backlog, capped at 500 rows),
   then with ~300 of her tasks due today or overdue and the rest later (restored after);
3. reminders: `followup.remind` as of the next working day at 20:00 (the day's due moments
   passed, within the 24-hour grace), twice — the second finds nothing; its marks and
   notifications are removed afterwards.
Then the query plans of the generation's INSERT and my day's task query.
Results: printed and saved to bench/results/followup-<sqlite|pg>-<thousands>k.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import statistics
import sys
import time
from contextlib import nullcontext
from pathlib import Path
from typing import Any

from classify import both, database_name

ROOT = Path(__file__).resolve().parent.parent
DATA_DIR = ROOT / "var" / "bench" / "sqlite-c1000000-s1"  # bench/run.py's demo database
REP = "wang.fang"
DUE = 300  # the target's "a few hundred due tasks"
TARGET_MS = 50
CAPTURED: dict[str, tuple[str, Any]] = {}  # statements explained at the end


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--backend", choices=("sqlite", "postgres", "both"), default="both")
    parser.add_argument("--data-dir", default=str(DATA_DIR))
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--skip", default="", help="steps to leave out, e.g. 2,3")
    args = parser.parse_args(argv)
    if args.backend == "both":
        both(__file__, args)
        return 0
    load_start = os.getloadavg()
    prepared = setup(args)
    skip = {int(s) for s in args.skip.split(",") if s.strip()}
    lines = measure(args, skip, prepared, load_start)
    text = "\n".join(lines) + "\n"
    print(text)
    from kehu.customers.models import Customer

    thousands = int(float(f"{Customer.objects.count():.1g}")) // 1000  # 1,009,971: 1000k
    name = "sqlite" if args.backend == "sqlite" else "pg"
    (ROOT / "bench" / "results" / f"followup-{name}-{thousands}k.md").write_text(text)
    return 0


# --- the database ----------------------------------------------------------------------------


def setup(args: argparse.Namespace) -> list[str]:
    """Django on the chosen database, migrated (timed), loaded, classified, with plans."""
    os.environ.update({"KEHU_DATA_DIR": args.data_dir, "KEHU_DEBUG": "0",
                       "DJANGO_SETTINGS_MODULE": "kehu.config.settings",
                       # No refresh jobs from the bench's own writes (follow-up has no delay
                       # of its own: its tier hook re-plans in the writer's transaction).
                       "KEHU_CLASSIFY_DELAY_SECONDS": "0", "KEHU_QUALITY_DELAY_SECONDS": "0"})
    if args.backend == "postgres" and not os.environ.get("DATABASE_URL", "").startswith("postgres"):
        sys.exit("on PostgreSQL through bench/pg.py: bench/pg.py -- bench/followup.py "
                 "--backend postgres --data-dir {data_dir}")
    if args.backend == "sqlite":
        os.environ.pop("DATABASE_URL", None)
    sys.path.insert(0, str(ROOT / "src"))
    import django

    django.setup()
    notes = migrate(Path(args.data_dir))
    notes += ensure_classes()
    notes += ensure_plans()
    return notes


def migrate(base: Path) -> list[str]:
    """Migrate, timed; what the first run applied is kept in `followup-migrated.json`."""
    from django.core.management import call_command
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    executor = MigrationExecutor(connection)
    pending = [f"{m.app_label}.{m.name}" for m, _backwards in
               executor.migration_plan(executor.loader.graph.leaf_nodes())]
    started = time.monotonic()
    call_command("migrate", interactive=False, verbosity=0)
    seconds = time.monotonic() - started
    print(f"migrated {pending or 'nothing'} in {seconds:.0f} s", flush=True)
    marker = base / "followup-migrated.json"
    if pending:
        marker.write_text(json.dumps({"migrations": pending, "seconds": round(seconds)}))
        return [f"Migrations applied by this run: {', '.join(pending)} — {seconds:.0f} s."]
    if marker.exists():
        done = json.loads(marker.read_text())
        return [f"Migrations: none pending; the first run of this bench applied "
                f"{', '.join(done['migrations'])} in {done['seconds']} s."]
    return ["Migrations: none pending (applied before this bench first ran)."]


def ensure_classes() -> list[str]:
    from kehu.accounts.services import system_actor
    from kehu.classification.models import CustomerClass
    from kehu.jobs.services import run_in_foreground

    if CustomerClass.objects.filter(dimension__key="value_tier").exists():
        return ["Value tier classes: present (an earlier `classification.run`)."]
    started = time.perf_counter()
    job = run_in_foreground(actor=system_actor(), origin="system",
                            kind="classification.run", params={})
    seconds = time.perf_counter() - started
    print(f"classification.run: {seconds:.0f} s, {job.status}", flush=True)
    return [f"Value tier classes were missing: `classification.run` ran first ({seconds:.0f} s, "
            f"{job.status})."]


def ensure_plans() -> list[str]:
    """followup/demo.py's plans, through the same service, without the generation job its
    installer queues (the bench runs generation itself)."""
    from django.db import transaction

    from kehu.accounts.models import User
    from kehu.classification.models import DimensionValue
    from kehu.followup.demo import DEFAULT_PLANS, POINTS
    from kehu.followup.models import FollowUpPlan
    from kehu.followup.services import plan_save

    if FollowUpPlan.objects.exists():
        return [f"Plans: {FollowUpPlan.objects.count()} already there."]
    admin = User.objects.get(username="admin")
    tiers = {v.key: v for v in DimensionValue.objects.filter(dimension__key="value_tier")}
    with transaction.atomic():
        for key, name, days in DEFAULT_PLANS:
            plan_save(actor=admin, origin="demo", regenerate=False, data={
                "name": name, "target": f"value:{tiers[key].pk}", "cadence_days": days,
                "talking_points": POINTS})
    return ["Plans: the demo's three (A 30 days, B 90, C 180) created by this run with "
            "`plan_save` as admin (`install_demo_plans` would also queue a generation job)."]


# --- the measurements ------------------------------------------------------------------------


def measure(args: argparse.Namespace, skip: set[int], prepared: list[str],
            load_start: tuple[float, ...]) -> list[str]:
    from django.db import connection

    from kehu.customers.models import Customer
    from kehu.followup.models import FollowUpTask

    lines = [f"# Follow-up at {Customer.objects.count():,} customers ({database_name(connection)}, "
             f"{time.strftime('%Y-%m-%d %H:%M')})", "",
             f"Command: `.venv/bin/python bench/followup.py --backend {args.backend}"
             f"{' --skip ' + args.skip if args.skip else ''}`. Load average at the start: "
             f"{_load(load_start)} (2 cores, shared).", "", *[f"- {n}" for n in prepared], ""]
    if 1 not in skip:
        lines += generation()
    lines.append(f"Open follow-up tasks now: {FollowUpTask.objects.filter(status='open').count():,}.")
    lines.append("")
    if 2 not in skip:
        lines += my_day(args.requests)
    if 3 not in skip:
        lines += reminders()
    lines += plans(connection)
    lines += [f"Load average at the end: {_load(os.getloadavg())}.", ""]
    return lines


def _load(avg: tuple[float, ...]) -> str:
    return " / ".join(f"{x:.2f}" for x in avg) + " (1 / 5 / 15 min)"


def _capture(name: str, prefix: str) -> Any:
    """An execute wrapper keeping the first statement starting with `prefix`, to explain."""
    def wrapper(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        if name not in CAPTURED and sql.lstrip().startswith(prefix):
            CAPTURED[name] = (sql, params)
        return execute(sql, params, many, context)
    return wrapper


def _timer(spent: dict[str, list[float]]) -> Any:
    """An execute wrapper adding up the seconds of the generation's own statements."""
    def wrapper(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        head = sql.lstrip()[:60]
        kind = ("INSERT … SELECT (one per plan per range)"
                if head.startswith("INSERT INTO followup_followuptask")
                else "UPDATE … cancel (one per range)"
                if head.startswith('UPDATE "followup_followuptask"')
                else "everything else (calendar, job rows, plans)")
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            spent.setdefault(kind, []).append(time.perf_counter() - started)
    return wrapper


def generation() -> list[str]:
    from django.db import connection

    from kehu.accounts.services import system_actor
    from kehu.followup.models import FollowUpTask
    from kehu.followup.services import GENERATE_JOB
    from kehu.jobs.services import run_in_foreground

    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {FollowUpTask._meta.db_table}")
        deleted = cursor.rowcount
    lines = ["## 1. The nightly generation (`followup.generate` in the foreground)", "",
             f"Before the first run every follow-up task of this database was deleted "
             f"({deleted:,} rows, {time.perf_counter() - started:.0f} s).", "",
             "| run | seconds | status | result | open tasks after |", "|---|---|---|---|---|"]
    timings, spent = [], {"first": {}, "second": {}}
    for label in ("first", "second"):
        started = time.perf_counter()
        table = FollowUpTask._meta.db_table
        with connection.execute_wrapper(_capture("generation INSERT", f"INSERT INTO {table}")), \
                connection.execute_wrapper(_capture("generation cancel", f'UPDATE "{table}"')), \
                connection.execute_wrapper(_timer(spent[label])):
            job = run_in_foreground(actor=system_actor(), origin="system", kind=GENERATE_JOB,
                                    params={})
        timings.append(time.perf_counter() - started)
        result = json.dumps(job.result, ensure_ascii=False)
        open_tasks = FollowUpTask.objects.filter(status="open").count()
        print(f"generate ({label}): {timings[-1]:.1f} s, {job.status}, {result}", flush=True)
        lines.append(f"| {label} | {timings[-1]:.1f} | {job.status} | {result} | {open_tasks:,} |")
    lines += ["", "Where the time goes (the statements' own seconds, summed):", "",
              "| statement | first run: n, seconds | second run: n, seconds |", "|---|---|---|"]
    lines += [f"| {kind} | {len(spent['first'].get(kind, []))}, {sum(spent['first'].get(kind, [])):.1f} "
              f"| {len(spent['second'].get(kind, []))}, {sum(spent['second'].get(kind, [])):.1f} |"
              for kind in sorted({*spent["first"], *spent["second"]})]
    bare = bare_members()
    ratio = timings[0] / bare["seconds"]
    lines += ["", *bare["lines"], "",
              f"First run {timings[0]:.1f} s = **{ratio:.1f}×** the bare count "
              f"({bare['seconds']:.1f} s, the faster of two); second run "
              f"{timings[1]:.1f} s = {timings[1] / bare['seconds']:.1f}×.", "",
              "Target: seconds stated, set-based — met: one INSERT … SELECT per plan per range "
              "of 50,000 customer ids and one UPDATE (cancel) per range; no per-customer "
              "Python. The issue sets no number of seconds.", ""]
    return lines


def bare_sql() -> str:
    from kehu.classification.models import CustomerClass
    from kehu.customers.models import Customer
    from kehu.history.models import Communication

    return (f"SELECT x.value_id, COUNT(*), COUNT(x.last) FROM ("
            f"SELECT cc.value_id, (SELECT MAX(m.occurred_at) FROM "
            f"{Communication._meta.db_table} m WHERE m.customer_id = c.id) AS last "
            f"FROM {CustomerClass._meta.db_table} cc JOIN {Customer._meta.db_table} c "
            "ON c.id = cc.customer_id WHERE c.deleted_at IS NULL AND cc.value_id IN (%s, %s, %s)"
            ") x GROUP BY x.value_id")


def bare_members() -> dict[str, Any]:
    """Each plan's members joined to their last communication, counted: the bare work."""
    from django.db import connection

    from kehu.followup.models import FollowUpPlan

    plans = {p.target_value_id: p for p in FollowUpPlan.objects.filter(is_active=True)}
    values = sorted(plans)[:3]
    seconds, rows = [], []
    for _run in range(2):
        started = time.perf_counter()
        with connection.cursor() as cursor:
            cursor.execute(bare_sql(), values + [values[-1]] * (3 - len(values)))
            rows = cursor.fetchall()
        seconds.append(time.perf_counter() - started)
    print(f"bare members: {rows} in {seconds}", flush=True)
    lines = ["Raw baseline, same run: `SELECT value_id, COUNT(*), COUNT(last) FROM (customers "
             "holding each plan's value, live, with a correlated MAX(occurred_at) of their "
             "communications) GROUP BY value_id` — every member read and joined to its last "
             "communication, nothing written.", "",
             "| plan | members | ever contacted |", "|---|---|---|"]
    lines += [f"| {plans[v].name} ({plans[v].cadence_days} days) | {n:,} | {c:,} |"
              for v, n, c in rows]
    lines += ["", f"Bare count: {seconds[0]:.1f} s, then {seconds[1]:.1f} s."]
    return {"seconds": min(seconds), "lines": lines}


# --- my day ----------------------------------------------------------------------------------


def my_day(requests: int) -> list[str]:
    from django.db import connection
    from django.utils import timezone

    from kehu.accounts.models import User
    from kehu.core.warm import freeze_after_warm_up
    from kehu.followup.models import FollowUpTask

    freeze_after_warm_up()  # as kehu.config.wsgi does in each web process
    rep = User.objects.filter(username=REP).first() or User.objects.filter(
        role__code="sales", is_active=True).order_by("pk").first()
    today = timezone.localdate()
    mine = FollowUpTask.objects.filter(assignee=rep, status="open")
    lines = ["## 2. My day (今日待办) for a sales rep", "",
             f"{rep.username}: {mine.count():,} open tasks among "
             f"{FollowUpTask.objects.count():,}; today is {today} "
             f"({today:%A}). {requests} requests each, in process (Django's test Client for "
             f"the API and the page; a bearer token; the page signed in), after {WARM} untimed "
             "ones (the first API call of a process builds the API: 0.6–0.9 s, once).", ""]
    backlog = max(requests // 4, 20)  # up to 500 rows a request: fewer rounds
    lines += _scenario(f"As generated (her real backlog; the selector ranks at most 500 rows "
                       "and builds a page of 50; "
                       f"{backlog} requests each)", rep, today, backlog, capture=True)
    saved = list(mine.values_list("pk", "due_date", "due_at"))
    started = time.perf_counter()
    _set_due(connection, _few_due(saved, today))
    lines += [f"Then {DUE} of her open tasks made due today or overdue (a third today, the rest "
              "1–29 days overdue), 150 due in the week ahead and the other "
              f"{max(len(saved) - DUE - 150, 0):,} 8–67 days ahead "
              f"({time.perf_counter() - started:.0f} s; restored after).", ""]
    try:
        lines += _scenario(f"A few hundred due ({DUE})", rep, today, requests)
    finally:
        _set_due(connection, saved)
    return lines


def _few_due(saved: list[tuple], today: dt.date) -> list[tuple]:
    from kehu.followup.generation import moment

    rows = []
    for i, (pk, _due, _at) in enumerate(sorted(saved)):
        if i < DUE:
            day = today - dt.timedelta(days=0 if i % 3 == 0 else 1 + i % 29)
        elif i < DUE + 150:
            day = today + dt.timedelta(days=1 + i % 7)
        else:
            day = today + dt.timedelta(days=8 + i % 60)
        rows.append((pk, day, moment(day)))
    return rows


def _set_due(connection: Any, rows: list[tuple]) -> None:
    from django.db import transaction

    from kehu.followup.models import FollowUpTask

    ops = connection.ops
    sql = f"UPDATE {FollowUpTask._meta.db_table} SET due_date = %s, due_at = %s WHERE id = %s"
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.executemany(sql, [(ops.adapt_datefield_value(day), ops.adapt_datetimefield_value(at),
                                  pk) for pk, day, at in rows])


def _scenario(title: str, rep: Any, today: dt.date, requests: int,
              capture: bool = False) -> list[str]:
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.urls import reverse

    from kehu.accounts.models import ApiToken
    from kehu.accounts.services import token_create
    from kehu.followup import selectors

    token, secret = token_create(user=rep, name="bench followup")
    api = Client(HTTP_AUTHORIZATION=f"Bearer {secret}")
    web = Client()
    web.force_login(rep)
    lines = [f"### {title}", "",
             "| what | day | rows (page of ranked) | queries | p50 ms | p95 ms | p99 ms | max ms "
             "| ÷ raw p99 | target |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    try:
        for day in ("today", "week"):
            raw = _times(lambda d=day: _raw_due(connection, rep, today, d), requests)
            explained = connection.execute_wrapper(_capture(
                f"my_day {day}", 'SELECT "followup_followuptask"."id"')) if capture else nullcontext()
            with CaptureQueriesContext(connection) as queries, explained:
                agenda = selectors.my_day(viewer=rep, day=day)["paging"]
            rows = f"{len(agenda.rows)} of {agenda.total}"  # the page shown, of those ranked
            selector = _times(lambda d=day: selectors.my_day(viewer=rep, day=d), requests)
            lines.append(_row("raw due-task SQL", day, raw["rows"], 1, raw, raw))
            lines.append(_row("`selectors.my_day`", day, rows, len(queries), selector, raw))
            lines.append(_row("API `GET /api/v1/followup/today`", day, rows, None,
                              _get(api, f"/api/v1/followup/today?day={day}", requests), raw))
            lines.append(_row("page `/followup/today/`", day, rows, None,
                              _get(web, f"{reverse('followup:today')}?day={day}", requests), raw))
    finally:
        ApiToken.objects.filter(pk=token.pk).delete()
    return [*lines, ""]


def _raw_due(connection: Any, rep: Any, today: dt.date, day: str) -> int:
    """The rows the selector reads first, hand-written: the rep's open tasks due `day`
    (today: up to today; week: the 7 days after), their customer and plan, 500 at most."""
    from kehu.customers.models import Customer
    from kehu.followup.models import FollowUpPlan, FollowUpTask

    ops = connection.ops
    if day == "today":
        where, params = "t.due_date <= %s", [ops.adapt_datefield_value(today)]
    else:
        where = "t.due_date > %s AND t.due_date <= %s"
        params = [ops.adapt_datefield_value(today),
                  ops.adapt_datefield_value(today + dt.timedelta(days=7))]
    sql = (f"SELECT t.*, c.name, c.owner_id, p.name, p.talking_points FROM "
           f"{FollowUpTask._meta.db_table} t JOIN {Customer._meta.db_table} c ON c.id = t.customer_id "
           f"LEFT JOIN {FollowUpPlan._meta.db_table} p ON p.id = t.plan_id "
           f"WHERE t.assignee_id = %s AND t.status = 'open' AND {where} AND c.deleted_at IS NULL "
           "ORDER BY t.due_date, t.id LIMIT 500")
    with connection.cursor() as cursor:
        cursor.execute(sql, [rep.pk, *params])
        return len(cursor.fetchall())


def _times(work: Any, n: int) -> dict[str, Any]:
    ms, result = [], None
    for _i in range(n):
        started = time.perf_counter()
        result = work()
        ms.append((time.perf_counter() - started) * 1000)
    return {"ms": ms, "rows": result if isinstance(result, int) else None}


WARM = 3  # untimed requests first: a process's first API call builds the API: 0.6–0.9 s measured


def _get(client: Any, url: str, n: int) -> dict[str, Any]:
    def one() -> None:
        response = client.get(url)
        if response.status_code != 200:
            raise RuntimeError(f"{url}: {response.status_code} {response.content[:300]!r}")
    for _i in range(WARM):
        one()
    return _times(one, n)


def pct(values: list[float], q: int) -> float:
    return statistics.quantiles(values, n=100)[q - 1] if q < 100 else max(values)


def _row(what: str, day: str, rows: Any, queries: int | None, timed: dict, raw: dict) -> str:
    ms = timed["ms"]
    p99 = pct(ms, 99)
    is_raw = timed is raw
    verdict = "" if is_raw or day != "today" else ("met" if p99 <= TARGET_MS else "MISSED")
    ratio = "" if is_raw else f"{p99 / pct(raw['ms'], 99):.0f}×"
    return (f"| {what} | {day} | {rows if rows is not None else ''} | "
            f"{queries if queries is not None else ''} | {pct(ms, 50):.1f} | {pct(ms, 95):.1f} | "
            f"{p99:.1f} | {max(ms):.1f} | {ratio} | {verdict} |")


# --- reminders -------------------------------------------------------------------------------


def reminders() -> list[str]:
    from django.db.models import Max
    from django.utils import timezone

    from kehu.accounts.services import system_actor
    from kehu.followup.calendar import is_working_day
    from kehu.followup.generation import moment
    from kehu.followup.jobs import REMIND_JOB
    from kehu.followup.models import FollowUpTask
    from kehu.jobs.services import run_in_foreground
    from kehu.notifications.models import Notification

    day = timezone.localdate() + dt.timedelta(days=1)
    while not is_working_day(day):
        day += dt.timedelta(days=1)
    now = moment(day, dt.time(20))
    first_note = (Notification.objects.aggregate(m=Max("id"))["m"] or 0) + 1
    lines = ["## 3. Reminders at the due time (`followup.remind` in the foreground)", "",
             f"As of {now.isoformat()} (the job's `now` parameter): every task due that working "
             "day has passed its moment and is within the 24-hour grace. Batches of 500, "
             "each claimed and notified in one transaction.", "",
             "| run | seconds | tasks reminded | notifications written |", "|---|---|---|---|"]
    try:
        for label in ("first", "second"):
            before = Notification.objects.filter(id__gte=first_note).count()
            started = time.perf_counter()
            job = run_in_foreground(actor=system_actor(), origin="system", kind=REMIND_JOB,
                                    params={"now": now.isoformat()})
            seconds = time.perf_counter() - started
            written = Notification.objects.filter(id__gte=first_note).count() - before
            reminded = next(iter(job.result.values()), 0) if job.result else 0
            print(f"remind ({label}): {seconds:.1f} s, {reminded} tasks, {written} notes", flush=True)
            lines.append(f"| {label} | {seconds:.1f} | {reminded:,} | {written:,} |")
    finally:
        FollowUpTask.objects.filter(reminded_at=now).update(reminded_at=None)
        Notification.objects.filter(id__gte=first_note).delete()
    return [*lines, "", "Afterwards the marks were cleared and the notifications deleted.", ""]


# --- query plans -----------------------------------------------------------------------------


def plans(connection: Any) -> list[str]:
    explain = "EXPLAIN QUERY PLAN " if connection.vendor == "sqlite" else "EXPLAIN "
    lines = []
    for label, (sql, params) in CAPTURED.items():
        with connection.cursor() as cursor:
            cursor.execute(explain + sql, params)
            text = [row[-1] if connection.vendor == "sqlite" else row[0] for row in cursor.fetchall()]
        lines += [f"## Query plan: {label}", "", "```", sql[:1500] + (" …" if len(sql) > 1500 else ""),
                  "```", "", "```", *text, "```", ""]
    with connection.cursor() as cursor:
        cursor.execute(explain + bare_sql(), [0, 0, 0])
        text = [row[-1] if connection.vendor == "sqlite" else row[0] for row in cursor.fetchall()]
    return [*lines, "## Query plan: the bare count", "", "```", *text, "```", ""]


if __name__ == "__main__":
    sys.exit(main())
