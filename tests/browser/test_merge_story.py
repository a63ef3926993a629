"""mallory merges bob's copy of 杭州西湖茶业 into alice's in a real browser, with the
keyboard, then takes it back; the page fits a phone."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.test_first_customer import DESKTOP, PHONE, log_in, open_page
from tests.customers import test_merge

# The service tests' two copies of 杭州西湖茶业 (and what they need).
twins, fields, catalogue = test_merge.twins, test_merge.fields, test_merge.catalogue

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True),
              pytest.mark.usefixtures("builtin_roles")]


def test_a_manager_merges_two_copies_and_undoes_it(browser, live_server, artifacts, request):
    ours, theirs = request.getfixturevalue("twins")
    page = open_page(browser, live_server, DESKTOP)
    log_in(page, "mallory", "mallory-pass-123")
    page.goto(f"{live_server.url}/customers/{theirs.pk}/")  # bob's copy: 可能重复, alice's
    page.get_by_role("link", name="合并到…").click()
    expect(page.get_by_role("heading", name="合并客户")).to_be_visible()
    expect(page).to_have_url(f"{live_server.url}/customers/merge/?a={ours.pk}&b={theirs.pk}")
    level = page.get_by_role("group", name="等级")
    expect(level.get_by_role("radio", name="采用被合并的 B")).to_be_checked()  # the newer copy's
    level.get_by_role("radio", name="采用被合并的 B").focus()
    page.keyboard.press("ArrowLeft")  # radios of one field move with the arrow keys
    expect(level.get_by_role("radio", name="保留 A")).to_be_checked()
    short = page.get_by_role("group", name="简称")
    short.get_by_label("手动填写简称").fill("西湖茶")
    short.get_by_role("radio", name="手动填写").check()
    page.screenshot(path=artifacts / "merge-desktop.png", full_page=True)
    page.get_by_role("button", name="合并", exact=True).click()

    expect(page.get_by_role("heading", name="合并完成")).to_be_visible()
    page.screenshot(path=artifacts / "merge-done-desktop.png", full_page=True)
    page.get_by_role("link", name="打开 杭州西湖茶业有限公司").click()
    expect(page.locator("strong", has_text="李会计")).to_be_visible()  # bob's contact on the card
    expect(page.get_by_text("西湖茶 · 负责人")).to_be_visible()  # the short name typed by hand

    page.go_back()
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="撤销合并").click()
    expect(page.get_by_text("已撤销合并")).to_be_visible()
    expect(page.get_by_role("heading", name="杭州西湖茶业有限公司")).to_be_visible()
    page.screenshot(path=artifacts / "merge-undone-desktop.png", full_page=True)


def test_the_merge_page_fits_a_phone(browser, live_server, artifacts, request):
    ours, theirs = request.getfixturevalue("twins")
    page = open_page(browser, live_server, PHONE)
    log_in(page, "mallory", "mallory-pass-123")
    page.goto(f"{live_server.url}/customers/merge/?a={ours.pk}&b={theirs.pk}")
    expect(page.get_by_role("button", name="合并", exact=True)).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    page.screenshot(path=artifacts / "merge-phone.png", full_page=True)
