"""The history API, read as a rep's and an ERP's day: who may read and write what, stale
edits, bulk order pushes that are safe to retry, and errors that name the bad field."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from kehu.accounts.services import token_create
from kehu.history import services
from kehu.history.models import Communication, Order, OrderLine
from tests.api.conftest import Caller, errors_by_field

pytestmark = pytest.mark.django_db


@pytest.fixture
def call(alice, alices_customer, primary_contact):
    return services.communication_log(actor=alice, origin="manual", customer=alices_customer,
                                      data={"channel": "phone", "subject": "首次电话"})


def test_a_rep_logs_a_call_and_only_those_who_see_the_customer_can_read_it(
    alice, bob, charlie, mallory, anna, alices_customer, primary_contact, api_as
):
    created = api_as(alice).post(f"/customers/{alices_customer.pk}/communications", {
        "channel": "visit", "subject": "上门拜访", "next_follow_up": "2026-12-01"})
    assert created.status_code == 201
    body = created.json()
    assert (body["contact"], body["origin"], body["next_follow_up"]) == (
        primary_contact.pk, "api", "2026-12-01")
    path = f"/communications/{body['id']}"
    assert [api_as(u).get(path).status_code for u in (alice, bob, charlie, mallory, anna)] == [
        200, 404, 404, 200, 200]
    assert api_as(charlie).get("/communications").json()["items"] == []
    assert api_as(anna).patch(path, {"outcome": "成交"}, if_match=1).status_code == 403
    assert api_as(charlie).patch(path, {"outcome": "成交"}, if_match=1).status_code == 404


def test_an_edit_from_a_stale_version_is_412_and_changes_nothing(alice, call, api_as):
    api = api_as(alice)
    first = api.patch(f"/communications/{call.pk}", {"outcome": "有意向"}, if_match='"1"')
    assert (first.status_code, first["ETag"]) == (200, '"2"')
    stale = api.patch(f"/communications/{call.pk}", {"outcome": "没兴趣"}, if_match='"1"')
    assert stale.status_code == 412
    assert stale.json()["detail"] and stale["ETag"] == '"2"'
    assert Communication.objects.get(pk=call.pk).outcome == "有意向"
    assert api.delete(f"/communications/{call.pk}", if_match=1).status_code == 412
    assert api.delete(f"/communications/{call.pk}", if_match=2).status_code == 204


def test_an_erp_pushing_the_same_batch_twice_creates_the_orders_once(
    alice, alices_customer, catalogue, api_as
):
    batch = {"orders": [
        {"customer": alices_customer.pk, "external_number": f"ERP-{n:04d}",
         "ordered_on": "2026-03-01", "status": "paid",
         "lines": [{"product": "TEA-LJ-250", "quantity": 1 + n % 3}]}
        for n in range(120)
    ]}
    api = api_as(alice)
    first = api.post("/orders/bulk", batch)
    assert first.status_code == 200
    assert (first.json()["created"], first.json()["existing"]) == (120, 0)
    again = api.post("/orders/bulk", batch)
    assert (again.json()["created"], again.json()["existing"]) == (0, 120)
    assert sorted(again.json()["existing_ids"]) == sorted(first.json()["created_ids"])
    assert Order.objects.filter(customer=alices_customer).count() == 120
    assert OrderLine.objects.filter(order__customer=alices_customer).count() == 120


def test_one_bad_row_refuses_the_whole_batch_and_names_the_row(
    alice, alices_customer, catalogue, api_as
):
    batch = {"orders": [
        {"customer": alices_customer.pk, "external_number": "ERP-1",
         "lines": [{"product": "TEA-LJ-250", "quantity": 1}]},
        {"customer": alices_customer.pk, "external_number": "ERP-2",
         "lines": [{"product": "NO-SUCH-SKU", "quantity": 1}]},
    ]}
    response = api_as(alice).post("/orders/bulk", batch)
    assert response.status_code == 422
    assert list(errors_by_field(response)) == ["orders.1.lines.0.product"]
    assert not Order.objects.exists()


def test_bulk_rows_for_a_customer_out_of_reach_are_refused(
    charlie, alices_customer, catalogue, api_as
):
    batch = {"orders": [{"customer": alices_customer.pk, "external_number": "ERP-X",
                         "lines": [{"product": "TEA-LJ-250", "quantity": 1}]}]}
    response = api_as(charlie).post("/orders/bulk", batch)
    assert response.status_code == 422
    assert "orders.0.customer" in errors_by_field(response)
    assert not Order.objects.exists()


def test_validation_errors_have_the_api_shape_and_name_the_field(
    alice, alices_customer, api_as
):
    api = api_as(alice)
    csat = api.post(f"/customers/{alices_customer.pk}/surveys", {"kind": "csat", "score": 9})
    assert csat.status_code == 422
    assert set(csat.json()) == {"detail", "errors"}
    assert list(errors_by_field(csat)) == ["score"]
    unknown = api.post(f"/customers/{alices_customer.pk}/needs", {"content": "x", "colour": "红"})
    assert unknown.status_code == 422
    assert "colour" in errors_by_field(unknown)
    lost = services.opportunity_create(actor=alices_customer.owner, origin="manual", customer=alices_customer,
                                       data={"title": "丢了的单"})
    no_reason = api.request("POST", f"/opportunities/{lost.pk}/close", {"won": False}, if_match=1)
    assert list(errors_by_field(no_reason)) == ["reason"]


def test_moving_an_opportunity_follows_the_stage_and_refuses_a_foreign_stage(
    alice, root, alices_customer, api_as
):
    deal = services.opportunity_create(actor=alice, origin="manual", customer=alices_customer,
                                       data={"title": "续约", "amount": "1000"})
    stages = api_as(alice).get("/pipelines").json()[0]["stages"]
    won = next(s for s in stages if s["kind"] == "won")
    moved = api_as(alice).request("POST", f"/opportunities/{deal.pk}/move", {"stage": won["id"]},
                                  if_match=1)
    assert (moved.json()["status"], moved.json()["stage"]["name"]) == ("won", won["name"])
    other = services.pipeline_save(actor=root, origin="manual", data={"name": "渠道流程"})
    foreign = services.stage_save(actor=root, origin="manual", data={"pipeline": other.pk, "name": "洽谈"})
    refused = api_as(alice).request("POST", f"/opportunities/{deal.pk}/move", {"stage": foreign.pk},
                                    if_match=moved["ETag"])
    assert refused.status_code == 422 and "stage" in errors_by_field(refused)


def test_the_timeline_pages_walk_every_entry_once_and_filter_by_kind(
    alice, charlie, alices_customer, api_as
):
    for n in range(7):
        services.communication_log(actor=alice, origin="manual", customer=alices_customer,
                                   data={"subject": f"第{n}次"})
        services.need_create(actor=alice, origin="manual", customer=alices_customer,
                             data={"content": f"需求{n}"})
    api = api_as(alice)
    seen, cursor = [], None
    while True:
        page = api.get(f"/customers/{alices_customer.pk}/timeline", limit=4,
                       **({"cursor": cursor} if cursor else {})).json()
        seen += [(e["kind"], e["id"]) for e in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert len(seen) == len(set(seen)) == 14
    needs = api.get(f"/customers/{alices_customer.pk}/timeline", kinds="need", limit=50).json()
    assert {e["kind"] for e in needs["items"]} == {"need"} and len(needs["items"]) == 7
    assert api_as(charlie).get(f"/customers/{alices_customer.pk}/timeline").status_code == 404
    assert api_as(charlie).get(f"/customers/{alices_customer.pk}/summary").status_code == 404
    bad = api.get(f"/customers/{alices_customer.pk}/timeline", cursor="garbage")
    assert bad.status_code == 422


def test_the_preference_is_read_and_replaced_with_its_version(alice, alices_customer, api_as):
    api = api_as(alice)
    path = f"/customers/{alices_customer.pk}/preference"
    assert api.get(path).json()["version"] == 0  # nothing recorded yet: If-Match "0"
    saved = api.request("PUT", path, {"interests": ["茶叶", "茶具"], "budget_min": "1000",
                                      "budget_max": "5000"}, if_match='"0"')
    assert saved.status_code == 200
    assert saved.json()["interests"] == sorted(["茶叶", "茶具"])
    stale = api.request("PUT", path, {"pain_points": "交期"}, if_match='"0"')
    assert stale.status_code == 412
    upside_down = api.request("PUT", path, {"budget_min": "9000", "budget_max": "10"},
                              if_match=saved["ETag"])
    assert list(errors_by_field(upside_down)) == ["budget_max"]


def _upload(user, path: str, name: str, content: bytes):
    client = Client()
    token = token_create(user=user, name="upload")[1]
    return client.post("/api/v1" + path, {"file": SimpleUploadedFile(name, content)},
                       headers={"Authorization": f"Bearer {token}"})


def test_attachments_are_uploaded_by_writers_of_the_customer_only(
    alice, charlie, anna, call, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path
    path = f"/communications/{call.pk}/attachments"
    ok = _upload(alice, path, "报价单.pdf", b"%PDF-1.4 quote")
    assert ok.status_code == 201
    assert (ok.json()["name"], ok.json()["size"]) == ("报价单.pdf", 14)
    assert _upload(charlie, path, "x.pdf", b"x").status_code == 404
    assert _upload(anna, path, "x.pdf", b"x").status_code == 403
    settings.KEHU_ATTACHMENT_MAX_BYTES = 10
    too_big = _upload(alice, path, "big.pdf", b"0123456789ABC")
    # Stopped while streaming in (kehu.core.uploads): 413, naming the file part.
    assert too_big.status_code == 413 and list(errors_by_field(too_big)) == ["file"]
    shown = Caller(token_create(user=alice, name="t")[1]).get(f"/communications/{call.pk}")
    assert [a["name"] for a in shown.json()["attachments"]] == ["报价单.pdf"]


def test_only_admins_configure_pipelines_and_managers_keep_the_catalogue(
    alice, mallory, root, api_as
):
    assert api_as(alice).post("/pipelines", {"name": "大客户流程"}).status_code == 403
    created = api_as(root).post("/pipelines", {"name": "大客户流程"})
    assert created.status_code == 201
    stage = api_as(root).post(f"/pipelines/{created.json()['id']}/stages",
                              {"name": "立项", "probability": 20})
    assert stage.json()["probability"] == 20
    product = {"sku": "GIFT-01", "name": "中秋礼盒", "unit_price": "288.00", "category": "礼盒"}
    assert api_as(alice).post("/products", product).status_code == 403
    made = api_as(mallory).post("/products", product)
    assert (made.status_code, made.json()["category"]) == (201, "礼盒")
    assert api_as(alice).get("/products").json()["items"][0]["sku"] == "GIFT-01"
