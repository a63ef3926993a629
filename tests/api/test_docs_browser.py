"""The API docs page in a real Chromium: it renders and asks no host but ours."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]


def test_the_swagger_page_renders_from_our_own_server(live_server, tmp_path, settings):
    settings.KEHU_API_DOCS = "public"  # who may read it: tests/api/test_api_docs_access.py
    playwright = pytest.importorskip("playwright.sync_api")
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()
            requested: list[str] = []
            page.on("request", lambda request: requested.append(request.url))
            page.goto(f"{live_server.url}/api/v1/docs")
            page.wait_for_selector(".opblock-summary-path", timeout=15000)
            paths = page.locator(".opblock-summary-path").all_inner_texts()
            page.screenshot(path=str(tmp_path / "docs.png"))
        finally:
            browser.close()
    ours = urlsplit(live_server.url).netloc
    foreign = [url for url in requested
               if urlsplit(url).scheme in ("http", "https") and urlsplit(url).netloc != ours]
    assert foreign == []
    assert any(path.replace("\u200b", "") == "/api/v1/customers" for path in paths)
    assert any(url.endswith("/api/v1/openapi.json") for url in requested)
