"""Web requests' queries run without PostgreSQL's parallel workers; a job that aggregates a
whole table asks for them for its own transaction only (core.db.parallel_workers)."""

from __future__ import annotations

import pytest
from django.db import connection, transaction

from kehu.core.db import parallel_workers

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres]


def workers() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SHOW max_parallel_workers_per_gather")
        return cursor.fetchone()[0]


def test_a_request_plans_without_parallel_workers_and_a_job_asks_for_its_own_transaction():
    assert workers() == "0"
    with transaction.atomic(), connection.cursor() as cursor:
        parallel_workers(cursor)
        assert workers() == "2"
    assert workers() == "0"  # the connection goes back to the web's setting
