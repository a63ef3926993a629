"""Web pages of follow-up: my day (今日待办), logging from it, tasks on the card.

Thin by rule: parse the request, call a selector or a service, render. Scope comes from
the selectors and services (out of scope = 404, read-only = 403).
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST
from django_htmx.http import reswap, retarget

from kehu.accounts.policy import access_for
from kehu.core.errors import ValidationError
from kehu.core.inputs import parse_id
from kehu.core.models import Origin
from kehu.core.views import attach_errors, is_partial, redirect, render_page, safe_next, web_view
from kehu.customers import selectors as customer_selectors
from kehu.customers.scoping import CHANGE, customer_for
from kehu.followup import selectors, services
from kehu.followup.calendar import calendar_warning
from kehu.followup.coverage import coverage
from kehu.followup.forms import TaskForm
from kehu.followup.models import FollowUpTask
from kehu.history.forms import communication_form

WEB = Origin.MANUAL


def panel_context(request: HttpRequest, customer: Any) -> dict[str, Any]:
    """The card's 跟进任务 panel: the customer's open tasks and the add form."""
    return {"followup": {
        "tasks": selectors.customer_tasks(viewer=request.user, customer_id=customer.pk),
        "form": TaskForm(), "customer": customer,
        "can_write": access_for(request.user).can_write}}


@web_view
def my_day(request: HttpRequest) -> HttpResponse:
    """今日待办: the viewer's due and overdue tasks, ranked; tomorrow and the week one click
    away; a 团队 tab for managers."""
    day = request.GET.get("day", "today")
    if day not in selectors.DAYS:
        day = "today"
    agenda = selectors.my_day(viewer=request.user, day=day, page=_page(request))
    if request.GET.get("more"):  # 显示更多: the next page's rows after the shown ones
        return _more(request, agenda["paging"], f"?day={day}&")
    context = {"agenda": agenda, "days": selectors.DAYS, "team": None,
               "may_team": services.may_plan(request.user), "more_query": f"?day={day}&"}
    if request.GET.get("tab") == "team":
        context["team"] = selectors.team_overdue(viewer=request.user)
        context["coverage"] = coverage(viewer=request.user)
    elif not is_partial(request):
        context["coverage"] = coverage(viewer=request.user)
    if access_for(request.user).is_admin:
        context["banner"] = calendar_warning()
    return render_page(request, "followup/my_day.html", "followup/partials/agenda.html", context)


@web_view
def team_member(request: HttpRequest, user_id: int) -> HttpResponse:
    """The overdue tasks behind one count of the 团队 tab."""
    agenda = selectors.team_member_overdue(viewer=request.user, user_id=user_id,
                                           page=_page(request))
    if request.GET.get("more"):
        return _more(request, agenda, "?", readonly=True)
    return render_page(request, "followup/team_member.html", "followup/partials/rows.html",
                       {"rows": agenda.rows, "paging": agenda, "readonly": True,
                        "more_query": "?"})


def _page(request: HttpRequest) -> int:
    try:
        return max(int(request.GET.get("page", 1)), 1)
    except ValueError:
        return 1


def _more(request: HttpRequest, agenda: selectors.Agenda, query: str,
          readonly: bool = False) -> HttpResponse:
    return render(request, "followup/partials/row_items.html",
                  {"rows": agenda.rows, "paging": agenda, "readonly": readonly,
                   "more_query": query})


def _task_for_change(request: HttpRequest, task_id: int) -> FollowUpTask:
    return FollowUpTask.objects.get_for(request.user, parse_id(task_id, field="task"), CHANGE)


@web_view
def task_log(request: HttpRequest, task_id: int) -> HttpResponse:
    """The card's communication log form in place of an agenda row (GET), and its post:
    `services.task_log` logs the communication and completes the task; the row goes."""
    task = _task_for_change(request, task_id)
    if request.method != "POST":
        form = communication_form(viewer=request.user, customer_id=task.customer_id,
                                  initial={"channel": task.channel} if task.channel else None)
        return render(request, "followup/partials/log_form.html", {"task": task, "form": form})
    form = communication_form(viewer=request.user, customer_id=task.customer_id,
                              data=request.POST)
    if form.is_valid():
        try:
            services.task_log(actor=request.user, origin=WEB, task=task.pk,
                              data=form.data_for_service())
        except ValidationError as exc:
            attach_errors(form, exc)
        else:
            if is_partial(request):
                return HttpResponse("")  # the row is swapped away
            return redirect(safe_next(request, reverse("followup:today")))
    response = render(request, "followup/partials/log_form.html", {"task": task, "form": form},
                      status=200 if is_partial(request) else 400)
    # Errors stay in the row's slot, next to their fields (the row itself stays).
    return reswap(retarget(response, f"#log-slot-{task.pk}"), "innerHTML") \
        if is_partial(request) else response


def _finish_view(request: HttpRequest, task_id: int, service: Any) -> HttpResponse:
    """标记完成 / 取消: the service finishes the task; the row goes (or back to the page)."""
    service(actor=request.user, origin=WEB, task=parse_id(task_id, field="task"))
    return HttpResponse("") if is_partial(request) else redirect(
        safe_next(request, reverse("followup:today")))


@web_view
@require_POST
def task_done(request: HttpRequest, task_id: int) -> HttpResponse:
    return _finish_view(request, task_id, services.task_complete)


@web_view
@require_POST
def task_cancel(request: HttpRequest, task_id: int) -> HttpResponse:
    return _finish_view(request, task_id, services.task_cancel)


@web_view
@require_http_methods(["GET", "POST"])
def task_add(request: HttpRequest, customer_id: int) -> HttpResponse:
    """A manual task or a reminder on a customer, from the card's panel or my day (GET: the
    form — in an agenda row for HTMX, loaded when asked for rather than 50 times a page)."""
    back = safe_next(request, reverse("customers:detail", args=[customer_id]) + "#followup")
    if request.method != "POST":
        customer = customer_for(request.user, parse_id(customer_id, field="customer"), CHANGE)
        if is_partial(request):
            return render(request, "followup/partials/remind_form.html",
                          {"customer": customer, "next": back})
        return render(request, "followup/task_form.html",
                      {"form": TaskForm(), "customer": customer, "next": back})
    customer = customer_selectors.customer_get(viewer=request.user, pk=customer_id)
    form = TaskForm(request.POST)
    if form.is_valid():
        try:
            services.task_create(actor=request.user, origin=WEB, customer=customer.pk,
                                 data=form.cleaned_data)
        except ValidationError as exc:
            attach_errors(form, exc)
        else:
            return redirect(back)
    return render(request, "followup/task_form.html", {"form": form, "customer": customer,
                                                       "next": back}, status=400)
