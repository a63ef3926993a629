"""Segments through the API: a manager saves her team's segment, her rep pages through it and
gets only her own customers — the same services and scope as the list page."""

from __future__ import annotations

import pytest

from tests.customers.test_segments import EAST, east_factories  # noqa: F401

pytestmark = pytest.mark.django_db


@pytest.mark.usefixtures("east_factories")
def test_a_team_segment_through_the_api(api_as, mallory, alice, charlie):
    manager, rep = api_as(mallory), api_as(alice)
    created = manager.post("/segments", {"name": "华东大客户", "condition": EAST,
                                                "visibility": "team"})
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["member_count"] == 2 and body["condition"] == EAST
    pk = body["id"]

    listed = rep.get("/segments").json()
    assert [(s["id"], s["member_count"]) for s in listed] == [(pk, None)]  # not her count
    mine = rep.get(f"/segments/{pk}/customers").json()
    assert [c["name"] for c in mine["items"]] == ["宁波机床厂"]
    assert [c["name"] for c in rep.get("/customers", segment=pk).json()["items"]] \
        == ["宁波机床厂"]
    assert sorted(c["name"] for c in manager.get(f"/segments/{pk}/customers")
                  .json()["items"]) == ["宁波机床厂", "无锡机械"]
    assert api_as(charlie).get(f"/segments/{pk}/customers").status_code == 404
    assert api_as(charlie).get("/customers", segment=pk).status_code == 404


def test_refusals_name_the_bad_part(api_as, alice):
    rep = api_as(alice)
    everyone = rep.post("/segments", {"name": "全员", "condition": EAST,
                                             "visibility": "everyone"})
    assert everyone.status_code == 422
    assert "只有管理员和经理可以把分群设为全公司可见" in everyone.content.decode()
    bad = rep.post("/segments", {"name": "坏条件", "condition": {"all": [
        {"field": "total_spent", "op": "gte", "value": "很多"}]}})
    assert bad.status_code == 422 and "condition.all.0.value" in bad.content.decode()
