"""A rep brings her team's messy workbook: uploads it, adjusts one column, reads the dry
run's problems, imports it with a progress bar (a real worker) and downloads the report."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import expect
from python_calamine import CalamineWorkbook

from tests.browser.test_first_customer import DESKTOP, PHONE, log_in, open_page

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True),
              pytest.mark.usefixtures("builtin_roles")]
WORKBOOK = Path(__file__).resolve().parents[1] / "data" / "customers_messy.xlsx"


def test_a_rep_imports_the_messy_workbook_from_the_browser(
        browser, live_server, alice, worker, artifacts, tmp_path):
    from kehu.customers.models import Customer

    worker()
    page = open_page(browser, live_server, DESKTOP)
    log_in(page, "alice", "alice-pass-123")
    page.goto(live_server.url + "/customers/")
    page.get_by_role("link", name="导入", exact=True).click()
    page.get_by_label("表格文件").set_input_files(str(WORKBOOK))
    page.get_by_role("button", name="上传并核对").click()

    mapping = page.get_by_test_id("mapping-form")
    expect(mapping).to_be_visible()
    notes = mapping.locator("select[data-header='备注说明']")
    expect(notes).to_have_value("notes")  # the guess, pre-filled
    notes.select_option("")  # she keeps the remarks out of Kehu
    page.screenshot(path=artifacts / "import-mapping-desktop.png", full_page=True)
    page.get_by_test_id("preview-button").click()

    expect(page.get_by_test_id("preview")).to_be_visible(timeout=60_000)
    expect(page.get_by_test_id("preview-created")).to_have_text("869")
    expect(page.get_by_test_id("preview-rejected")).to_have_text("70")
    problems = page.get_by_test_id("problems")
    expect(problems).to_contain_text("不是有效的电话号码")
    expect(problems).to_contain_text("公司/客户名称")
    assert Customer.objects.count() == 0  # a dry run writes nothing
    page.screenshot(path=artifacts / "import-preview-desktop.png", full_page=True)

    page.get_by_test_id("import-button").click()
    expect(page.get_by_test_id("import-progress").or_(page.get_by_test_id("summary"))) \
        .to_be_visible()
    expect(page.get_by_test_id("summary")).to_be_visible(timeout=120_000)
    expect(page.get_by_test_id("done-created")).to_have_text("869")
    assert Customer.objects.filter(owner=alice, origin="import").count() == 869
    assert not Customer.objects.exclude(notes="").exists()  # the column she unmapped

    with page.expect_download() as download:
        page.get_by_test_id("report-xlsx").click()
    report = tmp_path / "report.xlsx"
    download.value.save_as(report)
    rows = CalamineWorkbook.from_path(str(report)).get_sheet_by_index(0).to_python()
    assert rows[0][-1] == "错误原因" and len(rows) == 71
    page.screenshot(path=artifacts / "import-done-desktop.png", full_page=True)

    phone = open_page(browser, live_server, PHONE)
    log_in(phone, "alice", "alice-pass-123")
    phone.goto(page.url)
    phone.screenshot(path=artifacts / "import-done-phone.png", full_page=True)


def test_a_rep_imports_her_order_sheet_from_the_browser(
        browser, live_server, alice, root, worker, artifacts, tmp_path):
    from kehu.customers.services import customer_create
    from kehu.history.models import Order
    from kehu.history.services import product_save
    from tests.transfer.test_import_history_story import ORDER_HEADER, write_xlsx

    product_save(actor=root, origin="manual",
                 data={"sku": "TEA-LJ-250", "name": "明前龙井 250g", "unit_price": "398.00"})
    customer_create(actor=alice, origin="manual",
                    data={"kind": "company", "name": "宁波港口物流有限公司"})
    row = ["宁波港口物流有限公司", "", "2025-05-01", "已付款", "TEA-LJ-250", "", 2, "", "", ""]
    sheet = write_xlsx(tmp_path / "交易记录.xlsx", ORDER_HEADER, [
        ["SO-1", *row], ["SO-1", *row], ["SO-2", "没有这家公司", *row[1:]]])
    worker()
    page = open_page(browser, live_server, DESKTOP)
    log_in(page, "alice", "alice-pass-123")
    page.goto(live_server.url + "/transfer/import/")
    page.get_by_label("订单").check()
    page.get_by_label("表格文件").set_input_files(str(sheet))
    page.screenshot(path=artifacts / "import-orders-upload-desktop.png", full_page=True)
    page.get_by_role("button", name="上传并核对").click()
    expect(page.get_by_test_id("mapping-form")).to_contain_text("按这些值找到每一行的客户")
    page.get_by_test_id("preview-button").click()
    expect(page.get_by_test_id("preview-created")).to_have_text("1", timeout=60_000)
    expect(page.get_by_test_id("problems")).to_contain_text("找不到客户“没有这家公司”")
    page.get_by_test_id("import-button").click()
    expect(page.get_by_test_id("done-created")).to_have_text("1", timeout=60_000)
    assert Order.objects.get(number="SO-1").lines.count() == 2
    page.screenshot(path=artifacts / "import-orders-done-desktop.png", full_page=True)
    phone = open_page(browser, live_server, PHONE)
    log_in(phone, "alice", "alice-pass-123")
    phone.goto(live_server.url + "/transfer/import/")
    phone.screenshot(path=artifacts / "import-list-phone.png", full_page=True)
