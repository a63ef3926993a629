"""A team brings its order and follow-up sheets: customers found by name, phone or credit
code, an order's lines grouped by number, re-imports that change nothing, undo."""

from __future__ import annotations

import csv
import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest
import xlsxwriter
from django.core.management import call_command
from django.utils import timezone

from kehu.core.errors import ValidationError
from kehu.history import services as history
from kehu.history.models import Communication, Order, OrderLine
from kehu.jobs.services import run_here
from kehu.transfer import importing
from kehu.transfer.importing import import_start, import_undo
from kehu.transfer.models import ImportRun, RunStatus
from kehu.transfer.services import default_match, import_configure, import_upload

pytestmark = pytest.mark.django_db
ORDER_HEADER = ["订单号", "客户名称", "客户统一社会信用代码", "下单日期", "状态", "产品编号",
                "产品名称", "数量", "单价", "金额", "备注"]
COMM_HEADER = ["客户", "客户电话", "跟进时间", "跟进方式", "联系人", "主题", "跟进内容", "下次跟进日期"]


def write_xlsx(path: Path, header: list[str], rows: list[list], title: str | None = None) -> Path:
    book = xlsxwriter.Workbook(str(path))
    sheet = book.add_worksheet()
    start = 0
    if title:  # a title row above the header, merged across, as sheets have
        sheet.merge_range(0, 0, 0, len(header) - 1, title)
        start = 1
    for r, row in enumerate([header, *rows]):
        for c, value in enumerate(row):
            if value not in (None, ""):
                sheet.write(start + r, c, value)
    book.close()
    return path


def write_csv(path: Path, header: list[str], rows: list[list], encoding: str = "gb18030") -> Path:
    with path.open("w", encoding=encoding, newline="") as out:
        csv.writer(out).writerows([header, *rows])
    return path


def run_import(actor, path: Path, target: str, *, dry_run: bool = False) -> ImportRun:
    run = import_upload(actor=actor, origin="manual", target=target, file=path,
                        filename=path.name)
    run = import_configure(actor=actor, origin="manual", run=run, mapping=run.mapping,
                           match=default_match(target, run.mapping))
    run = import_start(actor=actor, origin="manual", run=run, dry_run=dry_run, queued=False)
    job = run_here(run.preview_job if dry_run else run.import_job)
    assert job.status == "done", job.error
    run.refresh_from_db()
    return run


def reasons(run: ImportRun, phase: str = "import") -> dict[int, str]:
    return {p.row: " | ".join(f"{c}：{r}" for c, r in p.reasons)
            for p in run.problems.filter(phase=phase)}


def orders_snapshot() -> list:
    return sorted((o.number, o.customer_id, str(o.total), o.version, sorted(
        (line.product_id, str(line.quantity), str(line.unit_price), str(line.discount),
         str(line.amount)) for line in o.lines.all()))
        for o in Order.objects.prefetch_related("lines"))


@pytest.fixture
def catalogue(root):
    return [history.product_save(actor=root, origin="manual", data={
        "sku": sku, "name": name, "unit_price": price}) for sku, name, price in [
        ("TEA-LJ-250", "明前龙井 250g", "398.00"), ("TEA-PE-357", "普洱饼茶 357g", "268.50"),
        ("SET-GL-01", "玻璃茶具套装", "159.90")]]


@pytest.fixture
def customers(alice, charlie, make_customer):
    return {
        "tea": make_customer(alice, name="杭州西湖茶业有限公司", phones=["13812345678"],
                             credit_code="91110000802100433B"),
        "port": make_customer(alice, name="宁波港口物流有限公司", phones=["13900001111"]),
        "south": make_customer(charlie, name="深圳南山电子有限公司", phones=["13700001111"]),
    }


@pytest.fixture
def order_sheet(tmp_path):
    return write_xlsx(tmp_path / "交易记录.xlsx", ORDER_HEADER, [
        # SO-1: two lines, the customer by credit code; a discount read from the amount
        ["SO-1", "", "91110000802100433B", "2025/3/8", "已付款", "TEA-LJ-250", "", 2, 398, 756, ""],
        ["SO-1", "", "91110000802100433B", "2025/3/8", "已付款", "", "玻璃茶具套装", 1, "", "", ""],
        # SO-2: by name, the price from the catalogue; amounts as sheets write them
        ["SO-2", "宁波港口物流有限公司", "", "2025年4月1日", "", "TEA-PE-357", "", 3, "", "", "年货"],
        # SO-3: one bad line (an unknown product) refuses the whole order
        ["SO-3", "宁波港口物流有限公司", "", "2025-04-02", "", "TEA-LJ-250", "", 1, "", "", ""],
        ["SO-3", "宁波港口物流有限公司", "", "2025-04-02", "", "NOPE-1", "", 1, "", "", ""],
        # another rep's customer: not found, exactly as a customer that does not exist
        ["SO-4", "深圳南山电子有限公司", "", "2025-04-03", "", "TEA-LJ-250", "", 1, "", "", ""],
        ["SO-5", "不存在的公司", "", "2025-04-03", "", "TEA-LJ-250", "", 1, "", "", ""],
        # the amount cannot be more than quantity × price
        ["SO-6", "宁波港口物流有限公司", "", "2025-04-04", "", "TEA-LJ-250", "", 1, 100, "￥120.00", ""],
        # a number another rep's order has: refused without saying whose it is
        ["SO-7", "宁波港口物流有限公司", "", "2025-04-04", "", "TEA-LJ-250", "", 1, "", "", ""],
    ], title="2025 年交易记录")


def test_a_rep_imports_an_order_sheet_and_a_second_import_changes_nothing(
        alice, charlie, customers, catalogue, order_sheet):
    # Charlie's order takes a number the sheet uses: refused without saying whose it is.
    history.order_create(actor=charlie, customer=customers["south"], origin="manual", data={
        "number": "SO-7", "lines": [{"product": "SET-GL-01", "quantity": 1}]})
    preview = run_import(alice, order_sheet, "orders", dry_run=True)
    assert Order.objects.count() == 1  # the dry run wrote nothing
    result = preview.dry_run_result
    assert (result["created"], result["merged"], result["rejected"]) == (2, 1, 6)

    run = run_import(alice, order_sheet, "orders")
    assert (run.created, run.unchanged, run.rejected) == (2, 1, 6)
    one = Order.objects.get(number="SO-1")
    assert one.customer_id == customers["tea"].pk and one.status == "paid"
    assert one.ordered_on == dt.date(2025, 3, 8) and one.origin == "import"
    lines = sorted((line.product.sku, line.quantity, line.unit_price, line.discount, line.amount)
                   for line in one.lines.select_related("product"))
    assert lines == [("SET-GL-01", 1, Decimal("159.90"), 0, Decimal("159.90")),
                     ("TEA-LJ-250", 2, Decimal("398.00"), Decimal("40.00"), Decimal("756.00"))]
    assert one.total == Decimal("915.90")
    two = Order.objects.get(number="SO-2")
    assert two.total == Decimal("805.50") and two.notes == "年货" and two.ordered_on.month == 4

    problems = reasons(run)
    # The title row is row 1 and the header row 2, so the data starts on row 3.
    assert "NOPE-1" in problems[7] and "整单未导入" in problems[6]
    assert "找不到客户“深圳南山电子有限公司”" in problems[8]
    assert "找不到客户“不存在的公司”" in problems[9]
    assert "大于 数量×单价" in problems[10]
    assert "不一定在你的查看范围内" in problems[11] and "深圳" not in problems[11]

    before = orders_snapshot()
    again = run_import(alice, order_sheet, "orders")
    assert (again.created, again.unchanged) == (0, 3) and orders_snapshot() == before


def test_undo_removes_the_imported_orders_and_refuses_after_an_edit(
        alice, customers, catalogue, order_sheet):
    before = orders_snapshot()
    run = run_import(alice, order_sheet, "orders")
    order = Order.objects.get(number="SO-2")
    history.order_update(actor=alice, order=order, origin="manual", data={"notes": "改过"})
    with pytest.raises(ValidationError) as refused:
        import_undo(actor=alice, origin="manual", run=run, queued=False)
    assert "“SO-2”在导入后被修改过" in str(refused.value)

    second = run_import(alice, order_sheet, "orders")  # nothing new: an empty undo is fine
    history.order_delete(actor=alice, order=order, origin="manual")
    run = import_undo(actor=alice, origin="manual", run=run, queued=False)
    assert run_here(run.undo_job).status == "done"
    assert orders_snapshot() == before and OrderLine.objects.count() == 0
    run.refresh_from_db()
    assert run.status == RunStatus.UNDONE and second.created == 0


def test_an_order_is_never_split_between_batches_and_scattered_lines_are_refused(
        alice, customers, catalogue, tmp_path, monkeypatch):
    monkeypatch.setattr(importing, "BATCH", 2)
    row = ["宁波港口物流有限公司", "", "2025-05-01", "", "TEA-LJ-250", "", 1, "", "", ""]
    path = write_xlsx(tmp_path / "orders.xlsx", ORDER_HEADER, [
        ["A-1", *row], ["A-2", *row], ["A-2", *row], ["A-2", *row], ["A-3", *row], ["A-2", *row]])
    run = run_import(alice, path, "orders")
    assert Order.objects.get(number="A-2").lines.count() == 3
    assert (run.created, run.rejected) == (3, 1)
    assert "已由本文件第 3 行导入" in reasons(run)[7]


def test_a_line_that_disagrees_with_its_order_refuses_the_order(alice, customers, catalogue,
                                                               tmp_path):
    path = write_xlsx(tmp_path / "orders.xlsx", ORDER_HEADER, [
        ["B-1", "宁波港口物流有限公司", "", "2025-05-01", "", "TEA-LJ-250", "", 1, "", "", ""],
        ["B-1", "杭州西湖茶业有限公司", "", "2025-05-02", "", "TEA-LJ-250", "", 1, "", "", ""]])
    run = run_import(alice, path, "orders")
    assert Order.objects.count() == 0 and run.rejected == 2
    problems = reasons(run)
    assert "客户不同" in problems[3] and "下单日期" in problems[3] and "整单未导入" in problems[2]


def test_two_customers_of_one_name_are_never_guessed(alice, customers, catalogue, make_customer,
                                                     tmp_path):
    make_customer(alice, name="宁波港口物流有限公司", phones=["13900002222"])
    path = write_xlsx(tmp_path / "orders.xlsx", ORDER_HEADER, [
        ["C-1", "宁波港口物流有限公司", "", "2025-05-01", "", "TEA-LJ-250", "", 1, "", "", ""]])
    run = run_import(alice, path, "orders")
    assert run.rejected == 1 and "匹配到多个客户" in reasons(run)[2]


@pytest.fixture
def comm_sheet(tmp_path):
    return write_csv(tmp_path / "跟进记录.csv", COMM_HEADER, [
        ["杭州西湖茶业有限公司", "", "2025/3/8 10:30", "电话", "陈经理", "报价", "确认了报价", "2025/3/15"],
        ["", "139 0000 1111", "2025-03-09", "上门拜访", "", "", "送样品", ""],
        ["杭州西湖茶业有限公司", "", "2025/3/8 10:30", "电话", "陈经理", "报价", "确认了报价", "2025/3/15"],
        ["杭州西湖茶业有限公司", "", "2025-03-10", "微信", "王总", "", "问价", ""],
        ["深圳南山电子有限公司", "", "2025-03-10", "微信", "", "", "问价", ""],
        ["杭州西湖茶业有限公司", "", "", "电话", "", "", "没有时间", ""],
        ["杭州西湖茶业有限公司", "", "2025-03-11", "飞鸽传书", "", "", "?", ""],
    ])


def test_a_rep_imports_a_follow_up_sheet_in_gbk(alice, customers, comm_sheet):
    from kehu.customers.services import contact_create
    chen = contact_create(actor=alice, origin="manual", customer=customers["tea"],
                          data={"name": "陈经理", "phones": ["13911112222"]})
    run = run_import(alice, comm_sheet, "communications")
    assert (run.created, run.unchanged, run.rejected) == (2, 1, 4), reasons(run)
    call = Communication.objects.get(channel="phone")
    assert call.customer_id == customers["tea"].pk and call.contact_id == chen.pk
    assert timezone.localtime(call.occurred_at).timetuple()[:5] == (2025, 3, 8, 10, 30)
    assert call.next_follow_up == dt.date(2025, 3, 15) and call.origin == "import"
    visit = Communication.objects.get(channel="visit")
    assert visit.customer_id == customers["port"].pk and visit.content == "送样品"
    problems = reasons(run)
    assert "没有联系人“王总”" in problems[5]
    assert "找不到客户“深圳南山电子有限公司”" in problems[6]
    assert "必填" in problems[7] and "飞鸽传书" in problems[8]

    again = run_import(alice, comm_sheet, "communications")
    assert (again.created, again.unchanged) == (0, 3) and Communication.objects.count() == 2

    undone = import_undo(actor=alice, origin="manual", run=run, queued=False)
    assert run_here(undone.undo_job).status == "done" and Communication.objects.count() == 0


def test_the_command_line_imports_orders(alice, root, customers, catalogue, order_sheet, capsys):
    call_command("import", "orders", str(order_sheet), "--as", "alice")
    out = capsys.readouterr().out
    assert "新建 3，更新 0，未变 1，拒绝 5" in out and "错误报告" in out
    assert Order.objects.filter(origin="import").count() == 3


def test_an_orders_sheet_without_a_customer_column_is_refused_at_once(alice, tmp_path):
    path = write_xlsx(tmp_path / "orders.xlsx", ["订单号", "产品编号", "数量"], [["D-1", "X", 1]])
    run = import_upload(actor=alice, origin="manual", target="orders", file=path,
                        filename=path.name)
    with pytest.raises(ValidationError) as refused:
        import_configure(actor=alice, origin="manual", run=run, mapping=run.mapping, match=[])
    text = str(refused.value)
    assert "需要一列指明客户" in text and "找到客户" in text


@pytest.mark.parametrize("fmt", ["xlsx", "csv"])
def test_an_export_of_orders_and_communications_comes_back_as_it_went_out(
        alice, customers, catalogue, tmp_path, fmt):
    history.order_create(actor=alice, customer=customers["tea"], origin="manual", data={
        "number": "=SO-9", "ordered_on": "2025-06-01", "status": "paid", "notes": "+加急",
        "lines": [{"product": "TEA-LJ-250", "quantity": "2.5", "discount": "10"},
                  {"product": "SET-GL-01", "quantity": 1, "unit_price": "150"}]})
    history.communication_log(actor=alice, customer=customers["port"], origin="manual", data={
        "channel": "visit", "occurred_at": "2025-06-02T15:45:00", "subject": "-回访",
        "content": "送样品\n第二行", "next_follow_up": "2025-06-09"})
    before = (orders_snapshot(), list(Communication.objects.values_list(
        "customer_id", "occurred_at", "channel", "subject", "content", "next_follow_up")))
    for target in ("orders", "communications"):
        path = tmp_path / f"{target}.{fmt}"
        call_command("export", target, as_user="alice", output=str(path))
        again = run_import(alice, path, target)  # into the same data: nothing changes
        assert (again.created, again.rejected) == (0, 0) and again.unchanged > 0
    assert orders_snapshot() == before[0]

    for target in ("orders", "communications"):  # and into a Kehu without them: the same
        Order.objects.all().delete() if target == "orders" else Communication.objects.all().delete()
        run = run_import(alice, tmp_path / f"{target}.{fmt}", target)
        assert run.rejected == 0, reasons(run)
    after = orders_snapshot()
    assert [row[:3] + row[4:] for row in after] == [row[:3] + row[4:] for row in before[0]]
    assert list(Communication.objects.values_list(
        "customer_id", "occurred_at", "channel", "subject", "content", "next_follow_up")) == before[1]
