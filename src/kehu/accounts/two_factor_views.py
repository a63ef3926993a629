"""我的账户 → 两步验证: turn it on (scan, type a code), recovery codes (shown once), turn it
off (password and a current code). Thin: accounts/twofactor.py checks and logs every change."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST
from django_otp import login as otp_login

from kehu.accounts import twofactor
from kehu.accounts.signin import CodeForm
from kehu.core.errors import ValidationError
from kehu.core.models import Origin


class DisableForm(forms.Form):
    password = forms.CharField(label=gettext_lazy("密码"), required=False,
                               widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}))
    code = forms.CharField(label=gettext_lazy("验证码或恢复码"), max_length=40, required=False,
                           widget=forms.TextInput(attrs={"autocomplete": "one-time-code"}))


def _page(request: HttpRequest, disable_form: DisableForm | None = None) -> HttpResponse:
    form = disable_form or DisableForm()
    return render(request, "accounts/two_factor.html",
                  {**twofactor.two_factor_status(request.user), "disable_form": form},
                  status=400 if form.errors else 200)


@login_required
def two_factor(request: HttpRequest) -> HttpResponse:
    return _page(request)


@login_required
def enrol(request: HttpRequest) -> HttpResponse:
    """Scan the QR code (or type the key), then a code from the app confirms the device; the
    answer to that POST shows the recovery codes, once."""
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            device, codes = twofactor.totp_confirm(actor=request.user, origin=Origin.MANUAL,
                                                   code=form.cleaned_data["code"])
        except ValidationError as exc:
            form.add_error("code", exc.message_dict.get("code", exc.messages))
        else:
            otp_login(request, device)  # this session has just shown the second factor
            return render(request, "accounts/two_factor_codes.html",
                          {"codes": codes, "enrolled": True})
    device = twofactor.totp_pending(user=request.user)
    return render(request, "accounts/two_factor_enrol.html",
                  {"form": form, "qr": twofactor.totp_qr_svg(device),
                   "secret": twofactor.totp_secret(device),
                   "replacing": twofactor.totp_device(request.user) is not None},
                  status=400 if form.errors else 200)


@login_required
@require_POST
def recovery_codes(request: HttpRequest) -> HttpResponse:
    try:
        codes = twofactor.recovery_codes_regenerate(actor=request.user, origin=Origin.MANUAL)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect("accounts:two_factor")
    return render(request, "accounts/two_factor_codes.html", {"codes": codes})


@login_required
@require_POST
def disable(request: HttpRequest) -> HttpResponse:
    """A wrong password or code counts as a failed sign-in, as on the sign-in page: this form
    must not become a way to guess either."""
    form = DisableForm(request.POST)
    form.is_valid()
    if twofactor.locked(request, request.user):
        form.add_error(None, _("失败次数太多，请稍后再试"))
        return _page(request, form)
    try:
        twofactor.two_factor_disable(actor=request.user, origin=Origin.MANUAL,
                                     password=form.cleaned_data.get("password", ""),
                                     code=form.cleaned_data.get("code", ""))
    except ValidationError as exc:
        if "password" in exc.message_dict or "code" in exc.message_dict:
            twofactor.failure_count(request, request.user)
        for name, errors in exc.message_dict.items():
            form.add_error(name if name in form.fields else None, errors)
        return _page(request, form)
    messages.success(request, _("两步验证已关闭"))
    return redirect("accounts:two_factor")
