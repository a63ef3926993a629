"""Every change made through the API is logged as coming from the API."""

import pytest

from kehu.accounts.services import token_create
from kehu.core.models import ChangeLog


@pytest.fixture
def alice_api(client, alice):
    _token, secret = token_create(user=alice, name="test")
    return {"HTTP_AUTHORIZATION": f"Bearer {secret}"}


def test_api_writes_are_logged_with_origin_api(client, alice, bob, alices_customer, alice_api):
    base = f"/api/v1/customers/{alices_customer.pk}"
    contact = client.post(f"{base}/contacts", {"name": "陈经理"}, content_type="application/json",
                          **alice_api).json()
    patched = client.patch(f"/api/v1/contacts/{contact['id']}", {"title": "采购"},
                           content_type="application/json", HTTP_IF_MATCH='"1"', **alice_api)
    client.post(f"{base}/shares", {"user": bob.pk}, content_type="application/json", **alice_api)
    client.delete(f"{base}/shares/{bob.pk}", **alice_api)
    client.delete(f"/api/v1/contacts/{contact['id']}", HTTP_IF_MATCH=patched["ETag"], **alice_api)
    client.delete(base, HTTP_IF_MATCH=client.get(base, **alice_api)["ETag"], **alice_api)
    client.post(f"{base}/restore", **alice_api)
    actions = list(ChangeLog.objects.filter(customer_id=alices_customer.pk)
                   .exclude(action="create", origin="manual").values_list("action", "origin"))
    assert [a for a, _ in actions] == ["create", "update", "share", "unshare", "delete", "delete",
                                       "restore"]
    assert {origin for _, origin in actions} == {"api"}
