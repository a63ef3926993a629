"""Fixtures for the web pages: fast password hashing and the people as logged-in clients."""

from __future__ import annotations

import pytest
from django.test import Client


@pytest.fixture(autouse=True)
def fast_passwords(settings):
    # Argon2 is right for production and far too slow for a hundred logins in a test run.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def login():
    """login(user) -> a test client signed in as `user`."""

    def make(user) -> Client:
        client = Client()
        client.force_login(user)
        return client

    return make
