"""Two transactions rebuilding the calendar table at once (the first communications of a
day, each finding it a day behind) must both commit: the second used to fail with a
duplicate key — a 500 on logging a call, found by tests/ops/test_load_postgres.py."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from django.db import connection, transaction

from kehu.followup.generation import shift_refresh, shift_window
from kehu.followup.models import WorkingShift

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_two_rebuilds_at_once_both_commit():
    today = dt.date(2026, 12, 7)
    first_done, second_started = threading.Event(), threading.Event()
    errors: list[BaseException] = []

    def first() -> None:
        try:
            with transaction.atomic():
                shift_refresh(today)
                first_done.set()
                second_started.wait(10)
                # Still uncommitted while the second rebuild runs into the same days.
                threading.Event().wait(0.5)
        except BaseException as exc:  # reported below, not lost in the thread
            errors.append(exc)
            first_done.set()
        finally:
            connection.close()

    def second() -> None:
        first_done.wait(10)
        second_started.set()
        try:
            with transaction.atomic():
                shift_refresh(today)
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert errors == []
    start, end = shift_window(today)
    assert WorkingShift.objects.count() == (end - start).days + 1
    assert WorkingShift.objects.order_by("day").first().day == start
