"""An admin shapes classification in a real browser: 设置 → 客户分类 → 价值等级, adds a value
"战略客户" and moves it up with the keyboard alone, then writes the rule "近一年消费超 50 万 → VIP"
in the filter builder, previews it (the customers it would change, named) and saves it. The
same pages on a phone: the settings menu stacked above, each row a small card."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal

import pytest
from django.utils import timezone
from playwright.sync_api import Page, Route, expect

from tests.browser.test_pipeline_settings_story import DESKTOP, PHONE, log_in, shot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def big_spenders(alice, make_customer) -> list[str]:
    """Three of alice's customers, two over ¥500,000 in the last year; the figures computed."""
    from kehu.accounts.services import system_actor
    from kehu.history.models import Order
    from kehu.jobs.services import run_in_foreground

    names = ["华东重工集团", "宁波港务物流", "小茶铺"]
    for number, (name, total) in enumerate(zip(names, (800_000, 650_000, 20_000), strict=True)):
        customer = make_customer(alice, name=name)
        Order.objects.create(customer=customer, number=f"B{number}", status="paid",
                             ordered_on=timezone.localdate() - dt.timedelta(days=20),
                             total=Decimal(total))
    job = run_in_foreground(actor=system_actor(), origin="system", kind="classification.run",
                            params={})
    assert job.status == "done", job.error
    return names


PREVIEW = "**/dimensions/rules/preview/"


def preview_held(page: Page) -> Callable[[], None]:
    """Click 预览 with its request held in the browser; returns what lets it go on. Over a
    million customers a preview takes seconds: meanwhile the page must say it is working."""
    held: list[Route] = []
    page.route(PREVIEW, lambda route: held.append(route))
    page.get_by_role("button", name="预览").click()

    def release() -> None:
        for _wait in range(100):
            if held:
                break
            page.wait_for_timeout(50)
        held[0].continue_()
        page.unroute(PREVIEW)

    return release


def values_in_order(page: Page) -> list[str]:
    return page.locator(".value-table tbody .stage-name input[type=text]") \
        .evaluate_all("els => els.map(e => e.value)")


def test_an_admin_adds_a_value_and_writes_a_rule_with_a_preview(browser, live_server, root,
                                                                big_spenders, artifacts):
    page = browser.new_context(viewport=DESKTOP, locale="zh-CN").new_page()
    log_in(page, live_server, "root", "root-pass-123")
    page.get_by_role("navigation", name="主导航").get_by_role("link", name="设置").click()
    page.get_by_role("navigation", name="设置").get_by_role("link", name="客户分类").click()
    expect(page.get_by_role("heading", name="客户分类", exact=True)).to_be_visible()
    shot(page, artifacts, "classification-dimensions-desktop.png")
    page.get_by_role("link", name="价值等级", exact=True).click()

    page.get_by_label("新值的名称").fill("战略客户")
    page.get_by_label("新值的英文名称").fill("Strategic")
    page.get_by_label("新值的英文名称").press("Enter")
    expect(page.get_by_text("已添加值 战略客户")).to_be_visible()
    # Keyboard only: the up button keeps the focus after each move.
    page.get_by_role("button", name="上移 战略客户").focus()
    for _step in range(3):
        page.keyboard.press("Enter")
        expect(page.get_by_role("button", name="上移 战略客户")).to_be_focused()
    assert values_in_order(page) == ["VIP", "战略客户", "A 类", "B 类", "C 类"]
    shot(page, artifacts, "classification-dimension-desktop.png")

    page.get_by_role("link", name="+ 新建规则").click()
    page.get_by_label("规则名称").fill("近一年消费超 50 万")
    page.get_by_label("设为").select_option(label="VIP")
    page.get_by_label("优先级").fill("5")
    page.get_by_role("button", name="+ 添加条件").click()
    row = page.locator("[data-rows] > li").first
    row.locator("[data-field]").select_option(label="窗口内消费金额（M）")
    row.locator("[data-op]").select_option(label=">")
    row.locator("[data-input]").fill("500000")
    release = preview_held(page)  # while it runs, a bar says so and the button waits
    busy = page.locator("#rule-preview-busy")
    expect(busy).to_have_css("opacity", "1")
    expect(page.get_by_role("button", name="预览")).to_be_disabled()
    shot(page, artifacts, "classification-rule-preview-busy-desktop.png")
    release()
    preview = page.locator("#rule-preview")
    expect(preview).to_contain_text("保存后将改变 2 位客户的值")
    expect(busy).to_have_css("opacity", "0")
    expect(page.get_by_role("button", name="预览")).to_be_enabled()
    expect(preview.get_by_role("link", name="华东重工集团")).to_be_visible()
    expect(preview).not_to_contain_text("小茶铺")
    shot(page, artifacts, "classification-rule-preview-desktop.png")

    page.get_by_role("button", name="保存规则").click()
    expect(page.get_by_text("已保存规则 近一年消费超 50 万")).to_be_visible()
    expect(page.locator(".rule-table tbody tr").first).to_contain_text("窗口内消费金额（M） > 500000")

    phone = browser.new_context(viewport=PHONE, locale="zh-CN", is_mobile=True, has_touch=True)
    small = phone.new_page()
    log_in(small, live_server, "root", "root-pass-123")
    small.goto(page.url.split("?")[0].split("#")[0])
    expect(small.get_by_role("button", name="下移 战略客户")).to_be_visible()
    menu = small.get_by_role("navigation", name="设置").bounding_box()
    table = small.locator(".value-table").bounding_box()
    assert menu["y"] + menu["height"] <= table["y"]  # the menu sits above, not beside
    assert small.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    shot(small, artifacts, "classification-dimension-phone.png")
    small.locator(".rule-table tbody tr").first.get_by_role("link", name="编辑").click()
    release = preview_held(small)
    expect(small.locator("#rule-preview-busy")).to_be_visible()
    assert small.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    shot(small, artifacts, "classification-rule-preview-busy-phone.png")
    release()
    expect(small.locator("#rule-preview")).to_contain_text("位不变")
    expect(small.locator("#rule-preview-busy")).to_be_hidden()
    assert small.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    shot(small, artifacts, "classification-rule-phone.png")
