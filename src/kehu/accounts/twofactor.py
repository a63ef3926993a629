"""Two-factor sign-in (两步验证): an authenticator app's codes (TOTP) and recovery codes, on
django-otp's devices, and the gate that keeps a session without its second factor out.

A person has at most one confirmed `TOTPDevice` (enrolling again replaces it; an unconfirmed
one is the enrolment in progress) and one `StaticDevice` named "recovery" holding ten
single-use codes. Signing in with a device is two steps: the password step
(`signin.SignInView`) does not sign in; it keeps the person's id in the session as *pending*
and sends them to the code step, which signs in (`django.contrib.auth.login`) and marks the
session verified (`django_otp.login`) only after a right code. A pending session is not
signed in, so it reaches only what anyone may (the sign-in pages, static files). A wrong code
is a failed sign-in for django-axes (`user_login_failed`), counted with wrong passwords per
account and per address; and since Django's sign-in happens only after the code, a right
password alone never resets the account's count.

Who must have a device: admins always, and the people of a role marked `requires_two_factor`
(`two_factor_required`). Without one, the password step sends them to enrol
(`signin.enrol_step`) and they are signed in once a code from the new device is right.

`TwoFactorGateMiddleware` is the backstop for sessions signed in any other way (from before
two-factor was turned on, or by code calling `login()`): a signed-in session that is neither
verified nor known to need no second factor ends, so the next sign-in goes through the steps.
Whether a person needs no second factor is decided at sign-in and kept in the session, so a
request costs nothing; a role newly marked takes effect at its people's next sign-in.

API bearer tokens are their own factor and are not touched: they are made by a person who
signed in (with both steps), stored hashed, scoped and revocable.
"""

from __future__ import annotations

import base64
import time
from typing import Any

import qrcode
import qrcode.image.svg
from axes.handlers.proxy import AxesProxyHandler
from django.conf import settings
from django.contrib.auth import login as auth_login
from django.contrib.auth import logout
from django.contrib.auth.signals import user_logged_in, user_login_failed
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import NON_FIELD_ERRORS
from django.db import transaction
from django.dispatch import Signal
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from django_otp import login as otp_login
from django_otp import verify_token
from django_otp.models import Device
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from kehu.accounts.models import User
from kehu.core.errors import ValidationError
from kehu.core.records import log_change

VERIFY, ENROL = "verify", "enrol"  # the second steps a password can lead to
PENDING = "_kehu_2fa_pending"  # session: the person whose password was right, and where to
PENDING_SECONDS = 600  # a password step older than this starts again
NOT_NEEDED = "_kehu_2fa_not_needed"  # session: the id of the person who needs no second factor
RECOVERY_NAME = "recovery"
RECOVERY_CODES = 10
# Sent after the commit that binds an authenticator, with `user` and `replaced`: whoever holds
# the password can bind their own during a forced enrolment, so the person hears of every
# binding through a channel the password does not open (notifications: the bell and e-mail).
two_factor_bound = Signal()


def connect() -> None:
    user_logged_in.connect(_signed_in, dispatch_uid="kehu-two-factor-sign-in")


# Who needs what -----------------------------------------------------------------------------

def two_factor_required(user: User) -> bool:
    """Admins always, and the people of a role that asks for it."""
    if not settings.KEHU_TWO_FACTOR_ENFORCED:
        return False
    role = user.role
    return user.is_superuser or (role is not None and (role.is_admin or role.requires_two_factor))


def totp_device(user: User, *, confirmed: bool = True) -> TOTPDevice | None:
    """The person's authenticator (confirmed), or the one being enrolled (unconfirmed)."""
    return TOTPDevice.objects.filter(user=user, confirmed=confirmed).order_by("-pk").first()


def second_factor_need(user: User) -> str | None:
    """VERIFY (has a device), ENROL (must have one and has none) or None."""
    if TOTPDevice.objects.filter(user=user, confirmed=True).exists():
        return VERIFY
    return ENROL if two_factor_required(user) else None


def recovery_codes_left(user: User) -> int:
    return StaticToken.objects.filter(device__user=user, device__name=RECOVERY_NAME).count()


def two_factor_status(user: User) -> dict[str, Any]:
    """What 我的账户 → 两步验证 shows."""
    device = totp_device(user)
    return {"device": device, "enabled": device is not None,
            "required": two_factor_required(user),
            "recovery_left": recovery_codes_left(user) if device else 0}


# Enrolment, recovery codes, disabling (services) -------------------------------------------

def totp_pending(*, user: User) -> TOTPDevice:
    """The enrolment in progress: an unconfirmed device with a fresh key, made on first ask and
    kept (the same QR code) until a code from it is typed."""
    device = totp_device(user, confirmed=False)
    if device is None:
        device = TOTPDevice.objects.create(user=user, name="authenticator", confirmed=False)
    return device


def totp_confirm(*, actor: User, origin: str, code: str) -> tuple[TOTPDevice, list[str]]:
    """Confirm the enrolment with a code from the app: the device replaces any earlier one and
    ten new recovery codes replace the old. Returns the device and the codes (shown once)."""
    with transaction.atomic():
        device = (TOTPDevice.objects.select_for_update()
                  .filter(user=actor, confirmed=False).order_by("-pk").first())
        if device is None:
            raise ValidationError({"code": [_("请先打开绑定页面，用身份验证器扫描二维码")]})
        if not device.verify_token(_normalised(code)):
            raise ValidationError({"code": [_("验证码不对：请输入身份验证器上现在显示的 6 位数字")]})
        replaced = TOTPDevice.objects.filter(user=actor).exclude(pk=device.pk).delete()[0]
        device.confirmed = True
        device.save(update_fields=["confirmed"])
        codes = _recovery_codes_replace(actor)
        log_change(actor=actor, action="two_factor_enable", instance=actor, origin=origin,
                   changes={"replaced": bool(replaced)})
        transaction.on_commit(lambda: two_factor_bound.send(
            sender=TOTPDevice, user=actor, replaced=bool(replaced)))
    return device, codes


def recovery_codes_regenerate(*, actor: User, origin: str) -> list[str]:
    """Ten new recovery codes; the old ones stop working."""
    with transaction.atomic():
        if totp_device(actor) is None:
            raise ValidationError({"code": [_("请先开启两步验证")]})
        codes = _recovery_codes_replace(actor)
        log_change(actor=actor, action="recovery_codes_regenerate", instance=actor,
                   origin=origin, changes={"codes": len(codes)})
    return codes


def two_factor_disable(*, actor: User, origin: str, password: str, code: str) -> None:
    """Remove the authenticator and the recovery codes; asks the password and a current code
    (or a recovery code). Someone whose role requires two-factor cannot (they may enrol a new
    phone instead)."""
    if two_factor_required(actor):
        raise ValidationError({NON_FIELD_ERRORS: [
            _("您的角色要求两步验证，不能关闭；换手机请重新绑定")]})
    errors: dict[str, list[str]] = {}
    if not actor.check_password(password or ""):
        errors["password"] = [_("密码不对")]
    if code_check(actor, code) is None:
        errors["code"] = [_("验证码不对")]
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        TOTPDevice.objects.filter(user=actor).delete()
        StaticDevice.objects.filter(user=actor).delete()
        log_change(actor=actor, action="two_factor_disable", instance=actor, origin=origin,
                   changes={})


def code_check(user: User, code: str) -> Device | None:
    """The device that accepts `code` — the authenticator for its digits, else a recovery
    code (used up by the check) — or None."""
    code = _normalised(code)
    device = totp_device(user)
    if device is not None and code.isdigit() and len(code) == device.digits:
        return verify_token(user, device.persistent_id, code)
    recovery = StaticDevice.objects.filter(user=user, name=RECOVERY_NAME).first()
    if recovery is None or not code:
        return None
    return verify_token(user, recovery.persistent_id, code)


def _recovery_codes_replace(user: User) -> list[str]:
    device, _created = StaticDevice.objects.get_or_create(
        user=user, name=RECOVERY_NAME, defaults={"confirmed": True})
    device.token_set.all().delete()
    codes = [StaticToken.random_token() for _n in range(RECOVERY_CODES)]
    StaticToken.objects.bulk_create([StaticToken(device=device, token=code) for code in codes])
    return codes


def _normalised(code: str | None) -> str:
    """People type codes with spaces or a dash in the middle, and recovery codes in capitals."""
    return "".join(str(code or "").split()).replace("-", "").lower()[:32]


# What the enrolment page shows -------------------------------------------------------------

def totp_secret(device: TOTPDevice) -> str:
    """The key in base32, in groups of four, for typing into an app by hand."""
    text = base64.b32encode(device.bin_key).decode().rstrip("=")
    return " ".join(text[i:i + 4] for i in range(0, len(text), 4))


def totp_qr_svg(device: TOTPDevice) -> str:
    """The otpauth:// address as an inline SVG QR code, drawn here (nothing is fetched)."""
    image = qrcode.make(device.config_url, image_factory=qrcode.image.svg.SvgPathFillImage,
                        border=4)  # the quiet zone scanners expect
    return image.to_string(encoding="unicode")


# The sign-in steps -------------------------------------------------------------------------

def pending_start(request: HttpRequest, user: User, *, step: str, next_url: str) -> None:
    """After a right password: remember who, for the code (or enrolment) step. Not signed in."""
    request.session.cycle_key()  # a session fixed before the password is not the one that waits
    request.session[PENDING] = {"user": user.pk, "backend": user.backend, "step": step,
                                "since": int(time.time()), "next": next_url}


def pending_user(request: HttpRequest, step: str) -> tuple[User | None, dict[str, Any]]:
    """The person waiting at `step`, or None (nobody, another step, or too long ago)."""
    state = request.session.get(PENDING)
    if not isinstance(state, dict) or state.get("step") != step:
        return None, {}
    if time.time() - state.get("since", 0) > PENDING_SECONDS:
        request.session.pop(PENDING, None)
        return None, {}
    return User.objects.filter(pk=state.get("user"), is_active=True).first(), state


def pending_drop(request: HttpRequest) -> None:
    request.session.pop(PENDING, None)


def sign_in_finish(request: HttpRequest, user: User, device: Device, state: dict[str, Any]) -> None:
    """Both factors given: sign in (the session, its SignIn row, the account's failure count
    cleared) and mark the session verified by `device`."""
    request.session.pop(PENDING, None)
    auth_login(request, user, backend=state["backend"])
    otp_login(request, device)


def credentials(user: User) -> dict[str, str]:
    return {"username": user.get_username()}


def locked(request: HttpRequest, user: User) -> bool:
    """Whether the throttle refuses this account or this address now."""
    return AxesProxyHandler.is_locked(request, credentials(user))


def failure_count(request: HttpRequest, user: User) -> None:
    """A wrong code is a failed sign-in: django-axes counts it with the wrong passwords (and
    its middleware answers 429 when this one reaches the limit)."""
    user_login_failed.send(sender=__name__, credentials=credentials(user), request=request)


def _signed_in(sender: Any, request: HttpRequest, user: User, **kwargs: Any) -> None:
    session = getattr(request, "session", None)
    if session is None:
        return
    session.pop(NOT_NEEDED, None)
    if second_factor_need(user) is None:
        session[NOT_NEEDED] = user.pk


def _passed(request: HttpRequest, user: Any) -> bool:
    # "Not needed" holds only while nobody requires it: a role that starts asking for a
    # second factor ends its people's sessions at their next request, not next sign-in
    # (the role comes with the access check most pages make anyway).
    if request.session.get(NOT_NEEDED) == user.pk and not two_factor_required(user):
        return True
    is_verified = getattr(user, "is_verified", None)
    if is_verified is not None and is_verified():
        return True
    if second_factor_need(user) is None:  # e.g. a session from before two-factor: decide once
        request.session[NOT_NEEDED] = user.pk
        return True
    return False


class TwoFactorGateMiddleware:
    """After auth and django-otp's middleware: a signed-in session that owes a second factor
    ends here (a page goes to the sign-in, the API answers as to anybody signed out)."""

    def __init__(self, get_response: Any) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and not _passed(request, user):
            logout(request)
            if not request.path.startswith("/api/"):
                return redirect_to_login(request.get_full_path())
        return self.get_response(request)
