"""Writing an order or communication batch, and undoing it.

Each planned record goes through the history's own service (`order_create`,
`communication_log`: the gate with CHANGE, the cleaners once more, the change log with
provenance `import`) in a savepoint of the batch's transaction, so a record refused at
the last moment — a number another user took since the dry run — refuses only its own
rows. Undo deletes what the import created through `order_delete` / `communication_delete`
with the version it left, after naming every record changed since.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.http import Http404
from django.utils.translation import gettext as _

from kehu.accounts.models import User
from kehu.core.errors import PermissionDenied, ValidationError, VersionConflict
from kehu.core.inserts import insert_dicts
from kehu.core.models import Origin
from kehu.history.imports import record_versions
from kehu.history.services import (
    communication_delete,
    communication_log,
    order_create,
    order_delete,
)
from kehu.transfer.ledger import count, ledger_row, save_problems
from kehu.transfer.models import ImportProblem, ImportRecord, ImportRun
from kehu.transfer.planning import Problem
from kehu.transfer.plans import HistoryPlan
from kehu.transfer.rows import RawRow

ORDER, COMMUNICATION = "history.order", "history.communication"
MODEL = {"orders": ORDER, "communications": COMMUNICATION}
REFUSALS = (ValidationError, VersionConflict, PermissionDenied, Http404)


def write_history(actor: User, run: ImportRun, plan: HistoryPlan) -> dict[str, int]:
    """One batch of orders or communications; returns {label: first row} of what it wrote
    (an order's number: a later line of it in the file is refused, not lost)."""
    model = MODEL[run.target]
    records: list[dict[str, Any]] = []
    written: dict[str, int] = {}
    created = lines = 0
    for item in plan.creates:
        try:
            with transaction.atomic():
                record = _create(actor, run.target, item.customer_id, item.data)
        except REFUSALS as exc:
            reason = "；".join(_messages(exc))
            plan.problems += [(RawRow(row, {}, []), [Problem("", reason)]) for row in item.rows]
            continue
        records.append(ledger_row(run, item.rows[0], model, record.pk, ImportRecord.CREATED,
                                  record.version, after={"label": item.label}))
        written[item.label] = item.rows[0]
        created += 1
        lines += len(item.rows) - 1
    insert_dicts(ImportRecord, records)
    save_problems(run, ImportProblem.IMPORT, plan.problems)
    count(run, created=created, updated=0,
          unchanged=len(plan.unchanged) + len(plan.merged_rows) + lines,
          rejected=len(plan.problems))
    return written


def _create(actor: User, target: str, customer_id: int, data: dict[str, Any]) -> Any:
    if target == "orders":
        return order_create(actor=actor, customer=customer_id, data=data, origin=Origin.IMPORT)
    return communication_log(actor=actor, customer=customer_id, data=data, origin=Origin.IMPORT)


def _messages(exc: Exception) -> list[str]:
    if isinstance(exc, ValidationError) and hasattr(exc, "error_dict"):
        return [m for messages in exc.message_dict.values() for m in messages]
    if isinstance(exc, Http404):
        return [_("客户已不存在，或已不在你可以修改的范围内")]
    return getattr(exc, "messages", None) or [str(exc)]


def history_undo_problems(actor: User, latest: dict[str, dict[int, int]]) -> list[str]:
    """Every order or communication the import wrote that changed since or left scope."""
    problems = []
    for model in (ORDER, COMMUNICATION):
        versions = latest.get(model, {})
        current = record_versions(viewer=actor, model=model, ids=versions) if versions else {}
        for pk, version in versions.items():
            if pk not in current:
                continue  # deleted by hand since: nothing to undo
            now, name = current[pk]
            if name is None:
                problems.append(_("记录 #%(id)s 已不在你的管辖范围内") % {"id": pk})
            elif now != version:
                problems.append(_("“%(name)s”在导入后被修改过") % {"name": name})
    return problems


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
