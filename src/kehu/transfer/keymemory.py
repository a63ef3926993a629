"""What a dry run remembers of the file's match keys, on disk rather than in memory.

The dry run writes nothing, so a row matching a row of an earlier batch is found here, not
in the database. Kept as a dict it held every key of the file: ~2 keys a row, ~220 bytes
each, ~440 MB for a 1,000,000-row sheet. Here they live in a temporary SQLite file of
its own (whatever database Kehu runs on), looked up and added a batch at a time, and
removed with it.
"""

from __future__ import annotations

import sqlite3
import tempfile
from collections import defaultdict
from collections.abc import Iterable
from pathlib import Path

VALUES_PER_QUERY = 900  # far below SQLite's 32,766 parameters
LOOKUP = "SELECT value, row FROM seen WHERE kind = ? AND value IN ({marks})"


class KeyMemory:
    """(kind, value) -> the file's first row holding it."""

    def __init__(self) -> None:
        self._dir = tempfile.TemporaryDirectory(prefix="kehu-import-keys-")
        self._db = sqlite3.connect(Path(self._dir.name) / "keys.sqlite3")
        # Nothing to keep if the process dies: the run starts the preview again.
        self._db.executescript("PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF;"
                               "CREATE TABLE seen (kind TEXT, value TEXT, row INTEGER,"
                               " PRIMARY KEY (kind, value)) WITHOUT ROWID")

    def rows_of(self, pairs: Iterable[tuple[str, str]]) -> dict[tuple[str, str], int]:
        """The first row of each pair seen so far (pairs not seen are left out)."""
        by_kind: dict[str, list[str]] = defaultdict(list)
        for kind, value in dict.fromkeys(pairs):
            by_kind[kind].append(value)
        found: dict[tuple[str, str], int] = {}
        for kind, values in by_kind.items():
            for start in range(0, len(values), VALUES_PER_QUERY):
                chunk = values[start:start + VALUES_PER_QUERY]
                # kind = ? AND value IN (…): a probe of the key per value. A row value
                # `(kind, value) IN (VALUES …)` read the whole table each time instead.
                rows = self._db.execute(LOOKUP.format(marks=", ".join(["?"] * len(chunk))),
                                        [kind, *chunk])
                found.update(((kind, value), row) for value, row in rows)
        return found

    def remember(self, rows: Iterable[tuple[str, str, int]]) -> None:
        """(kind, value, row), in the file's order: a pair seen before keeps its first row."""
        with self._db:
            self._db.executemany("INSERT OR IGNORE INTO seen VALUES (?, ?, ?)", rows)

    def close(self) -> None:
        self._db.close()
        self._dir.cleanup()
