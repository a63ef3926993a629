"""What goes with a customer's move into or out of the pool, in the same transaction:

- into the pool (released, reclaimed): its shares end — Charlie (no member) no longer
  reads it unmasked through an old share — and its previous owner's open follow-up tasks
  are cancelled, each with the reason in the change log;
- out of it by any path (claimed, assigned, or an admin's ordinary 转移): its pool entry
  ends, and follow-up plans the plan's task for the new owner.
"""

from __future__ import annotations

import pytest
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from kehu.accounts.models import User
from kehu.core.errors import Http404, ValidationError
from kehu.core.models import ChangeLog
from kehu.customers import selectors as customer_selectors
from kehu.customers.bulk import customers_owner_set
from kehu.customers.models import Customer, CustomerShare
from kehu.customers.services import customer_share, customer_transfer
from kehu.followup.models import FollowUpTask, TaskKind, TaskStatus
from kehu.followup.services import task_create
from kehu.pool.models import MoveKind, PoolEntry, PoolMove
from kehu.pool.services import pool_assign, pool_claim, pool_release
from tests.followup.conftest import plans, set_tier  # noqa: F401 -- the plans fixture
from tests.pool.conftest import later, run_reclaim

pytestmark = pytest.mark.django_db


def sees(user, customer) -> bool:
    """Whether `user`'s next request reads the customer (a fresh user object: the shares
    and pools read for a request are cached on it)."""
    try:
        customer_selectors.customer_get(viewer=User.objects.get(pk=user.pk), pk=customer.pk)
    except Http404:
        return False
    return True


def masked(user, customer) -> bool:
    return getattr(customer_selectors.customer_get(viewer=user, pk=customer.pk), "is_masked", False)


# --- shares ----------------------------------------------------------------------------------


def test_releasing_a_customer_ends_its_shares_said_on_the_timeline_and_in_the_log(
        pool, alice, charlie, alices_customer, login):
    customer_share(actor=alice, origin="manual", customer=alices_customer.pk, user=charlie)
    assert not masked(charlie, alices_customer)
    pool_release(actor=alice, origin="manual", customer=alices_customer.pk, reason="不做了")
    assert not CustomerShare.objects.filter(customer=alices_customer).exists()
    assert not sees(charlie, alices_customer)
    log = ChangeLog.objects.get(action="unshare", customer_id=alices_customer.pk)
    assert (log.actor, log.changes) == (alice, {"shared_with": charlie.pk,
                                                "reason": "释放到公海：不做了"})
    move = PoolMove.objects.get(customer=alices_customer)
    assert move.shares_ended == 1
    card = login(alice.manager).get(reverse("customers:detail", args=[alices_customer.pk]))
    assert "同时结束了 1 个共享" in card.content.decode()


def test_the_reclaim_job_ends_the_shares_of_what_it_reclaims(pool, alice, charlie,
                                                             alices_customer):
    customer_share(actor=alice, origin="manual", customer=alices_customer.pk, user=charlie,
                   level="edit")
    assert run_reclaim(later(31))["回收到公海"] == 1
    assert not sees(charlie, alices_customer)
    assert PoolMove.objects.get(customer=alices_customer).shares_ended == 1
    log = ChangeLog.objects.get(action="unshare", customer_id=alices_customer.pk)
    assert log.origin == "system" and log.changes["reason"] == "自动回收：超过 30 天未跟进"


def test_a_pool_customer_cannot_be_shared_and_an_old_share_ends_with_the_next_run(
        pool, alice, charlie, root, alices_customer):
    pool_release(actor=alice, origin="manual", customer=alices_customer.pk)
    with pytest.raises(ValidationError):
        customer_share(actor=root, origin="manual", customer=alices_customer.pk, user=charlie)
    # A share an earlier Kehu left on a pool customer: the nightly run ends it.
    CustomerShare.objects.create(customer=alices_customer, user=charlie, created_by=alice)
    run_reclaim(later(1))
    assert not CustomerShare.objects.filter(customer=alices_customer).exists()
    assert ChangeLog.objects.filter(action="unshare", customer_id=alices_customer.pk,
                                    changes__reason="客户在公海中").exists()


# --- owners set by other paths ----------------------------------------------------------------


def test_an_admins_transfer_of_a_pool_customer_ends_its_pool_membership(
        pool, alice, bob, root, alices_customer):
    pool_release(actor=alice, origin="manual", customer=alices_customer.pk)
    customer_transfer(actor=root, origin="manual", customer_ids=[alices_customer.pk],
                      to_user=alice, reason="老客户回来了")
    assert not PoolEntry.objects.filter(customer=alices_customer).exists()
    move = PoolMove.objects.filter(customer=alices_customer).latest("id")
    assert (move.kind, move.actor, move.to_user, move.reason) == (
        MoveKind.ASSIGNED, root, alice, "老客户回来了")
    assert not sees(bob, alices_customer)  # no longer in bob's pool
    assert not masked(alice, alices_customer)


def test_every_path_that_sets_an_owner_ends_the_entry_in_its_transaction(
        pool, alice, bob, alices_customer):
    pool_release(actor=alice, origin="manual", customer=alices_customer.pk)
    with pytest.raises(RuntimeError), transaction.atomic():
        customers_owner_set(actor=bob, origin="manual", owners={alices_customer.pk: None},
                            to_user_id=bob.pk)
        assert not PoolEntry.objects.filter(customer=alices_customer).exists()
        raise RuntimeError  # the move rolls back: the entry with it
    assert PoolEntry.objects.filter(customer=alices_customer).exists()
    customers_owner_set(actor=bob, origin="manual", owners={alices_customer.pk: None},
                        to_user_id=bob.pk)
    assert not PoolEntry.objects.filter(customer=alices_customer).exists()


def test_a_claim_or_an_assignment_writes_one_move_not_two(pool, alice, bob, mallory,
                                                          make_customer):
    first, second = make_customer(alice, name="甲公司"), make_customer(alice, name="乙公司")
    for customer in (first, second):
        pool_release(actor=alice, origin="manual", customer=customer.pk)
    pool_claim(actor=bob, origin="manual", customer=first.pk)
    pool_assign(actor=mallory, origin="manual", customer=second.pk, to_user=bob.pk)
    assert list(PoolMove.objects.filter(customer=first).values_list("kind", flat=True)
                .order_by("id")) == [MoveKind.RELEASED, MoveKind.CLAIMED]
    assert list(PoolMove.objects.filter(customer=second).values_list("kind", flat=True)
                .order_by("id")) == [MoveKind.RELEASED, MoveKind.ASSIGNED]


# --- follow-up tasks ------------------------------------------------------------------------


def open_tasks(customer) -> list[tuple[str, int | None]]:
    return list(FollowUpTask.objects.filter(customer=customer, status=TaskStatus.OPEN)
                .order_by("kind").values_list("kind", "assignee_id"))


@pytest.fixture
def followed(alice, alices_customer, plans):  # noqa: F811 -- the imported fixture
    """Alice's A-tier customer, with its plan task and a call she planned herself."""
    from kehu.accounts.services import system_actor
    from kehu.followup.generation import generate

    set_tier(alices_customer, "a")
    generate(actor=system_actor())
    task_create(actor=alice, origin="manual", customer=alices_customer.pk,
                data={"title": "回访", "due_date": timezone.localdate()})
    assert open_tasks(alices_customer) == [(TaskKind.MANUAL, alice.pk), (TaskKind.PLAN, alice.pk)]
    return alices_customer


def test_the_reclaim_cancels_the_previous_owners_open_tasks_with_the_reason(
        pool, alice, followed):
    assert run_reclaim(later(31))["回收到公海"] == 1
    assert open_tasks(followed) == []
    logs = ChangeLog.objects.filter(action="task_cancelled", customer_id=followed.pk)
    assert logs.count() == 2
    assert {log.changes["reason"] for log in logs} == {"自动回收：超过 30 天未跟进"}
    assert {log.origin for log in logs} == {"system"}


def test_a_release_cancels_them_and_the_nightly_generation_plans_nobody_in_the_pool(
        pool, alice, followed):
    from kehu.accounts.services import system_actor
    from kehu.followup.generation import generate

    pool_release(actor=alice, origin="manual", customer=followed.pk, reason="不做了")
    assert open_tasks(followed) == []
    assert ChangeLog.objects.filter(action="task_cancelled", customer_id=followed.pk,
                                    actor=alice, changes__reason="释放到公海：不做了").count() == 2
    generate(actor=system_actor())  # root's plan sees the ownerless customer: still no task
    assert open_tasks(followed) == []


def test_the_member_who_claims_it_gets_the_plans_task(pool, alice, bob, followed):
    pool_release(actor=alice, origin="manual", customer=followed.pk)
    pool_claim(actor=bob, origin="manual", customer=followed.pk)
    assert open_tasks(followed) == [(TaskKind.PLAN, bob.pk)]


def test_an_admins_transfer_out_of_the_pool_plans_the_new_owner_too(
        pool, alice, bob, root, followed):
    pool_release(actor=alice, origin="manual", customer=followed.pk)
    customer_transfer(actor=root, origin="manual", customer_ids=[followed.pk], to_user=bob)
    assert open_tasks(followed) == [(TaskKind.PLAN, bob.pk)]
    assert Customer.objects.get(pk=followed.pk).owner == bob


def test_merging_a_shared_customer_into_a_pool_customer_does_not_carry_the_share_over(
        pool, alice, charlie, root, alices_customer, make_customer):
    from kehu.customers.merge_selectors import merge_preview
    from kehu.customers.merging import customer_merge

    copy = make_customer(alice, name="西湖茶业(杭州)有限责任公司")
    customer_share(actor=alice, origin="manual", customer=copy.pk, user=charlie)
    pool_release(actor=alice, origin="manual", customer=alices_customer.pk)
    preview = merge_preview(viewer=root, survivor=alices_customer.pk, duplicate=copy.pk)
    assert "共享" not in {str(name) for name, _count in preview.moves}
    customer_merge(actor=root, origin="manual", survivor=alices_customer.pk, duplicate=copy.pk)
    assert not CustomerShare.objects.filter(customer=alices_customer).exists()
    assert not sees(charlie, alices_customer)
