"""A rep types in a customer Kehu has already: warned on a similar name, asked on a shared
phone, and never shown another rep's customer."""

from __future__ import annotations

import pytest

from kehu.customers.models import Customer

pytestmark = pytest.mark.django_db


def form(**fields):
    return {"kind": "company", "name": "", "phones": "", "emails": "", "owner": "", **fields}


def test_a_shared_phone_asks_before_creating_and_a_similar_name_warns(alice, client,
                                                                      make_customer):
    mine = make_customer(alice, name="杭州西湖茶业有限公司", phones=["13812345678"])
    client.force_login(alice)
    hint = client.post("/customers/duplicates/check/", form(name="西湖茶业（杭州）有限公司"))
    assert "杭州西湖茶业有限公司" in hint.content.decode() and "负责人" in hint.content.decode()

    asked = client.post("/customers/new/", form(name="西湖茶叶贸易", phones="138-1234-5678",
                                                 owner=alice.pk))
    assert asked.status_code == 200 and Customer.objects.count() == 1
    page = asked.content.decode()
    assert "可能重复" in page and "电话相同" in page and 'name="confirm_duplicate"' in page

    done = client.post("/customers/new/", form(name="西湖茶叶贸易", phones="138-1234-5678",
                                                owner=alice.pk, confirm_duplicate="1"))
    assert done.status_code == 302 and Customer.objects.count() == 2

    warned = client.post("/customers/new/", form(name="西湖茶业（杭州）有限责任公司", owner=alice.pk),
                         follow=True)
    assert Customer.objects.count() == 3
    assert f"可能重复：{mine.name}" in warned.content.decode()


def test_another_reps_customer_is_said_to_exist_and_nothing_more(alice, charlie, client,
                                                                 make_customer):
    make_customer(charlie, name="深圳南山电子有限公司", phones=["13700001111"],
                  emails=["boss@nanshan.cn"])
    client.force_login(alice)
    hint = client.post("/customers/duplicates/check/", form(phones="13700001111")).content.decode()
    assert "已存在于其他同事名下" in hint
    assert "南山" not in hint and "Charlie" not in hint and "boss@" not in hint


def test_an_integration_asks_the_api_before_it_creates(alice, charlie, make_customer):
    from kehu.accounts.services import token_create
    from tests.api.conftest import Caller

    mine = make_customer(alice, name="杭州西湖茶业有限公司", phones=["13812345678"])
    make_customer(charlie, name="深圳南山电子有限公司", phones=["13700001111"])
    api = Caller(token_create(user=alice, name="erp")[1])
    answer = api.post("/customers/duplicates", {"kind": "company", "name": "西湖茶业（杭州）",
                                                "phones": ["137 0000 1111"]})
    assert answer.status_code == 200
    found = answer.json()
    assert {"id": None, "name": None, "owner": None, "score": 0.97, "hard": True,
            "reasons": ["已存在于其他同事名下"]} in found
    assert any(c["id"] == mine.pk and not c["hard"] for c in found)
    assert api.post(f"/customers/duplicates?exclude={mine.pk}",
                    {"name": "杭州西湖茶业有限公司"}).json() == []
