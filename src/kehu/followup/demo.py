"""The demo team's default plans: A every 30 days, B every 90, C every 180.

Installed once a demo load finishes (a receiver of `jobs.signals.job_finished`, as
classification re-runs its rules then), by the demo team's admin so that the plans cover
every customer; then one generation job. Tiers come from classification's full run, which
re-plans each customer whose tier it sets (`classes_changed`), so my day fills as the
customers are classified.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction

from kehu.accounts.models import User
from kehu.core.models import Origin
from kehu.followup.models import FollowUpPlan
from kehu.followup.ranking import TIER_DIMENSION

POINTS = "{客户名称}（{等级}）：近 12 个月消费 {近12月消费}，最近下单 {最近下单}，已 {未联系天数} 天未联系。"
DEFAULT_PLANS = (("a", "A 类客户每月跟进", 30), ("b", "B 类客户每季度跟进", 90),
                 ("c", "C 类客户每半年跟进", 180))


def install_demo_plans() -> list[FollowUpPlan]:
    """The default plans, when there are none yet and the demo admin exists."""
    from kehu.classification.models import DimensionValue
    from kehu.followup.services import GENERATE_JOB, plan_save

    admin = User.objects.filter(username="admin", is_active=True).first()
    if admin is None or FollowUpPlan.objects.exists():
        return []
    tiers = {v.key: v for v in DimensionValue.objects.filter(dimension__key=TIER_DIMENSION)}
    made = []
    with transaction.atomic():
        for key, name, days in DEFAULT_PLANS:
            if key in tiers:
                made.append(plan_save(actor=admin, origin=Origin.DEMO, regenerate=False, data={
                    "name": name, "target": f"value:{tiers[key].pk}", "cadence_days": days,
                    "talking_points": POINTS}))
        if made:
            from kehu.jobs.services import job_start

            job_start(actor=admin, origin=Origin.DEMO, kind=GENERATE_JOB)
    return made


def after_demo_load(sender: Any, job: Any, **kwargs: Any) -> None:
    if job.kind == "demo.load" and job.status == "done":
        install_demo_plans()
