"""Helpers for tests: run what is queued in this process, or start a real worker process."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from pathlib import Path
from typing import IO

from django.db import connection

from kehu.jobs.queue import get_huey
from kehu.jobs.runner import execute

_FAR_FUTURE = dt.datetime(2999, 1, 1)  # noqa: DTZ001 (huey compares naive UTC times)


def drain(limit: int = 1000) -> int:
    """Execute every queued message (delayed retries included) here, in order; return how many."""
    huey = get_huey()
    count = 0
    while count < limit:
        for task in huey.read_schedule(_FAR_FUTURE):  # delayed retries: due now
            huey.enqueue(task)
        task = huey.dequeue()
        if task is None:
            return count
        # The job itself, without the queue's connection hygiene: closing "old" connections
        # would end the test's own transaction.
        execute(*task.args)
        count += 1
    raise RuntimeError(f"drain(): still more than {limit} messages")


def flush_queue() -> None:
    get_huey().flush()


def worker_env() -> dict[str, str]:
    """The environment a worker process needs to open this test's database and queue."""
    env = dict(os.environ)
    db = connection.settings_dict
    if db["ENGINE"].endswith("sqlite3"):
        env["DATABASE_URL"] = f"sqlite:///{db['NAME']}"
    else:
        auth = db["USER"] + (f":{db['PASSWORD']}" if db["PASSWORD"] else "")
        env["DATABASE_URL"] = f"postgresql://{auth}@{db['HOST']}:{db['PORT']}/{db['NAME']}"
    env.setdefault("KEHU_LOG_LEVEL", "WARNING")
    return env


def start_worker(log: IO[bytes] | int | None = subprocess.DEVNULL, *,
                 extra_env: dict[str, str] | None = None) -> subprocess.Popen:
    """A real `kehu worker` process in its own process group (kill -9 kills all of it)."""
    kehu = Path(sys.executable).with_name("kehu")
    return subprocess.Popen([str(kehu), "worker"], env={**worker_env(), **(extra_env or {})},  # noqa: S603
                            stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
