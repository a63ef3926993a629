"""Passwords are stored with Argon2; a password stored by an older hasher (PBKDF2, Django's
default before Kehu chose Argon2) is upgraded the next time its owner signs in. The rest of
the suite hashes with MD5 for speed (tests/conftest.py), so these tests put production's
hashers back."""

from __future__ import annotations

import pytest
from django.contrib.auth.hashers import identify_hasher, make_password
from django.test import Client
from django.urls import reverse

from kehu.accounts.models import User
from kehu.accounts.services import user_create
from kehu.config import settings as production

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def production_hashers(settings):
    settings.PASSWORD_HASHERS = production.PASSWORD_HASHERS


def algorithm_of(username: str) -> str:
    return identify_hasher(User.objects.get(username=username).password).algorithm


def test_a_new_person_gets_an_argon2_hash():
    user_create(username="dora", role_code="sales", password="dora-pass-123")
    assert algorithm_of("dora") == "argon2"


def test_an_old_pbkdf2_hash_is_upgraded_at_the_next_sign_in():
    user = user_create(username="dora", role_code="sales", password="dora-pass-123")[0]
    User.objects.filter(pk=user.pk).update(
        password=make_password("dora-pass-123", hasher="pbkdf2_sha256"))
    assert algorithm_of("dora") == "pbkdf2_sha256"

    response = Client().post(reverse("login"), {"username": "dora",
                                                "password": "dora-pass-123"})

    assert response.status_code == 302
    assert algorithm_of("dora") == "argon2"
