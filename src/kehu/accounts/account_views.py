"""A person's own account pages: API tokens (我的 API 令牌), signed-in sessions (登录设备)
and the password.

Thin: the services check every field and write the change log; a secret is shown once, in
the answer to the POST that created it, and never again (only its hash is stored).
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth import update_session_auth_hash
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import PasswordChangeForm
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from kehu.accounts.models import TokenScope
from kehu.accounts.selectors import tokens_of
from kehu.accounts.services import (
    TOKEN_DAYS,
    password_change,
    token_issue,
    token_withdraw,
)
from kehu.accounts.sessions import sessions_end, sign_ins_of
from kehu.core.errors import ValidationError
from kehu.core.models import Origin


class TokenForm(forms.Form):
    """What the page asks; the service checks it (one validation path)."""

    name = forms.CharField(label=gettext_lazy("名称"), required=False,
                           help_text=gettext_lazy("它用在哪里，例如“ERP 同步”"))
    scope = forms.ChoiceField(label=gettext_lazy("权限"), choices=TokenScope.choices,
                              initial=TokenScope.READ, widget=forms.RadioSelect, required=False)
    days = forms.ChoiceField(label=gettext_lazy("有效期"), initial="90", required=False,
                             choices=[(str(d), gettext_lazy("%(n)d 天") % {"n": d} if d else
                                       gettext_lazy("不过期（直到吊销）")) for d in TOKEN_DAYS])


class PasswordForm(PasswordChangeForm):
    revoke_tokens = forms.BooleanField(label=gettext_lazy("同时吊销我的全部 API 令牌"),
                                       required=False)


@login_required
def tokens(request: HttpRequest) -> HttpResponse:
    """My tokens, and a new one: its secret is on this answer only."""
    form, secret = TokenForm(request.POST or None), None
    if request.method == "POST":
        try:
            _token, secret = token_issue(actor=request.user, origin=Origin.MANUAL, data=request.POST)
            form = TokenForm()
        except ValidationError as exc:
            for name, errors in exc.message_dict.items():
                form.add_error(name if name in form.fields else None, errors)
    return render(request, "accounts/tokens.html",
                  {"form": form, "secret": secret, "rows": tokens_of(request.user)},
                  status=400 if form.errors else 200)


@login_required
@require_POST
def token_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    token = token_withdraw(actor=request.user, origin=Origin.MANUAL, token_id=pk)
    messages.success(request, _("已吊销令牌“%(name)s”") % {"name": token.name})
    return redirect("accounts:tokens")


@login_required
def password(request: HttpRequest) -> HttpResponse:
    """Change my password. Every other session of mine ends with it (Django keys a session
    to the password hash); this one stays signed in."""
    form = PasswordForm(request.user, request.POST or None)
    if request.method == "POST" and form.is_valid():
        revoked = password_change(actor=request.user, origin=Origin.MANUAL,
                                  password=form.cleaned_data["new_password1"],
                                  revoke_tokens=form.cleaned_data["revoke_tokens"])
        update_session_auth_hash(request, request.user)
        messages.success(request, _("密码已修改，其他设备上的登录已退出") +
                         (_("；已吊销 %(n)d 个 API 令牌") % {"n": revoked} if revoked else ""))
        return redirect("accounts:password")
    return render(request, "accounts/password.html", {"form": form},
                  status=400 if form.errors else 200)


@login_required
def sessions(request: HttpRequest) -> HttpResponse:
    """Where I am signed in; this browser first."""
    rows = sign_ins_of(request.user, current=request.session.session_key)
    return render(request, "accounts/sessions.html", {"rows": rows})


@login_required
@require_POST
def session_end(request: HttpRequest, pk: int) -> HttpResponse:
    sessions_end(actor=request.user, origin=Origin.MANUAL, keep=None, pk=pk)
    messages.success(request, _("已退出那台设备"))
    return redirect("accounts:sessions")


@login_required
@require_POST
def sessions_end_others(request: HttpRequest) -> HttpResponse:
    ended = sessions_end(actor=request.user, origin=Origin.MANUAL,
                         keep=request.session.session_key)
    messages.success(request, _("已退出其他 %(n)d 台设备") % {"n": ended})
    return redirect("accounts:sessions")
