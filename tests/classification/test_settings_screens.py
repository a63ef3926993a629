"""Classification in the settings area (设置 → 客户分类), as an admin uses it.

root (the admin) adds a value "战略客户" to 价值等级 and moves it up; writes a rule "近一年消费超
50 万 → VIP", previews it, saves it and sees the card follow once the job re-ran. alice (a
sales rep) may open none of it. A value still in use is not deleted; a bad rule form says
everything wrong with it at once.
"""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from kehu.accounts.services import system_actor
from kehu.classification import services, settings_services
from kehu.classification.models import CustomerClass, Dimension, DimensionValue, Rule
from kehu.core.errors import PermissionDenied, ValidationError, VersionConflict
from kehu.core.models import ChangeLog
from kehu.customers import services as customer_services
from kehu.history.models import Order
from kehu.jobs.models import Job
from kehu.jobs.services import run_here, run_in_foreground

pytestmark = pytest.mark.django_db

RUN = "classification.run"


def browser_of(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def tier() -> Dimension:
    return Dimension.objects.get(key="value_tier")


def labels(dimension: Dimension) -> list[str]:
    return list(dimension.values.order_by("position", "id").values_list("label", flat=True))


def order(customer, days_ago: int, total: int) -> None:
    Order.objects.create(customer=customer, number=f"S{Order.objects.count() + 1}",
                         ordered_on=timezone.localdate() - dt.timedelta(days=days_ago),
                         status="paid", total=Decimal(total))


def run_all() -> None:
    job = run_in_foreground(actor=system_actor(), origin="system", kind=RUN, params={})
    assert job.status == "done", job.error


def rule_form(value: DimensionValue | None, **fields: str) -> dict[str, str]:
    condition = {"all": [{"field": "rfm.monetary", "op": "gt", "value": "500000"}]}
    return {"name": "近一年消费超 50 万", "value": str(value.pk) if value else "", "priority": "5",
            "condition": json.dumps(condition, ensure_ascii=False), "is_active": "on",
            "dimension": str(tier().pk), **fields}


def test_an_admin_adds_a_value_to_the_value_tier_and_moves_it_up(root):
    admin = browser_of(root)
    added = admin.post(reverse("classification:value_create", args=[tier().pk]), {
        "value-new-label": "战略客户", "value-new-label_en": "Strategic",
        "value-new-color": "#B45309"})
    value = DimensionValue.objects.get(dimension=tier(), label="战略客户")
    assert added.status_code == 302 and added["Location"].endswith(f"#value-{value.pk}")
    # The key comes from the English label; a new value goes last; the colour is kept.
    assert (value.key, value.color) == ("strategic", "#b45309")
    assert labels(tier()) == ["VIP", "A 类", "B 类", "C 类", "战略客户"]

    for _step in range(3):
        moved = admin.post(reverse("classification:value_move", args=[value.pk]),
                           {"direction": "up"})
    page = admin.get(moved["Location"]).content.decode()
    assert labels(tier()) == ["VIP", "战略客户", "A 类", "B 类", "C 类"]
    assert 'aria-label="上移 战略客户" autofocus' in page  # the keyboard can go on
    assert ChangeLog.objects.filter(model="classification.dimensionvalue",
                                    action="reorder", actor=root).exists()
    # The list of dimensions shows it among 价值等级's chips, in the new order.
    listing = admin.get(reverse("classification:dimensions")).content.decode()
    assert listing.index(">VIP<") < listing.index(">战略客户<") < listing.index(">A 类<")
    # And the card's menu offers it (an active value of an active dimension).
    assert "战略客户" in [v.label for v in tier().values.filter(is_active=True)]


def test_an_admin_writes_a_rule_previews_it_saves_it_and_the_card_shows_vip(
        root, alice, charlie, make_customer):
    big = make_customer(alice, name="华东重工集团")
    south = make_customer(charlie, name="岭南制造有限公司")
    small = make_customer(alice, name="小茶铺")
    binned = make_customer(alice, name="已删除的大客户")
    for customer, total in ((big, 600_000), (south, 700_000), (small, 20_000),
                            (binned, 900_000)):
        order(customer, 30, total)
    customer_services.customer_delete(actor=alice, origin="manual", customer=binned)
    run_all()
    assert CustomerClass.objects.get(customer=big, dimension=tier()).value.key in ("a", "b")
    vip = DimensionValue.objects.get(dimension=tier(), key="vip")
    admin = browser_of(root)
    page = admin.get(reverse("classification:rule_create", args=[tier().pk]))
    assert page.status_code == 200 and 'id="builder-data"' in page.content.decode()
    # The list's builder, hosted: no apply, no segment form, what no condition means.
    assert 'data-builder-input="rule-condition"' in page.content.decode()
    assert "没有条件：前面的规则都不符合的客户，都设为这个值。" in page.content.decode()
    assert "保存为分群" not in page.content.decode()
    # A rule runs as the system: its owner field offers people, not "我" (the list does).
    script = page.content.decode().split('id="builder-data"')[1]
    data = json.loads(script.split(">", 1)[1].split("</script>")[0])
    assert "me" not in data["words"] and data["owners"]

    preview = admin.post(reverse("classification:rule_preview"), rule_form(vip),
                         headers={"HX-Request": "true"}).content.decode()
    assert "保存后将改变 2 位客户的值" in preview
    # Both reps' customers over ¥500,000, linked to their cards; not the small one, not the bin.
    for customer in (big, south):
        assert f'href="{reverse("customers:detail", args=[customer.pk])}">{customer.name}</a>' \
            in preview
    assert "小茶铺" not in preview and "已删除的大客户" not in preview
    assert not Rule.objects.filter(name="近一年消费超 50 万").exists()  # a preview saves nothing

    saved = admin.post(reverse("classification:rule_create", args=[tier().pk]), rule_form(vip))
    rule = Rule.objects.get(name="近一年消费超 50 万")
    assert saved["Location"].endswith(f"#rule-{rule.pk}")
    assert (rule.value, rule.priority, rule.updated_by) == (vip, 5, root)
    run_here(Job.objects.filter(kind=RUN).latest("pk"))  # the job saving enqueued
    card = browser_of(alice).get(reverse("customers:detail", args=[big.pk])).content.decode()
    assert "VIP</span>" in card and "近一年消费超 50 万" in card
    assert "窗口内消费金额（M） ¥600,000（&gt; ¥500,000）" in card
    # The dimension's page lists the rule first, its value as a chip, its condition in words.
    listing = admin.get(reverse("classification:dimension", args=[tier().pk])).content.decode()
    assert "窗口内消费金额（M） &gt; 500000" in listing
    assert listing.index("近一年消费超 50 万") < listing.index("ABC 分级：营收前 70%")


def test_a_bad_rule_form_reports_every_bad_field_at_once(root):
    admin = browser_of(root)
    bad = {"all": [{"field": "rfm.monetary", "op": "gt", "value": ""},
                   {"field": "no_such_field", "op": "eq", "value": "1"}]}
    response = admin.post(reverse("classification:rule_create", args=[tier().pk]), rule_form(
        None, name="", priority="很高", condition=json.dumps(bad)))
    html = response.content.decode()
    assert response.status_code == 400
    assert "有 4 处需要修改" in html
    for message in ("必填", "请选择要设为的值", "优先级应是 -100000 到 100000 之间的整数",
                    "第 1 条的值：必填", "第 2 条的字段：没有这个字段：no_such_field"):
        assert message in html, message
    # The builder starts again from what was posted, not from nothing.
    assert "no_such_field" in html.split('id="builder-data"')[1].split("</script>")[0]
    # The preview says the same, where its result would go.
    preview = admin.post(reverse("classification:rule_preview"), rule_form(
        None, name="", condition=json.dumps(bad))).content.decode()
    assert "先改好这些，才能预览" in preview and "第 1 条的值：必填" in preview
    assert not Rule.objects.filter(name="").exists()


def test_a_value_of_another_dimension_is_no_value_for_this_ones_rule(root):
    other = DimensionValue.objects.get(dimension__key="lifecycle", key="lost")
    response = browser_of(root).post(reverse("classification:rule_create", args=[tier().pk]),
                                     rule_form(other))
    assert response.status_code == 400 and "请选择要设为的值" in response.content.decode()


def test_a_value_still_used_is_not_deleted_and_the_page_says_how_much(root, alice,
                                                                      alices_customer):
    vip = DimensionValue.objects.get(dimension=tier(), key="vip")
    services.class_override(actor=alice, origin="manual", customer_id=alices_customer.pk,
                            dimension=tier(), value=vip)
    admin = browser_of(root)
    refused = admin.post(reverse("classification:value_delete", args=[vip.pk]), follow=True)
    assert "“VIP”还被 0 条规则和 1 位客户使用，不能删除；不再需要它时请停用。" in \
        refused.content.decode()
    a = DimensionValue.objects.get(dimension=tier(), key="a")
    refused = admin.post(reverse("classification:value_delete", args=[a.pk]), follow=True)
    assert "“A 类”还被 1 条规则和 0 位客户使用" in refused.content.decode()
    # Deactivating is the way, unless an active rule still sets it.
    admin.post(reverse("classification:value_active", args=[vip.pk]), {"active": "0"})
    vip.refresh_from_db()
    assert not vip.is_active and CustomerClass.objects.filter(value=vip).count() == 1
    refused = admin.post(reverse("classification:value_active", args=[a.pk]), {"active": "0"},
                         follow=True)
    assert "还有 1 条启用的规则设为“A 类”" in refused.content.decode()
    # An unused value goes.
    unused = settings_services.value_save(actor=root, origin="manual", dimension=tier(),
                                          data={"label": "试用"})
    admin.post(reverse("classification:value_delete", args=[unused.pk]))
    assert not DimensionValue.objects.filter(pk=unused.pk).exists()


def test_an_admin_adds_a_dimension_renames_moves_and_deactivates_it(root):
    admin = browser_of(root)
    created = admin.post(reverse("classification:dimensions"),
                         {"name": "合作潜力", "name_en": "Potential", "key": ""})
    mine = Dimension.objects.get(name="合作潜力")
    assert created["Location"] == reverse("classification:dimension", args=[mine.pk])
    assert mine.key == "potential"
    taken = admin.post(reverse("classification:dimensions"), {"name": "价值等级", "key": "lifecycle"})
    html = taken.content.decode()
    assert taken.status_code == 400 and "已有同名的分类维度" in html and "已有键为“lifecycle”" in html

    admin.post(reverse("classification:dimension", args=[mine.pk]),
               {"name": "合作意向", "name_en": "Intent", "version": mine.version})
    mine.refresh_from_db()
    assert (mine.name, mine.name_en, mine.key) == ("合作意向", "Intent", "potential")
    stale = admin.post(reverse("classification:dimension", args=[mine.pk]),
                       {"name": "又改了", "version": 1})
    assert stale.status_code == 400 and "这条记录刚被别人修改过" in stale.content.decode()

    admin.post(reverse("classification:dimension_move", args=[mine.pk]), {"direction": "up"})
    assert list(Dimension.objects.order_by("position").values_list("key", flat=True)) == \
        ["lifecycle", "value_tier", "potential", "customer_type"]
    admin.post(reverse("classification:dimension_active", args=[mine.pk]), {"active": "0"})
    mine.refresh_from_db()
    assert not mine.is_active
    assert "已停用" in admin.get(reverse("classification:dimensions")).content.decode()


def test_an_admin_moves_a_rule_and_the_whole_set_reruns(root):
    b = Rule.objects.get(builtin_key="tier_b")
    admin = browser_of(root)
    moved = admin.post(reverse("classification:rule_move", args=[b.pk]), {"direction": "up"})
    order_now = list(Rule.objects.filter(value__dimension=tier()).order_by("priority", "id")
                     .values_list("builtin_key", "priority"))
    assert order_now == [("tier_b", 10), ("tier_a", 20), ("tier_c", 30)]
    assert Job.objects.filter(kind=RUN, actor=root).count() == 1
    page = admin.get(moved["Location"]).content.decode()
    assert 'aria-label="上移 ABC 分级：其后 20%" disabled autofocus' not in page
    assert 'aria-label="下移 ABC 分级：其后 20%" autofocus' in page  # at the top: the other one

    admin.post(reverse("classification:rule_delete", args=[b.pk]))
    assert not Rule.objects.filter(pk=b.pk).exists()


def test_a_sales_rep_gets_403_on_every_classification_screen(alice):
    rep = browser_of(alice)
    dimension, value = tier(), DimensionValue.objects.get(dimension=tier(), key="a")
    rule = Rule.objects.get(builtin_key="tier_a")
    pages = [("classification:dimensions", []), ("classification:dimension", [dimension.pk]),
             ("classification:rule_create", [dimension.pk]), ("classification:rule_edit", [rule.pk])]
    for name, args in pages:
        assert rep.get(reverse(name, args=args)).status_code == 403, name
    actions = [("classification:dimensions", [], {"name": "偷偷加的"}),
               ("classification:dimension_move", [dimension.pk], {"direction": "up"}),
               ("classification:dimension_active", [dimension.pk], {"active": "0"}),
               ("classification:value_create", [dimension.pk], {"value-new-label": "偷偷"}),
               ("classification:value_edit", [value.pk], {f"value-{value.pk}-label": "改"}),
               ("classification:value_move", [value.pk], {"direction": "up"}),
               ("classification:value_active", [value.pk], {"active": "0"}),
               ("classification:value_delete", [value.pk], {}),
               ("classification:rule_edit", [rule.pk], rule_form(value)),
               ("classification:rule_move", [rule.pk], {"direction": "down"}),
               ("classification:rule_delete", [rule.pk], {}),
               ("classification:rule_preview", [], rule_form(value))]
    for name, args, data in actions:
        assert rep.post(reverse(name, args=args), data).status_code == 403, name
    assert labels(tier()) == ["VIP", "A 类", "B 类", "C 类"]
    assert Rule.objects.get(pk=rule.pk).priority == 10
    assert not Job.objects.filter(kind=RUN).exists()


def test_the_services_refuse_a_rep_check_versions_and_log_the_origin(root, alice):
    value = DimensionValue.objects.get(dimension=tier(), key="a")
    rule = Rule.objects.get(builtin_key="tier_a")
    for write in (
        lambda actor: settings_services.dimension_save(actor=actor, origin="api",
                                                       data={"name": "x"}),
        lambda actor: settings_services.dimension_move(actor=actor, origin="api",
                                                       dimension=tier(), direction="up"),
        lambda actor: settings_services.value_save(actor=actor, origin="api", value=value,
                                                   data={"label": "x"}),
        lambda actor: settings_services.value_move(actor=actor, origin="api", value=value,
                                                   direction="up"),
        lambda actor: settings_services.value_delete(actor=actor, origin="api", value=value),
        lambda actor: settings_services.rule_move(actor=actor, origin="api", rule=rule,
                                                  direction="up"),
    ):
        with pytest.raises(PermissionDenied):
            write(alice)
    with pytest.raises(VersionConflict):
        settings_services.value_save(actor=root, origin="api", value=value,
                                     data={"label": "甲类"}, version=value.version + 1)
    saved = settings_services.value_save(actor=root, origin="api", value=value,
                                         data={"label": "甲类", "color": "#123456"},
                                         version=value.version)
    assert (saved.label, saved.color, saved.version) == ("甲类", "#123456", 2)
    assert ChangeLog.objects.filter(model="classification.dimensionvalue", action="update",
                                    origin="api", actor=root).exists()
    with pytest.raises(ValidationError) as refused:
        settings_services.value_save(actor=root, origin="api", dimension=tier(),
                                     data={"label": "", "color": "red", "key": "Bad Key!"})
    assert set(refused.value.error_dict) == {"label", "color", "key"}
    with pytest.raises(ValidationError) as refused:
        settings_services.value_move(actor=root, origin="api", value=value, direction="left")
    assert "direction" in refused.value.error_dict


def test_a_value_or_dimension_another_rules_condition_reads_stays_active(root):
    """A condition naming an inactive value no longer parses: the rule is changed first."""
    vip = DimensionValue.objects.get(dimension=tier(), key="vip")
    services.rule_save(actor=root, origin="manual", rerun=False, data={
        "name": "VIP 都算活跃", "priority": 1,
        "value": DimensionValue.objects.get(dimension__key="lifecycle", key="active").pk,
        "condition": {"field": "dim.value_tier", "op": "in", "value": ["vip"]}})
    admin = browser_of(root)
    refused = admin.post(reverse("classification:value_active", args=[vip.pk]), {"active": "0"},
                         follow=True).content.decode()
    assert "规则“VIP 都算活跃”的条件用到了“VIP”，请先修改这些规则" in refused
    refused = admin.post(reverse("classification:value_delete", args=[vip.pk]),
                         follow=True).content.decode()
    assert "“VIP”还被 1 条规则和 0 位客户使用" in refused
    refused = admin.post(reverse("classification:dimension_active", args=[tier().pk]),
                         {"active": "0"}, follow=True)
    assert refused.redirect_chain[-1][0] == reverse("classification:dimension", args=[tier().pk])
    assert "规则“VIP 都算活跃”的条件用到了“价值等级”" in refused.content.decode()
    assert DimensionValue.objects.get(pk=vip.pk).is_active and tier().is_active


def test_a_rule_sent_as_json_or_a_sheet_reads_yes_and_no_as_written():
    """`"false"` saved a rule active (bool() of a non-empty word); a word that is neither is refused."""
    vip = DimensionValue.objects.get(dimension=tier(), key="vip")
    for written, active in (("false", False), ("0", False), ("否", False), (False, False),
                            ("true", True), ("是", True), (True, True)):
        assert services.rule_clean({"name": "r", "value": vip.pk,
                                    "is_active": written})["is_active"] is active, written
    with pytest.raises(ValidationError) as refused:
        services.rule_clean({"name": "", "value": vip.pk, "is_active": "maybe"})
    assert set(refused.value.error_dict) == {"name", "is_active"}
