"""Real Chromium against pytest-django's live server.

Playwright's sync API runs an asyncio loop in this thread, and Django refuses
ORM calls from a thread with a running loop unless told it is safe; here it is
(the loop belongs to the browser driver, not to Django).
"""

from __future__ import annotations

import importlib
import os
from pathlib import Path

import pytest

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]


@pytest.fixture
def builtin_roles(transactional_db) -> None:
    """Put back the roles a data migration made: a transactional test's flush wipes them."""
    from django.apps import apps

    importlib.import_module("kehu.accounts.migrations.0002_builtin_roles").create_roles(apps, None)
    importlib.import_module("kehu.accounts.migrations.0003_role_manages_catalogue") \
        .managers_keep_the_catalogue(apps, None)
    importlib.import_module("kehu.accounts.migrations.0004_role_may_export") \
        .built_in_roles_export(apps, None)


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        # `make test` and CI set KEHU_REQUIRE_BROWSER=1: a green complete run always includes
        # the browser tests. A developer running a few tests by hand may go without.
        message = "Chromium is not installed at /usr/bin/chromium (scripts/system-deps installs it)"
        if os.environ.get("KEHU_REQUIRE_BROWSER") == "1":
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def artifacts() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS
