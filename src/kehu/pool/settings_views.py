"""The pool in the settings area (设置 → 公海, admins): pools and their reclaim rules. Thin:
the services check and write; their errors come back next to the fields they name."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from kehu.accounts.models import Department
from kehu.accounts.policy import require_admin
from kehu.classification.models import DimensionValue
from kehu.core.inputs import parse_id
from kehu.core.models import Origin
from kehu.core.versions import parse_version
from kehu.core.views import redirect, save_form, web_view
from kehu.pool import selectors, services
from kehu.pool.forms import PoolForm, RuleForm
from kehu.pool.models import Pool, PoolRule

WEB = Origin.MANUAL


@web_view
def pools(request: HttpRequest) -> HttpResponse:
    require_admin(request.user, services.ADMINS_ONLY)
    return render(request, "pool/settings/pools.html", selectors.pool_settings(viewer=request.user))


def _pool_form(data: Any = None, initial: Any = None) -> PoolForm:
    return PoolForm(data, initial=initial, departments=list(Department.objects.order_by("path")))


@web_view
def pool_edit(request: HttpRequest, pool_id: int | None = None) -> HttpResponse:
    """Create (no id) or change a pool."""
    require_admin(request.user, services.ADMINS_ONLY)
    pool = get_object_or_404(Pool, pk=parse_id(pool_id, field="pool")) if pool_id else None
    if request.method != "POST":
        initial = {"is_active": True, "daily_claims": 5, "reclaim_wait_days": 30}
        if pool:
            initial = {"name": pool.name, "daily_claims": pool.daily_claims,
                       "max_held": pool.max_held, "reclaim_wait_days": pool.reclaim_wait_days,
                       "is_active": pool.is_active,
                       "departments": [d.pk for d in pool.departments.all()]}
        return render(request, "pool/settings/pool.html",
                      {"form": _pool_form(initial=initial), "pool": pool})
    form = _pool_form(data=request.POST)
    form.is_valid()
    data = {**request.POST.dict(), "departments": request.POST.getlist("departments"),
            "is_active": "is_active" in request.POST}
    if save_form(form, lambda: services.pool_save(
            actor=request.user, origin=WEB, data=data, pool=pool,
            expected_version=parse_version(request.POST.get("version")) if pool else None)):
        return redirect(reverse("pool:settings"))
    return render(request, "pool/settings/pool.html", {"form": form, "pool": pool}, status=400)


@web_view
@require_POST
def pool_delete(request: HttpRequest, pool_id: int) -> HttpResponse:
    require_admin(request.user, services.ADMINS_ONLY)
    pool = get_object_or_404(Pool, pk=parse_id(pool_id, field="pool"))
    services.pool_delete(actor=request.user, origin=WEB, pool=pool,
                         expected_version=parse_version(request.POST.get("version")))
    return redirect(reverse("pool:settings"))


def _rule_form(data: Any = None, initial: Any = None) -> RuleForm:
    values = DimensionValue.objects.filter(is_active=True, dimension__is_active=True) \
        .select_related("dimension").order_by("dimension__position", "position")
    return RuleForm(data, initial=initial,
                    targets=[(v.pk, f"{v.dimension.name} · {v.label}") for v in values])


@web_view
def rule_edit(request: HttpRequest, pool_id: int, rule_id: int | None = None) -> HttpResponse:
    """Add a rule to a pool (no rule id) or change one."""
    require_admin(request.user, services.ADMINS_ONLY)
    pool = get_object_or_404(Pool, pk=parse_id(pool_id, field="pool"))
    rule = get_object_or_404(PoolRule, pk=parse_id(rule_id, field="rule"), pool=pool) \
        if rule_id else None
    context = {"pool": pool, "rule": rule}
    if request.method != "POST":
        initial = {"warn_days": 3, "exempt_won": True, "exempt_open_opportunities": True,
                   "is_active": True}
        if rule:
            initial = {name: getattr(rule, name) for name in RuleForm.base_fields}
            initial["target_value"] = rule.target_value_id or ""
        return render(request, "pool/settings/rule.html", {**context, "form": _rule_form(
            initial=initial)})
    form = _rule_form(data=request.POST)
    form.is_valid()
    data = {**request.POST.dict(), **{name: name in request.POST for name in (
        "exempt_won", "exempt_open_opportunities", "is_active")}}
    if save_form(form, lambda: services.rule_save(
            actor=request.user, origin=WEB, pool=pool, data=data, rule=rule,
            expected_version=parse_version(request.POST.get("version")) if rule else None)):
        return redirect(reverse("pool:settings") + f"#pool-{pool.pk}")
    return render(request, "pool/settings/rule.html", {**context, "form": form}, status=400)


@web_view
@require_POST
def rule_delete(request: HttpRequest, pool_id: int, rule_id: int) -> HttpResponse:
    require_admin(request.user, services.ADMINS_ONLY)
    rule = get_object_or_404(PoolRule, pk=parse_id(rule_id, field="rule"),
                             pool_id=parse_id(pool_id, field="pool"))
    services.rule_delete(actor=request.user, origin=WEB, rule=rule,
                         expected_version=parse_version(request.POST.get("version")))
    return redirect(reverse("pool:settings") + f"#pool-{pool_id}")
