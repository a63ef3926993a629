"""History input cleaning against what the attack run sent (issue 7): amounts wider than
their columns, rows already holding such amounts, order numbers as an oracle, ids wider
than 64 bits, blank channels and times, impossible dates, quantities that would be rounded
away. Every check lives in `history.cleaning`, so every path (web, API, bulk, imports)
gets it; the tests go through the API, the web form and the services."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

import pytest
from django.core.exceptions import ValidationError
from django.db import DataError, connection, transaction
from django.test import Client
from django.urls import reverse
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from kehu.history import orders, services
from kehu.history.models import (
    Communication,
    Opportunity,
    Order,
    OrderLine,
    Preference,
    Product,
    Ticket,
)
from tests.api.conftest import errors_by_field

pytestmark = pytest.mark.django_db

MANUAL = "manual"
BIG_ID = 2**64


def one_line(**line):
    return {"lines": [{"product": "TEA-LJ-250", "quantity": 1, **line}]}


def browser_of(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


# --- 1: amounts wider than their column ---------------------------------------------------


def test_order_wider_than_the_column_is_refused_and_orders_stay_readable(
    alice, alices_customer, catalogue, api_as
):
    api = api_as(alice)
    path = f"/customers/{alices_customer.pk}/orders"
    wide_line = api.post(path, {"lines": [
        {"product": "TEA-LJ-250", "quantity": "1"},
        {"product": "TEA-LJ-250", "quantity": "999999999", "unit_price": "999999999999.99"}]})
    assert wide_line.status_code == 422
    assert list(errors_by_field(wide_line)) == ["lines.1.amount"]
    many_lines = api.post(path, {"lines": [
        {"product": "TEA-LJ-250", "quantity": "1", "unit_price": "999999999999.99"}] * 200})
    assert many_lines.status_code == 422
    assert list(errors_by_field(many_lines)) == ["total"]
    wide_price = api.post(path, one_line(unit_price="1000000000000"))
    assert list(errors_by_field(wide_price)) == ["lines.0.unit_price"]
    assert not Order.objects.exists() and not OrderLine.objects.exists()
    for read in ("/orders", f"/customers/{alices_customer.pk}/timeline",
                 f"/customers/{alices_customer.pk}/summary"):
        assert api.get(read).status_code == 200


def test_every_write_path_checks_amounts_against_their_columns(
    alice, mallory, alices_customer, catalogue, api_as
):
    api = api_as(alice)
    order = services.order_create(actor=alice, origin=MANUAL, customer=alices_customer,
                                  data=one_line())
    patched = api.patch(f"/orders/{order.pk}", {"lines": [
        {"product": "TEA-LJ-250", "quantity": "999999999", "unit_price": "999999999999.99"}]},
        if_match=order.version)
    assert (patched.status_code, list(errors_by_field(patched))) == (422, ["lines.0.amount"])
    assert Order.objects.get(pk=order.pk).total == Decimal("398.00")

    bulk = api.post("/orders/bulk", {"orders": [
        {"customer": alices_customer.pk, "external_number": "ERP-1", "lines": [
            {"product": "TEA-LJ-250", "quantity": 1, "unit_price": "1000000000000"}]},
        {"customer": alices_customer.pk, "external_number": "ERP-2", "lines": [
            {"product": "TEA-LJ-250", "quantity": 1, "unit_price": "999999999999.99"}] * 200},
        {"customer": alices_customer.pk, "external_number": "ERP-3", "lines": [
            {"product": "TEA-LJ-250", "quantity": 1, "discount": "1e14"}]},
    ]})
    assert bulk.status_code == 422
    assert set(errors_by_field(bulk)) == {
        "orders.0.lines.0.unit_price", "orders.1.total", "orders.2.lines.0.discount"}

    deal = api.post(f"/customers/{alices_customer.pk}/opportunities",
                    {"title": "大单", "amount": "1e12"})
    assert (deal.status_code, list(errors_by_field(deal))) == (422, ["amount"])
    budget = api.request("PUT", f"/customers/{alices_customer.pk}/preference",
                         {"budget_min": "1", "budget_max": "99999999999999"}, if_match=0)
    assert (budget.status_code, list(errors_by_field(budget))) == (422, ["budget_max"])
    product = api_as(mallory).post("/products", {"sku": "GOLD", "name": "金砖",
                                                 "unit_price": "1000000000000.00"})
    assert (product.status_code, list(errors_by_field(product))) == (422, ["unit_price"])
    assert Order.objects.count() == 1 and not Opportunity.objects.exists()
    assert not Preference.objects.exists() and not Product.objects.filter(sku="GOLD").exists()


def test_the_web_order_form_refuses_an_order_wider_than_the_column(
    alice, alices_customer, catalogue
):
    url = reverse("history:add", args=[alices_customer.pk, "order"])
    form = {"ordered_on": "2026-05-01", "status": "confirmed",
            "product": catalogue["TEA-LJ-250"].pk}
    wide = browser_of(alice).post(url, {**form, "quantity": "999999999",
                                        "unit_price": "999999999999.99"})
    assert wide.status_code == 400
    assert "存不下" in wide.content.decode()
    tiny = browser_of(alice).post(url, {**form, "quantity": "1e-10"})
    assert tiny.status_code == 400
    assert not Order.objects.exists()


def test_the_limits_come_from_the_columns(alice, alices_customer, catalogue, monkeypatch):
    """max_digits and decimal_places are read from the model, not written twice."""
    create = lambda quantity: services.order_create(  # noqa: E731
        actor=alice, origin=MANUAL, customer=alices_customer, data=one_line(quantity=quantity))
    assert create("123456.5").lines.get().quantity == Decimal("123456.500")
    monkeypatch.setattr(OrderLine._meta.get_field("quantity"), "max_digits", 6)
    monkeypatch.setattr(OrderLine._meta.get_field("quantity"), "decimal_places", 1)
    with pytest.raises(ValidationError) as error:
        create("123456.5")
    assert error.value.message_dict == {"lines.0.quantity": ["超出范围：整数部分最多 5 位"]}
    with pytest.raises(ValidationError) as error:
        create("1.25")
    assert error.value.message_dict == {"lines.0.quantity": ["最多 1 位小数"]}


WIDE_VALUES = ["1000000000000000000000.5", "1e300", "9e999"]  # the last one is infinity


@pytest.mark.parametrize("wide", WIDE_VALUES)
def test_a_too_wide_value_already_stored_does_not_break_any_page(
    alice, mallory, alices_customer, catalogue, api_as, wide
):
    """Rows written before the checks: SQLite kept whatever it was given."""
    order = services.order_create(actor=alice, origin=MANUAL, customer=alices_customer,
                                  data=one_line(quantity=2))
    deal = services.opportunity_create(actor=alice, origin=MANUAL, customer=alices_customer,
                                       data={"title": "年度采购", "amount": "5000"})
    services.preference_save(actor=alice, origin=MANUAL, customer=alices_customer,
                             data={"budget_max": "100"})
    updates = [(Order, "total", order.pk), (OrderLine, "amount", order.lines.get().pk),
               (OrderLine, "quantity", order.lines.get().pk), (Opportunity, "amount", deal.pk),
               (Product, "unit_price", catalogue["SET-GL-01"].pk),
               (Preference, "budget_max", alices_customer.pk)]
    if connection.vendor != "sqlite":  # PostgreSQL enforces numeric(14, 2): nothing to read back
        with pytest.raises(DataError), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(f"UPDATE {Order._meta.db_table} SET total = %s", [wide])
        return
    with connection.cursor() as cursor:
        for model, column, pk in updates:
            key = "customer_id" if model is Preference else "id"
            cursor.execute(f"UPDATE {model._meta.db_table} SET {column} = {wide} WHERE {key} = %s",
                           [pk])
    api = api_as(alice)
    for path in ("/orders", f"/orders/{order.pk}", f"/customers/{alices_customer.pk}/timeline",
                 f"/customers/{alices_customer.pk}/summary", "/opportunities", "/products",
                 f"/customers/{alices_customer.pk}/preference"):
        assert api.get(path).status_code == 200, path
    web = browser_of(alice)
    for url in (reverse("customers:detail", args=[alices_customer.pk]), reverse("history:orders"),
                reverse("history:opportunities"), reverse("history:board")):
        assert web.get(url).status_code == 200, url
    # ... and the order can be fixed, then deleted.
    fixed = api.patch(f"/orders/{order.pk}", one_line(quantity=3), if_match=order.version)
    assert (fixed.status_code, fixed.json()["total"]) == (200, "1194.00")
    assert api.delete(f"/orders/{order.pk}", if_match=fixed["ETag"]).status_code == 204


DECIMAL_TEXT = st.one_of(
    st.decimals(allow_nan=True, allow_infinity=True).map(str),
    st.from_regex(r"-?[0-9]{0,14}(\.[0-9]{0,5})?([eE][-+]?[0-9]{1,4})?", fullmatch=True),
    st.integers(min_value=-(10**20), max_value=10**20).map(str),
    st.floats().map(str),
    st.sampled_from(["", " 1 ", "1,000.5", "1e-10", "0.0005", "-0", "0E-1000", "1E+999999"]),
)


@settings(max_examples=200, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(quantity=DECIMAL_TEXT, unit_price=st.none() | DECIMAL_TEXT,
       discount=st.none() | DECIMAL_TEXT)
@example(quantity="999999999", unit_price="999999999999.99", discount=None)
@example(quantity="999999999.999", unit_price="999.99", discount="999999999999.99")
@example(quantity="1e-10", unit_price=None, discount=None)
@example(quantity="0.001", unit_price="0.01", discount="0")
def test_any_decimal_strings_store_an_order_that_rereads_exactly_or_are_refused(
    alice, alices_customer, catalogue, quantity, unit_price, discount
):
    line = {"product": "TEA-LJ-250", "quantity": quantity}
    if unit_price is not None:
        line["unit_price"] = unit_price
    if discount is not None:
        line["discount"] = discount
    try:
        order = services.order_create(actor=alice, origin=MANUAL, customer=alices_customer,
                                      data={"lines": [line]})
    except ValidationError:
        return
    stored = Order.objects.get(pk=order.pk)
    stored_line = OrderLine.objects.get(order=stored)
    price = parsed(unit_price) if unit_price not in (None, "") else Decimal("398.00")
    taken_off = parsed(discount) if discount not in (None, "") else Decimal(0)
    assert stored_line.quantity == parsed(quantity)
    assert stored_line.unit_price == price
    assert stored_line.discount == taken_off
    amount = (parsed(quantity) * price - taken_off).quantize(Decimal("0.01"), ROUND_HALF_UP)
    assert stored_line.amount == amount == stored.total == order.total


def parsed(text: str) -> Decimal:
    try:
        return Decimal(text.replace(",", "").strip())
    except InvalidOperation:  # the service accepted what is not a number
        pytest.fail(f"accepted {text!r}")


# --- 10: order numbers are not an oracle ----------------------------------------------------


def test_external_number_clash_does_not_reveal_other_scopes(
    alice, charlie, alices_customer, make_customer, catalogue, api_as
):
    charlies = make_customer(charlie, name="广州南沙茶行")
    hidden = services.order_create(actor=charlie, origin=MANUAL, customer=charlies,
                                   data={"external_number": "JD-HIDDEN", **one_line()})
    alices_other = make_customer(alice, name="宁波港口物流有限公司")
    services.order_create(actor=alice, origin=MANUAL, customer=alices_other,
                          data={"external_number": "JD-SEEN", **one_line()})
    api = api_as(alice)

    def bulk_refusal(number: str) -> list[str]:
        response = api.post("/orders/bulk", {"orders": [
            {"customer": alices_customer.pk, "external_number": number, **one_line()}]})
        assert response.status_code == 422
        return [m.replace(number, "#") for m in errors_by_field(response)["orders.0.external_number"]]

    def single_refusal(field: str, number: str) -> list[str]:
        response = api.post(f"/customers/{alices_customer.pk}/orders", {field: number, **one_line()})
        assert response.status_code == 422
        return [m.replace(number, "#") for m in errors_by_field(response)[field]]

    out_of_scope, in_scope = bulk_refusal("JD-HIDDEN"), bulk_refusal("JD-SEEN")
    assert out_of_scope == in_scope  # the same answer whether alice can see the order or not
    assert not any("客户" in message for message in out_of_scope)
    assert single_refusal("external_number", "JD-HIDDEN") == out_of_scope
    assert single_refusal("external_number", "JD-SEEN") == out_of_scope
    assert single_refusal("number", hidden.number) == out_of_scope  # any unusable number
    # What alice legitimately needs: a retry on the customer holding her order is reported.
    again = api.post("/orders/bulk", {"orders": [
        {"customer": alices_other.pk, "external_number": "JD-SEEN", **one_line()}]})
    assert (again.status_code, again.json()["existing"]) == (200, 1)
    assert Order.objects.count() == 2


# --- 5: duplicate numbers, ids wider than 64 bits, null times, impossible dates ------------


def test_a_duplicate_external_number_on_a_single_order_is_a_422(
    alice, alices_customer, catalogue, api_as
):
    api = api_as(alice)
    path = f"/customers/{alices_customer.pk}/orders"
    first = api.post(path, {"external_number": "TB-1", "number": "SO-MINE-1", **one_line()})
    assert first.status_code == 201
    for field, value in (("external_number", "TB-1"), ("number", "SO-MINE-1")):
        again = api.post(path, {field: value, **one_line()})
        assert (again.status_code, list(errors_by_field(again))) == (422, [field])
    second = api.post(path, one_line()).json()
    moved = api.patch(f"/orders/{second['id']}", {"external_number": "TB-1"},
                      if_match=second["version"])
    assert (moved.status_code, list(errors_by_field(moved))) == (422, ["external_number"])
    assert Order.objects.count() == 2


def test_a_number_taken_by_a_concurrent_request_is_refused_not_a_server_error(
    alice, alices_customer, catalogue, monkeypatch
):
    """The check runs before the insert; an order committed in between meets the unique
    constraint, and the answer is the same ValidationError."""
    taken = services.order_create(actor=alice, origin=MANUAL, customer=alices_customer,
                                  data={"external_number": "TB-9", **one_line()})
    real_check, calls = orders._check_numbers_free, []

    def check_after_the_race(*args, **kwargs):
        calls.append(args)
        if len(calls) > 1:  # the first check ran before the other order was committed
            real_check(*args, **kwargs)

    monkeypatch.setattr(orders, "_check_numbers_free", check_after_the_race)
    with pytest.raises(ValidationError) as error:
        services.order_create(actor=alice, origin=MANUAL, customer=alices_customer,
                              data={"external_number": "TB-9", **one_line()})
    assert list(error.value.message_dict) == ["external_number"]
    calls.clear()
    with pytest.raises(ValidationError) as error:
        services.orders_ingest(actor=alice, origin="api", orders=[
            {"customer": alices_customer.pk, "external_number": "TB-10", "number": taken.number,
             **one_line()}])
    assert list(error.value.message_dict) == ["orders.0.number"]
    assert Order.objects.count() == 1


def test_ids_above_2_63_in_history_bodies_are_refused_naming_the_field(
    alice, alices_customer, catalogue, primary_contact, api_as
):
    customer = alices_customer
    refused = {
        "lines.0.product": lambda: services.order_create(
            actor=alice, origin=MANUAL, customer=customer,
            data={"lines": [{"product": BIG_ID, "quantity": 1}]}),
        "lines.0.product ": lambda: services.order_create(  # "²" is a digit to Python
            actor=alice, origin=MANUAL, customer=customer,
            data={"lines": [{"product": "²", "quantity": 1}]}),
        "orders.0.customer": lambda: services.orders_ingest(
            actor=alice, origin="api", orders=[{"customer": BIG_ID, "external_number": "E",
                                                **one_line()}]),
        "contact": lambda: services.communication_log(
            actor=alice, origin=MANUAL, customer=customer, data={"contact": BIG_ID}),
        "stage": lambda: services.opportunity_create(
            actor=alice, origin=MANUAL, customer=customer, data={"title": "x", "stage": BIG_ID}),
        "pipeline": lambda: services.opportunity_create(
            actor=alice, origin=MANUAL, customer=customer, data={"title": "x", "pipeline": BIG_ID}),
        "owner": lambda: services.opportunity_create(
            actor=alice, origin=MANUAL, customer=customer, data={"title": "x", "owner": BIG_ID}),
        "products": lambda: services.opportunity_create(
            actor=alice, origin=MANUAL, customer=customer, data={"title": "x", "products": [BIG_ID]}),
        "decision_maker": lambda: services.preference_save(
            actor=alice, origin=MANUAL, customer=customer, data={"decision_maker": BIG_ID}),
        "handler": lambda: services.ticket_create(
            actor=alice, origin=MANUAL, customer=customer,
            data={"kind": "complaint", "subject": "x", "handler": BIG_ID}),
    }
    for field, write in refused.items():
        with pytest.raises(ValidationError) as error:
            write()
        assert list(error.value.message_dict) == [field.strip()], field
    api = api_as(alice)
    for path, body in ((f"/customers/{customer.pk}/orders",
                        {"lines": [{"product": BIG_ID, "quantity": 1}]}),
                       (f"/customers/{customer.pk}/communications", {"contact": BIG_ID}),
                       (f"/customers/{customer.pk}/opportunities", {"title": "x", "stage": BIG_ID})):
        assert api.post(path, body).status_code == 422, path
    assert not Order.objects.exists() and not Communication.objects.exists()
    assert not Opportunity.objects.exists() and not Ticket.objects.exists()


@pytest.fixture
def call(alice, alices_customer, primary_contact):
    return services.communication_log(actor=alice, origin=MANUAL, customer=alices_customer,
                                      data={"channel": "phone", "subject": "首次电话"})


def test_a_null_occurred_at_is_refused(alice, alices_customer, call, api_as):
    api = api_as(alice)
    created = api.post(f"/customers/{alices_customer.pk}/communications",
                       {"channel": "phone", "occurred_at": None})
    assert (created.status_code, errors_by_field(created)) == (422, {"occurred_at": ["必填"]})
    patched = api.patch(f"/communications/{call.pk}", {"occurred_at": None}, if_match=call.version)
    assert (patched.status_code, errors_by_field(patched)) == (422, {"occurred_at": ["必填"]})
    assert Communication.objects.count() == 1


@pytest.mark.parametrize("moment", [
    "0001-01-01T00:00:00",  # Beijing time: before the first moment UTC can hold
    "0001-01-01T00:00:00+08:00",
    "9999-12-31T23:59:59-05:00",  # after the last one
])
def test_impossible_dates_in_history_bodies_are_refused(
    alice, alices_customer, call, catalogue, api_as, moment
):
    api = api_as(alice)
    customer = alices_customer.pk
    for path, body, field in (
        (f"/customers/{customer}/communications", {"channel": "phone", "occurred_at": moment},
         "occurred_at"),
        (f"/customers/{customer}/tickets", {"kind": "inquiry", "subject": "x", "opened_at": moment},
         "opened_at"),
        (f"/customers/{customer}/orders", {"ordered_on": moment[:10], **one_line()}, "ordered_on"),
    ):
        response = api.post(path, body)
        assert (response.status_code, list(errors_by_field(response))) == (422, [field]), path
    patched = api.patch(f"/communications/{call.pk}", {"occurred_at": moment}, if_match=call.version)
    assert (patched.status_code, list(errors_by_field(patched))) == (422, ["occurred_at"])
    assert api.get(f"/customers/{customer}/timeline").status_code == 200


# --- 12: nothing stored quietly blank or rounded away --------------------------------------


def test_a_communication_without_a_channel_is_refused(alice, alices_customer, call, api_as):
    api = api_as(alice)
    for channel in (None, ""):
        created = api.post(f"/customers/{alices_customer.pk}/communications",
                           {"channel": channel, "subject": "空方式"})
        assert (created.status_code, errors_by_field(created)) == (422, {"channel": ["必填"]})
        patched = api.patch(f"/communications/{call.pk}", {"channel": channel},
                            if_match=call.version)
        assert (patched.status_code, errors_by_field(patched)) == (422, {"channel": ["必填"]})
    assert list(Communication.objects.values_list("channel", flat=True)) == ["phone"]


def test_a_quantity_that_would_lose_digits_is_refused(alice, alices_customer, catalogue, api_as):
    api = api_as(alice)
    path = f"/customers/{alices_customer.pk}/orders"
    for quantity in ("1e-10", "0.0001", "2.0005"):
        response = api.post(path, one_line(quantity=quantity))
        assert response.status_code == 422, quantity
        assert errors_by_field(response) == {"lines.0.quantity": ["最多 3 位小数"]}
    cents = api.post(path, one_line(unit_price="1.005"))
    assert errors_by_field(cents) == {"lines.0.unit_price": ["最多 2 位小数"]}
    assert not Order.objects.exists()
    kept = api.post(path, one_line(quantity="2.5000", unit_price="10.10"))
    assert kept.status_code == 201
    assert kept.json()["lines"][0]["quantity"] == "2.500"
    assert kept.json()["total"] == "25.25"
