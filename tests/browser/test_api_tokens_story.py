"""A rep makes a read-only API token from her user menu in a real browser, copies the secret
shown once, and revokes it. Desktop and phone screenshots."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.test_pipeline_settings_story import DESKTOP, PHONE, log_in, shot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize(("name", "viewport"), [("desktop", DESKTOP), ("phone", PHONE)])
def test_a_rep_makes_a_read_only_token_and_revokes_it(browser, live_server, alice, artifacts,
                                                      name, viewport):
    page = browser.new_context(viewport=viewport, locale="zh-CN").new_page()
    log_in(page, live_server, "alice", "alice-pass-123")
    page.locator("summary[aria-label='用户菜单']").click()
    page.get_by_role("menuitem", name="我的 API 令牌").click()
    expect(page.get_by_role("heading", name="我的 API 令牌")).to_be_visible()
    page.get_by_label("名称").fill("周报脚本")
    page.get_by_label("只读").check()
    page.get_by_label("有效期").select_option("30")
    page.get_by_role("button", name="创建令牌").click()
    secret = page.locator("#token-secret")
    expect(secret).to_contain_text("kehu_")
    row = page.locator(".token-table tbody tr", has_text="周报脚本")
    expect(row).to_contain_text("只读")
    expect(row).to_contain_text("从未使用")
    shot(page, artifacts, f"api-tokens-{name}.png")
    row.get_by_role("button", name="吊销").click()
    expect(page.locator(".flash")).to_contain_text("已吊销令牌“周报脚本”")
    expect(page.locator("#token-secret")).to_have_count(0)  # never shown again
    expect(page.locator(".token-table tbody tr", has_text="周报脚本")).to_contain_text("已吊销")
