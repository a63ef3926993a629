"""Rules that add and remove tags: a manager's "唤醒跟进" tag lands on the customers who fell
asleep, says why on the card and the timeline, comes off when they buy again, and never
takes away a tag a person gave."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from kehu.accounts.services import system_actor
from kehu.classification.models import ClassChange, Rule
from kehu.classification.previews import rule_preview
from kehu.classification.selectors import customer_placements
from kehu.classification.services import classify_customers, rule_clean, rule_save
from kehu.classification.signals import classes_changed
from kehu.customers.models import Tag
from kehu.history.models import Order
from kehu.history.timeline import timeline
from kehu.jobs.services import run_in_foreground

pytestmark = pytest.mark.django_db

WAKE_UP = {"name": "沉睡客户：唤醒跟进", "tag": "唤醒跟进", "tag_action": "add", "priority": 10,
           "condition": {"field": "dim.lifecycle", "op": "in", "value": ["dormant"]}}
BOUGHT = {"name": "近 30 天有购买：不必唤醒", "tag": "唤醒跟进", "tag_action": "remove",
          "priority": 5, "condition": {"field": "rfm.last_order_on", "op": "within_days",
                                       "value": 30}}


def order(customer, days_ago: int, total: int = 5_000) -> None:
    Order.objects.create(customer=customer, number=f"G{Order.objects.count() + 1}",
                         ordered_on=timezone.localdate() - dt.timedelta(days=days_ago),
                         status="paid", total=Decimal(total))


def run_all() -> dict:
    job = run_in_foreground(actor=system_actor(), origin="system", kind="classification.run",
                            params={})
    assert job.status == "done", job.error
    return job.result


def tags_of(customer) -> set[str]:
    return set(customer.tags.values_list("name", flat=True))


@pytest.fixture
def book(alice, make_customer):
    """Two sleepers (last bought 200 and 250 days ago), one active, one prospect."""
    sleepers = [make_customer(alice, name=f"沉睡{i}") for i in range(2)]
    active, prospect = make_customer(alice, name="活跃"), make_customer(alice, name="潜在")
    order(sleepers[0], 200)
    order(sleepers[1], 250)
    order(active, 10)
    order(active, 400)
    run_all()
    return sleepers, active, prospect


def test_a_tag_rule_tags_the_sleepers_and_says_why(root, alice, book):
    sleepers, active, prospect = book
    preview = rule_preview(viewer=root, data=WAKE_UP)
    assert preview["changed"] == 2 and preview["dimension"] == "tag:唤醒跟进"
    [change] = preview["changes"]
    assert (change["from_value"], change["to_value"]) == ("无标签“唤醒跟进”", "有标签“唤醒跟进”")
    assert {e["id"] for e in change["examples"]} == {c.pk for c in sleepers}
    assert not Tag.objects.filter(name="唤醒跟进").exists()  # a preview writes nothing

    rule_save(actor=root, origin="manual", data=WAKE_UP, rerun=False)
    result = run_all()
    assert result["标签 变动"] == preview["changed"]
    assert [tags_of(c) for c in (*sleepers, active, prospect)] == [{"唤醒跟进"}, {"唤醒跟进"},
                                                                   set(), set()]
    why = customer_placements(viewer=alice, customer_id=sleepers[0].pk)["rule_tags"]
    assert [(c.tag.name, c.rule_name) for c in why] == [("唤醒跟进", WAKE_UP["name"])]
    entries = timeline(viewer=alice, customer_id=sleepers[0].pk, kinds={"classification"}).items
    assert any(e.obj.tag_id and e.obj.tag_action == "add" for e in entries)
    assert run_all()["标签 变动"] == 0  # a second run changes nothing


def test_buying_again_takes_the_tag_off_by_itself(root, book):
    sleepers, _active, _prospect = book
    rule_save(actor=root, origin="manual", data=WAKE_UP, rerun=False)
    rule_save(actor=root, origin="manual", data=BOUGHT, rerun=False)
    run_all()
    assert tags_of(sleepers[0]) == {"唤醒跟进"}
    order(sleepers[0], 0)
    counts = classify_customers([sleepers[0].pk])
    assert counts[("tag:唤醒跟进", None, "remove")] == 1
    assert tags_of(sleepers[0]) == set()
    assert ClassChange.objects.filter(customer=sleepers[0], tag_action="remove",
                                      rule__name=BOUGHT["name"]).count() == 1


def test_a_persons_tag_stays_where_no_rule_speaks(root, book):
    sleepers, active, _prospect = book
    active.tags.add(Tag.objects.create(name="唤醒跟进"))
    rule_save(actor=root, origin="manual", data=WAKE_UP, rerun=False)
    run_all()
    assert tags_of(active) == {"唤醒跟进"}  # only an add rule: nothing decides for "活跃"
    assert not ClassChange.objects.filter(customer=active, tag__isnull=False).exists()


def test_a_bad_tag_rule_names_every_bad_field(root):
    with pytest.raises(ValidationError) as caught:
        rule_clean({"name": "", "tag": "", "tag_action": "toggle", "priority": "x"})
    assert set(caught.value.message_dict) == {"name", "tag", "tag_action", "priority"}
    with pytest.raises(IntegrityError), transaction.atomic():  # a value or a tag, never none
        Rule.objects.create(name="空规则", priority=1)


def test_a_rule_cannot_name_me_as_the_owner(root, alice):
    # A rule runs as the system over every customer: "me" would match nobody, silently.
    data = {**WAKE_UP, "condition": {"all": [{"field": "owner", "op": "in", "value": ["me"]}]}}
    with pytest.raises(ValidationError) as caught:
        rule_clean(data)
    assert "负责人“我”" in caught.value.message_dict["condition"][0]
    rule_clean({**WAKE_UP, "condition": {"field": "owner", "op": "in", "value": [alice.pk]}})


def test_a_customer_placed_in_every_dimension_is_announced_once(book, alice, make_customer):
    """Follow-up re-plans every customer whose classes changed (`classes_changed`); a new
    customer's first run places it in every dimension at once and tells follow-up once,
    not once per dimension."""
    newcomer = make_customer(alice, name="新来的")
    order(newcomer, 1, total=900_000)
    heard: list[set[int]] = []

    def listen(sender, ids, **kwargs) -> None:
        heard.append(set(ids))

    classes_changed.connect(listen)
    try:
        counts = classify_customers([newcomer.pk])
    finally:
        classes_changed.disconnect(listen)
    placed = {key for key, before, _after in counts if before is None}
    assert placed == {"lifecycle", "value_tier", "customer_type"}
    assert heard == [{newcomer.pk}]
