"""IdSet answers like a set of the same ids, in a fraction of the memory."""

from __future__ import annotations

import tracemalloc

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kehu.core.idset import IdSet

ids = st.lists(st.integers(min_value=0, max_value=5_000_000), max_size=300)


@given(added=ids, asked=ids)
def test_it_holds_exactly_what_was_added(added, asked):
    held = IdSet(added[: len(added) // 2])
    held.update(added[len(added) // 2:])
    assert len(held) == len(set(added))
    for id_ in [*added, *asked, -1, "7", None]:
        assert (id_ in held) == (id_ in set(added))


def test_a_negative_id_is_refused():
    with pytest.raises(ValueError):
        IdSet().add(-1)


def test_a_million_ids_take_a_small_fraction_of_a_sets_memory():
    tracemalloc.start()
    try:
        held = IdSet(range(5_000_000, 6_000_000))
        used = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    assert len(held) == 1_000_000 and 5_500_000 in held and 4_999_999 not in held
    assert used < 2_000_000  # a set of the same ids: ~65 MB
