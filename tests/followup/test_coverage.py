"""Coverage (监控效果): of a plan's customers, the share contacted within its cadence — per
rep, team and plan, inside the viewer's gate, on the agenda page (issue 12, item 6)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from kehu.accounts.services import system_actor
from kehu.followup.coverage import coverage, coverage_refresh
from kehu.followup.generation import generate
from kehu.history.services import communication_log
from tests.followup.conftest import set_tier

pytestmark = pytest.mark.django_db


@pytest.fixture
def book(alice, make_customer, plans):
    """alice's two A customers (every 30 days): one called 10 days ago, one 40 days ago."""
    called, idle = make_customer(alice, name="联系过的客户"), make_customer(alice, name="没联系的客户")
    for customer, days in ((called, 10), (idle, 40)):
        set_tier(customer, "a")
        communication_log(actor=alice, customer=customer, origin="manual", data={
            "channel": "phone", "occurred_at": timezone.now() - dt.timedelta(days=days)})
    generate(actor=system_actor())
    coverage_refresh()
    return plans


def test_a_rep_sees_her_share_and_a_manager_sees_it_per_rep_and_plan(alice, mallory, charlie,
                                                                    book):
    mine = coverage(viewer=alice)
    assert (mine["all"].contacted, mine["all"].total, mine["all"].percent) == (1, 2, 50)
    assert mine["people"] == []
    assert [(plan.name, share.percent) for plan, share in mine["plans"]] == [("A 类客户", 50)]
    team = coverage(viewer=mallory)
    assert [(user, share.percent) for user, share in team["people"]] == [(alice, 50)]
    assert coverage(viewer=charlie)["all"].total == 0  # not her customers


def test_the_figure_moves_with_the_clock_and_shows_on_the_agenda(alice, mallory, book, login):
    page = login(alice).get(reverse("followup:today")).content.decode()
    assert "跟进覆盖率 <strong>50%</strong>" in page
    team = login(mallory).get(reverse("followup:today") + "?tab=team").content.decode()
    assert "跟进覆盖率" in team and "Alice 王" in team


def test_the_snapshot_moves_with_the_clock_and_a_rerun_writes_the_same(alice, book):
    later = timezone.now() + dt.timedelta(days=25)
    assert coverage_refresh(now=later) == coverage_refresh(now=later) == 1  # alice's A line
    shown = coverage(viewer=alice)
    assert (shown["all"].contacted, shown["all"].total, shown["as_of"]) == (0, 2, later)



def test_a_deleted_customer_is_not_counted(alice, book):
    from kehu.customers.models import Customer
    from kehu.customers.services import customer_delete

    customer_delete(actor=alice, origin="manual", customer=Customer.objects.get(name="没联系的客户"))
    coverage_refresh()
    share = coverage(viewer=alice)["all"]
    assert (share.contacted, share.total) == (1, 1)


def test_before_the_first_snapshot_there_is_no_figure(alice, plans):
    assert coverage(viewer=alice) == {"as_of": None, "all": coverage(viewer=alice)["all"],
                                      "plans": [], "people": []}
    assert coverage(viewer=alice)["all"].total == 0


def test_the_api_reads_the_same_figures(alice, mallory, book, api_as):
    mine = api_as(alice).request("GET", "/followup/coverage", None).json()
    assert (mine["all"], mine["people"]) == ({"total": 2, "contacted": 1, "percent": 50}, [])
    assert [(p["plan"], p["percent"]) for p in mine["plans"]] == [("A 类客户", 50)]
    team = api_as(mallory).request("GET", "/followup/coverage", None).json()
    assert [(p["user_id"], p["percent"]) for p in team["people"]] == [(alice.pk, 50)]
