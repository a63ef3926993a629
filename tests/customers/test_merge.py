"""Two copies of one company become one, and the merge can be taken back exactly.

mallory (manager of 华东区) finds 杭州西湖茶业 twice: alice's copy and bob's. She merges
bob's into alice's; everything bob's copy held follows, the copy goes to the bin.
"""

from __future__ import annotations

import pytest
from django.apps import apps
from django.core.exceptions import ValidationError
from django.db import connection, models
from django.http import Http404

from kehu.core.models import ChangeLog
from kehu.customers import selectors, services
from kehu.customers.merging import SPECIAL, customer_merge, customer_merge_undo, customer_relations
from kehu.customers.models import Contact, Customer, CustomerKey, CustomValue, MergeRecord
from kehu.history import services as history
from kehu.history.models import Communication, Order, Preference
from tests.customers.test_every_customer_bound_model_is_scoped import path_to_customer

pytestmark = pytest.mark.django_db

# Every foreign key to Customer today and what a merge does with it. A new customer-bound
# model fails here until someone has checked its generic rule (or added a special case).
EXPECTED_RULES = {
    "customers.Customer_tags.customer": "unique",
    "customers.Contact.customer": "contacts",
    "customers.CustomerShare.customer": "shares",
    "customers.OwnershipTransfer.customer": "move",
    "customers.CustomValue.customer": "custom",
    "customers.CustomerKey.customer": "rebuilt",
    "customers.MergeRecord.survivor": "kept",
    "customers.MergeRecord.duplicate": "kept",
    "followup.FollowUpTask.customer": "kept",
    "history.Communication.customer": "move",
    "history.Order.customer": "move",
    "history.Preference.customer": "one",
    "history.Need.customer": "move",
    "history.Opportunity.customer": "move",
    "history.Survey.customer": "move",
    "history.Ticket.customer": "move",
    # A class the survivor has none of (a manual override, say) moves; the rules redo the rest.
    "classification.CustomerClass.customer": "unique",
    "classification.ClassChange.customer": "move",
    "classification.CustomerFigures.customer": "rebuilt",
    # Data quality: the chosen side's row stays (the next refresh re-scores the survivor);
    # verifications move with the rest of the customer's history.
    "customers.CustomerQuality.customer": "one",
    "customers.CustomerVerification.customer": "move",
    # The pool: an entry stays with the duplicate; moves and warnings are its history.
    "pool.PoolEntry.customer": "kept",
    "pool.PoolMove.customer": "move",
    "pool.PoolWarning.customer": "unique",
    # The consent ledger: grants and withdrawals are the customer's history.
    "privacy.Consent.customer": "move",
}


@pytest.fixture
def fields(root):
    return [services.custom_field_save(actor=root, origin="manual", data=data) for data in (
        {"key": "level", "label": "等级", "field_type": "text"},
        {"key": "region", "label": "大区", "field_type": "text"})]


@pytest.fixture
def catalogue(root):
    return history.product_save(actor=root, origin="manual",
                                data={"sku": "TEA-LJ-250", "name": "明前龙井 250g",
                                      "category": "茶叶", "unit_price": "398.00"})


@pytest.fixture
def twins(alice, bob, charlie, alices_customer, fields, catalogue, make_customer):
    """alice's copy (older, fewer details) and bob's copy (newer) with a bit of everything."""
    ours = alices_customer
    services.contact_create(actor=alice, origin="manual", customer=ours,
                            data={"name": "陈经理", "phones": ["13900001111"], "is_primary": True})
    services.customer_update(actor=alice, origin="manual", customer=ours,
                             data={"tags": ["重点客户"], "custom": {"level": "A"}})
    history.preference_save(actor=alice, origin="manual", customer=ours, data={"budget_max": "100"})
    history.communication_log(actor=alice, origin="manual", customer=ours, data={"subject": "初访"})
    theirs = make_customer(bob, name="杭州西湖茶业有限公司", short_name="西湖茶业",
                           phones=["13812345678", "0571-88886666"], emails=["sales@xihu-tea.cn"],
                           address="杭州市西湖区龙井路 1 号", tags=["重点客户", "渠道商"],
                           custom={"level": "B", "region": "华东"})
    contact = services.contact_create(actor=bob, origin="manual", customer=theirs,
                                      data={"name": "李会计", "phones": ["13900002222"],
                                            "email": "li@xihu-tea.cn"})
    history.preference_save(actor=bob, origin="manual", customer=theirs,
                            data={"budget_max": "500", "interests": ["茶叶"],
                                  "decision_maker": contact.pk})
    history.communication_log(actor=bob, origin="manual", customer=theirs,
                              data={"subject": "报价", "contact": contact.pk})
    history.order_create(actor=bob, origin="manual", customer=theirs,
                         data={"lines": [{"product": "TEA-LJ-250", "quantity": 2}]})
    history.need_create(actor=bob, origin="manual", customer=theirs, data={"content": "要样品"})
    history.opportunity_create(actor=bob, origin="manual", customer=theirs,
                               data={"title": "年度采购", "amount": "5000"})
    history.survey_record(actor=bob, origin="manual", customer=theirs,
                          data={"kind": "nps", "score": 9})
    history.ticket_create(actor=bob, origin="manual", customer=theirs,
                          data={"kind": "inquiry", "subject": "价格"})
    services.customer_share(actor=bob, origin="manual", customer=theirs, user=charlie)
    return Customer.objects.get(pk=ours.pk), Customer.objects.get(pk=theirs.pk)


def test_every_foreign_key_to_customer_has_a_merge_rule():
    rules = {r.label: r.rule for r in customer_relations()}
    assert rules == EXPECTED_RULES, "a new customer-bound table: check how a merge treats it"
    assert set(SPECIAL) <= set(rules), "a special case names a table that no longer exists"


def test_a_manager_merges_two_copies_of_a_company(mallory, twins):
    ours, theirs = twins
    merge = customer_merge(actor=mallory, origin="manual", survivor=ours, duplicate=theirs)
    ours.refresh_from_db()
    theirs.refresh_from_db()
    # Fields: the non-empty one, the lists united.
    assert ours.short_name == "西湖茶业"
    assert ours.address == "杭州市西湖区龙井路 1 号"
    assert ours.phones == ["+8613812345678", "+8657188886666"]
    assert ours.emails == ["buyer@xihu-tea.cn", "sales@xihu-tea.cn"]
    # Every related record is the survivor's now.
    assert sorted(c.name for c in Contact.objects.filter(customer=ours)) == ["李会计", "陈经理"]
    assert Contact.objects.get(name="陈经理").is_primary
    assert not Contact.objects.get(name="李会计").is_primary
    assert Communication.objects.filter(customer=ours).count() == 2
    assert Order.objects.filter(customer=ours).count() == 1
    assert sorted(ours.tags.values_list("name", flat=True)) == ["渠道商", "重点客户"]
    values = {v.field.key: v.text for v in CustomValue.objects.filter(customer=ours)}
    assert values["region"] == "华东"
    assert values["level"] == "B"  # both had one: the newer copy's, bob's
    assert Preference.objects.get(customer=ours).budget_max == 100  # the survivor keeps its own
    assert {k.value for k in CustomerKey.objects.filter(customer=ours, kind="phone")} >= {
        "+8613900002222", "+8657188886666"}
    # The card shows them (the selector the card reads).
    card = selectors.customer_get(viewer=mallory, pk=ours.pk)
    assert sorted(card.tag_names) == ["渠道商", "重点客户"]
    assert card.custom == {"level": "B", "region": "华东"}
    assert [c.name for c in selectors.contact_list(viewer=mallory, customer_id=ours.pk)] == [
        "陈经理", "李会计"]
    # The duplicate is in the bin, pointing to the survivor.
    assert theirs.deleted_at is not None
    assert [c.pk for c in selectors.customer_deleted_list(viewer=mallory)] == [theirs.pk]
    assert MergeRecord.objects.get(duplicate=theirs).survivor_id == ours.pk
    # Both histories say so.
    logged = ChangeLog.objects.filter(action="merge")
    assert {row.customer_id for row in logged} == {ours.pk, theirs.pk}
    assert logged.get(customer_id=ours.pk).changes["moved"]["history.Order.customer"] == 1
    assert merge.choices["address"] == "duplicate"


def test_quick_search_finds_the_duplicates_contact_on_the_survivor(mallory, twins):
    ours, theirs = twins
    customer_merge(actor=mallory, origin="manual", survivor=ours, duplicate=theirs)
    from kehu.customers.filters import CustomerFilters

    page = selectors.customer_list(viewer=mallory, filters=CustomerFilters(q="李会计"))
    assert [c.pk for c in page.items] == [ours.pk]


def test_a_rep_cannot_merge_another_reps_customer(alice, bob, twins):
    ours, theirs = twins
    with pytest.raises(Http404):
        customer_merge(actor=alice, origin="manual", survivor=ours, duplicate=theirs)
    with pytest.raises(Http404):
        customer_merge(actor=bob, origin="manual", survivor=theirs, duplicate=ours)
    assert Customer.objects.filter(deleted_at__isnull=True).count() == 2


def test_conflicts_are_resolved_as_chosen(mallory, twins):
    ours, theirs = twins
    merge = customer_merge(actor=mallory, origin="manual", survivor=ours, duplicate=theirs,
                           choices={"custom.level": "survivor", "preference": "duplicate",
                                    "name": "杭州西湖茶业集团", "phones": "survivor"})
    ours.refresh_from_db()
    assert ours.name == "杭州西湖茶业集团"
    assert ours.phones == ["+8613812345678"]
    assert CustomValue.objects.get(customer=ours, field__key="level").text == "A"
    preference = Preference.objects.get(customer=ours)
    assert preference.budget_max == 500
    assert [c.name for c in preference.interests.all()] == ["茶叶"]
    assert merge.choices["preference"] == "duplicate"


def test_a_value_typed_by_hand_is_cleaned_like_the_form(mallory, twins):
    ours, theirs = twins
    with pytest.raises(ValidationError) as error:
        customer_merge(actor=mallory, origin="manual", survivor=ours, duplicate=theirs,
                       choices={"phones": "123", "credit_code": "not a code"})
    assert set(error.value.message_dict) == {"phones", "credit_code"}
    assert Contact.objects.filter(customer=theirs).count() == 1  # nothing moved


def snapshot() -> dict[str, list]:
    """Every row of every customer-bound table (through tables and history included),
    plus the search grams; match keys compared by value (keys_refresh rewrites them)."""
    tables: dict[str, list] = {}
    for model in apps.get_models(include_auto_created=True):
        if path_to_customer(model) is None or model is MergeRecord:
            continue
        rows = list(model._base_manager.order_by("pk").values())
        if model is CustomerKey:
            rows = sorted((r["customer_id"], r["kind"], r["value"]) for r in rows)
        tables[model._meta.label] = rows
    tables["search grams"] = _grams()
    return tables


def _grams() -> list:
    column = "rowid" if connection.vendor == "sqlite" else "customer_id"
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {column}, grams FROM customers_searchgrams ORDER BY 1")  # noqa: S608
        return [(pk, sorted(g.split() if isinstance(g, str) else g)) for pk, g in cursor.fetchall()]


def test_merge_then_undo_leaves_every_table_exactly_as_before(mallory, twins):
    ours, theirs = twins
    before = snapshot()
    held = {label for label, rows in before.items() if label != "search grams"
            and any(_belongs(label, row, theirs.pk) for row in rows)}
    assert len(held) >= 12, held  # the duplicate really holds rows in (nearly) every table
    merge = customer_merge(actor=mallory, origin="manual", survivor=ours, duplicate=theirs,
                           choices={"preference": "duplicate", "name": "杭州西湖茶业集团"})
    assert snapshot() != before
    customer_merge_undo(actor=mallory, origin="manual", merge=merge)
    after = snapshot()
    assert {k: v for k, v in after.items() if v != before[k]} == {}
    assert ChangeLog.objects.filter(action="merge_undo").count() == 2


def _belongs(label: str, row, pk: int) -> bool:
    return isinstance(row, dict) and pk in (row.get("customer_id"), row.get("id") if
                                            label == "customers.Customer" else None)


def test_undo_is_refused_after_the_survivor_was_edited_naming_it(mallory, twins):
    ours, theirs = twins
    merge = customer_merge(actor=mallory, origin="manual", survivor=ours, duplicate=theirs)
    services.customer_update(actor=mallory, origin="manual", customer=ours, data={"notes": "改了"})
    with pytest.raises(ValidationError) as error:
        customer_merge_undo(actor=mallory, origin="manual", merge=merge)
    assert "杭州西湖茶业有限公司" in " ".join(error.value.messages)
    assert Customer.objects.get(pk=theirs.pk).deleted_at is not None  # nothing undone


def test_undo_is_refused_after_a_moved_contact_was_edited_naming_it(mallory, twins):
    ours, theirs = twins
    merge = customer_merge(actor=mallory, origin="manual", survivor=ours, duplicate=theirs)
    moved = Contact.objects.get(name="李会计")
    services.contact_update(actor=mallory, origin="manual", contact=moved, data={"title": "财务"})
    with pytest.raises(ValidationError) as error:
        customer_merge_undo(actor=mallory, origin="manual", merge=merge)
    assert "李会计" in " ".join(error.value.messages)


def test_undo_is_refused_once_the_duplicate_was_purged(mallory, twins):
    ours, theirs = twins
    merge = customer_merge(actor=mallory, origin="manual", survivor=ours, duplicate=theirs)
    Customer._base_manager.filter(pk=theirs.pk).delete()  # what a purge of the bin would do
    with pytest.raises(ValidationError) as error:
        customer_merge_undo(actor=mallory, origin="manual", merge=merge)
    assert "彻底删除" in " ".join(error.value.messages)


def test_undo_twice_is_refused(mallory, twins):
    ours, theirs = twins
    merge = customer_merge(actor=mallory, origin="manual", survivor=ours, duplicate=theirs)
    customer_merge_undo(actor=mallory, origin="manual", merge=merge)
    with pytest.raises(ValidationError):
        customer_merge_undo(actor=mallory, origin="manual", merge=merge)


def test_a_rep_cannot_undo_a_merge_she_cannot_see(alice, charlie, make_customer):
    first, second = make_customer(alice, name="甲公司"), make_customer(alice, name="甲公司 ")
    merge = customer_merge(actor=alice, origin="manual", survivor=first, duplicate=second)
    with pytest.raises(Http404):
        customer_merge_undo(actor=charlie, origin="manual", merge=merge)


def test_a_rep_cannot_undo_a_merge_that_would_restore_a_customer_not_hers(alice, mallory, twins):
    ours, theirs = twins  # alice's survivor, bob's duplicate: mallory merged them
    merge = customer_merge(actor=mallory, origin="manual", survivor=ours, duplicate=theirs)
    with pytest.raises(Http404):
        customer_merge_undo(actor=alice, origin="manual", merge=merge)
    customer_merge_undo(actor=mallory, origin="manual", merge=merge)


def test_stale_versions_are_refused(mallory, twins):
    ours, theirs = twins
    from kehu.core.errors import VersionConflict

    with pytest.raises(VersionConflict):
        customer_merge(actor=mallory, origin="manual", survivor=ours, duplicate=theirs,
                       expected_versions={ours.pk: ours.version - 1})


def test_a_customer_cannot_be_merged_into_itself(mallory, twins):
    with pytest.raises(ValidationError):
        customer_merge(actor=mallory, origin="manual", survivor=twins[0], duplicate=twins[0])


def test_the_relations_found_are_real_foreign_keys():
    for relation in customer_relations():
        field = relation.model._meta.get_field(relation.label.rsplit(".", 1)[1])
        assert isinstance(field, models.ForeignKey) and field.related_model is Customer


def test_a_merge_that_changes_no_field_leaves_the_survivors_fields_and_version(alice, make_customer):
    first, second = make_customer(alice, name="乙公司"), make_customer(alice, name="乙公司")
    merge = customer_merge(actor=alice, origin="manual", survivor=first, duplicate=second)
    assert Customer.objects.get(pk=first.pk).version == first.version == merge.survivor_version
    assert not ChangeLog.objects.filter(action="update", customer_id=first.pk).exists()
