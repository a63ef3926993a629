"""Claims racing each other (PostgreSQL: SQLite's writers take turns by design): two members
claiming one customer — one gets it, the other is told it left the pool; one person claiming
two customers at once with one claim left today — one succeeds, the other names the limit."""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from kehu.core.errors import Http404, ValidationError
from kehu.customers.models import Customer
from kehu.pool.models import MoveKind, PoolMove
from kehu.pool.services import pool_claim
from tests.pool.conftest import later, run_reclaim

pytestmark = pytest.mark.django_db(transaction=True)


def race(calls) -> list[str]:
    """Run the calls at once, each in its own connection; what each said ("ok" or the error)."""
    barrier = threading.Barrier(len(calls))
    said: list[str] = []

    def run(call):
        try:
            barrier.wait()
            call()
            said.append("ok")
        except ValidationError as exc:
            said.append(" ".join(m for ms in exc.message_dict.values() for m in ms))
        except Http404:
            said.append("404")
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(call,)) for call in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sorted(said)


@pytest.fixture
def postgres_only():
    if connection.vendor == "sqlite":
        pytest.skip("two concurrent writers need PostgreSQL")


def test_two_members_claiming_one_customer_at_once(postgres_only, pool, alice, bob, mallory,
                                                   alices_customer):
    run_reclaim(later(31))
    now = later(32)
    said = race([lambda who=who: pool_claim(actor=who, origin="manual",
                                            customer=alices_customer.pk, now=now)
                 for who in (bob, mallory)])
    # The loser is told it left the pool — or, when mallory won, bob (who sees only his
    # own customers) no longer sees it at all: 404, as for any customer out of his sight.
    assert said in (["ok", "该客户已不在公海中"], ["404", "ok"]), said
    assert Customer.objects.get(pk=alices_customer.pk).owner_id in (bob.pk, mallory.pk)
    assert PoolMove.objects.filter(kind=MoveKind.CLAIMED).count() == 1


def test_one_person_claiming_two_at_once_with_one_claim_left(postgres_only, pool, alice, bob,
                                                             make_customer):
    customers = [make_customer(alice, name=f"客户{i}") for i in range(3)]
    run_reclaim(later(31))
    now = later(32)
    pool_claim(actor=bob, origin="manual", customer=customers[0].pk, now=now)  # 1 of 2 today
    said = race([lambda c=c: pool_claim(actor=bob, origin="manual", customer=c.pk, now=now)
                 for c in customers[1:]])
    assert said[0] == "ok" and said[1].startswith("今日已从“华东公海”领取 2 个客户")
    assert Customer.objects.filter(owner=bob).count() == 2
