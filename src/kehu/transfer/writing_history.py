"""Writing an order or communication batch, and undoing it.

A batch's records go through the history's set-based writers (`orders_bulk_create`,
`communications_bulk_log`: the same cleaners as `order_create` and `communication_log`,
the gate with CHANGE once a batch, the change log with provenance `import` and the run's
id), in the batch's transaction; a record refused at the last moment — a number another
user took since the dry run — refuses only its own rows. Undo deletes what the import
created through `order_delete` / `communication_delete` with the version it left, after
naming every record changed since.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _

from kehu.accounts.models import User
from kehu.core.inserts import insert_dicts
from kehu.core.models import Origin
from kehu.history.imports import communications_bulk_log, orders_bulk_create, record_versions
from kehu.history.services import communication_delete, order_delete
from kehu.transfer.ledger import changed_since, count, ledger_row, save_problems
from kehu.transfer.models import ImportProblem, ImportRecord, ImportRun
from kehu.transfer.planning import Problem
from kehu.transfer.plans import HistoryPlan
from kehu.transfer.rows import RawRow

ORDER, COMMUNICATION = "history.order", "history.communication"
MODEL = {"orders": ORDER, "communications": COMMUNICATION}


def write_history(actor: User, run: ImportRun, plan: HistoryPlan) -> dict[str, int]:
    """One batch of orders or communications; returns {label: first row} of what it wrote
    (an order's number: a later line of it in the file is refused, not lost)."""
    write = orders_bulk_create if run.target == "orders" else communications_bulk_log
    written, errors = write(actor=actor, origin=Origin.IMPORT, note={"import": run.pk},
                            items=[(item.customer_id, item.data) for item in plan.creates])
    records = [ledger_row(run, plan.creates[index].rows[0], MODEL[run.target], pk,
                          ImportRecord.CREATED, 1, after={"label": plan.creates[index].label})
               for index, pk in written]
    for index, messages in errors.items():
        reason = "；".join(messages)
        plan.problems += [(RawRow(row, {}, []), [Problem("", reason)])
                          for row in plan.creates[index].rows]
    insert_dicts(ImportRecord, records)
    save_problems(run, ImportProblem.IMPORT, plan.problems)
    lines = sum(len(plan.creates[index].rows) - 1 for index, _pk in written)
    count(run, created=len(written), updated=0,
          unchanged=len(plan.unchanged) + len(plan.merged_rows) + lines,
          rejected=len(plan.problems))
    return {plan.creates[index].label: plan.creates[index].rows[0] for index, _pk in written}


def history_undo_problems(actor: User, latest: dict[str, dict[int, int]]) -> list[str]:
    """Every order or communication the import wrote that changed since or left scope."""
    return changed_since({m: latest.get(m, {}) for m in (ORDER, COMMUNICATION)},
                         lambda model, ids: record_versions(viewer=actor, model=model, ids=ids),
                         _("记录 #%(id)s 已不在你的管辖范围内"))


def history_undo(actor: User, latest: dict[str, dict[int, int]]) -> int:
    """Delete what the import created (checked by `history_undo_problems` first)."""
    removed = 0
    for model, delete in ((ORDER, order_delete), (COMMUNICATION, communication_delete)):
        versions = latest.get(model, {})
        current = record_versions(viewer=actor, model=model, ids=versions) if versions else {}
        for pk, version in versions.items():
            if pk in current:
                _delete(delete, model, actor, pk, version)
                removed += 1
    return removed


def _delete(delete: Any, model: str, actor: User, pk: int, version: int) -> None:
    key = "order" if model == ORDER else "communication"
    delete(actor=actor, **{key: pk}, origin=Origin.IMPORT, expected_version=version)
