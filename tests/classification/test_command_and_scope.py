"""The command line and people's sight: an admin classifies from the shell (a dry run first),
and a rep's RFM grid, a rule's preview and the classification API stay within the rep's own
customers."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from kehu.accounts.services import token_create
from kehu.classification.models import ClassChange, CustomerClass, Dimension, DimensionValue
from kehu.classification.previews import rule_preview
from kehu.classification.selectors import rfm_grid
from kehu.history.models import Order

pytestmark = pytest.mark.django_db


def order(customer, days_ago: int, total: int) -> None:
    Order.objects.create(customer=customer, number=f"S{Order.objects.count() + 1}",
                         ordered_on=timezone.localdate() - dt.timedelta(days=days_ago),
                         status="paid", total=Decimal(total))


@pytest.fixture
def two_books(alice, charlie, make_customer):
    """Alice's three customers and Charlie's two, each with orders this year."""
    mine = [make_customer(alice, name=f"华东{i}") for i in range(3)]
    theirs = [make_customer(charlie, name=f"华南{i}") for i in range(2)]
    for i, customer in enumerate(mine + theirs):
        order(customer, 5 + i, 10_000 * (i + 1))
    return mine, theirs


def test_an_admin_dry_runs_then_classifies_from_the_shell(root, two_books, capsys):
    call_command("classify", "--dry-run")
    out = capsys.readouterr().out
    assert "预览（未写入）" in out and "尚未计算" in out
    assert "价值等级：变动" in out
    assert not CustomerClass.objects.exists() and not ClassChange.objects.exists()

    call_command("classify")
    assert "分类完成" in capsys.readouterr().out
    assert CustomerClass.objects.filter(dimension__key="value_tier").count() == 5

    call_command("classify", "--dry-run")  # nothing left to change
    out = capsys.readouterr().out
    for dimension in Dimension.objects.filter(is_active=True):
        assert f"{dimension.name}：变动 0，" in out


def test_a_reps_grid_and_preview_count_only_her_customers(root, alice, two_books):
    call_command("classify")
    mine, theirs = two_books
    assert sum(c["customers"] for c in rfm_grid(viewer=alice)["cells"]) == 3
    assert sum(c["customers"] for c in rfm_grid(viewer=root)["cells"]) == 5

    vip = DimensionValue.objects.get(dimension__key="value_tier", key="vip")
    draft = {"name": "VIP：近一年消费 ≥ ¥20,000", "value": vip.pk, "priority": 1,
             "condition": {"field": "rfm.monetary", "op": "gte", "value": 20_000}}
    hers, everyone = rule_preview(viewer=alice, data=draft), rule_preview(viewer=root, data=draft)
    assert hers["changed"] == 2 and everyone["changed"] == 4
    named = {e["id"] for change in hers["changes"] for e in change["examples"]}
    assert named == {mine[1].pk, mine[2].pk}


def test_the_api_answers_a_rep_for_her_customer_and_404_for_another(alice, two_books):
    call_command("classify")
    mine, theirs = two_books
    secret = token_create(user=alice, name="test")[1]
    client = Client(headers={"authorization": f"Bearer {secret}"})
    answer = client.get(f"/api/v1/customers/{mine[2].pk}/classification").json()
    tier = next(p for p in answer if p["dimension"] == "value_tier")
    assert tier["value"] == "a" and tier["rule"] and tier["reasons"] and not tier["manual"]
    rfm = client.get(f"/api/v1/customers/{mine[2].pk}/rfm").json()
    assert rfm["frequency"] == 1 and rfm["monetary"] == "30000.00" and rfm["r"] is not None
    for path in ("classification", "rfm"):
        assert client.get(f"/api/v1/customers/{theirs[0].pk}/{path}").status_code == 404
    grid = client.get("/api/v1/analytics/rfm").json()
    assert grid["customers"] == 3


def test_the_list_shows_each_customers_classes_and_rfm(alice, two_books, login):
    call_command("classify")
    mine, _theirs = two_books
    page = login(alice).get("/customers/").content.decode()
    assert 'data-col="classes"' in page and 'data-col="rfm"' in page  # in the column menu
    assert 'data-default-hidden="source created_at rfm"' in page  # RFM shown on demand
    row = page[page.index(f"/customers/{mine[2].pk}/"):]
    row = row[:row.index("</tr>")]
    assert 'class="value-chip"' in row and "A 类" in row and 'title="价值等级"' in row
    assert re.search(r'class="col-rfm"><span class="cell-part" title="[^"]+">R[1-5] F[1-5] M[1-5]<', row)
