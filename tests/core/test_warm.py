"""A web process keeps the collector's full passes off what it holds for its whole life:
frozen once the app is loaded and again after its first request (core.warm)."""

from __future__ import annotations

import gc

import pytest

from kehu.core.warm import freeze_after_warm_up


@pytest.fixture
def unfrozen():
    gc.unfreeze()
    yield
    gc.unfreeze()  # the rest of the suite's objects stay collectable


@pytest.mark.django_db
def test_the_loaded_app_is_frozen_and_what_the_first_request_builds_too(unfrozen, client):
    assert gc.get_freeze_count() == 0
    freeze_after_warm_up()
    at_load = gc.get_freeze_count()
    assert at_load > 0
    kept = [object() for _ in range(1000)]  # lives on, like a cache the first request fills
    client.get("/healthz")
    after_first = gc.get_freeze_count()
    assert after_first >= at_load + len(kept)
    more = [object() for _ in range(1000)]
    client.get("/healthz")
    assert gc.get_freeze_count() < after_first + len(more)  # once: later requests freeze nothing
    assert kept and more
