"""The queue under the jobs: huey, on SQLite by default, PostgreSQL or Redis to grow.

Only two huey tasks exist: `run` (execute one Job row by id) and `tick` (every minute:
start due schedules, recover jobs whose worker died). Everything users see lives in the
Job table; the queue only carries ids, so losing a queue message loses nothing (`tick`
re-sends any job that waits too long) and a duplicate message does nothing (the runner
claims a job once).

Brokers (KEHU_JOB_BROKER):
- `sqlite` (the default on the embedded database): its own file, KEHU_JOB_QUEUE_FILE
  (default <data dir>/queue.sqlite3), so queue polling never takes the app database's lock.
- `postgres` (the default when DATABASE_URL is PostgreSQL): huey's tables in the app's
  database, LISTEN/NOTIFY wake-ups, `FOR UPDATE SKIP LOCKED` dequeues; workers on several
  hosts share it.
- `redis://host:6379/0`: RedisHuey, for many workers on many hosts.
"""

from __future__ import annotations

import functools
from typing import Any

from django.conf import settings
from django.db import close_old_connections, connections
from huey import Huey, PostgresHuey, RedisHuey, SqliteHuey, crontab

NAME = "kehu"
TASKS: dict[str, Any] = {}


@functools.cache
def get_huey() -> Huey:
    """The process's huey instance, built on first use (after Django chose its database)."""
    huey = _build(settings.KEHU_JOBS["BROKER"])
    TASKS["run"] = huey.task(name="kehu.run")(_in_fresh_connections(_run))
    TASKS["tick"] = huey.periodic_task(crontab(), name="kehu.tick")(_in_fresh_connections(_tick))
    return huey


def _build(broker: str) -> Huey:
    common: dict[str, Any] = {"results": False, "utc": True}
    if broker == "sqlite":
        return SqliteHuey(NAME, filename=str(settings.KEHU_JOBS["QUEUE_FILE"]), **common)
    if broker == "postgres":
        db = connections["default"].settings_dict
        if db["ENGINE"] != "django.db.backends.postgresql":
            raise RuntimeError("KEHU_JOB_BROKER=postgres needs DATABASE_URL to be PostgreSQL")
        params = {k: v for k, v in {"host": db["HOST"], "port": db["PORT"], "user": db["USER"],
                                    "password": db["PASSWORD"], "dbname": db["NAME"]}.items() if v}
        return PostgresHuey(NAME, **params, **common)
    if broker.startswith(("redis://", "rediss://", "unix://")):
        return RedisHuey(NAME, url=broker, **common)
    raise RuntimeError(f"KEHU_JOB_BROKER: unknown broker {broker!r} (sqlite, postgres or redis://…)")


def send(job_id: int, *, delay: float | None = None) -> None:
    """Put a job's id on the queue (after `delay` seconds, for a retry)."""
    get_huey()
    TASKS["run"].schedule(args=(job_id,), delay=delay) if delay else TASKS["run"](job_id)


def broker_label() -> str:
    broker = settings.KEHU_JOBS["BROKER"]
    return f"sqlite:{settings.KEHU_JOBS['QUEUE_FILE']}" if broker == "sqlite" else broker.split("@")[-1]


def _in_fresh_connections(fn: Any) -> Any:
    @functools.wraps(fn)
    def inner(*args: Any) -> Any:
        close_old_connections()
        try:
            return fn(*args)
        finally:
            close_old_connections()

    return inner


def _run(job_id: int) -> None:
    from kehu.jobs.runner import execute

    execute(job_id)


def _tick() -> None:
    from kehu.jobs.runner import tick

    tick()
