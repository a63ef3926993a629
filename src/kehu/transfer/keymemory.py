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
from collections.abc import Iterable
from pathlib import Path

PAIRS_PER_QUERY = 400  # two parameters a pair, far below SQLite's 32,766


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
        wanted = list(dict.fromkeys(pairs))
        found: dict[tuple[str, str], int] = {}
        for start in range(0, len(wanted), PAIRS_PER_QUERY):
            chunk = wanted[start:start + PAIRS_PER_QUERY]
            marks = ", ".join(["(?, ?)"] * len(chunk))
            rows = self._db.execute(
                f"SELECT kind, value, row FROM seen WHERE (kind, value) IN (VALUES {marks})",  # noqa: S608
                [part for pair in chunk for part in pair])
            found.update(((kind, value), row) for kind, value, row in rows)
        return found

    def remember(self, rows: Iterable[tuple[str, str, int]]) -> None:
        """(kind, value, row), in the file's order: a pair seen before keeps its first row."""
        with self._db:
            self._db.executemany("INSERT OR IGNORE INTO seen VALUES (?, ?, ?)", rows)

    def close(self) -> None:
        self._db.close()
        self._dir.cleanup()
