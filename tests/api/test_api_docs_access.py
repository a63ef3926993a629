"""Who reads the API's documentation: by default only people signed in or holding a token
(the schema maps every field and filter); an admin may make it public or turn it off."""

from __future__ import annotations

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db
DOCS, SCHEMA = "/api/v1/docs", "/api/v1/openapi.json"


def test_an_anonymous_visitor_is_sent_to_sign_in_and_the_schema_is_401():
    visitor = Client()
    page = visitor.get(DOCS)
    assert page.status_code == 302 and page["Location"] == "/login/?next=/api/v1/docs"
    schema = visitor.get(SCHEMA)
    assert schema.status_code == 401 and set(schema.json()) == {"detail", "errors"}
    assert visitor.get(SCHEMA, headers={"Authorization": "Bearer kehu_wrong"}).status_code == 401


def test_a_signed_in_person_and_a_token_read_them(alice, login, api_as):
    browser = login(alice)
    assert browser.get(DOCS).status_code == 200
    assert "paths" in browser.get(SCHEMA).json()
    script = api_as(alice)
    assert "paths" in script.client.get(SCHEMA, headers=script.headers).json()


def test_public_opens_them_and_off_closes_them_for_everyone(alice, login, settings):
    settings.KEHU_API_DOCS = "public"
    assert Client().get(SCHEMA).status_code == 200
    settings.KEHU_API_DOCS = "off"
    browser = login(alice)
    assert browser.get(DOCS).status_code == 404
    assert browser.get(SCHEMA).status_code == 404
