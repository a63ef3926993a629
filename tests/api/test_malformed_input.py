"""Malformed input is a 4xx in the usual shape naming the field — never a 500 (issue 7 #5, #7).

The attack run found server errors on: ids past 2^63 in filters and paths, a null or
empty pipeline name, a NUL byte in `q`, a multipart body without a boundary, lone
surrogates in any JSON string (the bulk orders' `status` even gave Django's HTML 500
page), broken and deeply nested cursors, `If-Match: ²`; and changes accepted without
any If-Match at all. Each has a test here, named after the finding.
"""

from __future__ import annotations

import base64
import json

import pytest
from django.db import transaction
from django.test import Client

from kehu.api.responses import json_response
from kehu.config.api import api
from kehu.customers import services
from kehu.customers.models import Customer
from kehu.history import services as history_services
from kehu.history.models import Pipeline
from tests.api.conftest import PREFIX, errors_by_field
from tests.api.test_api_authorization_matrix import (
    MATRIX,
    World,
    _classification_ids,
    _pool_ids,
)
from tests.history.api_matrix import seed_history

pytestmark = pytest.mark.django_db

TOO_BIG = 2**63  # one past the largest bigint


def shape(response) -> dict[str, list[str]]:
    """The usual error shape, as {field: [messages]}; fails on anything else (HTML pages too)."""
    assert response["Content-Type"].startswith("application/json"), response.content[:200]
    body = response.json()
    assert set(body) == {"detail", "errors"} and isinstance(body["detail"], str)
    assert all(set(e) == {"field", "message"} for e in body["errors"])
    return errors_by_field(response)


def raw(caller, method: str, path: str, text: str, *, if_match: str | None = None):
    """Send `text` as the JSON body exactly as written (json.dumps cannot write "\\ud800")."""
    headers = dict(caller.headers, **({"If-Match": if_match} if if_match else {}))
    return getattr(caller.client, method.lower())(PREFIX + path, data=text.encode("utf-8"),
                                                  content_type="application/json", headers=headers)


def cursor_of(value) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")


@pytest.fixture
def alice_api(alice, api_as):
    return api_as(alice)


@pytest.fixture
def root_api(root, api_as):
    return api_as(root)


# --- lone surrogates and NUL bytes: one check for every string of every request ----------


SURROGATE_BODIES = [
    ("POST", "/customers", '{"kind": "company", "name": "x\\ud800y"}', "name"),
    ("POST", "/customers", '{"kind": "company", "name": "ok", "tags": ["a", "\\udfffb"]}',
     "tags.1"),
    ("POST", "/customers", '{"kind": "company", "name": "ok", "custom": {"level": "\\ud83d"}}',
     "custom.level"),
    ("POST", "/customers", '{"kind": "company", "name": "ok", "notes": "nul\\u0000here"}', "notes"),
]


@pytest.mark.parametrize(("method", "path", "body", "field"), SURROGATE_BODIES,
                         ids=[f for *_, f in SURROGATE_BODIES])
def test_lone_surrogate_in_any_string_is_422(alice_api, method, path, body, field):
    response = raw(alice_api, method, path, body)
    assert response.status_code == 422
    assert field in shape(response)
    assert not Customer.objects.exists()


def test_lone_surrogate_in_a_patch_is_422_and_changes_nothing(alice_api, alices_customer):
    response = raw(alice_api, "PATCH", f"/customers/{alices_customer.pk}",
                   '{"city": "\\udc00"}', if_match='"1"')
    assert response.status_code == 422 and list(shape(response)) == ["city"]
    assert Customer.objects.get(pk=alices_customer.pk).version == 1


def test_lone_surrogate_in_the_bulk_orders_status_is_a_json_422(alice_api, alices_customer):
    """It used to escape as Django's HTML 500 page: the error echoed a string UTF-8 cannot hold."""
    body = ('{"orders": [{"customer": ' + str(alices_customer.pk) + ', "external_number": "ERP-1",'
            ' "status": "paid\\ud800", "lines": []}]}')
    response = raw(alice_api, "POST", "/orders/bulk", body)
    assert response.status_code == 422
    assert "orders.0.status" in shape(response)


def test_a_key_holding_a_lone_surrogate_is_422_without_echoing_it(alice_api):
    response = raw(alice_api, "POST", "/customers",
                   '{"kind": "company", "name": "ok", "custom": {"\\ud800": 1}}')
    assert response.status_code == 422
    assert "custom" in shape(response)
    response.content.decode("utf-8")  # valid UTF-8 throughout


@pytest.mark.parametrize("path", ["/customers", "/contacts", "/orders", "/communications",
                                  "/opportunities", "/tickets", "/needs", "/surveys", "/products"])
def test_nul_byte_in_q_or_any_query_parameter_is_422(alice_api, path):
    response = alice_api.get(path, q="杭州\x00", status="paid\x00")
    assert response.status_code == 422
    fields = shape(response)
    assert "q" in fields
    assert "status" in fields


def test_nul_byte_in_a_custom_field_filter_is_422(alice_api, root):
    # A text field: any text is a valid filter value — but not one holding a NUL.
    services.custom_field_save(actor=root, origin="manual",
                               data={"key": "remark", "label": "备注", "field_type": "text"})
    assert alice_api.get("/customers", cf_remark="A").status_code == 200
    response = alice_api.get("/customers", cf_remark="A\x00")
    assert response.status_code == 422 and "cf_remark" in shape(response)


def test_an_error_message_that_echoes_a_surrogate_is_still_valid_json():
    response = json_response({"detail": "x", "errors": [{"field": "a\ud800", "message": "m"}]})
    assert json.loads(response.content) == {"detail": "x",
                                            "errors": [{"field": "a\ud800", "message": "m"}]}


# --- integers past 64 bits: ids in paths, filters and bodies ---------------------------------


@pytest.mark.parametrize(("path", "params", "field"), [
    ("/contacts", {"customer": TOO_BIG}, "customer"),
    ("/orders", {"customer": 10**30}, "customer"),
    ("/communications", {"customer": TOO_BIG}, "customer"),
    ("/opportunities", {"customer": 1, "pipeline": TOO_BIG}, "pipeline"),
    ("/customers", {"owner": 2**64}, "owner"),
    ("/customers", {"owner": -(2**63) - 1}, "owner"),
    (f"/customers/{TOO_BIG}", {}, "customer_id"),
    (f"/customers/{TOO_BIG}/timeline", {}, "customer_id"),
    (f"/orders/{10**25}", {}, "order_id"),
])
def test_integer_above_2_63_as_an_id_is_422_naming_it(alice_api, path, params, field):
    response = alice_api.get(path, **params)
    assert response.status_code == 422
    assert field in shape(response)


@pytest.mark.parametrize(("path", "body", "field"), [
    ("/customers/transfer", {"ids": [1, TOO_BIG], "to_user": 1}, "ids.1"),
    ("/customers/transfer", {"ids": [1], "to_user": 10**40}, "to_user"),
    ("/customers", {"kind": "company", "name": "大", "owner": 10**30}, "owner"),
    ("/orders/bulk", {"orders": [{"customer": TOO_BIG, "lines": []}]}, "orders.0.customer"),
])
def test_integer_above_2_63_in_a_body_is_422_naming_it(alice_api, path, body, field):
    response = alice_api.post(path, body)
    assert response.status_code == 422
    assert field in shape(response)


def test_the_openapi_document_bounds_every_integer_to_64_bits():
    document = api.get_openapi_schema()
    integers = []

    def walk(node):
        if isinstance(node, dict):
            if node.get("type") == "integer":
                integers.append(node)
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(document)
    assert integers
    assert all(n["maximum"] <= 2**63 - 1 and n["minimum"] >= -(2**63) for n in integers)


# --- cursors -----------------------------------------------------------------------------


BAD_CURSORS = {
    "not base64": "%%%not-a-cursor",
    "not ascii": "游标",
    "not json": base64.urlsafe_b64encode(b"\xff\xfe").decode(),
    "deeply nested": base64.urlsafe_b64encode(b"[" * 100000 + b"]" * 100000).decode(),
    "nested, short": base64.urlsafe_b64encode(b"[" * 180 + b"]" * 180).decode(),
    "nested value": cursor_of([0, [1, [2, [3]]], 1]),
    "an object": cursor_of({"a": 1}),
    "too short": cursor_of([0, "x"]),
    "huge id": cursor_of([0, "2026-01-01T00:00:00+00:00", 2**70]),
    "boolean id": cursor_of([0, "2026-01-01T00:00:00+00:00", True]),
    "naive time": cursor_of([0, "2026-01-01T00:00:00", 1]),
    "time out of range": cursor_of([0, "0001-01-01T00:00:00+14:00", 1]),
    "null value": cursor_of([0, None, 1]),
    "nul in value": cursor_of([0, "a\x00", 1]),
    "direction 7": cursor_of([7, "2026-01-01T00:00:00+00:00", 1]),
    "too long": "A" * 5000,
}


@pytest.mark.parametrize("cursor", list(BAD_CURSORS.values()), ids=list(BAD_CURSORS))
@pytest.mark.parametrize("path", ["/customers", "/contacts", "/orders", "/communications",
                                  "/tickets", "/products"])
def test_bad_or_deeply_nested_cursor_is_422_on_cursor(alice_api, path, cursor):
    if path == "/products" and cursor in (BAD_CURSORS["naive time"],
                                          BAD_CURSORS["time out of range"]):
        pytest.skip("products sort by SKU: any text is a valid SKU to start after")
    response = alice_api.get(path, cursor=cursor)
    assert response.status_code == 422
    assert list(shape(response)) == ["cursor"]


@pytest.mark.parametrize("cursor", list(BAD_CURSORS.values()), ids=list(BAD_CURSORS))
def test_bad_or_deeply_nested_timeline_cursor_is_422_on_cursor(alice_api, alices_customer, cursor):
    response = alice_api.get(f"/customers/{alices_customer.pk}/timeline", cursor=cursor)
    assert response.status_code == 422
    assert list(shape(response)) == ["cursor"]


def test_a_cursor_of_the_wrong_type_for_the_sort_column_is_422(alice_api, alices_customer):
    # The contacts sort by id: a text where the id goes is not one of our cursors.
    response = alice_api.get("/contacts", cursor=cursor_of([0, "abc", 1]))
    assert response.status_code == 422 and list(shape(response)) == ["cursor"]


# --- If-Match: required, and parsed by the one parse_version ----------------------------------


@pytest.mark.parametrize("junk", ["²", "abc", '"1', "1, 2", "W/", "-1", "１", "1.0", "0x1"])
def test_junk_if_match_is_422_on_if_match(alice_api, alices_customer, junk):
    response = alice_api.patch(f"/customers/{alices_customer.pk}", {"city": "杭州"},
                               if_match=junk)
    assert response.status_code == 422
    assert list(shape(response)) == ["If-Match"]
    assert Customer.objects.get(pk=alices_customer.pk).city == ""


def test_patch_without_if_match_is_428(alice_api, alices_customer):
    response = alice_api.patch(f"/customers/{alices_customer.pk}", {"city": "杭州"})
    assert response.status_code == 428
    assert list(shape(response)) == ["If-Match"]
    assert Customer.objects.get(pk=alices_customer.pk).city == ""


def test_delete_without_if_match_is_428(alice_api, alices_customer):
    response = alice_api.delete(f"/customers/{alices_customer.pk}")
    assert response.status_code == 428
    assert list(shape(response)) == ["If-Match"]
    assert Customer.objects.get(pk=alices_customer.pk).deleted_at is None


def test_two_editors_without_if_match_no_longer_overwrite_each_other(
    alice, mallory, api_as, alices_customer
):
    path = f"/customers/{alices_customer.pk}"
    etag = api_as(alice).get(path)["ETag"]
    assert api_as(alice).patch(path, {"city": "杭州"}, if_match=etag).status_code == 200
    assert api_as(mallory).patch(path, {"city": "宁波"}).status_code == 428
    assert api_as(mallory).patch(path, {"city": "宁波"}, if_match=etag).status_code == 412
    assert api_as(mallory).delete(path).status_code == 428
    assert Customer.objects.get(pk=alices_customer.pk).city == "杭州市"  # the official name


def test_if_match_star_explicitly_accepts_any_version(alice_api, alices_customer):
    response = alice_api.patch(f"/customers/{alices_customer.pk}", {"city": "杭州"}, if_match="*")
    assert response.status_code == 200 and response["ETag"] == '"2"'


def versioned_operations() -> list[tuple[str, str]]:
    """(method, path) of every operation whose OpenAPI entry documents the 428."""
    found = []
    for path, item in api.get_openapi_schema()["paths"].items():
        for method, operation in item.items():
            if {428, "428"} & set(operation.get("responses", {})):
                found.append((method.upper(), path.removeprefix(PREFIX)))
    return sorted(found)


# Configuration and links without a version of their own: nothing to match.
UNVERSIONED = ("/products/", "/pipelines/", "/stages/", "/customers/{customer_id}/shares/",
               "/customers/{customer_id}/classification/")  # an override: set or cleared whole


def test_every_change_of_a_versioned_record_documents_the_428_and_a_required_if_match():
    document = api.get_openapi_schema()
    versioned = set(versioned_operations())
    for path, item in document["paths"].items():
        path = path.removeprefix(PREFIX)
        for method, operation in item.items():
            headers = {p["name"]: p for p in operation.get("parameters", []) if p["in"] == "header"}
            if "If-Match" in headers:
                assert headers["If-Match"]["required"] is True, (method, path)
                assert (method.upper(), path) in versioned, (method, path)
            if method in ("patch", "delete") and not path.startswith(UNVERSIONED):
                assert (method.upper(), path) in versioned, (method, path)
    assert {m for m, _ in versioned} == {"PATCH", "DELETE", "PUT", "POST"}  # POST: move, close
    assert "428 Precondition Required" in document["info"]["description"]


@pytest.fixture
def world(alice, bob, charlie, mallory, anna, root, alices_customer, east):
    contact = services.contact_create(actor=alice, origin="manual", customer=alices_customer,
                                      data={"name": "陈采购"})
    people = {"owner": alice, "teammate": bob, "outsider": charlie, "manager": mallory,
              "analyst": anna, "admin": root, "anonymous": None}
    return World(people=people, customer=alices_customer, contact=contact,
                 history={**seed_history(people, alices_customer), **_classification_ids(root),
                          **_pool_ids(root, east)})


@pytest.mark.parametrize("operation", versioned_operations(), ids=" ".join)
def test_every_versioned_change_without_if_match_is_428(world, api_as, operation):
    method, path = operation
    if MATRIX[operation].setup:  # what the matrix row needs first (a second customer …)
        MATRIX[operation].setup(world)
    body = MATRIX[operation].body(world) if MATRIX[operation].body else None
    url = path.format(**world.path_params())
    with transaction.atomic():
        response = api_as(world.people["owner"]).request(
            method, url, body if body is not None or method == "DELETE" else {})
        assert response.status_code == 428, response.content
        assert list(shape(response)) == ["If-Match"]
        transaction.set_rollback(True)


# --- the other findings of the run ---------------------------------------------------------


def test_multipart_upload_without_a_boundary_is_400_naming_the_body(alice, api_as, alices_customer):
    call = history_services.communication_log(actor=alice, origin="manual",
                                              customer=alices_customer, data={"subject": "电话"})
    caller = api_as(alice)
    response = caller.client.post(f"{PREFIX}/communications/{call.pk}/attachments",
                                  data=b"--x\r\n\r\nno boundary declared\r\n",
                                  content_type="multipart/form-data", headers=caller.headers)
    assert response.status_code == 400
    assert list(shape(response)) == ["body"]


@pytest.mark.parametrize("name", [None, "", "   "])
def test_null_or_empty_pipeline_name_on_patch_is_422(root_api, name):
    pipeline = Pipeline.objects.create(name="标准流程")
    response = root_api.patch(f"/pipelines/{pipeline.pk}", {"name": name})
    assert response.status_code == 422
    assert list(shape(response)) == ["name"]
    assert Pipeline.objects.get(pk=pipeline.pk).name == "标准流程"


@pytest.mark.parametrize("name", [None, ""])
def test_null_or_empty_stage_name_on_patch_is_422(root_api, name):
    pipeline = Pipeline.objects.create(name="标准流程")
    created = root_api.post(f"/pipelines/{pipeline.pk}/stages", {"name": "初步接触"})
    assert created.status_code == 201, created.content
    response = root_api.patch(f"/stages/{created.json()['id']}", {"name": name})
    assert response.status_code == 422
    assert list(shape(response)) == ["name"]


def test_an_anonymous_caller_with_malformed_input_still_gets_401():
    response = Client().get(f"{PREFIX}/customers", {"q": "\x00", "owner": 2**64})
    assert response.status_code == 401


@pytest.mark.parametrize("path", ["/communications/-1/attachments", "/customers/null",
                                  "/no-such-thing"])
def test_an_unsafe_call_to_an_unknown_api_path_is_a_json_404_not_the_csrf_page(path):
    """schemathesis found these: the catch-all 404 ran Django's CSRF check (an HTML 403)."""
    response = Client(enforce_csrf_checks=True).post(f"{PREFIX}{path}", {"x": "1"})
    assert response.status_code == 404
    assert shape(response) == {}


def test_an_unparseable_json_body_is_400_naming_the_body(alice_api):
    response = raw(alice_api, "POST", "/customers", '{"kind": "company", "name": ')
    assert response.status_code == 400
    assert list(shape(response)) == ["body"]

