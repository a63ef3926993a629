"""A rep scans her list in a real browser: each customer's tier, stage and type show as
coloured chips in the 分类 column, and the RFM column, hidden at first, appears when she
ticks it in 显示列. Desktop and phone screenshots."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from tests.browser.test_pipeline_settings_story import DESKTOP, PHONE, log_in, shot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def classified(alice, make_customer) -> None:
    from kehu.accounts.services import system_actor
    from kehu.history.models import Order
    from kehu.jobs.services import run_in_foreground

    for number, (name, total, days) in enumerate((("华东重工集团", 800_000, 20),
                                                  ("宁波港务物流", 90_000, 200),
                                                  ("小茶铺", 2_000, 400))):
        customer = make_customer(alice, name=name)
        Order.objects.create(customer=customer, number=f"L{number}", status="paid",
                             ordered_on=timezone.localdate() - dt.timedelta(days=days),
                             total=Decimal(total))
    job = run_in_foreground(actor=system_actor(), origin="system", kind="classification.run",
                            params={})
    assert job.status == "done", job.error


def test_a_rep_sees_classes_in_her_list_and_shows_rfm(browser, live_server, alice, classified,
                                                      artifacts):
    for name, viewport in (("desktop", DESKTOP), ("phone", PHONE)):
        page = browser.new_context(viewport=viewport, locale="zh-CN").new_page()
        log_in(page, live_server, "alice", "alice-pass-123")
        page.goto(f"{live_server.url}/customers/")
        row = page.get_by_role("row").filter(has_text="华东重工集团")
        expect(row.locator(".col-classes .value-chip", has_text="A 类")).to_be_visible()
        expect(row.locator(".col-classes .value-chip", has_text="活跃老客户").or_(
            row.locator(".col-classes .value-chip", has_text="新客户"))).to_be_visible()
        expect(page.locator("th.col-rfm")).to_be_hidden()
        page.get_by_text("显示列").click()
        page.locator("input[data-col=rfm]").check()
        expect(row.locator(".col-rfm")).to_contain_text("R")
        lost = page.get_by_role("row").filter(has_text="小茶铺")
        expect(lost.locator(".col-classes .value-chip", has_text="流失客户")).to_be_visible()
        shot(page, artifacts, f"list-classes-{name}.png")
