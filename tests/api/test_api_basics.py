"""Authentication, /me, the docs page, error shapes and the cost of a list call."""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from kehu.accounts.models import ApiToken
from kehu.accounts.services import token_create, token_revoke
from kehu.customers import services

pytestmark = pytest.mark.django_db


def test_no_token_a_wrong_token_and_a_revoked_token_are_all_401(alice, api_as):
    token, secret = token_create(user=alice, name="script")
    token_revoke(token=token)
    client = Client()
    for headers in ({}, {"Authorization": "Bearer kehu_wrong"}, {"Authorization": f"Bearer {secret}"},
                    {"Authorization": "Basic YWxpY2U6cGFzcw=="}):
        response = client.get("/api/v1/customers", headers=headers)
        assert response.status_code == 401
        assert response.json() == {"detail": "Authentication required", "errors": []}
        assert response["WWW-Authenticate"].startswith("Bearer")


def test_a_deactivated_users_token_stops_working(alice, api_as):
    caller = api_as(alice)
    assert caller.get("/me").status_code == 200
    alice.is_active = False
    alice.save(update_fields=["is_active"])
    assert caller.get("/me").status_code == 401


def test_me_tells_who_i_am_and_what_i_may_do(alice, anna, api_as):
    me = api_as(alice).get("/me").json()
    assert me["username"] == "alice" and me["name"] == "Alice 王"
    assert me["role"]["code"] == "sales" and me["scope"] == "own"
    assert me["department"]["name"] == "华东区"
    assert (me["can_write"], me["masks_sensitive"], me["is_admin"]) == (True, False, False)
    analyst = api_as(anna).get("/me").json()
    assert (analyst["scope"], analyst["can_write"], analyst["masks_sensitive"]) == ("all", False, True)
    assert ApiToken.objects.filter(user=alice, last_used_at__isnull=False).exists()


def test_the_web_session_works_and_unsafe_calls_need_the_csrf_token(alice):
    client = Client(enforce_csrf_checks=True)
    client.force_login(alice)
    assert client.get("/api/v1/me").json()["username"] == "alice"
    body = {"kind": "company", "name": "会话创建的客户"}
    refused = client.post("/api/v1/customers", body, content_type="application/json")
    assert refused.status_code == 403
    assert refused.json() == {"detail": "CSRF check failed", "errors": []}
    secret = "a" * 32
    client.cookies["csrftoken"] = secret
    accepted = client.post("/api/v1/customers", body, content_type="application/json",
                           headers={"X-CSRFToken": secret})
    assert accepted.status_code == 201
    assert accepted.json()["origin"] == "api"


def test_an_anonymous_unsafe_call_is_401_not_a_csrf_403():
    response = Client(enforce_csrf_checks=True).post("/api/v1/customers", {},
                                                     content_type="application/json")
    assert response.status_code == 401


def test_the_docs_page_loads_nothing_from_outside(alice, login):
    client = login(alice)
    page = client.get("/api/v1/docs")
    assert page.status_code == 200
    html = page.content.decode()
    assert "swagger-ui-bundle.js" in html
    external = re.findall(r"""(?:src|href)\s*=\s*["'](?:https?:)?//[^"']+""", html)
    assert external == []
    assert '"validatorUrl": null' in html  # Swagger UI would otherwise fetch a badge from outside
    schema = client.get("/api/v1/openapi.json").json()
    assert "/api/v1/customers/{customer_id}" in schema["paths"]
    assert {"BearerAuth", "SessionAuth"} <= set(schema["components"]["securitySchemes"])


def test_unknown_paths_wrong_methods_and_broken_json_answer_in_the_same_shape(alice, api_as):
    caller = api_as(alice)
    missing = caller.get("/no-such-thing")
    assert (missing.status_code, missing.json()) == (404, {"detail": "Not found", "errors": []})
    wrong_method = caller.request("PUT", "/customers")
    assert wrong_method.status_code == 405 and set(wrong_method.json()) == {"detail", "errors"}
    broken = caller.client.post("/api/v1/customers", "{not json", content_type="application/json",
                                headers=caller.headers)
    assert broken.status_code == 400 and set(broken.json()) == {"detail", "errors"}


def _list_queries(caller) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = caller.get("/customers", limit=50)
    assert response.status_code == 200
    return len(captured)


def test_a_customer_list_costs_the_same_few_queries_for_3_or_40_rows(
    alice, root, api_as, make_customer, django_assert_max_num_queries
):
    services.custom_field_save(actor=root, origin="manual", data={"key": "level", "label": "等级",
                                                 "field_type": "choice", "choices": ["A", "B"]})
    caller = api_as(alice)
    caller.get("/me")  # the token's last-used stamp is written on first use only
    for i in range(3):
        make_customer(alice, name=f"客户{i}", tags=["重点", f"t{i}"], custom={"level": "A"})
    small = _list_queries(caller)
    for i in range(3, 40):
        make_customer(alice, name=f"客户{i}", tags=["重点", f"t{i}"], custom={"level": "B"})
    # token lookup, the rep's shares, the rep's pools (kehu.pool.gate: none here, so no
    # subquery in the page's SQL), the page, its owners, its tags, its custom values
    with django_assert_max_num_queries(7):
        assert caller.get("/customers", limit=50).status_code == 200
    assert _list_queries(caller) == small
