"""Who sees which customer: the scoping rules, read as sentences."""

import pytest
from django.http import Http404

from kehu.customers import selectors, services
from kehu.customers.filters import CustomerFilters


def visible_names(user, **params):
    page = selectors.customer_list(viewer=user, filters=CustomerFilters.from_params(params))
    return [c.name for c in page.items]


def test_a_rep_sees_her_own_customers_and_not_an_outsiders(alice, charlie, alices_customer):
    assert visible_names(alice) == ["杭州西湖茶业有限公司"]
    assert visible_names(charlie) == []
    with pytest.raises(Http404):
        selectors.customer_get(viewer=charlie, pk=alices_customer.pk)


def test_an_outsider_finds_nothing_by_search_either(alice, charlie, alices_customer):
    assert visible_names(charlie, q="西湖") == []
    assert visible_names(charlie, q="hzxh") == []
    assert visible_names(alice, q="xhcy") == ["杭州西湖茶业有限公司"]


def test_the_manager_sees_the_department_and_the_teammate_does_not(
    alice, bob, mallory, alices_customer
):
    assert visible_names(mallory) == ["杭州西湖茶业有限公司"]
    assert visible_names(bob) == []


def test_sharing_lets_a_colleague_see_a_customer(alice, charlie, alices_customer):
    services.customer_share(actor=alice, origin="manual", customer=alices_customer, user=charlie)
    assert visible_names(charlie) == ["杭州西湖茶业有限公司"]


def test_the_analyst_reads_everything_masked(anna, alices_customer):
    customer = selectors.customer_get(viewer=anna, pk=alices_customer.pk)
    assert customer.phones == ["138****5678"]
    assert customer.emails == ["b***@xihu-tea.cn"]
    assert customer.credit_code.startswith("9111") and "*" in customer.credit_code


def test_the_analyst_cannot_edit(anna, alices_customer):
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        services.customer_update(actor=anna, origin="manual", customer=alices_customer, data={"name": "改名"})


def test_a_transfer_moves_the_customer_out_of_the_reps_sight(
    alice, charlie, mallory, alices_customer
):
    moved = services.customer_transfer(actor=mallory, origin="manual", customer_ids=[alices_customer.pk],
                                       to_user=charlie, reason="区域调整")
    assert moved == 1
    assert visible_names(alice) == []
    assert visible_names(charlie) == ["杭州西湖茶业有限公司"]
    record = alices_customer.transfers.get()
    assert (record.from_user, record.to_user, record.actor) == (alice, charlie, mallory)
