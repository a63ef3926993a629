"""Import and export pages (thin: parse, call a service or selector, render)."""

from __future__ import annotations

import io

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse

from kehu.transfer.blank import write_blank_template
from kehu.transfer.mapping import TARGETS

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@login_required
def import_template(request: HttpRequest, target: str) -> HttpResponse:
    """The blank template sheet of an import target (headers, required marked, one example)."""
    if target not in TARGETS:
        raise Http404
    buffer = io.BytesIO()
    write_blank_template(target, buffer)
    response = HttpResponse(buffer.getvalue(), content_type=XLSX)
    response["Content-Disposition"] = f'attachment; filename="kehu-import-{target}.xlsx"'
    return response
