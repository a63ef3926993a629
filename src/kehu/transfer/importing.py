"""Running an import: the dry run, the import itself in resumable batches, and undo.

Both runs read the stored sheet again, row by row (a 1,000,000-row CSV never sits in
memory), and plan CUSTOMER_BATCH rows at a time (`planning.CustomerPlanner`; other sheets
BATCH), a customer sheet's rows read and cleaned in a second process (`_prepared`). The
import writes each batch in one transaction together with the job's checkpoint
(`ctx.step`): the customers, their change log, the `ImportRecord` ledger, the rejected
rows and the run's counts commit together or not at all, so a worker killed mid-import
resumes after the last committed row and no row is written twice.

Undo reads the ledger: customers the import created are removed, fields it changed get
their old values back — all in one transaction, refused, naming each record, when any
was changed since (its version moved on) or gained rows of its own.
"""

from __future__ import annotations

from collections.abc import Iterator
from itertools import islice
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from kehu.accounts.models import User
from kehu.audit import services as audit
from kehu.audit.models import Action
from kehu.core.db import unmapped
from kehu.core.errors import PermissionDenied, ValidationError, VersionConflict
from kehu.core.forked import forked
from kehu.core.inserts import insert_dicts
from kehu.core.models import Origin
from kehu.core.records import jsonable, log_change
from kehu.core.warm import fewer_collections
from kehu.customers.bulk import contact_customers, current_versions, customers_bulk_remove
from kehu.customers.bulk import customers_bulk_create as bulk_create
from kehu.customers.regions import index as regions
from kehu.customers.services import contact_create, contact_delete, contact_update, customer_update
from kehu.jobs.context import JobContext
from kehu.jobs.registry import job
from kehu.jobs.services import job_start
from kehu.transfer.keymemory import KeyMemory
from kehu.transfer.ledger import changed_since, count, ledger_row, save_problems
from kehu.transfer.models import ImportProblem, ImportRecord, ImportRun, RunStatus
from kehu.transfer.planning import BatchPlan, Change, CustomerPlanner, Problem
from kehu.transfer.planning_communications import CommunicationPlanner
from kehu.transfer.planning_orders import OrderPlanner
from kehu.transfer.plans import HistoryPlan
from kehu.transfer.reading import open_sheet
from kehu.transfer.report import write_report
from kehu.transfer.rows import RawRow, RowShape
from kehu.transfer.services import may_import
from kehu.transfer.services import may_touch as _may_touch
from kehu.transfer.writing_history import history_undo, history_undo_problems, write_history

BATCH = 1000
# A customer sheet's batch: twice BATCH, to spread what each batch pays once (the
# checkpoint, the counts, the key lookup, the commit and its WAL checkpoint) over more
# rows. 4,000 took both processes' heap to 426 MB at 100,000 rows (bench/import.py).
CUSTOMER_BATCH = 2000
EXAMPLES = 20  # rows of each outcome the preview shows
IMPORT_KIND, UNDO_KIND = "transfer.import", "transfer.undo"
CUSTOMER, CONTACT = "customers.customer", "customers.contact"
STARTABLE = (RunStatus.UPLOADED, RunStatus.PREVIEWED)


# --- services ------------------------------------------------------------------------------


@transaction.atomic
def import_start(*, actor: User, origin: str, run: ImportRun, dry_run: bool,
                 queued: bool = True) -> ImportRun:
    """Queue the dry run or the import of a configured run (its actor or an admin)."""
    run = ImportRun.objects.select_for_update().get(pk=run.pk)
    _may_touch(actor, run)
    may_import(actor)  # the role may have lost it since the upload
    if run.status not in STARTABLE:
        raise ValidationError({"status": [_("这次导入已经开始或已结束（%(status)s）")
                                          % {"status": run.get_status_display()}]})
    task = job_start(actor=actor, origin=origin, kind=IMPORT_KIND, queued=queued,
                     params={"run": run.pk, "dry_run": dry_run},
                     title=_("预览导入：%(name)s") % {"name": run.filename} if dry_run
                     else _("导入：%(name)s") % {"name": run.filename})
    if dry_run:
        run.status, run.preview_job = RunStatus.PREVIEWING, task
    else:
        run.status, run.import_job = RunStatus.IMPORTING, task
    run.save(update_fields=["status", "preview_job", "import_job", "updated_at"])
    log_change(actor=actor, action="preview" if dry_run else "import", instance=run,
               origin=origin, changes={"job": task.pk})
    return run


@transaction.atomic
def import_undo(*, actor: User, origin: str, run: ImportRun, queued: bool = True) -> ImportRun:
    """Queue the undo of a finished import, after naming every record changed since."""
    run = ImportRun.objects.select_for_update().get(pk=run.pk)
    _may_touch(actor, run)
    if run.status != RunStatus.DONE:
        raise ValidationError({"status": [_("只能撤销已完成的导入")]})
    problems = undo_problems(run, actor)
    if problems:
        raise ValidationError({"undo": problems})
    run.undo_job = job_start(actor=actor, origin=origin, kind=UNDO_KIND, queued=queued,
                             params={"run": run.pk},
                             title=_("撤销导入：%(name)s") % {"name": run.filename})
    run.status = RunStatus.UNDOING
    run.save(update_fields=["status", "undo_job", "updated_at"])
    log_change(actor=actor, action="undo", instance=run, origin=origin,
               changes={"job": run.undo_job.pk})
    return run


# --- the job: dry run and import -------------------------------------------------------------


@job(IMPORT_KIND, title=gettext_lazy("导入"), max_attempts=3)
def run_import(ctx: JobContext) -> dict[str, Any]:
    run = ImportRun.objects.select_related("owner").get(pk=ctx.params["run"])
    dry_run = bool(ctx.params["dry_run"])
    sheet = open_sheet(Path(settings.MEDIA_ROOT) / run.stored_path)
    shape = RowShape(run.headers, run.mapping)
    planner = _planner(run, ctx.actor, shape)
    if run.rows_total is None:
        ctx.stage(_("清点行数"))
        run.rows_total = sheet.count()
        ImportRun.objects.filter(pk=run.pk).update(rows_total=run.rows_total)
    start = 0 if dry_run else int(ctx.state.get("row", 0))
    if start:
        _resume(planner, run)
    summary = _fresh_summary() if dry_run else None  # the dry run's counts and examples
    if dry_run:  # what it remembers of the file (`seen`) goes with it: a retry starts again
        planner.seen = KeyMemory() if isinstance(planner, CustomerPlanner) else {}
        planner.warn = isinstance(planner, CustomerPlanner)
        ImportProblem.objects.filter(run=run, phase=ImportProblem.PREVIEW).delete()
    ctx.stage(_("预览") if dry_run else _("导入"), total=run.rows_total,
              done=0 if dry_run else ctx.job.done)
    group = "number" if run.target == "orders" else None  # an order's lines stay together
    size = CUSTOMER_BATCH if isinstance(planner, CustomerPlanner) else BATCH
    with unmapped():
        for batch, prepared in _prepared(planner, _batches(sheet.rows(), shape, after=start,
                                                            group=group, size=size)):
            _take(ctx, run, planner, batch, prepared, summary)
    if isinstance(planner.seen, KeyMemory):  # else its file goes when the planner does
        planner.seen.close()
    return _finish(run, dry_run, summary, ctx.actor)


def _take(ctx: JobContext, run: ImportRun, planner: Any, batch: list[RawRow],
          prepared: list | None, summary: dict[str, Any] | None) -> None:
    """One batch planned, then counted into `summary` (the dry run) or written, in one
    transaction with its checkpoint."""
    plan = planner.plan(batch) if prepared is None else planner.plan(batch, prepared)
    with ctx.step(advance=len(batch), row=batch[-1].number):
        if summary is not None:
            _tally(summary, plan, run)
        elif isinstance(planner, CustomerPlanner):
            planner.touched.update(_write(ctx.actor, run, plan))
        else:
            written = write_history(ctx.actor, run, plan)
            if isinstance(planner, OrderPlanner):
                planner.imported.update(written)


def _prepared(planner: Any, batches: Iterator[list[RawRow]]
              ) -> Iterator[tuple[list[RawRow], list | None]]:
    """Each batch with what its rows' cleaning gave: for a customer sheet read and cleaned
    in a second process (`core.forked`) while this one decides and writes — the same
    cleaners, on the other core. With the writer's cuts: 1,085 -> 1,483 rows/s at 100,000
    rows on a machine at load 3.4-3.9, where neither process had a core of its own
    (bench/results/import-sqlite.md); under that load the cleaning took ~175 µs of CPU a
    row there, the writing ~250 here."""
    if not isinstance(planner, CustomerPlanner):
        yield from ((batch, None) for batch in batches)
        return
    regions.current()  # read here: the child may not query, it holds this one

    def produce() -> Iterator[tuple[list[RawRow], list]]:
        regions.hold()
        return ((batch, planner.prepare(batch)) for batch in batches)

    with fewer_collections():  # in both processes
        yield from forked(produce)


def _planner(run: ImportRun, actor: User, shape: RowShape) -> Any:
    if run.target == "orders":
        return OrderPlanner(actor=actor, shape=shape, match=run.match)
    if run.target == "communications":
        return CommunicationPlanner(actor=actor, shape=shape, match=run.match)
    return CustomerPlanner(actor=actor, shape=shape, match=run.match,
                           default_owner=run.owner or actor)


def _resume(planner: Any, run: ImportRun) -> None:
    """A resumed run remembers what its earlier batches wrote: the customers they touched
    (later rows only fill them) and the orders (a later line of one is refused, not lost)."""
    if isinstance(planner, CustomerPlanner):
        planner.touched.update(run.records.filter(model=CUSTOMER).values_list("object_id",
                                                                               flat=True))
    elif isinstance(planner, OrderPlanner):
        planner.imported.update((after["label"], row) for row, after in
                                run.records.values_list("row", "after"))


def _batches(rows: Iterator[tuple[int, list[Any]]], shape: RowShape, after: int,
             group: str | None = None, size: int | None = None) -> Iterator[list[RawRow]]:
    """`size` (BATCH) rows at a time; with `group`, a batch goes on while the rows share
    that field's value (an order's lines), so one order is never split between two."""
    size = size or BATCH
    wanted = (shape.row(number, cells) for number, cells in rows if number > after)
    carry: list[RawRow] = []
    while batch := carry + list(islice(wanted, size - len(carry))):
        carry = []
        last = batch[-1].values.get(group) if group else None
        for following in wanted if last not in (None, "") else ():
            if following.values.get(group) != last:
                carry = [following]
                break
            batch.append(following)
        yield batch


def _fresh_summary() -> dict[str, Any]:
    return {"created": 0, "updated": 0, "unchanged": 0, "merged": 0, "rejected": 0,
            "examples": {"created": [], "updated": [], "unchanged": [], "merged": []}}


def _tally(summary: dict[str, Any], plan: BatchPlan | HistoryPlan, run: ImportRun) -> None:
    examples = summary["examples"]
    for key, items in plan.outcomes().items():
        summary[key] += len(items)
        room = EXAMPLES - len(examples[key])
        examples[key].extend([row, name, fields] for row, name, fields in items[:max(room, 0)])
    summary["rejected"] += len(plan.problems)
    warnings = getattr(plan, "warnings", [])
    summary["warned"] = summary.get("warned", 0) + len(warnings)
    room = EXAMPLES - len(examples.setdefault("warned", []))
    examples["warned"].extend([row, text, []] for row, text in warnings[:max(room, 0)])
    save_problems(run, ImportProblem.PREVIEW, plan.problems)


def _write(actor: User, run: ImportRun, plan: BatchPlan) -> list[int]:
    """One batch: creations set-based, updates through the one update path, the ledger.
    Returns the ids of the customers it created."""
    note = {"import": run.pk}
    records: list[dict[str, Any]] = []
    customers: list = []
    if plan.creates:
        customers, contacts = bulk_create(actor=actor, origin=Origin.IMPORT, note=note,
                                          items=[c.item for c in plan.creates])
        # No `after` for a creation: undo removes the record whole, and a sealed copy of
        # its name (AES-GCM a row) was personal data kept for nothing.
        records += [ledger_row(run, c.row.number, CUSTOMER, customer.pk, ImportRecord.CREATED,
                            customer.version)
                    for c, customer in zip(plan.creates, customers, strict=True)]
        rows = {customer.pk: c.row.number for c, customer in zip(plan.creates, customers,
                                                                  strict=True)}
        records += [ledger_row(run, rows[t.customer_id], CONTACT, t.pk, ImportRecord.CREATED,
                            t.version) for t in contacts]
    updated = 0
    for change in plan.changes.values():
        written, refused = _apply(actor, run, change)
        if refused:
            plan.problems += refused
            continue
        records += written
        updated += len(change.rows)
    insert_dicts(ImportRecord, records)  # 5x bulk_create's speed
    save_problems(run, ImportProblem.IMPORT, plan.problems)
    count(run, created=len(plan.creates), updated=updated,
          unchanged=len(plan.unchanged) + len(plan.merged_rows), rejected=len(plan.problems))
    return [c.pk for c in customers]


def _apply(actor: User, run: ImportRun, change: Change) -> tuple[list[dict[str, Any]], list]:
    """Write one customer's update (and its contacts'); a refusal rejects its rows."""
    first = change.rows[0]
    try:
        with transaction.atomic():
            records = []
            if change.data:
                customer = customer_update(actor=actor, customer=change.customer_id,
                                           data=change.data, expected_version=change.version,
                                           origin=Origin.IMPORT)
                records.append(ledger_row(run, first, CUSTOMER, customer.pk, ImportRecord.UPDATED,
                                       customer.version, before=jsonable(change.before),
                                       after=jsonable(change.data)))
            for data in change.contacts_new:
                contact = contact_create(actor=actor, customer=change.customer_id, data=data,
                                         origin=Origin.IMPORT)
                records.append(ledger_row(run, first, CONTACT, contact.pk, ImportRecord.CREATED,
                                       contact.version))
            for contact_id, data in change.contact_updates.items():
                contact = contact_update(actor=actor, contact=contact_id, data=data,
                                         expected_version=change.contact_versions[contact_id],
                                         origin=Origin.IMPORT)
                records.append(ledger_row(run, first, CONTACT, contact.pk, ImportRecord.UPDATED,
                                       contact.version,
                                       before=jsonable(change.contact_before[contact_id]),
                                       after=jsonable(data)))
            return records, []
    except (ValidationError, VersionConflict, PermissionDenied) as exc:
        reason = "；".join(getattr(exc, "messages", None) or [str(exc)])
        return [], [(RawRow(row, {}, []), [Problem("", _("更新“%(name)s”失败：%(reason)s")
                                               % {"name": change.name, "reason": reason})])
                for row in change.rows]


def _finish(run: ImportRun, dry_run: bool, summary: dict[str, Any] | None,
            actor: User) -> dict[str, Any]:
    phase = ImportProblem.PREVIEW if dry_run else ImportProblem.IMPORT
    report = write_report(run, phase)
    with transaction.atomic():
        run = ImportRun.objects.select_for_update().get(pk=run.pk)
        run.report_path = report or ""
        if dry_run:
            run.status, run.dry_run_result = RunStatus.PREVIEWED, summary
        else:
            run.status = RunStatus.DONE
        run.save()
    counts = summary if dry_run else {"created": run.created, "updated": run.updated,
                                      "unchanged": run.unchanged, "rejected": run.rejected}
    if not dry_run:
        audit.record(actor, Action.IMPORTED, label=run.filename,
                     details={"run": run.pk, "target": run.target, "rows": run.rows_total,
                              **{k: counts[k] for k in ("created", "updated", "unchanged",
                                                        "rejected")}})
    return {str(_("新建")): counts["created"], str(_("更新")): counts["updated"],
            str(_("未变")): counts["unchanged"] + counts.get("merged", 0),
            str(_("拒绝")): counts["rejected"]}


# --- undo -------------------------------------------------------------------------------------


def undo_problems(run: ImportRun, actor: User) -> list[str]:
    """Every record the import wrote that was changed since or left `actor`'s scope, named
    (by number only when out of scope); [] when undo may go."""
    latest = _latest_versions(run)
    if run.target != "customers":
        return history_undo_problems(actor, latest)
    return changed_since(latest, lambda model, ids: current_versions(viewer=actor, model=model,
                                                                     ids=ids),
                         _("客户 #%(id)s 已不在你的管辖范围内或已删除"))


def _latest_versions(run: ImportRun) -> dict[str, dict[int, int]]:
    latest: dict[str, dict[int, int]] = {CUSTOMER: {}, CONTACT: {}} \
        if run.target == "customers" else {}
    for model, pk, version in run.records.order_by("id").values_list("model", "object_id",
                                                                     "version"):
        latest.setdefault(model, {})[pk] = version
    return latest


@job(UNDO_KIND, title=gettext_lazy("撤销导入"), max_attempts=2)
def run_undo(ctx: JobContext) -> dict[str, Any]:
    run = ImportRun.objects.get(pk=ctx.params["run"])
    records = list(run.records.order_by("id"))
    ctx.stage(_("撤销导入"), total=len(records), done=0)
    with ctx.step(advance=len(records)):
        problems = undo_problems(run, ctx.actor)
        if problems:
            raise ValidationError({"undo": problems})
        if run.target != "customers":
            removed = history_undo(ctx.actor, _latest_versions(run))
            ImportRun.objects.filter(pk=run.pk).update(status=RunStatus.UNDONE)
            return {str(_("删除")): removed}
        created = {(r.model, r.object_id) for r in records if r.action == ImportRecord.CREATED}
        latest = _latest_versions(run)
        _restore_updates(ctx.actor, records, created, latest)
        customers = {pk: latest[CUSTOMER][pk] for model, pk in created if model == CUSTOMER}
        own_contacts = [pk for model, pk in created if model == CONTACT]
        _remove_contacts(ctx.actor, records, customers, latest)
        removed = customers_bulk_remove(actor=ctx.actor, origin=Origin.IMPORT, versions=customers,
                                        contacts=own_contacts, note={"undo_import": run.pk})
        ImportRun.objects.filter(pk=run.pk).update(status=RunStatus.UNDONE)
    return {str(_("删除")): removed, str(_("还原")): sum(
        1 for r in records if r.action == ImportRecord.UPDATED and r.model == CUSTOMER)}


def _restore_updates(actor: User, records: list[ImportRecord], created: set, latest: dict) -> None:
    """Old values back, the earliest `before` of each record winning, newest record first."""
    before: dict[tuple[str, int], dict[str, Any]] = {}
    for record in records:
        if record.action == ImportRecord.UPDATED and (record.model, record.object_id) not in created:
            olds = before.setdefault((record.model, record.object_id), {})
            for key, value in record.before.items():
                olds.setdefault(key, value)
    contacts = current_versions(viewer=actor, model=CONTACT,
                                ids=[pk for model, pk in before if model == CONTACT])
    for (model, pk), olds in before.items():
        if model == CUSTOMER:
            customer_update(actor=actor, customer=pk, data=_customer_data(olds),
                            expected_version=latest[CUSTOMER][pk], origin=Origin.IMPORT)
        elif pk in contacts:  # a contact deleted by hand since has nothing to restore
            contact_update(actor=actor, contact=pk, data=olds,
                           expected_version=latest[CONTACT][pk], origin=Origin.IMPORT)


def _customer_data(olds: dict[str, Any]) -> dict[str, Any]:
    data = {k: v for k, v in olds.items() if not k.startswith("custom.")}
    custom = {k.removeprefix("custom."): v for k, v in olds.items() if k.startswith("custom.")}
    if custom:
        data["custom"] = custom
    return data


def _remove_contacts(actor: User, records: list[ImportRecord], customers: dict[int, int],
                     latest: dict) -> None:
    """Contacts the import added to customers that stay (the others go with their customer)."""
    ids = [r.object_id for r in records
           if r.model == CONTACT and r.action == ImportRecord.CREATED]
    owners = contact_customers(ids)
    for pk in ids:
        if pk in owners and owners[pk] not in customers:
            contact_delete(actor=actor, contact=pk, expected_version=latest[CONTACT][pk],
                           origin=Origin.IMPORT)
