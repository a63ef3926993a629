"""A manager's list reads the same customers whichever plan the gate picks for the scope.

The plans (customers.scope_plans) differ in the work they do, never in the rows: a small
team's `owner_id IN (…)`, a large department's walk of the sort index, and the per-owner
branches merged page by page. Each story below pages through a scope with every plan forced
and compares the pages with what the plain rules say the person may see.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from kehu.accounts.models import User
from kehu.accounts.services import user_create
from kehu.customers import scope_plans, selectors, services
from kehu.customers.filters import CustomerFilters
from kehu.customers.models import Customer
from kehu.customers.scope_plans import IN, WALK, ScopeSize
from kehu.pool.services import pool_release, pool_save

PLANS = [(IN, False), (WALK, False), (IN, True), (WALK, True)]


@pytest.fixture
def company(east, south, mallory, alice, bob, charlie, root, make_customer):
    """East: mallory manages alice and bob; south: charlie. 30 customers with clashing times
    (ties on updated_at), one in the east pool, one shared with charlie, one deleted."""
    people = [alice, bob, charlie]
    made = [make_customer(people[n % 3], name=f"客户{n:02d}有限公司") for n in range(30)]
    base = timezone.now() - dt.timedelta(days=1)
    for n, customer in enumerate(made):  # every third pair shares a moment: the id breaks ties
        Customer.objects.filter(pk=customer.pk).update(updated_at=base + dt.timedelta(minutes=n // 2))
    pool = pool_save(actor=root, origin="manual", data={
        "name": "华东公海", "departments": [east.pk], "daily_claims": 2, "reclaim_wait_days": 30})
    pool_release(actor=alice, origin="manual", customer=made[3], reason="久未跟进")
    services.customer_share(actor=alice, origin="manual", customer=made[6], user=charlie)
    services.customer_delete(actor=alice, origin="manual", customer=made[9])
    scope_plans.forget_estimates()
    return {"customers": made, "pool": pool}


def force(monkeypatch, plan: str, branches: bool) -> None:
    monkeypatch.setattr(ScopeSize, "filter_plan", lambda self, through_join=False: plan)
    monkeypatch.setattr(ScopeSize, "wants_branches", lambda self: branches)


def every_page(viewer, limit: int = 4, *, rows: bool = False, **params) -> list[int]:
    """Follow next_cursor to the end, then prev_cursor back, checking both ways agree.

    As a request would, with the viewer read afresh (the org chart, shares and pools are
    cached on the user object, and the fixtures' objects acted before the shares existed)."""
    viewer = User.objects.get(pk=viewer.pk)
    listing = selectors.customer_rows if rows else selectors.customer_list  # the API's, the web's
    filters = CustomerFilters.from_params(params)
    pages, cursor = [], None
    while True:
        page = listing(viewer=viewer, filters=filters, cursor=cursor, limit=limit)
        pages.append([c.pk for c in page.items])
        if not page.next_cursor:
            break
        cursor = page.next_cursor
    back = listing(viewer=viewer, filters=filters, cursor=page.prev_cursor,
                   limit=limit) if page.prev_cursor else None
    if back is not None:
        assert [c.pk for c in back.items] == pages[-2]
    return [pk for page in pages for pk in page]


def expected(viewer, rule) -> list[int]:
    rows = Customer.objects.filter(deleted_at__isnull=True).order_by("-updated_at", "-id")
    return [c.pk for c in rows if rule(c)]


@pytest.mark.parametrize(("plan", "branches"), PLANS)
def test_the_manager_pages_through_the_department_and_the_pool_the_same_way_on_every_plan(
    monkeypatch, company, mallory, alice, bob, plan, branches
):
    force(monkeypatch, plan, branches)
    pooled = company["customers"][3].pk
    want = expected(mallory, lambda c: c.owner_id in {alice.pk, bob.pk, mallory.pk} or c.pk == pooled)
    assert every_page(mallory) == want
    assert every_page(mallory, rows=True) == want
    assert len(want) == 19  # alice 10 - pooled - deleted, bob 10, the pooled one


@pytest.mark.parametrize(("plan", "branches"), PLANS)
def test_a_rep_with_a_share_sees_her_own_and_the_shared_one_on_every_plan(
    monkeypatch, company, charlie, plan, branches
):
    force(monkeypatch, plan, branches)
    shared = company["customers"][6].pk
    want = expected(charlie, lambda c: c.owner_id == charlie.pk or c.pk == shared)
    assert every_page(charlie, limit=3) == want
    assert every_page(charlie, limit=3, rows=True) == want
    assert shared in want


@pytest.mark.parametrize(("plan", "branches"), PLANS)
def test_a_filter_and_the_counts_agree_on_every_plan(
    monkeypatch, company, mallory, alice, bob, plan, branches
):
    force(monkeypatch, plan, branches)
    want = expected(mallory, lambda c: c.owner_id == bob.pk and "1" in c.name)
    assert every_page(mallory, q="1", owner=str(bob.pk), sort="-updated_at") == want
    visible = Customer.objects.visible_to(User.objects.get(pk=mallory.pk))
    assert visible.count() == 19
    assert set(visible.values_list("pk", flat=True)) == set(every_page(mallory, limit=50))


def test_a_new_team_member_shows_up_at_once_whatever_the_estimate_said(
    monkeypatch, company, east, mallory, alice, make_customer
):
    """The sizes are kept a minute; the owners come from the org chart on every request."""
    every_page(mallory)
    newcomer = user_create(username="xin", role_code="sales", department=east, manager=mallory)[0]
    hers = make_customer(newcomer, name="新人的客户")
    assert hers.pk in every_page(mallory)


def test_the_plan_follows_the_shape_of_the_scope():
    def size(owner_rows: int, owners: int, shared: int = 0) -> ScopeSize:
        return ScopeSize(owner_rows=owner_rows, shared=shared, granted_rows=0, owners=owners,
                         table_rows=1_000_000)

    small_team = size(100, owners=3)
    region = size(scope_plans.PROBE_CAP, owners=50)  # the probe stopped counting
    two_busy_reps = size(4_000, owners=3)
    busy_department = size(scope_plans.PROBE_CAP, owners=11)
    sharer = size(1_000, owners=1, shared=500)
    assert (small_team.filter_plan(), small_team.wants_branches()) == (IN, False)
    assert (region.filter_plan(), region.wants_branches()) == (WALK, False)
    # 3 ranges of 51 index entries, where the walk skips ~12,700 entries and IN sorts 4,000 rows
    assert (two_busy_reps.filter_plan(), two_busy_reps.wants_branches()) == (WALK, True)
    # 11 queries cost more than walking past the other owners inside the index
    assert (busy_department.filter_plan(), busy_department.wants_branches()) == (WALK, False)
    assert (sharer.filter_plan(), sharer.wants_branches()) == (IN, True)
    # Orders and tickets reach the owner through a join: a walk pays a customer row per entry
    mid_team = size(2_000, owners=4)
    assert (mid_team.filter_plan(), mid_team.filter_plan(through_join=True)) == (WALK, IN)


@pytest.mark.parametrize("plan", [IN, WALK])
def test_a_managers_orders_and_communications_are_the_same_on_either_plan(db, monkeypatch, plan):
    """Rows of other tables reach their customer's owner through a join; the plan changes
    how the join is driven (from the owners' customers, or along the list's own index)."""
    from kehu.demo import generate
    from kehu.history import selectors as history

    generate(12, seed=3)
    force(monkeypatch, plan, False)
    manager = User.objects.get(username="zhou.min")
    team = set(User.objects.filter(manager=manager).values_list("pk", flat=True)) | {manager.pk}
    for listing, model in ((history.order_list, "orders"), (history.communication_list, "comms")):
        seen, cursor = [], None
        while True:
            page = listing(viewer=User.objects.get(pk=manager.pk), cursor=cursor, limit=7)
            seen += [row.pk for row in page.items]
            if not (cursor := page.next_cursor):
                break
        rows = (history.Order if model == "orders" else history.Communication).objects.filter(
            customer__owner_id__in=team, customer__deleted_at__isnull=True)
        assert sorted(seen) == sorted(rows.values_list("pk", flat=True))
        assert len(seen) == len(set(seen))
        assert seen, model


@pytest.mark.postgres
def test_postgresql_knows_each_owners_share_of_the_customers(db):
    """With the default statistics PostgreSQL guessed a small team's 100 customers at 2,641
    and walked the whole list for them (customers migration 0017)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT attstattarget FROM pg_attribute WHERE attname = 'owner_id' "
                       "AND attrelid = 'customers_customer'::regclass")
        assert cursor.fetchone()[0] == 1000


@pytest.mark.parametrize(("plan", "branches"), PLANS)
def test_a_customer_in_two_branches_is_listed_once_and_no_page_comes_out_short(
    monkeypatch, company, mallory, alice, bob, plan, branches
):
    """Alice shares one of her customers with her manager: it is in the manager's branch of
    alice's customers and in the branch of his shares. The page's best rows are cut across
    the branches in the database; the one customer must take one place there, not two."""
    force(monkeypatch, plan, branches)
    both = company["customers"][27]
    services.customer_share(actor=alice, origin="manual", customer=both, user=mallory)
    pooled = company["customers"][3].pk
    want = expected(mallory, lambda c: c.owner_id in {alice.pk, bob.pk, mallory.pk} or c.pk == pooled)
    for limit in (1, 2, 3):
        assert every_page(mallory, limit=limit) == want
        assert every_page(mallory, limit=limit, rows=True) == want


@pytest.mark.postgres
def test_how_much_of_the_company_a_scope_reaches_comes_from_the_owner_statistics(
        alice, bob, root, make_customer, monkeypatch):
    """Alice owns six customers of eight, Bob two: after ANALYZE her scope reaches three
    quarters of the company, his a quarter, root's all of it. (An owner of one customer is
    not among the statistics' common values: a scope of none of them reaches nothing.)"""
    from django.db import connection

    from kehu.customers.scoping import scope_reach

    for n in range(8):
        make_customer(alice if n < 6 else bob, name=f"客户{n}")
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE customers_customer")
    scope_plans.forget_estimates()  # the statistics read afresh
    assert scope_reach(alice) == pytest.approx(0.75)
    assert scope_reach(bob) == pytest.approx(0.25)
    assert scope_reach(root) == 1.0
