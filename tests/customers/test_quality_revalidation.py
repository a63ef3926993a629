"""Re-validation: the customers' own cleaners run again over every stored customer.

A bad e-mail got into the table by a path that skipped cleaning; an admin makes a custom
field required. The nightly job finds both, in batches, and a worker that dies halfway
resumes after its last committed batch without doing any twice. Fixing the value
through the ordinary edit clears the problem.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import override_settings
from django.utils import timezone

from kehu.accounts.services import system_actor
from kehu.customers import services as customer_services
from kehu.customers.models import Customer
from kehu.customers.quality import jobs as quality_jobs
from kehu.customers.quality import selectors
from kehu.customers.quality.models import CustomerQuality
from kehu.jobs import runner
from kehu.jobs.models import Job, Status
from kehu.jobs.services import job_start, run_here
from kehu.jobs.testing import drain

pytestmark = pytest.mark.django_db

RUN = "customers.quality"


def problems(customer) -> list[dict]:
    row = CustomerQuality.objects.filter(customer_id=customer.pk).first()
    return row.problems if row else []


@pytest.fixture
def book(alice, make_customer):
    """Seven customers of alice's; the fourth holds an e-mail no cleaner would let in."""
    customers = [make_customer(alice, name=f"客户{i}号公司", emails=[f"buyer{i}@tea.cn"])
                 for i in range(7)]
    Customer.objects.filter(pk=customers[3].pk).update(emails=["buyer3@@tea"])
    return customers


def test_the_job_finds_a_bad_stored_email_and_survives_a_restart(book, monkeypatch):
    real = quality_jobs.problems_write
    calls = []

    def dies_on_the_third_batch(rows):
        calls.append([c.pk for c in rows])
        if len(calls) == 3:
            raise SystemExit("the worker is killed")  # mid-batch: nothing of it commits
        return real(rows)

    monkeypatch.setattr(quality_jobs, "problems_write", dies_on_the_third_batch)
    job = job_start(actor=system_actor(), origin="system", kind=RUN,
                    params={"parts": ["problems"], "batch": 2}, queued=False)
    with pytest.raises(SystemExit):
        runner.execute(job.pk)
    job.refresh_from_db()
    assert job.status == Status.RUNNING and job.state["after"] == book[3].pk
    assert job.done == 4 and job.state["invalid"] == 1
    assert problems(book[3])[0]["field"] == "emails"
    assert not CustomerQuality.objects.filter(customer_id__in=[c.pk for c in book[4:]]).exists()

    monkeypatch.setattr(quality_jobs, "problems_write", lambda rows: (
        calls.append([c.pk for c in rows]), real(rows))[1])
    later = timezone.now() + runner.lease() + dt.timedelta(seconds=1)
    assert runner.recover(now=later) == [job.pk]
    drain()
    job.refresh_from_db()
    assert job.status == Status.DONE and job.attempts == 2
    ids = [c.pk for c in book]
    # Each batch once, except the one that died (rolled back and done again).
    assert calls == [ids[0:2], ids[2:4], ids[4:6], ids[4:6], ids[6:7]]
    assert job.done == 7 and job.result == {"有问题的客户": 1}
    assert [p["field"] for p in problems(book[3])] == ["emails"]
    assert "buyer3@@tea" in problems(book[3])[0]["reason"]
    assert all(problems(c) == [] for c in book if c != book[3])


def test_a_second_run_changes_nothing_and_an_edit_clears_the_problem(
        alice, book, django_capture_on_commit_callbacks):
    for _ in range(2):
        job = job_start(actor=system_actor(), origin="system", kind=RUN, queued=False)
        assert run_here(job).status == "done"
        assert CustomerQuality.objects.filter(problem_count__gt=0).count() == 1
    assert selectors.quality_summary(viewer=alice)["total"]["invalid"] == 1

    with override_settings(KEHU_QUALITY_DELAY_SECONDS=1), \
            django_capture_on_commit_callbacks(execute=True):
        customer_services.customer_update(actor=alice, origin="manual", customer=book[3],
                                          data={"emails": ["buyer3@tea.cn"]})
    assert run_here(Job.objects.get(kind="customers.quality_refresh")).status == "done"
    assert problems(book[3]) == []


def test_a_rule_that_changed_is_found_on_customers_written_before_it(root, alice, book):
    customer_services.custom_field_save(actor=root, origin="manual", data={
        "key": "level", "label": "客户等级", "field_type": "choice", "choices": ["A", "B"]})
    customer_services.customer_update(actor=alice, origin="manual", customer=book[0],
                                      data={"custom": {"level": "B"}})
    # Later the admin drops option B and makes the field required.
    field = customer_services.custom_field_save(
        actor=root, origin="manual", field=book[0].custom_values.get().field,
        data={"choices": ["A", "C"], "required": True})
    assert field.required
    job = job_start(actor=system_actor(), origin="system", kind=RUN,
                    params={"parts": ["problems"]}, queued=False)
    run_here(job)
    assert [p["field"] for p in problems(book[0])] == ["custom.level"]
    assert "B" in problems(book[0])[0]["reason"]
    assert [p["field"] for p in problems(book[1])] == ["custom.level"]  # now required, empty
    assert {p["field"] for p in problems(book[3])} == {"emails", "custom.level"}


def test_a_stored_extension_is_not_a_problem(alice, make_customer):
    customer = make_customer(alice, name="分机公司", phones=["021-5888 1234 转 8001"])
    assert customer.phones == ["+862158881234;ext=8001"]
    job = job_start(actor=system_actor(), origin="system", kind=RUN,
                    params={"parts": ["problems"]}, queued=False)
    run_here(job)
    assert problems(customer) == []


def test_the_card_and_the_api_show_the_problems(alice, bob, book, login):
    job = job_start(actor=system_actor(), origin="system", kind=RUN, queued=False)
    run_here(job)
    card = login(alice).get(f"/customers/{book[3].pk}/").content.decode()
    assert "buyer3@@tea" in card and "重新校验发现的问题" in card
    body = login(alice).get(f"/api/v1/customers/{book[3].pk}/quality").json()
    assert body["problems"][0]["field"] == "emails" and body["completeness"] >= 0
    assert {m["key"] for m in body["missing"]} >= {"phone", "contacts"}
    assert login(bob).get(f"/api/v1/customers/{book[3].pk}/quality").status_code == 404
    summary = login(alice).get("/api/v1/quality").json()
    assert summary["total"]["invalid"] == 1 and summary["total"]["customers"] == 7
    assert summary["worst"][0]["id"] in {c.pk for c in book}
    assert login(bob).get("/api/v1/quality").json()["total"]["customers"] == 0
