"""E-mail copies go through a real SMTP server the test starts (aiosmtpd on 127.0.0.1).

They are sent by the job runner, once: a second run of the job finds the notification
marked as sent and sends nothing.
"""

from __future__ import annotations

import pytest

from kehu.core.models import Origin
from kehu.jobs.models import Job
from kehu.jobs.runner import execute
from kehu.jobs.services import job_start
from kehu.notifications.models import Notification
from kehu.notifications.services import EMAIL_JOB, notify
from tests.notifications.conftest import configure_smtp, free_port

pytestmark = pytest.mark.django_db


def tell(person, **extra):
    values = {"title": "导出已完成：客户名单", "body": "共 3 行。", "link": "/jobs/", **extra}
    return notify(recipient=person, actor=None, origin=Origin.SYSTEM, **values)


def test_a_job_notice_is_mailed_to_its_actor_once(alice, bob, with_email, smtp, start_job, run_jobs,
                                                   commit, settings):
    settings.KEHU_BASE_URL = "https://crm.example.com"
    job = start_job(alice)
    run_jobs()

    [(recipients, mail)] = smtp.mails
    assert recipients == ["alice@example.com"]
    assert mail["To"] == "alice@example.com"
    assert mail["Subject"] == "任务完成：测试导出"
    assert f"https://crm.example.com/jobs/{job.pk}/" in mail.get_content()
    notice = Notification.objects.get(recipient=alice)
    assert notice.emailed_at is not None

    assert run_jobs() == 0
    with commit():  # the same e-mail job once more, as after a crash between send and finish
        job_start(actor=alice, origin=Origin.SYSTEM, kind=EMAIL_JOB, params={"notification": notice.pk})
    run_jobs()
    assert len(smtp.mails) == 1


def test_without_a_base_url_the_mail_carries_the_path(alice, with_email, smtp, commit, run_jobs,
                                                      settings):
    settings.KEHU_BASE_URL = ""
    with commit():
        tell(alice)
    run_jobs()
    [(_to, mail)] = smtp.mails
    body = mail.get_content()
    assert "共 3 行。" in body
    assert "/jobs/" in body and "http" not in body


def test_nothing_is_sent_in_the_request(alice, with_email, smtp, commit, login):
    """Writing a notification only queues the job; the mail waits for the runner."""
    with commit():
        tell(alice)
    assert smtp.mails == []
    assert Job.objects.filter(kind=EMAIL_JOB, status="queued").count() == 1


def test_no_smtp_no_email_job(alice, with_email, commit, no_smtp):
    with commit():
        tell(alice)
    assert not Job.objects.filter(kind=EMAIL_JOB).exists()


def test_no_address_no_email_job(alice, bob, smtp, commit):
    assert not alice.email
    with commit():
        tell(alice)
    assert not Job.objects.filter(kind=EMAIL_JOB).exists()


def test_a_server_that_is_down_delays_the_mail(alice, with_email, settings, smtp_server, commit,
                                               run_jobs):
    configure_smtp(settings, free_port())  # nobody listens there
    settings.EMAIL_TIMEOUT = 2
    with commit():
        notice = tell(alice)
    with commit():
        execute(Job.objects.get(kind=EMAIL_JOB).pk)  # one attempt: it fails and schedules a retry
    notice.refresh_from_db()
    assert notice.emailed_at is None
    assert "Connection" in notice.email_error or "Errno" in notice.email_error
    assert Job.objects.get(kind=EMAIL_JOB).status == "retrying"

    port, inbox = smtp_server  # the server is back
    configure_smtp(settings, port)
    run_jobs()
    assert [to for to, _mail in inbox.mails] == [["alice@example.com"]]
    notice.refresh_from_db()
    assert notice.emailed_at is not None and notice.email_error == ""
