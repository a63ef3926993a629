"""Per-customer figures over the RFM window, computed set-based in SQL (both databases).

One pass over the spending orders (confirmed, paid) groups them by customer: ever (last
order, first order, count) and within the window (last order, count, revenue). Among the
customers with an order in the window NTILE(5) scores recency (the oldest fifth 1, the
most recent 5), frequency and monetary value, ties broken by customer id so the result is
deterministic; a running SUM gives each customer the share of the window's revenue made
by those ranked above it (Pareto: "位列前 70%" is a share below 70). The segment follows
from R and F (and M for the top) by `SEGMENTS`. `figures_compute()` rewrites the whole
table in one transaction; `figures_refresh(ids)` recomputes a few customers and scores
them against the cuts of the last full run (exact again after the next full run). A
customer without a spending order has no row: readers count that as no orders.
"""

from __future__ import annotations

import bisect
import datetime as dt
from collections import Counter
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from kehu.classification.models import CustomerFigures, Scheme
from kehu.core.db import parallel_workers
from kehu.history.choices import SPENDING_STATUSES

# The named segments, the first whose ranges hold (R, F, M each 1..5, 5 best) names it.
# Every (R, F) pair lands in one: R >= 3 is champions, loyal, new or potential; R <= 2
# can't-lose, at risk, hibernating (R 2) or lost (R 1).
SEGMENTS: tuple[tuple[str, Any, tuple[int, int], tuple[int, int], tuple[int, int]], ...] = (
    ("champions", _("重要价值"), (4, 5), (4, 5), (4, 5)),
    ("loyal", _("重要保持"), (3, 5), (3, 5), (1, 5)),
    ("new", _("新客户"), (4, 5), (1, 1), (1, 5)),
    ("potential", _("重要发展"), (3, 5), (1, 5), (1, 5)),
    ("cant_lose", _("一般保持"), (1, 2), (4, 5), (4, 5)),
    ("at_risk", _("重要挽留"), (1, 2), (3, 5), (1, 5)),
    ("hibernating", _("沉睡"), (2, 2), (1, 5), (1, 5)),
    ("lost", _("流失"), (1, 1), (1, 5), (1, 5)),
)
SEGMENT_LABELS = {key: label for key, label, *_ranges in SEGMENTS}
SHARE_SAMPLES = 1000  # points of the revenue-share curve kept for one customer's refresh


def scheme() -> Scheme:
    """The one settings row (created on first use)."""
    row = Scheme.objects.order_by("pk").first()
    return row if row is not None else Scheme.objects.create()


def window_start(today: dt.date, days: int) -> dt.date:
    return today - dt.timedelta(days=days - 1)  # 365 days ending today, today included


def _recency_sql() -> str:
    if connection.vendor == "postgresql":
        return "(%s::date - win.last_win)"
    return "CAST(julianday(%s) - julianday(win.last_win) AS INTEGER)"


def _segment_sql() -> str:
    cases = " ".join(
        "WHEN " + " AND ".join(f"win.{letter} BETWEEN {low} AND {high}"
                               for letter, (low, high) in zip("rfm", ranges, strict=True))
        + f" THEN '{key}'" for key, _label, *ranges in SEGMENTS)
    return f"CASE WHEN win.r IS NULL THEN '' {cases} ELSE '' END"


def _aggregate_sql() -> str:
    statuses = ", ".join(["%s"] * len(SPENDING_STATUSES))
    return f"""
      SELECT customer_id,
             MAX(ordered_on) AS last_ever, MIN(ordered_on) AS first_ever, COUNT(*) AS n_ever,
             MAX(CASE WHEN ordered_on >= %s THEN ordered_on END) AS last_win,
             COUNT(CASE WHEN ordered_on >= %s THEN 1 END) AS n_win,
             COALESCE(SUM(CASE WHEN ordered_on >= %s THEN total END), 0) AS spent_win
      FROM history_order WHERE status IN ({statuses})
      GROUP BY customer_id"""


def aggregate_params(start: dt.date) -> list[Any]:
    return [start, start, start, *[str(s) for s in SPENDING_STATUSES]]


def bare_aggregate_sql() -> str:
    """The aggregate and scores alone, for the bench's baseline."""
    return f"""WITH agg AS ({_aggregate_sql()})
      SELECT customer_id, NTILE(5) OVER (ORDER BY last_win, customer_id),
             NTILE(5) OVER (ORDER BY n_win, customer_id),
             NTILE(5) OVER (ORDER BY spent_win, customer_id)
      FROM agg WHERE n_win > 0"""


def figures_compute(*, today: dt.date | None = None) -> int:
    """Rewrite every live customer's figures; returns how many customers have an order in
    the window. One transaction: readers see the old table or the new one. (No key ties
    the rows to their customers in the database: see `CustomerFigures.customer`.)"""
    today = today or timezone.localdate()
    settings = scheme()
    start = window_start(today, settings.rfm_window_days)
    table = CustomerFigures._meta.db_table
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {table}")
        if connection.vendor == "postgresql":
            aggregate, params = _staged_aggregate(cursor, start)
            tiles, tile_params = _pg_tiles(cursor)
            cursor.execute(_compute_sql(table, aggregate, tiles),
                           [*params, *tile_params, today, today])
        else:
            _compute_sqlite(cursor, table, start, today)
        cursor.execute(f"DELETE FROM {table} WHERE customer_id IN "
                       "(SELECT id FROM customers_customer WHERE deleted_at IS NOT NULL)")
        settings.cuts = _cuts(cursor, table)
        if connection.vendor != "postgresql":
            _drop_temp(cursor)
        settings.figures_computed_at = timezone.now()
        settings.save(update_fields=["cuts", "figures_computed_at"])
        return settings.cuts["scored"]


# PostgreSQL: one INSERT of the customers with a spending order, in customer order (SQLite:
# see the end of the module, the same rows). Customers without one get no row (readers
# count a missing row as no orders: conditions.py, explain.py), and the recycle bin's
# customers are deleted after (they stay in the ranking, as they come back on restore). R
# and F compare each row with their tiles' cuts (`_pg_tiles`); M and the running share read
# one window (revenue descending), so the statement sorts once where the bare aggregate
# sorts three times.
# Measured when SQLite ran it too, at 1,000,000 customers / 9,986,567 orders
# (bench/classify.py; the scratch timings were taken on the same data): joining the
# customers for `deleted_at` and a NOT EXISTS per customer for the zero rows cost
# 18.2-24.4 s; this shape 14.8-15.1 s against a bare aggregate of 7.2-8.0 s. Writing in
# customer order (ORDER BY 1) appends to the primary key's B-tree instead of splitting it
# all over (1.2 s of the INSERT). Left to the database: the windows (9.3-10.3 s of a SELECT
# alone) and writing 800,000 rows (2.5-3 s).


def _staged_aggregate(cursor: Any, start: dt.date) -> tuple[str, list[Any]]:
    """The aggregate as the INSERT reads it, and its parameters. PostgreSQL runs no part of
    an INSERT … SELECT in parallel, so there the aggregate goes first into a temporary table
    (CREATE TABLE AS runs it in parallel): 3.9-4.2 s instead of 7 s of a serial hash
    aggregate at 1,000,000 customers, the whole statement 13.5-14.2 s against 16.4-16.9 s
    (measured on a busy machine, load 4-6)."""
    parallel_workers(cursor)
    # Dropped first: inside an outer transaction (a test, a job's unit) ON COMMIT has not come yet.
    cursor.execute("DROP TABLE IF EXISTS figures_agg")
    cursor.execute(f"CREATE TEMPORARY TABLE figures_agg ON COMMIT DROP AS {_aggregate_sql()}",
                   aggregate_params(start))
    return "SELECT * FROM figures_agg", []


def _pg_tiles(cursor: Any) -> tuple[dict[str, str], list[Any]]:
    """R and F as comparisons with their four (key, customer id) cuts, found from a count per
    key (a few hundred rows) and one OFFSET each among the cut's key: two of the INSERT's
    three window sorts fewer, as on SQLite (the same cuts as NTILE(5) over (key, id)).
    SQLite's `_tile_cuts` reads every key into Python instead; tried here, the rewrite took
    14.2-16.1 s against 12.6 s this way (705,049 keys through psycopg, 1,000,000 customers)."""
    cursor.execute("SELECT COUNT(*) FROM figures_agg WHERE n_win > 0")
    starts = tile_starts(cursor.fetchone()[0])
    tiles, params = {}, []
    for letter, key in (("r", "last_win"), ("f", "n_win")):
        cursor.execute(f"SELECT {key}, COUNT(*) FROM figures_agg WHERE n_win > 0 "  # noqa: S608
                       f"GROUP BY {key} ORDER BY {key}")
        counts = cursor.fetchall()
        cuts = []
        for start in starts:
            value, offset = _key_at(counts, start)
            cursor.execute(f"SELECT customer_id FROM figures_agg WHERE n_win > 0 "  # noqa: S608
                           f"AND {key} = %s ORDER BY customer_id OFFSET %s LIMIT 1",
                           [value, offset])
            cuts.append((value, cursor.fetchone()[0]))
        tiles[letter] = "CASE WHEN n_win > 0 THEN 1" + "".join(
            f" + (({key}, customer_id) >= (%s, %s))::int" for _cut in cuts) + " END"
        params += [value for cut in cuts for value in cut]
    return tiles, params


def _key_at(counts: list[tuple[Any, int]], start: int) -> tuple[Any, int]:
    """The key of the row at `start` (0-based) in key order, and its place among that
    key's rows."""
    before = 0
    for value, count in counts:
        if before + count > start:
            return value, start - before
        before += count
    raise ValueError(f"no row at {start}")


def _compute_sql(table: str, aggregate: str, tiles: dict[str, str]) -> str:
    return f"""
      INSERT INTO {table} (customer_id, last_order_on, first_order_on, orders_total,
                           recency_days, frequency, monetary, r, f, m, segment,
                           revenue_share, computed_on)
      WITH agg AS ({aggregate}),
      win AS (
        SELECT customer_id, last_ever, first_ever, n_ever, last_win, n_win, spent_win,
               {tiles["r"]} AS r,
               {tiles["f"]} AS f,
               CASE WHEN n_win > 0 THEN 6 - NTILE(5) OVER by_revenue END AS m,
               COALESCE(SUM(spent_win) OVER (by_revenue ROWS BETWEEN UNBOUNDED PRECEDING
                                             AND 1 PRECEDING), 0) AS above,
               SUM(spent_win) OVER (by_revenue ROWS BETWEEN UNBOUNDED PRECEDING
                                    AND UNBOUNDED FOLLOWING) AS whole
        FROM agg
        WINDOW by_revenue AS (PARTITION BY n_win > 0 ORDER BY spent_win DESC, customer_id))
      SELECT win.customer_id, win.last_ever, win.first_ever, win.n_ever,
             {_recency_sql()}, win.n_win, win.spent_win,
             win.r, win.f, win.m, {_segment_sql()},
             CASE WHEN win.n_win > 0 AND win.whole > 0
                  THEN ROUND(win.above * 100.0 / win.whole, 3) END, %s
      FROM win
      ORDER BY 1"""


def _cuts(cursor: Any, table: str) -> dict[str, Any]:
    """The lowest value of each score 2..5 per letter, and a sample of the share curve."""
    # Recency: a smaller number of days is a higher score, so its cut is a maximum. One
    # scan for the three letters (0.55 s at 1,000,000 on SQLite, against 1.1 s for three
    # GROUP BYs).
    edges = [(letter, column, "MAX" if letter == "r" else "MIN", score)
             for letter, column in (("r", "recency_days"), ("f", "frequency"), ("m", "monetary"))
             for score in range(2, 6)]
    cursor.execute("SELECT " + ", ".join(
        f"{edge}(CASE WHEN {letter} = {score} THEN {column} END)"
        for letter, column, edge, score in edges) + f" FROM {table}")
    found = cursor.fetchone()
    cuts: dict[str, Any] = {"r": [], "f": [], "m": []}
    for (letter, *_rest), value in zip(edges, found, strict=True):
        if value is not None:  # fewer than five scored customers leave high scores empty
            cuts[letter].append(_plain(value))
    cursor.execute(f"SELECT COUNT(*), COALESCE(SUM(monetary), 0) FROM {table} WHERE r IS NOT NULL")
    scored, whole = cursor.fetchone()
    step = max(1, scored // SHARE_SAMPLES)
    cuts["share"] = [[_plain(m), _plain(s)] for m, s in _share_sample(cursor, table, step)]
    cuts["scored"], cuts["whole"] = scored, _plain(whole)
    return cuts


def _share_sample(cursor: Any, table: str, step: int) -> list[tuple]:
    """(monetary, share) of every `step`-th scored customer by revenue (highest first, ties
    by id), from the first. SQLite reads the order off the ranking its INSERT kept
    (temp.figures_rank, numbered by revenue; the recycle bin's customers left out) and
    picks the rows in Python: 0.3 s against 1.6-1.9 s for sorting the table again, and
    0.9 s for numbering the ranking again in SQL, at 1,000,000 customers."""
    if connection.vendor == "postgresql":
        cursor.execute(f"""SELECT monetary, revenue_share FROM (
            SELECT monetary, revenue_share, ROW_NUMBER() OVER (ORDER BY monetary DESC,
                   customer_id) AS n FROM {table} WHERE r IS NOT NULL) s
            WHERE (n - 1) % {step} = 0 ORDER BY n""")
        return cursor.fetchall()
    cursor.execute("SELECT customer_id FROM temp.figures_rank WHERE customer_id NOT IN "
                   "(SELECT id FROM customers_customer WHERE deleted_at IS NOT NULL) ORDER BY n")
    picked = [pk for (pk,) in cursor.fetchall()[::step]]
    if not picked:
        return []
    cursor.execute(f"SELECT customer_id, monetary, revenue_share FROM {table} "
                   f"WHERE customer_id IN ({', '.join(['%s'] * len(picked))})", picked)
    found = {pk: (monetary, share) for pk, monetary, share in cursor.fetchall()}
    return [found[pk] for pk in picked]


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal | float):
        return float(value)
    return value


def figures_refresh(customer_ids: Iterable[int], *, today: dt.date | None = None) -> None:
    """Recompute the figures of a few customers (after their data changed); their scores
    and share come from the last full run's cuts."""
    ids = sorted(set(customer_ids))
    if not ids:
        return
    today = today or timezone.localdate()
    settings = scheme()
    start = window_start(today, settings.rfm_window_days)
    rows = {row[0]: row for row in _aggregate_rows(ids, start)}
    cuts = settings.cuts or {}
    figures = [_figures_row(pk, rows[pk], today, cuts) for pk in ids if pk in rows]
    with transaction.atomic():
        CustomerFigures.objects.filter(customer_id__in=ids).delete()
        CustomerFigures.objects.bulk_create(figures)


def _aggregate_rows(ids: list[int], start: dt.date) -> list[tuple]:
    statuses = ", ".join(["%s"] * len(SPENDING_STATUSES))
    marks = ", ".join(["%s"] * len(ids))
    sql = f"""
      SELECT customer_id, MAX(ordered_on), MIN(ordered_on), COUNT(*),
             MAX(CASE WHEN ordered_on >= %s THEN ordered_on END),
             COUNT(CASE WHEN ordered_on >= %s THEN 1 END),
             COALESCE(SUM(CASE WHEN ordered_on >= %s THEN total END), 0)
      FROM history_order WHERE status IN ({statuses}) AND customer_id IN ({marks})
        AND EXISTS (SELECT 1 FROM customers_customer c
                    WHERE c.id = history_order.customer_id AND c.deleted_at IS NULL)
      GROUP BY customer_id"""
    with connection.cursor() as cursor:
        cursor.execute(sql, [*aggregate_params(start), *ids])
        return cursor.fetchall()


def _figures_row(pk: int, row: tuple, today: dt.date, cuts: dict) -> CustomerFigures:
    figures = CustomerFigures(customer_id=pk, computed_on=today)
    _pk, last_ever, first_ever, n_ever, last_win, n_win, spent = row
    figures.last_order_on, figures.first_order_on = _day(last_ever), _day(first_ever)
    figures.orders_total = n_ever
    if not n_win:
        return figures
    figures.recency_days = (today - _day(last_win)).days
    figures.frequency, figures.monetary = n_win, Decimal(str(spent)).quantize(Decimal("0.01"))
    figures.r = 1 + sum(1 for cut in cuts.get("r", []) if figures.recency_days <= cut)
    figures.f = 1 + sum(1 for cut in cuts.get("f", []) if figures.frequency >= cut)
    figures.m = 1 + sum(1 for cut in cuts.get("m", []) if float(figures.monetary) >= cut)
    figures.segment = segment_of(figures.r, figures.f, figures.m)
    figures.revenue_share = _share(cuts.get("share", []), float(figures.monetary))
    return figures


def _day(value: Any) -> dt.date | None:
    if value is None or isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value)[:10])


def _share(curve: list, monetary: float) -> Decimal | None:
    """The share above a customer with `monetary`: that of the first sample (by revenue,
    descending) it reaches."""
    if not curve:
        return None
    descending = [-m for m, _share in curve]
    at = bisect.bisect_left(descending, -monetary)
    share = curve[min(at, len(curve) - 1)][1]
    return None if share is None else Decimal(str(share)).quantize(Decimal("0.001"))


def segment_of(r: int | None, f: int | None, m: int | None) -> str:
    """The segment of a score triple, by the same table as the SQL."""
    if r is None or f is None or m is None:
        return ""
    for key, _label, *ranges in SEGMENTS:
        if all(low <= score <= high for score, (low, high) in zip((r, f, m), ranges, strict=True)):
            return key
    return ""


# --- SQLite -----------------------------------------------------------------------------
# SQLite's window functions carry the whole row through a sort and a buffer per window: the
# one-statement INSERT above sorted 800,000 rows of every column three times and took 19.5 s
# (load 3.3) at 1,000,000 customers / 9,986,567 orders against a bare aggregate of 8.7 s.
# Here only what needs an order is ordered, narrow, and the rows are written in customer
# order from tables keyed by customer:
# - the aggregate goes into a temporary table keyed by customer (the same scan as the bare
#   aggregate, 4.5-7 s);
# - R and F are read off four cuts each, (key, customer id) pairs: NTILE gives a row the
#   tile of the last cut it reaches, so one count per key (days, order counts: a few hundred
#   keys) finds them without sorting 700,000 rows (0.15-0.25 s, against 1.2-2.2 s per letter
#   for a ROW_NUMBER window over the same narrow rows);
# - M and the share need each row's place by revenue: one narrow sort numbers the rows
#   into a table keyed by that place, and the running sum over it is copied in customer
#   order (1.9-2.1 s): numbering straight into a table keyed by customer inserts all over
#   its B-tree (2.7 s), and joining the numbered table from the customers looks each row up
#   out of order (1.1 s for the join alone, 2.5 s more to write the figures out of order).
_SQLITE_TEMP = ("figures_agg", "figures_rank", "figures_by_customer")


def _compute_sqlite(cursor: Any, table: str, start: dt.date, today: dt.date) -> None:
    """The figures INSERT on SQLite, from temporary tables (the ranking by revenue is read
    again for the share curve; `_drop_temp` after it)."""
    _drop_temp(cursor)
    cursor.execute("CREATE TEMP TABLE figures_agg (customer_id INTEGER PRIMARY KEY, last_ever, "
                   "first_ever, n_ever, last_win, n_win, spent_win)")
    cursor.execute(f"INSERT INTO temp.figures_agg {_aggregate_sql()}", aggregate_params(start))
    cursor.execute("SELECT customer_id, last_win, n_win FROM temp.figures_agg "
                   "WHERE n_win > 0 ORDER BY customer_id")
    keys = cursor.fetchall()
    starts = tile_starts(len(keys))
    cuts = {"r": _tile_cuts(keys, 1, starts), "f": _tile_cuts(keys, 2, starts)}
    whole = _rank_by_revenue(cursor)
    sql, params = _sqlite_insert(table, cuts, starts)
    cursor.execute(sql, [today, whole, whole, today, *params])


def _drop_temp(cursor: Any) -> None:
    for name in _SQLITE_TEMP:
        cursor.execute(f"DROP TABLE IF EXISTS temp.{name}")


def tile_starts(count: int) -> list[int]:
    """Where tiles 2..5 of NTILE(5) start (0-based, among `count` rows in order): the first
    count % 5 tiles hold one row more. Tiles that would start past the end are left out."""
    size, large = divmod(count, 5)
    starts = [tile * (size + 1) if tile <= large else large * (size + 1) + (tile - large) * size
              for tile in range(1, 5)]
    return [start for start in starts if start < count]


def _tile_cuts(keys: list[tuple], column: int, starts: list[int]) -> list[tuple[Any, int]]:
    """The first (key, customer id) of each tile in (key, customer id) order; `keys` are
    (customer id, …) rows in customer order, `column` the key's place in them."""
    counts = sorted(Counter(row[column] for row in keys).items())
    cuts, before, at = [], 0, 0
    for start in starts:
        while before + counts[at][1] <= start:
            before += counts[at][1]
            at += 1
        key = counts[at][0]
        ids = [row[0] for row in keys if row[column] == key]  # in customer order
        cuts.append((key, ids[start - before]))
    return cuts


def _rank_by_revenue(cursor: Any) -> Any:
    """Number the scored customers by revenue (highest first, ties by id) with the revenue
    of those above each, keyed by customer; returns the window's whole revenue. The rows go
    into the ranking in that order, so the row id is the place (SQLite gives a new row the
    next id), and the running sum reads them in row-id order without a sort: 1.9-2.1 s
    against 2.4-2.6 s for numbering with ROW_NUMBER in the same window as the sum. The
    sums add the same numbers in the same order as the one-statement window did."""
    cursor.execute("CREATE TEMP TABLE figures_rank (n INTEGER PRIMARY KEY, "
                   "customer_id INTEGER NOT NULL, spent)")
    cursor.execute("INSERT INTO temp.figures_rank (customer_id, spent) "
                   "SELECT customer_id, spent_win FROM temp.figures_agg WHERE n_win > 0 "
                   "ORDER BY spent_win DESC, customer_id")
    cursor.execute("SELECT SUM(spent) FROM temp.figures_rank")
    whole = cursor.fetchone()[0]
    cursor.execute("CREATE TEMP TABLE figures_by_customer (customer_id INTEGER PRIMARY KEY, "
                   "n INTEGER NOT NULL, above)")
    cursor.execute("""INSERT INTO temp.figures_by_customer
        SELECT customer_id, n, COALESCE(SUM(spent) OVER
               (ORDER BY n ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0)
        FROM temp.figures_rank ORDER BY customer_id""")
    return whole


def _sqlite_insert(table: str, cuts: dict[str, list], starts: list[int]) -> tuple[str, list]:
    """The INSERT in customer order, and the cuts' parameters (after today, the whole
    revenue twice and today). M is 6 - NTILE over the revenue order, from the row's number."""
    params: list[Any] = []
    tiles: dict[str, str] = {}
    for letter, key in (("r", "a.last_win"), ("f", "a.n_win")):
        tiles[letter] = "1" + "".join(f" + (({key}, a.customer_id) >= (%s, %s))"
                                      for _cut in cuts[letter])
        params += [value for cut in cuts[letter] for value in cut]
    tiles["m"] = "5" + "".join(f" - (k.n > {int(start)})" for start in starts)
    return f"""
      INSERT INTO {table} (customer_id, last_order_on, first_order_on, orders_total,
                           recency_days, frequency, monetary, r, f, m, segment,
                           revenue_share, computed_on)
      SELECT win.customer_id, win.last_ever, win.first_ever, win.n_ever, {_recency_sql()},
             win.n_win, win.spent_win, win.r, win.f, win.m, {_segment_sql()},
             CASE WHEN win.r IS NOT NULL AND %s > 0 THEN ROUND(win.above * 100.0 / %s, 3) END,
             %s
      FROM (SELECT a.*, k.above,
                   CASE WHEN k.n IS NOT NULL THEN {tiles["r"]} END AS r,
                   CASE WHEN k.n IS NOT NULL THEN {tiles["f"]} END AS f,
                   CASE WHEN k.n IS NOT NULL THEN {tiles["m"]} END AS m
            FROM temp.figures_agg a
            LEFT JOIN temp.figures_by_customer k ON k.customer_id = a.customer_id
            ORDER BY a.customer_id) win""", params
