"""The kanban's column heads at scale: `StageTally` rows, kept by triggers (migration 0006).

Reading: `stage_figures` sums the rows of the stages asked for, for the owners the viewer's
scope covers (`customers.scoping.scope_parts`, the same parts `visible_to` builds its filter
from), and adds what shares and grants reach beyond those owners: a grant with figures of
its own (`register_grant_tally`: the pool keeps a tally per pool, so a member's board does
not read the pool's 200,000 customers' deals, ~0.9 s at 1,000,000 customers) from those, the
rest — shares, a handful — by reading the opportunities through `visible_to`. Measured:
bench/results/board-*-1000k*.md.

Writing: nothing here; the triggers keep the rows in the writer's transaction.
`stage_tallies_rebuild` recomputes them from scratch (`kehu stage-tallies --rebuild`), and
`stage_tallies_drift` compares what is kept with a recount (`kehu stage-tallies`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import connection, transaction
from django.db.models import Count, Q, Sum

from kehu.customers.scoping import ScopeParts, scope_parts
from kehu.history.models import Opportunity, StageTally

CENT = Decimal("0.01")
_INTO = ("INSERT INTO history_stagetally (stage, customer_owner, deal_owner, opportunities, "
         "amount_cents) ")
REBUILD_SQL = [
    "DELETE FROM history_stagetally",
    _INTO + "SELECT o.stage_id, COALESCE(c.owner_id, 0), COALESCE(o.owner_id, 0), COUNT(*), "
    "SUM(CAST(ROUND(o.amount * 100) AS BIGINT)) FROM history_opportunity o "
    "JOIN customers_customer c ON c.id = o.customer_id WHERE c.deleted_at IS NULL "
    "GROUP BY o.stage_id, COALESCE(c.owner_id, 0), COALESCE(o.owner_id, 0)",
]


@dataclass(frozen=True)
class Figures:
    """One column's head: how many opportunities and their amount (all, not just those shown)."""

    count: int = 0
    amount: Decimal = Decimal("0.00")


@dataclass(frozen=True)
class GrantTally:
    """Figures an app above history keeps for the customers one of its VIEW grants reaches
    (`customers.scoping.register_view_grant`), registered from the app's `ready()`:
    `figures(viewer, stage_ids, owner_id)` answers {stage id: Figures} of the deals the grant
    shows the viewer; `rebuild()` recounts (returns rows written); `drift()` lists where the
    kept figures and a recount disagree."""

    grant: Callable[[Any], Any]
    figures: Callable[[Any, list[int], int | None], dict[int, Figures]]
    rebuild: Callable[[], int]
    drift: Callable[[], list]


_GRANT_TALLIES: dict[Callable[[Any], Any], GrantTally] = {}


def register_grant_tally(tally: GrantTally) -> None:
    _GRANT_TALLIES[tally.grant] = tally


def stage_figures(*, viewer: Any, stage_ids: Iterable[int],
                  owner_id: int | None = None) -> dict[int, Figures]:
    """{stage id: Figures} over the opportunities `viewer` sees (of deal owner `owner_id`)."""
    stage_ids = sorted(set(stage_ids))
    parts = scope_parts(viewer)
    if parts.owners == [] or not stage_ids:
        return {}
    rows = StageTally.objects.filter(stage__in=stage_ids)
    if parts.owners is not None:
        rows = rows.filter(customer_owner__in=parts.owners)
    if owner_id is not None:
        rows = rows.filter(deal_owner=owner_id)
    counts: dict[int, int] = {}
    cents: dict[int, int] = {}
    for stage, n, amount in (rows.values("stage").order_by()
                             .annotate(n=Sum("opportunities"), c=Sum("amount_cents"))
                             .values_list("stage", "n", "c")):
        counts[stage] = n or 0
        cents[stage] = amount or 0
    figures = {s: Figures(counts.get(s, 0), Decimal(cents.get(s, 0)) * CENT) for s in stage_ids}
    return _summed([figures, *_beyond_owners(viewer, parts, stage_ids, owner_id)])


def _beyond_owners(viewer: Any, parts: ScopeParts, stage_ids: list[int],
                   owner_id: int | None) -> list[dict[int, Figures]]:
    """What shares and grants add: opportunities the viewer sees whose customer's owner is
    outside their scope (so not in the tallies they read). A grant with a tally of its own
    answers from it; shares and other grants are read through `visible_to`, driven by the
    customers' ids, with the tallied grants' customers left out so nothing counts twice;
    no query at all for someone with neither."""
    grants = list(zip(parts.sources, parts.granted, strict=True))
    tallied = [(_GRANT_TALLIES[fn], ids) for fn, ids in grants if fn in _GRANT_TALLIES]
    found = [tally.figures(viewer, stage_ids, owner_id) for tally, _ in tallied]
    reach = Q(customer_id__in=parts.shared) if parts.shared else Q()
    for fn, ids in grants:
        if fn not in _GRANT_TALLIES:
            reach |= Q(customer_id__in=ids)
    if reach:
        qs = (Opportunity.objects.visible_to(viewer).filter(reach, stage_id__in=stage_ids)
              .exclude(customer__owner_id__in=parts.owners))
        for _, ids in tallied:
            qs = qs.exclude(customer_id__in=ids)
        if owner_id is not None:
            qs = qs.filter(owner_id=owner_id)
        found.append({row["stage_id"]: Figures(row["n"], (row["amount"] or Decimal(0)).quantize(CENT))
                      for row in qs.values("stage_id").order_by()
                      .annotate(n=Count("id"), amount=Sum("amount"))})
    return found


def _summed(many: list[dict[int, Figures]]) -> dict[int, Figures]:
    total: dict[int, Figures] = {}
    for figures in many:
        for stage, more in figures.items():
            base = total.get(stage, Figures())
            total[stage] = Figures(base.count + more.count, base.amount + more.amount)
    return total


def stage_tallies_rebuild() -> int:
    """Recount every tally from the opportunities (after a restore from an old backup, or if
    a write ever bypassed the database's triggers); returns how many rows it wrote."""
    with transaction.atomic(), connection.cursor() as cursor:
        for statement in REBUILD_SQL:
            cursor.execute(statement)
        return StageTally.objects.count() + sum(t.rebuild() for t in _GRANT_TALLIES.values())


def stage_tallies_recount() -> dict[tuple[int, int, int], tuple[int, int]]:
    """What the tallies should hold, counted from scratch: {(stage, customer owner, deal
    owner): (count, cents)}, rows of nothing left out."""
    with connection.cursor() as cursor:
        cursor.execute(REBUILD_SQL[1].removeprefix(_INTO))
        return {(s, co, do): (n, c) for s, co, do, n, c in cursor.fetchall() if n}


def stage_tallies_kept() -> dict[tuple[int, int, int], tuple[int, int]]:
    """What the tallies hold, rows of nothing left out (a column emptied keeps a zero row)."""
    return {(s, co, do): (n, c) for s, co, do, n, c in StageTally.objects.values_list(
        "stage", "customer_owner", "deal_owner", "opportunities", "amount_cents")
        if n or c}


def stage_tallies_drift() -> list[tuple[tuple[int, int, int], Any, Any]]:
    """Where the kept tallies and a recount disagree: [(key, kept, recounted)]."""
    kept, recount = stage_tallies_kept(), stage_tallies_recount()
    return [(k, kept.get(k), recount.get(k)) for k in sorted(kept.keys() | recount.keys())
            if kept.get(k) != recount.get(k)] + [
        found for tally in _GRANT_TALLIES.values() for found in tally.drift()]
