"""My jobs: a person sees their own jobs and files; an admin sees everyone's and the schedules."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from kehu.jobs.models import Job, JobFile, Status

pytestmark = pytest.mark.django_db


def a_job(actor, **fields) -> Job:
    return Job.objects.create(kind="test.units", title=f"{actor.username} 的导出", actor=actor,
                              origin="manual", **fields)


def test_my_jobs_lists_mine_with_progress_and_not_my_teammates(login, alice, bob):
    a_job(alice, status=Status.RUNNING, done=30, total=120, started_at=timezone.now())
    a_job(bob)
    page = login(alice).get(reverse("jobs:list")).content.decode()
    assert "alice 的导出" in page and "bob 的导出" not in page
    assert 'value="25"' in page  # the bar: 30 of 120
    assert 'hx-trigger="every 2s"' in page  # something runs: the table refreshes itself


def test_the_job_page_polls_while_running_and_stops_when_done(login, alice):
    job = a_job(alice, status=Status.RUNNING, done=1, total=4, started_at=timezone.now())
    client = login(alice)
    assert 'hx-trigger="every 1s"' in client.get(reverse("jobs:detail", args=[job.pk])).content.decode()
    Job.objects.filter(pk=job.pk).update(status=Status.DONE, finished_at=timezone.now(),
                                         result={"客户": 4})
    part = client.get(reverse("jobs:progress", args=[job.pk])).content.decode()
    assert "every 1s" not in part and 'data-testid="job-state">已完成<' in part
    assert "100%" in part and "客户" in part


def test_a_file_downloads_for_its_owner_and_an_admin_only(login, alice, bob, mallory, root):
    job = a_job(alice, status=Status.DONE)
    folder = settings.MEDIA_ROOT / "jobs" / str(job.pk)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "客户.csv").write_bytes("名称\n张三\n".encode())
    file = JobFile.objects.create(job=job, name="客户.csv", path=f"jobs/{job.pk}/客户.csv", size=12,
                                  content_type="text/csv")
    url = reverse("jobs:file", args=[job.pk, file.pk])
    response = login(alice).get(url)
    assert response.status_code == 200 and b"".join(response.streaming_content).decode() == "名称\n张三\n"
    assert "attachment" in response["Content-Disposition"]
    assert login(root).get(url).status_code == 200
    for outsider in (bob, mallory):  # a manager does not read a rep's files either
        assert login(outsider).get(url).status_code == 404
    assert login(alice).get(reverse("jobs:file", args=[job.pk, file.pk + 1])).status_code == 404


def test_an_admin_sees_everyones_jobs_and_a_failed_ones_error(login, alice, root):
    a_job(alice, status=Status.FAILED, error="Traceback …\nValueError: 第 3 行格式错误")
    page = login(root).get(reverse("jobs:list") + "?all=1").content.decode()
    assert "alice 的导出" in page and "失败" in page
    job = Job.objects.get()
    detail = login(root).get(reverse("jobs:detail", args=[job.pk])).content.decode()
    assert "第 3 行格式错误" in detail and "重新运行" in detail
    assert "重新运行" not in login(alice).get(reverse("jobs:detail", args=[job.pk])).content.decode()
    bobs = Job.objects.create(kind="test.units", title="root 自己的任务", actor=root, origin="manual")
    mine = login(alice).get(reverse("jobs:list") + "?all=1").content.decode()
    assert bobs.title not in mine  # alice asking for everyone still gets her own only
