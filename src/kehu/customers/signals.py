"""What customers tells the apps above it about ownership, without knowing them.

`owners_changed` is sent inside the writer's transaction by every path that sets owners —
`services.customer_transfer` and `bulk.customers_owner_set` (the pool's moves) — with
`ids` (the customers that moved), `to_user_id` (their owner now; None: nobody),
`actor`, `origin` and `reason`; `handed_over` follows a handover's transfer. A receiver's
writes commit or roll back with the move:
the pool ends the membership of a pool customer given an owner by a transfer, follow-up
cancels the open tasks of a customer left without an owner and plans one given an owner.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.dispatch import Signal

owners_changed = Signal()

# A leaver's work handed to a colleague (离职交接, `handover.handover_run`), in its transaction,
# with `ids` (the customers handed over), `from_user`, `to_user`, `actor`, `origin`: the apps
# above move what the leaver still had open on them — history the open deals they own,
# follow-up the open tasks assigned to them — and each returns {label: how many} for the
# handover's record.
handed_over = Signal()


def announce_owners_changed(*, ids: Iterable[int], to_user_id: int | None, actor: Any,
                            origin: str, reason: str = "") -> None:
    moved = sorted(set(ids))
    if moved:
        owners_changed.send(sender=None, ids=moved, to_user_id=to_user_id, actor=actor,
                            origin=origin, reason=reason)
