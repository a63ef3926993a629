"""Writing an export: permission, rows, sheet, and one change-log row for the whole export."""

from __future__ import annotations

from collections.abc import Callable
from typing import IO

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils.translation import gettext as _

from kehu.accounts.models import User
from kehu.accounts.policy import access_for
from kehu.core.records import log_change
from kehu.customers.filters import CustomerFilters
from kehu.transfer.export.columns import customer_columns
from kehu.transfer.export.selectors import customer_rows
from kehu.transfer.export.writers import open_writer

Progress = Callable[[int], None]


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
    writer = open_writer(fmt, stream, chosen, encoding=encoding)
    count = 0
    for row in customer_rows(viewer=actor, filters=filters):
        writer.write([column.value(row) for column in chosen])
        count += 1
        if progress is not None and count % 1000 == 0:
            progress(count)
    writer.close()
    if progress is not None:
        progress(count)
    record_export(actor=actor, origin=origin, target="customers", fmt=fmt,
                  params=filters.as_params(), columns=[c.key for c in chosen], rows=count)
    return count


def record_export(*, actor: User, origin: str, target: str, fmt: str, params: dict[str, str],
                  columns: list[str], rows: int) -> None:
    """One change-log row per export (issue 14 will build the full audit trail)."""
    with transaction.atomic():
        log_change(actor=actor, action="export", instance=actor, origin=origin, customer_id=None,
                   changes={"target": target, "format": fmt, "filters": params,
                            "columns": columns, "rows": rows})
