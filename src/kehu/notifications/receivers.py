"""What other apps' events tell people: a finished job tells the person who started it."""

from __future__ import annotations

import logging
from typing import Any

from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from kehu.accounts.services import system_actor
from kehu.core.models import Origin
from kehu.jobs.models import Job, Status
from kehu.notifications.models import Level
from kehu.notifications.services import EMAIL_JOB, notify

log = logging.getLogger("kehu.notifications")

OUTCOMES = {  # status -> (title, level); a cancelled job was stopped by a person, who knows
    Status.DONE: (gettext_noop("任务完成：%(title)s"), Level.SUCCESS),
    Status.FAILED: (gettext_noop("任务失败：%(title)s"), Level.ERROR),
}


def job_finished(sender: Any, job: Job, **kwargs: Any) -> None:
    """Notify the job's actor that it is done or has failed (not the system, not mail jobs).

    It runs in the worker after the job's last commit; a failure here is logged and must
    not take the worker down with it.
    """
    outcome = OUTCOMES.get(job.status)
    if outcome is None or job.kind == EMAIL_JOB or job.actor.is_system:
        return
    title, level = outcome
    try:
        with translation.override(job.actor.language or None):
            notify(recipient=job.actor, title=_(title) % {"title": job.title}, level=level,
                   link=reverse("jobs:detail", args=[job.pk]), actor=system_actor(),
                   origin=Origin.SYSTEM)
    except Exception:  # the job itself finished; only its notice is lost
        log.exception("could not notify %s about job %s", job.actor_id, job.pk)
