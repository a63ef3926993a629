"""A script merges duplicates through the API and takes a merge back: the page's services."""

from __future__ import annotations

import pytest

from kehu.customers import services
from kehu.customers.models import Contact, Customer
from tests.api.conftest import errors_by_field
from tests.customers import test_merge

pytestmark = pytest.mark.django_db

# The service tests' two copies of 杭州西湖茶业 (and what they need).
twins, fields, catalogue = test_merge.twins, test_merge.fields, test_merge.catalogue


def test_merge_and_undo_through_the_api(mallory, api_as, request):
    ours, theirs = request.getfixturevalue("twins")
    api = api_as(mallory)
    response = api.request("POST", f"/customers/{ours.pk}/merge",
                           {"duplicate": theirs.pk, "choices": {"custom.level": "survivor"}},
                           if_match=ours.version)
    assert response.status_code == 201, response.content
    merge = response.json()
    assert merge["moved"]["customers.Contact.customer"] == 1
    assert Contact.objects.filter(customer=ours).count() == 2
    assert api.post(f"/merges/{merge['id']}/undo").status_code == 200
    assert Customer.objects.get(pk=theirs.pk).deleted_at is None


def test_a_merge_needs_the_survivors_version(mallory, api_as, request):
    ours, theirs = request.getfixturevalue("twins")
    api = api_as(mallory)
    assert api.post(f"/customers/{ours.pk}/merge", {"duplicate": theirs.pk}).status_code == 428
    stale = api.request("POST", f"/customers/{ours.pk}/merge", {"duplicate": theirs.pk},
                        if_match=ours.version + 1)
    assert stale.status_code == 412


def test_undo_after_an_edit_is_refused_naming_it(mallory, api_as, request):
    ours, theirs = request.getfixturevalue("twins")
    api = api_as(mallory)
    merge = api.request("POST", f"/customers/{ours.pk}/merge", {"duplicate": theirs.pk},
                        if_match="*").json()
    services.customer_update(actor=mallory, origin="manual", customer=ours, data={"notes": "改"})
    refused = api.post(f"/merges/{merge['id']}/undo")
    assert refused.status_code == 422
    assert any("在合并后被修改过" in m for m in errors_by_field(refused)["merge"])


def test_a_rep_cannot_merge_a_colleagues_customer(alice, api_as, request):
    ours, theirs = request.getfixturevalue("twins")  # theirs is bob's
    response = api_as(alice).request("POST", f"/customers/{ours.pk}/merge",
                                     {"duplicate": theirs.pk}, if_match="*")
    assert response.status_code == 404
