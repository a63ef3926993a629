"""Pool fixtures: 华东公海 serves 华东区 (alice, bob and their manager mallory); charlie (华南区)
is in no pool. The clock moves by passing `now` to the services and the job — no sleeps."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from kehu.accounts.services import system_actor
from kehu.jobs.services import job_start, run_here
from kehu.pool.jobs import RECLAIM_JOB
from kehu.pool.services import pool_save, rule_save


@pytest.fixture
def pool(root, east):
    """Idle 30 days → back; warned 5 days before; 2 claims a day, 3 customers held at most."""
    made = pool_save(actor=root, origin="manual", data={
        "name": "华东公海", "departments": [east.pk], "daily_claims": 2, "max_held": 3,
        "reclaim_wait_days": 30})
    rule_save(actor=root, origin="manual", pool=made, data={"idle_days": 30, "warn_days": 5})
    return made


def later(days: float) -> dt.datetime:
    return timezone.now() + dt.timedelta(days=days)


def run_reclaim(now: dt.datetime):
    job = job_start(actor=system_actor(), origin="system", kind=RECLAIM_JOB, queued=False,
                    params={"now": now.isoformat()})
    done = run_here(job)
    assert done.status == "done", done.error
    return done.result


from tests.api.conftest import api_as  # noqa: E402, F401 -- the API caller fixture
