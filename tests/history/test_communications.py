"""A rep logs her calls and visits; outsiders and read-only roles cannot."""

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404

from kehu.core.errors import VersionConflict
from kehu.core.models import ChangeLog
from kehu.customers import services as customer_services
from kehu.history import services
from kehu.history.models import Communication


def test_a_rep_logs_a_call_with_a_next_follow_up_date(alice, alices_customer, primary_contact):
    call = services.communication_log(actor=alice, origin="manual", customer=alices_customer, data={
        "channel": "phone", "subject": "报价跟进", "outcome": "客户认可价格",
        "next_step": "寄样品", "next_follow_up": "2026-12-01"})
    assert call.next_follow_up == dt.date(2026, 12, 1)
    assert call.contact_id == primary_contact.pk  # the primary contact by default
    assert call.created_by == alice and call.occurred_at is not None
    log = ChangeLog.objects.get(model="history.communication", object_id=call.pk)
    assert (log.action, log.customer_id) == ("create", alices_customer.pk)


def test_the_channel_defaults_to_the_one_she_used_last(alice, alices_customer):
    first = services.communication_log(actor=alice, origin="manual", customer=alices_customer, data={})
    assert first.channel == "phone"
    services.communication_log(actor=alice, origin="manual", customer=alices_customer,
                               data={"channel": "wechat"})
    third = services.communication_log(actor=alice, origin="manual", customer=alices_customer, data={})
    assert third.channel == "wechat"


def test_the_contact_must_belong_to_the_customer(alice, alices_customer, make_customer):
    other = make_customer(alice, name="苏州园林建材有限公司")
    stranger = customer_services.contact_create(actor=alice, origin="manual", customer=other,
                                                data={"name": "王五"})
    with pytest.raises(ValidationError) as error:
        services.communication_log(actor=alice, origin="manual", customer=alices_customer,
                                   data={"contact": stranger.pk})
    assert "contact" in error.value.message_dict
    assert not Communication.objects.exists()


def test_an_outsider_gets_404_and_the_analyst_403(alice, charlie, anna, alices_customer):
    with pytest.raises(Http404):
        services.communication_log(actor=charlie, origin="manual", customer=alices_customer, data={})
    with pytest.raises(PermissionDenied):
        services.communication_log(actor=anna, origin="manual", customer=alices_customer, data={})
    call = services.communication_log(actor=alice, origin="manual", customer=alices_customer, data={})
    with pytest.raises(Http404):
        services.communication_update(actor=charlie, origin="manual", communication=call,
                                      data={"subject": "x"})
    with pytest.raises(PermissionDenied):
        services.communication_delete(actor=anna, origin="manual", communication=call)
    assert Communication.objects.count() == 1


def test_a_stale_version_is_refused_and_nothing_is_written(alice, mallory, alices_customer):
    call = services.communication_log(actor=alice, origin="manual", customer=alices_customer,
                                      data={"subject": "初次拜访"})
    services.communication_update(actor=mallory, origin="manual", communication=call,
                                  data={"outcome": "经理补充"}, expected_version=1)
    with pytest.raises(VersionConflict):
        services.communication_update(actor=alice, origin="manual", communication=call,
                                      data={"subject": "改主题"}, expected_version=1)
    call.refresh_from_db()
    assert (call.subject, call.outcome, call.version) == ("初次拜访", "经理补充", 2)
    assert ChangeLog.objects.filter(model="history.communication", action="update").count() == 1


def test_bad_input_names_every_bad_field(alice, alices_customer):
    with pytest.raises(ValidationError) as error:
        services.communication_log(actor=alice, origin="manual", customer=alices_customer, data={
            "channel": "pigeon", "next_follow_up": "明天", "subject": "x" * 201})
    assert set(error.value.message_dict) == {"channel", "next_follow_up", "subject"}


def test_the_form_and_the_service_default_to_the_same_contact(client, alice, alices_customer):
    """One rule for the defaults: the primary contact, even when it was not added first."""
    customer_services.contact_create(actor=alice, origin="manual", customer=alices_customer,
                                     data={"name": "先加的助理"})
    boss = customer_services.contact_create(actor=alice, origin="manual", customer=alices_customer,
                                            data={"name": "后加的老板", "is_primary": True})
    client.force_login(alice)
    page = client.get(f"/history/customers/{alices_customer.pk}/")
    form = page.context["history"]["log_form"]
    assert form.initial["contact"] == boss.pk
    call = services.communication_log(actor=alice, origin="manual", customer=alices_customer,
                                      data={"subject": "回访"})
    assert call.contact_id == boss.pk
