"""Fixtures shared with the API tests: `api_as(user)` calls the API with a real token."""

from tests.api.conftest import api_as  # noqa: F401 -- the API caller fixture
