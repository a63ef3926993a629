"""What django-prometheus's middlewares add to a request: the customer list API, p50.

    .venv/bin/python bench/metrics.py [--customers 200] [--rounds 1000]

Builds a throwaway SQLite database under var/bench/metrics/ with that many customers of one
sales rep, then calls GET /api/v1/customers (a page of 50) in process through Django's test
client, alternating a client whose middleware includes the two Prometheus middlewares with
one whose middleware does not (so drift hits both alike). prometheus_client runs in
multiprocess mode, as under `kehu serve` (every increment is a write to a memory-mapped
file). Prints both medians and the difference in ms.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=1000)
    args = parser.parse_args()
    data_dir = ROOT / "var" / "bench" / "metrics"
    shutil.rmtree(data_dir, ignore_errors=True)
    data_dir.mkdir(parents=True)
    metrics_dir = tempfile.mkdtemp(prefix="kehu-bench-metrics-")
    os.environ.update({"KEHU_DATA_DIR": str(data_dir), "PROMETHEUS_MULTIPROC_DIR": metrics_dir,
                       "DJANGO_SETTINGS_MODULE": "kehu.config.settings",
                       "KEHU_API_RATE_PER_TOKEN": "off", "KEHU_API_RATE_PER_ADDRESS": "off"})
    os.environ.pop("DATABASE_URL", None)
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=0)
    try:
        measure(build(args.customers), args.rounds)
    finally:
        shutil.rmtree(metrics_dir, ignore_errors=True)


def build(customers: int) -> str:
    from kehu.accounts.services import department_path, token_create, user_create
    from kehu.customers.services import customer_create

    rep, _ = user_create(username="rep", role_code="sales", department=department_path("总部"))
    for n in range(customers):
        customer_create(actor=rep, origin="demo", data={"kind": "company",
                                                        "name": f"基准客户{n:04d}有限公司"})
    return token_create(user=rep, name="bench")[1]


def measure(token: str, rounds: int) -> None:
    from django.conf import settings
    from django.test import Client, override_settings

    plain = [m for m in settings.MIDDLEWARE if not m.startswith("django_prometheus")]
    counted = [plain[0], "django_prometheus.middleware.PrometheusBeforeMiddleware", *plain[1:],
               "django_prometheus.middleware.PrometheusAfterMiddleware"]
    clients = {}
    for name, middleware in (("without", plain), ("with", counted)):
        with override_settings(MIDDLEWARE=middleware):
            clients[name] = Client(HTTP_AUTHORIZATION=f"Bearer {token}")
            for _ in range(20):  # load the middleware chain, warm caches
                assert clients[name].get("/api/v1/customers").status_code == 200
    times: dict[str, list[float]] = {"without": [], "with": []}
    for _ in range(rounds):
        for name, client in clients.items():
            start = time.perf_counter()
            client.get("/api/v1/customers")
            times[name].append((time.perf_counter() - start) * 1000)
    without, with_ = (statistics.median(times[n]) for n in ("without", "with"))
    print(f"GET /api/v1/customers, {rounds} calls each, p50: without {without:.3f} ms, "
          f"with django-prometheus {with_:.3f} ms, added {with_ - without:+.3f} ms")


if __name__ == "__main__":
    main()
