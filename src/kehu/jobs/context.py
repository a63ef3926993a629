"""What a running job receives: its parameters, its checkpoint, and a way to report progress."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TextIO

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from kehu.jobs.models import Job, JobFile

Progress = Callable[[Job], None]


class JobCancelled(Exception):
    """Raised at a checkpoint when someone asked to cancel the job; the unit rolls back."""


class JobContext:
    """A job's handle on its own row. Units of work go through `step` (or `checkpoint` from
    inside a transaction the job opened itself): the unit's writes and the progress commit
    together, so after a crash `state` says exactly what was finished."""

    def __init__(self, job: Job, *, on_progress: Progress | None = None,
                 out: TextIO | None = None) -> None:
        self.job = job
        # The terminal when the job runs in the foreground (`kehu demo`); None in a worker.
        self.out = out
        self.actor = job.actor
        self.params: dict[str, Any] = dict(job.params)
        self.state: dict[str, Any] = dict(job.state)
        self._on_progress = on_progress

    def stage(self, name: str, *, total: int | None = None, done: int | None = None) -> None:
        """Name what the job is doing now and, when known, how many units it has in all."""
        job = self.job
        job.stage, job.total = str(name), total
        if done is not None:
            job.done = done
        job.heartbeat_at = timezone.now()
        Job.objects.filter(pk=job.pk).update(stage=job.stage, total=total, done=job.done,
                                             heartbeat_at=job.heartbeat_at)
        self._report()

    @contextlib.contextmanager
    def step(self, advance: int = 1, **state: Any) -> Iterator[None]:
        """One unit of work in one transaction, recorded as finished when it commits."""
        with transaction.atomic():
            yield
            self.checkpoint(advance, **state)

    def checkpoint(self, advance: int = 1, **state: Any) -> None:
        """Record a finished unit. Call it inside the transaction that did the unit's work."""
        if not transaction.get_connection().in_atomic_block:
            raise RuntimeError("checkpoint() belongs inside the unit's transaction")
        if Job.objects.filter(pk=self.job.pk, cancel_requested=True).exists():
            raise JobCancelled
        job = self.job
        job.done += advance
        self.state.update(state)
        job.state = dict(self.state)
        job.heartbeat_at = timezone.now()
        Job.objects.filter(pk=job.pk).update(done=job.done, state=job.state,
                                             heartbeat_at=job.heartbeat_at)
        transaction.on_commit(self._report)

    def file_path(self, name: str) -> Path:
        """Where to write a file the job will `attach` (created on demand)."""
        folder = Path(settings.MEDIA_ROOT) / "jobs" / str(self.job.pk)
        folder.mkdir(parents=True, exist_ok=True)
        return folder / Path(name).name

    def attach(self, path: Path, *, name: str | None = None,
               content_type: str = "application/octet-stream") -> JobFile:
        """Offer a written file for download; attaching the same name again replaces it."""
        relative = path.relative_to(Path(settings.MEDIA_ROOT)).as_posix()
        file, _created = JobFile.objects.update_or_create(
            job=self.job, name=name or path.name,
            defaults={"path": relative, "size": path.stat().st_size, "content_type": content_type})
        return file

    def _report(self) -> None:
        if self._on_progress is not None:
            self._on_progress(self.job)
