"""Starting the demo loader from the web (admins only)."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.utils.translation import gettext as _

from kehu.accounts.models import User
from kehu.accounts.policy import access_for
from kehu.demo import DEFAULT_SEED
from kehu.demo.jobs import KIND, batch_size_for
from kehu.jobs.models import Job
from kehu.jobs.services import job_start

WEB_LIMIT = 200_000  # bigger loads belong on the command line (`kehu demo --customers N`)


def demo_start(*, actor: User, origin: str, customers: object, seed: object = DEFAULT_SEED) -> Job:
    """Queue a demo load of `customers` customers as `actor` (an admin)."""
    if not access_for(actor).is_admin:
        raise PermissionDenied
    errors = {}
    count = _whole(customers)
    if count is None or not 1 <= count <= WEB_LIMIT:
        errors["customers"] = [_("客户数须是 1 到 %(max)s 之间的整数") % {"max": f"{WEB_LIMIT:,}"}]
    seed_value = _whole(seed)
    if seed_value is None or not 0 <= seed_value < 2**31:
        errors["seed"] = [_("种子须是非负整数")]
    if errors:
        raise ValidationError(errors)
    return job_start(actor=actor, origin=origin, kind=KIND, params={
        "customers": count, "seed": seed_value, "batch_size": batch_size_for(count)})


def _whole(value: object) -> int | None:
    try:
        text = str(value).strip()
        return int(text) if text.isdigit() else None
    except (TypeError, ValueError):
        return None
