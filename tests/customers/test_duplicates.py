"""Duplicates: one company written many ways is found; two companies are not confused."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kehu.customers.duplicates import duplicate_pairs, duplicates_of, pair_score
from kehu.customers.names import name_parts
from kehu.demo import generate
from kehu.demo.duplicates import inject_duplicates

NOW = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)


@pytest.mark.parametrize(("a", "b"), [
    ("北京字节跳动科技有限公司", "字节跳动科技（北京）有限公司"),
    ("北京字节跳动科技有限公司", "北京 字節跳動科技有限責任公司"),
    ("杭州华信科技有限公司", "浙江省杭州市华信科技股份有限公司"),
    ("阿里巴巴（中国）网络技术有限公司", "阿里巴巴网络技术有限公司"),
])
def test_one_company_written_many_ways_has_one_name_core(a, b):
    assert name_parts(a) == name_parts(b)


def test_names_that_start_like_a_place_keep_their_start():
    assert name_parts("阿里巴巴集团").core == "阿里巴巴"
    assert name_parts("内蒙古伊利实业集团股份有限公司") == name_parts("伊利实业（内蒙古）有限公司")


def company(name, **fields):
    return {"kind": "company", "name": name, "city": "", "phones": [], "emails": [],
            "credit_code": "", **fields}


def test_the_score_says_why_and_knows_two_companies_from_one():
    score, reasons = pair_score(company("杭州华信科技有限公司"), company("华信科技(杭州)有限公司"))
    assert score >= 0.9 and "名称相同" in reasons[0]
    score, reasons = pair_score(company("杭州华信科技有限公司"), company("南京华信科技有限公司"))
    assert score < 0.5 and "地区不同" in reasons[0]
    score, reasons = pair_score(company("甲公司", phones=["+8613812345678"]),
                                company("乙公司", phones=["+8613812345678"]))
    assert score >= 0.95 and reasons == ["电话相同：+8613812345678"]
    score, reasons = pair_score(company("华信科技有限公司", credit_code="91110000802100433B"),
                                company("华信科技有限公司", credit_code="913301061000000071"))
    assert score <= 0.3 and "统一社会信用代码不同" in reasons


@given(st.text(min_size=1, max_size=30))
def test_any_name_normalises_without_failing_and_the_same_twice(name):
    assert name_parts(name) == name_parts(name)
    score, _reasons = pair_score(company(name), company(name))
    assert 0 <= score <= 1


@pytest.mark.django_db
def test_the_finder_reaches_precision_and_recall_of_095_on_the_labelled_set():
    ctx = generate(1500, 11, now=NOW)
    truth = set(inject_duplicates(ctx.customer_ids, 150, seed=5))
    assert len(truth) >= 140
    found = {(p.a, p.b) for p in duplicate_pairs()}
    hits = found & truth
    precision, recall = len(hits) / len(found), len(hits) / len(truth)
    assert precision >= 0.95 and recall >= 0.95, (precision, recall, sorted(truth - found)[:10])


@pytest.mark.django_db
def test_a_rep_is_told_of_a_probable_duplicate_and_never_shown_anothers_customer(
        alice, charlie, make_customer):
    mine = make_customer(alice, name="杭州西湖茶业有限公司", phones=["13812345678"])
    make_customer(charlie, name="深圳南山电子有限公司", phones=["13700001111"])
    found = duplicates_of(viewer=alice, values={"kind": "company", "name": "西湖茶业（杭州）有限公司"})
    assert [(c.customer_id, c.name, c.hard) for c in found] == [(mine.pk, mine.name, False)]
    found = duplicates_of(viewer=alice, values={"kind": "company", "name": "南山电子",
                                                "phones": ["+8613700001111"]})
    assert len(found) == 1 and found[0].hard and found[0].name is None
    assert found[0].reasons == ["已存在于其他同事名下"] and found[0].owner is None


@pytest.mark.django_db
def test_the_command_line_lists_the_pairs_as_json_within_a_users_scope(
        alice, charlie, root, make_customer, capsys):
    import json

    from django.core.management import call_command

    a = make_customer(alice, name="杭州西湖茶业有限公司", phones=["13812345678"])
    b = make_customer(alice, name="西湖茶业（杭州）有限责任公司", phones=["138-1234-5678"])
    c = make_customer(charlie, name="深圳南山电子有限公司")
    d = make_customer(charlie, name="南山电子(深圳)有限公司")
    call_command("dedup", "--format", "json")
    pairs = json.loads(capsys.readouterr().out)
    assert [(p["a"], p["b"]) for p in pairs] == [(a.pk, b.pk), (c.pk, d.pk)]
    assert pairs[0]["score"] == 1.0 and "电话相同：+8613812345678" in pairs[0]["reasons"]
    call_command("dedup", "--as", "alice")
    out = capsys.readouterr().out
    assert f"#{a.pk}\t#{b.pk}" in out and "南山" not in out and "共 1 对" in out
