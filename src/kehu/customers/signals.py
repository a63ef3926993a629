"""What customers tells the apps above it about ownership, without knowing them.

`owners_changed` is sent inside the writer's transaction by every path that sets owners —
`services.customer_transfer` and `bulk.customers_owner_set` (the pool's moves) — with
`ids` (the customers that moved), `to_user_id` (their owner now; None: nobody),
`actor`, `origin` and `reason`. A receiver's writes commit or roll back with the move:
the pool ends the membership of a pool customer given an owner by a transfer, follow-up
cancels the open tasks of a customer left without an owner and plans one given an owner.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.dispatch import Signal

owners_changed = Signal()


def announce_owners_changed(*, ids: Iterable[int], to_user_id: int | None, actor: Any,
                            origin: str, reason: str = "") -> None:
    moved = sorted(set(ids))
    if moved:
        owners_changed.send(sender=None, ids=moved, to_user_id=to_user_id, actor=actor,
                            origin=origin, reason=reason)
