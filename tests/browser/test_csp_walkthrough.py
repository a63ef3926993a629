"""The walkthrough under the Content-Security-Policy, in a real browser: an admin and a rep
open every main page (the list, a card, its edit form and timeline, my day, the board, the
settings, imports, jobs, their account pages, the API docs) and the browser refuses
nothing — no CSP violation and no script error on any page — while the pages still work
(the list's quick search, run through htmx, still filters)."""

from __future__ import annotations

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from tests.browser.test_pipeline_settings_story import DESKTOP, log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

EVERYONE = ["customers:list", "customers:create", "customers:duplicates", "customers:quality",
            "customers:trash", "followup:today", "history:board", "history:orders",
            "history:tickets", "classification:rfm", "transfer:import_list", "jobs:list",
            "notifications:list", "accounts:tokens", "accounts:sessions", "accounts:password"]
ADMIN = ["settings:index", "customers:fields", "customers:quality_settings",
         "classification:dimensions", "classification:tag_rules", "history:pipelines",
         "followup:plans", "followup:calendar", "jobs:schedules", "team:users",
         "team:user_create", "team:departments", "team:roles", "team:role_create",
         "handover:start", "privacy:requests", "privacy:request_new"]
PER_CUSTOMER = ["customers:detail", "customers:edit", "history:customer"]


def walk(page, live_server, names: list[str], customer_id: int) -> dict[str, list[str]]:
    refused: dict[str, list[str]] = {}
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type in ("error", "warning") else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    for name in names:
        args = [customer_id] if name in PER_CUSTOMER else []
        problems.clear()
        answer = page.goto(live_server.url + reverse(name, args=args))
        assert answer is not None and answer.ok, name
        page.wait_for_load_state("networkidle")
        said = [p for p in problems if "Content Security Policy" in p or "Refused" in p
                or "Error" in p]
        if said:
            refused[name] = said
    return refused


def test_no_page_breaks_the_policy(browser, live_server, alice, root, make_customer):
    customer = make_customer(alice, name="杭州西湖茶业有限公司", phones=["13812345678"])
    page = browser.new_context(viewport=DESKTOP, locale="zh-CN").new_page()
    log_in(page, live_server, "root", "root-pass-123")
    refused = walk(page, live_server, EVERYONE + ADMIN + PER_CUSTOMER, customer.pk)
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if "Content Security Policy" in m.text
            else None)
    page.goto(live_server.url + "/api/v1/docs")
    expect(page.locator("#swagger-ui .info")).to_be_visible()
    assert refused == {} and problems == []

    rep = browser.new_context(viewport=DESKTOP, locale="zh-CN").new_page()
    log_in(rep, live_server, "alice", "alice-pass-123")
    assert walk(rep, live_server, EVERYONE + PER_CUSTOMER, customer.pk) == {}
    rep.goto(live_server.url + reverse("customers:list"))
    make_customer(alice, name="宁波港务物流")
    rep.goto(live_server.url + reverse("customers:list"))
    rep.get_by_role("searchbox").first.fill("西湖")
    expect(rep.locator("#customer-table tbody tr")).to_have_count(1)
