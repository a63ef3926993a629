"""Demo fixtures: fast password hashing for the twelve demo accounts every run creates, and
the default sales pipeline back for tests that really commit (a flush wipes it)."""

from __future__ import annotations

import importlib

import pytest


@pytest.fixture(autouse=True)
def _default_pipeline_survives_flushes(request):
    marker = request.node.get_closest_marker("django_db")
    if not (marker and marker.kwargs.get("transaction")):
        return
    request.getfixturevalue("transactional_db")
    from django.apps import apps

    importlib.import_module("kehu.history.migrations.0002_default_pipeline") \
        .create_default_pipeline(apps, None)
