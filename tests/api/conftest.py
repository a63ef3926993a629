"""API test helpers: each person calls the API with a real token, like a script would."""

from __future__ import annotations

import json
import sys
from typing import Any

import pytest
from django.test import Client

from kehu.accounts.services import token_create

PREFIX = "/api/v1"


class Multipart(dict):
    """A body sent as multipart/form-data (file uploads) instead of JSON."""


class Caller:
    """One person's API client: a real bearer token on every request."""

    def __init__(self, token: str | None):
        self.client = Client()
        self.headers = {"Authorization": f"Bearer {token}"} if token else {}

    def request(self, method: str, path: str, body: Any = None, *, if_match: Any = None,
                params: dict | None = None):
        headers = dict(self.headers)
        if if_match is not None:
            headers["If-Match"] = str(if_match)
        kwargs: dict[str, Any] = {"headers": headers}
        if isinstance(body, Multipart):
            kwargs["data"] = dict(body)  # the test client encodes it as multipart/form-data
        elif body is not None:
            kwargs.update(data=json.dumps(body), content_type="application/json")
        elif params:
            kwargs["data"] = params
        return getattr(self.client, method.lower())(PREFIX + path, **kwargs)

    def get(self, path: str, **params):
        return self.request("GET", path, params=params)

    def post(self, path: str, body: Any = None):
        return self.request("POST", path, body if body is not None else {})

    def patch(self, path: str, body: Any, if_match: Any = None):
        return self.request("PATCH", path, body, if_match=if_match)

    def put(self, path: str, body: Any):
        return self.request("PUT", path, body)

    def delete(self, path: str, if_match: Any = None):
        return self.request("DELETE", path, if_match=if_match)


@pytest.fixture
def api_as():
    """api_as(user) -> a Caller holding a fresh token of `user`; api_as(None) has no token."""

    def make(user) -> Caller:
        if user is None:
            return Caller(None)
        return Caller(token_create(user=user, name="test")[1])

    return make


def errors_by_field(response) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for item in response.json()["errors"]:
        found.setdefault(item["field"], []).append(item["message"])
    return found


def pytest_terminal_summary(terminalreporter) -> None:
    """The schemathesis run's numbers (requests, statuses, server errors), when it ran."""
    module = sys.modules.get("tests.api.test_schemathesis")
    line = module.summary() if module is not None else None
    if line:
        terminalreporter.write_line(line)
