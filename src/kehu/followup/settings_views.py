"""Follow-up in the settings area: 跟踪计划 (admins and managers change, everyone reads)
and 工作日历 (admins). Thin: the services check and write; their errors come back next to
the fields they name."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kehu.accounts.policy import require_admin
from kehu.accounts.selectors import users_in_scope
from kehu.classification.models import DimensionValue
from kehu.core.errors import Http404
from kehu.core.inputs import parse_id
from kehu.core.models import Origin
from kehu.core.versions import parse_version
from kehu.core.views import redirect, save_form, web_view
from kehu.customers.segments import segment_list
from kehu.followup import selectors, services
from kehu.followup.forms import CalendarDayForm, EscalationForm, PlanForm
from kehu.followup.models import CalendarDay, FollowUpPlan

WEB = Origin.MANUAL


@web_view
def plans(request: HttpRequest) -> HttpResponse:
    context = selectors.plan_list(viewer=request.user)
    escalation = context["escalation"]
    context["escalation_form"] = EscalationForm(initial={
        name: getattr(escalation, name) for name in EscalationForm.base_fields})
    return render(request, "followup/settings/plans.html", context)


@web_view
@require_POST
def escalation(request: HttpRequest) -> HttpResponse:
    """The days overdue after which a task escalates, per tier (a form on 跟踪计划)."""
    services.require_planner(request.user)
    form = EscalationForm(request.POST)
    form.is_valid()  # the service validates for real; the form shows what was typed
    if save_form(form, lambda: services.escalation_settings_save(
            actor=request.user, origin=WEB, data=request.POST.dict(),
            expected_version=parse_version(request.POST.get("version")))):
        return redirect(reverse("followup:plans") + "#escalation")
    context = {**selectors.plan_list(viewer=request.user), "escalation_form": form}
    return render(request, "followup/settings/plans.html", context, status=400)


def _plan_form(request: HttpRequest, data: Any = None, initial: Any = None) -> PlanForm:
    values = DimensionValue.objects.filter(is_active=True, dimension__is_active=True) \
        .select_related("dimension").order_by("dimension__position", "position")
    targets = [(f"value:{v.pk}", f"{v.dimension.name} · {v.label}") for v in values]
    targets += [(f"segment:{s.pk}", _("分群 · %(name)s") % {"name": s.name})
                for s in segment_list(viewer=request.user)]
    return PlanForm(data, initial=initial, targets=targets,
                    people=list(users_in_scope(request.user)))


@web_view
def plan_edit(request: HttpRequest, plan_id: int | None = None) -> HttpResponse:
    """Create (no id) or change a plan."""
    services.require_planner(request.user)
    plan = services.plan_get_editable(actor=request.user, pk=plan_id) if plan_id else None
    if request.method != "POST":
        initial = _initial(plan) if plan else {"is_active": True}
        return render(request, "followup/settings/plan.html",
                      {"form": _plan_form(request, initial=initial), "plan": plan})
    form = _plan_form(request, data=request.POST)
    form.is_valid()
    data = {**request.POST.dict(), "is_active": "is_active" in request.POST}
    if save_form(form, lambda: services.plan_save(
            actor=request.user, origin=WEB, data=data, plan=plan,
            expected_version=parse_version(request.POST.get("version")) if plan else None)):
        return redirect(reverse("followup:plans"))
    return render(request, "followup/settings/plan.html", {"form": form, "plan": plan}, status=400)


def _initial(plan: FollowUpPlan) -> dict[str, Any]:
    target = f"value:{plan.target_value_id}" if plan.target_value_id else \
        f"segment:{plan.target_segment_id}"
    return {"name": plan.name, "target": target, "cadence_days": plan.cadence_days,
            "channel": plan.channel, "assignee": plan.assignee_id or "",
            "talking_points": plan.talking_points, "is_active": plan.is_active}


@web_view
@require_POST
def plan_move(request: HttpRequest, plan_id: int) -> HttpResponse:
    plan = services.plan_get_editable(actor=request.user, pk=plan_id)
    services.plan_move(actor=request.user, origin=WEB, plan=plan,
                       direction="up" if request.POST.get("direction") == "up" else "down")
    return redirect(reverse("followup:plans"))


@web_view
def calendar(request: HttpRequest) -> HttpResponse:
    """工作日历: the days admins entered, and a form to add one."""
    require_admin(request.user, services.CALENDAR_ADMINS_ONLY)
    form = CalendarDayForm(request.POST or None)
    status = 200
    if request.method == "POST":
        form.is_valid()
        if save_form(form, lambda: services.calendar_day_save(
                actor=request.user, origin=WEB, data=request.POST.dict())):
            return redirect(reverse("followup:calendar"))
        status = 400
    return render(request, "followup/settings/calendar.html",
                  {**selectors.calendar_days(viewer=request.user), "form": form}, status=status)


@web_view
@require_POST
def calendar_delete(request: HttpRequest, day_id: int) -> HttpResponse:
    require_admin(request.user, services.CALENDAR_ADMINS_ONLY)
    day = CalendarDay.objects.filter(pk=parse_id(day_id, field="day")).first()
    if day is None:
        raise Http404
    services.calendar_day_delete(actor=request.user, origin=WEB, day=day)
    return redirect(reverse("followup:calendar"))
