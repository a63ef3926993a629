"""The history pages, as a rep uses them: the card's panel, logging a call over HTMX, loading
more of a long timeline, adding an order, moving a deal on the kanban, and the lists."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from kehu.history import services
from kehu.history.models import Communication, Opportunity, Order, Stage

pytestmark = pytest.mark.django_db
HX = {"HX-Request": "true"}


def browser_of(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def deal(alice, alices_customer):
    return services.opportunity_create(actor=alice, origin="manual", customer=alices_customer,
                                       data={"title": "年度采购", "amount": "50000"})


def test_the_card_shows_the_figures_and_the_timeline(alice, alices_customer, catalogue, deal):
    services.order_create(actor=alice, origin="manual", customer=alices_customer, data={
        "ordered_on": "2026-05-01", "lines": [{"product": "TEA-LJ-250", "quantity": 2}]})
    page = browser_of(alice).get(reverse("customers:detail", args=[alices_customer.pk]))
    html = page.content.decode()
    assert page.status_code == 200
    assert 'data-figure="total_spent">796.00<' in html
    assert 'data-figure="order_count">1<' in html
    assert "年度采购" in html and 'id="history-log-form"' in html


def test_the_analyst_reads_the_history_without_the_log_form(anna, alices_customer, deal):
    page = browser_of(anna).get(reverse("customers:detail", args=[alices_customer.pk]))
    assert "年度采购" in page.content.decode()
    assert 'id="history-log-form"' not in page.content.decode()


def test_a_call_logged_over_htmx_comes_back_as_the_newest_entry(
    alice, alices_customer, primary_contact
):
    tomorrow = timezone.localdate() + dt.timedelta(days=1)
    response = browser_of(alice).post(reverse("history:log", args=[alices_customer.pk]), {
        "channel": "wechat", "direction": "outbound", "occurred_at": "2026-11-20T09:30",
        "contact": primary_contact.pk, "subject": "微信确认报价", "next_follow_up": tomorrow,
    }, headers=HX)
    html = response.content.decode()
    assert response.status_code == 200
    assert html.index('class="h-entry ') < html.index('id="history-log-form"')  # entry first
    assert "微信确认报价" in html and tomorrow.isoformat() in html
    assert 'id="history-log-form"' in html and 'hx-swap-oob="true"' in html  # a fresh form
    logged = Communication.objects.get()
    assert (logged.channel, logged.contact, logged.next_follow_up) == (
        "wechat", primary_contact, tomorrow)


def test_a_bad_log_form_comes_back_with_the_error_in_place(alice, alices_customer):
    response = browser_of(alice).post(reverse("history:log", args=[alices_customer.pk]), {
        "channel": "fax", "occurred_at": "2026-11-20T09:30"}, headers=HX)
    assert response.status_code == 200
    assert response["HX-Retarget"] == "#history-log-form"
    assert "errorlist" in response.content.decode()
    assert not Communication.objects.exists()


def test_the_form_defaults_to_my_last_channel(alice, alices_customer, primary_contact):
    services.communication_log(actor=alice, origin="manual", customer=alices_customer,
                               data={"channel": "visit"})
    html = browser_of(alice).get(reverse("customers:detail", args=[alices_customer.pk])).content
    assert b'value="visit" checked' in html


def test_a_long_timeline_loads_twenty_at_a_time(alice, alices_customer, django_assert_max_num_queries):
    start = timezone.now() - dt.timedelta(days=400)
    for n in range(45):
        services.communication_log(actor=alice, origin="manual", customer=alices_customer, data={
            "subject": f"第{n:02d}次回访", "occurred_at": start + dt.timedelta(days=n)})
    client = browser_of(alice)
    # 60 + the audit entry of the view (savepoint, head locked, insert, head update, release)
    with django_assert_max_num_queries(67):  # 65, and the scope's size counted once (scope_plans)
        card = client.get(reverse("customers:detail", args=[alices_customer.pk])).content.decode()
    assert card.count('class="h-entry ') == 20 and "第44次回访" in card and "第24次回访" not in card
    url = reverse("history:customer", args=[alices_customer.pk])
    seen, cursor = [], None
    while True:
        page = client.get(url, {"cursor": cursor} if cursor else {}, headers=HX).content.decode()
        seen += [f"第{n:02d}次回访" for n in range(45) if f"第{n:02d}次回访" in page]
        if "data-load-more" not in page:
            break
        cursor = page.split("cursor=")[1].split('"')[0].replace("&amp;", "&")
    assert sorted(seen) == sorted(set(seen)) and len(seen) == 45


def test_the_kind_chips_filter_the_timeline(alice, alices_customer, deal):
    services.need_create(actor=alice, origin="manual", customer=alices_customer, data={"content": "要开专票"})
    url = reverse("history:customer", args=[alices_customer.pk])
    html = browser_of(alice).get(url, {"kind": "need"}, headers=HX).content.decode()
    assert "要开专票" in html and "年度采购" not in html


def test_an_outsider_sees_none_of_it(charlie, alices_customer, deal):
    client = browser_of(charlie)
    assert client.get(reverse("history:customer", args=[alices_customer.pk])).status_code == 404
    assert client.post(reverse("history:log", args=[alices_customer.pk]),
                       {"channel": "phone", "occurred_at": "2026-11-20T09:30"}).status_code == 404
    assert client.post(reverse("history:move", args=[deal.pk]), {"stage": 2}).status_code == 404
    for name in ("history:opportunities", "history:orders", "history:tickets", "history:board"):
        assert "年度采购" not in client.get(reverse(name)).content.decode()


def test_an_order_added_from_the_card(alice, alices_customer, catalogue):
    product = catalogue["TEA-PE-357"]
    response = browser_of(alice).post(reverse("history:add", args=[alices_customer.pk, "order"]), {
        "ordered_on": "2026-10-01", "status": "paid", "product": product.pk, "quantity": "3"})
    assert response.status_code == 302
    order = Order.objects.get()
    assert (order.total, order.status) == (product.unit_price * 3, "paid")


def test_a_survey_score_out_of_range_is_shown_next_to_the_field(alice, alices_customer):
    response = browser_of(alice).post(reverse("history:add", args=[alices_customer.pk, "survey"]), {
        "kind": "csat", "score": "9", "answered_on": "2026-10-01"})
    assert response.status_code == 400
    assert "CSAT" in response.content.decode() and "errorlist" in response.content.decode()


def test_a_deal_moves_on_the_kanban_and_a_stale_move_is_refused(alice, anna, deal):
    next_stage = Stage.objects.get(pipeline=deal.pipeline, name="需求确认")
    url = reverse("history:move", args=[deal.pk])
    moved = browser_of(alice).post(url, {"stage": next_stage.pk, "version": 1}, headers=HX)
    assert moved.status_code == 200 and 'data-version="2"' in moved.content.decode()
    assert Opportunity.objects.get().stage == next_stage
    stale = browser_of(alice).post(url, {"stage": deal.stage_id, "version": 1}, headers=HX)
    assert stale.status_code == 409 and "刚被别人修改过" in stale.content.decode()
    assert Opportunity.objects.get().stage == next_stage
    assert browser_of(anna).post(url, {"stage": deal.stage_id, "version": 2}).status_code == 403


def test_the_lists_show_what_the_viewer_may_see(alice, mallory, bob, alices_customer, deal):
    services.ticket_create(actor=alice, origin="manual", customer=alices_customer,
                           data={"kind": "complaint", "subject": "物流太慢"})
    for user, visible in ((alice, True), (mallory, True), (bob, False)):
        client = browser_of(user)
        assert ("物流太慢" in client.get(reverse("history:tickets")).content.decode()) == visible
        assert ("年度采购" in client.get(reverse("history:opportunities")).content.decode()) == visible
        board = client.get(reverse("history:board")).content.decode()
        assert ("年度采购" in board) == visible
