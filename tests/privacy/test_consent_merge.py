"""Two records of one customer are merged: their consents move to the survivor like the rest
of its history, and a withdrawal on either side makes the survivor 勿营销 — nobody can be
marketed to again because a duplicate said yes once. Undo gives each side its own back."""

from __future__ import annotations

import pytest

from kehu.customers.merging import customer_merge, customer_merge_undo
from kehu.privacy.selectors import consent_list, states_for
from kehu.privacy.services import consent_withdraw

pytestmark = pytest.mark.django_db


def _state(viewer, customer) -> str:
    return states_for(consent_list(viewer=viewer, customer=customer.pk))["marketing"]


def test_a_merge_keeps_the_withdrawal_and_undo_restores_both(alice, make_customer, grant):
    survivor = make_customer(alice, name="杭州西湖茶业有限公司")
    duplicate = make_customer(alice, name="杭州西湖茶业")
    grant(alice, survivor)
    said_no = grant(alice, duplicate, channel="email")
    consent_withdraw(actor=alice, origin="manual", consent=said_no.pk)
    assert (_state(alice, survivor), _state(alice, duplicate)) == ("granted", "withdrawn")

    merge = customer_merge(actor=alice, origin="manual", survivor=survivor, duplicate=duplicate)
    assert _state(alice, survivor) == "withdrawn"
    assert len(consent_list(viewer=alice, customer=survivor.pk)) == 2

    customer_merge_undo(actor=alice, origin="manual", merge=merge)
    assert (_state(alice, survivor), _state(alice, duplicate)) == ("granted", "withdrawn")


def test_withdrawing_after_a_merge_withdraws_every_live_grant_of_the_purpose(alice,
                                                                             make_customer, grant):
    survivor = make_customer(alice, name="宁波港口物流有限公司")
    duplicate = make_customer(alice, name="宁波港口物流")
    mine = grant(alice, survivor)
    grant(alice, duplicate, channel="wechat")
    customer_merge(actor=alice, origin="manual", survivor=survivor, duplicate=duplicate)
    consent_withdraw(actor=alice, origin="manual", consent=mine.pk)
    rows = consent_list(viewer=alice, customer=survivor.pk)
    assert [r.withdrawn_at is not None for r in rows] == [True, True]
    assert states_for(rows)["marketing"] == "withdrawn"
