"""Exporting orders and communications from the web and the command line: the orders page's
button, the customer list's choice of what to export, a big export as a job, and `kehu
export orders|communications` with its one-line refusals."""

from __future__ import annotations

import csv
import io

import pytest
from django.urls import reverse

from kehu import cli
from kehu.core.models import ChangeLog
from kehu.jobs.models import Job, Status
from kehu.transfer.export import services
from tests.transfer.test_export_history import LONG_NUMBER, book, catalogue  # noqa: F401
from tests.transfer.test_export_web import wait_for_job

ORDERS = "transfer:export_orders"
FROM_LIST = "transfer:export_customers"
pytestmark = pytest.mark.usefixtures("book")  # tests/transfer/test_export_history.py


def rows_of(response) -> list[dict]:
    body = b"".join(response.streaming_content)
    return list(csv.DictReader(io.StringIO(body.decode("utf-8-sig"))))


@pytest.mark.django_db
def test_the_orders_page_offers_an_export_of_what_it_shows(login, alice, anna):
    html = login(alice).get(reverse("history:orders"), {"status": "paid"}).content.decode()
    assert 'id="order-export-form"' in html and reverse(ORDERS) in html
    assert 'name="status" value="paid" form="order-export-form"' in html
    rows = login(alice).get(reverse("history:orders"), {"status": "paid"},
                            headers={"HX-Request": "true"}).content.decode()
    assert 'name="status" value="paid" form="order-export-form"' in rows  # kept on a swap
    assert "order-export-form" not in login(anna).get(reverse("history:orders")).content.decode()


@pytest.mark.django_db
def test_the_customer_list_offers_customers_orders_or_communications(login, alice):
    html = login(alice).get(reverse("customers:list")).content.decode()
    for value, label in [("customers", "客户"), ("orders", "订单"),
                         ("communications", "沟通记录")]:
        assert f'name="target" value="{value}"' in html and label in html


@pytest.mark.django_db
def test_a_rep_downloads_the_paid_order_lines_of_the_orders_page(login, alice):
    response = login(alice).post(reverse(ORDERS), {"format": "csv", "status": "paid"})
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith('attachment; filename="kehu-orders-')
    rows = rows_of(response)
    assert [(r["订单号"], r["产品编号"], r["状态"]) for r in rows] == [
        (LONG_NUMBER, "0012345", "已付款"), (LONG_NUMBER, "TEA-PE-357", "已付款")]
    log = ChangeLog.objects.get(action="export")
    assert log.changes["target"] == "orders" and log.changes["filters"] == {"status": "paid"}


@pytest.mark.django_db
def test_the_communications_of_the_customers_in_the_list(login, mallory):
    response = login(mallory).post(reverse(FROM_LIST), {
        "format": "csv", "target": "communications", "industry": "logistics",
        "columns": ["name"]})  # the list's column chooser is for customers only
    rows = rows_of(response)
    assert [(r["客户"], r["主题"]) for r in rows] == [("宁波港口物流有限公司", "询价")]
    assert ChangeLog.objects.get(action="export").changes["filters"] == {"industry": "logistics"}


@pytest.mark.django_db
def test_refusals(login, alice, anna):
    assert login(anna).post(reverse(ORDERS), {"format": "csv"}).status_code == 403
    assert login(alice).post(reverse(FROM_LIST), {"target": "invoices"}).status_code == 400
    assert login(alice).post(reverse(ORDERS), {"from": "去年"}).status_code == 400
    assert login(alice).post(reverse(ORDERS), {"status": "lost"}).status_code == 400
    assert login(alice).get(reverse(ORDERS)).status_code == 405
    assert not ChangeLog.objects.filter(action="export").exists()


@pytest.mark.django_db(transaction=True)
def test_a_big_order_export_runs_as_her_job_with_every_line(
        login, alice, worker, worker_log, monkeypatch):
    monkeypatch.setattr(services, "DIRECT_LIMIT", 1)  # three lines are "big" here
    response = login(alice).post(reverse(ORDERS), {"format": "csv"})
    job = Job.objects.get(kind="transfer.export")
    assert response.status_code == 302 and response.url == reverse("jobs:detail", args=[job.pk])
    worker()
    job = wait_for_job(job.pk, worker_log)
    assert job.status == Status.DONE, job.error
    assert job.done == job.total == 3
    file = job.files.get()
    rows = rows_of(login(alice).get(reverse("jobs:file", args=[job.pk, file.pk])))
    assert [r["订单号"] for r in rows] == [LONG_NUMBER, LONG_NUMBER, "SO-PORT-1"]
    assert ChangeLog.objects.get(action="export").changes["rows"] == 3


@pytest.mark.django_db
def test_the_cli_writes_the_orders_of_the_filtered_customers(tmp_path, capsys, mallory):
    out = tmp_path / "orders.csv"
    status = cli.main(["export", "orders", "--as", "mallory", "--industry", "retail",
                       "--from", "2025-01-01", "--to", "2025-12-31", "-o", str(out)])
    assert status in (0, None)
    rows = list(csv.DictReader(io.StringIO(out.read_text("utf-8-sig"))))
    assert {r["订单号"] for r in rows} == {LONG_NUMBER} and len(rows) == 2
    assert f"已导出 2 行到 {out}" in capsys.readouterr().out
    xlsx = tmp_path / "calls.xlsx"
    assert cli.main(["export", "communications", "--as", "mallory", "-o", str(xlsx)]) in (0, None)
    assert ChangeLog.objects.filter(action="export").count() == 2


@pytest.mark.django_db
@pytest.mark.parametrize(("argv", "message"), [
    (["invoices"], "没有这种导出：invoices"),
    (["orders", "--format", "pdf"], "--format 只能是 csv 或 xlsx"),
    (["orders", "--from", "去年"], "from: “去年” 不是日期"),
    (["communications", "--columns", "customer,salary"], "没有这些列：salary"),
    (["communications", "--status", "paid"], "--status 只用于导出订单"),
    (["orders", "--status", "shipped"], "status: “shipped” 不是可选值"),
])
def test_cli_refusals_are_one_line(tmp_path, capsys, alice, argv, message):
    status = cli.main(["export", *argv, "--as", "alice", "-o", str(tmp_path / "x.csv")])
    assert status == 1
    err = capsys.readouterr().err
    assert err.startswith("错误：") and message in err and len(err.strip().splitlines()) == 1
    assert not ChangeLog.objects.filter(action="export").exists()
