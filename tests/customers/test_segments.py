"""Saved segments: a manager keeps 华东 + 制造业 + spent over ¥100,000 as her team's segment;
each person who opens it sees only their own customers in it, the count on its page is
theirs, an export of it holds exactly its members, and a segment that no longer makes sense
says why instead of failing."""

from __future__ import annotations

import csv
import io
import json
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.http import Http404
from django.urls import reverse

from kehu.customers import services as customer_services
from kehu.customers.models import Customer, Segment
from kehu.customers.segments import (
    segment_counts_refresh,
    segment_delete,
    segment_get,
    segment_list,
    segment_members,
    segment_save,
)
from kehu.history.models import Order
from kehu.jobs.registry import kind_get
from tests.customers.test_conditions import EAST, buy

pytestmark = pytest.mark.django_db


@pytest.fixture
def east_factories(alice, bob, charlie, product, make_customer):
    """Alice's and bob's factories in 华东 (some big spenders), a western one, charlie's."""
    made = {}
    for owner, name, province, quantity in ((alice, "宁波机床厂", "浙江省", 2),
                                            (alice, "苏州小五金", "江苏省", 1),
                                            (bob, "无锡机械", "江苏省", 2),
                                            (bob, "上海大工厂", "上海市", 0),
                                            (bob, "成都机床厂", "四川省", 3),
                                            (charlie, "南京重工", "江苏省", 4)):
        made[name] = make_customer(owner, name=name, province=province, industry="manufacturing")
        if quantity:
            buy(owner, made[name], quantity)
    buy(bob, made["上海大工厂"], 5, status="cancelled")  # not spending
    return made


def independent(owners) -> set[int]:
    """The members by hand: every order summed in Python, every customer checked."""
    spent: dict[int, Decimal] = {}
    for order in Order.objects.filter(status__in=("confirmed", "paid")):
        spent[order.customer_id] = spent.get(order.customer_id, Decimal(0)) + order.total
    return {c.pk for c in Customer.objects.filter(owner__in=owners)
            if c.province in ("浙江省", "江苏省", "上海市") and c.industry == "manufacturing"
            and spent.get(c.pk, 0) >= 100000}


def team_segment(mallory) -> Segment:
    return segment_save(actor=mallory, origin="manual", data={
        "name": "华东大客户", "condition": json.dumps(EAST), "visibility": "team"})


def names(qs) -> set[str]:
    return set(qs.values_list("name", flat=True))


def test_a_manager_saves_a_team_segment_and_her_rep_sees_only_her_own(
        login, mallory, alice, bob, charlie, east_factories):
    segment = team_segment(mallory)
    assert segment.condition == EAST and segment.owner == mallory
    members = segment_members(viewer=mallory, segment=segment)
    assert set(members.values_list("pk", flat=True)) == independent([alice, bob]) \
        == {east_factories["宁波机床厂"].pk, east_factories["无锡机械"].pk}
    assert segment.member_count == 2  # hers, counted on save

    alices = segment_get(viewer=alice, pk=segment.pk)
    assert names(segment_members(viewer=alice, segment=alices)) == {"宁波机床厂"}
    assert set(segment_members(viewer=alice, segment=alices).values_list("pk", flat=True)) \
        == independent([alice])
    page = login(alice).get(reverse("customers:segment", args=[segment.pk])).content.decode()
    assert "华东大客户" in page and 'data-segment-count>1</strong>' in page
    assert "省份 属于 浙江省、江苏省、上海市 且 行业 属于 制造业 且 累计消费金额 ≥ 100000" in page
    listed = login(alice).get(reverse("customers:list"), {"segment": segment.pk}).content.decode()
    assert "宁波机床厂" in listed and "无锡机械" not in listed and "苏州小五金" not in listed
    assert 'aria-current="true"' in listed and "分群详情" in listed
    assert ">2</span>" not in listed  # the owner's count is hers alone

    assert segment in segment_list(viewer=bob)  # same department
    assert segment not in segment_list(viewer=charlie)  # 华南
    with pytest.raises(Http404):
        segment_get(viewer=charlie, pk=segment.pk)


def test_a_private_segment_is_its_owners_alone(login, alice, bob, mallory, root):
    mine = segment_save(actor=alice, origin="manual", data={
        "name": "我的", "condition": {"field": "province", "op": "eq", "value": "浙江省"}})
    assert mine.visibility == "private"
    assert list(segment_list(viewer=alice)) == [mine]
    for other in (bob, mallory, root):
        assert mine not in segment_list(viewer=other)
        assert login(other).get(reverse("customers:segment", args=[mine.pk])).status_code == 404
        assert login(other).get(reverse("customers:list"), {"segment": mine.pk}).status_code == 404
        assert login(other).post(reverse("transfer:export_customers"),
                                 {"format": "csv", "segment": mine.pk}).status_code == 404
    assert login(alice).get(reverse("customers:list"), {"segment": "abc"}).status_code == 200


def test_only_managers_and_admins_publish_to_everyone(alice, mallory, root, charlie):
    data = {"name": "全员可见", "condition": EAST, "visibility": "everyone"}
    with pytest.raises(ValidationError) as refused:
        segment_save(actor=alice, origin="manual", data=data)
    assert "只有管理员和经理可以把分群设为全公司可见" in refused.value.message_dict["visibility"]
    published = segment_save(actor=mallory, origin="manual", data=data)
    assert published in segment_list(viewer=charlie)
    assert segment_save(actor=root, origin="manual", data=data).visibility == "everyone"


def test_a_bad_condition_is_refused_naming_each_bad_part(alice):
    with pytest.raises(ValidationError) as refused:
        segment_save(actor=alice, origin="manual", data={"name": "", "condition": {"all": [
            {"field": "province", "op": "in", "value": ["浙江省"]},
            {"field": "total_spent", "op": "gte", "value": "很多"}]}, "visibility": "secret"})
    errors = refused.value.message_dict
    assert set(errors) == {"name", "visibility", "condition.all.1.value"}
    assert not Segment.objects.exists()


def test_only_the_owner_changes_or_deletes_a_segment(login, alice, bob, mallory):
    segment = team_segment(mallory)
    response = login(alice).post(reverse("customers:segment_delete", args=[segment.pk]))
    assert response.status_code == 403
    renamed = segment_save(actor=mallory, origin="manual", segment=segment,
                           data={"name": "华东重点"})
    assert renamed.name == "华东重点" and renamed.version == 2 and renamed.condition == EAST
    segment_delete(actor=mallory, origin="manual", segment=segment)
    assert not Segment.objects.exists()


def test_a_segment_whose_custom_field_was_deactivated_says_so(login, alice, root, make_customer):
    field = customer_services.custom_field_save(actor=root, origin="manual", data={
        "key": "score", "label": "评分", "field_type": "number"})
    make_customer(alice, name="高分客户", custom={"score": "9"})
    segment = segment_save(actor=alice, origin="manual", data={
        "name": "高分", "condition": {"field": "cf.score", "op": "gte", "value": 5}})
    assert segment.member_count == 1
    customer_services.custom_field_save(actor=root, origin="manual", field=field,
                                        data={"is_active": False})
    page = login(alice).get(reverse("customers:segment", args=[segment.pk]))
    assert page.status_code == 200
    text = page.content.decode()
    assert "分群“高分”的条件已无法使用" in text and "cf.score" in text
    listed = login(alice).get(reverse("customers:list"), {"segment": segment.pk})
    assert listed.status_code == 200 and "分群“高分”的条件已无法使用" in listed.content.decode()
    assert segment_counts_refresh() == 1
    segment.refresh_from_db()
    assert segment.member_count is None


def test_the_hourly_job_keeps_the_owners_counts(alice, make_customer):
    segment = segment_save(actor=alice, origin="manual", data={
        "name": "浙江", "condition": {"field": "province", "op": "in", "value": ["浙江省"]}})
    assert segment.member_count == 0
    make_customer(alice, name="杭州新客户", province="浙江省")
    assert segment_counts_refresh() == 1
    segment.refresh_from_db()
    assert segment.member_count == 1 and segment.counted_at is not None
    assert kind_get("customers.segment_counts").schedule == "17 * * * *"


def rows_of(response) -> list[dict]:
    body = b"".join(response.streaming_content)
    return list(csv.DictReader(io.StringIO(body.decode("utf-8-sig"))))


def test_the_export_of_a_segment_has_exactly_its_members(login, mallory, alice, east_factories):
    segment = team_segment(mallory)
    listed = login(alice).get(reverse("customers:list"), {"segment": segment.pk}).content.decode()
    assert f'name="segment" value="{segment.pk}" form="export-form"' in listed
    export = reverse("transfer:export_customers")
    for viewer, expected in ((mallory, {"宁波机床厂", "无锡机械"}), (alice, {"宁波机床厂"})):
        response = login(viewer).post(export, {"format": "csv", "segment": segment.pk,
                                               "columns": ["name"]})
        assert {r["客户名称"] for r in rows_of(response)} == expected
        orders = login(viewer).post(export, {"format": "csv", "segment": segment.pk,
                                             "target": "orders"})
        assert {r["客户"] for r in rows_of(orders)} == expected


def test_the_builder_saves_the_lists_condition_as_a_segment(login, alice, east_factories):
    client = login(alice)
    condition = json.dumps(EAST)
    page = client.get(reverse("customers:list"), {"filter": condition, "q": "机"}).content.decode()
    assert 'id="builder-data"' in page and "全部满足" in page and "任一满足" in page
    assert "清除条件" in page and "?q=%E6%9C%BA" in page  # clearing keeps the search
    response = client.post(reverse("customers:segment_create"), {
        "name": "我的华东大客户", "visibility": "team", "condition": condition})
    segment = Segment.objects.get()
    assert response.status_code == 302 and response.url == f"/customers/?segment={segment.pk}"
    assert segment.owner == alice and segment.visibility == "team" and segment.member_count == 1
    refused = client.post(reverse("customers:segment_create"), {
        "name": "x", "visibility": "everyone", "condition": condition, "next": "/customers/"})
    assert refused.status_code == 302 and Segment.objects.count() == 1


def test_a_big_export_of_a_segment_runs_as_a_job_with_the_same_members(
        login, mallory, alice, east_factories, monkeypatch):
    from kehu.jobs.models import Job
    from kehu.jobs.services import run_here
    from kehu.transfer.export import services as export_services

    monkeypatch.setattr(export_services, "DIRECT_LIMIT", 0)  # every export is "big" here
    segment = team_segment(mallory)
    response = login(alice).post(reverse("transfer:export_customers"),
                                 {"format": "csv", "segment": segment.pk, "columns": ["name"]})
    job = Job.objects.get(kind="transfer.export")
    assert response.status_code == 302 and job.params["filters"] == {"segment": str(segment.pk)}
    job = run_here(job)
    assert job.status == "done", job.error
    rows = rows_of(login(alice).get(reverse("jobs:file", args=[job.pk, job.files.get().pk])))
    assert [r["客户名称"] for r in rows] == ["宁波机床厂"]  # her members, in the job too


def test_a_bad_condition_in_the_address_is_reported_and_left_out(login, alice, make_customer):
    make_customer(alice, name="杭州茶厂", province="浙江省")
    page = login(alice).get(reverse("customers:list"), {
        "filter": json.dumps({"all": [{"field": "total_spent", "op": "gte", "value": "很多"}]})})
    assert page.status_code == 200
    text = page.content.decode()
    assert "已忽略无效的条件" in text and "杭州茶厂" in text
