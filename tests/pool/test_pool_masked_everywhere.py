"""A pool customer is masked for a member wherever its data shows, as on its card and the
list: in the order and communication exports, on the duplicates page (the pair's reasons
name the shared phone) and on the merge page. Alice released 西湖茶业 to the pool; Bob
(a member) has not claimed it."""

from __future__ import annotations

import csv
import io

import pytest

from kehu.accounts.models import Role
from kehu.accounts.services import user_create
from kehu.customers.filters import CustomerFilters
from kehu.customers.jobs import DEDUP_JOB
from kehu.customers.merge_selectors import merge_preview
from kehu.history import services as history
from kehu.jobs.services import job_start, run_here
from kehu.pool.services import pool_release
from kehu.transfer.export.selectors import HistoryFilters
from kehu.transfer.export.services import export_communications, export_orders

pytestmark = pytest.mark.django_db

CREDIT = "91110000802100433B"


@pytest.fixture
def pooled(pool, alice, alices_customer, product):
    history.order_create(actor=alice, origin="manual", customer=alices_customer, data={
        "number": "SO-TEA-1", "ordered_on": "2025-01-15", "status": "paid",
        "lines": [{"product": "M-1", "quantity": "1"}]})
    history.communication_log(actor=alice, origin="manual", customer=alices_customer, data={
        "occurred_at": "2025-03-10T09:30:00+08:00", "channel": "phone", "subject": "春茶"})
    pool_release(actor=alice, origin="manual", customer=alices_customer.pk, reason="不做了")
    return alices_customer


def exported(user, target: str) -> list[dict]:
    stream = io.BytesIO()
    run = export_orders if target == "orders" else export_communications
    run(actor=user, origin="manual", filters=CustomerFilters.from_params({}),
        history=HistoryFilters.from_params({}), fmt="csv", stream=stream)
    return list(csv.DictReader(io.StringIO(stream.getvalue().decode("utf-8-sig"))))


@pytest.mark.parametrize("target", ["orders", "communications"])
def test_a_member_exports_a_pool_customers_history_with_its_credit_code_masked(
        pooled, bob, target):
    rows = exported(bob, target)
    assert [r["客户"] for r in rows] == ["杭州西湖茶业有限公司"]  # he sees it: it is in his pool
    assert rows[0]["客户统一社会信用代码"] == "9111**********433B"


@pytest.mark.parametrize("target", ["orders", "communications"])
def test_once_he_claims_it_his_export_shows_every_digit(pooled, bob, target):
    from kehu.pool.services import pool_claim

    pool_claim(actor=bob, origin="manual", customer=pooled.pk)
    assert exported(bob, target)[0]["客户统一社会信用代码"] == CREDIT


def test_an_admin_exports_a_pool_customer_unmasked(pooled, root):
    assert exported(root, "orders")[0]["客户统一社会信用代码"] == CREDIT


def test_the_duplicates_page_masks_the_phone_two_pool_customers_share(
        pool, alice, root, make_customer, login):
    tea = make_customer(alice, name="杭州西湖茶业有限公司", phones=["13812345678"])
    copy = make_customer(alice, name="西湖茶业(杭州)有限责任公司", phones=["13812345678"])
    for customer in (tea, copy):
        pool_release(actor=alice, origin="manual", customer=customer.pk)
    assert run_here(job_start(actor=root, origin="manual", kind=DEDUP_JOB,
                              queued=False)).status == "done"
    bob = user_create(username="bob2", role_code="sales", department=alice.department,
                      display_name="Bob 二", password="bob2-pass-123")[0]
    page = login(bob).get("/customers/duplicates/").content.decode()
    assert tea.name in page and copy.name in page  # the pair is his to see
    assert "138****5678" in page and "13812345678" not in page
    admin_page = login(root).get("/customers/duplicates/").content.decode()
    assert "+8613812345678" in admin_page  # an admin reads it whole


def test_the_duplicates_page_masks_reasons_for_a_masking_role(
        alice, anna, root, make_customer, login):
    make_customer(alice, name="杭州西湖茶业有限公司", phones=["13812345678"])
    make_customer(alice, name="西湖茶业(杭州)有限责任公司", phones=["13812345678"])
    run_here(job_start(actor=root, origin="manual", kind=DEDUP_JOB, queued=False))
    page = login(anna).get("/customers/duplicates/").content.decode()
    assert "138****5678" in page and "13812345678" not in page


def test_the_merge_page_shows_a_pool_customer_masked_to_a_member_who_may_merge(
        pool, alice, east, make_customer):
    """A director (whole company, writes, not an admin) in the pool's department may manage
    pool customers; the merge page masks them as their card does."""
    Role.objects.create(code="director", name="总监", data_scope="all", can_write=True)
    dora = user_create(username="dora", role_code="director", department=east,
                       display_name="Dora", password="dora-pass-123")[0]
    tea = make_customer(alice, name="杭州西湖茶业有限公司", phones=["13812345678"],
                        emails=["buyer@xihu-tea.cn"])
    copy = make_customer(alice, name="西湖茶业(杭州)有限责任公司", phones=["13900001111"])
    pool_release(actor=alice, origin="manual", customer=tea.pk)
    preview = merge_preview(viewer=dora, survivor=copy.pk, duplicate=tea.pk)
    shown = {row.key: row.theirs for row in preview.rows}
    assert "138****5678" in shown["phones"] and "13812345678" not in shown["phones"]
    assert shown["emails"] == "b***@xihu-tea.cn"


def test_kehu_dedup_as_a_member_prints_the_pool_pairs_reasons_masked(
        pool, alice, bob, make_customer, capsys):
    from django.core.management import call_command

    for name in ("杭州西湖茶业有限公司", "西湖茶业(杭州)有限责任公司"):
        customer = make_customer(alice, name=name, phones=["13812345678"])
        pool_release(actor=alice, origin="manual", customer=customer.pk)
    call_command("dedup", "--as", "bob")
    out = capsys.readouterr().out
    assert "138****5678" in out and "13812345678" not in out and "共 1 对" in out
    call_command("dedup")  # the whole table, on the server: as the finder wrote it
    assert "+8613812345678" in capsys.readouterr().out
