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


def two_factor_bound(sender: Any, user: Any, replaced: bool, **kwargs: Any) -> None:
    """Tell the person (the bell, and an e-mail copy when mail is set up) that an
    authenticator was bound to their account: if it was not them, the password is out."""
    with translation.override(user.language or None):
        notify(recipient=user, level=Level.WARNING, actor=None, origin=Origin.SYSTEM,
               title=_("你的账号绑定了新的身份验证器") if not replaced
               else _("你的账号换绑了身份验证器"),
               body=_("如果不是你本人操作，请立即修改密码并联系管理员：别人已知道你的密码。"),
               link=reverse("accounts:two_factor"))
