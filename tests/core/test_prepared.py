"""`core.prepared.Prepared`: a query compiled once gives what the queryset gives, every time,
with whatever value it is run with (issue 15 item 4: the API token lookup uses it)."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from kehu.accounts.models import ApiToken, User
from kehu.accounts.services import _hash, token_create, token_revoke
from kehu.core.prepared import Prepared

pytestmark = pytest.mark.django_db


def by_hash(key_hash: str):
    return ApiToken.objects.select_related("user", "user__role") \
        .filter(key_hash=key_hash, revoked_at__isnull=True).order_by("pk")[:1]


def fields(obj) -> list:
    return [getattr(obj, f.attname) for f in obj._meta.concrete_fields]


def test_the_same_instances_as_the_queryset_for_each_value(alice, anna):
    prepared = Prepared(by_hash)
    for user in (alice, anna, alice):
        token, secret = token_create(user=user, name="script")
        [found] = prepared(_hash(secret))
        [expected] = list(by_hash(_hash(secret)))
        assert fields(found) == fields(expected) and found.pk == token.pk
        assert fields(found.user) == fields(expected.user)
        assert fields(found.user.role) == fields(expected.user.role)
        with CaptureQueriesContext(connection) as queries:
            assert found.user.role.code == user.role.code  # joined, not fetched again
        assert not queries.captured_queries
        assert not found._state.adding and found._state.db == "default"
    assert prepared(_hash("kehu_unknown")) == []
    token_revoke(token=token)
    assert prepared(_hash(secret)) == []  # one SQL, the current rows: nothing is cached


def test_only_plain_querysets_whose_value_is_a_parameter(alice):
    with pytest.raises(TypeError):
        Prepared(lambda name: User.objects.filter(username=name).values("pk"))("alice")
    with pytest.raises(ValueError):
        Prepared(lambda name: User.objects.filter(username="alice"))("alice")
