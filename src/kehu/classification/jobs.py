"""Classification's jobs: the debounced refresh of changed customers, the full run."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils.translation import gettext_lazy as _

from kehu.classification import engine, tagging
from kehu.classification.figures import figures_compute
from kehu.classification.services import (
    RUN_JOB,
    classify_customers,
    dimensions_active,
    pending_clear,
    pending_take,
)
from kehu.classification.triggers import REFRESH
from kehu.customers.conditions import condition_fields
from kehu.customers.models import Customer
from kehu.jobs.context import JobContext
from kehu.jobs.registry import job

RANGE = 50_000  # customer ids per unit of the full run: one CASE query and its writes


@job(REFRESH, title=_("重新分类变动的客户"), max_attempts=5)
def refresh_changed(ctx: JobContext) -> dict[str, Any]:
    """The customers marked since their rules last ran, 500 a unit. Idempotent: a unit
    commits its changes and clears its marks together; a crash leaves them marked."""
    ctx.stage(str(_("重新分类")))
    customers = changed = 0
    while True:
        ids, read_at = pending_take()
        if not ids:
            break
        with ctx.step(advance=len(ids)):
            counts = classify_customers(ids)
            pending_clear(ids, read_at)
        customers += len(ids)
        changed += sum(counts.values())
    return {str(_("客户")): customers, str(_("变动")): changed}


@job(RUN_JOB, title=_("客户分类"), max_attempts=3, schedule="15 2 * * *")
def run_all(ctx: JobContext) -> dict[str, Any]:
    """Every figure, then every dimension and the tag rules over every customer, a range
    of ids per unit; resumes after a crash at the unit after the last committed one."""
    if not ctx.state.get("figures"):
        ctx.stage(str(_("计算 RFM 与客户指标")))
        with transaction.atomic():
            scored = figures_compute()
            ctx.checkpoint(0, figures=True, scored=scored)
    last = Customer.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    passes = [(dimension.name, dimension, engine.active_rules(dimension))
              for dimension in dimensions_active()]
    tag_rules, fields = tagging.tag_rules(), condition_fields()
    if tag_rules:  # after the dimensions: a tag rule may read them
        passes.append((str(_("标签")), None, tag_rules))
    ranges = last // RANGE + 1
    ctx.stage(str(_("运行分类规则")), total=ranges * len(passes), done=ctx.state.get("units", 0))
    changed: dict[str, int] = dict(ctx.state.get("changed", {}))
    for index, (name, dimension, rules) in enumerate(passes):
        for first in range(0, last + 1, RANGE):
            unit = index * ranges + first // RANGE
            if unit < ctx.state.get("units", 0):
                continue
            with transaction.atomic():
                counts = engine.apply(dimension=dimension, rules=rules, actor=None, first=first,
                                      last=first + RANGE, fields=fields) if dimension else \
                    tagging.apply_tags(first=first, last=first + RANGE, rules=rules, fields=fields)
                changed[name] = changed.get(name, 0) + sum(counts.values())
                ctx.checkpoint(1, units=unit + 1, changed=changed)
    return {str(_("评分客户")): ctx.state.get("scored", 0),
            **{f"{name} {_('变动')}": n for name, n in changed.items()}}
