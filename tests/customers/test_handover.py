"""离职交接: an admin hands a leaving rep's customers to a colleague in one step — each with
its transfer record and change-log row — and may deactivate the leaver at once."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from kehu.accounts.models import SignIn
from kehu.core.errors import PermissionDenied, ValidationError
from kehu.core.models import ChangeLog
from kehu.customers import services
from kehu.customers.handover import handover_run
from kehu.customers.models import Customer, OwnershipTransfer

pytestmark = pytest.mark.django_db


def browser_of(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_a_handover_moves_three_customers_with_history_and_deactivates_the_leaver(
        root, alice, bob, make_customer):
    names = ["甲贸易有限公司", "乙科技有限公司", "丙食品有限公司"]
    for name in names:
        make_customer(alice, name=name)
    gone = make_customer(alice, name="回收站公司")
    services.customer_delete(actor=alice, origin="manual", customer=gone)
    make_customer(bob, name="Bob 自己的客户")
    leaver = Client()
    assert leaver.post(reverse("login"), {"username": "alice",
                                          "password": "alice-pass-123"}).status_code == 302
    admin = browser_of(root)

    preview = admin.get(reverse("handover:start"), {"from_user": alice.pk, "to_user": bob.pk,
                                                    "deactivate": "on"})
    assert preview.status_code == 200
    person_page = admin.get(reverse("team:user_edit", args=[alice.pk])).content.decode()
    assert f'{reverse("handover:start")}?from_user={alice.pk}' in person_page
    assert (preview.context["preview"].customers, preview.context["preview"].in_recycle_bin) == \
        (3, 1)
    assert "将转移 3 个客户" in preview.content.decode()

    done = admin.post(reverse("handover:start"), {"from_user": alice.pk, "to_user": bob.pk,
                                                  "deactivate": "on"}, follow=True)
    assert done.status_code == 200 and "3 个客户交接给 Bob 李" in done.content.decode()
    assert set(Customer.objects.filter(owner=bob).values_list("name", flat=True)) == \
        {*names, "Bob 自己的客户"}
    moves = OwnershipTransfer.objects.filter(from_user=alice, to_user=bob)
    assert moves.count() == 3 and {m.reason for m in moves} == {"离职交接"}
    assert {m.actor_id for m in moves} == {root.pk}
    assert ChangeLog.objects.filter(action="transfer", origin="manual", actor=root).count() == 3
    record = ChangeLog.objects.get(action="handover", object_id=alice.pk)
    assert record.changes["customers"] == 3 and record.changes["in_recycle_bin"] == 1

    alice.refresh_from_db()
    assert not alice.is_active
    assert not SignIn.objects.filter(user=alice).exists()
    assert leaver.get(reverse("customers:list")).status_code == 302  # her session ended


def test_a_handover_without_deactivating_keeps_the_leaver_signed_in(root, alice, bob,
                                                                    make_customer):
    make_customer(alice, name="甲贸易有限公司")
    result = handover_run(actor=root, origin="manual", data={
        "from_user": alice.pk, "to_user": bob.pk, "reason": "调岗"})
    alice.refresh_from_db()
    assert (result.customers, result.deactivated, alice.is_active) == (1, False, True)
    assert OwnershipTransfer.objects.get().reason == "调岗"


def test_a_deactivated_rep_can_still_be_handed_over(root, alice, bob, make_customer):
    make_customer(alice, name="甲贸易有限公司")
    alice.is_active = False
    alice.save(update_fields=["is_active"])
    assert handover_run(actor=root, origin="manual",
                        data={"from_user": alice.pk, "to_user": bob.pk}).customers == 1


def test_every_bad_field_is_named_and_nothing_moves(root, alice, bob, make_customer):
    make_customer(alice, name="甲贸易有限公司")
    bob.is_active = False
    bob.save(update_fields=["is_active"])
    with pytest.raises(ValidationError) as refused:
        handover_run(actor=root, origin="manual", data={"from_user": "", "to_user": bob.pk})
    assert set(refused.value.message_dict) == {"from_user", "to_user"}
    with pytest.raises(ValidationError) as itself:
        handover_run(actor=root, origin="manual", data={"from_user": alice.pk,
                                                        "to_user": alice.pk})
    assert "本人" in itself.value.message_dict["to_user"][0]
    page = browser_of(root).post(reverse("handover:start"), {"from_user": alice.pk})
    assert page.status_code == 400 and page.context["form"].errors["to_user"]
    assert Customer.objects.get().owner == alice


def test_a_failed_deactivation_moves_nothing(root, alice, make_customer):
    """An admin handing over their own customers and deactivating themselves: refused whole."""
    make_customer(root, name="管理员的客户")
    with pytest.raises(ValidationError):
        handover_run(actor=root, origin="manual", data={
            "from_user": root.pk, "to_user": alice.pk, "deactivate": "on"})
    assert Customer.objects.get().owner == root and not OwnershipTransfer.objects.exists()


def test_a_manager_cannot_hand_over(mallory, alice, bob, make_customer):
    make_customer(alice, name="甲贸易有限公司")
    assert browser_of(mallory).get(reverse("handover:start")).status_code == 403
    assert browser_of(mallory).post(reverse("handover:start"), {
        "from_user": alice.pk, "to_user": bob.pk}).status_code == 403
    with pytest.raises(PermissionDenied):
        handover_run(actor=mallory, origin="manual", data={"from_user": alice.pk,
                                                           "to_user": bob.pk})
    assert Customer.objects.get().owner == alice


def test_a_handover_takes_the_leavers_open_deals_and_tasks_along(root, alice, bob, make_customer):
    """Her open deal and her reminder on the customer go to bob; a deal she already won stays
    hers (it is her result), and so does a task on a customer of someone else."""
    from kehu.followup.models import FollowUpTask
    from kehu.followup.services import task_create
    from kehu.history.models import Opportunity
    from kehu.history.opportunities import opportunity_close, opportunity_create

    customer = make_customer(alice, name="交接商机的客户")
    open_deal = opportunity_create(actor=alice, origin="manual", customer=customer,
                                   data={"title": "二期", "amount": "80000"})
    won = opportunity_create(actor=alice, origin="manual", customer=customer,
                             data={"title": "一期", "amount": "50000"})
    opportunity_close(actor=alice, origin="manual", opportunity=won, won=True, reason="签约",
                      expected_version=won.version)
    reminder = task_create(actor=alice, origin="manual", customer=customer.pk,
                           data={"title": "寄合同", "due_date": "2026-12-10"})

    done = handover_run(actor=root, origin="manual", data={"from_user": alice.pk,
                                                           "to_user": bob.pk})

    assert Opportunity.objects.get(pk=open_deal.pk).owner == bob
    assert Opportunity.objects.get(pk=won.pk).owner == alice
    assert FollowUpTask.objects.get(pk=reminder.pk).assignee == bob
    assert done.also == {"opportunities": 1, "tasks": 1}
    record = ChangeLog.objects.get(action="handover", object_id=alice.pk)
    assert (record.changes["opportunities"], record.changes["tasks"]) == (1, 1)
    assert ChangeLog.objects.filter(action="handover", model="history.opportunity",
                                    object_id=open_deal.pk, actor=root).exists()
