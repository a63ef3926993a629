"""The import's cleaning runs in a second process and its writer stores the search grams
and pinyin it computed there: the same rows, grams and readings as the one-process path
and as `search_index_refresh` computes them from the stored customers."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from django.db import connection

from kehu.customers.models import Contact, Customer
from kehu.customers.pinyin import name_pinyin
from kehu.customers.searchindex import search_index_refresh
from kehu.transfer import importing
from tests.customers.test_encryption import ALL, INDEX, K_OLD
from tests.transfer.test_import_story import run_import

pytestmark = pytest.mark.django_db
HEADER = ["客户名称", "客户类型", "手机", "邮箱", "微信", "联系人", "联系人手机", "联系人邮箱",
          "简称"]
ROWS = [
    ["曾小明", "个人", "13800138001", "Zeng@Example.cn", "wx_zeng", "", "", "", ""],
    ["单田芳", "个人", "13800138002", "", "", "单秘书", "13900139002", "", "单"],
    ["杭州华金科技有限公司", "企业", "13800138003", "sales@hzhj.cn", "", "王伟",
     "13900139003", "wang@hzhj.cn", "华金"],
    ["区志强", "个人", "13800138004", "", "", "", "", "", ""],
    ["解放", "个人", "13800138005", "", "", "", "", "", ""],
    ["仇英", "个人", "1380013", "", "", "", "", "", ""],  # a bad mobile: refused
    # The same mobile as the third row: one customer, the later row only fills it.
    ["杭州华金科技有限公司", "企业", "13800138003", "info@hzhj.cn", "hj_wx", "李娜",
     "13700137003", "", ""],
    ["ACME Trading 有限公司", "企业", "+86 21 5888 1234", "", "", "", "", "", ""],
]


def grams() -> dict[int, list[str]]:
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("SELECT rowid, grams FROM customers_searchgrams")
            return {pk: sorted(text.split()) for pk, text in cursor.fetchall()}
        cursor.execute("SELECT customer_id, grams FROM customers_searchgrams")
        return {pk: sorted(found) for pk, found in cursor.fetchall()}


def sheet(tmp_path: Path) -> Path:
    path = tmp_path / "客户.csv"
    with path.open("w", encoding="utf-8", newline="") as out:
        csv.writer(out).writerows([HEADER, *ROWS])
    return path


def stored() -> dict[str, list]:
    return {"customers": list(Customer.objects.order_by("pk").values_list(
        "name", "kind", "phones", "emails", "wechat", "short_name", "name_key", "name_pinyin",
        "name_initials", "owner_id")),
        "contacts": list(Contact.objects.order_by("pk").values_list(
            "customer__name", "name", "phones", "email"))}


@pytest.mark.parametrize("sealed", [False, True], ids=["clear", "encrypted"])
def test_the_grams_and_pinyin_written_from_values_in_hand_are_those_the_rows_give(
        alice, tmp_path, settings, sealed):
    if sealed:
        settings.KEHU_ENCRYPTION_KEYS, settings.KEHU_BLIND_INDEX_KEY = K_OLD, INDEX
        settings.KEHU_ENCRYPT_FIELDS = ALL
    run = run_import(alice, sheet(tmp_path), match=["phone"])
    assert (run.created, run.unchanged, run.rejected) == (6, 1, 1)
    written = grams()
    assert len(written) == 6
    search_index_refresh(written)  # recomputed from the stored, encrypted or not, rows
    assert grams() == written
    for name, kind, pinyin, initials in Customer.objects.values_list(
            "name", "kind", "name_pinyin", "name_initials"):
        assert (pinyin, initials) == name_pinyin(name, is_person=kind == "person")
    assert Customer.objects.get(name="曾小明").name_pinyin == "zengxiaoming"
    joined = Customer.objects.get(name="杭州华金科技有限公司")
    assert joined.emails == ["sales@hzhj.cn", "info@hzhj.cn"]  # the later row's, joined
    assert ("einf" in written[joined.pk]) is not sealed  # in the grams (blind when sealed)


def test_the_second_process_plans_exactly_as_one_process_does(alice, tmp_path, monkeypatch):
    path = sheet(tmp_path)
    run_import(alice, path, match=["phone"])
    forked = stored(), named_grams()
    Customer.objects.all().delete()
    monkeypatch.setattr(importing, "forked", lambda produce: produce())  # all in this one
    run_import(alice, path, match=["phone"])
    assert (stored(), named_grams()) == forked


def named_grams() -> dict[str, list[str]]:
    found = grams()
    return {name: found[pk] for pk, name in Customer.objects.values_list("pk", "name")}
