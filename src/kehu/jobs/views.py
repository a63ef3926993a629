"""Thin views over jobs: selectors read (404 outside the viewer's jobs), services write."""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kehu.accounts.policy import access_for
from kehu.core.models import Origin
from kehu.jobs import selectors, services

WEB = Origin.MANUAL
LIST_LIMIT = 200


@login_required
def job_list(request: HttpRequest) -> HttpResponse:
    is_admin = access_for(request.user).is_admin
    everyone = is_admin and request.GET.get("all") == "1"
    jobs = list(selectors.jobs_for(request.user, everyone=everyone)[:LIST_LIMIT])
    rows = [(job, selectors.progress_of(job)) for job in jobs]
    return render(request, "jobs/list.html", {
        "rows": rows, "everyone": everyone, "is_admin": is_admin,
        "live": any(not job.finished for job in jobs)})


@login_required
def job_detail(request: HttpRequest, pk: int) -> HttpResponse:
    job = selectors.job_get(request.user, pk)
    return render(request, "jobs/detail.html", _status_context(request, job))


@login_required
def job_progress(request: HttpRequest, pk: int) -> HttpResponse:
    """The live part of the job page; HTMX polls it every second until the job finishes."""
    job = selectors.job_get(request.user, pk)
    return render(request, "jobs/partials/status.html", _status_context(request, job))


def _status_context(request: HttpRequest, job) -> dict:
    return {"job": job, "progress": selectors.progress_of(job),
            "is_admin": access_for(request.user).is_admin}


@login_required
def job_file(request: HttpRequest, pk: int, file_pk: int) -> FileResponse:
    file = selectors.job_file_get(request.user, pk, file_pk)
    path = Path(settings.MEDIA_ROOT) / file.path
    if not path.is_file():
        raise Http404
    return FileResponse(path.open("rb"), as_attachment=True, filename=file.name,
                        content_type=file.content_type)


@login_required
@require_POST
def job_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    job = selectors.job_get(request.user, pk)
    services.job_cancel(actor=request.user, job=job, origin=WEB)
    messages.info(request, _("已请求取消任务，会在当前步骤结束后停止。"))
    return redirect("jobs:detail", pk=job.pk)


@login_required
@require_POST
def job_rerun(request: HttpRequest, pk: int) -> HttpResponse:
    job = selectors.job_get(request.user, pk)
    try:
        services.job_rerun(actor=request.user, job=job, origin=WEB)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("任务已重新排队，会从上次完成的地方继续。"))
    return redirect("jobs:detail", pk=job.pk)


@login_required
def schedule_list(request: HttpRequest) -> HttpResponse:
    if not access_for(request.user).is_admin:
        raise PermissionDenied
    return render(request, "jobs/schedules.html",
                  {"schedules": selectors.schedules_for(request.user)})


@login_required
@require_POST
def schedule_edit(request: HttpRequest, pk: int) -> HttpResponse:
    schedule = _schedule(request, pk)
    try:
        services.schedule_update(actor=request.user, schedule=schedule, origin=WEB,
                                 cron=request.POST.get("cron", schedule.cron),
                                 enabled=request.POST.get("enabled") == "on")
    except ValidationError as exc:
        messages.error(request, f"{schedule.name}: {' '.join(exc.messages)}")
    else:
        messages.success(request, _("计划已保存。"))
    return redirect("jobs:schedules")


@login_required
@require_POST
def schedule_run(request: HttpRequest, pk: int) -> HttpResponse:
    schedule = _schedule(request, pk)
    job = services.schedule_run_now(actor=request.user, schedule=schedule, origin=WEB)
    return redirect("jobs:detail", pk=job.pk)


def _schedule(request: HttpRequest, pk: int):
    if not access_for(request.user).is_admin:
        raise PermissionDenied
    return get_object_or_404(selectors.schedules_for(request.user), pk=pk)
