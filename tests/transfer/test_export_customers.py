"""Exporting the customer list: a rep, a manager and the analyst, read back by independent readers.

Every sheet is opened with python-calamine and openpyxl (CSV with the csv module): the
readers Kehu does not write with. What comes back must be exactly the viewer's list —
their rows only, masked where the list masks, every digit of every phone and credit code.
"""

from __future__ import annotations

import csv
import io

import openpyxl
import pytest
from django.core.exceptions import PermissionDenied
from hypothesis import given
from hypothesis import strategies as st
from python_calamine import CalamineWorkbook

from kehu.accounts.models import Role
from kehu.accounts.services import user_create
from kehu.core.models import ChangeLog
from kehu.core.views import display_phone
from kehu.customers.filters import CustomerFilters
from kehu.customers.services import custom_field_save
from kehu.transfer.export.columns import _phone
from kehu.transfer.export.services import export_customers

pytestmark = pytest.mark.django_db

PHONE = "13812345678"
CREDIT = "91110000802100433B"
ALL_DIGITS_CREDIT = "913301061000000071"  # what a number cell would turn into 9.111E+17


def export(user, fmt="xlsx", params=None, **options) -> bytes:
    stream = io.BytesIO()
    export_customers(actor=user, origin="manual", filters=CustomerFilters.from_params(params or {}),
                     fmt=fmt, stream=stream, **options)
    return stream.getvalue()


def read(data: bytes, fmt: str) -> list[dict]:
    """Rows as dicts by header; xlsx read by both readers, which must agree."""
    if fmt == "csv":
        text = data.decode("utf-8-sig")
        return list(csv.DictReader(io.StringIO(text)))
    calamine = CalamineWorkbook.from_filelike(io.BytesIO(data)).get_sheet_by_index(0).to_python()
    book = openpyxl.load_workbook(io.BytesIO(data), read_only=True)
    opened = [list(r) for r in book.active.iter_rows(values_only=True)]
    # calamine writes "" for an empty cell where openpyxl has None; otherwise identical
    assert [[("" if v is None else v) for v in r] for r in opened] == calamine
    header, *rows = opened
    return [dict(zip(header, row, strict=True)) for row in rows]


@pytest.fixture
def book(alice, bob, charlie, make_customer):
    """Alice's and Bob's customers (Mallory's team) and Charlie's, in another region."""
    make_customer(alice, name="杭州西湖茶业有限公司", phones=[PHONE, "021-62345678"],
                  emails=["buyer@xihu-tea.cn"], credit_code=CREDIT, industry="retail",
                  tags=["重点客户", "华东茶商"])
    make_customer(alice, name="宁波港口物流有限公司", credit_code=ALL_DIGITS_CREDIT,
                  phones=["13900001111"])
    make_customer(bob, name="苏州园林设计有限公司", phones=["13711112222"])
    make_customer(charlie, name="深圳南山科技有限公司", phones=["13655556666"])


@pytest.mark.parametrize("fmt", ["xlsx", "csv"])
def test_a_rep_exports_her_own_customers_with_every_digit(alice, book, fmt):
    rows = read(export(alice, fmt), fmt)
    by_name = {r["客户名称"]: r for r in rows}
    assert set(by_name) == {"杭州西湖茶业有限公司", "宁波港口物流有限公司"}
    tea = by_name["杭州西湖茶业有限公司"]
    assert tea["电话"] == "138 1234 5678、021 6234 5678"
    assert tea["统一社会信用代码"] == CREDIT
    assert by_name["宁波港口物流有限公司"]["统一社会信用代码"] == ALL_DIGITS_CREDIT
    assert tea["客户类型"] == "企业客户" and tea["行业"] == "批发零售"
    assert tea["负责人"] == "Alice 王" and tea["标签"] == "华东茶商、重点客户"
    assert tea["邮箱"] == "buyer@xihu-tea.cn"


def test_phone_and_code_cells_are_text_in_xlsx(alice, book):
    sheet = openpyxl.load_workbook(io.BytesIO(export(alice)), read_only=True).active
    header, *rows = list(sheet.iter_rows())
    columns = [c.value for c in header]
    for row in rows:
        for name in ("电话", "统一社会信用代码"):
            cell = row[columns.index(name)]
            assert cell.data_type == "s" and isinstance(cell.value, str)


def test_a_manager_exports_his_teams_customers_and_no_one_elses(mallory, book):
    names = {r["客户名称"] for r in read(export(mallory), "xlsx")}
    assert names == {"杭州西湖茶业有限公司", "宁波港口物流有限公司", "苏州园林设计有限公司"}


def test_the_export_keeps_the_lists_filter_search_and_sort(mallory, alice, book):
    params = {"owner": str(alice.pk), "sort": "name"}
    names = [r["客户名称"] for r in read(export(mallory, params=params), "xlsx")]
    assert names == sorted(["杭州西湖茶业有限公司", "宁波港口物流有限公司"])
    assert [r["客户名称"] for r in read(export(mallory, "csv", params={"q": "苏州"}), "csv")] == [
        "苏州园林设计有限公司"]


def test_the_analyst_may_not_export_by_default(anna, book):
    with pytest.raises(PermissionDenied):
        export(anna)
    assert not ChangeLog.objects.filter(action="export").exists()


def test_a_masking_role_allowed_to_export_gets_the_masked_list(book, east):
    Role.objects.create(code="auditor", name="审计", data_scope="all", can_write=False,
                        masks_sensitive=True, may_export=True)
    auditor = user_create(username="audrey", role_code="auditor", display_name="Audrey",
                          password="audrey-pass-123")[0]
    rows = {r["客户名称"]: r for r in read(export(auditor, "csv"), "csv")}
    assert len(rows) == 4  # the whole company, Charlie's too
    tea = rows["杭州西湖茶业有限公司"]
    assert PHONE not in tea["电话"] and "****" in tea["电话"]
    assert tea["统一社会信用代码"] == "9111**********433B"
    assert tea["邮箱"] == "b***@xihu-tea.cn"


def test_every_export_is_recorded_once_with_its_filter_and_count(alice, book):
    export(alice, "csv", params={"industry": "retail"}, columns=["name", "phones"])
    log = ChangeLog.objects.get(action="export")
    assert log.actor == alice and log.origin == "manual"
    assert log.changes == {"target": "customers", "format": "csv",
                           "filters": {"industry": "retail"}, "columns": ["name", "phones"],
                           "rows": 1}


def test_custom_fields_are_columns_and_a_negative_amount_is_a_number(root, alice, make_customer):
    custom_field_save(actor=root, origin="manual",
                      data={"key": "spent", "label": "累计消费金额", "field_type": "number"})
    make_customer(alice, name="退款客户", notes="-5 退款", custom={"spent": "-12.5"})
    row = read(export(alice), "xlsx")[0]
    assert row["累计消费金额"] == -12.5
    assert row["备注"] == "'-5 退款"


def test_gb18030_on_request_keeps_rare_characters(alice, make_customer):
    make_customer(alice, name="𠮷野家餐饮有限公司")
    data = export(alice, "csv", encoding="gb18030")
    assert not data.startswith(b"\xef\xbb\xbf")
    assert "𠮷野家餐饮有限公司" in data.decode("gb18030")


@given(st.from_regex(r"1[3-9][0-9]{9}", fullmatch=True))
def test_the_fast_mobile_format_is_the_lists_format(mobile):
    assert _phone(f"+86{mobile}") == display_phone(f"+86{mobile}")
