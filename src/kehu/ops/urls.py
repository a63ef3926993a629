"""The probes' and the metrics' routes (ProbeMiddleware answers them first; see there)."""

from __future__ import annotations

from django.urls import path

from kehu.ops.health import healthz, readyz
from kehu.ops.metrics import metrics

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("readyz", readyz, name="readyz"),
    path("metrics", metrics, name="metrics"),
]
