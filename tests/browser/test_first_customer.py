"""A sales rep's first customer, in a real browser: log in, make a typo in the phone,
see it flagged next to the field, fix it, save, and find the customer by pinyin initials."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from kehu.customers import services

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True),
              pytest.mark.usefixtures("builtin_roles")]

DESKTOP = {"width": 1280, "height": 860}
PHONE = {"width": 390, "height": 844}


@pytest.fixture
def some_customers(alice, make_customer):
    """A few customers so the list looks like a working day, not an empty table."""
    rows = [
        ("上海示例贸易有限公司", "retail", "上海市", ["13900001111"], "重点客户"),
        ("北京字节跳动科技有限公司", "software", "北京市", ["010-12345678"], "渠道商"),
        ("广州白云医疗器械有限公司", "healthcare", "广东省", ["020-87654321"], ""),
    ]
    for name, industry, province, phones, tags in rows:
        customer = make_customer(alice, name=name, industry=industry, province=province,
                                 phones=phones, tags=tags)
        services.contact_create(actor=alice, origin="manual", customer=customer,
                                data={"name": "陈经理", "title": "采购经理", "phones": ["13700002222"]})


def open_page(browser, live_server, size) -> Page:
    context = browser.new_context(viewport=size, locale="zh-CN")
    page = context.new_page()
    page.goto(live_server.url + "/")
    return page


def log_in(page: Page, username: str, password: str) -> None:
    expect(page.get_by_role("heading", name="登录客户 Kehu")).to_be_visible()
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(password)
    page.get_by_role("button", name="登录").click()
    expect(page.get_by_role("heading", name="客户", exact=True)).to_be_visible()


def test_a_rep_creates_her_first_customer_and_finds_it_again(
    browser, live_server, alice, some_customers, artifacts
):
    page = open_page(browser, live_server, DESKTOP)
    log_in(page, "alice", "alice-pass-123")
    page.screenshot(path=artifacts / "list-desktop.png", full_page=True)

    page.keyboard.press("n")  # the shortcut for a new customer
    expect(page.get_by_role("heading", name="新建客户")).to_be_visible()
    page.get_by_label("客户名称").fill("宁波海曙文具有限公司")
    phones = page.get_by_label("电话")
    phones.fill("138 1234")
    phones.blur()  # checked on blur, before saving
    error = page.locator("#err-phones")
    expect(error).to_contain_text("不是有效的电话号码")
    page.screenshot(path=artifacts / "form-inline-error-desktop.png", full_page=True)

    page.get_by_role("button", name="创建客户").click()  # the server says the same, inline
    expect(page.locator("#err-phones")).to_contain_text("不是有效的电话号码")
    expect(page.get_by_label("客户名称")).to_have_value("宁波海曙文具有限公司")

    page.get_by_label("电话").fill("138 1234 5678")
    page.get_by_label("电话").blur()
    expect(page.locator("#err-phones")).to_be_empty()
    page.get_by_role("button", name="创建客户").click()

    expect(page.get_by_role("heading", name="宁波海曙文具有限公司")).to_be_visible()
    expect(page.get_by_text("138 1234 5678")).to_be_visible()
    page.screenshot(path=artifacts / "card-desktop.png", full_page=True)

    # Every page's header has the search box: "/" focuses it, Enter lists what it finds.
    page.keyboard.press("/")
    expect(page.locator("#global-q")).to_be_focused()
    page.keyboard.type("海曙")
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"/customers/\?q="))
    expect(page.locator("#customer-table mark")).to_have_text("海曙")

    page.get_by_role("navigation", name="主导航").get_by_role("link", name="客户").click()
    table = page.locator("#customer-table")
    expect(table.get_by_role("link", name="上海示例贸易有限公司")).to_be_visible()
    page.keyboard.press("/")
    expect(page.get_by_label("快速搜索")).to_be_focused()
    page.keyboard.type("nbhs")  # pinyin initials of 宁波海曙
    # The search lands in the address (so it can be shared or reloaded) with the new rows.
    expect(page).to_have_url(re.compile(r"q=nbhs"))
    expect(table.get_by_role("link", name="上海示例贸易有限公司")).to_have_count(0)
    expect(table.get_by_role("link", name="宁波海曙文具有限公司")).to_be_visible()
    page.screenshot(path=artifacts / "search-desktop.png", full_page=True)


def test_the_pages_fit_on_a_phone(browser, live_server, alice, some_customers, artifacts):
    page = open_page(browser, live_server, PHONE)
    log_in(page, "alice", "alice-pass-123")
    page.screenshot(path=artifacts / "list-phone.png", full_page=True)
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]

    page.locator("#customer-table").get_by_role("link", name="上海示例贸易有限公司").click()
    expect(page.get_by_role("heading", name="联系人")).to_be_visible()
    page.screenshot(path=artifacts / "card-phone.png", full_page=True)
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]

    page.keyboard.press("e")  # the card's shortcut for editing
    expect(page.get_by_role("heading", name="编辑客户")).to_be_visible()
    page.screenshot(path=artifacts / "form-phone.png", full_page=True)
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
