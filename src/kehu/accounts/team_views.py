"""成员与权限 in the settings area (admins): the people of the company. Thin: the services in
`accounts/team.py` check and write; their errors come back next to the fields they name. A
generated password is shown once, in the answer to the POST that made it."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.cache import add_never_cache_headers
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from kehu.accounts import team
from kehu.accounts.models import Role
from kehu.accounts.policy import require_admin
from kehu.accounts.selectors import departments_tree, team_users, users_active
from kehu.accounts.team_forms import PasswordResetForm, UserForm, department_choices
from kehu.core.inputs import parse_id
from kehu.core.models import Origin
from kehu.core.views import press_button, redirect, save_form, web_view

WEB = Origin.MANUAL
LIST_LIMIT = 500  # a company's people fit; past it the page says to narrow the search
ACTIVE_CHOICES = (("yes", gettext_lazy("在职")), ("no", gettext_lazy("已停用")),
                  ("all", gettext_lazy("全部")))


@web_view
def users(request: HttpRequest) -> HttpResponse:
    """The people: search by name, filter by department (with those below it), role, status."""
    require_admin(request.user, team.ADMINS_ONLY)
    query = request.GET
    filters = {"search": query.get("q", "").strip()[:100],
               "department_id": parse_id(query.get("department"), field="department",
                                         required=False),
               "role_id": parse_id(query.get("role"), field="role", required=False),
               "active": query.get("active") or "yes"}
    departments = departments_tree()
    rows = list(team_users(**filters)[:LIST_LIMIT + 1])
    return render(request, "accounts/team/users.html", {
        "rows": rows[:LIST_LIMIT], "more": len(rows) > LIST_LIMIT, "filters": filters,
        "departments": department_choices(departments), "roles": Role.objects.all(),
        "active_choices": ACTIVE_CHOICES})


def _user_form(data: Any = None, *, initial: Any = None, new: bool,
               person: Any = None) -> UserForm:
    people = list(users_active().exclude(pk=person.pk) if person else users_active())
    if person and person.manager and not person.manager.is_active:  # kept until changed
        people.append(person.manager)
    return UserForm(data, initial=initial, new=new, departments=departments_tree(),
                    people=people, roles=list(Role.objects.all()))


@web_view
def user_create(request: HttpRequest) -> HttpResponse:
    """A new person; a password left blank is generated and shown on this answer only."""
    require_admin(request.user, team.ADMINS_ONLY)
    if request.method != "POST":
        return render(request, "accounts/team/user.html", {"form": _user_form(new=True)})
    form = _user_form(request.POST, new=True)
    form.is_valid()  # the service validates for real; the form shows what was typed
    made = save_form(form, lambda: team.user_add(actor=request.user, origin=WEB,
                                                 data=request.POST.dict()))
    if made is None:
        return render(request, "accounts/team/user.html", {"form": form}, status=400)
    user, password = made
    if password:
        return _shown_once(request, user, password, created=True)
    messages.success(request, _("已创建 %(name)s") % {"name": user.label})
    return redirect(reverse("team:users"))


@web_view
def user_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """Change a person's name, email, department, manager and role; the status and password
    buttons sit on the same page."""
    require_admin(request.user, team.ADMINS_ONLY)
    person = team.team_member(pk)
    context = {"person": person, "password_form": PasswordResetForm()}
    if request.method != "POST":
        form = _user_form(initial=_initial(person), new=False, person=person)
        return render(request, "accounts/team/user.html", {**context, "form": form})
    form = _user_form(request.POST, new=False, person=person)
    form.is_valid()
    if save_form(form, lambda: team.user_change(actor=request.user, origin=WEB, user=person,
                                                data=request.POST.dict())):
        messages.success(request, _("已保存 %(name)s") % {"name": person.label})
        return redirect(reverse("team:users"))
    return render(request, "accounts/team/user.html", {**context, "form": form}, status=400)


@web_view
@require_POST
def user_deactivate(request: HttpRequest, pk: int) -> HttpResponse:
    return _switch(request, pk, team.user_deactivate,
                   _("已停用 %(name)s：其登录和 API 令牌已全部失效"))


@web_view
@require_POST
def user_reactivate(request: HttpRequest, pk: int) -> HttpResponse:
    return _switch(request, pk, team.user_reactivate, _("已重新启用 %(name)s"))


def _switch(request: HttpRequest, pk: int, service: Any, done: str) -> HttpResponse:
    """Deactivate or reactivate a person; back to their page either way."""
    require_admin(request.user, team.ADMINS_ONLY)
    person = team.team_member(pk)
    return press_button(request, lambda: service(actor=request.user, origin=WEB, user=person),
                        done=done % {"name": person.label},
                        to=reverse("team:user_edit", args=[person.pk]))


@web_view
@require_POST
def user_password(request: HttpRequest, pk: int) -> HttpResponse:
    """Set a new password (typed, or generated and shown once); their sessions end."""
    require_admin(request.user, team.ADMINS_ONLY)
    person = team.team_member(pk)
    form = PasswordResetForm(request.POST)
    form.is_valid()
    done = save_form(form, lambda: (team.user_password_reset(
        actor=request.user, origin=WEB, user=person, password=request.POST.get("password", "")),))
    if done is None:
        return render(request, "accounts/team/user.html", {
            "person": person, "password_form": form,
            "form": _user_form(initial=_initial(person), new=False, person=person)}, status=400)
    if done[0]:  # generated: shown on this answer only
        return _shown_once(request, person, done[0], created=False)
    messages.success(request, _("已为 %(name)s 设置新密码，其登录已全部退出") % {"name": person.label})
    return redirect(reverse("team:user_edit", args=[person.pk]))


def _shown_once(request: HttpRequest, person: Any, password: str, *, created: bool) -> HttpResponse:
    response = render(request, "accounts/team/password_shown.html",
                      {"person": person, "password": password, "created": created})
    add_never_cache_headers(response)  # no copy of the password in any cache
    return response


def _initial(person: Any) -> dict[str, Any]:
    return {"display_name": person.display_name, "email": person.email,
            "department": person.department_id, "manager": person.manager_id,
            "role": person.role_id}
