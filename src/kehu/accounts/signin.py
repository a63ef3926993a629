"""Signing in: the password step, then — for someone with an authenticator — the code step,
or — for someone who must have one and has none — enrolment (accounts/twofactor.py says why
nobody is signed in before the second factor)."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.views import LoginView
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django_otp.plugins.otp_static.models import StaticDevice

from kehu.accounts import twofactor
from kehu.accounts.throttle import locked_out
from kehu.core.errors import ValidationError
from kehu.core.models import Origin


class CodeForm(forms.Form):
    code = forms.CharField(label=gettext_lazy("验证码"), max_length=40, widget=forms.TextInput(
        attrs={"autocomplete": "one-time-code", "autocapitalize": "none", "spellcheck": "false",
               "autofocus": True}))


class SignInView(LoginView):
    """Django's sign-in page, except that a right password for someone who needs a second
    factor leads to the code (or enrolment) step instead of signing in."""

    template_name = "accounts/login.html"

    def form_valid(self, form: forms.Form) -> HttpResponse:
        user = form.get_user()
        step = twofactor.second_factor_need(user)
        if step is None:
            return super().form_valid(form)
        twofactor.pending_start(self.request, user, step=step, next_url=self.get_success_url())
        return redirect("login_verify" if step == twofactor.VERIFY else "login_enrol")


def _nobody_waiting(request: HttpRequest) -> HttpResponse:
    return redirect("home" if request.user.is_authenticated else "login")


def verify_step(request: HttpRequest) -> HttpResponse:
    """The second step: a code from the authenticator, or one of the recovery codes."""
    user, state = twofactor.pending_user(request, twofactor.VERIFY)
    if user is None:
        return _nobody_waiting(request)
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if twofactor.locked(request, user):
            twofactor.pending_drop(request)
            return locked_out(request)
        device = twofactor.code_check(user, form.cleaned_data["code"])
        if device is not None:
            twofactor.sign_in_finish(request, user, device, state)
            if isinstance(device, StaticDevice):
                messages.warning(request, _("您用了一个恢复码，它已作废；还剩 %(n)d 个。")
                                 % {"n": twofactor.recovery_codes_left(user)})
            return redirect(state["next"])
        twofactor.failure_count(request, user)  # at the limit, axes answers 429 instead
        if getattr(request, "axes_locked_out", False):
            twofactor.pending_drop(request)
        form.add_error("code", _("验证码不对，请重新输入"))
    return render(request, "accounts/login_verify.html", {"form": form},
                  status=400 if form.errors else 200)


def enrol_step(request: HttpRequest) -> HttpResponse:
    """Enrolment before the first sign-in of someone whose role requires two-factor."""
    user, state = twofactor.pending_user(request, twofactor.ENROL)
    if user is None:
        return _nobody_waiting(request)
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            device, codes = twofactor.totp_confirm(actor=user, origin=Origin.MANUAL,
                                                   code=form.cleaned_data["code"])
        except ValidationError as exc:
            form.add_error("code", exc.message_dict.get("code", exc.messages))
        else:
            twofactor.sign_in_finish(request, user, device, state)
            return render(request, "accounts/two_factor_codes.html",
                          {"codes": codes, "next": state["next"], "enrolled": True})
    device = twofactor.totp_pending(user=user)
    return render(request, "accounts/two_factor_enrol.html",
                  {"form": form, "forced": True, "qr": twofactor.totp_qr_svg(device),
                   "secret": twofactor.totp_secret(device)},
                  status=400 if form.errors else 200)
