"""成员与权限 → 角色 and 部门 (admins). Thin: `accounts/org.py` checks and writes; its errors
come back next to the fields they name, or as a message on the list for a refused delete."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kehu.accounts import org
from kehu.accounts.models import Department, Role
from kehu.accounts.policy import require_admin
from kehu.accounts.selectors import departments_tree
from kehu.accounts.team import ADMINS_ONLY
from kehu.accounts.team_forms import DepartmentForm, RoleForm
from kehu.core.inputs import parse_id
from kehu.core.models import Origin
from kehu.core.views import press_button, redirect, save_form, web_view

WEB = Origin.MANUAL


@web_view
def roles(request: HttpRequest) -> HttpResponse:
    require_admin(request.user, ADMINS_ONLY)
    rows = Role.objects.annotate(holders=Count("user")).order_by("id")
    return render(request, "accounts/team/roles.html", {"rows": rows,
                                                        "builtin": org.BUILTIN_ROLES})


def _flags(post: Any) -> dict[str, Any]:
    """A checkbox left unticked sends nothing: say so."""
    return {**post.dict(), **{flag: flag in post for flag in org.ROLE_FLAGS}}


@web_view
def role_edit(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    """Create (no id) or change a role."""
    require_admin(request.user, ADMINS_ONLY)
    role = get_object_or_404(Role, pk=parse_id(pk, field="role")) if pk else None
    if request.method != "POST":
        # a new role's form starts from the model's defaults (scope 本人, writing, every act
        # but reveal), so the form and a role made by the API or the command line agree
        initial = {name: Role._meta.get_field(name).get_default()
                   for name in ("data_scope", *org.ROLE_FLAGS)}
        if role:
            initial = {name: getattr(role, name) for name in ("name", "data_scope",
                                                              *org.ROLE_FLAGS)}
        return render(request, "accounts/team/role.html",
                      {"form": RoleForm(initial=initial, new=role is None), "role": role})
    form = RoleForm(request.POST, new=role is None)
    form.is_valid()
    if save_form(form, lambda: org.role_save(actor=request.user, origin=WEB, role=role,
                                             data=_flags(request.POST))):
        return redirect(reverse("team:roles"))
    return render(request, "accounts/team/role.html", {"form": form, "role": role}, status=400)


@web_view
@require_POST
def role_delete(request: HttpRequest, pk: int) -> HttpResponse:
    require_admin(request.user, ADMINS_ONLY)
    role = get_object_or_404(Role, pk=parse_id(pk, field="role"))
    return press_button(request, lambda: org.role_delete(actor=request.user, origin=WEB,
                                                         role=role),
                        done=_("已删除角色“%(name)s”") % {"name": role.name},
                        to=reverse("team:roles"))


def _department_form(data: Any = None, initial: Any = None, **kwargs: Any) -> DepartmentForm:
    return DepartmentForm(data, initial=initial, departments=departments_tree(), **kwargs)


@web_view
def departments(request: HttpRequest) -> HttpResponse:
    """The tree, indented, with each department's people; a new one is added here."""
    require_admin(request.user, ADMINS_ONLY)
    form = _department_form(prefix="new")
    if request.method == "POST":
        form = _department_form(request.POST, prefix="new")
        form.is_valid()
        made = save_form(form, lambda: org.department_save(
            actor=request.user, origin=WEB, data={"name": request.POST.get("new-name"),
                                                  "parent": request.POST.get("new-parent")}))
        if made:
            messages.success(request, _("已创建部门“%(name)s”") % {"name": made.name})
            return redirect(reverse("team:departments"))
    return render(request, "accounts/team/departments.html",
                  {"rows": departments_tree(), "form": form},
                  status=400 if form.errors else 200)


@web_view
def department_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """Rename a department or move it (with everything below it) under another."""
    require_admin(request.user, ADMINS_ONLY)
    department = get_object_or_404(Department, pk=parse_id(pk, field="department"))
    context = {"department": department, "inside": org.department_contents(department)}
    if request.method != "POST":
        form = _department_form(initial={"name": department.name,
                                         "parent": department.parent_id})
        return render(request, "accounts/team/department.html", {**context, "form": form})
    form = _department_form(request.POST)
    form.is_valid()
    if save_form(form, lambda: org.department_save(actor=request.user, origin=WEB,
                                                   department=department,
                                                   data=request.POST.dict())):
        messages.success(request, _("已保存部门“%(name)s”") % {"name": department.name})
        return redirect(reverse("team:departments"))
    return render(request, "accounts/team/department.html", {**context, "form": form},
                  status=400)


@web_view
@require_POST
def department_delete(request: HttpRequest, pk: int) -> HttpResponse:
    require_admin(request.user, ADMINS_ONLY)
    department = get_object_or_404(Department, pk=parse_id(pk, field="department"))
    return press_button(request, lambda: org.department_delete(
        actor=request.user, origin=WEB, department=department),
        done=_("已删除部门“%(name)s”") % {"name": department.name},
        to=reverse("team:departments"),
        refused_to=reverse("team:department_edit", args=[department.pk]))
