"""Contacts through the API: a contact is visible exactly when its customer is."""

from __future__ import annotations

import pytest

from kehu.customers.api import ContactOut, ContactPage
from kehu.customers.models import Contact
from tests.api.conftest import errors_by_field

pytestmark = pytest.mark.django_db


@pytest.fixture
def alices_contact(alice, api_as, alices_customer):
    response = api_as(alice).post(f"/customers/{alices_customer.pk}/contacts", {
        "name": "陈采购", "title": "采购经理", "phones": ["139 0000 1111"],
        "email": "chen@xihu-tea.cn", "decision_role": "decision_maker"})
    assert response.status_code == 201, response.content
    return response


def test_the_owner_adds_a_contact_to_her_customer(alices_contact, alices_customer):
    body = ContactOut.model_validate(alices_contact.json()).model_dump()
    assert body["customer"] == {"id": alices_customer.pk, "name": "杭州西湖茶业有限公司"}
    assert body["phones"] == ["+8613900001111"]
    assert body["is_primary"] is True  # the first contact becomes the primary one
    assert body["origin"] == "api"
    assert alices_contact["Location"] == f"/api/v1/contacts/{body['id']}"
    assert alices_contact["ETag"] == '"1"'


def test_a_contact_is_hidden_exactly_when_its_customer_is(
    alice, bob, charlie, mallory, anna, api_as, alices_contact, alices_customer
):
    contact_id = alices_contact.json()["id"]
    for person in (bob, charlie):
        caller = api_as(person)
        assert caller.get(f"/contacts/{contact_id}").status_code == 404
        assert caller.get("/contacts").json()["items"] == []
        assert caller.get(f"/customers/{alices_customer.pk}/contacts").status_code == 404
        assert caller.post(f"/customers/{alices_customer.pk}/contacts",
                           {"name": "混入者"}).status_code == 404
    for person in (alice, mallory, anna):
        caller = api_as(person)
        assert caller.get(f"/contacts/{contact_id}").status_code == 200
        listed = caller.get("/contacts", customer=alices_customer.pk).json()
        ContactPage.model_validate(listed)
        assert [c["name"] for c in listed["items"]] == ["陈采购"]


def test_the_analyst_sees_contacts_masked_and_cannot_change_them(anna, api_as, alices_contact):
    contact_id = alices_contact.json()["id"]
    analyst = api_as(anna)
    body = analyst.get(f"/contacts/{contact_id}").json()
    assert body["phones"] == ["139****1111"] and body["email"] == "c***@xihu-tea.cn"
    assert analyst.get("/contacts").json()["items"][0]["phones"] == ["139****1111"]
    assert analyst.patch(f"/contacts/{contact_id}", {"title": "总监"}, if_match=1).status_code == 403
    assert analyst.delete(f"/contacts/{contact_id}", if_match=1).status_code == 403
    assert Contact.objects.get(pk=contact_id).title == "采购经理"


def test_contact_edits_honour_if_match(alice, mallory, api_as, alices_contact):
    path = f"/contacts/{alices_contact.json()['id']}"
    first = api_as(alice).patch(path, {"title": "采购总监"}, if_match='"1"')
    second = api_as(mallory).patch(path, {"title": "副总"}, if_match='"1"')
    assert (first.status_code, second.status_code) == (200, 412)
    assert first["ETag"] == '"2"'
    assert api_as(alice).get(path).json()["title"] == "采购总监"
    assert api_as(alice).delete(path, if_match=1).status_code == 412
    assert api_as(alice).delete(path, if_match=2).status_code == 204
    assert api_as(alice).get(path).status_code == 404


def test_a_contact_with_a_bad_email_is_refused(alice, api_as, alices_customer):
    response = api_as(alice).post(f"/customers/{alices_customer.pk}/contacts",
                                  {"name": "王五", "email": "wang@", "phones": ["110"]})
    assert response.status_code == 422
    assert set(errors_by_field(response)) == {"email", "phones"}


def test_contact_pages_walk_every_contact_once(alice, api_as, alices_customer):
    caller = api_as(alice)
    for i in range(5):
        caller.post(f"/customers/{alices_customer.pk}/contacts", {"name": f"联系人{i}"})
    seen, cursor = [], None
    while True:
        page = caller.get("/contacts", limit=2, **({"cursor": cursor} if cursor else {})).json()
        seen += [c["name"] for c in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert seen == [f"联系人{i}" for i in range(5)]


def test_a_patch_cannot_blank_a_contacts_name(alice, api_as, alices_contact):
    response = api_as(alice).patch(f"/contacts/{alices_contact.json()['id']}", {"name": " "},
                                   if_match=alices_contact["ETag"])
    assert response.status_code == 422
    assert set(errors_by_field(response)) == {"name"}
