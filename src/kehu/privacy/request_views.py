"""设置 → 个人信息权利请求: the log of requests, a new one, and one request's page — find the
person, confirm which records are theirs, download their copy (transfer/export), erase them
(a background job with progress), close the request. Admins only; thin: the services check
and write, the forms only render."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kehu.audit import services as audit
from kehu.audit.models import Action
from kehu.core.errors import ValidationError
from kehu.core.models import Origin
from kehu.core.views import attach_errors, redirect, save_form, web_view
from kehu.privacy import requests as service
from kehu.privacy.choices import RequestStatus
from kehu.privacy.finding import Match, find_person, subject_key, subjects_of
from kehu.privacy.request_forms import CloseForm, EraseForm, FindForm, RequestForm

WEB = Origin.MANUAL
DETAIL = "privacy/requests/detail.html"


@web_view
def request_list(request: HttpRequest) -> HttpResponse:
    status = request.GET.get("status", "")
    rows = service.requests_list(request.user, status=status)
    return render(request, "privacy/requests/list.html", {
        "rows": rows, "status": status, "statuses": RequestStatus.choices,
        "today": timezone.localdate()})


@web_view
def request_new(request: HttpRequest) -> HttpResponse:
    service.requests_list(request.user, status=RequestStatus.OPEN)  # 403 unless admin
    if request.method != "POST":
        return render(request, "privacy/requests/new.html", {"form": RequestForm()})
    form = RequestForm(request.POST)
    made = save_form(form, lambda: service.request_open(actor=request.user, origin=WEB,
                                                        data=form.service_data()))
    if made is None:
        return render(request, "privacy/requests/new.html", {"form": form}, status=400)
    messages.success(request, _("已登记请求 #%(n)s") % {"n": made.pk})
    return redirect(reverse("privacy:request", args=[made.pk]))


def _detail(request: HttpRequest, subject_request: Any, *, status: int = 200,
            **forms: Any) -> HttpResponse:
    matches: list[Match] = forms.pop("matches", None) or []
    chosen = {subject_key(s["customer"], s["contact"]) for s in subject_request.subjects}
    return render(request, DETAIL, {
        "item": subject_request, "subjects": subjects_of(subject_request.subjects),
        "matches": matches, "chosen": chosen, "searched": "find_form" in forms,
        "jobs": service.request_jobs(request.user, subject_request),
        "find_form": forms.get("find_form") or FindForm(),
        "erase_form": forms.get("erase_form") or EraseForm(),
        "close_form": forms.get("close_form") or CloseForm(),
        "today": timezone.localdate()}, status=status)


@web_view
def request_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _detail(request, service.request_get(request.user, pk))


@require_POST
@web_view
def request_find(request: HttpRequest, pk: int) -> HttpResponse:
    """Posted, not a GET: the phone or ID number typed stays out of URLs and server logs."""
    subject_request = service.request_get(request.user, pk)
    form = FindForm(request.POST)
    try:
        matches = find_person(viewer=request.user, data=form.service_data())
    except ValidationError as exc:
        attach_errors(form, exc)
        return _detail(request, subject_request, status=400, find_form=form)
    # Which kinds of value were searched and how much was found; never the values.
    audit.record(request, Action.SEARCHED, label=str(subject_request), details={
        "target": "subject_request", "request": subject_request.pk, "found": len(matches),
        "by": sorted(k for k, v in form.service_data().items() if str(v).strip())})
    return _detail(request, subject_request, find_form=form, matches=matches)


@require_POST
@web_view
def request_subjects(request: HttpRequest, pk: int) -> HttpResponse:
    subject_request = service.request_get(request.user, pk)
    service.request_set_subjects(actor=request.user, origin=WEB, request=subject_request,
                                 picks=request.POST.getlist("pick"))
    messages.success(request, _("已确认本人的记录"))
    return redirect(reverse("privacy:request", args=[pk]))


@require_POST
@web_view
def request_erase(request: HttpRequest, pk: int) -> HttpResponse:
    subject_request = service.request_get(request.user, pk)
    job, refused = _save(request, subject_request, "erase_form", EraseForm,
                         lambda: service.request_erase(actor=request.user, origin=WEB,
                                                       request=subject_request,
                                                       reason=request.POST.get("reason", "")))
    return refused or redirect(reverse("jobs:detail", args=[job.pk]))


@require_POST
@web_view
def request_close(request: HttpRequest, pk: int) -> HttpResponse:
    subject_request = service.request_get(request.user, pk)
    _done, refused = _save(request, subject_request, "close_form", CloseForm,
                           lambda: service.request_close(
                               actor=request.user, origin=WEB, request=subject_request,
                               status=request.POST.get("status", ""),
                               outcome=request.POST.get("outcome", "")))
    if refused:
        return refused
    messages.success(request, _("请求已结束"))
    return redirect(reverse("privacy:request", args=[pk]))


def _save(request: HttpRequest, subject_request: Any, name: str, form_class: Any,
          write: Any) -> tuple[Any, HttpResponse | None]:
    """The service's result, or the request's page again with the form's errors (400)."""
    form = form_class(request.POST)
    done = save_form(form, write)
    if done is None:
        return None, _detail(request, subject_request, status=400, **{name: form})
    return done, None
