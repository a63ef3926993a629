"""`kehu serve [--host H] [--port P] [--workers N]`: the web app and API under gunicorn."""

from __future__ import annotations

import os
from typing import Any

from django.core.management.base import CommandParser

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
        config = {"bind": f"{host}:{port}", "workers": workers,
                  "worker_class": "sync", "timeout": 60, "graceful_timeout": 10,
                  "accesslog": os.environ.get("KEHU_ACCESS_LOG") or None}

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
