"""Several processes on one PostgreSQL: `kehu serve --workers 2` and a `kehu worker` under load.

8 threads × 50 requests (the customer list, quick search, the card, logging a call through
the API, a readiness probe) while jobs are queued. Nothing may fail — no 5xx, no refused or
dropped connection — every job must finish, /readyz (with the worker required) must stay
200 from a separate poller the whole time, and /metrics must have counted the calls of both
web processes. Only correctness is asserted; the timeouts below are there to end a hung run.
PostgreSQL only (`postgres` marker): SQLite's single writer is tested elsewhere.
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from django.test import Client

from kehu.accounts.services import token_create
from kehu.history.models import Communication
from kehu.jobs.models import Job, Status
from kehu.jobs.services import job_start
from kehu.jobs.testing import worker_env

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

KEHU = str(Path(sys.executable).with_name("kehu"))
THREADS, CALLS = 8, 50


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def server(tmp_path):
    """`kehu serve --workers 2` on the test database, metrics on, the worker required."""
    port = free_port()
    log = (tmp_path / "serve.log").open("wb")
    env = {**worker_env(), "KEHU_METRICS": "public", "KEHU_READYZ_REQUIRE_WORKER": "1"}
    process = subprocess.Popen([KEHU, "serve", "--workers", "2", "--port", str(port)], env=env,
                               stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    yield f"http://127.0.0.1:{port}", tmp_path / "serve.log"
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)  # gunicorn stops its workers, then itself
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)


def call(url: str, *, method: str = "GET", headers: dict | None = None,
         body: dict | None = None) -> tuple[int, bytes]:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method, headers={  # noqa: S310
        **(headers or {}), **({"Content-Type": "application/json"} if data else {})})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 -- loopback
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def wait_until(predicate, *, seconds: float, what: str, log: Path | None = None) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if predicate():
                return
        except OSError:
            pass
        time.sleep(0.2)
    detail = log.read_text(errors="replace")[-3000:] if log and log.exists() else ""
    raise AssertionError(f"timed out waiting for {what}\n{detail}")


def test_two_web_processes_and_a_worker_serve_concurrent_load_without_a_failure(
        server, worker, worker_log, alice, root, make_customer):
    base, serve_log = server
    customers = [make_customer(alice, name=f"负载测试客户{n:02d}有限公司") for n in range(20)]
    token = token_create(user=alice, name="load")[1]
    api = {"Authorization": f"Bearer {token}"}
    browser = Client()
    browser.force_login(alice)  # a real session row: the card is a signed-in page
    cookie = {"Cookie": f"sessionid={browser.cookies['sessionid'].value}"}
    worker()
    wait_until(lambda: call(f"{base}/readyz")[0] == 200, seconds=45,
               what="/readyz 200 (web up, migrations applied, worker beating)", log=serve_log)

    def one(n: int) -> tuple[str, int, bytes]:
        customer = customers[n % len(customers)]
        kind = ("list", "search", "card", "write", "ready")[n % 5]
        if kind == "list":
            return kind, *call(f"{base}/api/v1/customers", headers=api)
        if kind == "search":
            return kind, *call(f"{base}/api/v1/customers?q=%E8%B4%9F%E8%BD%BD", headers=api)
        if kind == "card":
            return kind, *call(f"{base}/customers/{customer.pk}/", headers=cookie)
        if kind == "write":
            return kind, *call(f"{base}/api/v1/customers/{customer.pk}/communications",
                               method="POST", headers=api,
                               body={"channel": "phone", "direction": "outbound",
                                     "content": f"负载通话 {n}"})
        return kind, *call(f"{base}/readyz")

    results: list[tuple[str, int]] = []
    failures: list[str] = []
    lock = threading.Lock()

    def client(offset: int) -> None:
        for i in range(CALLS):
            try:
                kind, status, body = one(offset * CALLS + i)
            except OSError as exc:  # refused, reset, timed out
                with lock:
                    failures.append(f"connection: {exc!r}")
                continue
            with lock:
                results.append((kind, status))
                if status not in (200, 201):
                    failures.append(f"{kind} {status}: {body[:300]!r}")

    probes: list[int] = []
    stop = threading.Event()

    def poll_readiness() -> None:
        while not stop.is_set():
            try:
                probes.append(call(f"{base}/readyz")[0])
            except OSError as exc:
                probes.append(-1)
                failures.append(f"readyz connection: {exc!r}")
            stop.wait(0.2)

    poller = threading.Thread(target=poll_readiness)
    threads = [threading.Thread(target=client, args=(t,)) for t in range(THREADS)]
    poller.start()
    started = time.monotonic()
    for thread in threads:
        thread.start()
    jobs = []
    for n in range(6):  # jobs queued while the load runs: exports (alice) and clean-ups (root)
        jobs.append(job_start(actor=alice, origin="manual", kind="transfer.export",
                              params={"target": "customers", "format": "csv"}) if n % 2 else
                    job_start(actor=root, origin="manual", kind="jobs.prune"))
        time.sleep(0.3)
    for thread in threads:
        thread.join(timeout=120)
    took = time.monotonic() - started
    print(f"{THREADS * CALLS} calls in {took:.1f} s ({THREADS * CALLS / took:.0f}/s), "  # noqa: T201
          f"{len(probes)} readiness probes")
    wait_until(lambda: all(Job.objects.get(pk=j.pk).finished for j in jobs), seconds=60,
               what="every queued job to finish", log=worker_log)
    stop.set()
    poller.join(timeout=10)

    assert failures == []
    assert len(results) == THREADS * CALLS
    assert probes and set(probes) == {200}, probes
    statuses = {job.pk: (job.status, job.error[-300:]) for job in Job.objects.filter(
        pk__in=[j.pk for j in jobs])}
    assert {status for status, _error in statuses.values()} == {Status.DONE}, statuses
    writes = sum(1 for kind, _status in results if kind == "write")
    assert Communication.objects.filter(content__startswith="负载通话").count() == writes
    metrics = call(f"{base}/metrics")[1].decode()
    listed = sum(float(n) for n in re.findall(
        r'^django_http_responses_total_by_status_view_method_total\{method="GET",status="200",'
        r'view="api:customer_list"\} (\S+)$', metrics, re.MULTILINE))
    # Both web processes' counters, summed from their files (multiprocess mode).
    assert listed == sum(1 for kind, _status in results if kind in ("list", "search"))
