"""The pool through the API (the same services as the pages) and its settings screens."""

from __future__ import annotations

import pytest
from django.urls import reverse

from kehu.pool.models import Pool, PoolEntry, PoolRule
from tests.pool.conftest import later, run_reclaim

pytestmark = pytest.mark.django_db


def test_a_member_lists_and_claims_through_the_api(pool, alice, bob, charlie, alices_customer,
                                                   api_as):
    run_reclaim(later(31))
    listed = api_as(bob).get("/pool/customers", q="西湖").json()
    assert [row["customer"]["id"] for row in listed["items"]] == [alices_customer.pk]
    row = listed["items"][0]
    assert row["customer"]["masked"] and row["customer"]["phones"] == ["138****5678"]
    assert row["customer"]["owner"] is None
    assert (row["entry"]["pool_name"], row["entry"]["previous_owner"]) == ("华东公海", alice.pk)
    assert api_as(charlie).get("/pool/customers").json()["items"] == []
    too_soon = api_as(alice).post(f"/pool/customers/{alices_customer.pk}/claim")
    assert too_soon.status_code == 422 and "原负责人" in too_soon.json()["errors"][0]["message"]
    claimed = api_as(bob).post(f"/pool/customers/{alices_customer.pk}/claim")
    assert claimed.status_code == 200
    assert claimed.json()["owner"]["id"] == bob.pk and not claimed.json()["masked"]
    again = api_as(bob).post(f"/pool/customers/{alices_customer.pk}/claim")
    assert again.status_code == 422 and "已不在公海中" in again.json()["errors"][0]["message"]
    timeline = api_as(bob).get(f"/customers/{alices_customer.pk}/timeline").json()
    # (the reclaim ran on a clock moved 31 days ahead, the claim now: compare as a set)
    assert sorted(e["data"]["kind"] for e in timeline["items"] if e["kind"] == "pool") == [
        "claimed", "reclaimed"]


def test_the_owner_releases_through_the_api(pool, alice, alices_customer, api_as):
    released = api_as(alice).post(f"/customers/{alices_customer.pk}/release", {"reason": "不做了"})
    assert released.status_code == 200
    assert released.json()["pool_name"] == "华东公海" and released.json()["reason"] == "不做了"
    assert PoolEntry.objects.filter(customer=alices_customer).exists()


def test_admins_keep_pools_and_rules_through_the_api(root, east, alice, api_as):
    made = api_as(root).post("/pool/pools", {"name": "全国公海", "departments": [east.pk],
                                             "daily_claims": 3, "max_held": 100})
    assert made.status_code == 201, made.json()
    pool_id = made.json()["id"]
    rule = api_as(root).post(f"/pool/pools/{pool_id}/rules", {"idle_days": 60, "no_deal_days": 180,
                                                              "warn_days": 7})
    assert rule.status_code == 201
    bad = api_as(root).post(f"/pool/pools/{pool_id}/rules", {"idle_days": 5, "warn_days": 7})
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["field"] == "warn_days"
    detail = api_as(root).get(f"/pool/pools/{pool_id}").json()
    assert detail["rules"][0]["no_deal_days"] == 180 and detail["held"] == 0
    assert api_as(alice).get("/pool/pools").status_code == 403
    changed = api_as(root).patch(f"/pool/pools/{pool_id}", {
        "name": "全国公海", "departments": [east.pk], "daily_claims": 4}, if_match=1)
    assert changed.status_code == 200 and changed.json()["daily_claims"] == 4
    stale = api_as(root).patch(f"/pool/pools/{pool_id}", {
        "name": "全国公海", "departments": [east.pk]}, if_match=1)
    assert stale.status_code == 412


def test_a_pool_holding_customers_is_not_deleted(pool, alice, alices_customer, root, api_as):
    run_reclaim(later(31))
    refused = api_as(root).delete(f"/pool/pools/{pool.pk}", if_match="*")
    assert refused.status_code == 422 and "不能删除" in refused.json()["errors"][0]["message"]
    assert Pool.objects.filter(pk=pool.pk).exists()


def test_the_settings_screens_create_a_pool_and_a_rule(root, east, login):
    client = login(root)
    assert client.get(reverse("pool:settings")).status_code == 200
    made = client.post(reverse("pool:pool_create"), {
        "name": "华东公海", "departments": [east.pk], "daily_claims": "5",
        "reclaim_wait_days": "30", "is_active": "on"})
    assert made.status_code == 302
    pool = Pool.objects.get(name="华东公海")
    assert list(pool.departments.all()) == [east]
    refused = client.post(reverse("pool:rule_create", args=[pool.pk]), {
        "idle_days": "3", "warn_days": "5", "is_active": "on"})
    assert refused.status_code == 400 and "提前提醒天数应少于未跟进天数" in refused.content.decode()
    client.post(reverse("pool:rule_create", args=[pool.pk]), {
        "idle_days": "30", "warn_days": "5", "exempt_won": "on", "is_active": "on"})
    rule = PoolRule.objects.get(pool=pool)
    assert (rule.idle_days, rule.exempt_won, rule.exempt_open_opportunities) == (30, True, False)
    page = client.get(reverse("pool:settings")).content.decode()
    assert "华东公海" in page and "全部客户" in page
    assert client.get(reverse("settings:index")).content.decode().count("公海") >= 1
