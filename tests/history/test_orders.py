"""Products and orders: decimal amounts, line errors that point at the line, ERP pushes."""

from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404

from kehu.core.errors import VersionConflict
from kehu.core.models import ChangeLog
from kehu.history import services
from kehu.history.models import Order, OrderLine, ProductCategory


def test_only_admins_and_managers_maintain_the_catalogue(alice, mallory, catalogue):
    with pytest.raises(PermissionDenied):
        services.product_save(actor=alice, origin="manual", data={"sku": "X", "name": "X", "unit_price": 1})
    cup = services.product_save(actor=mallory, origin="manual", data={
        "sku": "CUP-1", "name": "建盏", "category": "茶具", "unit_price": "88"})
    assert cup.category == ProductCategory.objects.get(name="茶具")  # reused, not duplicated
    assert cup.unit_price == Decimal("88.00")
    with pytest.raises(ValidationError) as error:
        services.product_save(actor=mallory, origin="manual", data={"sku": "CUP-1", "name": "重复",
                                                                    "unit_price": 1})
    assert "sku" in error.value.message_dict


def test_an_order_totals_its_lines_in_decimals(alice, alices_customer, catalogue):
    order = services.order_create(actor=alice, origin="manual", customer=alices_customer, data={
        "ordered_on": "2025-01-15", "lines": [
            {"product": "TEA-LJ-250", "quantity": 3},  # price from the catalogue
            {"product": catalogue["SET-GL-01"].pk, "quantity": "2", "unit_price": "150.00",
             "discount": "0.10"},
        ]})
    assert order.total == Decimal("1493.90")  # 3×398 + 2×150 − 0.10
    assert order.number.startswith("SO20250115-")
    amounts = sorted(OrderLine.objects.filter(order=order).values_list("amount", flat=True))
    assert amounts == [Decimal("299.90"), Decimal("1194.00")]


def test_line_errors_name_the_line(alice, alices_customer, catalogue):
    with pytest.raises(ValidationError) as error:
        services.order_create(actor=alice, origin="manual", customer=alices_customer, data={
            "status": "shipped", "lines": [
                {"product": "TEA-LJ-250", "quantity": 1},
                {"product": "NOPE", "quantity": 1},
                {"product": "TEA-PE-357", "quantity": "-2"},
            ]})
    assert set(error.value.message_dict) == {"status", "lines.1.product", "lines.2.quantity"}
    assert not Order.objects.exists()


def test_editing_the_lines_recomputes_the_total_and_checks_the_version(
    alice, alices_customer, catalogue
):
    order = services.order_create(actor=alice, origin="manual", customer=alices_customer, data={
        "lines": [{"product": "TEA-PE-357", "quantity": 2}]})
    order = services.order_update(actor=alice, origin="manual", order=order, expected_version=1, data={
        "status": "paid", "lines": [{"product": "TEA-PE-357", "quantity": 4}]})
    assert (order.status, order.total, order.version) == ("paid", Decimal("1074.00"), 2)
    with pytest.raises(VersionConflict):
        services.order_update(actor=alice, origin="manual", order=order, expected_version=1,
                              data={"notes": "x"})


def test_an_outsider_cannot_order_for_alices_customer(alice, charlie, anna, alices_customer,
                                                     catalogue):
    data = {"lines": [{"product": "TEA-PE-357", "quantity": 1}]}
    with pytest.raises(Http404):
        services.order_create(actor=charlie, origin="manual", customer=alices_customer, data=data)
    with pytest.raises(PermissionDenied):
        services.order_create(actor=anna, origin="manual", customer=alices_customer, data=data)
    order = services.order_create(actor=alice, origin="manual", customer=alices_customer, data=data)
    with pytest.raises(Http404):
        services.order_delete(actor=charlie, origin="manual", order=order)


def erp_batch(customer_id, count, start=0):
    return [
        {"customer": customer_id, "external_number": f"JD-{n:06d}", "ordered_on": "2025-03-01",
         "status": "paid", "lines": [{"product": "TEA-LJ-250", "quantity": 1 + n % 3},
                                     {"product": "SET-GL-01", "quantity": 1, "discount": "9.90"}]}
        for n in range(start, start + count)
    ]


def test_a_batch_posted_twice_creates_the_orders_once(
    alice, alices_customer, catalogue, django_assert_max_num_queries
):
    batch = erp_batch(alices_customer.pk, 300)
    with django_assert_max_num_queries(20):
        first = services.orders_ingest(actor=alice, origin="api", orders=batch)
    assert (first["created"], first["existing"]) == (300, 0)
    again = services.orders_ingest(actor=alice, origin="api",
                                   orders=batch + erp_batch(alices_customer.pk, 2, 300))
    assert (again["created"], again["existing"]) == (2, 300)
    assert sorted(again["existing_ids"]) == sorted(first["created_ids"])
    assert Order.objects.count() == 302
    assert OrderLine.objects.count() == 604
    assert ChangeLog.objects.filter(model="history.order", origin="api").count() == 302


def test_a_batch_with_one_bad_row_writes_nothing_and_names_the_row(
    alice, charlie, alices_customer, catalogue
):
    batch = erp_batch(alices_customer.pk, 20)
    batch[17]["lines"][0]["product"] = "NO-SUCH-SKU"
    batch[5]["customer"] = 999999
    del batch[9]["external_number"]
    with pytest.raises(ValidationError) as error:
        services.orders_ingest(actor=alice, origin="manual", orders=batch)
    assert set(error.value.message_dict) == {
        "orders.17.lines.0.product", "orders.5.customer", "orders.9.external_number"}
    assert not Order.objects.exists() and not OrderLine.objects.exists()


def test_an_outsiders_push_cannot_reach_alices_customer(charlie, alices_customer, catalogue):
    with pytest.raises(ValidationError) as error:
        services.orders_ingest(actor=charlie, origin="manual", orders=erp_batch(alices_customer.pk, 1))
    assert "orders.0.customer" in error.value.message_dict


def test_an_external_number_of_another_customer_is_not_reported_as_existing(
    alice, alices_customer, make_customer, catalogue
):
    services.orders_ingest(actor=alice, origin="manual", orders=erp_batch(alices_customer.pk, 1))
    other = make_customer(alice, name="宁波港口物流有限公司")
    with pytest.raises(ValidationError) as error:
        services.orders_ingest(actor=alice, origin="manual", orders=erp_batch(other.pk, 1))
    assert "orders.0.external_number" in error.value.message_dict


def test_a_duplicate_order_number_names_its_row(alice, alices_customer, catalogue):
    batch = erp_batch(alices_customer.pk, 4)
    batch[0]["status"] = "bogus"  # an invalid row before them must not shift the row numbers
    batch[1]["number"] = batch[3]["number"] = "SO-ERP-1"
    with pytest.raises(ValidationError) as error:
        services.orders_ingest(actor=alice, origin="manual", orders=batch)
    assert set(error.value.message_dict) == {"orders.0.status"}
    batch[0]["status"] = "paid"
    with pytest.raises(ValidationError) as error:
        services.orders_ingest(actor=alice, origin="manual", orders=batch)
    assert set(error.value.message_dict) == {"orders.3.number"}
    assert not Order.objects.exists()
