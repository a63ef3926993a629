"""The export buttons' view: a small export downloads now, a large one becomes a job.

POST (it writes: a change-log row, maybe a job). From the customer list, whose form carries
the list's current filter, search and sort as hidden fields and a choice of what to export
(the customers, or their orders or communications); from the orders page, whose form
carries the page's status filter.
"""

from __future__ import annotations

import tempfile

from django.contrib import messages
from django.http import FileResponse, HttpRequest, HttpResponse
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kehu.core.cleaning import clean_bool
from kehu.core.commands import invalid
from kehu.core.models import Origin
from kehu.core.views import redirect, web_view
from kehu.customers.filters import CustomerFilters
from kehu.transfer.export import services
from kehu.transfer.export.selectors import HistoryFilters
from kehu.transfer.export.writers import ENCODINGS, FORMATS


@require_POST
@web_view
def export(request: HttpRequest, target: str | None = None) -> HttpResponse:
    """`target` fixed by the route (the orders page), else the form's choice (customers)."""
    services.check_may_export(request.user)
    target = target or request.POST.get("target") or "customers"
    services.target_for(target)
    fmt, encoding = request.POST.get("format", "xlsx"), request.POST.get("encoding", "utf-8-sig")
    if fmt not in FORMATS:
        raise invalid("format", _("只能导出为 xlsx 或 csv"))
    if encoding not in ENCODINGS:
        raise invalid("encoding", _("只能是 utf-8-sig 或 gb18030"))
    filters = CustomerFilters.from_params(request.POST)
    history = HistoryFilters.from_params(request.POST)
    # The column chooser lists customer columns: other targets write all of theirs.
    columns = (request.POST.getlist("columns") or None) if target == "customers" else None
    leave_out = clean_bool(request.POST.get(services.LEAVE_OUT))
    options = {"actor": request.user, "origin": Origin.MANUAL, "target": target,
               "filters": filters, "history": history, "fmt": fmt, "columns": columns,
               "encoding": encoding, "leave_out_do_not_contact": leave_out}
    count = services.export_count(viewer=request.user, target=target, filters=filters,
                                  history=history, leave_out_do_not_contact=leave_out)
    if count > services.DIRECT_LIMIT:
        job = services.export_start(**options)
        messages.success(request, _("导出的行较多，已转为后台任务；完成后在“我的任务”下载。"))
        return redirect(reverse("jobs:detail", args=[job.pk]))
    stream = tempfile.TemporaryFile()  # noqa: SIM115  (the response closes it, which deletes it)
    services.export_target(stream=stream, **options)
    stream.seek(0)
    return FileResponse(stream, as_attachment=True, filename=services.file_name(target, fmt),
                        content_type=services.CONTENT_TYPES[fmt])
