"""Exporting from the customer list page: the button, the download, and a big export as a job."""

from __future__ import annotations

import csv
import io
import time

import pytest
from django.urls import reverse

from kehu.core.models import ChangeLog
from kehu.jobs.models import Job, Status
from kehu.transfer.export import services

EXPORT = "transfer:export_customers"


def rows_of(response) -> list[dict]:
    body = b"".join(response.streaming_content)
    return list(csv.DictReader(io.StringIO(body.decode("utf-8-sig"))))


@pytest.fixture
def customers(alice, bob, charlie, make_customer):
    make_customer(alice, name="杭州西湖茶业有限公司", phones=["13812345678"], industry="retail")
    make_customer(alice, name="宁波港口物流有限公司", industry="logistics")
    make_customer(bob, name="苏州园林设计有限公司")
    make_customer(charlie, name="深圳南山科技有限公司")


@pytest.mark.django_db
def test_the_list_offers_export_with_the_current_filter_to_those_who_may(login, alice, anna):
    page = login(alice).get(reverse("customers:list"), {"industry": "retail", "sort": "name"})
    html = page.content.decode()
    assert 'id="export-form"' in html and reverse(EXPORT) in html
    assert 'name="industry" value="retail" form="export-form"' in html
    assert 'name="sort" value="name" form="export-form"' in html
    assert 'name="columns" value="credit_code" checked' in html
    assert 'id="export-form"' not in login(anna).get(reverse("customers:list")).content.decode()


@pytest.mark.django_db
def test_a_rep_downloads_her_filtered_list_and_the_export_is_recorded(login, alice, customers):
    response = login(alice).post(reverse(EXPORT), {"format": "csv", "industry": "retail",
                                                   "columns": ["name", "phones", "industry"]})
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith('attachment; filename="kehu-customers-')
    assert rows_of(response) == [{"客户名称": "杭州西湖茶业有限公司", "电话": "138 1234 5678",
                                  "行业": "批发零售"}]
    log = ChangeLog.objects.get(action="export")
    assert log.actor == alice and log.changes["rows"] == 1
    assert log.changes["filters"] == {"industry": "retail"}


@pytest.mark.django_db
def test_refusals(login, alice, anna, customers):
    assert login(anna).post(reverse(EXPORT), {"format": "csv"}).status_code == 403
    assert login(alice).post(reverse(EXPORT), {"format": "pdf"}).status_code == 400
    assert login(alice).post(reverse(EXPORT), {"industry": "nope"}).status_code == 400
    assert login(alice).get(reverse(EXPORT)).status_code == 405
    assert not ChangeLog.objects.filter(action="export").exists()


def wait_for_job(pk: int, log) -> Job:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        job = Job.objects.get(pk=pk)
        if job.finished:
            return job
        time.sleep(0.1)
    raise AssertionError("the export job did not finish\n" + log.read_text(errors="replace"))


@pytest.mark.django_db(transaction=True)
def test_a_big_export_runs_as_her_job_and_only_she_downloads_it(
        login, alice, bob, customers, worker, worker_log, monkeypatch):
    monkeypatch.setattr(services, "DIRECT_LIMIT", 1)  # two rows are "big" here
    response = login(alice).post(reverse(EXPORT), {"format": "csv"})
    job = Job.objects.get(kind="transfer.export")
    assert response.status_code == 302 and response.url == reverse("jobs:detail", args=[job.pk])
    worker()
    job = wait_for_job(job.pk, worker_log)
    assert job.status == Status.DONE, job.error
    assert job.actor == alice and job.done == job.total == 2
    file = job.files.get()
    url = reverse("jobs:file", args=[job.pk, file.pk])
    names = {r["客户名称"] for r in rows_of(login(alice).get(url))}
    assert names == {"杭州西湖茶业有限公司", "宁波港口物流有限公司"}  # her scope, in the worker too
    assert login(bob).get(url).status_code == 404
    assert ChangeLog.objects.get(action="export").actor == alice
