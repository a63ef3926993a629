"""What an import leaves behind, batch by batch: the ledger rows undo reads, the rejected
rows the preview and the error report show, and the run's counts."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from django.db.models import F
from django.utils.translation import gettext as _

from kehu.core.records import jsonable
from kehu.transfer.models import ImportProblem, ImportRun
from kehu.transfer.planning import Problem
from kehu.transfer.rows import RawRow


def ledger_row(run: ImportRun, row: int, model: str, object_id: int, action: str,
               version: int, before: dict | None = None, after: dict | None = None
               ) -> dict[str, Any]:
    """An ImportRecord row as `core.inserts.insert_dicts` takes it (no model instance:
    see customers.bulk.Created)."""
    return {"run_id": run.pk, "row": row, "model": model, "object_id": object_id,
            "action": action, "before": before or {}, "after": after or {}, "version": version}


def save_problems(run: ImportRun, phase: str,
                  problems: list[tuple[RawRow, list[Problem]]]) -> None:
    ImportProblem.objects.bulk_create(
        [ImportProblem(run=run, phase=phase, row=row.number, cells=[jsonable(c) for c in row.cells],
                       reasons=[[p.column, p.reason] for p in found])
         for row, found in problems], batch_size=500)


def count(run: ImportRun, *, created: int, updated: int, unchanged: int, rejected: int) -> None:
    """Add a batch's outcome to the run's counts (in the batch's transaction)."""
    ImportRun.objects.filter(pk=run.pk).update(
        created=F("created") + created, updated=F("updated") + updated,
        unchanged=F("unchanged") + unchanged, rejected=F("rejected") + rejected)


def changed_since(latest: dict[str, dict[int, int]],
                  read: Callable[[str, Iterable[int]], dict[int, tuple[int, str | None]]],
                  out_of_scope: str) -> list[str]:
    """What undo must name before it touches anything: every record the import left at a
    version (`latest`: model -> {id: version}) that moved on since, or left the actor's
    scope (`read(model, ids)` -> {id: (version, name or None)}, `out_of_scope` with %(id)s).
    A record gone already has nothing to restore and is not named."""
    problems = []
    for model, versions in latest.items():
        current = read(model, versions) if versions else {}
        for pk, version in versions.items():
            if pk not in current:
                continue
            now, name = current[pk]
            if name is None:
                problems.append(out_of_scope % {"id": pk})
            elif now != version:
                problems.append(_("“%(name)s”在导入后被修改过") % {"name": name})
    return problems
