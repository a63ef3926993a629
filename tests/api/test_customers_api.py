"""The customers API as people use it: each calls with their own token."""

from __future__ import annotations

import pytest

from kehu.customers import services
from kehu.customers.api import CustomerOut, CustomerPage
from kehu.customers.models import Customer
from tests.api.conftest import errors_by_field

pytestmark = pytest.mark.django_db


def names(response) -> list[str]:
    assert response.status_code == 200, response.content
    return [item["name"] for item in response.json()["items"]]


def test_a_reps_customer_is_invisible_to_other_reps_in_list_detail_and_search(
    alice, bob, charlie, api_as, alices_customer
):
    path = f"/customers/{alices_customer.pk}"
    assert names(api_as(alice).get("/customers")) == ["杭州西湖茶业有限公司"]
    for outsider in (api_as(bob), api_as(charlie)):
        assert names(outsider.get("/customers")) == []
        assert names(outsider.get("/customers", q="西湖")) == []
        assert names(outsider.get("/customers", q="13812345678")) == []
        hidden, missing = outsider.get(path), outsider.get("/customers/999999")
        assert hidden.status_code == missing.status_code == 404
        assert hidden.content == missing.content == b'{"detail":"Not found","errors":[]}'


def test_the_manager_sees_her_reps_customer(mallory, api_as, alices_customer):
    manager = api_as(mallory)
    assert names(manager.get("/customers", q="xhcy")) == ["杭州西湖茶业有限公司"]
    detail = manager.get(f"/customers/{alices_customer.pk}")
    assert detail.json()["phones"] == ["+8613812345678"]
    assert detail.json()["owner"]["name"] == "Alice 王"


def test_the_analyst_reads_masked_values_and_cannot_edit(anna, api_as, alices_customer):
    analyst = api_as(anna)
    body = analyst.get(f"/customers/{alices_customer.pk}").json()
    assert body["phones"] == ["138****5678"]
    assert body["emails"] == ["b***@xihu-tea.cn"]
    assert body["masked"] is True
    listed = analyst.get("/customers").json()["items"][0]
    assert listed["phones"] == ["138****5678"]

    response = analyst.patch(f"/customers/{alices_customer.pk}", {"name": "改名"}, if_match=1)
    assert response.status_code == 403
    assert response.json()["errors"] == []
    assert Customer.objects.get(pk=alices_customer.pk).name == "杭州西湖茶业有限公司"
    assert analyst.post("/customers", {"kind": "company", "name": "新客户"}).status_code == 403


def test_two_edits_from_the_same_version_one_wins_and_the_other_gets_412(
    alice, mallory, api_as, alices_customer
):
    path = f"/customers/{alices_customer.pk}"
    version = api_as(alice).get(path)["ETag"]
    assert version == '"1"'
    first = api_as(alice).patch(path, {"name": "杭州西湖茶业集团"}, if_match=version)
    second = api_as(mallory).patch(path, {"city": "杭州"}, if_match=version)
    assert first.status_code == 200
    assert first["ETag"] == '"2"' and first.json()["version"] == 2
    assert second.status_code == 412
    assert second["ETag"] == '"2"'
    assert set(second.json()) == {"detail", "errors"}
    stored = Customer.objects.get(pk=alices_customer.pk)
    assert (stored.name, stored.city, stored.version) == ("杭州西湖茶业集团", "", 2)


@pytest.mark.parametrize("form", ['2', '"2"', 'W/"2"'])
def test_if_match_accepts_plain_quoted_and_weak_etags(alice, api_as, alices_customer, form):
    caller = api_as(alice)
    caller.patch(f"/customers/{alices_customer.pk}", {"city": "杭州"}, if_match=1)
    assert caller.patch(f"/customers/{alices_customer.pk}", {"district": "西湖区"},
                        if_match=form).status_code == 200
    assert caller.patch(f"/customers/{alices_customer.pk}", {"district": "上城区"},
                        if_match=form).status_code == 412


def test_a_stale_delete_is_refused_and_the_customer_stays(alice, api_as, alices_customer):
    caller = api_as(alice)
    caller.patch(f"/customers/{alices_customer.pk}", {"city": "杭州"}, if_match=1)
    assert caller.delete(f"/customers/{alices_customer.pk}", if_match=1).status_code == 412
    assert caller.get(f"/customers/{alices_customer.pk}").status_code == 200
    assert caller.delete(f"/customers/{alices_customer.pk}", if_match=2).status_code == 204
    assert caller.get(f"/customers/{alices_customer.pk}").status_code == 404
    restored = caller.post(f"/customers/{alices_customer.pk}/restore")
    assert restored.status_code == 200 and restored.json()["version"] == 4
    assert caller.get(f"/customers/{alices_customer.pk}").status_code == 200


def test_a_bad_phone_is_a_422_naming_the_field_and_nothing_is_saved(alice, api_as):
    response = api_as(alice).post("/customers", {"kind": "company", "name": "坏号码公司",
                                                 "phones": ["12345"], "emails": ["not-an-email"]})
    assert response.status_code == 422
    fields = errors_by_field(response)
    assert set(fields) == {"phones", "emails"}
    assert "12345" in fields["phones"][0]
    assert not Customer.objects.filter(name="坏号码公司").exists()


def test_schema_errors_have_the_same_shape_with_the_dotted_location(alice, api_as):
    response = api_as(alice).post("/customers", {"kind": "company", "name": "x",
                                                 "phones": [1], "nmae": "typo"})
    assert response.status_code == 422
    assert set(errors_by_field(response)) == {"phones.0", "nmae"}
    assert set(errors_by_field(api_as(alice).get("/customers", limit=500))) == {"limit"}


def test_creating_through_the_api_records_the_api_as_origin(alice, api_as, root):
    services.custom_field_save(actor=root, origin="manual", data={"key": "level", "label": "等级",
                                                 "field_type": "choice", "choices": ["A", "B"]})
    response = api_as(alice).post("/customers", {
        "kind": "company", "name": "北京字节跳动科技有限公司", "phones": ["010-8888 6666"],
        "emails": ["BD@Example.COM"], "province": "北京市", "city": "北京市",
        "tags": ["重点客户"], "custom": {"level": "A"},
    })
    assert response.status_code == 201, response.content
    body = CustomerOut.model_validate(response.json()).model_dump()
    assert body["origin"] == "api"
    assert body["phones"] == ["+861088886666"]
    assert body["emails"] == ["BD@example.com"]
    assert body["tags"] == ["重点客户"]
    assert body["custom"] == {"level": "A"}
    assert body["owner"]["name"] == "Alice 王"
    assert response["Location"] == f"/api/v1/customers/{body['id']}"
    assert response["ETag"] == '"1"'


def test_a_patch_changes_only_the_fields_sent(alice, api_as, alices_customer):
    response = api_as(alice).patch(f"/customers/{alices_customer.pk}", {"city": "杭州"},
                                   if_match=1)
    assert response.json()["city"] == "杭州市"  # the official name (customers/regions)
    assert response.json()["phones"] == ["+8613812345678"]
    assert response.json()["name"] == "杭州西湖茶业有限公司"


def test_cursor_pagination_walks_every_row_once_forward_and_back(alice, api_as, make_customer):
    made = {make_customer(alice, name=f"客户{i:02d}").pk for i in range(7)}
    caller = api_as(alice)
    forward, pages, cursor = [], [], None
    while True:
        params = {"limit": 3, "sort": "name", **({"cursor": cursor} if cursor else {})}
        page = caller.get("/customers", **params).json()
        CustomerPage.model_validate(page)
        pages.append(page)
        forward += [item["id"] for item in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert len(forward) == len(set(forward)) == 7 and set(forward) == made
    assert [len(p["items"]) for p in pages] == [3, 3, 1]

    backward, cursor = [], pages[-1]["prev_cursor"]
    while cursor:
        page = caller.get("/customers", limit=3, sort="name", cursor=cursor).json()
        backward = [item["id"] for item in page["items"]] + backward
        cursor = page["prev_cursor"]
    assert backward == forward[:6]


def test_a_broken_cursor_is_a_422_on_the_cursor(alice, api_as):
    response = api_as(alice).get("/customers", cursor="not-a-cursor")
    assert response.status_code == 422
    assert set(errors_by_field(response)) == {"cursor"}


def test_filters_including_a_custom_field(alice, root, api_as, make_customer):
    services.custom_field_save(actor=root, origin="manual", data={"key": "level", "label": "等级",
                                                 "field_type": "choice", "choices": ["A", "B"]})
    make_customer(alice, name="A级制造", industry="manufacturing", custom={"level": "A"},
                  tags=["重点客户"])
    make_customer(alice, name="B级制造", industry="manufacturing", custom={"level": "B"})
    make_customer(alice, name="个人客户甲", kind="person")
    caller = api_as(alice)
    assert names(caller.get("/customers", cf_level="A")) == ["A级制造"]
    assert sorted(names(caller.get("/customers", industry="manufacturing"))) == ["A级制造", "B级制造"]
    assert names(caller.get("/customers", kind="person")) == ["个人客户甲"]
    assert names(caller.get("/customers", tag="重点客户")) == ["A级制造"]
    assert names(caller.get("/customers", industry="manufacturing", cf_level="B")) == ["B级制造"]
    body = caller.get("/customers", cf_level="A").json()["items"][0]
    assert body["custom"] == {"level": "A"} and body["tags"] == ["重点客户"]

    wrong = caller.get("/customers", cf_level="Z", kind="alien", cf_nothing="1")
    assert wrong.status_code == 422
    assert set(errors_by_field(wrong)) == {"cf_level", "kind", "cf_nothing"}


def test_the_manager_transfers_a_customer_from_one_rep_to_another(
    alice, bob, mallory, api_as, alices_customer
):
    response = api_as(mallory).post("/customers/transfer", {
        "ids": [alices_customer.pk], "to_user": bob.pk, "reason": "区域调整"})
    assert response.status_code == 200 and response.json() == {"moved": 1}
    assert api_as(alice).get(f"/customers/{alices_customer.pk}").status_code == 404
    assert api_as(bob).get(f"/customers/{alices_customer.pk}").json()["owner"]["id"] == bob.pk


def test_a_transfer_of_a_customer_out_of_reach_moves_nothing(
    alice, bob, charlie, api_as, alices_customer, make_customer
):
    charlies = make_customer(charlie, name="深圳客户")
    response = api_as(alice).post("/customers/transfer", {
        "ids": [alices_customer.pk, charlies.pk], "to_user": bob.pk})
    assert response.status_code == 404
    assert Customer.objects.get(pk=alices_customer.pk).owner == alice


def test_sharing_a_customer_lets_the_colleague_see_it_until_unshared(
    alice, charlie, api_as, alices_customer
):
    path = f"/customers/{alices_customer.pk}"
    shared = api_as(alice).post(f"{path}/shares", {"user": charlie.pk})
    assert shared.status_code == 201
    assert shared.json() == {"customer_id": alices_customer.pk,
                             "user": {"id": charlie.pk, "name": "Charlie 张"},
                             "level": "view", "ends_on": None}
    assert api_as(charlie).get(path).status_code == 200
    assert api_as(alice).delete(f"{path}/shares/{charlie.pk}").status_code == 204
    assert api_as(charlie).get(path).status_code == 404


def test_sharing_with_nobody_is_a_422_on_user(alice, api_as, alices_customer):
    response = api_as(alice).post(f"/customers/{alices_customer.pk}/shares", {"user": 999999})
    assert response.status_code == 422
    assert set(errors_by_field(response)) == {"user"}


def test_a_patch_cannot_blank_the_name_or_the_kind(alice, api_as, alices_customer):
    caller = api_as(alice)
    for body in ({"name": ""}, {"name": None}, {"kind": ""}):
        response = caller.patch(f"/customers/{alices_customer.pk}", body, if_match=1)
        assert response.status_code == 422, body
        assert set(errors_by_field(response)) == set(body)
    assert Customer.objects.get(pk=alices_customer.pk).name == "杭州西湖茶业有限公司"


def test_a_customer_created_with_a_partial_address_reads_back_the_official_division_and_its_code(
    alice, api_as
):
    api = api_as(alice)
    created = api.post("/customers", {"kind": "company", "name": "深圳南山科技有限公司",
                                      "province": "广东", "city": "深圳", "district": "南山"})
    assert created.status_code == 201, created.content
    body = api.get(f"/customers/{created.json()['id']}").json()
    assert (body["province"], body["city"], body["district"], body["region_code"]) == (
        "广东省", "深圳市", "南山区", "440305")
    listed = next(c for c in api.get("/customers").json()["items"] if c["id"] == body["id"])
    assert listed["region_code"] == "440305"  # the list reads rows: the same answer
    unknown = api.post("/customers", {"kind": "company", "name": "火星贸易有限公司",
                                      "province": "火星"})
    assert unknown.status_code == 201 and unknown.json()["region_code"] is None
