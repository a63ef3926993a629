"""A rep's morning with one customer, in a real browser: open the card, read the history and
its figures, log a call with a next follow-up date, then push the deal one stage on the kanban."""

from __future__ import annotations

import datetime as dt
import importlib

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from kehu.customers import services as customer_services
from kehu.history import services
from kehu.history.models import Communication, Opportunity

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}


@pytest.fixture(autouse=True)
def default_pipeline(builtin_roles, transactional_db) -> None:
    """Put back the roles and the pipeline data migrations made: a flush wipes them.

    Autouse, so it runs before the people fixtures need their roles."""
    from django.apps import apps

    migration = importlib.import_module("kehu.history.migrations.0002_default_pipeline")
    migration.create_default_pipeline(apps, None)


@pytest.fixture
def tea_house(alice, root, make_customer):
    """A customer with a year of history, written through the services like the app does."""
    customer = make_customer(alice, name="杭州西湖茶业有限公司", phones=["13812345678"])
    customer_services.contact_create(actor=alice, origin="manual", customer=customer, data={
        "name": "陈经理", "title": "采购经理", "phones": ["13900001111"], "is_primary": True})
    product = services.product_save(actor=root, origin="manual", data={
        "sku": "TEA-LJ-250", "name": "明前龙井 250g", "category": "茶叶", "unit_price": "398.00"})
    today = timezone.localdate()
    for days_ago, quantity in ((300, 10), (180, 5), (60, 5)):
        services.order_create(actor=alice, origin="manual", customer=customer, data={
            "ordered_on": today - dt.timedelta(days=days_ago),
            "lines": [{"product": product.pk, "quantity": quantity}]})
    services.communication_log(actor=alice, origin="manual", customer=customer, data={
        "channel": "visit", "subject": "上门品茶", "occurred_at": timezone.now() - dt.timedelta(days=12),
        "outcome": "对新茶有兴趣"})
    services.survey_record(actor=alice, origin="manual", customer=customer, data={"kind": "csat", "score": 4})
    services.ticket_create(actor=alice, origin="manual", customer=customer, data={
        "kind": "complaint", "subject": "上批货包装破损"})
    services.opportunity_create(actor=alice, origin="manual", customer=customer, data={
        "title": "秋季礼盒续订", "amount": "20000"})
    return customer


def log_in(page: Page, live_server, username: str, password: str) -> None:
    page.goto(live_server.url + "/login/")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(password)
    page.get_by_role("button", name="登录").click()
    expect(page.get_by_role("heading", name="客户", exact=True)).to_be_visible()


def test_a_rep_reads_the_history_logs_a_call_and_moves_the_deal(
    browser, live_server, alice, tea_house, artifacts
):
    page = browser.new_context(viewport=DESKTOP, locale="zh-CN").new_page()
    log_in(page, live_server, "alice", "alice-pass-123")
    page.goto(f"{live_server.url}/customers/{tea_house.pk}/")

    panel = page.locator("[data-history-panel]")
    # 3 orders of 10, 5 and 5 tins at 398.00: 7,960.00 spent, 2,653.33 per order, 120 days apart.
    expect(panel.locator("[data-figure=total_spent]")).to_have_text("7,960.00")
    expect(panel.locator("[data-figure=order_count]")).to_have_text("3")
    expect(panel.locator("[data-figure=average_order_value]")).to_have_text("2,653.33")
    expect(panel.locator("[data-figure=average_days_between_purchases]")).to_contain_text("120")
    expect(panel.locator("[data-figure=last_contact]")).to_contain_text("12")
    expect(panel.locator("[data-figure=satisfaction]")).to_contain_text("4")
    expect(panel.locator("[data-figure=open_opportunities]")).to_contain_text("2,000.00")
    expect(panel.locator("[data-figure=open_complaints]")).to_have_text("1")
    entries = panel.locator("#history-entries > li.h-entry")
    expect(entries).to_have_count(7)
    expect(panel.get_by_text("上门品茶")).to_be_visible()

    # Filter chips: only orders.
    panel.locator(".h-chip", has_text="订单").click()
    expect(entries).to_have_count(3)
    panel.locator(".h-chip", has_text="订单").click()
    expect(entries).to_have_count(7)

    # Log a call: channel by number key, defaults already filled in (now, 陈经理).
    form = page.locator("#history-log-form")
    expect(form.get_by_label("联系人")).to_have_value(str(tea_house.contacts.get().pk))
    form.locator("input[name=channel]:checked").focus()  # where Tab lands in the button row
    page.keyboard.press("1")  # 1 = 电话
    expect(form.locator("input[name=channel][value=phone]")).to_be_checked()
    form.get_by_label("主题").fill("电话确认秋季礼盒数量")
    form.get_by_label("内容").fill("陈经理说下周定数量，先寄两盒样品。")
    follow_up = timezone.localdate() + dt.timedelta(days=7)
    form.get_by_label("下次跟进日期").fill(follow_up.isoformat())
    page.screenshot(path=artifacts / "history-card-desktop.png", full_page=True)
    form.get_by_role("button", name="保存跟进").click()

    newest = entries.first
    expect(newest).to_contain_text("电话确认秋季礼盒数量")
    expect(newest).to_contain_text(follow_up.isoformat())
    expect(entries).to_have_count(8)
    expect(form.get_by_label("主题")).to_have_value("")  # a fresh form for the next call
    logged = Communication.objects.get(subject="电话确认秋季礼盒数量")
    assert (logged.channel, logged.next_follow_up) == ("phone", follow_up)
    page.screenshot(path=artifacts / "history-logged-desktop.png", full_page=True)

    # The kanban: drag the deal from 初步接洽 to 需求确认.
    page.goto(f"{live_server.url}/history/board/")
    card = page.locator(".h-card", has_text="秋季礼盒续订")
    target = page.locator("section[aria-label=需求确认]")
    expect(page.locator("section[aria-label=初步接洽]").locator(".h-card")).to_have_count(1)
    card.drag_to(target)
    # The count comes from the server's re-rendered board, so this waits for the save.
    expect(target.locator("[data-count]")).to_have_text("1")
    expect(target.locator(".h-card", has_text="秋季礼盒续订")).to_have_attribute("data-version", "2")
    expect(page.locator("section[aria-label=初步接洽]").locator(".h-card")).to_have_count(0)
    page.screenshot(path=artifacts / "history-board-desktop.png", full_page=True)
    assert Opportunity.objects.get(title="秋季礼盒续订").stage.name == "需求确认"


def test_the_card_and_the_board_on_a_phone(browser, live_server, alice, tea_house, artifacts):
    page = browser.new_context(viewport=PHONE, locale="zh-CN").new_page()
    log_in(page, live_server, "alice", "alice-pass-123")
    page.goto(f"{live_server.url}/customers/{tea_house.pk}/")
    expect(page.locator("[data-figure=order_count]")).to_have_text("3")
    page.screenshot(path=artifacts / "history-card-phone.png", full_page=True)

    # No drag and drop on a touch screen: the card's own "move" control does the same.
    page.goto(f"{live_server.url}/history/board/")
    card = page.locator(".h-card", has_text="秋季礼盒续订")
    card.get_by_label("移到").select_option(label="方案报价")
    card.get_by_role("button", name="移动").click()
    expect(page.locator("section[aria-label=方案报价]").locator(".h-card")).to_have_count(1)
    page.screenshot(path=artifacts / "history-board-phone.png", full_page=True)
    assert Opportunity.objects.get(title="秋季礼盒续订").stage.name == "方案报价"
