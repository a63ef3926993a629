"""The demo loader as a background job: resumable batch by batch, with a progress bar."""

from __future__ import annotations

import sys
from typing import Any, TextIO

from django.core.exceptions import PermissionDenied
from django.core.management.base import CommandError
from django.utils.translation import gettext_lazy as _
from tqdm import tqdm

from kehu.accounts.policy import access_for
from kehu.core.models import Origin
from kehu.jobs.context import JobContext
from kehu.jobs.models import Job
from kehu.jobs.registry import job

KIND = "demo.load"


@job(KIND, title=_("加载演示数据"), max_attempts=3)
def load_demo(ctx: JobContext) -> dict[str, Any]:
    """Generate `customers` demo customers with history; each batch commits with its checkpoint."""
    from kehu.demo import DEFAULT_SEED, generate

    if not (ctx.actor.is_system or access_for(ctx.actor).is_admin):
        raise PermissionDenied("only an admin loads demo data")
    customers = int(ctx.params["customers"])
    seed = int(ctx.params.get("seed", DEFAULT_SEED))
    size = int(ctx.params.get("batch_size", 1000))
    start = int(ctx.state.get("batches", 0))
    # Progress counts customers (the rate reads "客户/秒"); the checkpoint counts batches.
    ctx.stage(_("生成客户与历史"), total=customers, done=min(start * size, customers))

    def on_batch(done: int, total: int, first_id: int) -> None:  # inside the batch's transaction
        written = min(size, customers - (done - 1) * size)
        ctx.checkpoint(advance=written, batches=done, first_id=first_id)

    def on_stage(name: str, batches: int) -> None:
        ctx.stage(name, total=customers if batches else None)

    generate(customers, seed, batch_size=size, start_batch=start,
             first_id=ctx.state.get("first_id"), on_batch=on_batch, on_stage=on_stage,
             stdout=ctx.out)  # the new demo team's password: only ever shown on a terminal
    return {str(_("客户")): customers, str(_("种子")): seed}


def load_in_foreground(customers: int, seed: int, *, out: TextIO) -> Job:
    """`kehu demo` and `kehu setup`: the same job, run here, with a terminal progress bar."""
    from kehu.accounts.services import system_actor
    from kehu.jobs.services import run_in_foreground

    with tqdm(desc=str(_("演示数据")), unit=str(_(" 客户")), disable=None, file=sys.stderr) as bar:
        def show(job: Job) -> None:
            bar.total = job.total
            bar.set_description_str(job.stage or str(_("演示数据")))
            bar.update(job.done - bar.n)

        job = run_in_foreground(actor=system_actor(), origin=Origin.SYSTEM, kind=KIND,
                                params={"customers": customers, "seed": seed,
                                        "batch_size": batch_size_for(customers)},
                                on_progress=show,
                                out=out)
    if job.status != "done":
        last = (job.error.strip().splitlines() or [""])[-1]
        raise CommandError(f"{job.title}失败（任务 #{job.pk}）：{last}")
    return job


def batch_size_for(customers: int) -> int:
    """About twenty batches, so a progress bar moves in 5% steps (50 to 1,000 customers each)."""
    return max(50, min(1000, customers // 20))
