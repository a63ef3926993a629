"""The dry run's memory of a file's keys answers like the dict it replaced."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from kehu.transfer.keymemory import KeyMemory

pairs = st.tuples(st.sampled_from(["phone", "email", "credit_code"]),
                  st.text(min_size=1, max_size=12))


@settings(max_examples=40, deadline=None)
@given(batches=st.lists(st.lists(pairs, max_size=500), max_size=4), asked=st.lists(pairs))
def test_the_first_row_of_each_key_is_kept(batches, asked):
    memory, expected, row = KeyMemory(), {}, 0
    try:
        for batch in batches:
            rows = []
            for kind, value in batch:
                row += 1
                rows.append((kind, value, row))
                expected.setdefault((kind, value), row)
            memory.remember(rows)
        wanted = [*expected, *asked]
        assert memory.rows_of(wanted) == {p: expected[p] for p in wanted if p in expected}
    finally:
        memory.close()


def test_a_lookup_probes_the_key_instead_of_reading_the_table():
    """Read whole, the memory of a 1,000,000-row sheet made the preview quadratic."""
    from kehu.transfer.keymemory import LOOKUP

    memory = KeyMemory()
    try:
        plan = [row[3] for row in memory._db.execute(
            "EXPLAIN QUERY PLAN " + LOOKUP.format(marks="?, ?"), ["phone", "a", "b"])]
    finally:
        memory.close()
    assert plan == ["SEARCH seen USING PRIMARY KEY (kind=? AND value=?)"]
