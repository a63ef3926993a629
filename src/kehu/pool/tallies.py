"""A pool member's kanban figures from `PoolStageTally` (kept by triggers, migration 0003),
registered with `history.tallies` for the pool's VIEW grant: the board adds a member's pools'
deals from a few tally rows instead of reading every deal of the pool.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.db import connection
from django.db.models import Sum

from kehu.history.tallies import CENT, Figures
from kehu.pool.gate import member_pool_ids
from kehu.pool.models import PoolStageTally

_CENTS = "CAST(ROUND(o.amount * 100) AS BIGINT)"
_COUNTED = (f"SELECT e.pool_id, o.stage_id, COALESCE(o.owner_id, 0), COUNT(*), SUM({_CENTS}) "
            "FROM history_opportunity o JOIN pool_poolentry e ON e.customer_id = o.customer_id "
            "JOIN customers_customer c ON c.id = o.customer_id WHERE c.deleted_at IS NULL "
            "GROUP BY e.pool_id, o.stage_id, COALESCE(o.owner_id, 0)")

Key = tuple[int, int, int]  # (pool, stage, deal owner)


def pool_stage_figures(viewer: Any, stage_ids: list[int],
                       owner_id: int | None) -> dict[int, Figures]:
    """{stage id: Figures} of the deals in the viewer's pools (of deal owner `owner_id`)."""
    pools = member_pool_ids(viewer)
    if not pools:
        return {}
    rows = PoolStageTally.objects.filter(pool__in=sorted(pools), stage__in=stage_ids)
    if owner_id is not None:
        rows = rows.filter(deal_owner=owner_id)
    return {stage: Figures(n or 0, Decimal(cents or 0) * CENT) for stage, n, cents in
            rows.values("stage").order_by().annotate(n=Sum("opportunities"), c=Sum("amount_cents"))
            .values_list("stage", "n", "c")}


def pool_tallies_rebuild() -> int:
    """Recount every pool's figures from the deals (inside the caller's transaction)."""
    PoolStageTally.objects.all().delete()
    with connection.cursor() as cursor:
        cursor.execute("INSERT INTO pool_poolstagetally (pool, stage, deal_owner, opportunities, "
                       "amount_cents) " + _COUNTED)
    return PoolStageTally.objects.count()


def pool_tallies_drift() -> list[tuple[tuple[str, Key], Any, Any]]:
    """Where the kept pool figures and a recount disagree: [(("pool", key), kept, recount)]."""
    kept = {(p, s, o): (n, c) for p, s, o, n, c in PoolStageTally.objects.values_list(
        "pool", "stage", "deal_owner", "opportunities", "amount_cents") if n or c}
    with connection.cursor() as cursor:
        cursor.execute(_COUNTED)
        recount = {(p, s, o): (n, c) for p, s, o, n, c in cursor.fetchall() if n}
    return [(("pool", k), kept.get(k), recount.get(k)) for k in sorted(kept.keys() | recount.keys())
            if kept.get(k) != recount.get(k)]
