"""设置 → 审计日志: the audit trail for admins, filtered and paged (GET only)."""

from __future__ import annotations

from urllib.parse import urlencode

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from kehu.accounts.selectors import users_active
from kehu.audit import selectors
from kehu.audit.models import Action
from kehu.core.errors import ValidationError
from kehu.core.views import error_messages, web_view


@web_view
def audit_list(request: HttpRequest) -> HttpResponse:
    filters = selectors.AuditFilters.from_params(request.GET)
    before = request.GET.get("before", "")
    before_id = int(before) if before.isdigit() and len(before) < 19 else None
    problems: list[str] = []
    try:
        page = selectors.entry_page(viewer=request.user, filters=filters, before=before_id)
    except ValidationError as exc:  # a bad filter: say so, show the unfiltered list
        problems = error_messages(exc)
        filters = selectors.AuditFilters()
        page = selectors.entry_page(viewer=request.user, filters=filters)
    changes = (selectors.changes_for_customer(viewer=request.user, customer_id=filters.customer)
               if filters.customer is not None else [])
    query = filters.as_params()
    return render(request, "audit/list.html", {
        "page": page, "filters": filters, "problems": problems, "actions": Action.choices,
        "people": users_active(), "changes": changes,
        "csv_query": urlencode({**query, "format": "csv"}),
        "xlsx_query": urlencode({**query, "format": "xlsx"}),
        "next_query": urlencode({**query, "before": page.next_before}) if page.next_before else "",
        "first_query": urlencode(query) if before_id else "",
    })
