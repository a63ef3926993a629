"""A rep keeps her customer records: create, edit, version conflicts, contacts, custom fields."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404

from kehu.core.errors import VersionConflict
from kehu.core.models import ChangeLog
from kehu.customers import selectors, services
from kehu.customers.filters import CustomerFilters
from kehu.customers.models import Customer


def test_a_rep_creates_a_customer_and_owns_it(alice, make_customer):
    customer = make_customer(alice, name="苏州工业园区示例科技有限公司", phones="0512-66668888")
    assert customer.owner == alice
    assert customer.phones == ["+8651266668888"]
    assert customer.name_initials.startswith("szgyyq")
    assert ChangeLog.objects.filter(action="create", object_id=customer.pk).exists()


def test_a_bad_write_is_refused_whole(alice, alices_customer):
    with pytest.raises(ValidationError):
        services.customer_update(actor=alice, origin="manual", customer=alices_customer,
                                 data={"name": "新名字", "phones": ["123"]})
    alices_customer.refresh_from_db()
    assert alices_customer.name == "杭州西湖茶业有限公司"
    assert alices_customer.version == 1


def test_two_edits_from_the_same_version_one_wins(alice, mallory, alices_customer):
    services.customer_update(actor=alice, origin="manual", customer=alices_customer, data={"notes": "A"},
                             expected_version=1)
    with pytest.raises(VersionConflict):
        services.customer_update(actor=mallory, origin="manual", customer=alices_customer,
                                 data={"notes": "B"},
                                 expected_version=1)
    alices_customer.refresh_from_db()
    assert (alices_customer.notes, alices_customer.version) == ("A", 2)


def test_a_person_has_no_credit_code(alice, make_customer):
    with pytest.raises(ValidationError) as error:
        make_customer(alice, kind="person", name="曾小贤", credit_code="91110000802100433B")
    assert "credit_code" in error.value.message_dict


def test_a_rep_cannot_hand_a_new_customer_to_someone_outside_her_reach(alice, charlie,
                                                                       make_customer):
    with pytest.raises(ValidationError) as error:
        make_customer(alice, owner=charlie.pk)
    assert "owner" in error.value.message_dict
    assert not Customer.objects.exists()


def test_delete_goes_to_the_recycle_bin_and_restores(alice, charlie, alices_customer):
    services.customer_delete(actor=alice, origin="manual", customer=alices_customer)
    with pytest.raises(Http404):
        selectors.customer_get(viewer=alice, pk=alices_customer.pk)
    assert [c.pk for c in selectors.customer_deleted_list(viewer=alice)] == [alices_customer.pk]
    assert selectors.customer_deleted_list(viewer=charlie) == []
    with pytest.raises(Http404):
        services.customer_restore(actor=charlie, origin="manual", pk=alices_customer.pk)
    services.customer_restore(actor=alice, origin="manual", pk=alices_customer.pk)
    assert selectors.customer_get(viewer=alice, pk=alices_customer.pk)


def test_contacts_follow_their_customer(alice, charlie, anna, alices_customer):
    first = services.contact_create(actor=alice, origin="manual", customer=alices_customer,
                                    data={"name": "陈经理", "phones": "13900001111"})
    second = services.contact_create(actor=alice, origin="manual", customer=alices_customer,
                                     data={"name": "刘总", "is_primary": True})
    first.refresh_from_db()
    assert first.is_primary is False and second.is_primary is True
    assert selectors.contact_page(viewer=charlie).items == []
    with pytest.raises(Http404):
        services.contact_update(actor=charlie, origin="manual", contact=first, data={"name": "x"})
    with pytest.raises(PermissionDenied):
        services.contact_update(actor=anna, origin="manual", contact=first, data={"name": "x"})
    assert selectors.contact_get(viewer=anna, pk=first.pk).phones == ["139****1111"]


def test_custom_fields_are_validated_stored_and_filterable(root, alice, make_customer):
    services.custom_field_save(actor=root, origin="manual", data={
        "key": "level", "label": "客户级别", "field_type": "choice", "choices": ["A", "B", "C"]})
    services.custom_field_save(actor=root, origin="manual", data={
        "key": "employees", "label": "员工数", "field_type": "number"})
    with pytest.raises(PermissionDenied):
        services.custom_field_save(actor=alice, origin="manual", data={"key": "x", "label": "x",
                                                      "field_type": "text"})
    big = make_customer(alice, name="大客户", custom={"level": "A", "employees": "1200"})
    make_customer(alice, name="小客户", custom={"level": "C"})
    with pytest.raises(ValidationError) as error:
        make_customer(alice, name="错的", custom={"level": "D"})
    assert "custom.level" in error.value.message_dict
    filters = CustomerFilters.from_params({"cf_level": "A"})
    page = selectors.customer_list(viewer=alice, filters=filters)
    assert [c.name for c in page.items] == ["大客户"]
    assert selectors.custom_values_by_key(page.items[0])["employees"] == 1200
    assert big.pk == page.items[0].pk


def test_bulk_transfer_needs_every_customer_in_reach(alice, bob, charlie, mallory,
                                                     make_customer):
    mine = [make_customer(alice, name=f"客户{i}") for i in range(3)]
    theirs = make_customer(charlie, name="华南客户")
    with pytest.raises(Http404):
        services.customer_transfer(actor=alice, origin="manual", customer_ids=[mine[0].pk, theirs.pk],
                                   to_user=bob)
    assert Customer.objects.get(pk=mine[0].pk).owner == alice
    moved = services.customer_transfer(actor=mallory, origin="manual", customer_ids=[c.pk for c in mine],
                                       to_user=bob, reason="离职交接")
    assert moved == 3
    assert set(Customer.objects.filter(owner=bob).values_list("name", flat=True)) == {
        "客户0", "客户1", "客户2"}


def test_a_colleague_it_was_shared_with_cannot_restore_it(alice, charlie, alices_customer):
    services.customer_share(actor=alice, origin="manual", customer=alices_customer, user=charlie)
    services.customer_delete(actor=alice, origin="manual", customer=alices_customer)
    assert selectors.customer_deleted_list(viewer=charlie) == []
    with pytest.raises(Http404):
        services.customer_restore(actor=charlie, origin="manual", pk=alices_customer.pk)
