"""/metrics: off by default, a bearer token or public by setting; Kehu's job gauges."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.test import Client
from django.utils import timezone

from kehu.jobs import heartbeat
from kehu.jobs.models import Job
from kehu.jobs.testing import flush_queue

pytestmark = pytest.mark.django_db
TOKEN = "m" * 40


@pytest.fixture(autouse=True)
def _empty_queue():
    flush_queue()
    yield
    flush_queue()


def gauge(text: str, name: str, labels: str = "") -> float | None:
    match = re.search(rf"^{re.escape(name + labels)} (\S+)$", text, re.MULTILINE)
    return float(match.group(1)) if match else None


def test_metrics_are_off_unless_turned_on(root):
    assert Client().get("/metrics").status_code == 404
    signed_in = Client()
    signed_in.force_login(root)
    assert signed_in.get("/metrics").status_code == 404  # not even for an admin


def test_token_mode_needs_the_bearer_token(settings):
    settings.KEHU_METRICS, settings.KEHU_METRICS_TOKEN = "token", TOKEN
    refused = Client().get("/metrics")
    assert refused.status_code == 401 and refused["WWW-Authenticate"].startswith("Bearer")
    assert Client().get("/metrics", HTTP_AUTHORIZATION="Bearer wrong").status_code == 401
    assert Client().get("/metrics", HTTP_AUTHORIZATION=f"Basic {TOKEN}").status_code == 401
    ok = Client(HTTP_HOST="10.0.0.5:9100").get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
    assert ok.status_code == 200 and ok["Content-Type"].startswith("text/plain")


def test_the_job_gauges(settings, root):
    settings.KEHU_METRICS = "public"
    an_hour_ago = timezone.now() - dt.timedelta(hours=1)
    for status in ("queued", "queued", "running", "done", "failed"):
        Job.objects.create(kind="jobs.prune", title="t", actor=root, origin="system", status=status)
    Job.objects.filter(status="queued").update(created_at=an_hour_ago)
    text = Client().get("/metrics").content.decode()
    assert gauge(text, "kehu_jobs", '{status="queued"}') == 2
    assert gauge(text, "kehu_jobs", '{status="running"}') == 1
    assert gauge(text, "kehu_jobs", '{status="retrying"}') == 0
    assert 'status="done"' not in text  # finished jobs say nothing about the queue
    assert 3590 < gauge(text, "kehu_jobs_oldest_queued_age_seconds") < 3700
    assert gauge(text, "kehu_worker_heartbeat_age_seconds") is None  # no worker ever beat: absent
    heartbeat.beat()
    text = Client().get("/metrics").content.decode()
    assert 0 <= gauge(text, "kehu_worker_heartbeat_age_seconds") < 5


def test_an_empty_queue_is_zero(settings):
    settings.KEHU_METRICS = "public"
    text = Client().get("/metrics").content.decode()
    assert gauge(text, "kehu_jobs_oldest_queued_age_seconds") == 0
    assert gauge(text, "kehu_jobs", '{status="queued"}') == 0


def test_requests_are_counted_by_django_prometheus_when_metrics_are_on(settings, alice):
    settings.KEHU_METRICS = "public"
    settings.MIDDLEWARE = ["kehu.ops.middleware.ProbeMiddleware",
                           "django_prometheus.middleware.PrometheusBeforeMiddleware",
                           *settings.MIDDLEWARE[1:],
                           "django_prometheus.middleware.PrometheusAfterMiddleware"]
    client = Client()
    client.force_login(alice)
    client.get("/customers/")
    text = client.get("/metrics").content.decode()
    assert re.search(r'^django_http_responses_total_by_status_view_method_total\{method="GET",'
                     r'status="200",view="customers:list"\} [1-9]', text, re.MULTILINE), text[:2000]
    assert "alice" not in text  # views and statuses, never who


def test_settings_refuse_token_mode_without_a_long_token():
    import os
    import subprocess
    import sys

    env = {**os.environ, "KEHU_METRICS": "token", "KEHU_METRICS_TOKEN": "short"}
    run = subprocess.run([sys.executable, "-c", "import kehu.config.settings"], env=env,
                         capture_output=True, text=True, timeout=60)
    assert run.returncode != 0 and "KEHU_METRICS_TOKEN" in run.stderr


def test_kehu_serve_refuses_metrics_it_could_not_sum(monkeypatch):
    """prometheus_client chooses multiprocess mode at its first import: imported already
    without PROMETHEUS_MULTIPROC_DIR, each gunicorn worker would count alone."""
    import prometheus_client  # noqa: F401 -- imported, as a stray import in the master would
    from django.core.management.base import CommandError

    from kehu.core.management.commands.serve import prepare_metrics_dir

    monkeypatch.delenv("PROMETHEUS_MULTIPROC_DIR", raising=False)
    with pytest.raises(CommandError, match="PROMETHEUS_MULTIPROC_DIR"):
        prepare_metrics_dir()


def test_kehu_serve_empties_the_named_metrics_dir(monkeypatch, tmp_path):
    from kehu.core.management.commands.serve import prepare_metrics_dir

    folder = tmp_path / "metrics"
    folder.mkdir()
    (folder / "counter_123.db").write_bytes(b"an earlier run's counts")
    (folder / "README").write_text("not ours")
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(folder))
    assert prepare_metrics_dir() == folder
    assert sorted(p.name for p in folder.iterdir()) == ["README"]
