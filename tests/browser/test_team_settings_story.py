"""An admin runs the team in a real browser (设置 → 成员与权限): creates a rep in 华东区 under
Mallory, moves 上海组 under 华南区, and hands Alice's customers to the new rep while
deactivating Alice — whose open browser is signed out at once."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from kehu.accounts.models import Department, User
from kehu.accounts.services import department_path
from kehu.customers.models import Customer
from tests.browser.test_pipeline_settings_story import DESKTOP, log_in, shot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_an_admin_creates_a_rep_moves_a_team_and_hands_over(browser, live_server, root, alice,
                                                            mallory, south, make_customer,
                                                            artifacts: Path):
    shanghai = department_path("总部/华东区/上海组")
    for name in ("甲贸易有限公司", "乙科技有限公司", "丙食品有限公司"):
        make_customer(alice, name=name)
    leaving: Page = browser.new_context(viewport=DESKTOP, locale="zh-CN").new_page()
    log_in(leaving, live_server, "alice", "alice-pass-123")

    page = browser.new_context(viewport=DESKTOP, locale="zh-CN").new_page()
    page.on("dialog", lambda dialog: dialog.accept())
    log_in(page, live_server, "root", "root-pass-123")
    page.get_by_role("navigation", name="主导航").get_by_role("link", name="设置").click()
    page.get_by_role("navigation", name="设置").get_by_role("link", name="成员与权限").click()
    page.get_by_role("link", name="新建成员").click()
    page.get_by_label("登录用户名").fill("wang.fang")
    page.get_by_label("姓名").fill("王芳")
    page.get_by_label("部门").select_option(label="\u3000华东区")
    page.get_by_label("上级").select_option(label="Mallory 经理")
    page.get_by_label("角色").select_option(label="销售代表")
    page.get_by_role("button", name="创建").click()
    expect(page.get_by_role("heading", name="已创建 王芳")).to_be_visible()
    password = page.locator("#new-password").inner_text()
    assert len(password) >= 10
    shot(page, artifacts, "team-password-once-desktop.png")
    page.get_by_role("link", name="返回成员列表").click()
    expect(page.get_by_role("row", name="王芳")).to_contain_text("Mallory 经理")
    shot(page, artifacts, "team-users-desktop.png")

    page.get_by_role("navigation", name="成员与权限").get_by_role("link", name="部门").click()
    page.get_by_role("link", name="上海组").click()
    page.get_by_label("上级部门").select_option(label="\u3000华南区")
    page.get_by_role("button", name="保存").click()
    expect(page.get_by_text("已保存部门“上海组”")).to_be_visible()
    shot(page, artifacts, "team-departments-desktop.png")
    assert Department.objects.get(pk=shanghai.pk).path.startswith(south.path)

    page.get_by_role("navigation", name="成员与权限").get_by_role("link", name="离职交接").click()
    page.locator("#id_from_user").select_option(label="Alice 王")
    page.get_by_label("接收人").select_option(label="王芳")
    page.get_by_role("button", name="预览").click()
    expect(page.get_by_text("将转移 3 个客户")).to_be_visible()
    shot(page, artifacts, "team-handover-preview-desktop.png")
    page.get_by_role("button", name="转给 王芳并停用").click()
    expect(page.get_by_text("已把 Alice 王 的 3 个客户交接给 王芳，并已停用其账号")).to_be_visible()

    rep = User.objects.get(username="wang.fang")
    assert Customer.objects.filter(owner=rep).count() == 3
    assert not User.objects.get(pk=alice.pk).is_active
    leaving.goto(live_server.url + "/customers/")
    expect(leaving.get_by_role("button", name="登录")).to_be_visible()  # signed out
