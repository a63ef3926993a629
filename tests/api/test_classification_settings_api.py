"""The classification settings through the API, as an integration partner or an admin's script
uses them: dimensions and values, rules, and a person's override of one customer's value."""

from __future__ import annotations

import pytest

from kehu.classification.models import ClassChange, CustomerClass, Dimension, DimensionValue, Rule
from kehu.jobs.models import Job

pytestmark = pytest.mark.django_db


def test_an_admin_adds_a_dimension_and_its_values_and_everyone_reads_them(root, alice, api_as):
    admin, rep = api_as(root), api_as(alice)
    made = admin.post("/classification/dimensions", {"name": "信用等级", "name_en": "Credit"})
    assert made.status_code == 201, made.content
    dimension = made.json()
    assert dimension["key"] == "credit" and dimension["values"] == []

    good = admin.post(f"/classification/dimensions/{dimension['id']}/values",
                      {"label": "优", "key": "good", "color": "#16A34A"})
    assert good.status_code == 201 and good.json()["color"] == "#16a34a"
    renamed = admin.patch(f"/classification/values/{good.json()['id']}", {"label": "优良"},
                          if_match=good.json()["version"])
    assert renamed.status_code == 200 and renamed.json()["label"] == "优良"
    stale = admin.patch(f"/classification/values/{good.json()['id']}", {"label": "优"},
                        if_match=good.json()["version"])
    assert stale.status_code == 412

    listed = {d["key"]: d for d in rep.get("/classification/dimensions").json()}
    assert [v["label"] for v in listed["credit"]["values"]] == ["优良"]
    assert rep.post("/classification/dimensions", {"name": "我的维度"}).status_code == 403
    assert rep.patch(f"/classification/values/{good.json()['id']}", {"label": "差"},
                     if_match="*").status_code == 403


def test_every_bad_field_of_a_value_is_named_at_once(root, api_as):
    tier = Dimension.objects.get(key="value_tier")
    answer = api_as(root).post(f"/classification/dimensions/{tier.pk}/values",
                               {"label": "A 类", "key": "a", "color": "green"})
    assert answer.status_code == 422
    fields = {error["field"] for error in answer.json()["errors"]}
    assert {"key", "label", "color"} <= fields


def test_a_value_in_use_is_not_deleted_and_an_unused_one_is(root, api_as):
    admin = api_as(root)
    tier = Dimension.objects.get(key="value_tier")
    used = DimensionValue.objects.get(dimension=tier, key="a")  # the shipped ABC rule sets it
    refused = admin.delete(f"/classification/values/{used.pk}", if_match=used.version)
    assert refused.status_code == 422 and "停用" in refused.content.decode()
    spare = admin.post(f"/classification/dimensions/{tier.pk}/values", {"label": "D 类"}).json()
    assert admin.delete(f"/classification/values/{spare['id']}").status_code == 428
    assert admin.delete(f"/classification/values/{spare['id']}",
                        if_match=spare["version"]).status_code == 204
    assert not DimensionValue.objects.filter(pk=spare["id"]).exists()


def test_an_admin_writes_a_rule_and_the_classification_reruns(root, alice, api_as):
    admin = api_as(root)
    vip = DimensionValue.objects.get(dimension__key="value_tier", key="vip")
    body = {"name": "浙江大客户", "value": vip.pk, "priority": 1,
            "condition": {"field": "province", "op": "in", "value": ["浙江省"]}}
    made = admin.post("/classification/rules", body)
    assert made.status_code == 201, made.content
    rule = made.json()
    assert (rule["dimension"], rule["value"]) == ("value_tier", "vip")
    assert "浙江省" in rule["words"]
    assert Job.objects.filter(kind="classification.run").exists()

    listed = api_as(alice).get("/classification/rules?dimension=value_tier").json()
    assert listed[0]["name"] == "浙江大客户"  # priority 1 decides first
    assert {r["dimension"] for r in listed} == {"value_tier"}

    changed = admin.patch(f"/classification/rules/{rule['id']}", {**body, "priority": 5},
                          if_match=rule["version"])
    assert changed.status_code == 200 and changed.json()["priority"] == 5
    assert admin.delete(f"/classification/rules/{rule['id']}",
                        if_match=rule["version"]).status_code == 412
    assert admin.delete(f"/classification/rules/{rule['id']}",
                        if_match=changed.json()["version"]).status_code == 204
    assert not Rule.objects.filter(pk=rule["id"]).exists()


def test_a_rule_naming_every_bad_field_is_refused(root, api_as):
    answer = api_as(root).post("/classification/rules", {
        "name": "", "condition": {"field": "no_such_field", "op": "eq", "value": 1}})
    assert answer.status_code == 422
    fields = {error["field"] for error in answer.json()["errors"]}
    assert "name" in fields and "value" in fields and any(f.startswith("condition") for f in fields)


def test_a_manager_overrides_a_customers_tier_and_clears_it(mallory, alice, charlie, anna,
                                                            alices_customer, api_as):
    url = f"/customers/{alices_customer.pk}/classification/value_tier"
    placed = api_as(mallory).put(url, {"value": "vip"})
    assert placed.status_code == 200, placed.content
    assert placed.json() == {"dimension": "value_tier", "value": "vip", "manual": True}
    row = CustomerClass.objects.get(customer=alices_customer, dimension__key="value_tier")
    assert row.manual and row.set_by == mallory
    assert ClassChange.objects.filter(customer=alices_customer, manual=True).exists()

    assert api_as(charlie).put(url, {"value": "a"}).status_code == 404  # not in his sight
    assert api_as(anna).put(url, {"value": "a"}).status_code == 403  # reads only
    assert api_as(mallory).put(url, {"value": "nope"}).status_code == 422
    DimensionValue.objects.filter(dimension__key="value_tier", key="c").update(is_active=False)
    retired = api_as(mallory).put(url, {"value": "c"})
    assert retired.status_code == 422 and "已停用" in retired.content.decode()

    cleared = api_as(alice).delete(url)
    assert cleared.status_code == 200 and cleared.json()["manual"] is False


def test_a_rules_preview_names_the_values_with_their_colours(root, alice, alices_customer, api_as):
    vip = DimensionValue.objects.get(dimension__key="value_tier", key="vip")
    answer = api_as(root).post("/classification/rules/preview", {
        "name": "全部 VIP", "value": vip.pk, "priority": -1, "condition": None})
    assert answer.status_code == 200, answer.content
    change = answer.json()["changes"][0]
    assert (change["to_value"], change["to_color"]) == (vip.label, vip.color)
    assert change["customers"] == 1 and change["examples"][0]["id"] == alices_customer.pk
