"""The web forms parse versions, ids and owners with the shared parsers (issue 7 #5, #7; issue 6 #4).

A junk or missing `version` in an edit form is a form error (never a 500 from
`int("abc")`, never a silently skipped check); a junk id in a form is a clear
refusal; a NUL byte in any query or form value is a 400 page naming the field.
"""

from __future__ import annotations

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from kehu.customers import services
from kehu.customers.models import Contact, Customer
from kehu.history import services as history_services
from kehu.history.models import Opportunity, Stage

pytestmark = pytest.mark.django_db

JUNK_VERSIONS = ["abc", "²", "１", "-1", "1.5", "99999999999999999999999"]


def text(response) -> str:
    return response.content.decode()


def edit_form(customer, **extra):
    return {"kind": "company", "name": "改过的名字", **extra}


@pytest.fixture
def contact(alice, alices_customer):
    return services.contact_create(actor=alice, origin="manual", customer=alices_customer,
                                   data={"name": "陈采购"})


@pytest.fixture
def deal(alice, alices_customer):
    return history_services.opportunity_create(actor=alice, origin="manual",
                                               customer=alices_customer, data={"title": "年度采购"})


@pytest.mark.parametrize("junk", JUNK_VERSIONS)
def test_web_form_with_junk_version_is_a_form_error(alice, login, alices_customer, junk):
    response = login(alice).post(reverse("customers:edit", args=[alices_customer.pk]),
                                 edit_form(alices_customer, version=junk))
    assert response.status_code == 200
    assert "版本号无效" in text(response)
    stored = Customer.objects.get(pk=alices_customer.pk)
    assert (stored.name, stored.version) == ("杭州西湖茶业有限公司", 1)


def test_web_edit_form_without_version_is_a_form_error(alice, login, alices_customer):
    response = login(alice).post(reverse("customers:edit", args=[alices_customer.pk]),
                                 edit_form(alices_customer))
    assert response.status_code == 200
    assert "缺少版本号" in text(response)
    assert Customer.objects.get(pk=alices_customer.pk).name == "杭州西湖茶业有限公司"


def test_web_edit_form_with_the_version_read_saves(alice, login, alices_customer):
    response = login(alice).post(reverse("customers:edit", args=[alices_customer.pk]),
                                 edit_form(alices_customer, version="1"))
    assert response.status_code == 302
    assert Customer.objects.get(pk=alices_customer.pk).version == 2


@pytest.mark.parametrize("junk", [*JUNK_VERSIONS, None])
def test_web_contact_form_with_junk_or_no_version_is_a_form_error(alice, login, contact, junk):
    data = {"name": "陈经理", **({"version": junk} if junk is not None else {})}
    response = login(alice).post(reverse("customers:contact_edit", args=[contact.pk]), data)
    assert response.status_code == 200
    assert "版本号" in text(response)
    assert Contact.objects.get(pk=contact.pk).name == "陈采购"


@pytest.mark.parametrize("junk", [*JUNK_VERSIONS, None])
def test_web_delete_with_junk_or_no_version_is_refused_not_a_500(alice, login, alices_customer,
                                                                  junk):
    data = {"version": junk} if junk is not None else {}
    response = login(alice).post(reverse("customers:delete", args=[alices_customer.pk]), data)
    assert response.status_code == 400
    assert "版本号" in text(response)
    assert Customer.objects.get(pk=alices_customer.pk).deleted_at is None


@pytest.mark.parametrize("junk", [*JUNK_VERSIONS, None])
def test_web_contact_delete_with_junk_or_no_version_is_refused(alice, login, contact, junk):
    data = {"version": junk} if junk is not None else {}
    response = login(alice).post(reverse("customers:contact_delete", args=[contact.pk]), data)
    assert response.status_code == 400
    assert Contact.objects.filter(pk=contact.pk).exists()


@pytest.mark.parametrize(("data", "word"), [
    ({"version": "abc"}, "版本号无效"),
    ({}, "缺少版本号"),
    ({"version": "²"}, "版本号无效"),
])
def test_web_kanban_move_with_junk_or_no_version_is_refused(alice, login, deal, data, word):
    stage = Stage.objects.filter(pipeline=deal.pipeline).exclude(pk=deal.stage_id).first()
    response = login(alice).post(reverse("history:move", args=[deal.pk]),
                                 {"stage": stage.pk, **data}, headers={"HX-Request": "true"})
    assert response.status_code == 400
    assert word in text(response)
    assert Opportunity.objects.get(pk=deal.pk).stage_id == deal.stage_id


@pytest.mark.parametrize("stage", ["²", "abc", str(2**64)])
def test_web_kanban_move_with_a_junk_stage_is_refused(alice, login, deal, stage):
    response = login(alice).post(reverse("history:move", args=[deal.pk]),
                                 {"stage": stage, "version": "1"}, headers={"HX-Request": "true"})
    assert response.status_code == 400
    assert Opportunity.objects.get(pk=deal.pk).version == 1


@pytest.mark.parametrize("ids", [["²"], ["abc"], [str(2**64)], ["1", "٣"]])
def test_web_bulk_transfer_with_junk_ids_is_refused_naming_them(alice, bob, login,
                                                                alices_customer, ids):
    client = login(alice)
    response = client.post(reverse("customers:bulk_transfer"),
                           {"ids": ids, "to_user": bob.pk})
    assert response.status_code == 302
    assert any("不是有效的编号" in str(m) for m in get_messages(response.wsgi_request))
    assert Customer.objects.get(pk=alices_customer.pk).owner == alice


@pytest.mark.parametrize("owner", ["abc", "²", str(2**64)])
def test_web_list_with_a_junk_owner_is_refused_not_a_500(alice, login, owner):
    response = login(alice).get(reverse("customers:list"), {"owner": owner})
    assert response.status_code in (200, 400)
    assert "不是有效的编号" in text(response)


@pytest.mark.parametrize(("name", "params"), [
    ("customers:list", {"q": "杭州\x00"}),
    ("history:orders", {"status": "paid\x00"}),
    ("history:opportunities", {"cursor": "\x00"}),
])
def test_nul_byte_in_a_web_query_is_a_400_naming_it(alice, login, name, params):
    response = login(alice).get(reverse(name), params)
    assert response.status_code == 400
    assert f"{next(iter(params))}:" in text(response)


def test_nul_byte_in_a_web_form_value_is_a_400_and_nothing_is_saved(alice, bob, login,
                                                                    alices_customer):
    response = login(alice).post(reverse("customers:transfer", args=[alices_customer.pk]),
                                 {"to_user": bob.pk, "reason": "调整\x00"})
    assert response.status_code == 400
    assert Customer.objects.get(pk=alices_customer.pk).owner == alice
