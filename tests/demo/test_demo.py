"""The demo generator: reproducible, valid, and scoped like real data."""

from __future__ import annotations

import datetime as dt

import pytest

from kehu.accounts.models import User
from kehu.core.errors import Http404
from kehu.customers import selectors
from kehu.customers.models import Contact, Customer
from kehu.customers.normalizers import normalize_credit_code, normalize_email, normalize_phone
from kehu.demo import STEPS, Batch, DemoContext, Step, generate
from kehu.demo.customers import customers_step
from kehu.demo.load import create_indexes, drop_indexes, indexes_set_aside
from tests.demo.fingerprint import index_definitions

NOW = dt.datetime(2026, 6, 1, tzinfo=dt.UTC)


def snapshot() -> list[tuple]:
    """Every demo row in a form that does not depend on database ids."""
    customers = [
        (c.kind, c.name, c.name_pinyin, c.province, c.city, c.district, c.phones, c.emails,
         c.credit_code, c.owner.username, c.created_at, c.updated_at, c.deleted_at,
         sorted(t.name for t in c.tags.all()),
         [(k.name, k.phones, k.email, k.is_primary) for k in c.contacts.order_by("id")])
        for c in Customer.objects.select_related("owner").prefetch_related("tags")
        .order_by("id")
    ]
    return customers


@pytest.mark.django_db
def test_the_same_seed_gives_the_same_customers_and_another_seed_does_not():
    generate(60, 7, now=NOW)
    first = snapshot()
    Customer.objects.all().delete()
    generate(60, 7, now=NOW)
    assert snapshot() == first
    Customer.objects.all().delete()
    generate(60, 8, now=NOW)
    assert snapshot() != first


@pytest.mark.django_db
def test_every_phone_email_and_credit_code_passes_the_customer_validation():
    generate(300, 3, now=NOW)
    customers = list(Customer.objects.all())
    assert len(customers) == 300
    for customer in customers:
        for phone in customer.phones:
            assert normalize_phone(phone) == phone
        for email in customer.emails:
            assert normalize_email(email) == email
        assert normalize_credit_code(customer.credit_code) == customer.credit_code
        assert customer.origin == "demo"
        assert customer.created_at <= customer.updated_at <= NOW
    companies = [c for c in customers if c.kind == "company"]
    assert sum(bool(c.credit_code) for c in companies) > len(companies) // 2
    for contact in Contact.objects.all():
        assert [normalize_phone(p) for p in contact.phones] == contact.phones
        if contact.email:
            assert normalize_email(contact.email) == contact.email


@pytest.mark.django_db
def test_every_company_has_exactly_one_primary_contact_and_people_have_none():
    generate(120, 5, now=NOW)
    for customer in Customer.objects.prefetch_related("contacts"):
        primaries = [c for c in customer.contacts.all() if c.is_primary]
        assert len(primaries) == (1 if customer.kind == "company" else 0)


@pytest.mark.django_db
def test_the_demo_team_has_an_admin_two_managers_eight_reps_and_an_analyst():
    generate(10, 1, now=NOW)
    roles = {u.username: u.role.code for u in User.objects.select_related("role")}
    assert sorted(roles.values()) == sorted(["admin", "manager", "manager", "analyst"] + ["sales"] * 8)
    for rep in User.objects.filter(role__code="sales").select_related("manager", "department"):
        assert rep.manager.role.code == "manager"
        assert rep.department == rep.manager.department
        assert rep.department.parent.name == "总部"


@pytest.mark.django_db
def test_a_demo_rep_sees_only_their_own_customers():
    generate(200, 2, now=NOW)
    wang = User.objects.get(username="wang.fang")
    visible = list(selectors.customers_visible(viewer=wang))
    assert visible and all(c.owner_id == wang.pk for c in visible)
    assert len(visible) == Customer.objects.filter(owner=wang, deleted_at__isnull=True).count()
    someone_elses = Customer.objects.exclude(owner=wang).first()
    with pytest.raises(Http404):
        selectors.customer_get(viewer=wang, pk=someone_elses.pk)
    manager = User.objects.get(username="zhou.min")
    team = set(User.objects.filter(manager=manager).values_list("pk", flat=True))
    seen = {c.owner_id for c in selectors.customers_visible(viewer=manager)}
    assert seen and seen <= team | {manager.pk}


@pytest.mark.django_db
def test_running_the_demo_twice_reuses_the_team_and_adds_customers():
    first = generate(30, 1, now=NOW)
    second = generate(30, 2, now=NOW)
    assert first.user_ids == second.user_ids
    assert second.customer_ids.start == first.customer_ids.stop
    assert Customer.objects.count() == 60


@pytest.mark.django_db
def test_a_registered_step_writes_each_batch_in_its_transaction_after_the_batchs_customers():
    prepared: list[DemoContext] = []
    batches: list[Batch] = []

    def prepare(ctx: DemoContext):
        assert not batches  # once, before the first batch
        prepared.append(ctx)

        def write(batch: Batch) -> None:
            assert Customer.objects.filter(pk__in=batch.ids).count() == len(batch.ids)
            batches.append(batch)

        return write

    step = Step("probe", prepare)
    STEPS.append(step)
    try:
        ctx = generate(25, 4, now=NOW, batch_size=10)
    finally:
        STEPS.remove(step)
    assert prepared == [ctx]
    assert [b.index for b in batches] == [0, 1, 2]
    assert [i for b in batches for i in b.ids] == list(ctx.customer_ids)
    assert len(ctx.customer_ids) == 25 == ctx.customers
    assert set(Customer.objects.values_list("pk", flat=True)) == set(ctx.customer_ids)
    assert ctx.rep_ids and set(ctx.rep_ids) <= set(ctx.user_ids)
    assert batches[1].rng_for("probe").random() == Batch(1, range(0), 4).rng_for("probe").random()
    assert batches[1].rng_for("probe").random() != batches[2].rng_for("probe").random()


@pytest.mark.django_db
def test_indexes_set_aside_for_a_big_load_come_back_exactly_as_the_migrations_made_them():
    tables = [model for step in [customers_step, *STEPS] for model in step.models]
    before = index_definitions(tables)
    with indexes_set_aside(*tables):
        during = index_definitions(tables)
        assert during != before
        drop_indexes(*tables)  # setting them aside again drops what is still there: nothing
        assert index_definitions(tables) == during
    assert index_definitions(tables) == before
    create_indexes(*tables)  # and creating them again creates nothing
    assert index_definitions(tables) == before
