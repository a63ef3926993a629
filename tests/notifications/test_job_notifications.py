"""Story: alice starts a job; when it finishes the bell tells her, and only her.

bob, her teammate, sees nothing of it: his count stays 0 and her notification is a 404 for
him, whatever he does with it.
"""

from __future__ import annotations

import pytest
from django.urls import reverse

from kehu.accounts.services import system_actor
from kehu.jobs.models import Job
from kehu.notifications.models import Level, Notification
from kehu.notifications.selectors import notifications_for, unread_count
from kehu.notifications.services import EMAIL_JOB
from tests.notifications.conftest import BROKEN

pytestmark = pytest.mark.django_db


def test_a_finished_job_tells_its_actor_and_nobody_else(alice, bob, login, start_job, run_jobs,
                                                         no_smtp):
    job = start_job(alice)
    run_jobs()

    assert unread_count(alice) == 1
    [notice] = notifications_for(alice).items
    assert notice.title == "任务完成：测试导出"
    assert notice.level == Level.SUCCESS
    assert notice.link == reverse("jobs:detail", args=[job.pk])
    assert unread_count(bob) == 0
    assert notifications_for(bob).items == []

    page = login(alice).get(reverse("notifications:list"))
    assert "任务完成：测试导出" in page.content.decode()
    bobs_page = login(bob).get(reverse("notifications:list"))
    assert "测试导出" not in bobs_page.content.decode()

    read = reverse("notifications:read", args=[notice.pk])
    assert login(bob).get(read).status_code == 404
    assert login(bob).post(read).status_code == 404
    missing = reverse("notifications:read", args=[notice.pk + 1000])
    assert login(bob).post(missing).status_code == 404  # the same answer as for a missing one
    notice.refresh_from_db()
    assert notice.read_at is None  # bob's tries changed nothing


def test_a_failed_job_says_so(alice, start_job, run_jobs, no_smtp):
    start_job(alice, kind=BROKEN)
    run_jobs()

    [notice] = notifications_for(alice).items
    assert notice.title == "任务失败：会失败的任务"
    assert notice.level == Level.ERROR
    assert "disk" not in notice.body  # no traceback in a notice


def test_the_notice_is_written_in_the_actors_language(alice, start_job, run_jobs, no_smtp):
    alice.language = "en"
    alice.save(update_fields=["language"])
    start_job(alice)
    run_jobs()

    assert notifications_for(alice).items[0].title == "Job finished: 测试导出"


def test_jobs_of_the_system_and_mail_jobs_notify_nobody(alice, start_job, run_jobs, smtp, with_email):
    system = system_actor()
    start_job(system)
    start_job(alice)
    run_jobs()  # alice's job, its notice, and the notice's e-mail job

    assert Job.objects.filter(kind=EMAIL_JOB, status="done").count() == 1
    assert list(Notification.objects.values_list("recipient__username", "title")) == [
        ("alice", "任务完成：测试导出")]  # nothing for the system, nothing about the mail job
