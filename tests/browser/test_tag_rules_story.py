"""An admin writes tag rules in a real browser: 设置 → 客户分类 → 标签规则, a new rule
"沉睡客户：唤醒跟进" (the tag typed, the condition built in the list's builder), previewed (the
sleepers it would tag, named) and saved; a second rule for the same tag, started from the
tag's own list, moved above the first with the keyboard alone. The same pages on a phone:
the settings menu stacked above, each rule a small card, nothing wider than the screen."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from tests.browser.test_pipeline_settings_story import DESKTOP, PHONE, log_in, shot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
TAG = re.compile(r"^标签")  # its label also says 必填


@pytest.fixture
def sleepers(alice, make_customer) -> list[str]:
    """Two of alice's customers asleep (last bought 200 and 300 days ago), one buying."""
    from kehu.accounts.services import system_actor
    from kehu.history.models import Order
    from kehu.jobs.services import run_in_foreground

    names = ["沉睡的茶庄", "沉睡的纸厂", "常来的面馆"]
    for number, (name, days) in enumerate(zip(names, (200, 300, 10), strict=True)):
        customer = make_customer(alice, name=name)
        Order.objects.create(customer=customer, number=f"W{number}", status="paid",
                             ordered_on=timezone.localdate() - dt.timedelta(days=days),
                             total=Decimal(5_000))
    job = run_in_foreground(actor=system_actor(), origin="system", kind="classification.run",
                            params={})
    assert job.status == "done", job.error
    return names


def rule_names(page: Page) -> list[str]:
    return page.locator(".tag-rule-table tbody .rule-name a").all_inner_texts()


def test_an_admin_writes_tag_rules_previews_and_orders_them(browser, live_server, root,
                                                          sleepers, artifacts):
    page = browser.new_context(viewport=DESKTOP, locale="zh-CN").new_page()
    log_in(page, live_server, "root", "root-pass-123")
    page.get_by_role("navigation", name="主导航").get_by_role("link", name="设置").click()
    page.get_by_role("navigation", name="设置").get_by_role("link", name="客户分类").click()
    page.get_by_role("link", name="标签规则", exact=True).click()
    expect(page.get_by_role("heading", name="标签规则", exact=True)).to_be_visible()
    expect(page.get_by_text("还没有标签规则")).to_be_visible()

    page.get_by_role("link", name="+ 新建标签规则").click()
    page.get_by_label("规则名称").fill("沉睡客户：唤醒跟进")
    page.get_by_label(TAG).fill("唤醒跟进")
    expect(page.get_by_label("动作")).to_have_value("add")
    page.get_by_role("button", name="+ 添加条件").click()
    row = page.locator("[data-rows] > li").first
    row.locator("[data-field]").select_option(label="生命周期")
    row.locator("[data-op]").select_option(label="属于")
    row.get_by_label("沉睡客户", exact=True).check()
    page.get_by_role("button", name="预览").click()
    preview = page.locator("#rule-preview")
    expect(preview).to_contain_text("保存后将改变 2 位客户的标签")
    expect(preview.get_by_role("link", name="沉睡的茶庄")).to_be_visible()
    expect(preview).not_to_contain_text("常来的面馆")
    shot(page, artifacts, "tag-rule-preview-desktop.png")

    page.get_by_role("button", name="保存规则").click()
    expect(page.get_by_text("已保存规则 沉睡客户：唤醒跟进")).to_be_visible()
    first = page.locator(".tag-rule-table tbody tr").first
    expect(first).to_contain_text("添加唤醒跟进")
    expect(first).to_contain_text("生命周期 属于 沉睡客户")

    # A second rule for the same tag, from the tag's own list: the tag is filled in.
    page.get_by_role("link", name="+ 新建规则").click()
    expect(page.get_by_label(TAG)).to_have_value("唤醒跟进")
    page.get_by_label("规则名称").fill("近 30 天有购买：不必唤醒")
    page.get_by_label("动作").select_option(label="移除标签")
    page.get_by_role("button", name="+ 添加条件").click()
    row = page.locator("[data-rows] > li").first
    row.locator("[data-field]").select_option(label="最近一次购买日期")
    row.locator("[data-op]").select_option(label="最近几天内")
    row.locator("[data-input]").fill("30")
    page.get_by_role("button", name="保存规则").click()
    expect(page.get_by_text("已保存规则 近 30 天有购买：不必唤醒")).to_be_visible()
    assert rule_names(page) == ["沉睡客户：唤醒跟进", "近 30 天有购买：不必唤醒"]

    # Keyboard only: up once; at the top the down button takes the focus.
    page.get_by_role("button", name="上移 近 30 天有购买：不必唤醒").focus()
    page.keyboard.press("Enter")
    expect(page.get_by_role("button", name="下移 近 30 天有购买：不必唤醒")).to_be_focused()
    assert rule_names(page) == ["近 30 天有购买：不必唤醒", "沉睡客户：唤醒跟进"]
    shot(page, artifacts, "tag-rules-desktop.png")

    phone = browser.new_context(viewport=PHONE, locale="zh-CN", is_mobile=True, has_touch=True)
    small = phone.new_page()
    log_in(small, live_server, "root", "root-pass-123")
    small.goto(page.url.split("?")[0].split("#")[0])
    expect(small.get_by_role("button", name="下移 近 30 天有购买：不必唤醒")).to_be_visible()
    menu = small.get_by_role("navigation", name="设置").bounding_box()
    table = small.locator(".tag-rule-table").bounding_box()
    assert menu["y"] + menu["height"] <= table["y"]  # the menu sits above, not beside
    assert small.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    shot(small, artifacts, "tag-rules-phone.png")
    small.locator(".tag-rule-table tbody tr").nth(1).get_by_role("link", name="编辑").click()
    small.get_by_role("button", name="预览").click()
    expect(small.locator("#rule-preview")).to_contain_text("保存后将改变 2 位客户的标签")
    assert small.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    shot(small, artifacts, "tag-rule-phone.png")
