"""Signals other apps listen to without the writers knowing them.

`customers_changed` is sent with `ids` whenever a write touched customers' data — every
change-log row that names a customer (`records.log_change`), and once per batch from the
set-based writers. Classification re-runs those customers' rules from it (debounced).
"""

from collections.abc import Iterable

from django.dispatch import Signal

customers_changed = Signal()


def announce_customers_changed(ids: Iterable[int | None]) -> None:
    ids = {pk for pk in ids if pk is not None}
    if ids:
        customers_changed.send(sender=None, ids=ids)
