"""设置 → 审计日志's export: the filtered entries through the export writers (formula-safe CSV
with BOM or xlsx, IDs as text). Admins only; the export is itself an audit entry with its
filter and row count. Up to MAX_ROWS a download: a wider export asks for a narrower filter."""

from __future__ import annotations

import tempfile

from django.http import FileResponse, HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from kehu.audit import selectors as audit_selectors
from kehu.audit import services as audit
from kehu.audit.models import Action
from kehu.core.commands import invalid
from kehu.core.views import web_view
from kehu.transfer.export import services
from kehu.transfer.export.columns import Column
from kehu.transfer.export.writers import FORMATS

MAX_ROWS = 200_000

COLUMNS = [
    Column("id", gettext_lazy("编号"), lambda e: e.pk),
    Column("at", gettext_lazy("时间"), lambda e: timezone.localtime(e.at).replace(tzinfo=None)),
    Column("actor", gettext_lazy("用户"), lambda e: e.actor_name),
    Column("action", gettext_lazy("操作"), lambda e: e.get_action_display()),
    Column("customer", gettext_lazy("客户编号"), lambda e: e.customer_id, id_like=True),
    Column("label", gettext_lazy("对象"), lambda e: e.label),
    Column("details", gettext_lazy("详情"), lambda e: e.details_text),
    Column("ip", gettext_lazy("地址"), lambda e: e.ip or "", id_like=True),
    Column("user_agent", gettext_lazy("浏览器"), lambda e: e.user_agent),
    Column("digest", gettext_lazy("摘要"), lambda e: e.digest, id_like=True),
]


@web_view
def audit_export(request: HttpRequest) -> HttpResponse:
    fmt = request.GET.get("format", "xlsx")
    if fmt not in FORMATS:
        raise invalid("format", _("只能导出为 xlsx 或 csv"))
    filters = audit_selectors.AuditFilters.from_params(request.GET)
    rows = audit_selectors.entries(viewer=request.user, filters=filters)  # 403 unless admin
    if rows.count() > MAX_ROWS:
        raise invalid("filters", _("超过 %(n)s 条，请缩小时间范围或筛选条件") % {"n": MAX_ROWS})
    stream = tempfile.TemporaryFile()  # noqa: SIM115  (the response closes it, which deletes it)
    count = services.write_rows(audit_selectors.entry_rows(viewer=request.user, filters=filters),
                                fmt=fmt, stream=stream, columns=COLUMNS)
    audit.record(request, Action.EXPORTED, label="audit",
                 details={"target": "audit", "format": fmt, "filters": filters.as_params(),
                          "rows": count})
    stream.seek(0)
    name = f"audit-{timezone.localdate().isoformat()}.{fmt}"
    return FileResponse(stream, as_attachment=True, filename=name,
                        content_type=services.CONTENT_TYPES[fmt])
