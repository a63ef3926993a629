"""Old notifications go away by themselves, on the nightly schedule; recent ones stay."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from kehu.accounts.services import system_actor
from kehu.jobs import runner
from kehu.jobs.models import Schedule, Status
from kehu.jobs.schedules import sync_schedules
from kehu.jobs.services import job_start
from kehu.notifications.models import Notification
from kehu.notifications.services import notify

pytestmark = pytest.mark.django_db


def test_notifications_older_than_the_retention_are_deleted_by_the_nightly_job(alice, settings):
    old = notify(recipient=alice, title="去年的导入", actor=None, origin="system")
    new = notify(recipient=alice, title="今天的导入", actor=None, origin="system")
    days = settings.KEHU_JOBS["RETENTION_DAYS"]
    Notification.objects.filter(pk=old.pk).update(created_at=timezone.now() - dt.timedelta(days=days + 1))
    sync_schedules()
    assert Schedule.objects.get(name="notifications.prune").cron == "40 3 * * *"
    job = job_start(actor=system_actor(), origin="system", kind="notifications.prune")
    runner.execute(job.pk)
    job.refresh_from_db()
    assert job.status == Status.DONE and job.done == 1
    assert list(Notification.objects.values_list("pk", flat=True)) == [new.pk]
