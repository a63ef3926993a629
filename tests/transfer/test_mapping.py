"""The headers people write find their fields; custom fields by their label."""

from pathlib import Path

import pytest

from kehu.customers.services import custom_field_save
from kehu.transfer.mapping import guess_mapping, importable_fields, is_known_header, translate_choice
from kehu.transfer.reading import open_sheet

DATA = Path(__file__).resolve().parents[1] / "data"  # copies of ../shared/data

pytestmark = pytest.mark.django_db


@pytest.fixture
def team_fields(root):
    for key, label, kind in [("first_deal", "首次合作日期", "date"),
                             ("spent", "累计消费金额", "number")]:
        custom_field_save(actor=root, origin="manual",
                          data={"key": key, "label": label, "field_type": kind})


def test_the_gbk_sample_maps_every_column(team_fields):
    sheet = open_sheet(DATA / "customers_gbk.csv")
    assert guess_mapping(sheet.headers, "customers") == {
        "客户名称": "name", "客户类型": "kind", "所属行业": "industry", "省份": "province",
        "城市": "city", "联系人": "contact.name", "职务": "contact.title", "手机": "phones",
        "座机": "phones", "邮箱": "emails", "统一社会信用代码": "credit_code",
        "客户来源": "source", "首次合作日期": "custom.first_deal",
        "累计消费金额": "custom.spent", "备注": "notes",
    }


def test_the_messy_sample_maps_its_other_wording(team_fields):
    sheet = open_sheet(DATA / "customers_messy.xlsx")
    mapping = guess_mapping(sheet.headers, "customers")
    assert mapping == {
        "公司/客户名称": "name", "类型": "kind", "行业": "industry", "所在省份": "province",
        "所在城市": "city", "联系人姓名": "contact.name", "联系人职务": "contact.title",
        "联系电话": "phones", "办公电话": "phones", "电子邮箱": "emails",
        "信用代码": "credit_code", "来源渠道": "source", "首次合作": "custom.first_deal",
        "消费总额(元)": "custom.spent", "备注说明": "notes",
    }


@pytest.mark.parametrize(
    ("header", "key"),
    [("客户名称*", "name"), ("  Name ", "name"), ("E-mail", "emails"), ("Ｅｍａｉｌ", "emails"),
     ("Mobile", "phones"), ("消费总额（元）", ""), ("公司 名称", "name"), ("不认识的列", "")],
)
def test_headers_are_normalised_before_matching(db, header, key):
    assert guess_mapping([header], "customers") == {header: key}


def test_a_single_value_field_is_guessed_once(db):
    assert guess_mapping(["备注", "说明"], "customers") == {"备注": "notes", "说明": ""}


def test_orders_and_communications_have_their_own_words(db):
    assert guess_mapping(["订单号", "客户", "下单日期", "金额", "状态", "产品"], "orders") == {
        "订单号": "number", "客户": "customer", "下单日期": "ordered_on", "金额": "amount",
        "状态": "status", "产品": "product"}
    assert guess_mapping(["客户", "时间", "方式", "内容", "联系人"], "communications") == {
        "客户": "customer", "时间": "occurred_at", "方式": "channel", "内容": "content",
        "联系人": "contact"}


def test_importable_fields_mark_required_and_id_like_and_list_custom_fields(team_fields):
    fields = {f.key: f for f in importable_fields("customers")}
    assert fields["name"].required and not fields["kind"].required and not fields["notes"].required
    assert fields["phones"].id_like and fields["credit_code"].id_like
    assert fields["custom.spent"].label == "累计消费金额"
    assert {f.key for f in importable_fields("orders") if f.required} == {"number", "product"}
    with pytest.raises(ValueError, match="unknown"):
        importable_fields("products")


def test_known_header_words_and_choice_words():
    assert is_known_header("联系电话") and not is_known_header("客户档案表（导出于 2025-10-31）")
    assert translate_choice("kind", "企业") == "company"
    assert translate_choice("source", "老客户介绍") == "referral"
    assert translate_choice("industry", "制造业") == "制造业"  # the label: the cleaner takes it
