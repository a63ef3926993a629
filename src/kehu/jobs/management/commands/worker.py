"""`kehu worker`: run background jobs (and the minute tick of schedules) until stopped."""

from __future__ import annotations

import logging
from typing import Any

from django.core.management.base import BaseCommand
from django.db import connections

from kehu.jobs.heartbeat import Heartbeat
from kehu.jobs.queue import broker_label, get_huey
from kehu.jobs.runner import recover, worker_id
from kehu.jobs.schedules import run_due, sync_schedules


class Command(BaseCommand):
    help = "运行后台任务（导入、导出、计划任务、提醒）；Ctrl-C 停止 · run the background-job worker"

    def add_arguments(self, parser: Any) -> None:
        from django.conf import settings

        parser.add_argument("--threads", type=int, default=settings.KEHU_JOBS["THREADS"],
                            help="jobs run at the same time (default KEHU_WORKER_THREADS or 2)")

    def handle(self, *args: Any, threads: int, **options: Any) -> None:
        for name in ("huey", "kehu.jobs"):
            logging.getLogger(name).setLevel(logging.INFO)
        huey = get_huey()
        # A worker that comes back first finishes what a dead one left, then catches up on
        # schedules missed while nothing ran (each once), then waits for work.
        sync_schedules()
        recovered = recover(at_startup=True)
        started = run_due()
        connections.close_all()
        self.stdout.write(f"Kehu 后台任务进程 {worker_id()}：{threads} 个线程，队列 {broker_label()}"
                          f"（接续 {len(recovered)} 个中断的任务，补跑 {len(started)} 个计划任务）")
        self.stdout.flush()
        # The heartbeat (readiness, metrics) from a thread of its own: first beat at once.
        Heartbeat().start()
        consumer = huey.create_consumer(workers=threads, worker_type="thread", periodic=True,
                                        initial_delay=0.05, backoff=1.5, max_delay=1.0)
        consumer.run()
