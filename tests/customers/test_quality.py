"""Data quality (数据质量) as people meet it.

alice (a rep in 华东区) fills a missing phone and her customer's score rises by itself;
mallory (their manager) sees her team's worst records first and never 华南区's (charlie);
a customer nobody touched for half a year is stale until someone presses "信息已核实";
root (the admin) changes a weight and every customer is scored again. Both databases.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import override_settings
from django.utils import timezone

from kehu.accounts.services import system_actor
from kehu.core.errors import Http404, PermissionDenied, ValidationError
from kehu.core.models import ChangeLog
from kehu.customers import services as customer_services
from kehu.customers.conditions import condition_q, parse_condition
from kehu.customers.models import Customer
from kehu.customers.quality import selectors, services
from kehu.customers.quality.models import CustomerQuality, CustomerVerification, QualityPending
from kehu.jobs.models import Job
from kehu.jobs.services import run_here, run_in_foreground

pytestmark = pytest.mark.django_db

RUN = "customers.quality"


def run_all(**params) -> Job:
    return run_in_foreground(actor=system_actor(), origin="system", kind=RUN, params=params)


def score(customer) -> int | None:
    row = CustomerQuality.objects.filter(customer_id=customer.pk).first()
    return row.completeness if row and row.scored_at else None


def matching(viewer, condition) -> set[int]:
    q = condition_q(parse_condition(condition), viewer=viewer)
    return set(Customer.objects.visible_to(viewer).filter(q).values_list("pk", flat=True))


def age(customer, days: int) -> None:
    """As if nobody had touched the customer for `days` days."""
    Customer.objects.filter(pk=customer.pk).update(
        updated_at=timezone.now() - dt.timedelta(days=days))


def test_a_rep_fills_a_missing_phone_and_her_score_rises_by_itself(
        alice, make_customer, login, django_capture_on_commit_callbacks):
    customer = make_customer(alice, name="杭州西湖茶业有限公司", industry="manufacturing",
                             province="浙江省", city="杭州市")
    run_all()
    before = score(customer)
    # name 5 + industry 10 + region 10 + owner 5 = 30 of 100 (a company: the credit code counts)
    assert before == 30
    assert "电话" in [str(m["label"]) for m in
                    selectors.customer_quality(viewer=alice, customer_id=customer.pk)["missing"]]

    with override_settings(KEHU_QUALITY_DELAY_SECONDS=1), \
            django_capture_on_commit_callbacks(execute=True):
        customer_services.customer_update(actor=alice, origin="manual", customer=customer,
                                          data={"phones": ["0571-8765 4321"]})
    assert QualityPending.objects.filter(customer_id=customer.pk).exists()
    refresh = Job.objects.get(kind="customers.quality_refresh")
    assert run_here(refresh).status == "done"
    assert score(customer) == 50  # + phone 20
    assert not QualityPending.objects.exists()

    card = login(alice).get(f"/customers/{customer.pk}/").content.decode()
    assert 'data-testid="quality-score">50' in card and "信息已核实" in card
    assert matching(alice, {"field": "quality.completeness", "op": "gte", "value": 50}) == {customer.pk}
    assert matching(alice, {"field": "quality.completeness", "op": "lt", "value": 50}) == set()


def test_a_person_has_no_credit_code_to_miss(alice, make_customer):
    person = make_customer(alice, kind="person", name="张三", phones=["13812345678"])
    run_all(parts=["scores"])
    # name 5 + phone 20 + owner 5 = 30 of the 85 a person can earn
    assert score(person) == round(30 * 100 / 85)
    missing = selectors.customer_quality(viewer=alice, customer_id=person.pk)["missing"]
    assert "credit_code" not in {m["key"] for m in missing}


def test_a_manager_sees_her_teams_worst_records_first_and_never_another_teams(
        alice, bob, charlie, mallory, make_customer, login):
    poor = make_customer(alice, name="甲公司")
    fair = make_customer(bob, name="乙公司", phones=["13812345678"], industry="retail")
    good = make_customer(alice, name="丙公司", short_name="丙", phones=["13912345678"],
                         emails=["a@bing.cn"], industry="retail", province="浙江省",
                         city="杭州市", address="西湖路 1 号", credit_code="91110000802100433B")
    worse = make_customer(charlie, name="丁公司")  # 华南区: not mallory's
    run_all()
    assert score(poor) == score(worse) < score(fair) < score(good)

    worst = selectors.quality_worst(viewer=mallory)
    assert [c.pk for c in worst] == [poor.pk, fair.pk, good.pk]
    summary = selectors.quality_summary(viewer=mallory)
    assert summary["total"]["customers"] == 3
    assert {r["owner_id"] for r in summary["by_owner"]} == {alice.pk, bob.pk}
    assert [r["label"] for r in summary["by_team"]] == ["华东区"]

    page = login(mallory).get("/customers/quality/").content.decode()
    assert page.index("甲公司") < page.index("乙公司") < page.index("丙公司")
    assert "丁公司" not in page and "Charlie" not in page and "华南区" not in page
    # A rep sees her own only.
    assert [c.pk for c in selectors.quality_worst(viewer=alice)] == [poor.pk, good.pk]
    assert "乙公司" not in login(alice).get("/customers/quality/").content.decode()
    assert [c.pk for c in selectors.quality_worst(viewer=charlie)] == [worse.pk]


def test_verifying_clears_the_stale_flag_and_is_recorded(alice, bob, anna, make_customer, login):
    customer = make_customer(alice, name="久未联系公司")
    age(customer, 200)
    stale = {"field": "quality.stale", "op": "in", "value": ["stale"]}
    assert matching(alice, stale) == {customer.pk}
    assert matching(alice, {"field": "quality.verified_days", "op": "gte", "value": 180}) == {customer.pk}
    assert selectors.customer_quality(viewer=alice, customer_id=customer.pk)["stale"]

    with pytest.raises(Http404):  # a teammate out of scope: the same as missing
        services.customer_verify(actor=bob, origin="manual", customer_id=customer.pk)
    with pytest.raises(PermissionDenied):  # the analyst reads but does not write
        services.customer_verify(actor=anna, origin="manual", customer_id=customer.pk)

    response = login(alice).post(f"/customers/{customer.pk}/verify/")
    assert response.status_code == 302
    verification = CustomerVerification.objects.get(customer=customer)
    assert verification.created_by == alice and verification.origin == "manual"
    log = ChangeLog.objects.get(model="customers.customerverification")
    assert (log.actor, log.customer_id, log.origin) == (alice, customer.pk, "manual")

    assert matching(alice, stale) == set()
    assert matching(alice, {"field": "quality.stale", "op": "in", "value": ["current"]}) == {customer.pk}
    assert matching(alice, {"field": "quality.verified_days", "op": "lte", "value": 0}) == {customer.pk}
    found = selectors.customer_quality(viewer=alice, customer_id=customer.pk)
    assert not found["stale"] and found["verified_by"] == alice
    card = login(alice).get(f"/customers/{customer.pk}/").content.decode()
    assert "Alice 王 于" in card and "未过期" in card


def test_changing_a_weight_rescores_every_customer(root, alice, make_customer, login):
    customer = make_customer(alice, name="没电话公司")
    run_all()
    assert score(customer) == 10  # name 5 + owner 5 of 100

    response = login(root).post("/customers/quality/settings/", {
        "version": "1", "stale_days": "90", "w-phone": "0", "w-email": "0", "w-contacts": "0",
        "w-credit_code": "0", "w-name": "5", "w-short_name": "5", "w-industry": "10",
        "w-region": "10", "w-address": "5", "w-owner": "5"})
    assert response.status_code == 302
    job = Job.objects.get(kind=RUN, params={"parts": ["scores"]})
    assert run_here(job).status == "done"
    assert score(customer) == 25  # 10 of the 40 that still count
    assert services.quality_settings().stale_days == 90
    assert ChangeLog.objects.filter(model="customers.qualitysettings", actor=root).exists()


def test_settings_say_every_bad_value_at_once_and_are_for_admins(root, alice):
    with pytest.raises(ValidationError) as bad:
        services.quality_settings_save(actor=root, origin="manual", data={
            "weights": {"phone": "101", "email": "x", "nope": "1"}, "stale_days": "0"})
    assert set(bad.value.message_dict) == {"weights.phone", "weights.email", "weights.nope",
                                           "stale_days"}
    with pytest.raises(PermissionDenied):
        services.quality_settings_save(actor=alice, origin="manual", data={"stale_days": "30"})


def test_the_nightly_snapshot_makes_the_trend_within_scope(alice, charlie, mallory, make_customer,
                                                           login):
    make_customer(alice, name="甲公司")
    make_customer(charlie, name="乙公司", phones=["13812345678"])
    run_all()
    run_all()  # a second run the same day replaces the day's snapshot
    trend = selectors.quality_trend(viewer=mallory)
    assert len(trend) == 1 and trend[0]["customers"] == 1 and trend[0]["average"] == 10
    assert selectors.quality_trend(viewer=charlie)[0]["average"] == 30
    page = login(mallory).get("/customers/quality/").content.decode()
    assert "<svg" in page and "<polyline" in page


def test_saving_the_same_weights_rescores_nobody(root):
    defaults = {row["key"]: str(row["weight"]) for row in selectors.weights_table()}
    services.quality_settings_save(actor=root, origin="manual",
                                   data={"weights": defaults, "stale_days": "120"})
    assert not Job.objects.filter(kind=RUN).exists()
    assert services.quality_settings().stale_days == 120
