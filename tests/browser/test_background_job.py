"""An admin loads demo data from the web: the job runs in a real worker process, its
progress bar moves while she watches, survives a reload, and the job ends up in My jobs."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.test_first_customer import DESKTOP, PHONE, log_in, open_page

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True),
              pytest.mark.usefixtures("builtin_roles")]


def test_an_admin_watches_the_demo_load_progress_live(browser, live_server, root, worker, artifacts):
    worker()
    page = open_page(browser, live_server, DESKTOP)
    log_in(page, "root", "root-pass-123")
    page.goto(live_server.url + "/jobs/")
    page.get_by_role("link", name="加载演示数据").click()
    page.get_by_label("客户数").fill("0")
    page.get_by_role("button", name="开始生成").click()
    expect(page.locator("#err-customers")).to_contain_text("1 到 200,000")  # refused, kept on the form

    page.get_by_label("客户数").fill("2000")
    page.get_by_role("button", name="开始生成").click()
    expect(page.get_by_role("heading", name="加载演示数据")).to_be_visible()
    percent = page.get_by_test_id("job-percent")
    seen: set[str] = set()
    for _poll in range(600):  # the bar is polled every second; look ten times as often
        text = percent.inner_text()
        seen.add(text)
        if text == "100%" or page.get_by_test_id("job-state").inner_text() == "已完成":
            break
        if re.fullmatch(r"([1-9]|[1-9]\d)%", text) and len(seen) == 3:
            page.screenshot(path=artifacts / "job-progress-desktop.png", full_page=True)
            page.reload()  # the bar survives a reload: the state is the job's row, not the page
            expect(percent).to_have_text(re.compile(r"\d+%"))
        page.wait_for_timeout(100)
    in_between = {t for t in seen if re.fullmatch(r"([1-9]|[1-9]\d)%", t)}
    from kehu.jobs.models import Job

    errors = list(Job.objects.values_list("status", "error"))
    assert in_between, f"the bar never showed a value between 0 and 100: {seen}; {errors}"
    expect(page.get_by_test_id("job-state")).to_have_text("已完成", timeout=60_000)
    expect(percent).to_have_text("100%")
    page.screenshot(path=artifacts / "job-done-desktop.png", full_page=True)

    page.goto(live_server.url + "/jobs/")
    row = page.get_by_role("row").filter(has_text="加载演示数据")
    expect(row).to_contain_text("已完成")
    phone = open_page(browser, live_server, PHONE)
    log_in(phone, "root", "root-pass-123")
    phone.goto(live_server.url + "/jobs/")
    phone.screenshot(path=artifacts / "jobs-phone.png", full_page=True)
