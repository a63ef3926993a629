"""A manager opens a customer's card and searches; the admin opens 设置 → 审计日志, filters by
the manager and sees both, with the address. A rep finds no way in. Desktop screenshot."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.test_pipeline_settings_story import DESKTOP, log_in, shot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_admin_reads_what_the_manager_did(browser, builtin_roles, live_server, alice,
                                              mallory, root, make_customer, artifacts):
    customer = make_customer(alice, name="杭州西湖茶业有限公司", phones=["13812345678"])
    manager = browser.new_context(viewport=DESKTOP, locale="zh-CN").new_page()
    log_in(manager, live_server, "mallory", "mallory-pass-123")
    manager.goto(f"{live_server.url}/customers/{customer.pk}/")
    expect(manager.get_by_role("heading", name="杭州西湖茶业有限公司")).to_be_visible()
    manager.goto(f"{live_server.url}/customers/?q=13812345678")
    expect(manager.locator("body")).to_contain_text("杭州西湖茶业有限公司")

    admin = browser.new_context(viewport=DESKTOP, locale="zh-CN").new_page()
    log_in(admin, live_server, "root", "root-pass-123")
    admin.goto(f"{live_server.url}/settings/")
    admin.get_by_role("link", name="审计日志").first.click()
    expect(admin.get_by_role("heading", name="审计日志")).to_be_visible()
    admin.get_by_label("用户", exact=True).select_option("mallory")
    admin.get_by_role("button", name="筛选").click()
    rows = admin.locator("table.grid").first.locator("tbody tr")
    expect(rows.filter(has_text="查看客户")).to_contain_text("杭州西湖茶业有限公司")
    expect(rows.filter(has_text="搜索")).to_contain_text("138****5678")
    expect(rows.filter(has_text="登录").first).to_contain_text("127.0.0.1")
    assert "13812345678" not in admin.content()
    shot(admin, artifacts, "audit-log-desktop.png")

    rep = browser.new_context(viewport=DESKTOP, locale="zh-CN").new_page()
    log_in(rep, live_server, "alice", "alice-pass-123")
    expect(rep.get_by_role("link", name="审计日志")).to_have_count(0)
    assert rep.goto(f"{live_server.url}/audit/").status == 403
