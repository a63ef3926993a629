"""Regions as people meet them: alice types 广东 深圳 and Kehu stores 广东省 深圳市 with its
code; an old sheet's 深训 is kept as typed but flagged in data quality and found by the list's
filter 地区无法识别; the import reads the same way; an admin loads a newer division list
with `kehu regions update`. Both databases."""

from __future__ import annotations

import csv
import json
from io import StringIO
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import override_settings

from kehu.accounts.services import system_actor
from kehu.classification.models import DimensionValue, Pending, Rule
from kehu.core.models import ChangeLog
from kehu.customers import cleaning
from kehu.customers import services as customer_services
from kehu.customers.conditions import condition_q, parse_condition
from kehu.customers.models import Customer
from kehu.customers.quality.checking import problems_of
from kehu.customers.quality.models import CustomerQuality, QualityPending
from kehu.customers.regions import index as region_index
from kehu.customers.regions import loading, snapshot
from kehu.customers.regions.matching import match_region
from kehu.customers.regions.models import Region, RegionSource
from kehu.customers.regions.services import regions_update
from kehu.customers.segments import segment_save
from kehu.jobs.models import Job
from kehu.jobs.services import run_here, run_in_foreground
from kehu.transfer.importing import import_start
from kehu.transfer.services import import_configure, import_upload

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_index():
    region_index.forget()
    yield
    region_index.forget()  # a test that swapped the table is rolled back: so is the index


def region(customer) -> tuple:
    customer.refresh_from_db()
    return customer.province, customer.city, customer.district, customer.region_code


def listed(viewer, condition) -> set[int]:
    q = condition_q(parse_condition(condition), viewer=viewer)
    return set(Customer.objects.visible_to(viewer).filter(q).values_list("pk", flat=True))


def test_a_rep_types_short_names_and_kehu_stores_the_official_ones(alice, make_customer):
    customer = make_customer(alice, name="深圳湾科技有限公司", province="广东", city="深圳")
    assert region(customer) == ("广东省", "深圳市", "", "440300")
    customer_services.customer_update(actor=alice, customer=customer, origin="manual",
                                      data={"district": "南山"})  # read within the stored city
    assert region(customer) == ("广东省", "深圳市", "南山区", "440305")
    other = make_customer(alice, name="北京朝阳文化传媒有限公司", province="北京", district="朝阳区")
    assert region(other) == ("北京市", "北京市", "朝阳区", "110105")


def test_an_unknown_region_is_kept_flagged_and_filterable(alice, bob, make_customer):
    typo = make_customer(alice, name="深训贸易有限公司", province="广东省", city="深训市")
    fine = make_customer(alice, name="杭州茶业有限公司", province="浙江", city="杭州")
    blank = make_customer(alice, name="无地区有限公司")
    bobs = make_customer(bob, name="火星贸易有限公司", province="火星")
    assert region(typo) == ("广东省", "深训市", "", None)  # not refused: kept as typed
    run_in_foreground(actor=system_actor(), origin="system", kind="customers.quality",
                      params={"parts": ["problems"]})
    problems = CustomerQuality.objects.get(customer=typo).problems
    assert problems == [{"field": "city",
                         "reason": "地区不在官方行政区划中：“深训市”不在行政区划中（2023-06-30）"}]
    assert CustomerQuality.objects.get(customer=fine).problems == []
    unknown = {"field": "region.status", "op": "in", "value": ["unknown"]}
    assert listed(alice, unknown) == {typo.pk}  # bob's 火星 is not alice's to see
    assert listed(bob, unknown) == {bobs.pk}
    assert listed(alice, {"field": "region.status", "op": "in", "value": ["known"]}) == {fine.pk}
    assert listed(alice, {"field": "region.status", "op": "in", "value": ["none"]}) == {blank.pk}
    customer_services.customer_update(actor=alice, customer=typo, origin="manual",
                                      data={"city": "深圳"})
    assert region(typo) == ("广东省", "深圳市", "", "440300")
    assert listed(alice, unknown) == set()


def test_the_list_filters_by_a_region_picked_in_the_picker(alice, make_customer):
    nanshan = make_customer(alice, name="南山科技有限公司", province="广东", city="深圳", district="南山区")
    futian = make_customer(alice, name="福田贸易有限公司", city="深圳", district="福田区")
    guangzhou = make_customer(alice, name="天河商贸有限公司", city="广州")
    make_customer(alice, name="杭州茶业有限公司", city="杭州")
    chongqing = make_customer(alice, name="城口山货有限公司", province="重庆", district="城口县")
    pick = {"field": "region", "op": "in", "value": ["440000"]}
    assert listed(alice, pick) == {nanshan.pk, futian.pk, guangzhou.pk}
    assert listed(alice, {**pick, "value": ["440300"]}) == {nanshan.pk, futian.pk}
    assert listed(alice, {**pick, "value": ["440305", "440100"]}) == {nanshan.pk, guangzhou.pk}
    assert listed(alice, {**pick, "value": ["500100"]}) == {chongqing.pk}  # a county of 重庆
    with pytest.raises(Exception, match="区划代码"):
        parse_condition({**pick, "value": ["99"]})


def write_sheet(path: Path, rows: list[list[str]]) -> Path:
    with path.open("w", encoding="utf-8-sig", newline="") as out:
        csv.writer(out).writerows([["客户名称", "客户类型", "省份", "城市", "区县"], *rows])
    return path


def test_an_import_with_short_names_stores_official_ones_and_flags_the_unknown(alice, tmp_path):
    path = write_sheet(tmp_path / "客户.csv", [
        ["广东深圳电子有限公司", "企业", "广东", "深圳", ""],
        ["内蒙古草原乳业有限公司", "企业", "内蒙古", "呼和浩特", "赛罕"],
        ["老表格贸易有限公司", "企业", "广东", "深训", ""],
    ])
    run = import_upload(actor=alice, origin="manual", target="customers", file=path,
                        filename=path.name)
    run = import_configure(actor=alice, origin="manual", run=run, mapping=run.mapping,
                           match=[], owner=None)
    run = import_start(actor=alice, origin="manual", run=run, dry_run=False, queued=False)
    assert run_here(run.import_job).status == "done"
    stored = {c.name: (c.province, c.city, c.district, c.region_code)
              for c in Customer.objects.all()}
    assert stored == {
        "广东深圳电子有限公司": ("广东省", "深圳市", "", "440300"),
        "内蒙古草原乳业有限公司": ("内蒙古自治区", "呼和浩特市", "赛罕区", "150105"),
        "老表格贸易有限公司": ("广东省", "深训", "", None),  # imported, not refused
    }
    unknown = {"field": "region.status", "op": "in", "value": ["unknown"]}
    assert {Customer.objects.get(pk=pk).name for pk in listed(alice, unknown)} == {"老表格贸易有限公司"}


def newer_snapshot(tmp_path: Path) -> Path:
    """The bundled list a year on: 深训区 is a new district of 深圳 (a test's invention)."""
    data = json.loads(snapshot.BUNDLED.read_text(encoding="utf-8"))
    data["as_of"] = "2024-06-30"
    data["regions"].append(["440399", "深训区", "440300", 3])
    path = tmp_path / "regions-202406.json"
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return path


def test_an_admin_loads_a_newer_division_list_and_old_text_becomes_known(alice, make_customer,
                                                                           tmp_path):
    customer = make_customer(alice, name="深训贸易有限公司", city="深圳", district="深训区")
    assert region(customer)[3] is None
    out = StringIO()
    call_command("regions", "info", stdout=out)
    assert "版本日期：2023-06-30" in out.getvalue() and "共 3218" in out.getvalue()
    out = StringIO()
    call_command("regions", "update", str(newer_snapshot(tmp_path)), stdout=out)
    assert "已载入行政区划（2024-06-30）" in out.getvalue() and "共 3219" in out.getvalue()
    assert region(customer) == ("广东省", "深圳市", "深训区", "440399")
    assert RegionSource.objects.get().as_of == "2024-06-30"
    assert ChangeLog.objects.filter(action="regions_update").count() == 1
    later = make_customer(alice, name="深训二号有限公司", city="深圳", district="深训")
    assert region(later) == ("广东省", "深圳市", "深训区", "440399")


def test_a_bad_snapshot_changes_nothing(tmp_path):
    data = json.loads(snapshot.BUNDLED.read_text(encoding="utf-8"))
    data["regions"].append(["440398", "孤儿区", "449900", 3])
    data["regions"].append(["4403", "短码区", "440300", 3])
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    with pytest.raises(CommandError) as refused:
        call_command("regions", "update", str(path))
    message = str(refused.value)
    assert "440398 孤儿区 的上级 449900 不存在或级别不对" in message and "短码区" in message
    assert Region.objects.count() == 3218 and RegionSource.objects.get().as_of == "2023-06-30"
    with pytest.raises(CommandError, match="无法读取区划文件"):
        call_command("regions", "update", str(tmp_path / "missing.json"))


def test_one_region_text_stored_with_two_codes_is_matched_once(alice, make_customer, tmp_path):
    """An older list (or a hand edit) left one text with two codes: the update keys its
    changes by the text alone — two rows of one text in the join would make PostgreSQL
    refuse the whole update."""
    first = make_customer(alice, name="深训贸易有限公司", city="深圳", district="深训区")
    second = make_customer(alice, name="深训二号有限公司", city="深圳", district="深训区")
    Customer.objects.filter(pk=second.pk).update(region_code="440300")
    assert region(first)[:3] == region(second)[:3] and region(first)[3] != region(second)[3]
    regions_update(actor=system_actor(), origin="system", path=newer_snapshot(tmp_path))
    assert region(first) == region(second) == ("广东省", "深圳市", "深训区", "440399")
    log = ChangeLog.objects.get(action="regions_update")
    assert log.changes["customers_changed"] == 2
    # Run again: nothing left to change, and a right code is not rewritten.
    again = regions_update(actor=system_actor(), origin="system", path=newer_snapshot(tmp_path))
    assert again["customers_changed"] == 0


def test_customers_the_update_changed_are_revalidated_and_reclassified(
        alice, make_customer, tmp_path, django_capture_on_commit_callbacks):
    """The backfill writes with raw SQL; the customers it changed are announced, so data
    quality drops their 地区不在官方行政区划中 and classification re-runs their rules."""
    changed = make_customer(alice, name="深训贸易有限公司", city="深圳", district="深训区")
    same = make_customer(alice, name="杭州茶业有限公司", city="杭州")
    with override_settings(KEHU_QUALITY_DELAY_SECONDS=5, KEHU_CLASSIFY_DELAY_SECONDS=5), \
            django_capture_on_commit_callbacks(execute=True):
        regions_update(actor=system_actor(), origin="system", path=newer_snapshot(tmp_path))
    assert set(QualityPending.objects.values_list("customer_id", flat=True)) == {changed.pk}
    assert set(Pending.objects.values_list("customer_id", flat=True)) == {changed.pk}
    refresh = Job.objects.get(kind="customers.quality_refresh")
    assert Job.objects.filter(kind="classification.refresh").count() == 1
    assert run_here(refresh).status == "done"
    assert CustomerQuality.objects.get(customer=changed).problems == []
    assert same.pk not in set(CustomerQuality.objects.values_list("customer_id", flat=True))


def test_an_update_dropping_a_code_a_segment_or_rule_names_is_refused(alice, tmp_path):
    """A saved condition naming a code the new list lacks would stop parsing (and the jobs
    running it): the update is refused, naming each segment and rule and the codes."""
    nanshan = {"field": "region", "op": "in", "value": ["440305"]}
    segment_save(actor=alice, origin="manual", data={"name": "南山客户", "condition": nanshan})
    Rule.objects.create(name="深圳大客户", value=DimensionValue.objects.first(), condition={
        "all": [{"field": "region", "op": "in", "value": ["440300", "440306"]}]})
    data = json.loads(snapshot.BUNDLED.read_text(encoding="utf-8"))
    data["as_of"] = "2024-06-30"
    data["regions"] = [r for r in data["regions"] if r[0] not in ("440305", "440306")]
    path = tmp_path / "regions-202406.json"
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    with pytest.raises(ValidationError) as refused:
        regions_update(actor=system_actor(), origin="system", path=path)
    assert refused.value.message_dict["file"] == [
        "分群“南山客户”的条件用到了新版区划中没有的代码 440305，请先修改它",
        "分类规则“深圳大客户”的条件用到了新版区划中没有的代码 440306，请先修改它"]
    assert RegionSource.objects.get().as_of == "2023-06-30" and Region.objects.count() == 3218


def test_the_matcher_reads_the_short_names_the_table_holds():
    """Region.short_name is what the index reads (computed once, when a list is loaded)."""
    index = region_index.current()
    assert all(d.short == Region.objects.get(code=d.code).short_name
               for d in (index.by_code["440300"], index.by_code["150000"], index.by_code["532900"]))
    Region.objects.filter(code="440300").update(short_name="鹏城")  # a test's invention
    region_index.forget()
    assert [d.code for d in region_index.current().named("鹏城", region_index.CITY)] == ["440300"]


def test_re_validation_matches_a_customers_region_once(alice, make_customer, monkeypatch):
    typo = make_customer(alice, name="深训贸易有限公司", province="广东省", city="深训市")
    calls = []

    def counted(*args, **kwargs):
        calls.append(args)
        return match_region(*args, **kwargs)

    monkeypatch.setattr(cleaning, "match_region", counted)
    assert problems_of(typo, {}, [], []) == [
        {"field": "city", "reason": "地区不在官方行政区划中：“深训市”不在行政区划中（2023-06-30）"}]
    assert calls == [("广东省", "深训市", "")]


def test_a_failure_halfway_through_an_update_leaves_the_old_list(alice, make_customer, tmp_path,
                                                                  monkeypatch):
    customer = make_customer(alice, name="深训贸易有限公司", city="深圳", district="深训区")

    def broken(**kwargs):
        assert Region.objects.filter(code="440399").exists()  # the new list is in by now
        raise RuntimeError("disk full")

    monkeypatch.setattr(loading, "customers_fill", broken)
    with pytest.raises(RuntimeError, match="disk full"):
        regions_update(actor=system_actor(), origin="system", path=newer_snapshot(tmp_path))
    assert RegionSource.objects.get().as_of == "2023-06-30" and Region.objects.count() == 3218
    assert not Region.objects.filter(code="440399").exists()
    assert region(customer) == ("广东省", "深圳市", "深训区", None)
    assert not ChangeLog.objects.filter(action="regions_update").exists()
    assert region_index.current().as_of == "2023-06-30"
