"""An iterator run in a second process, its items handed back in order: the second core.

The import cleans a sheet's rows (validation, normalisation, pinyin, search grams: pure
CPU, about half of a row's cost) in a child while this process decides and writes, batch
by batch (`transfer.importing`). The child is a fork, so it starts at once with what this
process holds (the planner, pypinyin's dictionaries, the region index) and runs the very
same functions: there is no second cleaning path, only a second process running it.

The child must not touch the database: it inherited this process's connections (the same
SQLite file, the same PostgreSQL socket) and, in a test, a transaction it cannot see into.
Every query there is refused (`DatabaseInChild`), and it ends with `os._exit` (as
multiprocessing's fork does), so it never closes what it inherited. It works at most a
pipe's buffer ahead (the send blocks), which bounds the memory both hold. When this
process dies (kill -9), the child's next send fails and it ends; when the consumer
stops early, the child is killed.
"""

from __future__ import annotations

import multiprocessing
import traceback
from collections.abc import Callable, Iterator
from multiprocessing.connection import Connection
from typing import Any, TypeVar

from django.db import connections

T = TypeVar("T")
# The longest the child may stay silent before it is taken for stuck: a batch of 2,000 rows
# takes about a second there. A fork copies one thread of a process the job worker runs
# several in; a lock another thread held at that moment would never be released in the
# child, and without a limit the job would wait on it for ever instead of failing (and
# being retried from its checkpoint).
SILENCE_LIMIT = 300.0


class DatabaseInChild(RuntimeError):
    """A query was attempted in the forked child, which must stay off the database."""


class ChildFailed(RuntimeError):
    """The child raised (its traceback is the message) or died without a word."""


def forked(produce: Callable[[], Iterator[T]], *, silence_limit: float = SILENCE_LIMIT
           ) -> Iterator[T]:
    """The items `produce()` yields, computed in a forked child. `produce` is called there
    only: whatever it needs from the database must be read before this is called."""
    context = multiprocessing.get_context("fork")
    reader, writer = context.Pipe(duplex=False)
    child = context.Process(target=_child, args=(produce, reader, writer), name="kehu-forked")
    child.start()
    writer.close()
    try:
        while True:
            if not reader.poll(silence_limit):
                raise ChildFailed(f"the child said nothing for {silence_limit:g} s")
            try:
                kind, payload = reader.recv()
            except EOFError:
                child.join(5)
                raise ChildFailed(f"the child ended without a word (exit code "
                                  f"{child.exitcode})") from None
            if kind == "end":
                return
            if kind == "error":
                raise ChildFailed(payload)
            yield payload
    finally:
        reader.close()
        if child.is_alive():
            child.kill()
        child.join()


def _child(produce: Callable[[], Iterator[Any]], reader: Connection,
           writer: Connection) -> None:
    # The reading end came along with the fork: while the child holds it, a dead parent
    # would leave the pipe a reader, and the child would block on a full pipe for ever.
    reader.close()
    for alias in connections:
        connections[alias].execute_wrappers.append(_refuse)
    try:
        for item in produce():
            writer.send(("item", item))
        writer.send(("end", None))
    except BrokenPipeError:  # the consumer is gone (killed, or it stopped reading)
        return
    except BaseException:  # noqa: BLE001 — handed to the consumer, which raises it
        writer.send(("error", traceback.format_exc()))


def _refuse(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
    raise DatabaseInChild(f"a forked child may not query the database: {sql[:200]}")
