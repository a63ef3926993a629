"""The customer pool (公海), issue 12 item 5, as user stories: a customer untouched past the
threshold is in the pool the next morning, masked; another rep claims it within their limit;
the moves are on the timeline. The clock moves through `now` — no test sleeps."""

from __future__ import annotations

import pytest
from django.urls import reverse

from kehu.core.errors import Http404, PermissionDenied, ValidationError
from kehu.customers import selectors as customer_selectors
from kehu.customers.filters import CustomerFilters
from kehu.customers.models import Customer, OwnershipTransfer
from kehu.customers.scoping import CHANGE
from kehu.customers.services import customer_transfer
from kehu.history import services as history
from kehu.history.opportunities import opportunity_close, opportunity_create
from kehu.history.orders import order_create
from kehu.history.timeline import timeline
from kehu.pool.models import MoveKind, PoolEntry, PoolMove
from kehu.pool.services import pool_assign, pool_claim, pool_release, pool_save, rule_save
from tests.pool.conftest import later, run_reclaim

pytestmark = pytest.mark.django_db


def owner_of(customer) -> int | None:
    return Customer.objects.get(pk=customer.pk).owner_id


def test_an_untouched_customer_is_in_the_pool_the_next_morning_masked_and_bob_claims_it(
        pool, alice, bob, alices_customer):
    assert run_reclaim(later(29)) == {"回收到公海": 0, "提醒负责人": 1}  # warned, not moved
    assert owner_of(alices_customer) == alice.pk
    result = run_reclaim(later(31))
    assert result["回收到公海"] == 1
    assert owner_of(alices_customer) is None
    entry = PoolEntry.objects.get(customer=alices_customer)
    assert (entry.pool, entry.previous_owner) == (pool, alice)
    assert entry.reason == "超过 30 天未跟进"
    # bob (a member) sees it, masked; he may not change it before claiming it
    seen = customer_selectors.customer_get(viewer=bob, pk=alices_customer.pk)
    assert seen.is_masked and seen.phones == ["138****5678"]
    assert seen.emails != ["buyer@xihu-tea.cn"] and seen.credit_code != "91110000802100433B"
    with pytest.raises(PermissionDenied):
        Customer.objects.get_for(bob, alices_customer.pk, CHANGE)
    claimed = pool_claim(actor=bob, origin="manual", customer=alices_customer.pk, now=later(31.5))
    assert claimed.owner_id == bob.pk
    assert not PoolEntry.objects.filter(customer=alices_customer).exists()
    unmasked = customer_selectors.customer_get(viewer=bob, pk=alices_customer.pk)
    assert not getattr(unmasked, "is_masked", False) and "****" not in unmasked.phones[0]
    # the moves, on the timeline bob reads, with who and why
    moves = [e.obj for e in timeline(viewer=bob, customer_id=alices_customer.pk).items
             if e.kind == "pool"]
    assert [(m.kind, m.from_user_id, m.to_user_id) for m in moves] == [
        (MoveKind.CLAIMED, None, bob.pk), (MoveKind.RECLAIMED, alice.pk, None)]
    assert moves[1].reason == "超过 30 天未跟进"
    assert list(OwnershipTransfer.objects.filter(customer=alices_customer).order_by("id")
                .values_list("from_user_id", "to_user_id")) == [(alice.pk, None), (None, bob.pk)]


def test_the_reclaim_job_is_idempotent(pool, alice, make_customer):
    customers = [make_customer(alice, name=f"客户{i}") for i in range(3)]
    now = later(40)
    assert run_reclaim(now)["回收到公海"] == 3
    rows = sorted(PoolEntry.objects.values_list("customer_id", "pool_id", "previous_owner_id"))
    moves = PoolMove.objects.count()
    assert run_reclaim(now)["回收到公海"] == 0
    assert sorted(PoolEntry.objects.values_list("customer_id", "pool_id", "previous_owner_id")) == rows
    assert PoolMove.objects.count() == moves == 3
    assert {c.pk for c in customers} == {r[0] for r in rows}


def test_a_contact_or_a_hand_over_restarts_the_clock(pool, alice, bob, make_customer, mallory):
    called = make_customer(alice, name="常联系的客户")
    handed = make_customer(alice, name="刚转来的客户")
    idle = make_customer(alice, name="没人管的客户")
    history.communication_log(actor=alice, customer=called, origin="manual", data={
        "channel": "phone", "occurred_at": later(20)})
    customer_transfer(actor=mallory, origin="manual", customer_ids=[handed.pk], to_user=bob)
    OwnershipTransfer.objects.filter(customer=handed).update(at=later(15))
    run_reclaim(later(31))
    assert owner_of(called) == alice.pk
    assert owner_of(handed) == bob.pk
    assert owner_of(idle) is None


def test_won_and_open_opportunity_customers_stay(pool, alice, make_customer):
    won = make_customer(alice, name="成交客户")
    deal = opportunity_create(actor=alice, origin="manual", customer=won, data={"title": "首单"})
    opportunity_close(actor=alice, opportunity=deal, won=True, reason="签约", origin="manual")
    open_deal = make_customer(alice, name="谈判中的客户")
    opportunity_create(actor=alice, origin="manual", customer=open_deal, data={"title": "续约"})
    plain = make_customer(alice, name="普通客户")
    run_reclaim(later(31))
    assert owner_of(won) == alice.pk
    assert owner_of(open_deal) == alice.pk
    assert owner_of(plain) is None


def test_customers_of_people_outside_the_pools_departments_stay(pool, charlie, make_customer):
    theirs = make_customer(charlie, name="华南客户")
    run_reclaim(later(100))
    assert owner_of(theirs) == charlie.pk


def test_the_previous_owner_may_not_claim_it_back_too_soon(pool, alice, alices_customer):
    run_reclaim(later(31))
    with pytest.raises(ValidationError) as refused:
        pool_claim(actor=alice, origin="manual", customer=alices_customer.pk, now=later(32))
    assert "原负责人" in str(refused.value) and "之后才能重新领取" in str(refused.value)
    assert pool_claim(actor=alice, origin="manual", customer=alices_customer.pk,
                      now=later(62)).owner_id == alice.pk


def test_over_the_daily_limit_is_refused_naming_it(pool, alice, bob, make_customer):
    customers = [make_customer(alice, name=f"客户{i}") for i in range(3)]
    run_reclaim(later(31))
    day = later(32)
    for customer in customers[:2]:
        pool_claim(actor=bob, origin="manual", customer=customer.pk, now=day)
    with pytest.raises(ValidationError) as refused:
        pool_claim(actor=bob, origin="manual", customer=customers[2].pk, now=day)
    assert refused.value.message_dict == {"daily_claims": [
        "今日已从“华东公海”领取 2 个客户，已达每人每日 2 个的上限"]}
    assert owner_of(customers[2]) is None
    pool_claim(actor=bob, origin="manual", customer=customers[2].pk, now=later(33))
    assert owner_of(customers[2]) == bob.pk


def test_over_the_cap_on_customers_held_is_refused_naming_it(pool, alice, bob, make_customer):
    in_pool = make_customer(alice, name="公海客户")
    run_reclaim(later(31))
    for i in range(3):
        make_customer(bob, name=f"Bob 的客户{i}")
    with pytest.raises(ValidationError) as refused:
        pool_claim(actor=bob, origin="manual", customer=in_pool.pk, now=later(32))
    assert refused.value.message_dict == {"max_held": [
        "你已持有 3 个客户，已达“华东公海”每人最多持有 3 个的上限"]}


def test_a_non_member_gets_404_and_sees_no_count(pool, alice, charlie, anna, alices_customer,
                                                 login):
    run_reclaim(later(31))
    assert login(charlie).get(reverse("customers:detail", args=[alices_customer.pk])).status_code \
        == 404
    assert customer_selectors.customer_list(viewer=charlie, filters=CustomerFilters()).items == []
    assert not Customer.objects.visible_to(charlie).filter(pk=alices_customer.pk).exists()
    with pytest.raises(Http404):
        pool_claim(actor=charlie, origin="manual", customer=alices_customer.pk, now=later(32))
    page = login(charlie).get(reverse("pool:list"))
    assert page.status_code == 200 and "你不属于任何公海" in page.content.decode()
    # the analyst reads everything, masked anyway
    assert customer_selectors.customer_get(viewer=anna, pk=alices_customer.pk).is_masked


def test_the_gate_adds_no_subquery_for_someone_in_no_pool(pool, bob, charlie):
    assert "pool_poolentry" not in str(Customer.objects.visible_to(charlie).query)
    assert "pool_poolentry" in str(Customer.objects.visible_to(bob).query)
    assert "pool_poolentry" not in str(Customer.objects.visible_to(bob, CHANGE).query)


def test_members_list_and_search_the_pool_masked(pool, alice, bob, alices_customer, login):
    run_reclaim(later(31))
    page = login(bob).get(reverse("pool:list"), {"q": "西湖"})
    body = page.content.decode()
    assert page.status_code == 200 and "杭州西湖茶业有限公司" in body
    assert "13812345678" not in body and "138 1234 5678" not in body
    found = customer_selectors.customer_list(viewer=bob,
                                             filters=CustomerFilters(q="buyer@xihu-tea.cn"))
    assert [c.pk for c in found.items] == [alices_customer.pk]
    assert "buyer@xihu-tea.cn" not in str(found.items[0].emails)
    assert "buyer@xihu-tea.cn" not in str(found.items[0].matched)


def test_the_owner_releases_a_customer_and_a_manager_assigns_it(pool, alice, bob, mallory,
                                                                alices_customer, login):
    response = login(alice).post(reverse("pool:release", args=[alices_customer.pk]),
                                 {"reason": "客户已转向竞品"})
    assert response.status_code == 302
    entry = PoolEntry.objects.get(customer=alices_customer)
    assert (entry.previous_owner_id, entry.reason) == (alice.pk, "客户已转向竞品")
    with pytest.raises(PermissionDenied):
        pool_assign(actor=bob, origin="manual", customer=alices_customer.pk, to_user=bob.pk)
    pool_assign(actor=mallory, origin="manual", customer=alices_customer.pk, to_user=bob.pk,
                reason="大客户组跟进")
    assert owner_of(alices_customer) == bob.pk
    kinds = list(PoolMove.objects.filter(customer=alices_customer).order_by("id")
                 .values_list("kind", "actor_id", "reason"))
    assert kinds == [(MoveKind.RELEASED, alice.pk, "客户已转向竞品"),
                     (MoveKind.ASSIGNED, mallory.pk, "大客户组跟进")]


def test_release_needs_a_pool_for_the_owners_department(pool, charlie, make_customer):
    theirs = make_customer(charlie, name="华南客户")
    with pytest.raises(ValidationError) as refused:
        pool_release(actor=charlie, origin="manual", customer=theirs.pk)
    assert "没有公海" in str(refused.value)


def test_the_card_shows_the_pool_panel(pool, alice, bob, alices_customer, login):
    card = login(alice).get(reverse("customers:detail", args=[alices_customer.pk])).content.decode()
    assert "释放到公海" in card and reverse("customers:edit", args=[alices_customer.pk]) in card
    run_reclaim(later(31))
    card = login(bob).get(reverse("customers:detail", args=[alices_customer.pk])).content.decode()
    assert "领取" in card and "13812345678" not in card
    assert reverse("customers:edit", args=[alices_customer.pk]) not in card  # claim first


def test_an_admins_ordinary_transfer_out_of_the_pool_leaves_no_stale_entry_behind(
        pool, alice, bob, root, alices_customer):
    run_reclaim(later(31))
    customer_transfer(actor=root, origin="manual", customer_ids=[alices_customer.pk], to_user=bob)
    OwnershipTransfer.objects.filter(customer=alices_customer, to_user=bob).update(at=later(31.5))
    assert not customer_selectors.customer_get(viewer=bob, pk=alices_customer.pk).__dict__.get(
        "is_masked")  # owned again: no longer masked, whatever the entry says
    run_reclaim(later(32))
    assert not PoolEntry.objects.filter(customer=alices_customer).exists()
    assert owner_of(alices_customer) == bob.pk  # a hand-over restarted the clock


def test_the_pool_list_pages_by_keyset(pool, alice, bob, make_customer, login, settings):
    settings.KEHU_PAGE_SIZE = 2
    for i in range(3):
        make_customer(alice, name=f"翻页客户{i}")
    run_reclaim(later(31))
    first = login(bob).get(reverse("pool:list"), {"q": "翻页"})
    body = first.content.decode()
    assert body.count("<tr data-row>") == 2 and "下一页" in body
    next_url = first.context["next_url"]
    second = login(bob).get(reverse("pool:list") + next_url.replace("&amp;", "&"))
    assert second.content.decode().count("<tr data-row>") == 1


def test_search_cannot_read_a_pool_customers_phone_back_a_digit_at_a_time(
        pool, alice, bob, alices_customer, make_customer):
    run_reclaim(later(31))
    own = make_customer(bob, name="Bob 自己的客户", phones=["13812340000"])

    def found(q: str) -> list[int]:
        return [c.pk for c in customer_selectors.customer_list(
            viewer=bob, filters=CustomerFilters(q=q)).items]

    assert found("1381234") == [own.pk]  # a part matches his own customer only
    assert found("5678") == []
    assert found("xihu-tea") == []
    assert found("13812345678") == [alices_customer.pk]  # the complete number finds it
    assert found("西湖") == [alices_customer.pk]  # and its name, as any customer's


def test_no_deal_for_m_days_sends_a_customer_back_even_when_it_is_called(
        root, east, alice, make_customer, product):
    deal_pool = pool_save(actor=root, origin="manual", data={"name": "成交公海",
                                                            "departments": [east.pk]})
    rule_save(actor=root, origin="manual", pool=deal_pool, data={
        "idle_days": 365, "no_deal_days": 60, "warn_days": 5, "exempt_won": False})
    called = make_customer(alice, name="常打电话没成交")
    bought = make_customer(alice, name="最近下过单")
    for customer in (called, bought):
        history.communication_log(actor=alice, customer=customer, origin="manual", data={
            "channel": "phone", "occurred_at": later(55)})
    order_create(actor=alice, origin="manual", customer=bought, data={
        "ordered_on": later(30).date().isoformat(), "lines": [{"product": product.pk,
                                                                "quantity": 1}]})
    run_reclaim(later(61))
    assert owner_of(called) is None
    assert PoolEntry.objects.get(customer=called).reason == "超过 60 天未成交"
    assert owner_of(bought) == alice.pk
