"""Key rotation run by a real worker that is killed with -9 halfway through, then restarted:
every value ends under the new key, none is lost or doubled, and the old key can go.

The test commits (transaction=True) so the `kehu worker` processes, which open the same test
database and queue (kehu.jobs.testing.worker_env), see the data; they get the same keys
through their environment.
"""

from __future__ import annotations

import base64
import os
import secrets
import signal

import pytest

from kehu.accounts.services import system_actor
from kehu.customers import selectors
from kehu.customers.bulk import NewCustomer, customers_bulk_create
from kehu.customers.filters import CustomerFilters
from kehu.customers.models import Contact, Customer
from kehu.customers.rekeying import REKEY_JOB, key_status
from kehu.jobs.models import Job, Status
from kehu.jobs.services import job_start
from tests.jobs.test_worker_process import wait_for

pytestmark = pytest.mark.django_db(transaction=True)

CUSTOMERS = 5000  # ten batches of 500
K_OLD, K_NEW, INDEX = (base64.b64encode(secrets.token_bytes(32)).decode() for _ in range(3))
FIELDS = "phones,emails,wechat"


def people(count: int) -> list[NewCustomer]:
    return [NewCustomer(values={"kind": "person", "name": f"客户{i}",
                                "phones": [f"+86138{i:08d}"], "emails": [f"c{i}@rot.example.cn"],
                                "wechat": f"wx_rot_{i:06d}"},
                        owner_id=0,
                        contact={"name": f"联系人{i}", "phones": [f"+86137{i:08d}"],
                                 "email": f"t{i}@rot.example.cn"})
            for i in range(count)]


def test_a_rotation_killed_halfway_finishes_after_a_restart(settings, alice, worker, worker_log):
    settings.KEHU_ENCRYPTION_KEYS, settings.KEHU_BLIND_INDEX_KEY = K_OLD, INDEX
    settings.KEHU_ENCRYPT_FIELDS = FIELDS.split(",")
    items = people(CUSTOMERS)
    for item in items:
        item.owner_id = alice.pk
    for start in range(0, CUSTOMERS, 1000):
        customers_bulk_create(actor=alice, origin="import", items=items[start:start + 1000])
    old = next(iter(key_status()["customers_customer.phones"]))

    settings.KEHU_ENCRYPTION_KEYS = f"{K_NEW},{K_OLD}"
    env = {"KEHU_ENCRYPTION_KEYS": f"{K_NEW},{K_OLD}", "KEHU_BLIND_INDEX_KEY": INDEX,
           "KEHU_ENCRYPT_FIELDS": FIELDS}
    job = job_start(actor=system_actor(), origin="system", kind=REKEY_JOB)
    first = worker(**env)
    wait_for(lambda: 0.2 * CUSTOMERS <= Job.objects.get(pk=job.pk).done <= 0.8 * CUSTOMERS,
             seconds=300, what="the rotation to be between 20% and 80% done", log=worker_log)
    os.killpg(first.pid, signal.SIGKILL)  # the whole worker, mid-batch, no clean-up
    first.wait(timeout=10)

    interrupted = Job.objects.get(pk=job.pk)
    assert interrupted.status == Status.RUNNING
    after = interrupted.state["after"]
    new = next(kid for kid in key_status()["customers_customer.phones"] if kid not in
               (old, "plain"))
    done_rows = Customer.objects.filter(pk__lte=after).count()
    assert key_status()["customers_customer.phones"] == {
        new: done_rows, old: CUSTOMERS - done_rows, "plain": 0}  # whole batches, no more

    worker(**env)
    done = wait_for(lambda: (j := Job.objects.get(pk=job.pk)).finished and j, seconds=300,
                    what="the rotation to finish", log=worker_log)
    assert done.status == Status.DONE, done.error
    assert done.attempts == 2 and done.done == done.total == CUSTOMERS
    status = key_status()
    filled = ("customers_customer.phones", "customers_customer.emails",
              "customers_customer.wechat", "customers_contact.phones", "customers_contact.email")
    assert {label: status[label] for label in filled} == {
        label: {new: CUSTOMERS, "plain": 0} for label in filled}
    assert status["customers_contact.wechat"] == {"plain": 0}  # none written

    settings.KEHU_ENCRYPTION_KEYS = K_NEW  # the old key removed: everything still opens
    assert sorted(Customer.objects.values_list("wechat", flat=True)) == sorted(
        f"wx_rot_{i:06d}" for i in range(CUSTOMERS))
    assert Contact.objects.filter(email__endswith="@rot.example.cn").count() == 0  # sealed
    assert len({e for (e,) in Contact.objects.values_list("email")}) == CUSTOMERS
    page = selectors.customer_list(viewer=alice,
                                   filters=CustomerFilters.from_params({"q": "13700004321"}))
    assert [c.name for c in page.items] == ["客户4321"]
