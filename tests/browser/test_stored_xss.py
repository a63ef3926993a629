"""Stored XSS, in a real browser: a rep types markup into every free-text field Kehu keeps —
the customer's, a contact's, a call's, a need's, a complaint's, a deal's, a task's, a tag,
a custom field's label and value — and every page that shows them (the card, the edit form,
the timeline, the list and its search, complaints, the board, my day) shows the markup as
text: no element it tries to make exists in the page.

The fields are found from the models, not listed: a text field added later is filled too.
The Content-Security-Policy would stop an injected script from running anyway, so the test
looks for the injected *elements* (an escaping slip shows even when nothing runs)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.db import models
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import Page

from kehu.core.errors import ValidationError
from kehu.customers import services as customers
from kehu.customers.models import Contact, Customer
from kehu.followup.models import FollowUpTask
from kehu.followup.services import task_create
from kehu.history import services as history
from kehu.history.models import Communication, Need, Opportunity, Ticket
from kehu.history.opportunities import opportunity_create
from tests.browser.test_pipeline_settings_story import DESKTOP, log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Breaks out of text, a quoted attribute (either quote) and a script block, each time
# trying to make an <i data-xss> element.
PAYLOAD = "\"'></script></textarea><i data-xss>{}</i>"


def text_fields(model: type[models.Model]) -> list[models.Field]:
    return [f for f in model._meta.get_fields()
            if isinstance(f, models.CharField | models.TextField) and f.editable
            and not f.choices and f.name not in ("origin",)]


def filled(model: type[models.Model], create: Callable[[dict], Any], base: dict) -> set[str]:
    """Create a `model` with the payload in every free-text field the service accepts
    (validated fields such as the credit code or the province refuse it: they are left
    out, and said so); returns the fields that took it."""
    data = {**base, **{f.name: PAYLOAD.format(f.name)[: f.max_length or None]
                       for f in text_fields(model)}}
    for _attempt in range(3):
        try:
            create(data)
            return {f.name for f in text_fields(model) if f.name in data}
        except ValidationError as exc:
            for field in exc.message_dict:
                data.pop(field, None)
    raise AssertionError(f"{model.__name__}: the service refused every try")


def seed(alice: Any, root: Any) -> tuple[Customer, dict[str, set[str]]]:
    field = customers.custom_field_save(actor=root, origin="manual", data={
        "key": "memo", "label": PAYLOAD.format("label")[:100], "field_type": "text"})
    taken: dict[str, set[str]] = {}
    made: dict[str, Any] = {}

    def new_customer(data: dict) -> None:
        made["customer"] = customers.customer_create(actor=alice, origin="manual", data={
            **data, "custom": {field.key: PAYLOAD.format("custom")},
            "tags": [PAYLOAD.format("tag")[:50]]})

    taken["customer"] = filled(Customer, new_customer, {"kind": "company"})
    customer = made["customer"]
    taken["contact"] = filled(Contact, lambda d: customers.contact_create(
        actor=alice, origin="manual", customer=customer, data=d), {})
    taken["communication"] = filled(Communication, lambda d: history.communication_log(
        actor=alice, origin="manual", customer=customer, data=d), {"channel": "phone"})
    taken["need"] = filled(Need, lambda d: history.need_create(
        actor=alice, origin="manual", customer=customer, data=d), {})
    taken["ticket"] = filled(Ticket, lambda d: history.ticket_create(
        actor=alice, origin="manual", customer=customer, data=d), {"kind": "complaint"})
    taken["opportunity"] = filled(Opportunity, lambda d: opportunity_create(
        actor=alice, origin="manual", customer=customer, data=d), {"amount": "1000"})
    today = timezone.localdate().isoformat()
    taken["task"] = filled(FollowUpTask, lambda d: task_create(
        actor=alice, origin="manual", customer=customer.pk, data=d), {"due_date": today})
    return customer, taken


def injected(page: Page) -> int:
    return page.locator("[data-xss]").count()


def test_markup_in_every_text_field_stays_text_on_every_page(browser, live_server, alice, root):
    customer, taken = seed(alice, root)
    assert {"name", "short_name", "address", "notes"} <= taken["customer"]
    assert {"subject", "content"} <= taken["communication"]
    assert all(taken.values()), taken  # every kind took the payload somewhere

    page = browser.new_context(viewport=DESKTOP, locale="zh-CN").new_page()
    log_in(page, live_server, "alice", "alice-pass-123")
    pages = {
        "card": reverse("customers:detail", args=[customer.pk]),
        "edit": reverse("customers:edit", args=[customer.pk]),
        "timeline": reverse("history:customer", args=[customer.pk]),
        "list": reverse("customers:list"),
        "search": reverse("customers:list") + "?q=data-xss",
        "tickets": reverse("history:tickets"),
        "board": reverse("history:board"),
        "my day": reverse("followup:today") + "?when=week",
    }
    found: dict[str, int] = {}
    shown: dict[str, bool] = {}
    for name, url in pages.items():
        answer = page.goto(live_server.url + url)
        assert answer is not None and answer.ok, name
        page.wait_for_load_state("networkidle")
        found[name] = injected(page)
        shown[name] = "data-xss" in (page.inner_text("body") + _input_values(page))
    assert found == dict.fromkeys(pages, 0)
    assert shown == dict.fromkeys(pages, True)  # the markup is there, as text


def _input_values(page: Page) -> str:
    """What the edit form's inputs hold (not part of inner_text)."""
    return " ".join(page.eval_on_selector_all(
        "input, textarea", "els => els.map(e => e.value)"))
