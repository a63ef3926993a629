"""Writing an export: permission, rows, sheet, and one change-log row for the whole export."""

from __future__ import annotations

from collections.abc import Callable
from typing import IO

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from kehu.accounts.models import User
from kehu.accounts.policy import access_for
from kehu.core.records import log_change
from kehu.customers.filters import CustomerFilters
from kehu.jobs.models import Job
from kehu.jobs.services import job_start
from kehu.transfer.export.columns import customer_columns
from kehu.transfer.export.selectors import customer_rows
from kehu.transfer.export.writers import open_writer

Progress = Callable[[int], None]
CONTENT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
# Up to this many rows an export downloads at once; more run as a job in My jobs.
# Measured on SQLite (bench/export.py): see DIRECT_LIMIT in docs/architecture.md.
DIRECT_LIMIT = 5000


def file_name(target: str, fmt: str) -> str:
    return f"kehu-{target}-{timezone.localtime():%Y%m%d-%H%M}.{fmt}"


def check_may_export(actor: User) -> None:
    """Refuse (PermissionDenied) a user whose role may not export."""
    if not access_for(actor).may_export:
        raise PermissionDenied(_("你的角色不能导出数据"))


def export_customers(
    *, actor: User, origin: str, filters: CustomerFilters, fmt: str, stream: IO[bytes],
    columns: list[str] | None = None, encoding: str = "utf-8-sig",
    progress: Progress | None = None,
) -> int:
    """Write the actor's customer list (as filtered, searched and sorted) to `stream`.

    Returns the number of rows. The rows are the list's own (scope and masking hold);
    the export is recorded once, with its format, filter, columns and row count.
    """
    check_may_export(actor)
    chosen = customer_columns(columns)
    count = write_customers(viewer=actor, filters=filters, fmt=fmt, stream=stream,
                            columns=chosen, encoding=encoding, progress=progress)
    record_export(actor=actor, origin=origin, target="customers", fmt=fmt,
                  params=filters.as_params(), columns=[c.key for c in chosen], rows=count)
    return count


def write_customers(
    *, viewer: User, filters: CustomerFilters, fmt: str, stream: IO[bytes], columns: list,
    encoding: str = "utf-8-sig", progress: Progress | None = None, limit: int | None = None,
) -> int:
    """The sheet itself, unrecorded (`export_customers` checks and records; the bench reads
    a database it must not write to). Stops after `limit` rows when one is given."""
    writer = open_writer(fmt, stream, columns, encoding=encoding)
    count = 0
    for row in customer_rows(viewer=viewer, filters=filters):
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
    """One change-log row per export (issue 14 will build the full audit trail)."""
    with transaction.atomic():
        log_change(actor=actor, action="export", instance=actor, origin=origin, customer_id=None,
                   changes={"target": target, "format": fmt, "filters": params,
                            "columns": columns, "rows": rows})


def export_start(
    *, actor: User, origin: str, filters: CustomerFilters, fmt: str,
    columns: list[str] | None = None, encoding: str = "utf-8-sig",
) -> Job:
    """Queue a large export as a job of `actor` (checked now and again when it runs)."""
    check_may_export(actor)
    customer_columns(columns)  # an unknown column is refused now, not in the worker
    return job_start(actor=actor, origin=origin, kind="transfer.export", params={
        "target": "customers", "format": fmt, "filters": filters.as_params(),
        "columns": columns or [], "encoding": encoding})
