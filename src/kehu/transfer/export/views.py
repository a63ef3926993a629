"""The export button's view: a small export downloads now, a large one becomes a job.

POST (it writes: a change-log row, maybe a job) from the form on the customer list, which
carries the list's current filter, search and sort as hidden fields.
"""

from __future__ import annotations

import tempfile

from django.contrib import messages
from django.http import FileResponse, HttpRequest, HttpResponse
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kehu.core.commands import invalid
from kehu.core.models import Origin
from kehu.core.views import redirect, web_view
from kehu.customers.filters import CustomerFilters
from kehu.transfer.export import services
from kehu.transfer.export.selectors import customer_count
from kehu.transfer.export.writers import ENCODINGS, FORMATS


@require_POST
@web_view
def customer_export(request: HttpRequest) -> HttpResponse:
    services.check_may_export(request.user)
    fmt, encoding = request.POST.get("format", "xlsx"), request.POST.get("encoding", "utf-8-sig")
    if fmt not in FORMATS:
        raise invalid("format", _("只能导出为 xlsx 或 csv"))
    if encoding not in ENCODINGS:
        raise invalid("encoding", _("只能是 utf-8-sig 或 gb18030"))
    filters = CustomerFilters.from_params(request.POST)
    columns = request.POST.getlist("columns") or None
    if customer_count(viewer=request.user, filters=filters) > services.DIRECT_LIMIT:
        job = services.export_start(actor=request.user, origin=Origin.MANUAL, filters=filters,
                                    fmt=fmt, columns=columns, encoding=encoding)
        messages.success(request, _("导出的行较多，已转为后台任务；完成后在“我的任务”下载。"))
        return redirect(reverse("jobs:detail", args=[job.pk]))
    stream = tempfile.TemporaryFile()  # noqa: SIM115  (the response closes it, which deletes it)
    services.export_customers(actor=request.user, origin=Origin.MANUAL, filters=filters,
                              fmt=fmt, stream=stream, columns=columns, encoding=encoding)
    stream.seek(0)
    return FileResponse(stream, as_attachment=True,
                        filename=services.file_name("customers", fmt),
                        content_type=services.CONTENT_TYPES[fmt])
