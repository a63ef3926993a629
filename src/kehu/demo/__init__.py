"""Demo data: a realistic Chinese sales team and its customers, deterministic for a seed.

    from kehu.demo import generate
    generate(customers=2000, seed=1)            # what `kehu setup` and `kehu demo` run

`generate` creates the demo team (reusing users that already exist), runs the
customers step, then every step in `STEPS`, in order.

The step contract (for apps that add their own demo data, e.g. history)
----------------------------------------------------------------------
A step is a callable `step(ctx: DemoContext) -> None`. Register it at import
time of your app's demo module, and make sure that module is imported before
`generate` runs (e.g. from your AppConfig.ready)::

    from kehu.demo import STEPS
    STEPS.append(orders_step)

`ctx` holds:
- `rng`: a `random.Random`; draw every choice from it (or from
  `ctx.rng_for("orders")`, an independent stream that stays the same when other
  steps change) so the same seed gives the same rows;
- `seed`: the seed of the run;
- `now`: the run's fixed "now" (start of the current day, UTC): generate times
  at or before it, never `timezone.now()`, so rows are reproducible;
- `user_ids`: every demo user's id; `rep_ids`: the sales reps among them;
- `customer_ids`: the `range` of ids of the customers this run inserted
  (some are soft-deleted; skip rows with `deleted_at` set if it matters);
- `customers`: how many customers were asked for;
- `say(text)`: write a progress line to the run's output.

Steps write with bulk inserts (see `kehu.demo.load.RowWriter`): set
`origin="demo"` and explicit timestamps, and keep each transaction to ~10k rows.
"""

from __future__ import annotations

import datetime as dt
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TextIO

from kehu.demo.team import ensure_team


@dataclass
class DemoContext:
    """What every demo step receives; see the module docstring for the contract."""

    rng: random.Random
    seed: int
    now: dt.datetime
    user_ids: list[int]
    rep_ids: list[int]
    customers: int
    customer_ids: range = field(default_factory=lambda: range(0))
    stdout: TextIO | None = None

    def rng_for(self, name: str) -> random.Random:
        return random.Random(f"{self.seed}:{name}")

    def say(self, text: str) -> None:
        if self.stdout is not None:
            self.stdout.write(text + "\n")
            self.stdout.flush()


Step = Callable[[DemoContext], None]
STEPS: list[Step] = []


def day_start(moment: dt.datetime | None = None) -> dt.datetime:
    moment = moment or dt.datetime.now(dt.UTC)
    return moment.astimezone(dt.UTC).replace(hour=0, minute=0, second=0, microsecond=0)


def generate(
    customers: int, seed: int, *, stdout: TextIO | None = None, now: dt.datetime | None = None
) -> DemoContext:
    """Create the demo team, `customers` customers with contacts and tags, then run STEPS."""
    from kehu.demo.customers import customers_step

    started = time.monotonic()
    team = ensure_team()
    ctx = DemoContext(rng=random.Random(seed), seed=seed, now=day_start(now),
                      user_ids=team.user_ids, rep_ids=team.rep_ids, customers=customers,
                      stdout=stdout)
    if team.created:
        names = "、".join(team.created[:4]) + (" 等" if len(team.created) > 4 else "")
        ctx.say(f"已创建 {len(team.created)} 个演示账号（{names}），密码均为：{team.password}")
    for step in [customers_step, *STEPS]:
        step(ctx)
    ctx.say(f"演示数据完成，用时 {time.monotonic() - started:.1f} 秒")
    return ctx
