"""`kehu run` (what `make run` starts): the web server and a worker together; when one of
them dies the other is stopped and the exit status says something went wrong."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

KEHU = str(Path(sys.executable).with_name("kehu"))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def children(pid: int) -> dict[str, int]:
    """The `kehu serve` and `kehu worker` processes under `kehu run`, by their command."""
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        role = "web" if b"serve" in cmdline else "worker" if b"worker" in cmdline else None
        if role and _descends_from(int(entry.name), pid):
            found[role] = int(entry.name)
    return found


def _descends_from(pid: int, ancestor: int) -> bool:
    while pid > 1:
        if pid == ancestor:
            return True
        try:
            pid = int((Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()[1])
        except OSError:
            return False
    return False


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="reads the process tree from /proc")
def test_kehu_run_serves_and_works_and_stops_everything_when_the_worker_dies(tmp_path):
    env = {**os.environ, "KEHU_DATA_DIR": str(tmp_path), "KEHU_JOB_QUEUE_FILE": str(tmp_path / "q.db")}
    env.pop("DATABASE_URL", None)
    subprocess.run([KEHU, "migrate"], env=env, check=True, capture_output=True, timeout=120)
    port = free_port()
    run = subprocess.Popen([KEHU, "run", "--port", str(port)], env=env, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/login/", timeout=2) as page:
                    assert page.status == 200
                    break
            except OSError:
                assert time.monotonic() < deadline, "the web server did not come up"
                time.sleep(0.3)
        procs = {}
        while set(procs) != {"web", "worker"}:
            procs = children(run.pid)
            assert time.monotonic() < deadline, f"web and worker not both running: {procs}"
            time.sleep(0.2)
        os.kill(procs["worker"], signal.SIGKILL)  # the worker crashes
        assert run.wait(timeout=30) != 0
        output = run.stdout.read().decode(errors="replace")
        assert "worker" in output and "后台任务进程" in output
        time.sleep(0.5)
        with pytest.raises(OSError):  # the web server went down with it
            urllib.request.urlopen(f"http://127.0.0.1:{port}/login/", timeout=2)
    finally:
        if run.poll() is None:
            os.killpg(run.pid, signal.SIGKILL)
