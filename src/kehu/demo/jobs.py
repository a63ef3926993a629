"""The demo loader as a background job: resumable batch by batch, with a progress bar."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext_lazy as _

from kehu.accounts.policy import access_for
from kehu.jobs.context import JobContext
from kehu.jobs.registry import job

KIND = "demo.load"


@job(KIND, title=_("加载演示数据"), max_attempts=3)
def load_demo(ctx: JobContext) -> dict[str, Any]:
    """Generate `customers` demo customers with history; each batch commits with its checkpoint."""
    from kehu.demo import DEFAULT_SEED, batches_for, generate

    if not (ctx.actor.is_system or access_for(ctx.actor).is_admin):
        raise PermissionDenied("only an admin loads demo data")
    customers = int(ctx.params["customers"])
    seed = int(ctx.params.get("seed", DEFAULT_SEED))
    size = int(ctx.params.get("batch_size", 1000))
    start = int(ctx.state.get("batches", 0))
    ctx.stage(_("生成客户与历史"), total=batches_for(customers, size), done=start)

    def on_batch(done: int, total: int, first_id: int) -> None:  # inside the batch's transaction
        ctx.checkpoint(advance=1, batches=done, first_id=first_id)

    generate(customers, seed, batch_size=size, start_batch=start,
             first_id=ctx.state.get("first_id"), on_batch=on_batch)
    return {str(_("客户")): customers, str(_("种子")): seed}
