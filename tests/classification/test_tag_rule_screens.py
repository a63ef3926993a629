"""Tag rules in the settings area (设置 → 客户分类 → 标签规则), as an admin uses them.

root (the admin) writes "沉睡客户 → 添加标签 唤醒跟进" on the web, previews it (the sleepers named,
nothing written), saves it, and once the job ran alice's sleeper carries the tag and its card
says which rule added it. A tag rule is edited, moved within its own tag's list and deleted
from the tag rules' page; a bad form names every bad field; alice (a rep) may open none of it.
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
from kehu.classification import services
from kehu.classification.models import Rule
from kehu.core.models import ChangeLog
from kehu.customers.models import Tag
from kehu.customers.services import tag_get_or_create
from kehu.history.models import Order
from kehu.jobs.models import Job
from kehu.jobs.services import run_here, run_in_foreground

pytestmark = pytest.mark.django_db

RUN = "classification.run"
DORMANT = {"field": "dim.lifecycle", "op": "in", "value": ["dormant"]}


def browser_of(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def order(customer, days_ago: int, total: int = 5_000) -> None:
    Order.objects.create(customer=customer, number=f"T{Order.objects.count() + 1}",
                         ordered_on=timezone.localdate() - dt.timedelta(days=days_ago),
                         status="paid", total=Decimal(total))


def run_all() -> None:
    job = run_in_foreground(actor=system_actor(), origin="system", kind=RUN, params={})
    assert job.status == "done", job.error


def tag_form(**fields: str) -> dict[str, str]:
    return {"name": "沉睡客户：唤醒跟进", "tag": "唤醒跟进", "tag_action": "add", "priority": "10",
            "condition": json.dumps(DORMANT, ensure_ascii=False), "is_active": "on",
            "kind": "tag", **fields}


def tag_rule(admin, name: str, tag: str, action: str = "add", priority: int = 10,
             condition: dict | None = None) -> Rule:
    return services.rule_save(actor=admin, origin="manual", rerun=False, data={
        "name": name, "tag": tag, "tag_action": action, "priority": priority,
        "condition": condition or DORMANT})


def tags_of(customer) -> set[str]:
    return set(customer.tags.values_list("name", flat=True))


@pytest.fixture
def sleepers(alice, charlie, make_customer):
    """Two sleepers (last bought 200 and 250 days ago; one is charlie's), one active buyer."""
    mine, his = make_customer(alice, name="沉睡的茶庄"), make_customer(charlie, name="沉睡的纸厂")
    awake = make_customer(alice, name="常来的面馆")
    order(mine, 200)
    order(his, 250)
    order(awake, 10)
    run_all()
    return mine, his, awake


def test_an_admin_writes_a_tag_rule_previews_it_saves_it_and_the_card_lists_the_tag(
        root, alice, sleepers):
    mine, his, awake = sleepers
    tag_get_or_create(name="重点客户")  # an existing tag, offered by name
    admin = browser_of(root)
    listing = admin.get(reverse("classification:dimensions")).content.decode()
    assert f'href="{reverse("classification:tag_rules")}"' in listing
    empty = admin.get(reverse("classification:tag_rules")).content.decode()
    assert "还没有标签规则" in empty

    page = admin.get(reverse("classification:tag_rule_create")).content.decode()
    assert 'data-builder-input="rule-condition"' in page and "保存为分群" not in page
    assert 'list="tag-names"' in page and '<option value="重点客户">' in page
    assert '<option value="add" selected>添加标签</option>' in page and "移除标签" in page

    before = ChangeLog.objects.order_by("-pk").values_list("pk", flat=True).first()
    preview = admin.post(reverse("classification:rule_preview"), tag_form(),
                         headers={"HX-Request": "true"}).content.decode()
    assert "保存后将改变 2 位客户的标签" in preview
    assert "无标签“唤醒跟进”" in preview and "有标签“唤醒跟进”" in preview
    for customer in (mine, his):  # both sleepers, whoever's they are, linked to their cards
        assert f'href="{reverse("customers:detail", args=[customer.pk])}">{customer.name}</a>' \
            in preview
    assert awake.name not in preview
    # A preview writes nothing: no rule, no tag, no log, no job.
    assert not Rule.objects.filter(tag__isnull=False).exists()
    assert not Tag.objects.filter(name="唤醒跟进").exists()
    assert ChangeLog.objects.order_by("-pk").values_list("pk", flat=True).first() == before
    assert not Job.objects.filter(kind=RUN, actor=root).exists()

    saved = admin.post(reverse("classification:tag_rule_create"), tag_form())
    rule = Rule.objects.get(name="沉睡客户：唤醒跟进")
    assert saved["Location"] == reverse("classification:tag_rules") + f"#rule-{rule.pk}"
    assert (rule.tag.name, rule.tag_action, rule.value, rule.priority, rule.updated_by) == \
        ("唤醒跟进", "add", None, 10, root)
    assert ChangeLog.objects.filter(model="classification.rule", action="create",
                                    origin="manual", actor=root).exists()
    run_here(Job.objects.filter(kind=RUN).latest("pk"))  # the job saving enqueued
    assert [tags_of(c) for c in (mine, his, awake)] == [{"唤醒跟进"}, {"唤醒跟进"}, set()]
    card = browser_of(alice).get(reverse("customers:detail", args=[mine.pk])).content.decode()
    panel = card.split("规则添加的标签")[1].split("</ul>")[0]
    assert '<span class="tag">唤醒跟进</span>' in panel and "沉睡客户：唤醒跟进" in panel

    # The tag rules' page lists it under its tag: the action and the tag as chips, the
    # condition in words, on.
    listing = admin.get(reverse("classification:tag_rules")).content.decode()
    row = listing.split(f'id="rule-{rule.pk}"')[1].split("</tr>")[0]
    assert 'tag-action-add">添加</span><span class="tag">唤醒跟进</span>' in row
    assert "生命周期 属于 沉睡" in row and "badge-ok" in row
    assert f'href="{reverse("classification:tag_rule_create")}?tag=%E5%94%A4' in listing


def test_a_bad_tag_rule_form_names_every_bad_field(root):
    admin = browser_of(root)
    bad = {"all": [{"field": "rfm.monetary", "op": "gt", "value": ""}]}
    response = admin.post(reverse("classification:tag_rule_create"), tag_form(
        name="", tag="", tag_action="toggle", priority="很高", condition=json.dumps(bad)))
    html = response.content.decode()
    assert response.status_code == 400
    assert "有 5 处需要修改" in html
    for message in ("必填", "请填写标签", "标签动作只能是 add（添加）或 remove（移除）",
                    "优先级应是 -100000 到 100000 之间的整数", "第 1 条的值：必填"):
        assert message in html, message
    # Each next to its field: the tag's under the tag input.
    assert html.index('name="tag"') < html.index("请填写标签") < html.index('name="tag_action"')
    # The builder starts again from what was posted.
    assert "rfm.monetary" in html.split('id="builder-data"')[1].split("</script>")[0]
    preview = admin.post(reverse("classification:rule_preview"), tag_form(
        tag="", tag_action="")).content.decode()
    assert "先改好这些，才能预览" in preview and "标签：请填写标签" in preview
    assert "动作：标签动作只能是" in preview
    assert not Rule.objects.filter(tag__isnull=False).exists() and not Job.objects.exists()


def test_a_tag_rule_is_edited_moved_within_its_tag_and_deleted(root):
    wake = tag_rule(root, "沉睡：唤醒", "唤醒跟进", priority=10)
    bought = tag_rule(root, "近期购买：不必唤醒", "唤醒跟进", "remove", priority=20,
                      condition={"field": "rfm.last_order_on", "op": "within_days",
                                 "value": 30})
    other = tag_rule(root, "流失：回访", "流失回访", priority=15)
    value_rules = list(Rule.objects.filter(value__isnull=False).values_list("pk", "priority"))
    admin = browser_of(root)

    page = admin.get(reverse("classification:rule_edit", args=[bought.pk])).content.decode()
    assert 'value="唤醒跟进"' in page and '<option value="remove" selected>' in page
    assert f'href="{reverse("classification:tag_rules")}"' in page  # the crumbs, and 取消
    preview = admin.post(reverse("classification:rule_preview"), {
        **tag_form(name=bought.name, tag_action="remove"), "rule": str(bought.pk)}).content
    assert "保存后将改变" in preview.decode()
    edited = admin.post(reverse("classification:rule_edit", args=[bought.pk]), tag_form(
        name="近期购买：不必唤醒", tag_action="remove", priority="20",
        description="买过就不用再叫醒", version=str(bought.version)))
    assert edited["Location"] == reverse("classification:tag_rules") + f"#rule-{bought.pk}"
    bought.refresh_from_db()
    assert (bought.description, bought.condition, bought.version) == \
        ("买过就不用再叫醒", DORMANT, 2)
    stale = admin.post(reverse("classification:rule_edit", args=[bought.pk]),
                       tag_form(version="1"))
    assert stale.status_code == 400 and "这条记录刚被别人修改过" in stale.content.decode()

    moved = admin.post(reverse("classification:rule_move", args=[bought.pk]),
                       {"direction": "up"})
    assert moved["Location"] == reverse("classification:tag_rules") + \
        f"?moved=rule:{bought.pk}-up"
    # Renumbered within 唤醒跟进's list only; 流失回访's and the dimensions' rules untouched.
    assert list(Rule.objects.filter(tag=wake.tag).order_by("priority")
                .values_list("pk", "priority")) == [(bought.pk, 10), (wake.pk, 20)]
    assert Rule.objects.get(pk=other.pk).priority == 15
    assert list(Rule.objects.filter(value__isnull=False).values_list("pk", "priority")) == \
        value_rules
    assert Job.objects.filter(kind=RUN, actor=root).exists()
    listing = admin.get(moved["Location"]).content.decode()
    # At the top of its tag's list: the down button keeps the focus for the keyboard.
    assert 'aria-label="下移 近期购买：不必唤醒" autofocus' in listing
    assert 'aria-label="上移 流失：回访" disabled' in listing  # alone in its own list
    assert listing.index("流失：回访") > listing.index("沉睡：唤醒")  # 唤醒跟进 < 流失回访

    deleted = admin.post(reverse("classification:rule_delete", args=[wake.pk]), follow=True)
    assert deleted.redirect_chain[-1][0] == reverse("classification:tag_rules")
    assert "已删除规则 沉睡：唤醒" in deleted.content.decode()
    assert not Rule.objects.filter(pk=wake.pk).exists()


def test_value_rules_still_return_to_their_dimension(root):
    rule = Rule.objects.get(builtin_key="tier_b")
    admin = browser_of(root)
    moved = admin.post(reverse("classification:rule_move", args=[rule.pk]), {"direction": "up"})
    assert moved["Location"].startswith(
        reverse("classification:dimension", args=[rule.value.dimension_id]) + "?moved=")
    page = admin.get(reverse("classification:rule_edit", args=[rule.pk])).content.decode()
    assert 'name="value"' in page and 'list="tag-names"' not in page


def test_a_sales_rep_gets_403_on_the_tag_rule_screens(root, alice):
    rule = tag_rule(root, "沉睡：唤醒", "唤醒跟进")
    rep = browser_of(alice)
    for url in (reverse("classification:tag_rules"), reverse("classification:tag_rule_create"),
                reverse("classification:rule_edit", args=[rule.pk])):
        assert rep.get(url).status_code == 403, url
    actions = [(reverse("classification:tag_rule_create"), tag_form(name="偷偷加的")),
               (reverse("classification:rule_edit", args=[rule.pk]), tag_form()),
               (reverse("classification:rule_move", args=[rule.pk]), {"direction": "down"}),
               (reverse("classification:rule_delete", args=[rule.pk]), {}),
               (reverse("classification:rule_preview"), tag_form())]
    for url, data in actions:
        assert rep.post(url, data).status_code == 403, url
    assert list(Rule.objects.filter(tag__isnull=False).values_list("name", "version")) == \
        [("沉睡：唤醒", 1)]
    assert not Job.objects.filter(kind=RUN).exists()
