"""Job kinds only the tests register (the `worker` fixture is in tests/conftest.py).

`test.units` writes one change-log row per unit (a real table) and can be told to crash
(`crash_at`: a SystemExit the runner does not catch, as a killed process would not) or
to fail (`fail_times`: an exception on the first N attempts).
"""

from __future__ import annotations

import pytest

from kehu.core.records import log_change
from kehu.jobs.context import JobContext
from kehu.jobs.registry import job
from kehu.jobs.testing import flush_queue

FAILURES: dict[int, int] = {}


@job("test.units", title="测试：逐个单位", max_attempts=3)
def units(ctx: JobContext) -> dict:
    count = int(ctx.params["count"])
    ctx.stage("单位", total=count, done=ctx.state.get("next", 0))
    for unit in range(ctx.state.get("next", 0), count):
        if unit == ctx.params.get("crash_at") and not ctx.state.get("crashed_once"):
            raise SystemExit("simulated crash")
        if FAILURES.get(ctx.job.pk, 0) < ctx.params.get("fail_times", 0):
            FAILURES[ctx.job.pk] = FAILURES.get(ctx.job.pk, 0) + 1
            raise RuntimeError(f"第 {FAILURES[ctx.job.pk]} 次故意失败")
        with ctx.step(advance=1, next=unit + 1):
            log_change(actor=ctx.actor, action="unit", instance=ctx.job, origin="system",
                       changes={"unit": unit})
    return {"units": count}


@pytest.fixture(autouse=True)
def _empty_queue():
    flush_queue()
    FAILURES.clear()
    yield
    flush_queue()
