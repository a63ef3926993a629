"""Demo data: a realistic Chinese sales team and its customers, deterministic for a seed.

    from kehu.demo import generate
    generate(customers=2000, seed=1)            # what `kehu setup` and `kehu demo` run

`generate` creates the demo team (reusing users that already exist), then writes the
customers batch by batch: each batch of `batch_size` customers, with everything every
step adds for them (contacts, tags, three years of history), in ONE transaction.

Resuming a run (a background job killed at any moment)
-------------------------------------------------------
A batch is the unit of work: it commits whole or not at all, and batch k writes the
same rows whether the run started at batch 0 or resumed at k (see `kehu.demo.jobs`)::

    def on_batch(done, total, first_id):        # inside the batch's transaction
        save_checkpoint(batches=done, first_id=first_id)

    generate(customers, seed, batch_size=size, start_batch=saved.batches,  # 0 at first
             first_id=saved.first_id, on_batch=on_batch)                   # None at first

A run owns the customer ids `first_id …first_id + customers - 1`. Without `first_id`
(a run starting at batch 0) it reserves a fresh range (`kehu.demo.load.reserve_ids`:
the id sequence moves past it, so the app's own inserts meanwhile never take one) and
hands it to every `on_batch(done, total, first_id)`, which runs inside each batch's
transaction once the batch's rows are written: a checkpoint it saves (through the
default database connection) commits with the rows or not at all. After a crash, call
`generate` again with the same customers, seed and batch_size, the saved first_id and
`start_batch` = the saved `done`: every customer is written exactly once, and the data
is that of an uninterrupted run. (A run killed before its first batch committed saved
nothing and simply starts again: its reserved range stays unused.)

The step contract (for apps that add their own demo data, e.g. history)
----------------------------------------------------------------------
A step is a `Step(name, prepare, models)`. Register it at import time of your app's
demo module, and make sure that module is imported before `generate` runs (e.g. from
your AppConfig.ready)::

    from kehu.demo import STEPS, Step
    STEPS.append(Step("orders", prepare_orders, models=(Order, OrderLine)))

- `prepare(ctx) -> write` runs once per run, a resumed one too, before the first
  batch and outside any transaction: do one-time setup there (get-or-create a
  catalogue, read the stages), idempotently, and return the batch writer.
- `write(batch)` runs once per batch, inside the batch's transaction, after the
  customers step (always first) and the steps registered before it wrote theirs.
  Write rows for the customers in `batch.ids` only; draw every choice from
  `batch.rng_for(name)` (a stream of its own per seed, step and batch); take
  explicit ids from the database as the batch finds it (`kehu.demo.load.next_id`),
  never from a counter kept across batches. Then a resumed run is the same run.
- `models`: the tables the step fills. For big runs their secondary indexes are set
  aside during the load and built once at the end.

`ctx` (a `DemoContext`) holds:
- `seed`, and `now`: the run's fixed "now" (start of the current day, UTC): generate
  times at or before it, never `timezone.now()`, so rows are reproducible;
- `user_ids`: every demo user's id; `rep_ids`: the sales reps among them;
- `customer_ids`: the `range` of ids of the customers this run owns, from
  `first_id` (some are soft-deleted; skip rows with `deleted_at` set if it matters);
- `customers`: how many customers were asked for; `batch_size`, `batches`;
- `say(text)`: write a progress line to the run's output; `tally(label, n)`: add to
  a count the run reports at its end (e.g. `ctx.tally("个订单", 12)`).

Steps write with bulk inserts (see `kehu.demo.load.RowWriter`): set `origin="demo"`
and explicit timestamps.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import random
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TextIO

from django.db import connection, models, transaction

# Installed as an app: import no models here (they load after the app registry).
from kehu.demo.load import fast_writes, foreign_keys_unchecked, indexes_set_aside, reserve_ids

DEFAULT_CUSTOMERS = 2000  # what `kehu setup` loads on the first run, and `kehu demo` by default
DEFAULT_SEED = 1
# From this many customers, dropping the secondary indexes and building them once at
# the end is cheaper than updating them row by row.
SET_INDEXES_ASIDE_FROM = 50_000
BATCH_SIZE = 1_000
MAIN_STAGE, INDEX_STAGE = "客户与历史", "重建索引"


@dataclass
class DemoContext:
    """What every demo step receives; see the module docstring for the contract."""

    seed: int
    now: dt.datetime
    user_ids: list[int]
    rep_ids: list[int]
    customers: int
    customer_ids: range = field(default_factory=lambda: range(0))
    batch_size: int = BATCH_SIZE
    stdout: TextIO | None = None
    counts: Counter[str] = field(default_factory=Counter)

    @property
    def batches(self) -> int:
        return batches_for(self.customers, self.batch_size)

    def batch(self, index: int) -> Batch:
        start = self.customer_ids.start + index * self.batch_size
        return Batch(index=index, ids=range(start, min(start + self.batch_size,
                                                       self.customer_ids.stop)), seed=self.seed)

    def say(self, text: str) -> None:
        if self.stdout is not None:
            self.stdout.write(text + "\n")
            self.stdout.flush()

    def tally(self, label: str, count: int) -> None:
        self.counts[label] += count


@dataclass(frozen=True)
class Batch:
    """One unit of work: the `index`-th batch of a run, the customers with ids in `ids`."""

    index: int
    ids: range
    seed: int

    def rng_for(self, name: str) -> random.Random:
        """The random stream of step `name` for this batch, the same on every run and resume."""
        return random.Random(f"{self.seed}:{name}:{self.index}")


BatchWriter = Callable[[Batch], None]


@dataclass(frozen=True)
class Step:
    """A demo step: what an app writes for every batch of demo customers (see the contract)."""

    name: str
    prepare: Callable[[DemoContext], BatchWriter]
    models: tuple[type[models.Model], ...] = ()


STEPS: list[Step] = []


def day_start(moment: dt.datetime | None = None) -> dt.datetime:
    moment = moment or dt.datetime.now(dt.UTC)
    return moment.astimezone(dt.UTC).replace(hour=0, minute=0, second=0, microsecond=0)


def batches_for(customers: int, batch_size: int = BATCH_SIZE) -> int:
    """How many batches (units of work) a run of `customers` customers has."""
    return -(-max(customers, 0) // batch_size)


def generate(
    customers: int, seed: int, *, stdout: TextIO | None = None, now: dt.datetime | None = None,
    batch_size: int = BATCH_SIZE, start_batch: int = 0, first_id: int | None = None,
    on_batch: Callable[[int, int, int], None] | None = None,
    on_stage: Callable[[str, int], None] | None = None,
) -> DemoContext:
    """Create the demo team, then `customers` customers and everything STEPS add for them,
    one transaction per batch of `batch_size` customers, from batch `start_batch` on.

    `first_id`: the run's first customer id, required to resume (`start_batch` > 0); None:
    reserve a fresh range. `on_batch(done, total, first_id)`: called inside each batch's
    transaction after its rows (`done` batches of `total` are then written). `on_stage(name,
    total)`: called as a stage begins, with how many batches it reports through `on_batch`
    (0 for none). Returns the run's context; `ctx.customer_ids` is the range the run owns.
    """
    from kehu.customers.models import Customer
    from kehu.demo.team import ensure_team

    _check(customers, batch_size, start_batch, first_id)
    started = time.monotonic()
    team = ensure_team()
    if first_id is None:
        first_id = reserve_ids(Customer, customers)
    ctx = DemoContext(seed=seed, now=day_start(now), user_ids=team.user_ids,
                      rep_ids=team.rep_ids, customers=customers,
                      customer_ids=range(first_id, first_id + customers), batch_size=batch_size,
                      stdout=stdout)
    if team.created:
        names = "、".join(team.created[:4]) + (" 等" if len(team.created) > 4 else "")
        ctx.say(f"已创建 {len(team.created)} 个演示账号（{names}），密码均为：{team.password}")
    if customers and ctx.rep_ids:
        _load(ctx, start_batch, on_batch, on_stage)
    summary = "、".join(f"{count:,} {label}" for label, count in ctx.counts.items())
    ctx.say(f"演示数据完成{'：' + summary if summary else ''}，用时 {time.monotonic() - started:.1f} 秒")
    return ctx


def _check(customers: int, batch_size: int, start_batch: int, first_id: int | None) -> None:
    if customers < 0 or batch_size < 1:
        raise ValueError("customers must be >= 0 and batch_size >= 1")
    if not 0 <= start_batch <= batches_for(customers, batch_size):
        raise ValueError(f"start_batch must be between 0 and {batches_for(customers, batch_size)}")
    if start_batch and first_id is None:
        raise ValueError("a resumed run needs the first_id of the run it resumes")


def _load(ctx: DemoContext, start_batch: int, on_batch, on_stage) -> None:
    from kehu.demo.customers import customers_step

    steps = [customers_step, *STEPS]
    writers = [step.prepare(ctx) for step in steps]
    tables = [model for step in steps for model in step.models]
    big = ctx.customers >= SET_INDEXES_ASIDE_FROM
    aside = indexes_set_aside(*tables) if big else contextlib.nullcontext()
    started, total = time.monotonic(), ctx.batches
    with fast_writes(), foreign_keys_unchecked(), aside:
        if on_stage:
            on_stage(MAIN_STAGE, total)
        for index in range(start_batch, total):
            batch = ctx.batch(index)
            with transaction.atomic():
                ctx.tally("个客户", len(batch.ids))
                for write in writers:
                    write(batch)
                if on_batch:
                    on_batch(index + 1, total, ctx.customer_ids.start)
            if big and ((index + 1) % max(total // 20, 1) == 0 or index + 1 == total):
                ctx.say(f"  {MAIN_STAGE} {batch.ids.stop - ctx.customer_ids.start:,}"
                        f"/{ctx.customers:,} 个客户（{time.monotonic() - started:.0f} 秒）")
        if big:
            ctx.say(f"  正在{INDEX_STAGE} …")
            if on_stage:
                on_stage(INDEX_STAGE, 0)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            for model in tables:
                cursor.execute(f"ANALYZE {connection.ops.quote_name(model._meta.db_table)}")
