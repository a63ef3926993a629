"""A person writes in about her data (个人信息权利请求): the admin logs the request with how
her identity was checked, finds everything held on her by phone, e-mail or name (the phone
sealed in the database, found through its blind index), confirms which records are hers,
hands her a copy, erases her through the background job and closes the request.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
from pathlib import Path

import pytest
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from kehu.audit import chain
from kehu.core.errors import ValidationError
from kehu.customers.models import Customer
from kehu.history.models import Order
from kehu.jobs.models import Job, JobFile
from kehu.jobs.services import job_start, run_here
from kehu.notifications.models import Notification
from kehu.privacy import requests as subject_requests
from kehu.privacy.finding import find_person, subjects_of
from kehu.privacy.jobs import DUE_JOB, RETENTION_JOB
from kehu.privacy.report import report_json, subject_report
from tests.privacy.story import EMAIL, NAME, PHONE, traces_in_files, traces_in_tables

pytestmark = pytest.mark.django_db

REQUEST = {"kind": "erasure", "requester": NAME, "requester_contact": PHONE,
           "identity_check": "来电回拨预留手机号核实，身份证后四位一致", "details": "要求删除全部信息"}


def open_request(admin, **changes):
    return subject_requests.request_open(actor=admin, origin="manual",
                                         data={**REQUEST, **changes})


def test_the_whole_request_from_log_to_erasure(xiaomei, root, media,
                                               django_capture_on_commit_callbacks):
    request = open_request(root)
    assert request.due_on == timezone.localdate() + dt.timedelta(days=30)

    by_phone = find_person(viewer=root, data={"phone": "+86 139-1234-5678"})
    assert [m.key for m in by_phone] == [f"customer:{xiaomei.pk}"]
    by_mail = find_person(viewer=root, data={"email": EMAIL.upper()})
    assert [m.customer.pk for m in by_mail] == [xiaomei.pk]
    by_name = find_person(viewer=root, data={"name": NAME})
    assert f"customer:{xiaomei.pk}" in [m.key for m in by_name]

    request = subject_requests.request_set_subjects(actor=root, origin="manual", request=request,
                                                    picks=[m.key for m in by_phone])
    assert [m.customer.pk for m in subjects_of(request.subjects)] == [xiaomei.pk]

    sections = subject_report(viewer=root, request=request)
    copy = json.loads(report_json(sections, request))
    titles = [s["title"] for s in copy["sections"]]
    assert any("订单" in t for t in titles) and any("沟通" in t for t in titles), titles
    assert NAME in json.dumps(copy, ensure_ascii=False)  # her copy holds her data

    total_before = Order.objects.get(customer=xiaomei).total
    with django_capture_on_commit_callbacks(execute=True):
        job = subject_requests.request_erase(actor=root, origin="manual", request=request,
                                             reason="本人书面要求删除", queued=False)
        job = run_here(job)
    assert job.status == "done", job.error
    assert traces_in_tables() == [] and traces_in_files(media) == []
    assert Order.objects.get(customer=xiaomei).total == total_before
    request.refresh_from_db()
    assert request.erased_at is not None and request.requester == "（已删除）"
    assert chain.verify().ok

    request = subject_requests.request_close(actor=root, origin="manual", request=request,
                                             status="done", outcome="已匿名化，电话告知本人")
    assert request.status == "done" and request.closed_by == root
    with pytest.raises(ValidationError) as closed:
        subject_requests.request_close(actor=root, origin="manual", request=request,
                                       status="done", outcome="再来一次")
    assert "status" in closed.value.error_dict


def test_a_second_erasure_run_skips_what_is_gone(xiaomei, root, media,
                                                 django_capture_on_commit_callbacks):
    request = open_request(root)
    request = subject_requests.request_set_subjects(
        actor=root, origin="manual", request=request, picks=[f"customer:{xiaomei.pk}"])
    with django_capture_on_commit_callbacks(execute=True):
        first = run_here(subject_requests.request_erase(
            actor=root, origin="manual", request=request, reason="本人要求", queued=False))
    again = run_here(job_start(actor=root, origin="manual", kind=first.kind, queued=False,
                               params=first.params))
    assert again.status == "done"
    assert again.result == {"已匿名化": 0, "此前已匿名化": 1}
    assert chain.verify().ok


def test_every_bad_field_of_a_request_is_named_at_once(root):
    future = (timezone.localdate() + dt.timedelta(days=3)).isoformat()
    with pytest.raises(ValidationError) as bad:
        open_request(root, kind="forget-me", requester=" ", identity_check="",
                     received_on=future, colour="red")
    assert set(bad.value.error_dict) == {"kind", "requester", "identity_check", "received_on",
                                     "colour"}


def test_picks_that_are_not_records_are_refused(root, xiaomei):
    request = open_request(root)
    for pick in ("customer:999999", "contact:999999", "order:1", "customer:x"):
        with pytest.raises(ValidationError) as bad:
            subject_requests.request_set_subjects(actor=root, origin="manual",
                                                  request=request, picks=[pick])
        assert "subjects" in bad.value.error_dict
    with pytest.raises(ValidationError) as empty:
        subject_requests.request_erase(actor=root, origin="manual", request=request,
                                       reason="本人要求", queued=False)
    assert "subjects" in empty.value.error_dict


def test_only_admins_handle_requests(alice, root, xiaomei):
    request = open_request(root)
    with pytest.raises(PermissionDenied):
        open_request(alice)
    with pytest.raises(PermissionDenied):
        find_person(viewer=alice, data={"phone": PHONE})
    with pytest.raises(PermissionDenied):
        subject_report(viewer=alice, request=request)
    with pytest.raises(PermissionDenied):
        subject_requests.requests_list(alice)


def test_retention_anonymises_the_long_silent_and_reports_them(
        root, alice, make_customer, settings, media, django_capture_on_commit_callbacks):
    settings.KEHU_PRIVACY_RETENTION_DAYS = 365 * 3
    silent = make_customer(alice, name="多年未联系的客户", phones=["13500001111"])
    active = make_customer(alice, name="上周还在下单的客户", phones=["13500002222"])
    long_ago = timezone.now() - dt.timedelta(days=365 * 4)
    Customer.objects.filter(pk__in=[silent.pk, active.pk]).update(updated_at=long_ago)
    Customer.objects.filter(pk=active.pk).update(updated_at=timezone.now())

    with django_capture_on_commit_callbacks(execute=True):
        job = run_here(job_start(actor=root, origin="system", kind=RETENTION_JOB, queued=False))
    assert job.status == "done", job.error
    assert Customer.objects.get(pk=silent.pk).name == f"已删除客户 #{silent.pk}"
    assert Customer.objects.get(pk=active.pk).name == "上周还在下单的客户"
    report = JobFile.objects.get(job=job)
    rows = list(csv.reader((Path(settings.MEDIA_ROOT) / report.path)
                           .read_text(encoding="utf-8-sig").splitlines()))
    assert [r[0] for r in rows[1:]] == [str(silent.pk)]

    again = run_here(job_start(actor=root, origin="system", kind=RETENTION_JOB, queued=False))
    assert again.result["已匿名化"] == 0  # nothing left to do


def test_retention_is_off_unless_a_period_is_set(root, alice, make_customer, settings):
    settings.KEHU_PRIVACY_RETENTION_DAYS = 0
    old = make_customer(alice, name="很久以前的客户")
    Customer.objects.filter(pk=old.pk).update(updated_at=timezone.now() - dt.timedelta(days=9999))
    job = run_here(job_start(actor=root, origin="system", kind=RETENTION_JOB, queued=False))
    assert job.status == "done"
    assert Customer.objects.get(pk=old.pk).name == "很久以前的客户"
    assert not Job.objects.filter(kind="privacy.erase").exists()


def test_admins_are_reminded_of_requests_due_soon_or_late(root, alice):
    today = timezone.localdate()
    late = open_request(root, received_on=(today - dt.timedelta(days=40)).isoformat(),
                        due_on=(today - dt.timedelta(days=10)).isoformat())
    soon = open_request(root, due_on=(today + dt.timedelta(days=2)).isoformat())
    open_request(root, due_on=(today + dt.timedelta(days=20)).isoformat())  # not yet
    done = open_request(root, due_on=today.isoformat())
    subject_requests.request_close(actor=root, origin="manual", request=done, status="refused",
                                   outcome="身份无法核实")
    job = run_here(job_start(actor=root, origin="system", kind=DUE_JOB, queued=False))
    assert job.status == "done", job.error
    titles = sorted(Notification.objects.filter(recipient=root).values_list("title", flat=True))
    assert titles == [f"个人信息权利请求 #{late.pk} 已逾期（截止 {late.due_on.isoformat()}）",
                      f"个人信息权利请求 #{soon.pk} 将于 {soon.due_on.isoformat()} 到期"]
    assert not Notification.objects.filter(recipient=alice).exists()
