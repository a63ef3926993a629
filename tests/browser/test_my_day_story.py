"""A rep opens 今日待办 in a real browser: her due follow-ups, ranked with the reason; she
logs a call in place from the agenda, the row goes and the next follow-up is planned.
Desktop and phone screenshots."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from tests.browser.test_pipeline_settings_story import DESKTOP, PHONE, log_in, shot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def agenda(alice, root, make_customer) -> None:
    from kehu.accounts.services import system_actor
    from kehu.followup.generation import generate
    from kehu.followup.models import FollowUpTask
    from kehu.followup.services import plan_save
    from kehu.history import services as history
    from tests.followup.conftest import set_tier, tier

    for key, days in (("a", 30), ("c", 180)):
        plan_save(actor=root, origin="manual", data={
            "name": f"{key.upper()} 类每 {days} 天", "target": f"value:{tier(key).pk}",
            "cadence_days": days, "talking_points": "{客户名称}：近 12 个月消费 {近12月消费}"})
    for name, key, overdue in (("华东重工集团", "a", 3), ("宁波港务物流", "c", 0),
                               ("杭州西湖茶业", "a", 1)):
        customer = make_customer(alice, name=name)
        set_tier(customer, key)
        if name == "华东重工集团":
            history.opportunity_create(actor=alice, origin="manual", customer=customer,
                                       data={"title": "年度采购", "amount": "120000"})
        generate(ids=[customer.pk], actor=system_actor())
        day = timezone.localdate() - dt.timedelta(days=overdue)
        FollowUpTask.objects.filter(customer=customer, status="open").update(
            due_date=day, due_at=timezone.make_aware(dt.datetime.combine(day, dt.time(9))))


@pytest.mark.parametrize(("name", "viewport"), [("desktop", DESKTOP), ("phone", PHONE)])
def test_a_rep_logs_a_call_from_her_day_and_the_row_goes(browser, live_server, alice, agenda,
                                                         artifacts, name, viewport):
    page = browser.new_context(viewport=viewport, locale="zh-CN").new_page()
    log_in(page, live_server, "alice", "alice-pass-123")
    page.get_by_role("link", name="今日待办").first.click()
    expect(page.get_by_role("heading", name="今日待办")).to_be_visible()
    rows = page.locator(".fu-row")
    expect(rows).to_have_count(3)
    expect(rows.first).to_contain_text("华东重工集团")
    expect(rows.first.locator(".fu-reason")).to_have_text(
        "A 类 · 逾期 3 天 · 1 个进行中的商机 ¥120,000")
    shot(page, artifacts, f"my-day-{name}.png")
    row = rows.filter(has_text="杭州西湖茶业")
    row.get_by_role("button", name="记一笔").click()
    form = row.locator("form.h-log")
    expect(form).to_be_visible()
    form.get_by_label("主题").fill("电话回访，客户满意")
    shot(page, artifacts, f"my-day-logging-{name}.png")
    form.get_by_role("button", name="保存跟进").click()
    expect(page.locator(".fu-row", has_text="杭州西湖茶业")).to_have_count(0)
    expect(page.locator(".fu-row")).to_have_count(2)
    from kehu.followup.models import FollowUpTask

    done = FollowUpTask.objects.get(customer__name="杭州西湖茶业", status="done")
    assert done.communication.subject == "电话回访，客户满意"
    assert FollowUpTask.objects.get(customer__name="杭州西湖茶业", status="open").due_date > \
        timezone.localdate()
