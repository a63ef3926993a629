"""Writers recording at once, each in its own connection and transaction, still make one
chain in id order (the head row locked with SELECT … FOR UPDATE on PostgreSQL; SQLite's
IMMEDIATE transactions take turns)."""

from __future__ import annotations

import threading

import pytest
from django.db import connection, transaction

from kehu.audit import chain, services
from kehu.audit.models import Action, AuditEntry

pytestmark = pytest.mark.django_db(transaction=True)

THREADS, EACH = 4, 10


def test_concurrent_writers_make_one_verifiable_chain(alice):
    barrier = threading.Barrier(THREADS)
    failures: list[BaseException] = []

    def write(n: int) -> None:
        try:
            barrier.wait()
            for i in range(EACH):
                with transaction.atomic():  # as a service would: the entry in its transaction
                    services.record(alice, Action.VIEWED, customer_id=n, label=f"{n}-{i}")
        except BaseException as exc:  # noqa: BLE001 -- reported below
            failures.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=write, args=(n,)) for n in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not failures, failures
    verdict = chain.verify()
    recorded = AuditEntry.objects.filter(action=Action.VIEWED).count()
    assert recorded == THREADS * EACH
    assert verdict.ok, verdict
    assert verdict.count == AuditEntry.objects.count()
