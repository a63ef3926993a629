"""/metrics: Prometheus text — django-prometheus's request metrics plus Kehu's job gauges.

KEHU_METRICS picks who reads it: `off` (404, the default), `token` (the bearer token in
KEHU_METRICS_TOKEN; 401 otherwise) or `public`. The request counters and latency histograms
come from django-prometheus's middlewares (settings.py adds them only when metrics are on).

Several gunicorn workers: each process counts its own requests, so a scrape that reached
one worker would see a third of the traffic. `kehu serve` therefore runs prometheus_client
in multiprocess mode (PROMETHEUS_MULTIPROC_DIR, prepared before the workers start, a dead
worker's files marked by gunicorn's child_exit hook), and this view sums every worker's files.
The Kehu gauges are read from the database at scrape time, so every worker answers the same:

    kehu_jobs{status="queued"|"running"|"retrying"}   unfinished jobs
    kehu_jobs_oldest_queued_age_seconds               the longest wait in the queue (0: none)
    kehu_worker_heartbeat_age_seconds                 since any worker last beat (absent: never)

prometheus_client is imported here lazily: `kehu serve` must set PROMETHEUS_MULTIPROC_DIR
before the first import anywhere, and the URL checks import this module in the master process.
"""

from __future__ import annotations

import hmac
import os
from collections.abc import Iterator
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils import timezone


def metrics(request: HttpRequest) -> HttpResponse:
    """The metrics page, if KEHU_METRICS lets this caller read it."""
    refused = _refusal(request)
    if refused is not None:
        return refused
    from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, generate_latest

    kehu = CollectorRegistry(auto_describe=False)
    kehu.register(KehuCollector())
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client.multiprocess import MultiProcessCollector

        MultiProcessCollector(kehu)  # every worker's counters, summed
        body = generate_latest(kehu)
    else:  # one process (tests, runserver): its own registry, with process and GC metrics
        body = generate_latest(REGISTRY) + generate_latest(kehu)
    response = HttpResponse(body, content_type=CONTENT_TYPE_LATEST)
    response["Cache-Control"] = "no-store"
    return response


def _refusal(request: HttpRequest) -> HttpResponse | None:
    mode = settings.KEHU_METRICS
    if mode == "public":
        return None
    if mode == "token":
        scheme, _space, given = request.headers.get("Authorization", "").partition(" ")
        expected = settings.KEHU_METRICS_TOKEN
        if scheme.lower() == "bearer" and expected and hmac.compare_digest(
                given.strip().encode(), expected.encode()):
            return None
        response = HttpResponse("unauthorized\n", status=401, content_type="text/plain")
        response["WWW-Authenticate"] = 'Bearer realm="kehu-metrics"'
        return response
    return HttpResponse("not found\n", status=404, content_type="text/plain")


class KehuCollector:
    """Kehu's gauges, computed when scraped: two small queries on the job table and one read
    of the queue's heartbeat key."""

    def collect(self) -> Iterator[Any]:
        from prometheus_client.core import GaugeMetricFamily

        from kehu.jobs.heartbeat import last_beat
        from kehu.jobs.selectors import oldest_queued_at, queue_depth

        jobs = GaugeMetricFamily("kehu_jobs", "Unfinished background jobs by status.",
                                 labels=["status"])
        for status, count in queue_depth().items():
            jobs.add_metric([status], count)
        yield jobs
        oldest = oldest_queued_at()
        age = (timezone.now() - oldest).total_seconds() if oldest else 0.0
        yield GaugeMetricFamily("kehu_jobs_oldest_queued_age_seconds",
                                "Seconds the longest-waiting queued job has waited (0: none).",
                                value=max(age, 0.0))
        try:
            beat = last_beat()
        except Exception:  # the queue unreachable: the gauge goes absent, alert on absent()
            beat = None
        if beat is not None:
            yield GaugeMetricFamily("kehu_worker_heartbeat_age_seconds",
                                    "Seconds since any job worker last beat.", value=beat.age())
