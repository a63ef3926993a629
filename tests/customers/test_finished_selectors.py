"""Selectors hand back finished results: nobody has to remember to mask or to scope.

- Issue 7 #12: the tag filter offered alice listed the tags of every team. Now each
  person is offered the tags on the customers they can see; root (admin) sees all.
- Issue 6 #4: the contact list comes masked for anna (analyst) and with its customer
  joined, so the card and the API no longer each call a masking helper.
"""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from kehu.accounts.models import User
from kehu.accounts.services import token_create
from kehu.customers import selectors, services
from kehu.customers.filters import CustomerFilters
from kehu.customers.models import Tag
from tests.api.conftest import Caller

pytestmark = pytest.mark.django_db


def browser_of(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def tagged_book(alice, bob, charlie, make_customer):
    """Each rep's customers carry their team's tags; some tags are on no live customer."""
    make_customer(alice, name="杭州西湖茶业有限公司", tags=["重点客户", "华东茶商"])
    make_customer(bob, name="苏州园林设计有限公司", tags=["华东设计院"])
    make_customer(charlie, name="深圳前海科技有限公司", tags=["华南渠道商", "重点客户"])
    gone = make_customer(charlie, name="广州已注销贸易有限公司", tags=["已注销专用"])
    services.customer_delete(actor=charlie, origin="manual", customer=gone)
    Tag.objects.create(name="从未使用")
    return {"alice": alice, "bob": bob, "charlie": charlie}


def test_rep_sees_only_tags_of_customers_in_scope(alice, bob, charlie, tagged_book):
    assert selectors.tags_in_scope(viewer=alice) == ["华东茶商", "重点客户"]
    assert selectors.tags_in_scope(viewer=bob) == ["华东设计院"]
    assert selectors.tags_in_scope(viewer=charlie) == ["华南渠道商", "重点客户"]


def test_the_manager_sees_the_tags_of_her_department_and_the_analyst_those_in_use(
    mallory, anna, root, tagged_book
):
    assert selectors.tags_in_scope(viewer=mallory) == ["华东茶商", "华东设计院", "重点客户"]
    assert selectors.tags_in_scope(viewer=anna) == [
        "华东茶商", "华东设计院", "华南渠道商", "重点客户"]  # not the deleted one's, not unused
    assert selectors.tags_in_scope(viewer=root) == [
        "从未使用", "华东茶商", "华东设计院", "华南渠道商", "已注销专用", "重点客户"]


def test_a_customer_shared_with_alice_brings_its_tags_into_her_filter(
    alice, charlie, tagged_book
):
    shenzhen = selectors.customer_list(
        viewer=charlie, filters=CustomerFilters.from_params({"q": "前海"})).items[0]
    services.customer_share(actor=charlie, origin="manual", customer=shenzhen.pk, user=alice)
    alice = User.objects.get(pk=alice.pk)  # her next request
    assert selectors.tags_in_scope(viewer=alice) == ["华东茶商", "华南渠道商", "重点客户"]


def test_the_tag_filter_on_the_list_page_offers_alice_only_her_tags(alice, tagged_book):
    page = browser_of(alice).get(reverse("customers:list"))
    assert list(page.context["tags"]) == ["华东茶商", "重点客户"]
    html = page.content.decode()
    assert '<option value="华东茶商">' in html and "华南渠道商" not in html


def test_the_tag_list_costs_one_query_whatever_the_scope(
    alice, mallory, anna, root, tagged_book, django_assert_num_queries
):
    for person in (alice, mallory, anna, root):
        selectors.tags_in_scope(viewer=person)  # the access answer is cached per user
        with django_assert_num_queries(1):
            selectors.tags_in_scope(viewer=person)


# --- contacts --------------------------------------------------------------------------


@pytest.fixture
def contacts(alice, alices_customer):
    for n in range(3):
        services.contact_create(actor=alice, origin="manual", customer=alices_customer, data={
            "name": f"联系人{n}", "phones": [f"1390000111{n}"], "email": f"c{n}@xihu-tea.cn",
            "wechat": f"wx_contact_{n}"})
    return alices_customer


def test_contact_list_is_masked_for_the_analyst_without_the_caller_asking(anna, contacts):
    rows = selectors.contact_list(viewer=anna, customer_id=contacts.pk)
    assert [c.phones for c in rows] == [["139****1110"], ["139****1111"], ["139****1112"]]
    assert [c.email for c in rows] == ["c***@xihu-tea.cn"] * 3
    assert all(c.is_masked and "****" in c.wechat for c in rows)
    # The customer that comes joined to each contact is masked too.
    assert rows[0].customer.phones == ["138****5678"] and rows[0].customer.is_masked
    page = selectors.contact_page(viewer=anna, customer_id=contacts.pk)
    assert [c.phones for c in page.items] == [c.phones for c in rows]


def test_alice_gets_her_contacts_in_the_clear(alice, contacts):
    rows = selectors.contact_list(viewer=alice, customer_id=contacts.pk)
    assert rows[0].phones == ["+8613900001110"] and rows[0].email == "c0@xihu-tea.cn"
    assert not getattr(rows[0], "is_masked", False)


def test_the_card_and_the_api_show_the_analyst_masked_contacts(anna, contacts):
    card = browser_of(anna).get(reverse("customers:detail", args=[contacts.pk])).content.decode()
    assert "139****1110" in card and "13900001110" not in card and "1110" not in card.replace(
        "139****1110", "")
    api = Caller(token_create(user=anna, name="test")[1])
    items = api.get("/contacts", customer=contacts.pk).json()["items"]
    assert [c["email"] for c in items] == ["c***@xihu-tea.cn"] * 3
    items = api.get(f"/customers/{contacts.pk}/contacts").json()["items"]
    assert items[0]["phones"] == ["139****1110"] and items[0]["masked"] is True


def test_a_contact_page_costs_the_same_queries_for_3_or_30_contacts(
    alice, anna, contacts, django_assert_num_queries
):
    selectors.contact_page(viewer=anna, customer_id=contacts.pk)  # warm the access answer
    with django_assert_num_queries(1):
        selectors.contact_page(viewer=anna, customer_id=contacts.pk)
    for n in range(3, 30):
        services.contact_create(actor=alice, origin="manual", customer=contacts,
                                data={"name": f"联系人{n}"})
    with django_assert_num_queries(1):
        page = selectors.contact_page(viewer=anna, customer_id=contacts.pk)
    with django_assert_num_queries(1):
        rows = selectors.contact_list(viewer=anna, customer_id=contacts.pk)
    assert len(page.items) == len(rows) == 30
    assert {c.customer.name for c in rows} == {"杭州西湖茶业有限公司"}  # joined, no more queries
