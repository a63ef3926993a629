"""`kehu run`: the web server and one worker together, as `make run` starts them.

Ctrl-C stops both; if either exits, the other is stopped and `kehu run` exits with the
failed one's status, so a crashed worker is never silently missing. (honcho does the
supervising: it prefixes each line with the process's name.)
"""

from __future__ import annotations

import shlex
import sys
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand
from honcho.manager import Manager


class Command(BaseCommand):
    help = "同时运行网页服务和一个后台任务进程（Ctrl-C 停止两者）· serve the web app and run a worker"

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--workers", type=int, default=None, help="web server processes")

    def handle(self, *args: Any, host: str, port: int, workers: int | None, **options: Any) -> None:
        beside = Path(sys.executable).with_name("kehu")  # the venv's own console script
        kehu = shlex.quote(str(beside)) if beside.exists() else "kehu"
        serve = f"{kehu} serve --host {shlex.quote(host)} --port {port}"
        if workers:
            serve += f" --workers {workers}"
        manager = Manager()
        manager.add_process("web", serve)
        manager.add_process("worker", f"{kehu} worker")
        manager.loop()
        if manager.returncode:  # said in words, not only honcho's "worker stopped (rc=-9)"
            self.stderr.write(f"Kehu 已停止：网页服务 (web) 与后台任务进程 (worker) 一同运行，"
                              f"其一退出则两者都停止（退出码 {manager.returncode}）")
        sys.exit(manager.returncode)
