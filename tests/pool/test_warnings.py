"""The owner is warned `warn_days` before a customer goes back: one notification, once per
customer and idle clock — also when the job runs twice, or dies mid-unit and runs again."""

from __future__ import annotations

import pytest
from django.db import transaction

from kehu.accounts.services import system_actor
from kehu.history import services as history
from kehu.notifications.models import Notification
from kehu.pool import reclaim as reclaim_module
from kehu.pool.models import PoolWarning
from kehu.pool.reclaim import reclaim
from tests.pool.conftest import later, run_reclaim

pytestmark = pytest.mark.django_db


def bell(user) -> list[Notification]:
    return list(Notification.objects.filter(recipient=user).order_by("id"))


def test_the_warning_is_sent_once_even_when_the_job_runs_twice(pool, alice, alices_customer):
    assert run_reclaim(later(24))["提醒负责人"] == 0  # not yet within 5 days
    assert run_reclaim(later(26))["提醒负责人"] == 1
    assert run_reclaim(later(27))["提醒负责人"] == 0
    notes = bell(alice)
    assert len(notes) == 1
    assert notes[0].title == "1 个客户将在 5 天内回到公海"
    assert "杭州西湖茶业有限公司" in notes[0].body and "华东公海" in notes[0].body
    assert notes[0].link == f"/customers/{alices_customer.pk}/"


def test_a_contact_restarts_the_clock_and_allows_a_new_warning(pool, alice, alices_customer):
    run_reclaim(later(26))
    history.communication_log(actor=alice, customer=alices_customer, origin="manual", data={
        "channel": "phone", "occurred_at": later(27)})
    assert run_reclaim(later(31))["回收到公海"] == 0
    assert run_reclaim(later(53))["提醒负责人"] == 1
    assert len(bell(alice)) == 2
    assert PoolWarning.objects.filter(customer=alices_customer).count() == 2


def test_a_unit_that_fails_after_notifying_warns_once_on_the_rerun(pool, alice, alices_customer,
                                                                   monkeypatch):
    real = reclaim_module._notify_owner

    def notify_then_die(*args, **kwargs):
        real(*args, **kwargs)
        raise RuntimeError("worker killed")

    monkeypatch.setattr(reclaim_module, "_notify_owner", notify_then_die)
    with pytest.raises(RuntimeError), transaction.atomic():
        reclaim(first=0, last=10**9, actor=system_actor(), now=later(26))
    assert bell(alice) == [] and not PoolWarning.objects.exists()  # rolled back together
    monkeypatch.setattr(reclaim_module, "_notify_owner", real)
    with transaction.atomic():
        assert reclaim(first=0, last=10**9, actor=system_actor(), now=later(26))["warned"] == 1
    with transaction.atomic():
        assert reclaim(first=0, last=10**9, actor=system_actor(), now=later(26))["warned"] == 0
    assert len(bell(alice)) == 1


@pytest.mark.django_db(transaction=True)
def test_the_job_runs_as_a_worker_runs_it_outside_any_transaction(pool, alice, alices_customer):
    """Each unit commits with its checkpoint (the worker's autocommit connection), twice:
    the second run moves and warns nobody."""
    assert run_reclaim(later(26))["提醒负责人"] == 1
    assert run_reclaim(later(31))["回收到公海"] == 1
    assert run_reclaim(later(31)) == {"回收到公海": 0, "提醒负责人": 0}
    assert len(bell(alice)) == 1
