"""Keep the garbage collector's full passes off the long-lived objects of a web process.

A loaded Kehu process holds ~325,000 objects that live as long as it does: pypinyin's
dictionaries, the bundled regions, Django's URL resolvers, compiled templates. CPython's
oldest-generation collection walks every one of them, and a request that allocates freely
(a rep with 500 shares: their ids, the page's rows) sets one off every ~50 requests:
~105 ms each, the whole of that rep's p99 (PostgreSQL, 1,000,000 customers, in process:
p99 137 ms, then 27 ms with them frozen). `gc.freeze()` moves what exists into a permanent
generation the collector skips; it is done once the app is loaded and again after the first
request, which builds the rest of the lazy caches. Garbage still goes: freezing only
exempts objects that exist at that moment.
"""

from __future__ import annotations

import gc
from typing import Any

from django.core.signals import request_finished


def freeze_after_warm_up() -> None:
    """Freeze what the loaded app holds now, and once more after the first request."""
    gc.collect()
    gc.freeze()
    request_finished.connect(_freeze_once_warm, dispatch_uid="kehu.core.warm")


def freeze_now() -> None:
    """Freeze what the process holds now: before a long batch job that allocates freely
    (an import: its planner, the region index, pypinyin's dictionaries; 20,000 rows in
    two processes took 12.5 instead of 14.1 s with them frozen, on a loaded machine)."""
    gc.collect()
    gc.freeze()


def _freeze_once_warm(sender: Any, **kwargs: Any) -> None:
    request_finished.disconnect(dispatch_uid="kehu.core.warm")
    gc.collect()
    gc.freeze()
