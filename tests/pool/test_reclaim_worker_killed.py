"""The nightly reclaim killed with kill -9 in the middle of a range, and resumed by a new
worker: the range before it stays committed, the one it died in is done again from the
start — every customer moved once, its owner warned once, its share ended once."""

from __future__ import annotations

import os
import signal

import pytest
from django.db import connection

from kehu.accounts.services import system_actor
from kehu.core.models import ChangeLog
from kehu.customers.models import Customer, OwnershipTransfer
from kehu.customers.services import customer_share
from kehu.history import services as history
from kehu.jobs.models import Job
from kehu.jobs.services import job_start
from kehu.notifications.models import Notification
from kehu.pool.jobs import RANGE, RECLAIM_JOB
from kehu.pool.models import PoolEntry, PoolMove, PoolWarning
from tests.pool.conftest import later

pytestmark = pytest.mark.django_db(transaction=True)


def customers_of_two_ranges(alice, make_customer):
    """In the job's first range of ids and in its second: one idle past the threshold (30
    days at the job's clock) and one contacted 26 days before it (within the 5 days'
    warning) in each."""
    first = [make_customer(alice, name="甲一公司"), make_customer(alice, name="甲二公司")]
    with connection.cursor() as cursor:  # the next ids in the second range
        cursor.execute("SELECT setval(pg_get_serial_sequence('customers_customer', 'id'), %s)",
                       [RANGE + 10])
    second = [make_customer(alice, name="乙一公司"), make_customer(alice, name="乙二公司")]
    for customer in (first[1], second[1]):
        history.communication_log(actor=alice, customer=customer, origin="manual",
                                  data={"channel": "phone", "occurred_at": later(5)})
    return first, second


def test_a_reclaim_killed_mid_range_resumes_and_moves_and_warns_each_customer_once(
        pool, alice, charlie, make_customer, worker, worker_log):
    if connection.vendor == "sqlite":  # SQLite's writer holds the only write lock:
        pytest.skip("nothing outside can hold a SQLite writer mid-transaction")
    import psycopg

    from tests.jobs.test_worker_process import wait_for

    (idle_a, warned_a), (idle_b, warned_b) = customers_of_two_ranges(alice, make_customer)
    customer_share(actor=alice, origin="manual", customer=idle_b.pk, user=charlie)
    db = connection.settings_dict
    blocker = psycopg.connect(host=db["HOST"], port=db["PORT"], dbname=db["NAME"],
                              user=db["USER"], password=db["PASSWORD"] or None)

    def waiting_on_a_lock() -> int:
        with connection.cursor() as cursor:  # autocommit: a fresh view of pg_stat_activity
            cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = "
                           "current_database() AND wait_event_type = 'Lock'")
            return cursor.fetchone()[0]

    try:
        # The second range's idle customer is locked: its range's transaction stops at
        # clearing the owner, its pool entry and transfer record written, not committed.
        blocker.execute("SELECT id FROM customers_customer WHERE id = %s FOR UPDATE",
                        [idle_b.pk])
        first = worker()
        job = job_start(actor=system_actor(), origin="system", kind=RECLAIM_JOB,
                        params={"now": later(31).isoformat()})
        wait_for(waiting_on_a_lock, what="the worker held in the second range", log=worker_log)
        os.killpg(first.pid, signal.SIGKILL)
        first.wait(timeout=10)
    finally:
        blocker.rollback()
        blocker.close()
    wait_for(lambda: not waiting_on_a_lock(), what="the dead worker's session to end")
    # The first range committed with its checkpoint; nothing of the second did.
    assert set(PoolEntry.objects.values_list("customer_id", flat=True)) == {idle_a.pk}
    assert set(PoolWarning.objects.values_list("customer_id", flat=True)) == {warned_a.pk}
    assert Job.objects.get(pk=job.pk).state["units"] == 1
    worker()
    again = wait_for(lambda: (j := Job.objects.get(pk=job.pk)).finished and j,
                     what="the reclaim job, resumed", log=worker_log)
    assert again.status == "done" and again.attempts == 2
    assert again.result == {"回收到公海": 2, "提醒负责人": 2}
    moved = {idle_a.pk, idle_b.pk}
    assert sorted(PoolEntry.objects.values_list("customer_id", flat=True)) == sorted(moved)
    assert sorted(PoolMove.objects.values_list("customer_id", flat=True)) == sorted(moved)
    assert sorted(OwnershipTransfer.objects.filter(to_user=None)
                  .values_list("customer_id", flat=True)) == sorted(moved)
    assert set(Customer.objects.filter(owner=None).values_list("pk", flat=True)) == moved
    assert sorted(PoolWarning.objects.values_list("customer_id", flat=True)) == sorted(
        [warned_a.pk, warned_b.pk])
    assert Notification.objects.filter(recipient=alice).count() == 2  # one per range's warning
    assert ChangeLog.objects.filter(action="unshare", customer_id=idle_b.pk).count() == 1
