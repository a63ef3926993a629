"""Data-quality pages (数据质量): the page per rep and team, its settings (admins), the
card's panel and its "信息已核实" button.

Thin like every view: parse input, call a selector or a service, render.
"""

from __future__ import annotations

import json
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kehu.accounts.policy import access_for
from kehu.core.errors import PermissionDenied, ValidationError
from kehu.core.versions import parse_version
from kehu.core.views import error_messages, flash_errors, redirect, web_view
from kehu.customers.quality import selectors, services
from kehu.customers.quality.charts import trend_chart
from kehu.customers.quality.scoring import quality_settings as quality_settings_row
from kehu.customers.scoping import CHANGE
from kehu.customers.views.common import WEB


def panel_context(request: HttpRequest, customer: Any) -> dict[str, Any]:
    """What the card's "数据质量" panel needs (registered in quality.setup)."""
    from kehu.customers import selectors as customer_selectors

    found = selectors.customer_quality(viewer=request.user, customer_id=customer.pk)
    may_verify = customer_selectors.customer_allows(viewer=request.user, pk=customer.pk,
                                                    action=CHANGE)
    return {"quality": {**found, "may_verify": may_verify}}


@web_view
def quality_page(request: HttpRequest) -> HttpResponse:
    """Per rep and per team within the viewer's scope, the worst records, the trend."""
    viewer = request.user
    summary = selectors.quality_summary(viewer=viewer)
    return render(request, "customers/quality.html", {
        "summary": summary, "worst": selectors.quality_worst(viewer=viewer),
        "tables": [(_("按负责人"), summary["by_owner"], "owners"),
                   (_("按部门"), summary["by_team"], "teams")],
        "chart": trend_chart(selectors.quality_trend(viewer=viewer)),
        "stale_filter": _condition("quality.stale", "in", ["stale"]),
        "invalid_filter": _condition("quality.problems", "gt", 0),
        "is_admin": access_for(viewer).is_admin,
    })


def _condition(field: str, op: str, value: Any) -> str:
    return json.dumps({"field": field, "op": op, "value": value}, ensure_ascii=False,
                      separators=(",", ":"))


@require_POST
@web_view
def quality_run(request: HttpRequest) -> HttpResponse:
    """Start the full run now (admins): scores, re-validation, today's snapshot."""
    if not access_for(request.user).is_admin:
        raise PermissionDenied(_("只有管理员可以立即运行数据质量检查"))
    from kehu.jobs.services import job_start

    job = job_start(actor=request.user, origin=WEB, kind=services.RUN_JOB)
    messages.success(request, _("已开始数据质量检查，完成后会通知你"))
    return redirect(reverse("jobs:detail", args=[job.pk]))


@require_POST
@web_view
def customer_verify(request: HttpRequest, pk: int) -> HttpResponse:
    """"信息已核实": the actor looked at the data and found it current."""
    try:
        services.customer_verify(actor=request.user, origin=WEB, customer_id=pk)
    except ValidationError as exc:
        flash_errors(request, exc)
    else:
        messages.success(request, _("已记录：信息已核实"))
    return redirect(reverse("customers:detail", args=[pk]) + "#panel-quality")


@web_view
def quality_settings(request: HttpRequest) -> HttpResponse:
    """The weights per field and the stale days (admins)."""
    if not access_for(request.user).is_admin:
        raise PermissionDenied(_("只有管理员可以设置数据质量"))
    errors: dict[str, list[str]] = {}
    if request.method == "POST":
        data = {"weights": {row["key"]: request.POST.get(f"w-{row['key']}", "")
                            for row in selectors.weights_table()},
                "stale_days": request.POST.get("stale_days", "")}
        try:
            services.quality_settings_save(
                actor=request.user, origin=WEB, data=data,
                expected_version=parse_version(request.POST.get("version")))
        except ValidationError as exc:
            errors = {k: [str(m) for m in v] for k, v in exc.message_dict.items()} \
                if hasattr(exc, "error_dict") else {"": error_messages(exc)}
        else:
            messages.success(request, _("已保存。权重变了的话，所有客户会在后台重新评分。"))
            return redirect(reverse("customers:quality_settings"))
    current = quality_settings_row()
    rows = selectors.weights_table()
    for row in rows:
        row["errors"] = errors.get(f"weights.{row['key']}", [])
        if errors:
            row["weight"] = request.POST.get(f"w-{row['key']}", row["weight"])
    return render(request, "customers/quality_settings.html", {
        "rows": rows, "settings_row": current, "errors": errors,
        "stale_days": request.POST.get("stale_days") if errors else current.stale_days,
    }, status=400 if errors else 200)
