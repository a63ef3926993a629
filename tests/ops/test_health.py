"""/healthz and /readyz: no login, no personal data, 200 or 503 with each check named."""

from __future__ import annotations

import json

import pytest
from django.db import DatabaseError
from django.test import Client

from kehu.jobs import heartbeat
from kehu.jobs.testing import flush_queue
from kehu.ops import health

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _no_heartbeat_from_other_tests():
    flush_queue()
    yield
    flush_queue()


def test_healthz_is_ok_without_a_login_or_the_database(django_assert_num_queries):
    with django_assert_num_queries(0):
        response = Client().get("/healthz")
    assert response.status_code == 200 and response.content == b"ok\n"
    assert response["Cache-Control"] == "no-store"
    assert response["Content-Security-Policy"].startswith("default-src 'none'")
    assert response["X-Content-Type-Options"] == "nosniff"


def test_probes_answer_a_balancer_calling_by_address_over_plain_http(settings):
    """Host 10.0.0.5:8000 is no allowed host, and KEHU_HTTPS redirects everything else."""
    settings.SECURE_SSL_REDIRECT = True
    client = Client(HTTP_HOST="10.0.0.5:8000")
    assert client.get("/healthz").status_code == 200
    assert client.get("/readyz").status_code == 200
    assert client.get("/login/").status_code == 400  # the rest of the site still checks


def test_readyz_names_each_check_and_reports_a_missing_worker_without_failing():
    response = Client().get("/readyz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["checks"]["database"] == {"ok": True}
    assert body["checks"]["migrations"]["ok"] is True
    assert body["checks"]["worker"] == {"ok": False, "required": False, "age_seconds": None}


def test_a_fresh_heartbeat_makes_the_worker_check_ok():
    heartbeat.beat()
    worker = Client().get("/readyz").json()["checks"]["worker"]
    assert worker["ok"] is True and worker["age_seconds"] < 5
    assert worker["required"] is False
    assert set(worker) == {"ok", "required", "age_seconds", "stale_after_seconds"}  # no host:pid


def test_a_stale_worker_fails_readiness_only_when_required(settings):
    import time

    heartbeat.beat(now=time.time() - heartbeat.STALE_SECONDS - 5)
    assert Client().get("/readyz").status_code == 200
    settings.KEHU_READYZ_REQUIRE_WORKER = True
    response = Client().get("/readyz")
    assert response.status_code == 503
    assert response.json()["status"] == "fail"
    assert response.json()["checks"]["worker"]["ok"] is False


def test_a_database_that_does_not_answer_is_503_without_its_message(monkeypatch):
    def broken(*args, **kwargs):
        raise DatabaseError("could not connect to server at db.internal as kehu_user")

    monkeypatch.setattr(health, "check_migrations", broken)  # never reached
    monkeypatch.setattr("django.db.backends.utils.CursorWrapper.execute", broken)
    response = Client().get("/readyz")
    assert response.status_code == 503
    text = response.content.decode()
    assert "db.internal" not in text and "kehu_user" not in text
    body = json.loads(text)
    assert body["checks"]["database"] == {"ok": False, "error": "DatabaseError"}
    assert body["checks"]["migrations"] == {"ok": False, "skipped": True}


def test_unapplied_migrations_keep_a_new_server_out_until_they_are_applied(monkeypatch):
    from django.db.migrations.executor import MigrationExecutor

    monkeypatch.setattr(health, "_migrated", False)
    monkeypatch.setattr(MigrationExecutor, "migration_plan", lambda self, targets: ["one", "two"])
    response = Client().get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"]["migrations"] == {"ok": False, "pending": 2}
    monkeypatch.undo()
    monkeypatch.setattr(health, "_migrated", False)
    assert Client().get("/readyz").status_code == 200
    assert health._migrated is True  # from now on this process does not look again


def test_a_probe_after_the_first_costs_one_query(django_assert_num_queries):
    Client().get("/readyz")
    with django_assert_num_queries(1):  # SELECT 1 (the heartbeat is in the queue, not here)
        Client().get("/readyz")
