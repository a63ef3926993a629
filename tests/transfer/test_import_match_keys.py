"""Every write path keeps a customer's match keys (the table imports match rows on):
phones and e-mails of the customer and its contacts, and its credit code."""

import pytest
from django.db import connection

from kehu.customers import services
from kehu.customers.bulk import keys_lookup
from kehu.customers.keys import keys_refresh_range
from kehu.customers.models import Customer, CustomerKey

pytestmark = pytest.mark.django_db
CODE = "91110000802100433B"


def keys_of(customer):
    return sorted(CustomerKey.objects.filter(customer=customer).values_list("kind", "value"))


def test_alice_creates_a_customer_and_its_keys_are_there(alice, make_customer):
    customer = make_customer(alice, phones=["138-0013-8000", "+86 139 0000 1111"],
                             emails=["Sales@Example.COM"], credit_code=CODE)
    assert keys_of(customer) == [("credit_code", CODE), ("email", "sales@example.com"),
                                 ("phone", "+8613800138000"), ("phone", "+8613900001111")]


def test_edits_and_contacts_move_the_keys(alice, make_customer):
    customer = make_customer(alice, phones=["13800138000"])
    services.customer_update(actor=alice, origin="manual", customer=customer,
                             data={"phones": ["13700137000"], "emails": ["a@b.cn"]})
    contact = services.contact_create(actor=alice, origin="manual", customer=customer,
                                      data={"name": "王五", "phones": ["13600136000"],
                                            "email": "WW@b.cn"})
    assert keys_of(customer) == [("email", "a@b.cn"), ("email", "ww@b.cn"),
                                 ("phone", "+8613600136000"), ("phone", "+8613700137000")]
    contact.refresh_from_db()
    services.contact_update(actor=alice, origin="manual", contact=contact,
                            data={"phones": ["13700137000"]})  # same number as the customer
    assert ("phone", "+8613600136000") not in keys_of(customer)
    services.contact_delete(actor=alice, origin="manual", contact=contact)
    assert keys_of(customer) == [("email", "a@b.cn"), ("phone", "+8613700137000")]


def test_the_backfill_rebuilds_from_the_stored_rows_what_the_services_wrote(alice, make_customer):
    made = [make_customer(alice, name=f"客户{i}", phones=[f"1380013800{i}"],
                          emails=[f"c{i}@x.cn"], credit_code=CODE if i == 1 else "")
            for i in range(3)]
    written = sorted(CustomerKey.objects.values_list("customer_id", "kind", "value"))
    with connection.cursor() as cursor:  # as after a raw load: no keys at all
        cursor.execute("DELETE FROM customers_customerkey")
    keys_refresh_range(made[0].pk, made[-1].pk)
    assert sorted(CustomerKey.objects.values_list("customer_id", "kind", "value")) == written
    assert len(written) == 7
    keys_refresh_range(made[0].pk, made[-1].pk)  # again: nothing doubled
    assert CustomerKey.objects.count() == 7
    assert Customer.objects.count() == 3


def test_a_batch_of_keys_is_looked_up_at_once_live_customers_only(alice, bob, make_customer,
                                                                  django_assert_num_queries):
    first = make_customer(alice, name="甲", phones=["13800138000"], emails=["x@y.cn"])
    second = make_customer(bob, name="乙", phones=["13800138000"])
    gone = make_customer(alice, name="丙", credit_code=CODE)
    services.customer_delete(actor=alice, origin="manual", customer=gone)
    pairs = [("phone", "+8613800138000"), ("email", "x@y.cn"), ("credit_code", CODE),
             ("email", "nobody@y.cn"), ("phone", "")]
    with django_assert_num_queries(1):
        found = keys_lookup(pairs)
    assert dict(found) == {("phone", "+8613800138000"): {first.pk, second.pk},
                           ("email", "x@y.cn"): {first.pk}}
