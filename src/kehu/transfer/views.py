"""Import and export pages (thin: parse, call a service or selector, render).

The import is one page per run that follows it through its states: upload (the list
page) → mapping, match keys and owner → dry-run preview → import with a live progress
bar → summary, error report and undo.
"""

from __future__ import annotations

import io
from pathlib import Path

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kehu.accounts.selectors import users_in_scope
from kehu.core.errors import ValidationError
from kehu.core.models import Origin
from kehu.core.views import error_messages, flash_errors, redirect, web_view
from kehu.jobs.selectors import progress_of
from kehu.transfer import selectors, services
from kehu.transfer.blank import write_blank_template
from kehu.transfer.importing import import_start, import_undo
from kehu.transfer.mapping import TARGETS, importable_fields
from kehu.transfer.models import TARGET_CHOICES, ImportProblem, RunStatus
from kehu.transfer.report import report_name, report_path

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
MATCH_KEYS = (("credit_code", "统一社会信用代码"), ("id_number", "身份证号"), ("phone", "电话"),
              ("email", "邮箱"), ("name", "客户名称"))
RUNNING = (RunStatus.PREVIEWING, RunStatus.IMPORTING, RunStatus.UNDOING)


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


@web_view
def import_list(request: HttpRequest) -> HttpResponse:
    """My imports, and the upload that starts a new one."""
    errors: list[str] = []
    if request.method == "POST":
        upload = request.FILES.get("file")
        try:
            if upload is None:
                raise ValidationError({"file": [_("请选择要导入的文件")]})
            run = services.import_upload(actor=request.user, origin=Origin.MANUAL,
                                         target=request.POST.get("target", "customers"),
                                         file=upload, filename=upload.name)
            return redirect(reverse("transfer:import_detail", args=[run.pk]))
        except ValidationError as exc:
            errors = error_messages(exc)
    return render(request, "transfer/import/list.html",
                  {"runs": selectors.import_list(viewer=request.user), "errors": errors,
                   "targets": TARGET_CHOICES,
                   "target": request.POST.get("target") or request.GET.get("target", "customers")},
                  status=400 if errors else 200)


@web_view
def import_detail(request: HttpRequest, pk: int) -> HttpResponse:
    run = selectors.import_get(viewer=request.user, pk=pk)
    return render(request, "transfer/import/detail.html", _detail_context(request, run))


def _detail_context(request: HttpRequest, run) -> dict:
    headers = run.headers
    samples = selectors.import_samples(run) if run.status in (RunStatus.UPLOADED,
                                                              RunStatus.PREVIEWED) else []
    columns = [{"header": h, "key": run.mapping.get(h, ""),
                "samples": [row[i] for row in samples if i < len(row) and row[i]]}
               for i, h in enumerate(headers)]
    phase = ImportProblem.IMPORT if run.status in (RunStatus.DONE, RunStatus.UNDONE,
                                                   RunStatus.UNDOING) else ImportProblem.PREVIEW
    job = {RunStatus.PREVIEWING: run.preview_job, RunStatus.IMPORTING: run.import_job,
           RunStatus.UNDOING: run.undo_job}.get(run.status)
    return {
        "run": run, "columns": columns, "fields": importable_fields(run.target),
        "match_keys": [(k, _(label), k in run.match) for k, label in MATCH_KEYS
                       if k in services.MATCH_FIELDS[run.target]],
        "owners": users_in_scope(request.user),
        "templates": selectors.mapping_templates(viewer=request.user, target=run.target),
        "problems": selectors.import_problems(run, phase=phase), "phase": phase,
        "report": report_path(run, phase, "xlsx") is not None,
        # A job that ended without finishing the run (failed, cancelled): no polling, a notice.
        "running": run.status in RUNNING and job is not None and not job.finished,
        "stalled": run.status in RUNNING and job is not None and job.finished, "job": job,
        "progress": progress_of(job) if job else None,
        "configurable": run.status in (RunStatus.UPLOADED, RunStatus.PREVIEWED),
    }


@require_POST
@web_view
def import_configure(request: HttpRequest, pk: int) -> HttpResponse:
    """Save the mapping, match keys and owner, then preview or import (the button pressed)."""
    run = selectors.import_get(viewer=request.user, pk=pk)
    back = redirect(reverse("transfer:import_detail", args=[run.pk]))
    template = request.POST.get("template")
    if request.POST.get("action") == "template":  # apply a saved mapping; nothing runs yet
        chosen = next((t for t in selectors.mapping_templates(viewer=request.user,
                                                              target=run.target)
                       if str(t.pk) == template), None)
        mapping = {h: (chosen.mapping.get(h, "") if chosen else run.mapping.get(h, ""))
                   for h in run.headers}
        return _configure(request, run, mapping, run.match, run.owner_id, action=None) or back
    mapping = {h: request.POST.get(f"map-{i}", "") for i, h in enumerate(run.headers)}
    match = [k for k, _label in MATCH_KEYS if request.POST.get(f"match-{k}")]
    return _configure(request, run, mapping, match, request.POST.get("owner") or None,
                      action=request.POST.get("action")) or back


def _configure(request: HttpRequest, run, mapping, match, owner, action) -> HttpResponse | None:
    try:
        run = services.import_configure(actor=request.user, origin=Origin.MANUAL, run=run,
                                        mapping=mapping, match=match, owner=owner)
        name = request.POST.get("template_name", "").strip()
        if name:
            services.mapping_template_save(actor=request.user, origin=Origin.MANUAL, name=name,
                                           target=run.target, mapping=run.mapping,
                                           shared=bool(request.POST.get("template_shared")))
            messages.success(request, _("映射已保存为“%(name)s”") % {"name": name})
        if action in ("preview", "import"):
            import_start(actor=request.user, origin=Origin.MANUAL, run=run,
                         dry_run=action == "preview")
    except ValidationError as exc:
        flash_errors(request, exc)
    return None


@web_view
def import_progress(request: HttpRequest, pk: int) -> HttpResponse:
    """The live progress bar; once the job has finished the whole page reloads (HX-Refresh)."""
    run = selectors.import_get(viewer=request.user, pk=pk)
    context = _detail_context(request, run)
    if not context["running"] or context["job"] is None or context["job"].finished:
        response = HttpResponse("")
        response["HX-Refresh"] = "true"
        return response
    return render(request, "transfer/import/progress.html", context)


@require_POST
@web_view
def import_undo_view(request: HttpRequest, pk: int) -> HttpResponse:
    run = selectors.import_get(viewer=request.user, pk=pk)
    try:
        import_undo(actor=request.user, origin=Origin.MANUAL, run=run)
    except ValidationError as exc:
        flash_errors(request, exc)
    return redirect(reverse("transfer:import_detail", args=[run.pk]))


@web_view
def import_report(request: HttpRequest, pk: int, phase: str, fmt: str) -> FileResponse:
    """The error report of a preview or an import, as xlsx or csv."""
    run = selectors.import_get(viewer=request.user, pk=pk)
    if phase not in (ImportProblem.PREVIEW, ImportProblem.IMPORT) or fmt not in ("xlsx", "csv"):
        raise Http404
    path = report_path(run, phase, fmt)
    if path is None:
        raise Http404
    return FileResponse(Path(path).open("rb"), as_attachment=True,
                        filename=report_name(run, phase, fmt),
                        content_type=XLSX if fmt == "xlsx" else "text/csv")
