"""A share is a grant to look (and, at level `edit`, to edit and log history) — never to take over.

Attack run, issue 7 #2: after alice shared customer 513 with bob, bob could transfer it to
himself, re-share it and delete it; alice and her manager then got 404.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from kehu.customers import services
from kehu.customers.models import Customer, CustomerShare


@pytest.fixture
def shared_with_charlie(alice, charlie, alices_customer):
    services.customer_share(actor=alice, origin="manual", customer=alices_customer, user=charlie)
    return alices_customer


def test_a_colleague_a_customer_is_shared_with_cannot_take_it_over(
    api_as, alice, mallory, charlie, shared_with_charlie
):
    path = f"/customers/{shared_with_charlie.pk}"
    as_charlie = api_as(charlie)
    assert as_charlie.get(path).status_code == 200
    taken = as_charlie.post("/customers/transfer", {"ids": [shared_with_charlie.pk],
                                                    "to_user": charlie.pk})
    assert taken.status_code == 403
    assert as_charlie.post(f"{path}/shares", {"user": charlie.pk}).status_code == 403
    version = as_charlie.get(path)["ETag"]
    assert as_charlie.delete(path, if_match=version).status_code == 403
    customer = Customer.objects.get(pk=shared_with_charlie.pk)
    assert (customer.owner_id, customer.deleted_at) == (alice.pk, None)
    assert api_as(alice).get(path).status_code == 200
    assert api_as(mallory).get(path).status_code == 200


def test_a_read_only_share_does_not_let_its_user_edit(api_as, charlie, shared_with_charlie):
    path = f"/customers/{shared_with_charlie.pk}"
    version = api_as(charlie).get(path)["ETag"]
    response = api_as(charlie).patch(path, {"notes": "mine now"}, if_match=version)
    assert response.status_code == 403
    assert Customer.objects.get(pk=shared_with_charlie.pk).notes == ""


def test_an_edit_share_lets_its_user_edit_and_log_but_still_not_transfer(
    alice, charlie, alices_customer, api_as
):
    services.customer_share(actor=alice, origin="manual", customer=alices_customer, user=charlie,
                            level="edit")
    path = f"/customers/{alices_customer.pk}"
    version = api_as(charlie).get(path)["ETag"]
    assert api_as(charlie).patch(path, {"notes": "回访过"}, if_match=version) \
        .status_code == 200
    logged = api_as(charlie).post(f"{path}/communications", {"channel": "phone", "subject": "回访"})
    assert logged.status_code == 201
    assert api_as(charlie).post("/customers/transfer", {"ids": [alices_customer.pk],
                                                        "to_user": charlie.pk}).status_code == 403


def test_a_share_ends_on_its_end_date(alice, charlie, alices_customer, api_as):
    today = timezone.localdate()
    services.customer_share(actor=alice, origin="manual", customer=alices_customer, user=charlie,
                            ends_on=today)
    path = f"/customers/{alices_customer.pk}"
    assert api_as(charlie).get(path).status_code == 200
    CustomerShare.objects.filter(user=charlie).update(ends_on=today - dt.timedelta(days=1))
    assert api_as(charlie).get(path).status_code == 404


def test_a_share_cannot_end_in_the_past(alice, charlie, alices_customer, api_as):
    response = api_as(alice).post(f"/customers/{alices_customer.pk}/shares",
                                  {"user": charlie.pk, "ends_on": "2001-01-01"})
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "ends_on"


def test_the_shared_colleague_cannot_restore_a_deleted_customer(
    api_as, alice, charlie, shared_with_charlie
):
    path = f"/customers/{shared_with_charlie.pk}"
    version = api_as(alice).get(path)["ETag"]
    assert api_as(alice).delete(path, if_match=version).status_code == 204
    assert api_as(charlie).post(f"{path}/restore").status_code == 404
    assert api_as(alice).post(f"{path}/restore").status_code == 200


def test_a_share_with_a_colleague_who_left_can_still_be_ended(
    api_as, alice, charlie, shared_with_charlie
):
    charlie.is_active = False
    charlie.save()
    response = api_as(alice).delete(f"/customers/{shared_with_charlie.pk}/shares/{charlie.pk}")
    assert response.status_code == 204
    assert not CustomerShare.objects.filter(user=charlie).exists()


def test_the_card_offers_sharing_only_to_those_who_may_manage(
    client, alice, charlie, shared_with_charlie
):
    client.force_login(charlie)
    page = client.get(f"/customers/{shared_with_charlie.pk}/")
    assert page.status_code == 200
    assert b'id="sharing"' not in page.content
    client.force_login(alice)
    page = client.get(f"/customers/{shared_with_charlie.pk}/")
    assert b'id="sharing"' in page.content
    assert "Charlie 张".encode() in page.content
