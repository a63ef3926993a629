"""Periodic jobs: cron expressions in a time zone, started once per slot.

A schedule's `next_run_at` is the slot it waits for. When a tick finds it due, it moves
`next_run_at` to the first slot after *now* (not after the old slot) and starts one job
keyed by the old slot: a server that was down for a week runs a daily job once when it
comes back, not seven times, and two workers ticking together start it once.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from croniter import croniter
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from kehu.core.models import Origin
from kehu.jobs.models import Job, Schedule
from kehu.jobs.registry import KINDS


def next_slot(cron: str, after: dt.datetime, time_zone: str) -> dt.datetime:
    """The first time strictly after `after` that `cron` names, read in `time_zone`."""
    local = after.astimezone(ZoneInfo(time_zone))
    return croniter(cron, local).get_next(dt.datetime).astimezone(dt.UTC)


def check_cron(cron: str) -> str:
    cron = " ".join(cron.split())
    if len(cron.split()) != 5 or not croniter.is_valid(cron):
        raise ValidationError({"cron": [_("不是有效的 cron 表达式（分 时 日 月 周，例如 30 3 * * *）")]})
    return cron


def sync_schedules(now: dt.datetime | None = None) -> None:
    """Create a schedule for every registered kind that asks for one (admins edit it later)."""
    now = now or timezone.now()
    for kind in KINDS.values():
        if kind.schedule and not Schedule.objects.filter(name=kind.name).exists():
            with transaction.atomic():
                Schedule.objects.get_or_create(name=kind.name, defaults={
                    "kind": kind.name, "cron": kind.schedule, "params": kind.schedule_params or {},
                    "next_run_at": next_slot(kind.schedule, now, _default_zone())})


def run_due(now: dt.datetime | None = None) -> list[Job]:
    """Start every enabled schedule whose slot has come; each slot starts one job."""
    from kehu.accounts.services import system_actor
    from kehu.jobs.services import job_start

    now = now or timezone.now()
    started = []
    for schedule in Schedule.objects.filter(enabled=True, next_run_at__lte=now):
        slot = schedule.next_run_at
        following = next_slot(schedule.cron, now, schedule.time_zone)
        with transaction.atomic():
            claimed = Schedule.objects.filter(pk=schedule.pk, next_run_at=slot).update(
                next_run_at=following, last_run_at=now)
            if not claimed:
                continue  # another worker took this slot
            try:
                with transaction.atomic():
                    job = job_start(actor=system_actor(), origin=Origin.SYSTEM, kind=schedule.kind,
                                    params=schedule.params, key=f"schedule:{schedule.pk}:{slot.isoformat()}")
            except IntegrityError:
                continue  # the slot's job exists already
            Schedule.objects.filter(pk=schedule.pk).update(last_job=job)
            started.append(job)
    return started


def _default_zone() -> str:
    from django.conf import settings

    return settings.TIME_ZONE
