"""Exporting orders and communications: a rep, a manager and a masking auditor, read back by
independent readers (python-calamine and openpyxl for xlsx, the csv module for CSV).

The orders sheet has one row per order line with the order's columns repeated, and the
headers of the import; only the viewer's customers' rows appear, masked where the list
masks, with every digit of order numbers and credit codes, and no cell a spreadsheet runs.
"""

from __future__ import annotations

import csv
import datetime as dt
import io

import openpyxl
import pytest
from django.core.exceptions import PermissionDenied
from django.core.management import call_command
from python_calamine import CalamineWorkbook

from kehu.accounts.models import Role
from kehu.accounts.services import user_create
from kehu.core.models import ChangeLog
from kehu.customers.filters import CustomerFilters
from kehu.history import services as history
from kehu.history.selectors import communications_visible, orders_visible
from kehu.transfer.export.selectors import HistoryFilters
from kehu.transfer.export.services import (
    export_communications,
    export_count,
    export_orders,
)
from kehu.transfer.export.writers import FORMULA_STARTS
from kehu.transfer.mapping import guess_mapping

pytestmark = pytest.mark.django_db

CREDIT = "91110000802100433B"
ALL_DIGITS_CREDIT = "913301061000000071"
LONG_NUMBER = "202501150000012345"  # 18 digits: a number cell would keep 15 of them
EXTERNAL = "880012345678901234"


def export(user, target="orders", fmt="xlsx", params=None, **history_params) -> bytes:
    stream = io.BytesIO()
    run = export_orders if target == "orders" else export_communications
    run(actor=user, origin="manual", filters=CustomerFilters.from_params(params or {}),
        history=HistoryFilters.from_params(history_params), fmt=fmt, stream=stream)
    return stream.getvalue()


def read(data: bytes, fmt: str) -> list[dict]:
    """Rows as dicts by header; xlsx is read by both readers, which must agree."""
    if fmt == "csv":
        return list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))
    calamine = CalamineWorkbook.from_filelike(io.BytesIO(data)).get_sheet_by_index(0).to_python()
    book = openpyxl.load_workbook(io.BytesIO(data), read_only=True)
    opened = [list(r) for r in book.active.iter_rows(values_only=True)]
    header, *rows = calamine
    assert [("" if v is None else v) for v in opened[0]] == header
    return [dict(zip(header, row, strict=True)) for row in rows]


@pytest.fixture
def catalogue(root):
    return [history.product_save(actor=root, origin="manual", data={
        "sku": sku, "name": name, "unit_price": price})
        for sku, name, price in [("0012345", "明前龙井 250g", "398.00"),
                                 ("TEA-PE-357", "普洱饼茶 357g", "268.50")]]


@pytest.fixture
def book(alice, bob, charlie, make_customer, catalogue):
    """Alice's two customers with orders and calls, Bob's (her teammate) and Charlie's."""
    tea = make_customer(alice, name="杭州西湖茶业有限公司", credit_code=CREDIT, industry="retail")
    port = make_customer(alice, name="宁波港口物流有限公司", credit_code=ALL_DIGITS_CREDIT,
                         industry="logistics")
    garden = make_customer(bob, name="苏州园林设计有限公司")
    shenzhen = make_customer(charlie, name="深圳南山科技有限公司")
    order = history.order_create
    order(actor=alice, origin="manual", customer=tea, data={
        "number": LONG_NUMBER, "external_number": EXTERNAL, "ordered_on": "2025-01-15",
        "status": "paid", "notes": "-5% 老客户折扣", "lines": [
            {"product": "0012345", "quantity": "3", "unit_price": "398.00"},
            {"product": "TEA-PE-357", "quantity": "1.5", "unit_price": "268.50",
             "discount": "2.75"}]})
    order(actor=alice, origin="manual", customer=port, data={
        "number": "SO-PORT-1", "ordered_on": "2025-03-02",
        "lines": [{"product": "TEA-PE-357", "quantity": "2"}]})
    order(actor=bob, origin="manual", customer=garden, data={
        "number": "SO-GARDEN-1", "ordered_on": "2025-02-01",
        "lines": [{"product": "0012345", "quantity": "1"}]})
    order(actor=charlie, origin="manual", customer=shenzhen, data={
        "number": "SO-SZ-1", "ordered_on": "2025-02-01",
        "lines": [{"product": "0012345", "quantity": "9"}]})
    log = history.communication_log
    log(actor=alice, origin="manual", customer=tea, data={
        "occurred_at": "2025-03-10T09:30:00+08:00", "channel": "visit", "direction": "inbound",
        "subject": "=cmd|' /C calc'!A0", "content": "+86 谈了春茶", "outcome": "@所有人 下单",
        "next_step": "寄样", "next_follow_up": "2025-03-20"})
    log(actor=alice, origin="manual", customer=port, data={
        "occurred_at": "2025-04-01T15:00:00+08:00", "channel": "phone", "subject": "询价"})
    log(actor=charlie, origin="manual", customer=shenzhen, data={
        "occurred_at": "2025-03-11T10:00:00+08:00", "channel": "phone", "subject": "深圳"})


@pytest.fixture
def auditor(east):
    """A role that sees the whole company masked and may export (the analyst may not)."""
    Role.objects.create(code="auditor", name="审计", data_scope="all", can_write=False,
                        masks_sensitive=True, may_export=True)
    return user_create(username="audrey", role_code="auditor", display_name="Audrey",
                       password="audrey-pass-123")[0]


@pytest.mark.parametrize("fmt", ["xlsx", "csv"])
def test_a_rep_exports_her_customers_order_lines_one_row_per_line(alice, book, fmt):
    rows = read(export(alice, fmt=fmt), fmt)
    assert [(r["客户"], r["订单号"], r["产品编号"]) for r in rows] == [
        ("杭州西湖茶业有限公司", LONG_NUMBER, "0012345"),
        ("杭州西湖茶业有限公司", LONG_NUMBER, "TEA-PE-357"),
        ("宁波港口物流有限公司", "SO-PORT-1", "TEA-PE-357")]
    first, second = rows[0], rows[1]
    assert first["外部单号"] == second["外部单号"] == EXTERNAL  # order columns on every line
    assert first["状态"] == "已付款" and rows[2]["状态"] == "已确认"
    assert first["客户统一社会信用代码"] == CREDIT
    assert rows[2]["客户统一社会信用代码"] == ALL_DIGITS_CREDIT
    assert second["产品名称"] == "普洱饼茶 357g" and second["币种"] == "CNY"
    as_text = {"csv": str, "xlsx": float}[fmt]
    assert [second[k] for k in ("数量", "单价", "折扣", "金额")] == [
        as_text(v) for v in ("1.5", "268.50", "2.75", "400.00")]
    assert first["下单日期"] == ("2025-01-15" if fmt == "csv" else dt.date(2025, 1, 15))
    assert first["备注"] == "'-5% 老客户折扣"


def test_a_manager_exports_his_teams_orders_and_no_one_elses(mallory, book):
    numbers = {r["订单号"] for r in read(export(mallory), "xlsx")}
    assert numbers == {LONG_NUMBER, "SO-PORT-1", "SO-GARDEN-1"}


def test_orders_of_the_customers_in_the_list_within_dates(alice, mallory, book):
    retail = read(export(mallory, params={"industry": "retail"}), "xlsx")
    assert {r["订单号"] for r in retail} == {LONG_NUMBER}
    march = read(export(mallory, **{"from": "2025-02-01", "to": "2025/3/2"}), "xlsx")
    assert {r["订单号"] for r in march} == {"SO-PORT-1", "SO-GARDEN-1"}
    assert {r["订单号"] for r in read(export(alice, fmt="csv", status="paid"), "csv")} == {LONG_NUMBER}
    # counts (download or job) agree with the rows and leave out what is out of scope
    assert export_count(viewer=alice, target="orders", filters=CustomerFilters()) == 3
    assert export_count(viewer=alice, target="communications", filters=CustomerFilters()) == 2


def test_communications_of_the_list_with_local_times_and_labels(alice, book):
    rows = read(export(alice, "communications"), "xlsx")
    assert [r["客户"] for r in rows] == ["杭州西湖茶业有限公司", "宁波港口物流有限公司"]
    visit = rows[0]
    at = visit["沟通时间"]  # a datetime cell (naive, as sheets are) in local time
    assert isinstance(at, dt.datetime) and at.isoformat() == "2025-03-10T09:30:00"
    assert (visit["沟通方式"], visit["方向"]) == ("拜访", "客户发起")
    assert visit["下次跟进日期"] == dt.date(2025, 3, 20) and visit["下一步"] == "寄样"
    csv_rows = read(export(alice, "communications", "csv", **{"from": "2025-04-01"}), "csv")
    assert [(r["沟通时间"], r["主题"]) for r in csv_rows] == [("2025-04-01 15:00:00", "询价")]


@pytest.mark.parametrize("fmt", ["xlsx", "csv"])
def test_a_subject_that_would_run_as_a_formula_is_guarded(alice, book, fmt):
    visit = read(export(alice, "communications", fmt), fmt)[0]
    assert visit["主题"] == "'=cmd|' /C calc'!A0"
    assert visit["沟通内容"] == "'+86 谈了春茶" and visit["结果"] == "'@所有人 下单"


@pytest.mark.parametrize("target", ["orders", "communications"])
def test_no_cell_runs_and_every_id_is_text_for_an_independent_reader(alice, book, target):
    data = export(alice, target)
    sheet = CalamineWorkbook.from_filelike(io.BytesIO(data)).get_sheet_by_index(0).to_python()
    for row in sheet:
        for value in row:
            assert not (isinstance(value, str) and value.startswith(FORMULA_STARTS)), value
    header = openpyxl.load_workbook(io.BytesIO(data), read_only=True).active
    cells = list(header.iter_rows())
    names = [c.value for c in cells[0]]
    id_like = [n for n in ("订单号", "外部单号", "产品编号", "客户统一社会信用代码") if n in names]
    for row in cells[1:]:
        for name in id_like:
            cell = row[names.index(name)]
            assert cell.value is None or cell.data_type == "s", (name, cell.value)
    codes = {r["客户统一社会信用代码"] for r in read(data, "xlsx")}
    assert codes == {CREDIT, ALL_DIGITS_CREDIT}


@pytest.mark.parametrize("target", ["orders", "communications"])
def test_a_masking_role_gets_the_credit_codes_masked_as_the_list_shows_them(
        auditor, book, target):
    rows = read(export(auditor, target, "csv"), "csv")
    assert "深圳南山科技有限公司" in {r["客户"] for r in rows}  # the whole company
    codes = {r["客户"]: r["客户统一社会信用代码"] for r in rows}
    assert codes["杭州西湖茶业有限公司"] == "9111**********433B"
    assert codes["宁波港口物流有限公司"] == "9133**********0071"
    assert CREDIT not in export(auditor, target, "csv").decode("utf-8-sig")


def test_the_analyst_may_not_export_orders(anna, book):
    with pytest.raises(PermissionDenied):
        export(anna)
    assert not ChangeLog.objects.filter(action="export").exists()


def test_every_export_is_recorded_with_its_target_filter_and_count(alice, book):
    export(alice, "orders", "csv", params={"industry": "retail"}, **{"from": "2025-01-01"})
    log = ChangeLog.objects.get(action="export")
    assert log.actor == alice and log.origin == "manual"
    assert log.changes["target"] == "orders" and log.changes["format"] == "csv"
    assert log.changes["filters"] == {"industry": "retail", "from": "2025-01-01"}
    assert log.changes["rows"] == 2 and log.changes["columns"][:3] == [
        "customer", "customer.credit_code", "number"]


@pytest.mark.parametrize(("target", "fmt"), [("orders", "xlsx"), ("orders", "csv"),
                                             ("communications", "xlsx")])
def test_an_export_reimports_with_every_column_mapped_and_changes_nothing(
        tmp_path, alice, book, target, fmt):
    """The round trip: the headers map by themselves, and `kehu import` finds every row
    (customer by credit code, order by number) unchanged."""
    data = export(alice, target, fmt)
    path = tmp_path / f"{target}.{fmt}"
    path.write_bytes(data)
    headers = list(read(data, fmt)[0])
    assert all(guess_mapping(headers, target).values()), guess_mapping(headers, target)
    visible = orders_visible if target == "orders" else communications_visible
    before = sorted(visible(viewer=alice).values_list("pk", "version", "updated_at"))
    out = io.StringIO()
    call_command("import", target, str(path), as_user="alice", stdout=out)
    assert "新建 0，更新 0" in out.getvalue() and "拒绝 0" in out.getvalue(), out.getvalue()
    assert sorted(visible(viewer=alice).values_list("pk", "version", "updated_at")) == before


def test_reading_the_rows_costs_the_same_queries_for_ten_times_the_orders(
        alice, book, make_customer):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from kehu.transfer.export.selectors import communication_rows, order_line_rows

    def queries() -> tuple[int, int]:
        args = {"viewer": alice, "filters": CustomerFilters.from_params({"q": "公司"}),
                "history": HistoryFilters()}
        with CaptureQueriesContext(connection) as orders:
            list(order_line_rows(**args))
        with CaptureQueriesContext(connection) as calls:
            list(communication_rows(**args))
        return len(orders), len(calls)

    queries()  # the viewer's shares and role, read once per user object
    before = queries()
    more = make_customer(alice, name="温州瓯海眼镜有限公司")
    for day in range(1, 21):
        history.order_create(actor=alice, origin="manual", customer=more, data={
            "ordered_on": f"2025-05-{day:02d}", "lines": [
                {"product": "0012345", "quantity": 1}, {"product": "TEA-PE-357", "quantity": 2}]})
        history.communication_log(actor=alice, origin="manual", customer=more,
                                  data={"channel": "phone", "subject": f"第{day}次"})
    # the quick search's lookup, a page of customer ids, then its orders and their lines
    assert queries() == before == (4, 3)


def test_small_pages_give_every_row_once_in_customer_then_time_order(
        alice, book, make_customer, monkeypatch):
    from kehu.transfer.export import selectors

    more = make_customer(alice, name="温州瓯海眼镜有限公司")
    for number in ("SO-W-3", "SO-W-1", "SO-W-2"):  # one day: the id decides
        history.order_create(actor=alice, origin="manual", customer=more, data={
            "number": number, "ordered_on": "2025-05-01",
            "lines": [{"product": "0012345", "quantity": 1}]})
    history.order_create(actor=alice, origin="manual", customer=more, data={
        "number": "SO-W-0", "ordered_on": "2025-04-01",
        "lines": [{"product": "0012345", "quantity": 1}]})
    args = {"viewer": alice, "filters": CustomerFilters(), "history": HistoryFilters()}
    whole = [(r["customer__name"], r["number"], r["product__sku"])
             for r in selectors.order_line_rows(**args)]
    monkeypatch.setattr(selectors, "CUSTOMER_PAGE", 1)
    paged = [(r["customer__name"], r["number"], r["product__sku"])
             for r in selectors.order_line_rows(**args, batch=1)]
    assert paged == whole and [n for _c, n, _p in whole] == [
        LONG_NUMBER, LONG_NUMBER, "SO-PORT-1", "SO-W-0", "SO-W-3", "SO-W-1", "SO-W-2"]
