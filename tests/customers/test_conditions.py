"""A manager picks customers by a condition — 华东 + 制造业 + spent over ¥100,000 — in the
list, the API and an export, and gets exactly what an independent query finds, within her
scope; a bad condition is refused naming each bad part."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from urllib.parse import urlencode

import pytest
from django.core.exceptions import ValidationError
from hypothesis import given, settings
from hypothesis import strategies as st

from kehu.customers.conditions import parse_condition
from kehu.customers.filters import CustomerFilters
from kehu.customers.models import Customer
from kehu.customers.selectors import customers_visible
from kehu.history import services as history
from kehu.history.models import Order

pytestmark = pytest.mark.django_db
EAST = {"all": [{"field": "province", "op": "in", "value": ["浙江省", "江苏省", "上海市"]},
                {"field": "industry", "op": "in", "value": ["manufacturing"]},
                {"field": "total_spent", "op": "gte", "value": "100000"}]}


def buy(actor, customer, quantity, day="2025-06-01", status="paid"):
    history.order_create(actor=actor, customer=customer, origin="manual", data={
        "ordered_on": day, "status": status, "lines": [{"product": "M-1", "quantity": quantity}]})


def picked(viewer, condition) -> set[int]:
    filters = CustomerFilters.from_params({"filter": json.dumps(condition)})
    return set(filters.apply(customers_visible(viewer=viewer), viewer=viewer)
               .values_list("pk", flat=True))


def test_east_china_manufacturers_that_spent_over_100000(alice, bob, mallory, product,
                                                         make_customer):
    big = make_customer(alice, name="宁波机床厂", province="浙江省", industry="manufacturing")
    buy(alice, big, 2)  # 120,000
    small = make_customer(alice, name="苏州小五金", province="江苏省", industry="manufacturing")
    buy(alice, small, 1)  # 60,000
    cancelled = make_customer(bob, name="上海大工厂", province="上海市", industry="manufacturing")
    buy(bob, cancelled, 5, status="cancelled")  # not spending
    west = make_customer(bob, name="成都机床厂", province="四川省", industry="manufacturing")
    buy(bob, west, 3)
    bobs = make_customer(bob, name="无锡机械", province="江苏省", industry="manufacturing")
    buy(bob, bobs, 2)

    spent: dict[int, Decimal] = {}  # an independent count, in Python over every order
    for order in Order.objects.filter(status__in=("confirmed", "paid")):
        spent[order.customer_id] = spent.get(order.customer_id, Decimal(0)) + order.total
    independent = {c.pk for c in Customer.objects.filter(
        province__in=["浙江省", "江苏省", "上海市"], industry="manufacturing")
        if spent.get(c.pk, 0) >= 100000}
    assert independent == {big.pk, bobs.pk}
    assert picked(mallory, EAST) == independent
    assert picked(alice, EAST) == {big.pk}  # her scope: bob's customer is not hers
    newcomer = make_customer(alice, name="新客户")  # never bought: spent 0, under 1,000
    assert picked(alice, {"field": "total_spent", "op": "lt", "value": 1000}) == {newcomer.pk}


def test_recency_tags_owner_and_any_groups(alice, bob, mallory, product, make_customer):
    old = make_customer(alice, name="老客户", tags=["重点客户"])
    buy(alice, old, 1, day=str(dt.datetime.now(tz=dt.UTC).date() - dt.timedelta(days=400)))
    recent = make_customer(bob, name="新近客户")
    buy(bob, recent, 1, day=str(dt.datetime.now(tz=dt.UTC).date() - dt.timedelta(days=10)))
    silent = make_customer(bob, name="从未购买")
    assert picked(mallory, {"field": "last_order", "op": "older_than_days", "value": 365}) \
        == {old.pk}
    assert picked(mallory, {"field": "last_order", "op": "within_days", "value": 30}) \
        == {recent.pk}
    assert picked(mallory, {"field": "last_order", "op": "empty"}) == {silent.pk}
    assert picked(mallory, {"any": [{"field": "tags", "op": "any", "value": ["重点客户"]},
                                    {"field": "owner", "op": "in", "value": ["me"]}]}) \
        == {old.pk}
    assert picked(bob, {"field": "owner", "op": "in", "value": ["me"]}) == {recent.pk, silent.pk}


def test_a_bad_condition_names_every_bad_part():
    with pytest.raises(ValidationError) as refused:
        parse_condition({"all": [{"field": "phones", "op": "contains", "value": "138"},
                                 {"field": "province", "op": "gte", "value": 1},
                                 {"field": "total_spent", "op": "gte", "value": "很多"}]})
    errors = refused.value.message_dict
    assert set(errors) == {"all.0.field", "all.1.op", "all.2.value"}
    assert "phones" in errors["all.0.field"][0]  # sensitive fields are not fields


def test_the_api_and_the_list_take_the_same_filter(alice, client, make_customer):
    from kehu.accounts.services import token_create
    from tests.api.conftest import Caller

    mine = make_customer(alice, name="杭州茶厂", province="浙江省")
    make_customer(alice, name="广州茶厂", province="广东省")
    condition = json.dumps({"field": "province", "op": "eq", "value": "浙江省"})
    api = Caller(token_create(user=alice, name="t")[1])
    answer = api.get("/customers?" + urlencode({"filter": condition}))
    assert [c["id"] for c in answer.json()["items"]] == [mine.pk]
    bad = api.get("/customers?" + urlencode({"filter": '{"field": "nope"}'}))
    assert bad.status_code in (400, 422) and "filter.field" in bad.content.decode()
    client.force_login(alice)
    page = client.get("/customers/", {"filter": condition}).content.decode()
    assert "杭州茶厂" in page and "广州茶厂" not in page


@settings(max_examples=60, deadline=None)
@given(st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=8),
                    lambda inner: st.lists(inner, max_size=3)
                    | st.dictionaries(st.sampled_from(["all", "any", "field", "op", "value", "x"]),
                                      inner, max_size=3), max_leaves=12))
def test_any_json_is_a_condition_or_a_clear_refusal(data):
    try:
        parse_condition(data)
    except ValidationError as exc:
        assert exc.message_dict
