"""A manager builds 华东 + 制造业 + spent ≥ ¥100,000 in the list's filter builder, applies it,
saves it as her team's segment and exports it — on a desktop, then looks at it on a phone."""

from __future__ import annotations

import csv
import io
import json
from urllib.parse import parse_qs, urlparse

import pytest
from playwright.sync_api import expect

from tests.browser.test_first_customer import DESKTOP, PHONE, log_in, open_page
from tests.customers.test_segments import EAST, east_factories  # noqa: F401

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True),
              pytest.mark.usefixtures("builtin_roles", "east_factories")]


def listed(page) -> list[str]:
    return sorted(page.locator("#customer-table tbody td.col-name a").all_inner_texts())


def build_east(page) -> None:
    """The three rows, typed and ticked; the last one applied with Enter."""
    page.locator("#builder > summary").click()
    rows = page.locator("[data-rows] > li")
    first = rows.nth(0)
    first.locator("[data-field]").select_option(label="省份")
    first.locator("[data-op]").select_option(label="属于")
    first.locator("[data-input]").fill("浙江省、江苏省、上海市")
    page.get_by_role("button", name="+ 添加条件").click()
    second = rows.nth(1)
    second.locator("[data-field]").select_option(label="行业")
    second.locator("[data-op]").select_option(label="属于")
    second.get_by_label("制造业").check()
    page.get_by_role("button", name="+ 添加条件").click()
    third = rows.nth(2)
    third.locator("[data-field]").select_option(label="累计消费金额")
    third.locator("[data-op]").select_option(label="≥")
    third.locator("[data-input]").fill("100000")


def test_a_manager_builds_saves_and_exports_a_segment(browser, live_server, artifacts):
    from kehu.customers.models import Segment

    page = open_page(browser, live_server, DESKTOP)
    log_in(page, "mallory", "mallory-pass-123")
    page.goto(live_server.url + "/customers/?sort=name")
    build_east(page)
    page.screenshot(path=artifacts / "segment-builder-desktop.png", full_page=True)
    page.locator("[data-rows] > li").nth(2).locator("[data-input]").press("Enter")

    expect(page.locator("[data-condition-words]")).to_contain_text("累计消费金额 ≥ 100000")
    assert listed(page) == ["宁波机床厂", "无锡机械"]
    query = parse_qs(urlparse(page.url).query)
    assert json.loads(query["filter"][0]) == EAST and query["sort"] == ["name"]

    page.get_by_label("保存为分群").fill("华东大客户")
    page.get_by_label("可见范围").select_option(label="本部门")
    page.get_by_role("button", name="保存分群").click()
    segment = Segment.objects.get()
    expect(page.get_by_role("link", name="华东大客户")).to_have_attribute("aria-current", "true")
    assert segment.visibility == "team" and segment.condition == EAST
    assert parse_qs(urlparse(page.url).query) == {"sort": ["name"], "segment": [str(segment.pk)]}
    assert listed(page) == ["宁波机床厂", "无锡机械"]
    page.screenshot(path=artifacts / "segment-applied-desktop.png", full_page=True)

    page.get_by_text("导出", exact=True).click()
    page.get_by_label("CSV", exact=True).check()
    with page.expect_download() as info:
        page.get_by_role("button", name="导出当前列表").click()
    rows = list(csv.DictReader(io.StringIO(info.value.path().read_text("utf-8-sig"))))
    assert sorted(r["客户名称"] for r in rows) == ["宁波机床厂", "无锡机械"]

    page.get_by_role("link", name="分群详情").click()
    expect(page.locator("[data-segment-count]")).to_have_text("2")
    page.screenshot(path=artifacts / "segment-page-desktop.png", full_page=True)

    phone = open_page(browser, live_server, PHONE)
    log_in(phone, "alice", "alice-pass-123")  # her rep: only her own customer in it
    phone.goto(f"{live_server.url}/customers/?segment={segment.pk}")
    assert listed(phone) == ["宁波机床厂"]
    phone.locator("#builder > summary").click()
    expect(phone.locator("[data-rows] > li")).to_have_count(3)  # started from the segment
    assert phone.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    phone.screenshot(path=artifacts / "segment-builder-phone.png", full_page=True)


def test_the_builder_says_what_is_missing(browser, live_server):
    page = open_page(browser, live_server, DESKTOP)
    log_in(page, "alice", "alice-pass-123")
    page.goto(live_server.url + "/customers/")
    page.locator("#builder > summary").click()
    page.locator("[data-rows] > li [data-field]").select_option(label="省份")
    page.get_by_role("button", name="应用").click()
    expect(page.get_by_role("alert")).to_have_text("请填写第 1 条的值")
    assert "filter=" not in page.url


def test_the_builder_works_from_the_keyboard(browser, live_server):
    page = open_page(browser, live_server, DESKTOP)
    log_in(page, "bob", "bob-pass-123")
    page.goto(live_server.url + "/customers/")
    page.locator("#builder > summary").focus()
    page.keyboard.press("Enter")  # opens the panel
    page.get_by_role("button", name="+ 添加条件").focus()
    page.keyboard.press("Enter")  # a second row, its field focused
    expect(page.locator("[data-rows] > li").nth(1).locator("[data-field]")).to_be_focused()
    page.locator("[data-rows] > li").nth(1).get_by_role("button", name="删除这一条").focus()
    page.keyboard.press("Enter")  # removed: the focus goes back to the first row's field
    expect(page.locator("[data-rows] > li")).to_have_count(1)
    expect(page.locator("[data-rows] > li [data-field]")).to_be_focused()
    page.locator("[data-rows] > li [data-field]").select_option(label="省份")
    page.locator("[data-rows] > li [data-op]").select_option(label="属于")
    page.locator("[data-rows] > li [data-input]").fill("江苏省")
    page.locator("[data-rows] > li [data-input]").press("Enter")
    expect(page.locator("[data-condition-words]")).to_have_text("省份 属于 江苏省")
    assert listed(page) == ["无锡机械"]
