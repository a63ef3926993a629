"""Needs, preferences, surveys and tickets: validation, transitions and scope."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.utils import timezone

from kehu.history import selectors, services


def test_csat_and_nps_ranges_follow_the_kind(alice, alices_customer):
    with pytest.raises(ValidationError) as error:
        services.survey_record(actor=alice, origin="manual", customer=alices_customer,
                               data={"kind": "csat", "score": 8})
    assert "score" in error.value.message_dict
    nps = services.survey_record(actor=alice, origin="manual", customer=alices_customer,
                                 data={"kind": "nps", "score": 8, "comment": "会推荐给同行"})
    assert (nps.score, nps.answered_on) == (8, timezone.localdate())
    with pytest.raises(ValidationError):
        services.survey_record(actor=alice, origin="manual", customer=alices_customer,
                               data={"kind": "nps", "score": 11})


def test_resolving_a_complaint_stamps_the_time_and_reopening_clears_it(alice, alices_customer):
    ticket = services.ticket_create(actor=alice, origin="manual", customer=alices_customer, data={
        "kind": "complaint", "subject": "到货延迟", "handler": alice.pk})
    assert ticket.resolved_at is None
    ticket = services.ticket_update(actor=alice, origin="manual", ticket=ticket, data={
        "status": "resolved", "resolution": "补发并致歉"}, expected_version=1)
    assert ticket.resolved_at is not None
    assert selectors.customer_summary(viewer=alice, customer_id=alices_customer.pk).open_complaints == 0
    ticket = services.ticket_update(actor=alice, origin="manual", ticket=ticket, data={"status": "open"})
    assert ticket.resolved_at is None
    assert selectors.customer_summary(viewer=alice, customer_id=alices_customer.pk).open_complaints == 1


def test_preferences_are_one_row_per_customer(alice, alices_customer, primary_contact):
    first = services.preference_save(actor=alice, origin="manual", customer=alices_customer, data={
        "preferred_channel": "wechat", "interests": "茶叶，茶具", "budget_min": "5000",
        "budget_max": "20000", "decision_maker": primary_contact.pk})
    again = services.preference_save(actor=alice, origin="manual", customer=alices_customer,
                                     data={"pain_points": "审批慢", "interests": ["茶叶"]})
    assert again.pk == first.pk and again.version == 2
    assert (again.preferred_channel, again.budget_max) == ("wechat", Decimal("20000.00"))
    assert [c.name for c in again.interests.all()] == ["茶叶"]
    with pytest.raises(ValidationError) as error:
        services.preference_save(actor=alice, origin="manual", customer=alices_customer,
                                 data={"budget_min": "900", "budget_max": "100"})
    assert "budget_max" in error.value.message_dict


def test_needs_follow_their_status_and_stay_in_scope(alice, charlie, anna, alices_customer):
    need = services.need_create(actor=alice, origin="manual", customer=alices_customer,
                                data={"content": "需要礼盒定制"})
    need = services.need_update(actor=alice, origin="manual", need=need, data={"status": "in_progress"})
    assert (need.status, need.version) == ("in_progress", 2)
    with pytest.raises(Http404):
        services.need_delete(actor=charlie, origin="manual", need=need)
    with pytest.raises(PermissionDenied):
        services.need_update(actor=anna, origin="manual", need=need, data={"status": "met"})
    assert [n.pk for n in selectors.need_list(viewer=alice, customer_id=alices_customer.pk).items] == [
        need.pk]
    assert selectors.need_list(viewer=charlie).items == []


def test_due_follow_ups_are_the_ones_on_or_before_the_day(alice, bob, alices_customer):
    for day in ("2026-03-01", "2026-03-05", "2026-03-09"):
        services.communication_log(actor=alice, origin="manual", customer=alices_customer,
                                   data={"next_follow_up": day})
    due = selectors.due_follow_ups(viewer=alice, on=dt.date(2026, 3, 5))
    assert [c.next_follow_up.day for c in due] == [1, 5]
    assert list(selectors.due_follow_ups(viewer=bob, on=dt.date(2026, 3, 9))) == []
