"""The demo loader as a background job: killed at any moment, resumed, every batch done once.

A crash is simulated by raising from `on_batch`, which runs inside the batch's
transaction: that batch rolls back, exactly as when the worker is killed before the
commit. The job runner's checkpoint is what `on_batch` last saw without raising.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection

import kehu.demo
from kehu.customers.models import Contact, Customer, Tag
from kehu.customers.services import customer_create, tag_get_or_create
from kehu.demo import STEPS, batches_for, generate
from kehu.demo import load as demo_load
from kehu.demo.customers import customers_step
from kehu.history.models import Order
from tests.demo.fingerprint import fingerprint, index_definitions, wipe

NOW = dt.datetime(2026, 6, 1, tzinfo=dt.UTC)
SIZE, CUSTOMERS = 40, 150  # four batches, the last one short


class Killed(Exception):
    """The worker died before the batch committed."""


class JobRunner:
    """A job runner in miniature: saves a checkpoint in every batch, may be killed in one."""

    def __init__(self, *, killed_in_batch: int | None = None) -> None:
        self.killed_in_batch = killed_in_batch
        self.batches, self.first_id = 0, None

    def on_batch(self, done: int, total: int, first_id: int) -> None:
        if done - 1 == self.killed_in_batch:
            raise Killed
        self.batches, self.first_id = done, first_id

    def run(self, seed: int = 7) -> kehu.demo.DemoContext:
        return generate(CUSTOMERS, seed, now=NOW, batch_size=SIZE, start_batch=self.batches,
                        first_id=self.first_id, on_batch=self.on_batch)


def uninterrupted(seed: int = 7) -> dict:
    ctx = JobRunner().run(seed)
    data = fingerprint(ctx.customer_ids.start)
    wipe()
    return data


@pytest.mark.django_db
def test_the_same_seed_gives_the_same_customers_contacts_and_history_and_another_seed_does_not():
    first = uninterrupted()
    assert first["counts"]["customers"] == CUSTOMERS
    assert first["counts"]["Order"] > 4 * CUSTOMERS and first["counts"]["contacts"] > CUSTOMERS // 2
    assert uninterrupted() == first
    assert uninterrupted(seed=8)["customers"] != first["customers"]


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("killed_in_batch", [0, 1, 3])
def test_a_run_killed_in_a_batch_resumes_there_and_ends_with_exactly_the_uninterrupted_data(
        killed_in_batch):
    expected = uninterrupted()
    job = JobRunner(killed_in_batch=killed_in_batch)
    with pytest.raises(Killed):
        job.run()
    # The killed batch left nothing behind; the batches before it are committed.
    assert job.batches == killed_in_batch
    assert Customer.objects.count() == killed_in_batch * SIZE
    if killed_in_batch:
        assert Order.objects.filter(customer_id__gte=job.first_id + killed_in_batch * SIZE).count() == 0
    job.killed_in_batch = None
    ctx = job.run()
    assert job.batches == batches_for(CUSTOMERS, SIZE) == 4
    assert sorted(Customer.objects.values_list("pk", flat=True)) == list(ctx.customer_ids)
    numbers = list(Order.objects.values_list("number", flat=True))
    assert len(numbers) == len(set(numbers))
    assert fingerprint(ctx.customer_ids.start) == expected


@pytest.mark.django_db(transaction=True)
def test_the_checkpoint_written_in_on_batch_commits_with_its_batch_or_not_at_all():
    seen = []

    def on_batch(done: int, total: int, first_id: int) -> None:
        assert connection.in_atomic_block
        batch = range(first_id + (done - 1) * SIZE, min(first_id + done * SIZE, first_id + CUSTOMERS))
        assert Customer.objects.filter(pk__in=batch).count() == len(batch)  # its rows are in
        assert Order.objects.filter(customer_id__in=batch).exists()
        tag_get_or_create(name=f"检查点 {done}/{total}")
        seen.append(done)
        if done == 3:
            raise Killed

    with pytest.raises(Killed):
        generate(CUSTOMERS, 7, now=NOW, batch_size=SIZE, on_batch=on_batch)
    assert seen == [1, 2, 3]
    assert set(Tag.objects.filter(name__startswith="检查点").values_list("name", flat=True)) == {
        "检查点 1/4", "检查点 2/4"}
    assert Customer.objects.count() == 2 * SIZE


@pytest.mark.django_db(transaction=True)
def test_a_big_run_killed_with_its_indexes_dropped_ends_with_every_index_back(monkeypatch):
    tables = [model for step in [customers_step, *STEPS] for model in step.models]
    migrated = index_definitions(tables)
    expected = uninterrupted()
    monkeypatch.setattr(kehu.demo, "SET_INDEXES_ASIDE_FROM", 100)
    present_during_the_load = []
    job = JobRunner(killed_in_batch=2)
    job_on_batch = job.on_batch

    def on_batch(done: int, total: int, first_id: int) -> None:
        present_during_the_load.append(index_definitions(tables))
        job_on_batch(done, total, first_id)

    job.on_batch = on_batch
    # kill -9 runs no `finally`: the indexes stay dropped.
    with monkeypatch.context() as crash:
        crash.setattr(demo_load, "create_indexes", lambda *models: None)
        with pytest.raises(Killed):
            job.run()
    assert index_definitions(tables) == present_during_the_load[0] != migrated
    # Killed again while rebuilding, after the customers' indexes came back.
    demo_load.create_indexes(Customer, Contact)
    job.killed_in_batch = None
    ctx = job.run()
    assert index_definitions(tables) == migrated
    assert all(during == present_during_the_load[0] for during in present_during_the_load)
    assert fingerprint(ctx.customer_ids.start) == expected


@pytest.mark.django_db(transaction=True)
def test_a_run_killed_after_its_last_batch_only_rebuilds_the_indexes(monkeypatch):
    tables = [model for step in [customers_step, *STEPS] for model in step.models]
    migrated = index_definitions(tables)
    monkeypatch.setattr(kehu.demo, "SET_INDEXES_ASIDE_FROM", 100)
    job = JobRunner()
    with monkeypatch.context() as crash:
        crash.setattr(demo_load, "create_indexes", lambda *models: None)
        job.run()
    assert index_definitions(tables) != migrated
    orders = Order.objects.count()
    job.run()
    assert (Customer.objects.count(), Order.objects.count()) == (CUSTOMERS, orders)
    assert index_definitions(tables) == migrated


@pytest.mark.django_db(transaction=True)
def test_customers_the_app_creates_during_a_load_never_take_an_id_the_run_owns(root):
    created = []

    def on_batch(done: int, total: int, first_id: int) -> None:
        created.append(customer_create(actor=root, origin="manual",
                                       data={"kind": "company", "name": f"客户{done}"}))

    ctx = generate(CUSTOMERS, 7, now=NOW, batch_size=SIZE, on_batch=on_batch)
    assert all(customer.pk >= ctx.customer_ids.stop for customer in created)
    assert Customer.objects.count() == CUSTOMERS + len(created)


@pytest.mark.django_db
def test_a_resume_needs_the_runs_first_id_and_a_batch_of_the_run():
    with pytest.raises(ValueError, match="first_id"):
        generate(CUSTOMERS, 7, now=NOW, batch_size=SIZE, start_batch=1)
    with pytest.raises(ValueError, match="start_batch"):
        generate(CUSTOMERS, 7, now=NOW, batch_size=SIZE, start_batch=5, first_id=1)
    assert not Customer.objects.exists()


def test_batches_for_counts_the_last_short_batch():
    assert [batches_for(n, 1000) for n in (0, 1, 1000, 1001, 100_000)] == [0, 1, 1, 2, 100]
