"""My day (今日待办): exactly the rep's own due and overdue follow-ups, in the documented
order, with the reason per row; one-click logging completes the task (issue 12, item 1)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from kehu.accounts.services import system_actor
from kehu.followup.generation import generate
from kehu.followup.models import FollowUpTask
from kehu.followup.selectors import my_day
from kehu.followup.services import task_create
from kehu.history import services as history_services
from tests.followup.conftest import set_tier

pytestmark = pytest.mark.django_db


def due(task_customer, days_ago: int) -> None:
    FollowUpTask.objects.filter(customer=task_customer, status="open").update(
        due_date=timezone.localdate() - dt.timedelta(days=days_ago))


@pytest.fixture
def agenda(alice, bob, make_customer, plans):
    """alice: an A customer 3 days overdue with two open deals, a C customer due today,
    a B customer due next month (not today); bob's A customer overdue (not hers)."""
    a = make_customer(alice, name="甲 A 类客户")
    c = make_customer(alice, name="丙 C 类客户")
    b = make_customer(alice, name="乙 B 类客户")
    bobs = make_customer(bob, name="bob 的客户")
    for customer, key in ((a, "a"), (c, "c"), (b, "b"), (bobs, "a")):
        set_tier(customer, key)
    for amount in ("100000", "20000"):
        history_services.opportunity_create(actor=alice, origin="manual", customer=a,
                                            data={"title": "商机", "amount": amount})
    generate(actor=system_actor())
    due(a, 3)
    due(c, 0)
    due(bobs, 5)
    FollowUpTask.objects.filter(customer=b).update(
        due_date=timezone.localdate() + dt.timedelta(days=30))
    return {"a": a, "b": b, "c": c, "bobs": bobs}


def test_my_day_lists_exactly_the_reps_due_and_overdue_tasks_in_order(alice, agenda):
    rows = my_day(viewer=alice)["rows"]
    assert [r.task.customer.name for r in rows] == ["甲 A 类客户", "丙 C 类客户"]
    first = rows[0]
    assert first.reason == "A 类 · 逾期 3 天 · 2 个进行中的商机 ¥120,000"
    assert first.score == 30 + 6 + 10 + 12
    assert rows[1].reason == "C 类 · 今天到期"
    assert "甲 A 类客户（A 类）" in first.points


def test_tomorrow_and_the_week_are_one_click_away(alice, agenda):
    task = task_create(actor=alice, origin="manual", customer=agenda["b"].pk, data={
        "title": "明天回电", "due_date": timezone.localdate() + dt.timedelta(days=1)})
    assert [r.task for r in my_day(viewer=alice, day="tomorrow")["rows"]] == [task]
    assert task in [r.task for r in my_day(viewer=alice, day="week")["rows"]]


def test_the_page_and_the_api_show_the_same_rows(alice, agenda, login, api_as):
    page = login(alice).get(reverse("followup:today"))
    assert page.status_code == 200
    text = page.content.decode()
    assert "甲 A 类客户" in text and "bob 的客户" not in text and "乙 B 类客户" not in text
    body = api_as(alice).request("GET", "/followup/today", None).json()
    assert [r["task"]["customer_name"] for r in body["rows"]] == ["甲 A 类客户", "丙 C 类客户"]
    assert body["rows"][0]["reasons"][0] == "A 类"


def test_logging_from_the_agenda_completes_the_task_and_the_row_goes(alice, agenda, login):
    task = FollowUpTask.objects.get(customer=agenda["a"], status="open")
    client = login(alice)
    form = client.get(reverse("followup:task_log", args=[task.pk]), HTTP_HX_REQUEST="true")
    assert form.status_code == 200 and 'name="channel"' in form.content.decode()
    now = timezone.localtime().strftime("%Y-%m-%dT%H:%M")
    done = client.post(reverse("followup:task_log", args=[task.pk]), {
        "channel": "phone", "direction": "outbound", "occurred_at": now, "subject": "回访"},
        HTTP_HX_REQUEST="true")
    assert done.status_code == 200 and done.content == b""
    task.refresh_from_db()
    assert task.status == "done" and task.communication is not None and task.done_by == alice
    names = [r.task.customer.name for r in my_day(viewer=alice)["rows"]]
    assert names == ["丙 C 类客户"]


def test_managers_see_overdue_counts_per_rep_within_their_scope(mallory, charlie, agenda, login):
    page = login(mallory).get(reverse("followup:today") + "?tab=team")
    text = page.content.decode()
    assert "Alice 王" in text and "Bob 李" in text
    from kehu.followup.selectors import team_member_overdue, team_overdue

    assert {r["user"].username: r["overdue"] for r in team_overdue(viewer=mallory)} == {
        "alice": 1, "bob": 1}
    assert team_overdue(viewer=charlie) == []
    bob = agenda["bobs"].owner
    assert [r.task.customer.name for r in team_member_overdue(viewer=mallory, user_id=bob.pk).rows] \
        == ["bob 的客户"]


def test_a_rep_cannot_see_another_reps_tasks(charlie, agenda, login):
    task = FollowUpTask.objects.get(customer=agenda["a"], status="open")
    client = login(charlie)
    assert client.get(reverse("followup:task_log", args=[task.pk])).status_code == 404
    assert client.post(reverse("followup:task_done", args=[task.pk])).status_code == 404
    assert client.post(reverse("followup:task_add", args=[agenda["a"].pk]),
                       {"title": "x", "due_date": "2026-12-10"}).status_code == 404
    assert my_day(viewer=charlie)["rows"] == []


def test_my_day_reads_a_constant_number_of_queries(alice, make_customer, agenda):
    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            rows = my_day(viewer=alice)["rows"]
            [(r.task.customer.name, r.task.plan and r.task.plan.name, r.reason) for r in rows]
        return len(queries)

    count()  # the scope's size is counted on its first read (customers.scope_plans), then kept
    before = count()
    for n in range(5):
        customer = make_customer(alice, name=f"更多客户{n}")
        set_tier(customer, "b")
        task_create(actor=alice, origin="manual", customer=customer.pk,
                    data={"title": "跟进", "due_date": timezone.localdate()})
    assert count() == before


def test_money_in_the_reason_is_grouped():
    from kehu.followup.ranking import _money

    assert _money(Decimal("120000")) == "¥120,000"


def test_a_reminder_is_added_from_my_day_and_a_bad_log_keeps_the_row(alice, agenda, login):
    client = login(alice)
    url = reverse("followup:task_add", args=[agenda["c"].pk])
    page = client.get(reverse("followup:today")).content.decode()
    assert f'hx-get="{url}?next=/followup/today/"' in page and 'name="due_time"' not in page
    form = client.get(url + "?next=/followup/today/", HTTP_HX_REQUEST="true").content.decode()
    assert 'name="due_time"' in form and 'value="/followup/today/"' in form
    assert "新建跟进任务" in client.get(url).content.decode()  # without HTMX: the form's page
    tomorrow = timezone.localdate() + dt.timedelta(days=1)
    added = client.post(reverse("followup:task_add", args=[agenda["c"].pk]), {
        "kind": "reminder", "title": "提醒报价", "due_date": tomorrow.isoformat(),
        "due_time": "16:00", "next": reverse("followup:today")})
    assert added.status_code == 302 and added["Location"] == reverse("followup:today")
    reminder = FollowUpTask.objects.get(title="提醒报价")
    assert reminder.kind == "reminder" and timezone.localtime(reminder.due_at).hour == 16
    task = FollowUpTask.objects.get(customer=agenda["a"], status="open")
    bad = client.post(reverse("followup:task_log", args=[task.pk]), {"channel": "fax"},
                      HTTP_HX_REQUEST="true")
    assert bad["HX-Retarget"] == f"#log-slot-{task.pk}" and "h-log" in bad.content.decode()
    task.refresh_from_db()
    assert task.status == "open"


def test_logging_a_manual_task_from_the_agenda_completes_that_task(alice, agenda, login):
    task = task_create(actor=alice, origin="manual", customer=agenda["b"].pk, data={
        "title": "寄样品后回访", "due_date": timezone.localdate(), "channel": "wechat"})
    client = login(alice)
    now = timezone.localtime().strftime("%Y-%m-%dT%H:%M")
    done = client.post(reverse("followup:task_log", args=[task.pk]), {
        "channel": "wechat", "direction": "outbound", "occurred_at": now, "subject": "样品已到"},
        HTTP_HX_REQUEST="true")
    assert done.status_code == 200 and done.content == b""
    task.refresh_from_db()
    assert task.status == "done" and task.done_by == alice
    assert task.communication.subject == "样品已到" and task.communication.channel == "wechat"
    assert "寄样品后回访" not in [r.task.title for r in my_day(viewer=alice)["rows"]]


def test_the_api_logs_a_task_done_and_refuses_one_already_done(alice, agenda, api_as):
    task = task_create(actor=alice, origin="manual", customer=agenda["b"].pk, data={
        "title": "电话确认", "due_date": timezone.localdate(), "channel": "phone"})
    caller = api_as(alice)
    done = caller.request("POST", f"/followup/tasks/{task.pk}/log", {"subject": "已确认"})
    assert done.status_code == 201
    body = done.json()
    assert body["task"]["status"] == "done" and body["task"]["id"] == task.pk
    from kehu.history.models import Communication

    call = Communication.objects.get(pk=body["communication_id"])
    assert (call.channel, call.subject, call.customer_id) == ("phone", "已确认", agenda["b"].pk)
    again = caller.request("POST", f"/followup/tasks/{task.pk}/log", {"subject": "再来一次"})
    assert again.status_code == 422
    assert Communication.objects.filter(customer=agenda["b"]).count() == 1


def test_a_long_day_comes_a_page_at_a_time_in_one_ranked_order(alice, agenda, make_customer,
                                                                 login, api_as):
    """60 more tasks due: the page shows the best 50, 显示更多 the rest, no row twice."""
    for n in range(60):
        customer = make_customer(alice, name=f"长名单客户{n:02d}")
        set_tier(customer, "b" if n % 2 else "c")
        task_create(actor=alice, origin="manual", customer=customer.pk, data={
            "title": "跟进", "due_date": timezone.localdate() - dt.timedelta(days=n % 7)})
    first, second = my_day(viewer=alice)["paging"], my_day(viewer=alice, page=2)["paging"]
    assert (first.total, len(first.rows), len(second.rows), first.remaining) == (62, 50, 12, 12)
    ranked = [r.score for r in first.rows + second.rows]
    assert ranked == sorted(ranked, reverse=True)
    assert len({r.task.pk for r in first.rows + second.rows}) == 62
    assert first.overdue == sum(1 for r in first.rows + second.rows if r.overdue_days)
    client = login(alice)
    page = client.get(reverse("followup:today")).content.decode()
    assert page.count('class="fu-row"') == 50 and "显示更多（还有 12 条）" in page
    more = client.get(reverse("followup:today") + "?day=today&page=2&more=1",
                      HTTP_HX_REQUEST="true").content.decode()
    assert more.count('class="fu-row"') == 12 and "显示更多" not in more
    body = api_as(alice).request("GET", "/followup/today?page=2", None).json()
    assert [r["task"]["id"] for r in body["rows"]] == [r.task.pk for r in second.rows]
    assert (body["total"], body["page"], body["pages"]) == (62, 2, 2)


def test_a_row_shows_its_badges_and_escapes_what_people_typed(alice, mallory, make_customer,
                                                             login):
    """agenda_row writes each row in Python (templatetags/agenda.py): the markup must still
    escape names, titles and notes, and show the reminder and escalation badges."""
    customer = make_customer(alice, name="<b>粗体</b>公司")
    task = task_create(actor=alice, origin="manual", customer=customer.pk, data={
        "title": "回电 <i>", "notes": "备注 <script>x</script>", "kind": "reminder",
        "due_date": timezone.localdate()})
    FollowUpTask.objects.filter(pk=task.pk).update(escalated_at=timezone.now(),
                                                   escalated_to=mallory)
    text = login(alice).get(reverse("followup:today")).content.decode()
    assert "&lt;b&gt;粗体&lt;/b&gt;公司" in text and "<b>粗体" not in text
    assert "回电 &lt;i&gt;" in text and "备注 &lt;script&gt;x&lt;/script&gt;" in text
    assert '<span class="badge">提醒</span>' in text
    assert 'title="已通知上级 Mallory 经理">已升级</span>' in text
    assert f'hx-post="{reverse("followup:task_done", args=[task.pk])}"' in text
    assert 'name="csrfmiddlewaretoken"' in text
    team = login(mallory).get(reverse("followup:team_member", args=[alice.pk]))
    assert team.status_code == 200  # due today, not overdue: not in the team's list
    FollowUpTask.objects.filter(pk=task.pk).update(
        due_date=timezone.localdate() - dt.timedelta(days=2))
    text = login(mallory).get(reverse("followup:team_member", args=[alice.pk])).content.decode()
    assert " · Alice 王</span>" in text and "记一笔" not in text and "is-overdue" in text
