"""The kanban at a million customers: its column heads come from tallies the database keeps
(history.tallies), its cards a page at a time. Whatever is written, every viewer's heads are
exactly what a plain count over the rows they can see gives, and a recount equals what was kept.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db.models import Count, Sum

from kehu.accounts.models import User
from kehu.customers import services as customer_services
from kehu.customers.merging import customer_merge, customer_merge_undo
from kehu.history import selectors, services, tallies
from kehu.history.models import Opportunity, Pipeline, Stage, StageTally
from kehu.pool.models import PoolStageTally
from kehu.pool.services import pool_claim, pool_release, pool_save

pytestmark = pytest.mark.django_db


@pytest.fixture
def pipeline(db):
    return Pipeline.objects.get(is_default=True)


def stage(pipeline, name):
    return Stage.objects.get(pipeline=pipeline, name=name)


def fresh(user):
    """The person as a new request sees them (access and shares are cached on the object)."""
    return User.objects.get(pk=user.pk)


def heads(viewer, pipeline, owner_id=None):
    """What the board shows at the top of each column: {stage name: (count, amount)}."""
    viewer = fresh(viewer)
    return {c.stage.name: (c.count, c.amount) for c in
            selectors.opportunity_board(viewer=viewer, pipeline=pipeline, owner_id=owner_id)
            if c.count or c.amount}


def counted(viewer, pipeline, owner_id=None):
    """The same, counted the plain way: every opportunity the viewer can see, grouped."""
    viewer = fresh(viewer)
    qs = Opportunity.objects.visible_to(viewer).filter(pipeline=pipeline)
    if owner_id is not None:
        qs = qs.filter(owner_id=owner_id)
    rows = qs.values("stage__name").annotate(n=Count("id"), amount=Sum("amount")).order_by()
    return {r["stage__name"]: (r["n"], r["amount"].quantize(Decimal("0.01"))) for r in rows}


def deal(actor, customer, title, amount, **data):
    return services.opportunity_create(actor=actor, origin="manual", customer=customer,
                                       data={"title": title, "amount": amount, **data})


def test_every_viewer_sees_the_counts_of_exactly_their_rows_through_a_story_of_writes(
    root, alice, bob, charlie, mallory, anna, east, alices_customer, make_customer, pipeline
):
    people = [root, alice, bob, charlie, mallory, anna]

    def all_agree(note):
        for viewer in people:
            assert heads(viewer, pipeline) == counted(viewer, pipeline), (note, viewer.username)
        assert heads(mallory, pipeline, alice.pk) == counted(mallory, pipeline, alice.pk), note
        assert tallies.stage_tallies_drift() == [], note

    bobs = make_customer(bob, name="无锡机械制造有限公司")
    charlies = make_customer(charlie, name="广州茶叶贸易有限公司")
    a = deal(alice, alices_customer, "龙井年单", "100.10")
    b = deal(alice, alices_customer, "茶具", "50.25")
    c = deal(bob, bobs, "机床", "30000")
    d = deal(charlie, charlies, "普洱", "8.88")
    all_agree("created")
    assert heads(alice, pipeline) == {stage(pipeline, "初步接洽").name: (2, Decimal("150.35"))}
    assert heads(charlie, pipeline) == {"初步接洽": (1, Decimal("8.88"))}

    services.opportunity_move(actor=alice, origin="manual", opportunity=a,
                              stage=stage(pipeline, "需求确认"))
    services.opportunity_update(actor=alice, origin="manual", opportunity=b, data={"amount": "75"})
    services.opportunity_close(actor=bob, origin="manual", opportunity=c, won=True, reason="签约")
    all_agree("moved, changed, won")

    # a share lets alice see charlie's deal; nobody else in 华东区 does
    customer_services.customer_share(actor=charlie, customer=charlies, user=alice, origin="manual")
    all_agree("shared")
    assert heads(alice, pipeline)["初步接洽"] == (2, Decimal("83.88"))
    assert heads(mallory, pipeline)["初步接洽"] == (1, Decimal("75.00"))

    # bob's customer handed to alice, then deleted (to the recycle bin) and restored
    customer_services.customer_transfer(actor=mallory, customer_ids=[bobs.pk], to_user=alice,
                                        origin="manual")
    all_agree("transferred")
    customer_services.customer_delete(actor=mallory, customer=bobs, origin="manual")
    all_agree("deleted")
    assert "赢单" not in heads(root, pipeline)
    customer_services.customer_restore(actor=mallory, pk=bobs.pk, origin="manual")
    all_agree("restored")

    # a duplicate of alice's customer merged into it, and the merge undone
    twin = make_customer(alice, name="杭州西湖茶业有限公司（重复）")
    deal(alice, twin, "重复的商机", "12")
    merge = customer_merge(actor=root, origin="manual", survivor=alices_customer, duplicate=twin)
    all_agree("merged")
    customer_merge_undo(actor=root, origin="manual", merge=merge)
    all_agree("merge undone")

    # alice's customer to 华东公海: her colleagues see its deals through the pool's grant
    pool_save(actor=root, origin="manual", data={"name": "华东公海", "departments": [east.pk]})
    pool_release(actor=alice, origin="manual", customer=alices_customer, reason="不跟了")
    all_agree("released to the pool")
    assert heads(bob, pipeline)["需求确认"] == (1, Decimal("100.10"))
    assert "需求确认" not in heads(charlie, pipeline)

    # while the customer is in the pool: a new deal, one moved, the customer deleted and back
    in_pool = deal(root, alices_customer, "公海里的新商机", "9.99")
    all_agree("a deal added to a pool customer")
    services.opportunity_move(actor=root, origin="manual", opportunity=in_pool,
                              stage=stage(pipeline, "方案报价"))
    all_agree("a pool customer's deal moved")
    customer_services.customer_delete(actor=root, customer=alices_customer, origin="manual")
    all_agree("a pool customer deleted")
    assert "方案报价" not in heads(bob, pipeline)
    customer_services.customer_restore(actor=root, pk=alices_customer.pk, origin="manual")
    all_agree("a pool customer restored")
    assert PoolStageTally.objects.aggregate(n=Sum("opportunities"))["n"] == 3

    # bob claims it: its deals leave the pool's figures and count under bob
    pool_claim(actor=fresh(bob), origin="manual", customer=alices_customer)
    all_agree("claimed from the pool")
    assert PoolStageTally.objects.aggregate(n=Sum("opportunities"))["n"] == 0
    assert heads(bob, pipeline)["方案报价"] == (1, Decimal("9.99"))

    services.opportunity_delete(actor=charlie, origin="manual", opportunity=d)
    all_agree("deleted a deal")


def test_a_pool_members_board_adds_the_pools_deals_from_the_pools_own_tally(
    root, alice, bob, east, alices_customer, pipeline
):
    deal(alice, alices_customer, "龙井年单", "100")
    pool_save(actor=root, origin="manual", data={"name": "华东公海", "departments": [east.pk]})
    pool_release(actor=alice, origin="manual", customer=alices_customer, reason="不跟了")
    assert heads(bob, pipeline) == {"初步接洽": (1, Decimal("100.00"))}
    PoolStageTally.objects.update(opportunities=5)  # so the answer can only come from here
    assert heads(bob, pipeline) == {"初步接洽": (5, Decimal("100.00"))}
    with pytest.raises(CommandError, match="kehu stage-tallies --rebuild"):
        call_command("stage-tallies")
    call_command("stage-tallies", rebuild=True)
    assert heads(bob, pipeline) == {"初步接洽": (1, Decimal("100.00"))}


def test_a_recount_from_scratch_equals_what_the_triggers_kept(
    alice, bob, alices_customer, make_customer, pipeline
):
    bobs = make_customer(bob, name="无锡机械制造有限公司")
    for n in range(5):
        deal(alice, alices_customer, f"商机{n}", f"{n}9.99")
        deal(bob, bobs, f"机床{n}", "1000")
    moved = Opportunity.objects.filter(customer=bobs).first()
    services.opportunity_move(actor=bob, origin="manual", opportunity=moved,
                              stage=stage(pipeline, "方案报价"))
    customer_services.customer_transfer(actor=bob, customer_ids=[bobs.pk], to_user=alice,
                                        origin="manual")
    kept = tallies.stage_tallies_kept()
    assert sum(n for n, _ in kept.values()) == 10
    tallies.stage_tallies_rebuild()
    assert tallies.stage_tallies_kept() == kept
    call_command("stage-tallies")  # says they agree


def test_tallies_gone_wrong_are_found_and_rebuilt_by_the_command(alice, alices_customer, pipeline):
    deal(alice, alices_customer, "龙井年单", "100")
    StageTally.objects.update(opportunities=7)  # as if a write had gone around the triggers
    with pytest.raises(CommandError, match="kehu stage-tallies --rebuild"):
        call_command("stage-tallies")
    call_command("stage-tallies", rebuild=True)
    assert heads(alice, pipeline) == {"初步接洽": (1, Decimal("100.00"))}


def test_the_weighted_value_is_the_amount_at_the_stages_chance(alice, alices_customer, pipeline):
    first = stage(pipeline, "初步接洽")
    deal(alice, alices_customer, "龙井年单", "1000")
    deal(alice, alices_customer, "茶具", "333.33")
    column = next(c for c in selectors.opportunity_board(viewer=alice, pipeline=pipeline)
                  if c.stage == first)
    assert column.weighted == (Decimal("1333.33") * first.probability / 100).quantize(Decimal("0.01"))


def test_a_long_column_shows_twenty_cards_and_loads_the_rest_by_keyset(
    alice, bob, alices_customer, make_customer, pipeline, login
):
    for n in range(25):
        deal(alice, alices_customer, f"商机{n:02d}", "10")
    deal(bob, make_customer(bob, name="无锡机械制造有限公司"), "别人的商机", "10")
    first = stage(pipeline, "初步接洽")
    column = selectors.opportunity_board(viewer=alice, pipeline=pipeline)[0]
    assert (column.count, len(column.opportunities)) == (25, 20)
    client = login(alice)
    board = client.get("/history/board/").content.decode()
    assert board.count('class="h-card"') == 20 and "data-load-more" in board
    assert "商机24" in board and "商机04" not in board  # the most recently touched first
    cursor = column.page.next_cursor
    more = client.get(f"/history/board/stages/{first.pk}/", {"cursor": cursor},
                      headers={"HX-Request": "true"}).content.decode()
    assert more.count('class="h-card"') == 5 and "data-load-more" not in more
    assert "商机04" in more and "商机00" in more and "别人的商机" not in more


def test_the_board_of_one_owner_counts_and_shows_only_their_deals(
    alice, bob, mallory, alices_customer, make_customer, pipeline, login
):
    deal(alice, alices_customer, "龙井年单", "100")
    deal(bob, make_customer(bob, name="无锡机械制造有限公司"), "机床", "30000")
    page = login(mallory).get("/history/board/", {"owner": bob.pk}).content.decode()
    assert "机床" in page and "龙井年单" not in page
    assert f'<option value="{alice.pk}"' in page and f'<option value="{bob.pk}" selected' in page
    assert heads(mallory, pipeline, bob.pk) == {"初步接洽": (1, Decimal("30000.00"))}
    assert login(mallory).get("/history/board/", {"owner": "bob"}).status_code == 400


def test_another_teams_column_loads_nothing_of_theirs(alice, charlie, make_customer, pipeline, login):
    deal(charlie, make_customer(charlie, name="广州茶叶贸易有限公司"), "普洱", "8")
    first = stage(pipeline, "初步接洽")
    page = login(alice).get(f"/history/board/stages/{first.pk}/").content.decode()
    assert "普洱" not in page and 'class="h-card"' not in page
