"""/healthz (liveness) and /readyz (readiness), answered without a login.

- /healthz: the process answers. No database, no queue: a restart is what a failing
  liveness probe causes, and a database outage is no reason to restart every web server.
- /readyz: this server can serve: the database answers `SELECT 1`, every migration on disk
  is applied (a server with new code waits out of the balancer until `kehu migrate` ran), and
  a job worker beat within a minute (reported; it only fails the probe with
  KEHU_READYZ_REQUIRE_WORKER). JSON with each check; 200 when ready, else 503.

Cheap on purpose: once the migrations were found applied, this process stops looking
(migrations are not unapplied under a running server), so a probe is one `SELECT 1` and one
read of the queue's heartbeat key.
"""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django.db import DatabaseError, connection
from django.http import HttpRequest, HttpResponse, JsonResponse

log = logging.getLogger("kehu.ops")
_migrated = False  # every migration was applied when this process last looked


def healthz(request: HttpRequest) -> HttpResponse:
    """Liveness: 200 "ok" as long as the process serves requests."""
    return _no_store(HttpResponse("ok\n", content_type="text/plain; charset=utf-8"))


def readyz(request: HttpRequest) -> JsonResponse:
    """Readiness: {"status": "ok"|"fail", "checks": {...}}, 200 or 503."""
    checks = {"database": check_database()}
    checks["migrations"] = (check_migrations() if checks["database"]["ok"]
                            else {"ok": False, "skipped": True})
    checks["worker"] = check_worker()
    required = [name for name in checks if name != "worker" or settings.KEHU_READYZ_REQUIRE_WORKER]
    ready = all(checks[name]["ok"] for name in required)
    body = {"status": "ok" if ready else "fail", "checks": checks}
    return _no_store(JsonResponse(body, status=200 if ready else 503))


def check_database() -> dict[str, Any]:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError as exc:  # the class only: a message may name the host or the user
        log.warning("readiness: the database does not answer: %s", exc)
        return {"ok": False, "error": type(exc).__name__}
    return {"ok": True}


def check_migrations() -> dict[str, Any]:
    global _migrated
    if _migrated:
        return {"ok": True}
    from django.db.migrations.executor import MigrationExecutor

    try:
        executor = MigrationExecutor(connection)
        pending = len(executor.migration_plan(executor.loader.graph.leaf_nodes()))
    except DatabaseError as exc:
        log.warning("readiness: cannot read the applied migrations: %s", exc)
        return {"ok": False, "error": type(exc).__name__}
    _migrated = pending == 0
    return {"ok": _migrated, "pending": pending}


def check_worker() -> dict[str, Any]:
    """The newest heartbeat of any worker (kehu/jobs/heartbeat.py): its age, fresh or not."""
    from kehu.jobs.heartbeat import STALE_SECONDS, last_beat

    required = settings.KEHU_READYZ_REQUIRE_WORKER
    try:
        beat = last_beat()
    except Exception as exc:  # the queue unreachable (Redis down, a locked file)
        log.warning("readiness: cannot read the worker heartbeat: %s", exc)
        return {"ok": False, "required": required, "error": type(exc).__name__}
    if beat is None:
        return {"ok": False, "required": required, "age_seconds": None}
    return {"ok": beat.fresh(), "required": required, "age_seconds": round(beat.age(), 1),
            "stale_after_seconds": STALE_SECONDS}


def _no_store(response: HttpResponse) -> HttpResponse:
    response["Cache-Control"] = "no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response
