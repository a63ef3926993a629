"""The workers' heartbeat: is any `kehu worker` alive on this installation?

Every worker process writes the time into the job queue's own key-value store every
EVERY_SECONDS, from a thread of its own, so a worker whose threads are all busy with long
jobs still beats (a busy worker shows up as a growing queue instead: see the metrics'
oldest-queued age). One key for the installation, the last writer wins: the heartbeat says
"some worker beat this long ago", which is what readiness and an alert need, not which one.

The queue's store is shared by everything that shares the queue (the SQLite queue file on
one machine, huey's tables in PostgreSQL or Redis across machines), so web processes read
the beat where the workers write it, with no table of its own and no migration. The value
is plain JSON, never a pickle: web processes read it.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from dataclasses import dataclass

from huey.constants import EmptyData

from kehu.jobs.queue import get_huey
from kehu.jobs.runner import worker_id

log = logging.getLogger("kehu.jobs")
KEY = "kehu.worker-heartbeat"
EVERY_SECONDS = 15
# Four missed beats: a worker paused that long (or gone) is not taking jobs.
STALE_SECONDS = 60


@dataclass(frozen=True)
class Beat:
    """The newest heartbeat: when (epoch seconds) and from which worker (host:pid)."""

    at: float
    worker: str

    def age(self, now: float | None = None) -> float:
        return max(0.0, (time.time() if now is None else now) - self.at)

    def fresh(self, now: float | None = None) -> bool:
        return self.age(now) < STALE_SECONDS


def beat(now: float | None = None) -> None:
    """Record that this worker process is alive now."""
    value = {"at": time.time() if now is None else now, "worker": worker_id()}
    get_huey().storage.put_data(KEY, json.dumps(value).encode())


def last_beat() -> Beat | None:
    """The newest heartbeat of any worker, or None when no worker has ever beaten."""
    raw = get_huey().storage.peek_data(KEY)
    if raw is EmptyData or raw is None:
        return None
    try:
        value = json.loads(bytes(raw))
        return Beat(at=float(value["at"]), worker=str(value["worker"]))
    except (ValueError, KeyError, TypeError):
        return None


class Heartbeat:
    """The worker's beating thread (a daemon: it ends with the process)."""

    def __init__(self, every: float = EVERY_SECONDS) -> None:
        self.every, self._stop = every, threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True, name="worker-heartbeat")

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def _run(self) -> None:
        while True:
            try:
                beat()
            except Exception as exc:  # a busy or unreachable queue: skip a beat, never die
                log.warning("worker heartbeat skipped (%s)", exc)
            if self._stop.wait(self.every):
                return
