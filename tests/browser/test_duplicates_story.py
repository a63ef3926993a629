"""A rep types in a company Kehu has already: the form says so as she types, asks before a
create that shares a phone; the next morning the 查重 page lists the pair to merge."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.test_first_customer import DESKTOP, PHONE, log_in, open_page

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True),
              pytest.mark.usefixtures("builtin_roles")]


def test_a_rep_is_warned_while_typing_and_finds_the_pair_on_the_duplicates_page(
        browser, live_server, alice, root, make_customer, artifacts):
    from kehu.customers.jobs import DEDUP_JOB
    from kehu.customers.models import Customer
    from kehu.jobs.services import job_start, run_here

    make_customer(alice, name="杭州西湖茶业有限公司", phones=["13812345678"])
    page = open_page(browser, live_server, DESKTOP)
    log_in(page, "alice", "alice-pass-123")
    page.goto(live_server.url + "/customers/new/")
    page.get_by_label("客户名称").fill("西湖茶业（杭州）有限责任公司")
    page.get_by_label("客户名称").blur()
    hints = page.get_by_test_id("duplicate-hints")
    expect(hints).to_contain_text("杭州西湖茶业有限公司")
    expect(hints).to_contain_text("名称相同")
    page.get_by_label("电话").fill("138-1234-5678")
    page.get_by_role("button", name="创建客户").click()
    expect(page.get_by_test_id("confirm-duplicate")).to_be_visible()
    assert Customer.objects.count() == 1  # asked, not created
    page.screenshot(path=artifacts / "duplicate-ask-desktop.png", full_page=True)
    page.get_by_test_id("confirm-duplicate").check()
    page.get_by_role("button", name="创建客户").click()
    expect(page.get_by_role("heading", name="西湖茶业（杭州）有限责任公司")).to_be_visible()
    assert Customer.objects.count() == 2

    assert run_here(job_start(actor=root, origin="manual", kind=DEDUP_JOB,
                              queued=False)).status == "done"
    page.get_by_role("link", name="查重").click()
    pairs = page.get_by_test_id("duplicate-pairs")
    expect(pairs).to_contain_text("西湖茶业（杭州）有限责任公司")
    expect(pairs).to_contain_text("电话相同")
    page.screenshot(path=artifacts / "duplicates-desktop.png", full_page=True)
    phone = open_page(browser, live_server, PHONE)
    log_in(phone, "alice", "alice-pass-123")
    phone.goto(live_server.url + "/customers/duplicates/")
    phone.screenshot(path=artifacts / "duplicates-phone.png", full_page=True)
    page.get_by_role("link", name="合并…").click()
    expect(page).to_have_url(re.compile(r"/customers/merge/\?a=\d+&b=\d+"))
