"""An admin answers a person's erasure request in a real browser (设置 → 个人信息权利请求):
logs it, finds her by the phone she gave, ticks her record, erases her after confirming,
watches the job finish and closes the request — on a desktop, and reads it on a phone."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import expect

from kehu.customers.models import Customer
from kehu.jobs.models import Job
from kehu.jobs.services import run_here
from tests.browser.test_pipeline_settings_story import DESKTOP, PHONE, log_in, shot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_an_admin_erases_a_person_on_request(browser, live_server, root, alice, make_customer,
                                             artifacts: Path):
    person = make_customer(alice, name="闫晓梅", kind="person", phones=["13912345678"],
                           emails=["xiaomei.yan@example.cn"])
    make_customer(alice, name="杭州西湖茶业有限公司", phones=["13700001111"])
    page = browser.new_context(viewport=DESKTOP, locale="zh-CN").new_page()
    page.on("dialog", lambda dialog: dialog.accept())
    log_in(page, live_server, "root", "root-pass-123")
    page.get_by_role("navigation", name="主导航").get_by_role("link", name="设置").click()
    page.get_by_role("navigation", name="设置").get_by_role("link",
                                                          name="个人信息权利请求").click()
    page.get_by_role("link", name="登记请求").click()
    page.get_by_label("请求类型").select_option(label="删除")
    page.locator("#request_requester").fill("闫晓梅")
    page.get_by_label("身份核验").fill("回拨预留手机号，核对身份证后四位")
    shot(page, artifacts, "subject-request-new-desktop.png")
    page.get_by_role("button", name="登记").click()
    expect(page.get_by_text("已登记请求")).to_be_visible()

    page.get_by_label("手机 / 电话").fill("139 1234 5678")
    page.get_by_role("button", name="查找").click()
    matches = page.locator("#matches tbody tr")
    expect(matches).to_have_count(1)
    expect(matches).to_contain_text("电话")
    assert "13912345678" not in page.url  # posted, not in the address
    matches.get_by_role("checkbox").check()
    shot(page, artifacts, "subject-request-find-desktop.png")
    page.get_by_role("button", name="确认勾选的是本人").click()
    expect(page.get_by_text("已确认本人的记录")).to_be_visible()
    expect(page.get_by_role("link", name="导出副本 Excel")).to_be_visible()

    page.get_by_label("删除原因").fill("本人书面要求删除")
    page.get_by_role("button", name="匿名化删除").click()
    expect(page.get_by_role("heading", name="删除个人信息")).to_be_visible()  # the job's page
    run_here(Job.objects.get(kind="privacy.erase"))  # the worker's part (tests/jobs run one)
    assert Customer.objects.get(pk=person.pk).name == f"已删除客户 #{person.pk}"

    page.go_back()
    page.reload()
    expect(page.get_by_role("link", name=f"已删除客户 #{person.pk}")).to_be_visible()
    page.get_by_label("处理结果").fill("已匿名化，电话告知本人")
    page.get_by_role("button", name="结束").click()
    expect(page.get_by_text("请求已结束")).to_be_visible()
    shot(page, artifacts, "subject-request-done-desktop.png")

    phone = browser.new_context(viewport=PHONE, locale="zh-CN", is_mobile=True, has_touch=True)
    small = phone.new_page()
    log_in(small, live_server, "root", "root-pass-123")
    small.goto(page.url)
    expect(small.get_by_role("heading", name="删除 #")).to_be_visible()
    shot(small, artifacts, "subject-request-done-phone.png")
