"""Writing an export: permission, rows, sheet, and one change-log row for the whole export.

Three targets share one path (`export_target`): customers (the list itself), orders (one row per
order line) and communications of the listed customers. A target names its columns, its
rows and how to count them; everything else — permission, writers, progress, the record —
is the same for all three.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import IO, Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from kehu.accounts.models import User
from kehu.accounts.policy import access_for
from kehu.audit import services as audit
from kehu.audit.models import Action
from kehu.core.records import log_change
from kehu.customers.filters import CustomerFilters
from kehu.jobs.models import Job
from kehu.jobs.services import job_start
from kehu.privacy.selectors import marketing_states, without_do_not_contact
from kehu.transfer.export import selectors
from kehu.transfer.export.columns import Column, customer_columns
from kehu.transfer.export.history_columns import history_columns
from kehu.transfer.export.selectors import HistoryFilters
from kehu.transfer.export.writers import open_writer

Progress = Callable[[int], None]
CONTENT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
# Up to this many rows an export downloads at once; more run as a job in My jobs.
# Measured on SQLite (bench/export.py): see DIRECT_LIMIT in docs/architecture.md.
DIRECT_LIMIT = 5000
# The export option (form field, job parameter, record key) that leaves out 勿营销 customers.
LEAVE_OUT = "leave_out_do_not_contact"


def _customer_rows(*, viewer: User, filters: CustomerFilters, history: HistoryFilters) -> Iterator:
    return with_marketing_consent(selectors.customer_rows(viewer=viewer, filters=filters))


def with_marketing_consent(rows: Iterable[Any], batch: int = selectors.BATCH) -> Iterator[Any]:
    """The rows with their marketing consent state (the 营销同意 column), one query a batch."""
    chunk: list[Any] = []
    for row in rows:
        chunk.append(row)
        if len(chunk) == batch:
            yield from _states_attached(chunk)
            chunk = []
    yield from _states_attached(chunk)


def _states_attached(chunk: list[Any]) -> list[Any]:
    if chunk:
        states = marketing_states(row.pk for row in chunk)
        for row in chunk:
            row.marketing_consent = states[row.pk]
    return chunk


def _customer_count(*, viewer: User, filters: CustomerFilters, history: HistoryFilters) -> int:
    return selectors.customer_count(viewer=viewer, filters=filters)


@dataclass(frozen=True)
class Target:
    """What one kind of export writes: its columns (all or chosen keys), rows and row count."""

    label: Any
    columns: Callable[[list[str] | None], list[Column]]
    rows: Callable[..., Iterable[Any]]  # (viewer=, filters=, history=)
    count: Callable[..., int]  # the same arguments: the rows the export would write
    dated: bool = True  # narrowed by HistoryFilters (customers are not)


TARGETS: dict[str, Target] = {
    "customers": Target(gettext_lazy("客户"), customer_columns, _customer_rows, _customer_count,
                        dated=False),
    "orders": Target(gettext_lazy("订单"), lambda keys: history_columns("orders", keys),
                     selectors.order_line_rows, selectors.order_line_count),
    "communications": Target(gettext_lazy("沟通记录"),
                             lambda keys: history_columns("communications", keys),
                             selectors.communication_rows, selectors.communication_count),
}


def target_for(name: str) -> Target:
    """The target called `name`, or a ValidationError naming the choices."""
    if name not in TARGETS:
        raise ValidationError({"target": [_("没有这种导出：%(target)s；可选：%(all)s") % {
            "target": name, "all": "、".join(TARGETS)}]})
    return TARGETS[name]


def file_name(target: str, fmt: str) -> str:
    return f"kehu-{target}-{timezone.localtime():%Y%m%d-%H%M}.{fmt}"


def check_may_export(actor: User) -> None:
    """Refuse (PermissionDenied) a user whose role may not export."""
    if not access_for(actor).may_export:
        raise PermissionDenied(_("你的角色不能导出数据"))


def export_count(*, viewer: User, target: str, filters: CustomerFilters,
                 history: HistoryFilters | None = None,
                 leave_out_do_not_contact: bool = False) -> int:
    """How many rows an export would write (to choose a download or a job, and for progress)."""
    if leave_out_do_not_contact:
        filters = without_do_not_contact(filters)
    return target_for(target).count(viewer=viewer, filters=filters,
                                    history=history or HistoryFilters())


def export_customers(
    *, actor: User, origin: str, filters: CustomerFilters, fmt: str, stream: IO[bytes],
    columns: list[str] | None = None, encoding: str = "utf-8-sig",
    progress: Progress | None = None, leave_out_do_not_contact: bool = False,
) -> int:
    """Write the actor's customer list (as filtered, searched and sorted) to `stream`.

    Returns the number of rows. The rows are the list's own (scope and masking hold);
    the export is recorded once, with its format, filter, columns and row count.
    """
    return export_target(actor=actor, origin=origin, target="customers", filters=filters,
                         fmt=fmt, stream=stream, columns=columns, encoding=encoding,
                         progress=progress, leave_out_do_not_contact=leave_out_do_not_contact)


def export_orders(
    *, actor: User, origin: str, filters: CustomerFilters, fmt: str, stream: IO[bytes],
    history: HistoryFilters | None = None, columns: list[str] | None = None,
    encoding: str = "utf-8-sig", progress: Progress | None = None,
) -> int:
    """Write the lines of the actor's orders of the listed customers, one row per line."""
    return export_target(actor=actor, origin=origin, target="orders", filters=filters,
                         history=history, fmt=fmt, stream=stream, columns=columns,
                         encoding=encoding, progress=progress)


def export_communications(
    *, actor: User, origin: str, filters: CustomerFilters, fmt: str, stream: IO[bytes],
    history: HistoryFilters | None = None, columns: list[str] | None = None,
    encoding: str = "utf-8-sig", progress: Progress | None = None,
) -> int:
    """Write the actor's communications with the listed customers, one row each."""
    return export_target(actor=actor, origin=origin, target="communications", filters=filters,
                         history=history, fmt=fmt, stream=stream, columns=columns,
                         encoding=encoding, progress=progress)


def export_target(
    *, actor: User, origin: str, target: str, filters: CustomerFilters, fmt: str,
    stream: IO[bytes], history: HistoryFilters | None = None, columns: list[str] | None = None,
    encoding: str = "utf-8-sig", progress: Progress | None = None,
    leave_out_do_not_contact: bool = False,
) -> int:
    """The one export path, of any target by name (the three above, the job, the CLI, the
    web): check, write, record. Returns the number of rows written.

    `leave_out_do_not_contact`: customers whose marketing consent is withdrawn (勿营销) are
    not written — nor their orders or communications — and the record says so."""
    check_may_export(actor)
    spec = target_for(target)
    history = (history if spec.dated else None) or HistoryFilters()
    chosen = spec.columns(columns)
    narrowed = without_do_not_contact(filters) if leave_out_do_not_contact else filters
    count = write_rows(spec.rows(viewer=actor, filters=narrowed, history=history), fmt=fmt,
                       stream=stream, columns=chosen, encoding=encoding, progress=progress)
    params = {**filters.as_params(), **history.as_params()}
    if leave_out_do_not_contact:
        params[LEAVE_OUT] = "1"
    record_export(actor=actor, origin=origin, target=target, fmt=fmt, params=params,
                  columns=[c.key for c in chosen], rows=count)
    return count


def write_customers(
    *, viewer: User, filters: CustomerFilters, fmt: str, stream: IO[bytes], columns: list,
    encoding: str = "utf-8-sig", progress: Progress | None = None, limit: int | None = None,
) -> int:
    """The customer sheet, unrecorded (the bench reads a database it must not write to):
    the rows a recorded export writes, marketing consent included."""
    return write_rows(_customer_rows(viewer=viewer, filters=filters, history=HistoryFilters()), fmt=fmt,
                      stream=stream, columns=columns, encoding=encoding, progress=progress,
                      limit=limit)


def write_rows(
    rows: Iterable[Any], *, fmt: str, stream: IO[bytes], columns: list[Column],
    encoding: str = "utf-8-sig", progress: Progress | None = None, limit: int | None = None,
) -> int:
    """The sheet itself, unrecorded (`export_target` checks and records). Stops after
    `limit` rows when one is given; reports the count every 1,000 rows."""
    writer = open_writer(fmt, stream, columns, encoding=encoding)
    count = 0
    for row in rows:
        writer.write([column.value(row) for column in columns])
        count += 1
        if progress is not None and count % 1000 == 0:
            progress(count)
        if count == limit:
            break
    writer.close()
    if progress is not None:
        progress(count)
    return count


def record_export(*, actor: User, origin: str, target: str, fmt: str, params: dict[str, str],
                  columns: list[str], rows: int) -> None:
    """One change-log row and one audit entry (filter and row count; a search term or a
    phone in the filter masked) per export, from the web, a job, the CLI or the API."""
    with transaction.atomic():
        log_change(actor=actor, action="export", instance=actor, origin=origin, customer_id=None,
                   changes={"target": target, "format": fmt, "filters": params,
                            "columns": columns, "rows": rows})
        audit.record(actor, Action.EXPORTED, label=target,
                     details={"target": target, "format": fmt, "filters": params, "rows": rows,
                              "columns": len(columns), "origin": origin})


def export_start(
    *, actor: User, origin: str, filters: CustomerFilters, fmt: str, target: str = "customers",
    history: HistoryFilters | None = None, columns: list[str] | None = None,
    encoding: str = "utf-8-sig", leave_out_do_not_contact: bool = False,
) -> Job:
    """Queue a large export of `target` as a job of `actor` (checked now and again when it runs)."""
    check_may_export(actor)
    target_for(target).columns(columns)  # an unknown column is refused now, not in the worker
    return job_start(actor=actor, origin=origin, kind="transfer.export", params={
        "target": target, "format": fmt, "filters": filters.as_params(),
        "history": (history or HistoryFilters()).as_params(), "columns": columns or [],
        "encoding": encoding, LEAVE_OUT: leave_out_do_not_contact})
