"""`core.forked`: an iterator run in a forked child, in order, with no database there."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from kehu.accounts.models import User
from kehu.core.forked import ChildFailed, forked


def test_the_items_come_back_in_order_from_another_process():
    here = os.getpid()
    found = list(forked(lambda: ((i, os.getpid()) for i in range(2000))))
    assert [i for i, _pid in found] == list(range(2000))
    assert {pid for _i, pid in found} != {here}


def test_an_error_in_the_child_is_raised_here_with_its_traceback():
    def produce():
        yield 1
        raise ValueError("a bad row")

    items = forked(produce)
    assert next(items) == 1
    with pytest.raises(ChildFailed, match="ValueError: a bad row"):
        next(items)


def test_a_child_stuck_in_silence_fails_the_consumer_and_is_ended():
    """A lock another thread held at the fork is never released in the child: the consumer
    gives up after the silence limit instead of waiting for ever."""
    def produce():
        yield os.getpid()
        time.sleep(60)  # stuck
        yield 2

    items = forked(produce, silence_limit=0.5)
    child = next(items)
    with pytest.raises(ChildFailed, match="said nothing for 0.5 s"):
        next(items)
    with pytest.raises(ProcessLookupError):  # killed and reaped, not left sleeping
        os.kill(child, 0)


@pytest.mark.django_db
def test_the_child_may_not_query_the_database(alice):
    people = User.objects.count()  # read before the fork: the child may use it
    assert list(forked(lambda: iter([people]))) == [people]
    with pytest.raises(ChildFailed, match="DatabaseInChild: a forked child may not query"):
        list(forked(lambda: iter([User.objects.count()])))  # counted in the child: refused
    assert User.objects.filter(pk=alice.pk).exists()  # this process's connection still works


def test_a_consumer_that_stops_early_ends_the_child():
    items = forked(lambda: iter(range(10**9)))
    assert next(items) == 0
    items.close()  # the generator's finally kills and joins the child


CONSUMER = """
import os, sys, time
import django
django.setup()
from kehu.core.forked import forked
items = forked(lambda: ((os.getpid(), i) for i in range(10**9)))
print(next(items)[0], flush=True)  # the child's pid; then stop reading, as if busy
time.sleep(600)
"""


def test_a_consumer_killed_with_9_leaves_no_child_behind(tmp_path):
    env = {**os.environ, "KEHU_DATA_DIR": str(tmp_path), "DJANGO_SETTINGS_MODULE":
           "kehu.config.settings"}
    env.pop("DATABASE_URL", None)
    consumer = subprocess.Popen([sys.executable, "-c", CONSUMER], env=env,  # noqa: S603
                                stdout=subprocess.PIPE, text=True)
    child = int(consumer.stdout.readline())
    consumer.send_signal(signal.SIGKILL)
    consumer.wait(10)
    deadline = time.monotonic() + 20
    while _alive(child) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not _alive(child)  # its next send found no reader: it ended


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0]
    except OSError:
        return False
    return state != "Z"  # a zombie has ended; init reaps it
