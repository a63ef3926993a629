"""`kehu demo` gives the demo team default plans, and my day fills once tiers are set."""

from __future__ import annotations

import pytest
from django.core.management import call_command

from kehu.accounts.models import User
from kehu.classification.services import RUN_JOB
from kehu.followup.models import FollowUpPlan, FollowUpTask
from kehu.followup.selectors import my_day
from kehu.jobs.models import Job
from kehu.jobs.services import run_here

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_demo_team_gets_default_plans_and_reps_a_day_of_follow_ups(capsys):
    call_command("demo", "--customers", "60", "--seed", "3")
    plans = list(FollowUpPlan.objects.values_list("name", "cadence_days"))
    assert plans == [("A 类客户每月跟进", 30), ("B 类客户每季度跟进", 90), ("C 类客户每半年跟进", 180)]
    # The tiers come from classification's full run (queued after the load): run it here.
    from kehu.accounts.services import system_actor
    from kehu.jobs.services import job_start

    run_here(job_start(actor=system_actor(), origin="system", kind=RUN_JOB, queued=False))
    assert FollowUpTask.objects.filter(status="open", kind="plan").count() > 0
    for job in Job.objects.filter(kind="followup.generate", status="queued"):
        assert run_here(job).status == "done"
    reps = User.objects.filter(role__code="sales")
    assert sum(len(my_day(viewer=rep)["rows"]) for rep in reps) > 0
