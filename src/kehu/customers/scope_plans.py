"""How the gate's owner test is written: the plan that reads the fewest rows for a page.

A data scope is a set of owners, plus shares and grants (the pool). There are three ways to
read one page of it in list order, and which is cheapest depends on the organisation:

- IN: `owner_id IN (…)`, served by the owner index. It reads every row of the scope and
  sorts them: best when the scope holds few rows (a small team owning 100 customers).
- WALK: `owner_id + 0 IN (…)`, which no index serves, so the database walks the list's sort
  index and skips other owners' entries. It reads about page × table / scope entries: best
  when the scope holds more than a small share of the table (a regional manager with 30 %; the demo team's
  managers with half the table each).
- BRANCHES: each owner's own range of the (owner, updated_at, id) index read in order, the
  shares and grants as branches of their own, merged by `core.pagination` like the timeline
  merges its kinds. It reads about owners × page rows: best for a few owners with many rows.

The choice comes from the data, not from the role: a bounded count of the scope's live rows
(it stops at PROBE_CAP, reading at most that many index entries: ~1 ms) and the table's size,
estimated from its largest id, weighed with what each step was measured to cost. The sizes
are kept per process for ESTIMATE_SECONDS: a plan chosen on a few minutes' old count is still
the right order of magnitude, and every plan returns the same rows — only the work differs
(tests/customers/test_scope_plans.py holds them to that).

The list's sort indexes carry the owner (customers migration 0016), so a walk tests each
entry's owner inside the index and reads the table only for the rows it keeps.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from django.apps import apps
from django.db import connection
from django.db.models import F, Max, OuterRef, Q, QuerySet, Subquery
from django.db.models.lookups import IsNull, Lookup

IN, WALK, BRANCHES = "in", "walk", "branches"
PAGE = 51  # the list's page (50) and the one row that says whether there is a next page
# What the plans' steps cost, in microseconds, measured at 1,000,000 customers on SQLite
# (bench/org.py's company, a warm cache): a row read from the table (the IN plan reads and
# sorts every row of the scope), an entry of an index walked (the walk skips other owners'
# rows inside the index, which carries the owner: 1,275 entries in 0.25 ms), one more query
# sent through the ORM (a branch).
ROW_US, ENTRY_US, QUERY_US = 5.0, 0.25, 150.0
# Counting stops here: past a few thousand rows the IN plan has lost to the walk at any
# table size this tool serves, so the exact number no longer matters (≤ ~1.3 ms to count).
PROBE_CAP = 5_000
ESTIMATE_SECONDS = 300.0
# Per-owner branches are one short query each; past this many, a walk is cheaper anyway.
MAX_BRANCHES = 24

_estimates: dict[tuple, tuple[float, int]] = {}


@dataclass(frozen=True)
class ScopeSize:
    """What the plan choice reads: rows in the scope (capped), owners, table size."""

    owner_rows: int
    shared: int
    granted_rows: int
    owners: int
    table_rows: int
    # SQLite tests a walked entry's owner inside the index and skips the row; PostgreSQL's
    # index scan fetches the row first (only an index-only scan would not), so there a
    # walked entry costs a row (a department's filtered page: 100 ms walked on PostgreSQL).
    index_filters: bool = True

    @property
    def rows(self) -> int:
        return self.owner_rows + self.shared + self.granted_rows

    @property
    def counted(self) -> bool:
        """Whether the counts are exact (neither probe stopped at its cap)."""
        return self.owner_rows < PROBE_CAP and self.granted_rows < PROBE_CAP

    def cost(self, plan: str, *, through_join: bool = False) -> float:
        """Microseconds of database work for one page by `plan`. `through_join`: the rows
        are another table's (orders, tickets) reaching their customer through a join, so
        each entry a walk passes costs a customer row, not an index entry (the sharer's
        tickets at 1,000,000 customers: 435 ms walked, a few ms through the owner index)."""
        if plan == IN:
            return self.rows * ROW_US if self.counted else float("inf")
        if plan == WALK:
            entry = ROW_US if through_join or not self.index_filters else ENTRY_US
            return PAGE * self.table_rows / max(self.rows, 1) * entry + PAGE * ROW_US
        if self.owners > MAX_BRANCHES or self.granted_rows >= PROBE_CAP:
            return float("inf")
        branches = self.owners + bool(self.shared) + bool(self.granted_rows)
        return (branches + 1) * QUERY_US + self.owners * PAGE * ENTRY_US \
            + (self.shared + self.granted_rows + PAGE) * ROW_US

    def filter_plan(self, *, through_join: bool = False) -> str:
        """IN or WALK for the filter itself (counts and lookups use it as well as pages)."""
        return IN if self.cost(IN) <= self.cost(WALK, through_join=through_join) else WALK

    def wants_branches(self) -> bool:
        """Whether a page read branch by branch beats the filter's own plan. When the probe
        stopped counting, the walk's cost is only an upper bound (the scope may be far
        larger, the walk far shorter): then the branches must be twice as cheap."""
        margin = 1 if self.counted else 2
        return self.cost(BRANCHES) * margin < min(self.cost(IN), self.cost(WALK))


def scope_size(owners: Sequence[int], shared: int, granted: Sequence[QuerySet]) -> ScopeSize:
    """The scope's size as the plan choice needs it, from a per-process cache or two probes."""
    return ScopeSize(_owner_rows(tuple(owners)), shared, sum(_granted_rows(ids) for ids in granted),
                     len(owners), _table_rows(), index_filters=connection.vendor == "sqlite")


def owner_test(path: str, owners: Sequence[int], plan: str) -> tuple[dict, Q]:
    """(aliases, condition) for "owned by one of `owners`" written for `plan`."""
    if plan == IN:
        return {}, Q(**{f"{path}owner_id__in": list(owners)})
    # `+ 0` hides the column from the planner, so it walks the sort index (see above).
    return {"_scope_owner": F(f"{path}owner_id") + 0}, Q(_scope_owner__in=list(owners))


def grant_test(path: str, ids: QuerySet, plan: str) -> Q:
    """A VIEW grant (an id subquery). In a walk each row is probed through the grant's index
    instead of listing every granted id first, and as a scalar sub-select, not EXISTS: an
    EXISTS inside an OR, PostgreSQL turns into a hash of the whole grant (200,000 pool
    entries: a rep's first page 164 ms; probed per row, 6.8 ms), and SQLite probes either."""
    if plan == IN:
        return Q(**{f"{path}id__in" if path else "id__in": ids})
    column = ids.query.values_select[0] if ids.query.values_select else "pk"
    probe = ids.filter(**{column: OuterRef(f"{path}id" if path else "pk")}).values(column)[:1]
    return Q(IsNull(Subquery(probe), False))


class _IdArray(Subquery):
    template = "ARRAY(%(subquery)s)"


class _EqualsAny(Lookup):
    """`column = ANY(ARRAY(subquery))` (PostgreSQL)."""

    lookup_name = "equals_any"

    def as_sql(self, compiler: Any, connection: Any) -> tuple[str, list]:
        lhs, lhs_params = self.process_lhs(compiler, connection)
        rhs, rhs_params = self.process_rhs(compiler, connection)
        return f"{lhs} = ANY({rhs})", [*lhs_params, *rhs_params]


def rows_of_customers(column: str, customers: QuerySet) -> Q | Lookup:
    """Rows of another table whose `column` (customer_id) is one of `customers` — the IN
    plan through a join: the customers first, then their rows through the `(customer, …)`
    indexes. On PostgreSQL as `= ANY(ARRAY(…))`: an `IN (subquery)` there is a semi-join the
    planner may drive from the list's own sort index instead, once the page's other joins
    are in (a rep's 700 customers' orders: 84,890 orders walked, 197 ms; 3.7 ms this way)."""
    if connection.vendor == "postgresql":
        return _EqualsAny(F(column), _IdArray(customers.values("pk")))
    return Q(**{f"{column}__in": customers.values("pk")})


def branches(owners: Sequence[int], shared_ids: Sequence[int], granted: Sequence[QuerySet]
             ) -> list[Q]:
    """The scope as disjoint-enough parts a page can read one by one (customers only)."""
    parts = [Q(owner_id=owner) for owner in owners]
    if shared_ids:
        parts.append(Q(id__in=list(shared_ids)))
    parts += [Q(id__in=ids) for ids in granted]
    return parts


def forget_estimates() -> None:
    """Drop the cached sizes (tests that reshape ownership between requests)."""
    _estimates.clear()


def _cached(key: tuple, compute: Callable[[], Any]) -> Any:
    now = time.monotonic()
    found = _estimates.get(key)
    if found is not None and now - found[0] < ESTIMATE_SECONDS:
        return found[1]
    if len(_estimates) > 4096:  # one entry per distinct scope; a bound, not an LRU
        _estimates.clear()
    value = compute()
    _estimates[key] = (now, value)
    return value


def live_customers() -> QuerySet:
    """Customers not in the recycle bin: what every scope is drawn from."""
    return apps.get_model("customers", "Customer").objects.filter(deleted_at__isnull=True)


def scope_share(owners: Sequence[int], shared: int) -> float | None:
    """PostgreSQL: about what share of the live customers these owners' rows and `shared`
    more are, from the owner column's most common values (up to 1,000 owners, migration
    0017) and the table's size, read at most every ESTIMATE_SECONDS; None elsewhere or
    without statistics. An owner too rare to be listed (a customer or two in a small table)
    counts as none, and grants are not counted. Unlike the counts above it has no cap: it
    sizes quick search's window of newest days (searchindex), never what is found."""
    if connection.vendor != "postgresql":
        return None
    shares = _cached(("owner shares",), _owner_shares)
    if not shares:
        return None
    owned = sum(shares.get(owner, 0.0) for owner in owners)
    return min(1.0, owned + shared / max(_table_rows(), 1))


def _owner_shares() -> dict[int, float]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT most_common_vals::text::bigint[], most_common_freqs FROM pg_stats"
                       " WHERE tablename = 'customers_customer' AND attname = 'owner_id'")
        row = cursor.fetchone() or (None, None)
    return dict(zip(row[0] or [], row[1] or [], strict=False))


def _owner_rows(owners: tuple[int, ...]) -> int:
    # Read from the (owner, updated_at, id) index of live rows alone, and at most PROBE_CAP.
    return _cached(("owners", owners),
                   lambda: live_customers().filter(owner_id__in=owners)[:PROBE_CAP].count())


def _granted_rows(ids: QuerySet) -> int:
    sql, params = ids.query.sql_with_params()
    return _cached(("granted", sql, tuple(params)), lambda: ids[:PROBE_CAP].count())


def _table_rows() -> int:
    # The largest id: one index seek, and close to the row count (ids are not reused).
    return _cached(("table",), lambda: live_customers().aggregate(n=Max("id"))["n"] or 0)
