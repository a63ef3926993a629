"""设置 → 跟踪计划 and 工作日历; the card's 跟进任务 panel and the timeline."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import timezone

from kehu.followup import calendar
from kehu.followup.models import CalendarDay, FollowUpPlan, FollowUpTask
from kehu.followup.services import task_create
from kehu.history.timeline import timeline
from tests.followup.conftest import tier

pytestmark = pytest.mark.django_db


def test_a_manager_sets_up_a_plan_and_reorders_it_a_rep_may_not(mallory, alice, login, plans):
    client = login(mallory)
    bad = client.post(reverse("followup:plan_create"), {"name": "", "target": "value:0",
                                                        "cadence_days": "0",
                                                        "talking_points": "{生日}"})
    assert bad.status_code == 400
    text = bad.content.decode()
    for message in ("必填", "没有这个分类值", "1 到 365", "未知的占位符：{生日}"):
        assert message in text
    made = client.post(reverse("followup:plan_create"), {
        "name": "VIP 每两周", "target": f"value:{tier('vip').pk}", "cadence_days": "14",
        "is_active": "on"})
    assert made.status_code == 302
    plan = FollowUpPlan.objects.get(name="VIP 每两周")
    assert plan.created_by == mallory and list(FollowUpPlan.objects.all())[-1] == plan
    client.post(reverse("followup:plan_move", args=[plan.pk]), {"direction": "up"})
    assert list(FollowUpPlan.objects.all())[-2] == plan
    # root's plans are not hers to change.
    assert client.get(reverse("followup:plan_edit", args=[plans["a"].pk])).status_code == 404
    assert login(alice).get(reverse("followup:plan_create")).status_code == 403
    assert "VIP 每两周" in login(alice).get(reverse("followup:plans")).content.decode()


def test_an_admin_enters_next_years_holiday_and_the_banner_goes(root, login, monkeypatch):
    # Whatever today is: the library "ends" last year, so the calendar has run out.
    last = timezone.localdate().year - 1
    monkeypatch.setattr(calendar, "library_last_year", lambda: last)
    client = login(root)
    page = client.get(reverse("followup:calendar")).content.decode()
    assert f"工作日历仅到 {last}-12-31，请录入 {last + 1} 年节假日" in page
    client.post(reverse("followup:calendar"), {"date": f"{last + 2}-01-01", "kind": "holiday",
                                               "name": "元旦"})
    assert CalendarDay.objects.get().name == "元旦"
    assert "工作日历仅到" not in client.get(reverse("followup:calendar")).content.decode()
    assert "工作日历仅到" not in client.get(reverse("followup:today")).content.decode()


def test_tasks_show_on_the_card_and_the_timeline(alice, alices_customer, login):
    task = task_create(actor=alice, origin="manual", customer=alices_customer.pk,
                       data={"title": "寄新茶样品", "due_date": "2026-12-10", "kind": "reminder"})
    card = login(alice).get(reverse("customers:detail", args=[alices_customer.pk]))
    assert "寄新茶样品" in card.content.decode() and "跟进任务" in card.content.decode()
    entries = timeline(viewer=alice, customer_id=alices_customer.pk, kinds={"followup"}).items
    assert [e.obj for e in entries] == [task]
    login(alice).post(reverse("followup:task_done", args=[task.pk]))
    task.refresh_from_db()
    assert task.status == "done" and task.done_by == alice
    assert FollowUpTask.objects.filter(status="open").count() == 0


def test_the_plan_list_names_the_channel_in_words(root, login):
    from kehu.followup.services import plan_save

    plan_save(actor=root, origin="manual", data={
        "name": "VIP 电话回访", "target": f"value:{tier('vip').pk}", "cadence_days": 14,
        "channel": "phone"})
    page = login(root).get(reverse("followup:plans")).content.decode()
    assert "<td>电话</td>" in page and "<td>phone</td>" not in page
