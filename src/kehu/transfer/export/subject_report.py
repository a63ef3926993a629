"""A data-subject request's copy (查阅、复制 / 可携带): everything held on the person, as JSON
(machine-readable, one object per row) or as an xlsx workbook with a sheet per section.
Admins only (privacy.report reads through privacy.requests). The download is an audit
entry naming the request, the format and the row count — not the person."""

from __future__ import annotations

import datetime as dt
import re
import tempfile
from typing import IO, Any

import xlsxwriter
from django.http import FileResponse, HttpRequest, HttpResponse
from django.utils.translation import gettext as _

from kehu.audit import services as audit
from kehu.audit.models import Action
from kehu.core.commands import invalid
from kehu.core.views import web_view
from kehu.privacy.report import Section, report_json, subject_report
from kehu.privacy.requests import request_get
from kehu.transfer.export.columns import cell_kind
from kehu.transfer.export.writers import safe_text

FORMATS = ("json", "xlsx")
CONTENT_TYPES = {"json": "application/json",
                 "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}
SHEET_NAME_LIMIT = 31  # Excel's
_NOT_IN_SHEET_NAMES = re.compile(r"[\[\]:*?/\\]")


@web_view
def subject_report_download(request: HttpRequest, pk: int) -> HttpResponse:
    fmt = request.GET.get("format", "xlsx")
    if fmt not in FORMATS:
        raise invalid("format", _("只能导出为 xlsx 或 json"))
    subject_request = request_get(request.user, pk)  # 403 unless admin, 404 unknown
    sections = subject_report(viewer=request.user, request=subject_request)
    stream = tempfile.TemporaryFile()  # noqa: SIM115  (the response closes it, which deletes it)
    if fmt == "json":
        stream.write(report_json(sections, subject_request))
    else:
        write_workbook(sections, stream)
    rows = sum(len(s.rows) for s in sections)
    audit.record(request, Action.EXPORTED, label=str(subject_request),
                 details={"target": "subject_request", "request": subject_request.pk,
                          "format": fmt, "rows": rows})
    stream.seek(0)
    return FileResponse(stream, as_attachment=True, filename=f"request-{subject_request.pk}.{fmt}",
                        content_type=CONTENT_TYPES[fmt])


def write_workbook(sections: list[Section], stream: IO[bytes]) -> None:
    """One sheet per section; text cells formula-safe, numbers and dates as they are."""
    book = xlsxwriter.Workbook(stream, {"in_memory": False, "strings_to_formulas": False,
                                        "strings_to_numbers": False, "strings_to_urls": False})
    dates = book.add_format({"num_format": "yyyy-mm-dd hh:mm:ss"})
    bold = book.add_format({"bold": True})
    for number, section in enumerate(sections, start=1):
        sheet = book.add_worksheet(_sheet_name(number, section.title))
        for col, header in enumerate(section.headers):
            sheet.write_string(0, col, safe_text(str(header)), bold)
        for row, values in enumerate(section.rows, start=1):
            for col, value in enumerate(values):
                _write(sheet, row, col, value, dates)
    if not sections:
        book.add_worksheet(_("无数据"))
    book.close()


def _write(sheet: Any, row: int, col: int, value: Any, dates: Any) -> None:
    kind = cell_kind(value)
    if kind == "number":
        sheet.write_number(row, col, float(value))
    elif kind == "date":
        naive = value.replace(tzinfo=None) if isinstance(value, dt.datetime) else value
        sheet.write_datetime(row, col, naive, dates)
    elif kind == "text":
        text = ("是" if value else "否") if isinstance(value, bool) else str(value)
        sheet.write_string(row, col, safe_text(text))


def _sheet_name(number: int, title: str) -> str:
    """Excel's rules: 31 characters, none of []:*?/\\; the leading number keeps names apart
    when the cut leaves two titles alike."""
    return f"{number} {_NOT_IN_SHEET_NAMES.sub(' ', title)}"[:SHEET_NAME_LIMIT].strip()
