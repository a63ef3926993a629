"""Alice pastes a customer's address into 粘贴地址: the 省 → 市 → 区 picker fills itself and
the street goes to 详细地址. An old customer's 深训市 shows as typed, marked as not in the
division list, and she fixes it from the keyboard. On her phone she filters the list by
广东省 → 深圳市 in the filter builder. Desktop and phone screenshots."""

from __future__ import annotations

import json
from urllib.parse import parse_qs, urlparse

import pytest
from playwright.sync_api import expect

from tests.browser.test_first_customer import DESKTOP, PHONE, log_in, open_page

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True),
              pytest.mark.usefixtures("builtin_roles")]


def listed(page) -> list[str]:
    return sorted(page.locator("#customer-table tbody td.col-name a").all_inner_texts())


def test_a_rep_pastes_an_address_fixes_a_typo_and_filters_by_region(
        browser, live_server, alice, make_customer, artifacts):
    from kehu.customers.models import Customer

    typo = make_customer(alice, name="深训老客户贸易有限公司", province="广东省", city="深训市")
    make_customer(alice, name="杭州西湖茶业有限公司", province="浙江", city="杭州")

    page = open_page(browser, live_server, DESKTOP)
    log_in(page, "alice", "alice-pass-123")
    page.goto(live_server.url + "/customers/new/")
    page.get_by_label("客户名称").fill("深圳湾科技有限公司")
    paste = page.get_by_label("粘贴地址")
    paste.fill("广东深圳南山区科技园南区 8 号")
    paste.press("Enter")
    expect(page.get_by_label("省份")).to_have_value("广东省")
    expect(page.get_by_label("城市")).to_have_value("深圳市")
    expect(page.get_by_label("区县")).to_have_value("南山区")
    expect(page.get_by_label("详细地址")).to_have_value("科技园南区8号")
    expect(page.locator("[data-region-paste-result]")).to_have_text("已识别：广东省深圳市南山区")
    page.screenshot(path=artifacts / "regions-paste-desktop.png", full_page=True)

    paste.fill("朝阳区建国路 88 号")  # in Beijing and in Changchun: it says so
    paste.press("Enter")
    expect(page.locator("[data-region-paste-result]")).to_contain_text(
        "北京市朝阳区、吉林省长春市朝阳区")
    paste.fill("广东深圳南山区科技园南区 8 号")
    paste.press("Enter")
    expect(page.get_by_label("区县")).to_have_value("南山区")
    page.get_by_role("button", name="创建客户").click()
    expect(page.get_by_role("heading", name="深圳湾科技有限公司")).to_be_visible()
    created = Customer.objects.get(name="深圳湾科技有限公司")
    assert (created.province, created.city, created.district, created.region_code) == \
        ("广东省", "深圳市", "南山区", "440305")

    page.goto(live_server.url + f"/customers/{typo.pk}/edit/")
    city = page.get_by_label("城市")
    expect(city).to_have_value("深训市")
    expect(city.locator("option:checked")).to_have_text("深训市 （不在行政区划中）")
    page.screenshot(path=artifacts / "regions-unknown-desktop.png", full_page=True)
    city.focus()
    city.select_option(label="深圳市")  # a native select: type-ahead and arrows work
    expect(page.get_by_label("区县")).to_be_enabled()
    page.get_by_label("区县").select_option(label="福田区")
    page.get_by_role("button", name="保存").click()
    expect(page.get_by_role("heading", name="深训老客户贸易有限公司")).to_be_visible()
    typo.refresh_from_db()
    assert (typo.city, typo.district, typo.region_code) == ("深圳市", "福田区", "440304")

    phone = open_page(browser, live_server, PHONE)
    log_in(phone, "alice", "alice-pass-123")
    phone.locator("#builder > summary").click()
    row = phone.locator("[data-rows] > li").first
    row.locator("[data-field]").select_option(label="地区（省/市/区）")
    row.get_by_label("省份").select_option(label="广东省")
    row.get_by_label("城市").select_option(label="深圳市")
    expect(row.get_by_label("区县")).to_be_enabled()
    phone.screenshot(path=artifacts / "regions-builder-phone.png", full_page=True)
    assert phone.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    phone.get_by_role("button", name="应用").click()
    expect(phone.locator("[data-condition-words]")).to_contain_text("地区（省/市/区） 属于 广东省深圳市")
    assert listed(phone) == ["深圳湾科技有限公司", "深训老客户贸易有限公司"]
    query = parse_qs(urlparse(phone.url).query)
    assert json.loads(query["filter"][0]) == {
        "all": [{"field": "region", "op": "in", "value": ["440300"]}]}
    phone.screenshot(path=artifacts / "regions-filtered-phone.png", full_page=True)

    phone.goto(live_server.url + "/customers/new/")
    phone.get_by_label("粘贴地址").fill("上海浦东新区张江路 88 号")
    phone.get_by_label("粘贴地址").press("Enter")
    expect(phone.get_by_label("区县")).to_have_value("浦东新区")
    expect(phone.get_by_label("城市")).to_have_value("上海市")
    phone.screenshot(path=artifacts / "regions-paste-phone.png", full_page=True)
