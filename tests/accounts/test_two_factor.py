"""Two-factor sign-in, as people meet it: alice turns it on with her phone and from then on
signs in with a code; a wrong code is refused and counted with wrong passwords; a recovery
code works once; root, an admin, must enrol before reaching anything; turning it off takes
the password and a current code; a session signed in around the steps ends at once; API
tokens are untouched. Codes are computed here with django-otp's own TOTP, from the device's
key, the way a phone would."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django_otp.oath import TOTP
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from kehu.accounts import twofactor
from kehu.accounts.models import Role, SignIn
from kehu.accounts.org import role_save
from kehu.accounts.services import token_create
from kehu.core.models import ChangeLog

pytestmark = pytest.mark.django_db
ADDRESS = "198.51.100.7"


@pytest.fixture(autouse=True)
def two_factor_on(settings):
    settings.KEHU_TWO_FACTOR_ENFORCED = True


def phone_code(user) -> str:
    """What the authenticator shows for the person's newest device: the current step, or the
    next one when this step's code was already used (a code is accepted once)."""
    device = TOTPDevice.objects.filter(user=user).latest("pk")
    now_t = (int(time.time()) - device.t0) // device.step + device.drift
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits)
    totp.time = device.t0 + max(now_t, device.last_t + 1) * device.step
    return f"{totp.token():0{device.digits}d}"


def wrong(code: str) -> str:
    return f"{(int(code) + 1) % 1_000_000:06d}"


def enrolled(user) -> list[str]:
    """The person with a confirmed authenticator; returns the recovery codes."""
    twofactor.totp_pending(user=user)
    return twofactor.totp_confirm(actor=user, origin="manual", code=phone_code(user))[1]


def password_step(client: Client, user, password: str | None = None, next_url: str = ""):
    data = {"username": user.username, "password": password or f"{user.username}-pass-123"}
    if next_url:
        data["next"] = next_url
    return client.post(reverse("login"), data, REMOTE_ADDR=ADDRESS)


def code_step(client: Client, code: str):
    return client.post(reverse("login_verify"), {"code": code}, REMOTE_ADDR=ADDRESS)


def signed_in(client: Client) -> bool:
    return "_auth_user_id" in client.session


def shut_out(client: Client) -> bool:
    page = client.get(reverse("customers:list"))
    return (page.status_code == 302 and page["Location"].startswith(reverse("login"))
            and client.get("/api/v1/customers").status_code == 401)


def test_alice_turns_it_on_and_from_then_on_signing_in_needs_the_code(alice):
    client = Client()
    assert password_step(client, alice)["Location"] == reverse("customers:list")  # no device yet
    assert "未开启" in client.get(reverse("accounts:two_factor")).content.decode()

    page = client.get(reverse("accounts:two_factor_enrol")).content.decode()
    device = TOTPDevice.objects.get(user=alice)
    assert not device.confirmed
    qr = page[page.index('class="totp-qr"'):]
    assert qr.index("<svg") < qr.index("</div>") and "<img" not in page  # drawn here, no CDN
    assert twofactor.totp_secret(device) in page and "otpauth://" not in page

    refused = client.post(reverse("accounts:two_factor_enrol"), {"code": wrong(phone_code(alice))})
    assert refused.status_code == 400 and "验证码不对" in refused.content.decode()
    assert not TOTPDevice.objects.get(user=alice).confirmed

    done = client.post(reverse("accounts:two_factor_enrol"), {"code": phone_code(alice)})
    assert done.status_code == 200 and done.content.decode().count("<li><code>") == 10
    assert TOTPDevice.objects.get(user=alice).confirmed
    assert ChangeLog.objects.filter(action="two_factor_enable", actor=alice, origin="manual").count() == 1
    assert "还剩 10 个恢复码" in client.get(reverse("accounts:two_factor")).content.decode()

    client.post(reverse("logout"))
    step = password_step(client, alice, next_url="/jobs/")
    assert step.status_code == 302 and step["Location"] == reverse("login_verify")
    assert not signed_in(client) and shut_out(client)  # half signed in reaches nothing
    assert not SignIn.objects.filter(user=alice).exists()

    finished = code_step(client, phone_code(alice))
    assert finished.status_code == 302 and finished["Location"] == "/jobs/"
    assert signed_in(client) and client.get(reverse("customers:list")).status_code == 200
    assert SignIn.objects.filter(user=alice).count() == 1


def test_a_wrong_code_is_refused_and_counted_with_the_wrong_passwords(alice):
    enrolled(alice)
    client = Client()
    password_step(client, alice)
    for n in range(3):
        guess = wrong(phone_code(alice))
        refused = code_step(client, guess)
        assert refused.status_code == 400 and not signed_in(client), n
        assert guess not in "".join(AccessAttempt.objects.values_list("post_data", flat=True))
    # A right password does not clear the count: only a finished sign-in does.
    password_step(client, alice)
    assert code_step(client, wrong(phone_code(alice))).status_code == 400
    assert sum(AccessAttempt.objects.filter(username="alice")
               .values_list("failures_since_start", flat=True)) == 4
    locked = code_step(client, wrong(phone_code(alice)))
    assert locked.status_code == 429 and "暂时无法登录" in locked.content.decode()
    assert password_step(client, alice).status_code == 429  # the account stays locked
    assert code_step(client, phone_code(alice)).status_code == 302  # nobody waits: to /login/
    assert not signed_in(client)

    AccessAttempt.objects.update(attempt_time=timezone.now() - timedelta(minutes=16))
    assert password_step(client, alice)["Location"] == reverse("login_verify")
    assert code_step(client, phone_code(alice)).status_code == 302 and signed_in(client)
    assert not AccessAttempt.objects.filter(username="alice").exists()  # cleared on success


def test_a_recovery_code_works_once_and_new_ones_replace_the_old(alice):
    codes = enrolled(alice)
    client = Client()
    password_step(client, alice)
    assert code_step(client, f" {codes[0][:4].upper()}-{codes[0][4:]} ").status_code == 302
    assert signed_in(client)
    assert "还剩 9 个" in client.get(reverse("customers:list")).content.decode()

    again = Client()
    password_step(again, alice)
    assert code_step(again, codes[0]).status_code == 400 and not signed_in(again)

    fresh = client.post(reverse("accounts:two_factor_recovery")).content.decode()
    assert codes[1] not in fresh and fresh.count("<li><code>") == 10
    assert code_step(again, codes[1]).status_code == 400
    assert ChangeLog.objects.filter(action="recovery_codes_regenerate", origin="manual").count() == 1


def test_root_must_enrol_before_reaching_anything(root):
    client = Client()
    step = password_step(client, root, next_url="/settings/")
    assert step["Location"] == reverse("login_enrol")
    assert shut_out(client) and client.get(reverse("settings:index")).status_code == 302
    assert client.get(reverse("login_verify")).status_code == 302  # not the step he is at

    page = client.get(reverse("login_enrol")).content.decode()
    assert "<svg" in page and "您的账号要求两步验证" in page
    assert client.post(reverse("login_enrol"), {"code": "12"}).status_code == 400
    done = client.post(reverse("login_enrol"), {"code": phone_code(root)})
    assert done.status_code == 200 and done.content.decode().count("<li><code>") == 10
    assert 'href="/settings/"' in done.content.decode()
    assert signed_in(client) and client.get(reverse("settings:index")).status_code == 200

    client.post(reverse("logout"))
    assert password_step(client, root)["Location"] == reverse("login_verify")
    # An admin keeps two-factor: he may move it to a new phone, not turn it off.
    code_step(client, phone_code(root))
    refused = client.post(reverse("accounts:two_factor_disable"),
                          {"password": "root-pass-123", "code": phone_code(root)})
    assert refused.status_code == 400 and "不能关闭" in refused.content.decode()
    assert TOTPDevice.objects.filter(user=root, confirmed=True).exists()


def test_a_role_marked_requires_two_factor_sends_its_people_to_enrol(alice, bob, root, settings):
    Role.objects.filter(code="sales").update(requires_two_factor=True)
    assert password_step(Client(), alice)["Location"] == reverse("login_enrol")
    Role.objects.filter(code="sales").update(requires_two_factor=False)
    assert password_step(Client(), bob)["Location"] == reverse("customers:list")

    settings.KEHU_TWO_FACTOR_ENFORCED = False  # the role's box is on the admin's role form
    admin = Client()
    admin.force_login(root)
    role = Role.objects.get(code="sales")
    form = admin.get(reverse("admin:accounts_role_change", args=[role.pk])).content.decode()
    assert 'name="requires_two_factor"' in form and "要求两步验证" in form


def test_a_role_that_starts_requiring_it_ends_its_peoples_sessions_at_once(alice, root):
    client = Client()
    assert password_step(client, alice)["Location"] == reverse("customers:list")
    assert client.get(reverse("customers:list")).status_code == 200
    role_save(actor=root, origin="manual", role=Role.objects.get(code="sales"),
              data={"requires_two_factor": True})

    page = client.get(reverse("customers:list"))
    assert page.status_code == 302 and page["Location"].startswith(reverse("login"))
    assert password_step(Client(), alice)["Location"] == reverse("login_enrol")


def test_turning_it_off_takes_the_password_and_a_current_code(alice):
    codes = enrolled(alice)
    client = Client()
    password_step(client, alice)
    code_step(client, phone_code(alice))
    url = reverse("accounts:two_factor_disable")
    page = client.post(url, {"password": "not-her-password", "code": phone_code(alice)})
    assert page.status_code == 400 and "密码不对" in page.content.decode()
    page = client.post(url, {"password": "alice-pass-123", "code": wrong(phone_code(alice))})
    assert page.status_code == 400 and "验证码不对" in page.content.decode()
    assert TOTPDevice.objects.filter(user=alice).exists()
    assert AccessAttempt.objects.filter(username="alice").exists()  # guesses count here too

    assert client.post(url, {"password": "alice-pass-123", "code": codes[3]}).status_code == 302
    assert not TOTPDevice.objects.filter(user=alice).exists()
    assert not StaticDevice.objects.filter(user=alice).exists()
    assert ChangeLog.objects.filter(action="two_factor_disable", actor=alice, origin="manual").count() == 1
    client.post(reverse("logout"))
    assert password_step(client, alice)["Location"] == reverse("customers:list")


def test_a_session_signed_in_around_the_steps_ends_at_once(alice, root):
    enrolled(alice)
    around = Client()
    around.force_login(alice)  # as a sign-in path that skipped the code would
    assert shut_out(around) and not signed_in(around)

    admin = Client()
    admin.force_login(root)  # an admin with no device, from before two-factor was required
    assert admin.get(reverse("customers:list")).status_code == 302 and not signed_in(admin)

    half = Client()
    password_step(half, alice)
    session = half.session
    session["_kehu_2fa_pending"]["since"] -= twofactor.PENDING_SECONDS + 1
    session.save()
    assert code_step(half, phone_code(alice))["Location"] == reverse("login")  # start again


def test_api_tokens_are_their_own_factor(alice):
    enrolled(alice)
    _token, secret = token_create(user=alice, name="ERP")
    response = Client().get("/api/v1/customers", HTTP_AUTHORIZATION=f"Bearer {secret}")
    assert response.status_code == 200


def test_binding_an_authenticator_tells_the_person_by_a_channel_the_password_does_not_open(
        alice, django_capture_on_commit_callbacks):
    """Whoever holds a password can bind their own authenticator during a forced enrolment:
    the person hears of every binding (the bell, and e-mail when set up)."""
    from kehu.notifications.models import Notification

    with django_capture_on_commit_callbacks(execute=True):
        enrolled(alice)
    note = Notification.objects.get(recipient=alice)
    assert (note.title, note.level) == ("你的账号绑定了新的身份验证器", "warning")
    assert "修改密码" in note.body and note.link == reverse("accounts:two_factor")

    with django_capture_on_commit_callbacks(execute=True):
        enrolled(alice)
    assert Notification.objects.filter(recipient=alice, title="你的账号换绑了身份验证器").exists()
