"""设置 → 成员与权限 → 离职交接 (admins): pick the leaver and the receiver, see how many
customers will move, then move them all (`customers/handover.py`). Thin."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from kehu.accounts.models import User
from kehu.accounts.policy import require_admin
from kehu.accounts.selectors import users_active
from kehu.accounts.team import ADMINS_ONLY
from kehu.core.errors import ValidationError
from kehu.core.views import attach_errors, redirect, save_form, web_view
from kehu.customers import handover
from kehu.customers.views.common import WEB


class HandoverForm(forms.Form):
    from_user = forms.ChoiceField(label=gettext_lazy("离职成员"), required=False)
    to_user = forms.ChoiceField(label=gettext_lazy("接收人"), required=False)
    reason = forms.CharField(label=gettext_lazy("原因"), required=False,
                             help_text=gettext_lazy("留空则记为“离职交接”"))
    deactivate = forms.BooleanField(label=gettext_lazy("同时停用离职成员（其登录和 API 令牌立即失效）"),
                                    required=False, initial=True)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        everyone = User.objects.filter(is_system=False).order_by("-is_active", "display_name",
                                                                 "username")
        self.fields["from_user"].choices = [("", "")] + [
            (p.pk, p.label if p.is_active else _("%(name)s（已停用）") % {"name": p.label})
            for p in everyone]
        self.fields["to_user"].choices = [("", "")] + [(p.pk, p.label) for p in users_active()]
        self.fields["from_user"].kehu_required = self.fields["to_user"].kehu_required = True


@web_view
def handover_page(request: HttpRequest) -> HttpResponse:
    """GET: the form, and with a leaver chosen what would move; POST: move them."""
    require_admin(request.user, ADMINS_ONLY)
    if request.method == "POST":
        form = HandoverForm(request.POST)
        form.is_valid()
        done = save_form(form, lambda: handover.handover_run(
            actor=request.user, origin=WEB, data=request.POST.dict()))
        if done:
            messages.success(request, _("已把 %(name)s 的 %(n)d 个客户交接给 %(to)s") % {
                "name": done.from_user.label, "n": done.customers, "to": done.to_user.label}
                + (_("（连同 %(deals)d 个进行中的商机和 %(tasks)d 个待办任务）") % {
                    "deals": done.also.get("opportunities", 0), "tasks": done.also.get("tasks", 0)}
                   if any(done.also.values()) else "")
                + (_("，并已停用其账号") if done.deactivated else ""))
            return redirect(reverse("handover:start"))
        return render(request, "customers/handover.html", {"form": form}, status=400)
    form, preview = HandoverForm(request.GET or None), None
    if request.GET.get("from_user"):
        form.is_valid()
        try:
            preview = handover.handover_preview(viewer=request.user, data=request.GET.dict())
        except ValidationError as exc:
            attach_errors(form, exc)
    return render(request, "customers/handover.html", {"form": form, "preview": preview},
                  status=400 if form.errors else 200)
