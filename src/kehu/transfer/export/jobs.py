"""A large export as a background job: it runs as its actor, so scope and masking hold,
reports rows as it goes and lands in My jobs with the file attached."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _

from kehu.customers.filters import CustomerFilters
from kehu.jobs.context import JobContext
from kehu.jobs.registry import job
from kehu.transfer.export.selectors import HistoryFilters
from kehu.transfer.export.services import (
    CONTENT_TYPES,
    LEAVE_OUT,
    export_count,
    export_target,
    file_name,
    target_for,
)

KIND = "transfer.export"


@job(KIND, title=_("导出"), max_attempts=2)
def run_export(ctx: JobContext) -> dict[str, Any]:
    """Write the actor's export of customers, orders or communications to the job's folder;
    a retry starts the file again from row one."""
    params = ctx.params
    target = params.get("target", "customers")  # jobs queued before orders could be exported
    filters = CustomerFilters.from_params(params.get("filters", {}))
    history = HistoryFilters.from_params(params.get("history", {}))
    leave_out = bool(params.get(LEAVE_OUT))
    total = export_count(viewer=ctx.actor, target=target, filters=filters, history=history,
                         leave_out_do_not_contact=leave_out)
    ctx.stage(_("导出%(what)s") % {"what": target_for(target).label}, total=total, done=0)
    path = ctx.file_path(file_name(target, params["format"]))

    def report(rows: int) -> None:
        with ctx.step(advance=rows - ctx.job.done):  # also where a cancel request stops it
            pass

    with path.open("wb") as stream:
        rows = export_target(actor=ctx.actor, origin=ctx.job.origin, target=target,
                             filters=filters, history=history, fmt=params["format"],
                             stream=stream, columns=params.get("columns") or None,
                             encoding=params.get("encoding", "utf-8-sig"), progress=report,
                             leave_out_do_not_contact=leave_out)
    ctx.attach(path, content_type=CONTENT_TYPES[params["format"]])
    return {str(_("行数")): rows}
