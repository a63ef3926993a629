"""`kehu serve [--host H] [--port P] [--workers N]`: the web app and API under gunicorn."""

from __future__ import annotations

import atexit
import os
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

from django.core.management.base import CommandError, CommandParser
from django.utils.translation import gettext as _

from kehu.core.commands import KehuCommand


class Command(KehuCommand):
    help = "运行网页和 API（gunicorn；静态文件由 whitenoise 提供）· serve the web app and API with gunicorn"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--workers", type=int, default=None,
                            help="gunicorn worker processes (default: 2 on SQLite, "
                                 "2 × CPUs + 1 up to 8 on PostgreSQL)")

    def handle(self, *args: Any, host: str, port: int, workers: int | None,
               **options: Any) -> None:
        """Run gunicorn in this process on settings.WSGI_APPLICATION (kehu.config.wsgi)."""
        from django.conf import settings
        from gunicorn.app.base import BaseApplication

        sqlite = settings.DATABASES["default"]["ENGINE"].endswith("sqlite3")
        # SQLite has one writer at a time: a few workers are enough, more only wait on the lock.
        workers = workers or (2 if sqlite else min(2 * (os.cpu_count() or 1) + 1, 8))
        config: dict[str, Any] = {
            "bind": f"{host}:{port}", "workers": workers, "worker_class": "sync", "timeout": 60,
            "graceful_timeout": 10, "accesslog": os.environ.get("KEHU_ACCESS_LOG") or None}
        if settings.KEHU_METRICS != "off":
            prepare_metrics_dir()
            config["child_exit"] = _metrics_of_a_dead_worker

        class KehuServer(BaseApplication):
            def load_config(self) -> None:
                for key, value in config.items():
                    if value is not None:
                        self.cfg.set(key, value)

            def load(self) -> Any:
                # By its dotted path, read at run time: core imports no other Kehu app.
                from django.core.servers.basehttp import get_internal_wsgi_application

                return get_internal_wsgi_application()

        self.stdout.write(f"Kehu 运行于 http://{host}:{port}/ （{workers} 个进程）")
        self.stdout.flush()
        KehuServer().run()


def prepare_metrics_dir() -> Path:
    """Put prometheus_client in multiprocess mode for the workers gunicorn is about to fork.

    Each worker writes its counters to files in PROMETHEUS_MULTIPROC_DIR and /metrics sums
    them (kehu/ops/metrics.py). The directory is the one the environment names (systemd's
    RuntimeDirectory, docs/deploy.md) or a fresh one removed at exit; files of an earlier run
    are deleted first, as prometheus_client requires. The mode is chosen when
    prometheus_client is first imported, so nothing in this (master) process may have
    imported it yet.
    """
    if "prometheus_client" in sys.modules and not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        raise CommandError(_("prometheus_client 在 kehu serve 选择多进程模式之前已被导入，各进程的指标"
                             "无法汇总：请在环境中设置 PROMETHEUS_MULTIPROC_DIR"))
    named = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    folder = Path(named) if named else Path(tempfile.mkdtemp(prefix="kehu-metrics-"))
    folder.mkdir(parents=True, exist_ok=True)
    for stale in folder.glob("*.db"):
        stale.unlink()
    if not named:
        atexit.register(shutil.rmtree, folder, ignore_errors=True)
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(folder)
    return folder


def _metrics_of_a_dead_worker(server: Any, worker: Any) -> None:
    """gunicorn's child_exit hook: a dead worker's live gauges leave the sums (its counters stay)."""
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)
