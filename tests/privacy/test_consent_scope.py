"""Who may read and write the ledger: it follows the customer through the gate. An outsider
gets the same 404 as for a customer that does not exist — on the card's panel and in the API —
and a read-only analyst sees the ledger but cannot grant or withdraw (403)."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from kehu.accounts.services import token_create
from kehu.core.errors import Http404, PermissionDenied
from kehu.customers.filters import CustomerFilters
from kehu.privacy.models import Consent
from kehu.privacy.selectors import consent_list
from kehu.privacy.services import consent_grant, consent_withdraw
from kehu.transfer.export.services import export_count
from tests.api.conftest import Caller, errors_by_field
from tests.privacy.conftest import PHONE_GRANT

pytestmark = pytest.mark.django_db


@pytest.fixture
def withdrawn(alice, alices_customer, grant):
    consent = grant(alice, alices_customer)
    consent_withdraw(actor=alice, origin="manual", consent=consent.pk)
    return consent


def test_an_outsider_gets_404_on_the_panel_and_the_api(charlie, alices_customer, withdrawn,
                                                       api_as):
    client = Client()
    client.force_login(charlie)
    hx = {"HTTP_HX_REQUEST": "true"}
    assert client.get(reverse("privacy:consents", args=[alices_customer.pk]), **hx).status_code == 404
    assert client.post(reverse("privacy:grant", args=[alices_customer.pk]), PHONE_GRANT,
                       **hx).status_code == 404
    assert client.post(reverse("privacy:withdraw", args=[withdrawn.pk]), **hx).status_code == 404
    api = api_as(charlie)
    base = f"/customers/{alices_customer.pk}/consents"
    missing = api.get("/customers/999999/consents")
    for response in (api.get(base), api.post(base, PHONE_GRANT),
                     api.post(f"{base}/{withdrawn.pk}/withdraw")):
        assert response.status_code == 404
        assert response.json() == missing.json()  # the same body as a customer that is not there
    with pytest.raises(Http404):
        consent_list(viewer=charlie, customer=alices_customer.pk)


def test_an_outsider_counts_nothing_of_anothers_consents(charlie, alice, alices_customer,
                                                         withdrawn):
    for state in ("withdrawn", "granted", "unknown"):
        filters = CustomerFilters.from_params({"filter": '{"field": "consent.marketing", '
                                                         f'"op": "in", "value": ["{state}"]}}'})
        assert export_count(viewer=charlie, target="customers", filters=filters) == 0
    assert export_count(viewer=alice, target="customers", filters=CustomerFilters(),
                        leave_out_do_not_contact=True) == 0


def test_a_read_only_analyst_sees_the_ledger_but_cannot_grant(anna, alices_customer, withdrawn,
                                                               api_as):
    assert [c.pk for c in consent_list(viewer=anna, customer=alices_customer.pk)] == [withdrawn.pk]
    with pytest.raises(PermissionDenied):
        consent_grant(actor=anna, origin="manual", customer=alices_customer, data=PHONE_GRANT)
    api = api_as(anna)
    base = f"/customers/{alices_customer.pk}/consents"
    assert api.get(base).json()["states"]["marketing"] == "withdrawn"
    assert api.post(base, PHONE_GRANT).status_code == 403
    assert api.post(f"{base}/{withdrawn.pk}/withdraw").status_code == 403
    client = Client()
    client.force_login(anna)
    card = client.get(reverse("customers:detail", args=[alices_customer.pk])).content.decode()
    assert "已撤回 · 勿营销" in card and "记录同意" not in card
    assert client.post(reverse("privacy:grant", args=[alices_customer.pk]),
                       PHONE_GRANT).status_code == 403
    assert Consent.objects.count() == 1


def test_a_read_token_cannot_grant(alice, alices_customer):
    api = Caller(token_create(user=alice, name="只读", scope="read")[1])
    base = f"/customers/{alices_customer.pk}/consents"
    assert api.get(base).status_code == 200
    assert api.post(base, PHONE_GRANT).status_code == 403


def test_the_api_grants_and_withdraws_idempotently(alice, alices_customer, api_as):
    api = api_as(alice)
    base = f"/customers/{alices_customer.pk}/consents"
    made = api.post(base, {**PHONE_GRANT, "sensitive": True, "note": "电话录音 0412"})
    assert made.status_code == 201, made.content
    body = made.json()
    assert body["collected_by"] == alice.pk and body["sensitive"] and body["is_current"]
    assert Consent.objects.get().origin == "api"
    first = api.post(f"{base}/{body['id']}/withdraw", {"note": "不再需要"})
    assert first.status_code == 200 and first.json()["changed"] is True
    again = api.post(f"{base}/{body['id']}/withdraw", {})
    assert again.status_code == 200 and again.json()["changed"] is False
    assert again.json()["consent"]["withdrawal_note"] == "不再需要"
    listed = api.get(base).json()
    assert listed["states"] == {"marketing": "withdrawn", "service": "unknown",
                                "analysis": "unknown", "third_party": "unknown",
                                "cross_border": "unknown"}
    # A consent named under another customer's path is not found there.
    other = api.post("/customers", {"kind": "company", "name": "另一家"}).json()["id"]
    assert api.post(f"/customers/{other}/consents/{body['id']}/withdraw").status_code == 404


def test_bad_input_names_every_bad_field_at_once(alice, alices_customer, root, api_as):
    from kehu.accounts.services import user_create

    gone = user_create(username="gone", role_code="sales", display_name="离职的",
                       password="gone-pass-12345")[0]
    gone.is_active = False
    gone.save(update_fields=["is_active"])
    response = api_as(alice).post(f"/customers/{alices_customer.pk}/consents", {
        "purpose": "newsletter", "legal_basis": "because", "notice_version": " ",
        "channel": "carrier pigeon", "contact": 999999, "collected_by": gone.pk,
        "granted_at": "2999-01-01T00:00:00+08:00", "note": "x" * 300})
    assert response.status_code == 422
    fields = set(errors_by_field(response))
    assert fields == {"purpose", "legal_basis", "notice_version", "channel", "collected_by",
                      "granted_at", "note"}
    # The contact is checked once the rest is clean (it needs the customer).
    response = api_as(alice).post(f"/customers/{alices_customer.pk}/consents",
                                  {**PHONE_GRANT, "contact": 999999})
    assert errors_by_field(response) == {"contact": ["不是该客户的联系人"]}


def test_the_operations_are_in_the_openapi_document(alice):
    client = Client()
    client.force_login(alice)
    paths = client.get("/api/v1/openapi.json").json()["paths"]
    assert set(paths["/api/v1/customers/{customer_id}/consents"]) == {"get", "post"}
    assert "post" in paths["/api/v1/customers/{customer_id}/consents/{consent_id}/withdraw"]
