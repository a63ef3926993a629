"""The job kinds apps register from their jobs.py, by name."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from kehu.jobs.context import JobContext

Runner = Callable[["JobContext"], dict[str, Any] | None]


@dataclass(frozen=True)
class JobKind:
    name: str
    title: str
    run: Runner
    max_attempts: int = 3
    # A cron expression: the kind also runs on this schedule (admins can change or pause it).
    schedule: str | None = None
    schedule_params: dict[str, Any] | None = None


KINDS: dict[str, JobKind] = {}


def job(name: str, *, title: Any, max_attempts: int = 3, schedule: str | None = None,
        schedule_params: dict[str, Any] | None = None) -> Callable[[Runner], Runner]:
    """Register `fn(ctx) -> result | None` as the job kind `name` (e.g. "demo.load")."""

    def register(fn: Runner) -> Runner:
        if name in KINDS and KINDS[name].run is not fn:
            raise ValueError(f"job kind {name!r} is registered twice")
        KINDS[name] = JobKind(name=name, title=str(title), run=fn, max_attempts=max_attempts,
                              schedule=schedule, schedule_params=schedule_params)
        return fn

    return register


def kind_get(name: str) -> JobKind | None:
    return KINDS.get(name)
