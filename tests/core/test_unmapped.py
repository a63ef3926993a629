"""A long SQLite writer (the import) reads through the page cache instead of a memory map,
whose touched pages would count in its resident memory, and the connection gets its map
back after, whatever happened inside."""

from __future__ import annotations

import pytest
from django.db import connection

from kehu.core.db import unmapped

pytestmark = pytest.mark.django_db


def mapped_size() -> int:
    with connection.cursor() as cursor:
        return cursor.execute("PRAGMA mmap_size").fetchone()[0]


def test_the_map_is_off_inside_and_back_after_even_when_the_job_fails():
    if connection.vendor != "sqlite":
        pytest.skip("PostgreSQL maps nothing: unmapped() leaves it alone")
    before = mapped_size()
    assert before > 0  # settings map the database (mmap_size 1 GB)
    with pytest.raises(RuntimeError), unmapped():
        assert mapped_size() == 0
        raise RuntimeError("the job failed")
    assert mapped_size() == before
