"""Schedules run on time in the configured zone, once per slot, and once after downtime."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from kehu.jobs import services
from kehu.jobs.models import Job, Schedule
from kehu.jobs.schedules import next_slot, run_due, sync_schedules

pytestmark = pytest.mark.django_db
SHANGHAI = ZoneInfo("Asia/Shanghai")


def at(text: str) -> dt.datetime:
    """A moment on the Shanghai wall clock (the default KEHU_TIME_ZONE)."""
    return dt.datetime.fromisoformat(text).replace(tzinfo=SHANGHAI)


@pytest.fixture
def nightly(db):
    """The job-pruning schedule, 03:30 every night, as the jobs app registers it."""
    sync_schedules(now=at("2026-12-01 12:00"))
    Schedule.objects.exclude(name="jobs.prune").update(enabled=False)  # one schedule under test
    return Schedule.objects.get(name="jobs.prune")


def test_a_nightly_schedule_waits_for_half_past_three_shanghai_time(nightly):
    assert nightly.cron == "30 3 * * *"
    assert nightly.next_run_at == at("2026-12-02 03:30")
    assert nightly.next_run_at == dt.datetime(2026, 12, 1, 19, 30, tzinfo=dt.UTC)


def test_it_runs_at_its_time_not_a_minute_before_and_only_once(nightly):
    assert run_due(now=at("2026-12-02 03:29:59")) == []
    [job] = run_due(now=at("2026-12-02 03:30:00"))
    assert (job.kind, job.origin, job.actor.is_system) == ("jobs.prune", "system", True)
    assert run_due(now=at("2026-12-02 03:30:40")) == []  # a second worker's tick, same minute
    nightly.refresh_from_db()
    assert nightly.last_job == job and nightly.next_run_at == at("2026-12-03 03:30")


def test_after_a_week_of_downtime_it_runs_once_not_seven_times(nightly):
    started = run_due(now=at("2026-12-09 10:00"))
    assert len(started) == 1 and Job.objects.count() == 1
    nightly.refresh_from_db()
    assert nightly.next_run_at == at("2026-12-10 03:30")


def test_a_slot_never_starts_two_jobs_even_if_its_claim_is_replayed(nightly):
    run_due(now=at("2026-12-02 03:30"))
    Schedule.objects.filter(pk=nightly.pk).update(next_run_at=at("2026-12-02 03:30"))
    assert run_due(now=at("2026-12-02 03:31")) == []  # the slot's job exists (unique key)
    assert Job.objects.count() == 1


def test_a_paused_schedule_does_not_run(nightly, root):
    services.schedule_update(actor=root, schedule=nightly, origin="manual", enabled=False)
    assert run_due(now=at("2027-01-01 04:00")) == []


def test_an_admin_moves_it_to_another_time_and_a_bad_cron_is_refused(nightly, root, alice):
    services.schedule_update(actor=root, schedule=nightly, origin="manual", cron=" 0  4 * * 1-5 ")
    nightly.refresh_from_db()
    assert nightly.cron == "0 4 * * 1-5"
    with pytest.raises(ValidationError) as bad:
        services.schedule_update(actor=root, schedule=nightly, origin="manual", cron="每天三点")
    assert "cron" in bad.value.message_dict
    with pytest.raises(ValidationError):
        services.schedule_update(actor=root, schedule=nightly, origin="manual", cron="61 * * * *")
    with pytest.raises(PermissionDenied):
        services.schedule_update(actor=alice, schedule=nightly, origin="manual", enabled=False)


def test_slots_follow_the_zone_across_months():
    assert next_slot("0 9 1 * *", at("2026-12-15 00:00"), "Asia/Shanghai") == at("2027-01-01 09:00")
    assert next_slot("0 9 * * *", at("2026-12-01 09:00"), "Asia/Shanghai") == at("2026-12-02 09:00")
