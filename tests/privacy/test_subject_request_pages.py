"""The admin works a request through 设置 → 个人信息权利请求 in the web: logs it, finds the
person by the phone she gave (posted, never in a URL), ticks her record, downloads her
copy as Excel and JSON, erases her (the job page shows the progress) and closes it."""

from __future__ import annotations

import io
import json

import openpyxl
import pytest
from django.urls import reverse

from kehu.audit.models import AuditEntry
from kehu.jobs.models import Job
from kehu.jobs.services import run_here
from kehu.privacy.models import SubjectRequest
from tests.privacy.story import NAME, PHONE, traces_in_tables

pytestmark = pytest.mark.django_db


def test_an_admin_works_a_request_in_the_web(xiaomei, root, login, media,
                                             django_capture_on_commit_callbacks):
    web = login(root)
    assert "个人信息权利请求" in web.get(reverse("settings:index")).content.decode()
    bad = web.post(reverse("privacy:request_new"), {"kind": "erasure", "requester": ""})
    assert bad.status_code == 400 and "必填" in bad.content.decode()
    made = web.post(reverse("privacy:request_new"), {
        "kind": "erasure", "requester": NAME, "identity_check": "回拨预留手机号核实"})
    request = SubjectRequest.objects.get()
    assert made.url == reverse("privacy:request", args=[request.pk])
    assert NAME in web.get(reverse("privacy:requests")).content.decode()

    found = web.post(reverse("privacy:request_find", args=[request.pk]), {"phone": PHONE})
    assert found.status_code == 200
    assert f'value="customer:{xiaomei.pk}"' in found.content.decode()
    searched = AuditEntry.objects.get(action="searched", details__target="subject_request")
    assert searched.details["by"] == ["phone"] and PHONE not in json.dumps(searched.details)
    empty = web.post(reverse("privacy:request_find", args=[request.pk]), {})
    assert empty.status_code == 400 and "至少填写" in empty.content.decode()
    web.post(reverse("privacy:request_subjects", args=[request.pk]),
             {"pick": [f"customer:{xiaomei.pk}"]})
    request.refresh_from_db()
    assert request.subjects == [{"customer": xiaomei.pk, "contact": None}]

    sheet = web.get(reverse("transfer:subject_report", args=[request.pk]), {"format": "xlsx"})
    book = openpyxl.load_workbook(io.BytesIO(b"".join(sheet.streaming_content)))
    cells = [str(c) for ws in book.worksheets for row in ws.iter_rows(values_only=True)
             for c in row]
    assert NAME in cells and any("订单" in ws.title for ws in book.worksheets)
    copy = json.loads(b"".join(web.get(reverse("transfer:subject_report", args=[request.pk]),
                                       {"format": "json"}).streaming_content))
    assert copy["request"] == request.pk
    exported = AuditEntry.objects.filter(action="exported", details__target="subject_request")
    assert exported.count() == 2 and NAME not in json.dumps(list(exported.values("details")),
                                                            ensure_ascii=False)

    with django_capture_on_commit_callbacks(execute=False):
        started = web.post(reverse("privacy:request_erase", args=[request.pk]),
                           {"reason": "本人书面要求"})
    job = Job.objects.get(kind="privacy.erase")
    assert started.url == reverse("jobs:detail", args=[job.pk])
    twice = web.post(reverse("privacy:request_erase", args=[request.pk]), {"reason": "再按一次"})
    assert twice.status_code == 400 and "进行中" in twice.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        run_here(job)
    assert traces_in_tables() == []
    page = web.get(reverse("privacy:request", args=[request.pk])).content.decode()
    assert f"#{job.pk}" in page and NAME not in page

    web.post(reverse("privacy:request_close", args=[request.pk]),
             {"status": "done", "outcome": "已匿名化并电话告知"})
    request.refresh_from_db()
    assert request.status == "done"


def test_a_rep_cannot_open_the_requests(alice, login):
    web = login(alice)
    assert web.get(reverse("privacy:requests")).status_code == 403
    assert "个人信息权利请求" not in web.get(reverse("settings:index")).content.decode()
