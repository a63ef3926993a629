"""Mallory (manager of 华东区) opens 数据质量 from the menu: her team's figures per rep,
the least complete records first, the trend of the last days. She opens the worst one; on
its card alice's customer is stale, and "信息已核实" clears it. Desktop and phone."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from tests.browser.test_first_customer import DESKTOP, PHONE, log_in, open_page

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True),
              pytest.mark.usefixtures("builtin_roles")]


def _team(alice, bob, charlie, make_customer):
    from kehu.customers.models import Customer

    make_customer(alice, name="杭州西湖茶业有限公司", short_name="西湖茶业", phones=["13812345678"],
                  emails=["buyer@xihu-tea.cn"], industry="retail", province="浙江省", city="杭州市",
                  address="西湖区龙井路 1 号", credit_code="91110000802100433B")
    stale = make_customer(alice, name="宁波港联物流有限公司", phones=["0574-8765 4321"])
    Customer.objects.filter(pk=stale.pk).update(updated_at=timezone.now() - dt.timedelta(days=240))
    make_customer(bob, name="苏州工业园精密机械有限公司", industry="manufacturing",
                  phones=["13912345678"], province="江苏省", city="苏州市")
    make_customer(bob, name="温州小商品贸易商行")
    make_customer(charlie, name="深圳南山电子有限公司")  # 华南区: never on mallory's page
    return stale


def _past_days(alice, bob) -> None:
    """Snapshots of the last two weeks, as the nightly job would have left them."""
    from kehu.customers.quality.models import QualitySnapshot

    today = timezone.localdate()
    QualitySnapshot.objects.bulk_create([
        QualitySnapshot(day=today - dt.timedelta(days=d), owner_id=owner.pk, customers=2,
                        completeness_sum=base - 3 * d, stale=1 + d // 5, invalid=d % 3 // 2)
        for d in range(1, 15) for owner, base in ((alice, 120), (bob, 90))])


def test_a_manager_finds_the_worst_records_and_a_rep_verifies_one(
        browser, live_server, alice, bob, charlie, mallory, root, make_customer, artifacts):
    from kehu.accounts.services import system_actor
    from kehu.jobs.services import run_in_foreground

    stale = _team(alice, bob, charlie, make_customer)
    _past_days(alice, bob)
    assert run_in_foreground(actor=system_actor(), origin="system", kind="customers.quality",
                             params={}).status == "done"

    page = open_page(browser, live_server, DESKTOP)
    log_in(page, "mallory", "mallory-pass-123")
    page.get_by_role("navigation", name="主导航").get_by_role("link", name="数据质量").click()
    expect(page.get_by_role("heading", name="数据质量", exact=True)).to_be_visible()
    worst = page.get_by_test_id("quality-worst")
    expect(worst.locator("tbody tr").first).to_contain_text("温州小商品贸易商行")
    expect(worst).not_to_contain_text("深圳南山电子")
    expect(page.get_by_test_id("quality-owners")).to_contain_text("Alice 王")
    expect(page.get_by_test_id("quality-teams")).to_contain_text("华东区")
    expect(page.locator("svg polyline.q-line-average")).to_have_count(1)
    page.screenshot(path=artifacts / "quality-desktop.png", full_page=True)

    phone = open_page(browser, live_server, PHONE)
    log_in(phone, "mallory", "mallory-pass-123")
    phone.goto(live_server.url + "/customers/quality/")
    phone.screenshot(path=artifacts / "quality-phone.png", full_page=True)

    rep = open_page(browser, live_server, DESKTOP)
    log_in(rep, "alice", "alice-pass-123")
    rep.goto(live_server.url + f"/customers/{stale.pk}/")
    expect(rep.get_by_test_id("quality-stale")).to_contain_text("过期")
    expect(rep.get_by_test_id("quality-stale")).to_contain_text("240 天")
    rep.get_by_role("button", name="信息已核实").click()
    expect(rep.get_by_test_id("quality-stale")).to_contain_text("未过期")
    expect(rep.get_by_test_id("quality-stale")).to_contain_text("Alice 王 于")
    rep.locator("#panel-quality").screenshot(path=artifacts / "quality-card-desktop.png")
    rep_phone = open_page(browser, live_server, PHONE)
    log_in(rep_phone, "alice", "alice-pass-123")
    rep_phone.goto(live_server.url + f"/customers/{stale.pk}/#panel-quality")
    rep_phone.locator("#panel-quality").screenshot(path=artifacts / "quality-card-phone.png")
