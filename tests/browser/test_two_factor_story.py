"""root, an admin, signs in for the first time in a real browser: after the password he must
bind an authenticator. The test reads the key under the QR code as a phone would read the
code, computes the codes with django-otp's own TOTP, keeps the recovery codes, signs out, and
cannot get in again without a code; a wrong one is refused, the right one lets him in. No
Content-Security-Policy violation on the way."""

from __future__ import annotations

import base64
import time

import pytest
from django_otp.oath import TOTP
from playwright.sync_api import expect

from tests.browser.test_pipeline_settings_story import DESKTOP, shot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def admins_need_two_factor(settings, builtin_roles):
    settings.KEHU_TWO_FACTOR_ENFORCED = True


def code(key: str, *, steps_later: int = 0) -> str:
    totp = TOTP(base64.b32decode(key + "=" * (-len(key) % 8)))
    totp.time = time.time() + 30 * steps_later
    return f"{totp.token():06d}"


def test_an_admin_binds_an_authenticator_and_then_cannot_sign_in_without_a_code(
        browser, live_server, root, artifacts):
    page = browser.new_context(viewport=DESKTOP, locale="zh-CN").new_page()
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text)
            if "Content Security Policy" in m.text else None)

    def password(who: str = "root") -> None:
        page.goto(live_server.url + "/login/")
        page.get_by_label("用户名").fill(who)
        page.get_by_label("密码").fill("root-pass-123")
        page.get_by_role("button", name="登录").click()

    password()
    expect(page.get_by_role("heading", name="绑定身份验证器")).to_be_visible()
    expect(page.locator(".totp-qr svg")).to_be_visible()
    shot(page, artifacts, "two-factor-enrol.png")
    key = page.locator("#totp-secret").inner_text().replace(" ", "")
    page.get_by_label("验证码").fill(code(key))
    page.get_by_role("button", name="完成绑定").click()
    expect(page.get_by_role("heading", name="两步验证已开启")).to_be_visible()
    expect(page.locator("#recovery-codes li")).to_have_count(10)
    shot(page, artifacts, "two-factor-recovery-codes.png")
    page.get_by_role("link", name="我已保存，继续").click()
    expect(page.get_by_role("heading", name="客户", exact=True)).to_be_visible()

    page.locator("summary[aria-label='用户菜单']").click()
    page.get_by_role("menuitem", name="退出登录").click()
    password()
    expect(page.get_by_role("heading", name="两步验证", exact=True)).to_be_visible()
    page.goto(live_server.url + "/customers/")  # the password alone reaches nothing
    expect(page.get_by_role("heading", name="登录客户 Kehu")).to_be_visible()

    password()
    page.get_by_label("验证码").fill(f"{(int(code(key, steps_later=1)) + 1) % 1_000_000:06d}")
    page.get_by_role("button", name="验证并登录").click()
    expect(page.locator("#code-errors")).to_contain_text("验证码不对")
    page.get_by_label("验证码").fill(code(key, steps_later=1))  # the next step: one not yet used
    page.get_by_role("button", name="验证并登录").click()
    expect(page.get_by_role("heading", name="客户", exact=True)).to_be_visible()
    shot(page, artifacts, "two-factor-signed-in.png")
    assert problems == []
