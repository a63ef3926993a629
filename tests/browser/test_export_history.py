"""A rep exports her paid orders from the orders page and her customers' calls from the
customer list, in a real browser, on a desktop and a phone."""

from __future__ import annotations

import csv
import io

import pytest
from playwright.sync_api import expect

from tests.browser.test_first_customer import DESKTOP, PHONE, log_in, open_page
from tests.transfer.test_export_history import LONG_NUMBER, book, catalogue  # noqa: F401

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True),
              pytest.mark.usefixtures("builtin_roles", "book")]


def download_rows(page, click) -> list[dict]:
    with page.expect_download() as info:
        click()
    path = info.value.path()
    return list(csv.DictReader(io.StringIO(path.read_text("utf-8-sig"))))


def test_a_rep_exports_the_paid_orders_she_is_looking_at(browser, live_server, artifacts):
    page = open_page(browser, live_server, DESKTOP)
    log_in(page, "alice", "alice-pass-123")
    page.goto(live_server.url + "/history/orders/")
    page.get_by_label("状态").select_option(label="已付款")
    expect(page.locator("#h-rows")).not_to_contain_text("SO-PORT-1")  # the HTMX swap is done
    page.get_by_text("导出", exact=True).click()
    page.get_by_label("CSV", exact=True).check()
    page.screenshot(path=artifacts / "export-orders-desktop.png", full_page=True)
    rows = download_rows(page, page.get_by_role("button", name="导出订单").click)
    assert [(r["订单号"], r["状态"]) for r in rows] == [(LONG_NUMBER, "已付款")] * 2

    page.goto(live_server.url + "/customers/")
    page.get_by_text("导出", exact=True).click()
    page.get_by_label("沟通记录").check()
    page.get_by_label("CSV", exact=True).check()
    page.screenshot(path=artifacts / "export-from-list-desktop.png", full_page=True)
    rows = download_rows(page, page.get_by_role("button", name="导出当前列表").click)
    assert [r["主题"] for r in rows] == ["'=cmd|' /C calc'!A0", "询价"]


def test_the_export_menus_fit_a_phone(browser, live_server, artifacts):
    page = open_page(browser, live_server, PHONE)
    log_in(page, "alice", "alice-pass-123")
    page.goto(live_server.url + "/history/orders/")
    page.get_by_text("导出", exact=True).click()
    button = page.get_by_role("button", name="导出订单")
    expect(button).to_be_visible()
    box = button.bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"]
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    page.screenshot(path=artifacts / "export-orders-phone.png", full_page=True)
    page.goto(live_server.url + "/customers/")
    page.get_by_text("导出", exact=True).click()
    expect(page.get_by_label("订单", exact=True)).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    page.screenshot(path=artifacts / "export-from-list-phone.png", full_page=True)
