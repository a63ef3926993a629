"""The quick-search index: a bag of grams per customer, for terms of every length.

Most Chinese names are one to three characters, so a trigram index (what this replaced)
cannot serve the common case: 欧 or 建军 took a full read of the table when rare. Here
every customer gets one set of grams, computed in Python from its own columns and its
contacts':

- every CJK character and every pair of neighbouring CJK characters of the name, the
  short name and each contact's name (`西`, `西湖`);
- every three letters or digits in a row of those names and of the name's pinyin and
  initials (`zha`, `han` … for zhangsan);
- `p` + every four digits in a row of each phone, the customer's and its contacts'
  (stored as E.164, so `p8613`, `p6138` …);
- `e` + every three letters or digits in a row of each e-mail address and WeChat id;
- for a column encrypted at rest (customers.encryption), no part of its value at all but
  `k` + its blind index, and the same for an ID number: found by the complete value only.

A term becomes the grams it must contain: its CJK pairs (or its one character) and its
trigrams in one group, its four-digit runs (when it has four digits or more) in a second,
its e-mail trigrams in a third. A customer is a candidate when it holds every gram of any
group — necessary, not sufficient, so the caller always re-checks the candidates with the
plain filter (`search.search_q`), which also decides what a masking viewer may match.

SQLite keeps the grams in an FTS5 table (`unicode61`, `detail=none`: no positions are
needed, which keeps it small), PostgreSQL in a `text[]` column with a GIN index. Neither
knows customers' scope: the probe returns ids, and the scoped query does the rest.

Written only here, set-based in windows: one read of the customers, one of their contacts,
one DELETE and one multi-row INSERT per window (`search_index_refresh` for the ids a
service or an import batch touched, `search_index_refresh_range` for the demo loader and
the backfill). Every write path that calls `keys_refresh` calls this too.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import re
import time
import unicodedata
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from django.db import connection

from kehu.core.db import execute_planned_each_time
from kehu.core.inserts import param_mark
from kehu.customers.encryption import blind_gram, encrypted_kinds, id_number_column
from kehu.customers.pinyin import name_pinyin

WINDOW = 1000
# A term the index finds for at most `probe_limit()` customers is "rare": the candidates
# are read and ranked by a CASE, ≈3.6 µs each at 1,000,000 customers on SQLite (the phone
# digits 1385: 7,665 candidates, 27.6 ms). Above that, SQLite walks the list's
# (updated_at, id) index and tests each entry's id against the index's candidates, built
# once into a temporary b-tree (≈0.3 µs an id, ≈0.3 µs an entry walked) before any LIKE:
# 1385 in 4.2 ms. The walk reads about page × customers ÷ candidates entries, so the two
# meet near 2,000 candidates (≈7 ms each by those rates). PostgreSQL has no such walk
# (its planner chose badly between it and the others): there a walk with the plain filter
# (≈4 µs a row) meets reading the candidates near √(80 × customers), 9,000 at a million.
# That line serves the plain filter's probe (sorted lists, exports, counts). A ranked page
# on PostgreSQL ranks in full up to PROBE_LIMIT, as SQLite does, its candidates read newest
# first from the index's rows (migration 0018: ≈2.3 µs each); past it, the candidates of the
# newest days only (`newest_window`: 流有, 10,002 candidates, 39-44 -> 15 ms a page in
# process at 1,000,000 customers).
PROBE_LIMIT = 2000
PROBE_CEILING = 20_000
# The walk within the candidates stops paying when they are many: building them costs
# ≈0.3 µs each, while the plain walk (≈4-8 µs a row, the contacts' EXISTS included) reads
# only page × customers ÷ matches rows. Measured at a million (in process, under load):
# 9,600 candidates (校有) 15 ms within them against 60 ms plain, 25,000 (126.com) 44
# against 26 ms; the line is put at √(600 × customers), 24,500 at a million.
WALK_FLOOR, WALK_CEILING = 5_000, 50_000
# A group of several grams is taken for common without a probe only when its grams'
# frequencies multiplied put it this far past the line. The frequencies are a sample's
# (30,000 rows at the default statistics target): the rarest listed gram's (1.5 % at a
# million) is off by ~5 %, a product of two by ~10 %. Their dependence errs the other way:
# at a million 限公 × 公司 gives 42 % where 限公司 is in 43 %, e126 × ecom 1.8 % where
# 126.com is in 3.3 %.
MULTI_GRAM_MARGIN = 1.25
_SIZE_TTL = 600.0
_size = {"rows": 0, "at": -_SIZE_TTL}

_CJK = r"\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_RUNS = re.compile(rf"[{_CJK}]+|[a-z0-9]+")
_DIGITS = re.compile(r"\d+")
_WORDS = re.compile(r"[a-z0-9]+")
SQLITE_TABLE = "customers_searchgrams"


def search_index_refresh(customer_ids: Iterable[int]) -> None:
    """Rebuild the grams of these customers (after any write to them or their contacts)."""
    ids = sorted({int(i) for i in customer_ids})
    for start in range(0, len(ids), WINDOW):
        chunk = ids[start:start + WINDOW]
        _rebuild(f"IN ({', '.join(['%s'] * len(chunk))})", chunk)


def search_index_refresh_range(first: int, last: int) -> None:
    """Rebuild the grams of customers first..last (ids; the demo loader, the backfill)."""
    for start in range(first, last + 1, WINDOW):
        _rebuild("BETWEEN %s AND %s", [start, min(last, start + WINDOW - 1)])


def probe_limit() -> int:
    """How many candidates a rare term may have (see PROBE_LIMIT)."""
    if connection.vendor == "sqlite":
        return PROBE_LIMIT
    return max(PROBE_LIMIT, min(PROBE_CEILING, int(math.sqrt(80 * table_size()))))


def walk_limit() -> int:
    """Up to how many candidates a walk tests membership in them (SQLite; see WALK_FLOOR)."""
    return max(WALK_FLOOR, min(WALK_CEILING, int(math.sqrt(600 * table_size()))))


def table_size() -> int:
    """The customers table's size, read (as its largest id, an index lookup) at most every
    ten minutes per process."""
    now = time.monotonic()
    if now - _size["at"] > _SIZE_TTL:
        with connection.cursor() as cursor:
            cursor.execute("SELECT MAX(id) FROM customers_customer")
            _size["rows"], _size["at"] = cursor.fetchone()[0] or 0, now
    return _size["rows"]


# --- grams -----------------------------------------------------------------------


def normalize(text: str) -> str:
    """Full-width to half-width, lower case: how both documents and terms are compared."""
    return unicodedata.normalize("NFKC", text or "").lower()


def text_grams(text: str) -> set[str]:
    """CJK characters and pairs, and trigrams of letter/digit runs, of one name."""
    grams: set[str] = set()
    _add_text_grams(grams, text)
    return grams


def phone_grams(phone: str) -> set[str]:
    grams: set[str] = set()
    _add_phone_grams(grams, phone)
    return grams


def email_grams(email: str) -> set[str]:
    grams: set[str] = set()
    _add_email_grams(grams, email)
    return grams


# The adders fill one set for a whole customer: with a set per value and their unions the
# grams took 40–45 µs a row in an import's cleaning process, 34 so (20,000 rows).
def _add_text_grams(grams: set[str], text: str) -> None:
    for run in _RUNS.findall(normalize(text)):
        if run[0].isascii():
            grams.update([run[i:i + 3] for i in range(len(run) - 2)])
        else:
            grams.update(run)
            grams.update([run[i:i + 2] for i in range(len(run) - 1)])


def _add_phone_grams(grams: set[str], phone: str) -> None:
    for run in _DIGITS.findall(phone or ""):
        grams.update(["p" + run[i:i + 4] for i in range(len(run) - 3)])


def _add_email_grams(grams: set[str], email: str) -> None:
    for run in _WORDS.findall(normalize(email)):
        grams.update(["e" + run[i:i + 3] for i in range(len(run) - 2)])


def term_text_grams(term: str) -> list[str] | None:
    """The grams any name, pinyin or initials holding `term` holds; None when it has none
    (a term of one or two letters: the index cannot answer, the caller scans)."""
    grams: set[str] = set()
    for run in _RUNS.findall(normalize(term)):
        if run[0].isascii():
            grams.update(run[i:i + 3] for i in range(len(run) - 2))
        elif len(run) == 1:
            grams.add(run)
        else:
            grams.update(run[i:i + 2] for i in range(len(run) - 1))
    return sorted(grams) or None


def term_phone_grams(digits: str) -> list[str]:
    return sorted(phone_grams(digits))


def term_email_grams(term: str) -> list[str] | None:
    return sorted(email_grams(term)) or None


# --- probe -----------------------------------------------------------------------


def probe(groups: Sequence[Sequence[str]], limit: int | None = None, *,
          estimate: bool = True) -> list[int] | None:
    """Ids (at most limit + 1, any order; limit: `probe_limit()`) of customers holding every
    gram of some group.

    None on a database without the index, and on PostgreSQL (with `estimate`) when its
    statistics already say a one-gram group matches more than `limit`: a GIN index
    cannot stop at a LIMIT, it builds the bitmap of every match first (公 at 100,000
    customers: 69,000 ids, 11 ms), where the statistics cost nothing. Soft-deleted
    customers are included: the scoped query that follows leaves them out.
    """
    limit = probe_limit() if limit is None else limit
    if connection.vendor == "postgresql" and estimate and _known_common(groups, limit):
        return None
    query = probe_sql(groups)
    if query is None:
        return None
    sql, params = query
    with connection.cursor() as cursor:
        execute_planned_each_time(cursor, f"{sql} LIMIT %s", [*params, limit + 1])
        return [row[0] for row in cursor.fetchall()]


# A candidate of `probe_recent`: (id, its updated_at as the index has it, in microseconds
# since 1970; None only for a row the triggers never stamped). Plain tuples of integers:
# 8,723 datetimes and named tuples cost 30 ms more a search than this.
Recent = tuple[int, int | None]


def probe_recent(groups: Sequence[Sequence[str]], limit: int, *, since: int | None = None,
                 until: int | None = None, estimate: bool = True) -> list[Recent] | None:
    """PostgreSQL: the customers holding every gram of some group, newest first (updated_at,
    then id, descending); None when more than `limit` hold them, or (with `estimate`) the
    statistics already say so. With `since` (a day, as migration 0020's `day` column counts
    them), only those whose grams row is of that day or later (and with `until`, of that day
    or earlier): the GIN bitmap is ANDed with the day index's before a row is read. The
    LIMIT is inside the sort, so a common term stops the heap scan at limit + 1 rows, and
    only their count comes back (sorting and sending 15,813 rows to be dropped cost a
    common term ~15 ms)."""
    if connection.vendor != "postgresql" or not groups \
            or (estimate and _known_common(groups, limit)):
        return None
    where, params = _pg_condition(groups)
    if since is not None:
        where, params = f"({where}) AND day >= %s", [*params, since]
    if until is not None:
        where, params = f"{where} AND day <= %s", [*params, until]
    sql = (f"WITH found AS MATERIALIZED (SELECT customer_id, updated_at"  # noqa: S608
           f" FROM customers_searchgrams WHERE {where} LIMIT %s),"
           " counted AS (SELECT count(*) AS n FROM found)"
           " SELECT counted.n, f.customer_id, f.stamp FROM counted LEFT JOIN LATERAL"
           " (SELECT customer_id, (extract(epoch FROM updated_at) * 1000000)::bigint AS stamp"
           "  FROM found WHERE counted.n <= %s"
           "  ORDER BY updated_at DESC NULLS LAST, customer_id DESC) AS f ON true")
    with connection.cursor() as cursor:
        execute_planned_each_time(cursor, sql, [*params, limit + 1, limit])
        rows = cursor.fetchall()
    if rows[0][0] > limit:
        return None
    return [] if rows[0][1] is None else [(pk, stamp) for _n, pk, stamp in rows]


def stamp_of(moment: dt.datetime) -> int:
    """An aware datetime as `probe_recent`'s stamps are: whole microseconds since 1970."""
    return (moment - _EPOCH) // dt.timedelta(microseconds=1)


_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


def probe_count(groups: Sequence[Sequence[str]], ceiling: int) -> int | None:
    """How many customers hold every gram of some group, counted up to `ceiling` + 1
    without fetching them (9,614 ids of 校有 in 0.6 ms, fetched 2.4 ms); None without
    an index."""
    query = probe_sql(groups)
    if query is None:
        return None
    sql, params = query
    with connection.cursor() as cursor:
        execute_planned_each_time(cursor, f"SELECT count(*) FROM ({sql} LIMIT %s) AS found",  # noqa: S608
                                  [*params, ceiling + 1])
        return cursor.fetchone()[0]


def _known_common(groups: Sequence[Sequence[str]], limit: int) -> bool:
    """Whether PostgreSQL's statistics on the grams (most common elements, from ANALYZE or
    autovacuum) put some group above `limit` rows: a one-gram group by its frequency, a
    group of several by the product of theirs, when each is among the most common, above
    MULTI_GRAM_MARGIN × `limit`.

    The product is what independent grams would give; a term's grams are its neighbouring
    pairs or trigrams, which come together far more often than apart, so the product
    errs low, towards a probe. A group with a gram outside the list is probed: its
    frequency is unknown and may be nil."""
    rows, frequencies = _pg_gram_stats()
    return any(_common(group, frequencies, rows, limit) for group in groups)


def _common(group: Sequence[str], frequencies: dict[str, float], rows: float, limit: int) -> bool:
    return _together(group, frequencies) * rows > limit * (
        1 if len(group) == 1 else MULTI_GRAM_MARGIN)


def _together(group: Sequence[str], frequencies: dict[str, float]) -> float:
    """The share of rows holding every gram of `group` were they independent; 0 when one
    is not among the most common elements."""
    share = 1.0
    for gram in group:
        share *= frequencies.get(gram, 0.0)
    return share


_stats: dict = {"at": -_SIZE_TTL, "rows": 0.0, "freqs": {}, "days": []}


def _pg_gram_stats() -> tuple[float, dict[str, float]]:
    now = time.monotonic()
    if now - _stats["at"] > _SIZE_TTL:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT c.reltuples, s.most_common_elems::text::text[], s.most_common_elem_freqs,"
                " w.most_common_vals::text::int[], w.most_common_freqs,"
                " w.histogram_bounds::text::int[], w.null_frac"
                " FROM pg_class c LEFT JOIN pg_stats s ON s.tablename = c.relname"
                " AND s.attname = 'grams' LEFT JOIN pg_stats w ON w.tablename = c.relname"
                " AND w.attname = 'day' WHERE c.relname = 'customers_searchgrams'")
            row = cursor.fetchone() or (0, None, None, None, None, None, None)
        elems, freqs = row[1] or [], row[2] or []
        _stats.update(at=now, rows=max(float(row[0] or 0), 0.0),
                      freqs=dict(zip(elems, freqs, strict=False)), days=_day_shares(*row[3:]))
    return _stats["rows"], _stats["freqs"]


def _day_shares(values, freqs, bounds, null_frac) -> list[tuple[int, float]]:
    """(day, share of the rows) newest first, from the day column's statistics: its most
    common days as they are, each histogram bucket counted at its first day (so a window
    from there holds at least what it says)."""
    shares: dict[int, float] = defaultdict(float)
    for day, share in zip(values or [], freqs or [], strict=False):
        shares[day] += share
    bounds = bounds or []
    if len(bounds) > 1:
        rest = max(1.0 - sum(freqs or []) - float(null_frac or 0), 0.0) / (len(bounds) - 1)
        for day in bounds[:-1]:
            shares[day] += rest
    return sorted(shares.items(), reverse=True)


# --- the newest candidates (PostgreSQL, a ranked page) -----------------------------

# A common term's first page reads the candidates of the newest days only: days enough
# to hold about this many of them by its share (or by the least share it can have), for a
# page of 50 that the re-check and a rep's scope thin out.
WINDOW_CANDIDATES = 150
# A term whose grams the statistics put in more than this share of the rows is walked: a
# walk of the list finds its page in a few hundred rows, while the GIN bitmap of common
# grams is long to build (zho ∧ hou ∧ oux, 169,657 rows at a million: 75 ms).
WINDOW_SHARE_MAX = 0.04
# A window costs its rows in the day index's bitmap (~0.1-0.2 µs each, and a rep's scope,
# an eighth of the table, needs eight times the rows): past this share of the table it
# cost more than the walk it spares (a rep's 流有, 120,000 rows: 30 ms, the walk 37-43).
WINDOW_MAX_FRACTION = 0.05


@dataclass(frozen=True)
class Newest:
    """A common term's candidates whose grams row is of the day `since` or later — all of
    those — newest first."""

    recent: list[Recent]
    since: int


def newest_window(groups: Sequence[Sequence[str]], reach: Callable[[], float] = lambda: 1.0,
                  before: dt.datetime | None = None) -> Newest | None:
    """PostgreSQL: the candidates of the newest days of a term held by more than
    PROBE_LIMIT customers (up to the day of `before`, a later page's last row), for a
    page's matches past the strong tiers; None when it is dense enough to walk, or more than
    `probe_limit()` are of those days.

    The days are enough to hold about WINDOW_CANDIDATES of them in the viewer's scope
    (`reach()`: about what share of the rows it holds, asked only past the dense test) by
    the term's share in the statistics (or by the least share it can have), and the GIN
    bitmap is ANDed with the day index's before any row is read."""
    rows, frequencies = _pg_gram_stats()
    if _dense(groups, frequencies, rows):
        return None
    share = max([_together(group, frequencies) for group in groups] + [PROBE_LIMIT / max(rows, 1)])
    until = None if before is None else day_of(before)
    since = window_since(WINDOW_CANDIDATES / (share * max(reach(), 1e-6)), until)
    if since is None:
        return None
    found = probe_recent(groups, probe_limit(), since=since, until=until, estimate=False)
    return None if found is None else Newest(found, since)


def _dense(groups: Sequence[Sequence[str]], frequencies: dict[str, float], rows: float) -> bool:
    """Whether some group is known common and may be in more than WINDOW_SHARE_MAX of the
    rows: its rarest gram's share bounds it from above (the product, what `_common` reads,
    errs low)."""
    return any(_common(group, frequencies, rows, PROBE_LIMIT)
               and min(frequencies.get(gram, 0.0) for gram in group) > WINDOW_SHARE_MAX
               for group in groups)


def window_since(wanted: float, until: int | None = None) -> int | None:
    """The latest day from which the grams rows (up to the day `until`) number `wanted` or
    more, by the day column's statistics; None without them, or when that would be more
    than WINDOW_MAX_FRACTION of the table."""
    rows, _ = _pg_gram_stats()
    if rows <= 0 or wanted / rows > WINDOW_MAX_FRACTION:
        return None
    total = 0.0
    for day, share in _stats["days"]:
        if until is not None and day > until:
            continue
        total += share
        if total * rows >= wanted:
            return day
    return None


def day_of(moment: dt.datetime) -> int:
    """The day of a moment as migration 0020's `kehu_day` counts them (UTC)."""
    return (moment - _EPOCH) // dt.timedelta(days=1)


def day_start(day: int) -> dt.datetime:
    """The first moment of a day as migration 0020's `kehu_day` counts them (UTC)."""
    return _EPOCH + dt.timedelta(days=day)


def probe_sql(groups: Sequence[Sequence[str]]) -> tuple[str, list] | None:
    """The probe as a sub-select of ids (for `id IN (…)`), or None without an index.

    Handing the database the sub-select rather than the ids it returned saves passing
    thousands of parameters: 8,000 candidates cost 33 ms as a literal list, 20 ms
    this way (SQLite, 100,000 customers).
    """
    groups = [sorted(set(g)) for g in groups if g]
    if not groups:
        return "SELECT 0 WHERE 1 = 0", []
    if connection.vendor == "sqlite":
        match = " OR ".join(
            "(" + " AND ".join('"' + g.replace('"', '""') + '"' for g in group) + ")"
            for group in groups)
        return (f"SELECT rowid FROM {SQLITE_TABLE} WHERE {SQLITE_TABLE} MATCH %s",  # noqa: S608
                [match])
    if connection.vendor == "postgresql":
        where, params = _pg_condition(groups)
        return f"SELECT customer_id FROM customers_searchgrams WHERE {where}", params  # noqa: S608
    return None


# A gram in more than this share of the rows is left out of its group's containment when a
# rarer gram stays: it barely narrows the candidates (re-checked by the plain filter anyway)
# but its posting list is read whole (ecom, in 57 % of the rows: e126 ∧ ecom cost 8 ms).
PRUNED_SHARE = 0.2


def _pg_condition(groups: Sequence[Sequence[str]]) -> tuple[str, list]:
    """PostgreSQL: "holds every gram of some group" (but PRUNED_SHARE's), a GIN containment
    per group."""
    _rows, frequencies = _pg_gram_stats()
    groups = [_pruned(sorted(set(g)), frequencies) for g in groups if g]
    return " OR ".join(["grams @> %s::text[]"] * len(groups)), groups


def _pruned(group: list[str], frequencies: dict[str, float]) -> list[str]:
    kept = [gram for gram in group if frequencies.get(gram, 0.0) <= PRUNED_SHARE]
    return kept or [min(group, key=lambda gram: frequencies.get(gram, 0.0))]


# --- writer ----------------------------------------------------------------------


def search_index_write(rows: Sequence[tuple[int, str]]) -> None:
    """Store grams a caller computed (`customer_grams_text`) for customers it has just
    inserted: the import's batch writer, which has the values in hand (and its cleaning
    process computes the grams): 88 -> 49 µs a row in the writer (20,000 rows, load 2.6),
    most of what is left FTS5's insert; reading the rows back, their JSON and the openers
    are gone. New customers have no grams yet: nothing to delete first."""
    for start in range(0, len(rows), WINDOW):
        _insert(rows[start:start + WINDOW])


def customer_grams_text(values: tuple, contacts: Iterable[tuple]) -> str:
    """The grams `search_index_refresh` stores for a customer, sorted and space-separated
    (one string crosses a process boundary for ~70 grams), from values in hand (as
    cleaned, in the clear): (kind, name, short_name, pinyin, initials, phones, emails,
    wechat, id_number) and its contacts' (name, phones, email, wechat)."""
    return " ".join(sorted(_customer_grams(values, contacts, _Grams())))


def _rebuild(condition: str, params: list[int]) -> None:
    customers, contacts = _read(condition, params)
    how = _Grams()
    rows = [(pk, " ".join(sorted(_customer_grams(values, contacts.get(pk, ()), how))))
            for pk, values in customers.items()]
    _store(condition, params, rows)


def _store(condition: str, params: list[int], rows: Sequence[tuple[int, str]]) -> None:
    """Replace the grams of the customers `condition` names by `rows` (id, the grams
    sorted and space-separated: FTS5 takes that text, PostgreSQL the list)."""
    table, column = (SQLITE_TABLE, "rowid") if connection.vendor == "sqlite" \
        else ("customers_searchgrams", "customer_id")
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {table} WHERE {column} {condition}", params)  # noqa: S608
    _insert(rows)


def _insert(rows: Sequence[tuple[int, str]]) -> None:
    """Add the grams rows of customers that have none. On SQLite with its own placeholders
    (`core.inserts.param_mark`)."""
    if not rows:
        return
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            mark = param_mark()
            cursor.execute(
                f"INSERT INTO {SQLITE_TABLE} (rowid, grams) VALUES "  # noqa: S608
                + ", ".join([f"({mark}, {mark})"] * len(rows)),
                [v for pk, text in rows for v in (pk, text)])
        elif connection.vendor == "postgresql":
            cursor.execute(
                "INSERT INTO customers_searchgrams (customer_id, grams) VALUES "
                + ", ".join(["(%s, %s::text[])"] * len(rows)),
                [v for pk, text in rows for v in (pk, text.split(" ") if text else [])])


def _read(condition: str, params: list[int]) -> tuple[dict[int, tuple], dict[int, list[tuple]]]:
    from kehu.customers.models import Contact, Customer

    opened = _openers(Customer, ("phones", "emails", "wechat", "id_number"))
    # Migration 0006's backfill may run before 0014 added the ID number: '' in its place.
    id_number = "id_number" if id_number_column() else "''"
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT id, kind, name, short_name, name_pinyin, name_initials, phones, emails,"
            f" wechat, {id_number} FROM customers_customer WHERE id {condition}", params)  # noqa: S608
        customers = {row[0]: (*row[1:6], *(o(v) for o, v in zip(opened, row[6:], strict=True)))
                     for row in cursor.fetchall()}
        opened = _openers(Contact, ("phones", "email", "wechat"))
        cursor.execute("SELECT customer_id, name, phones, email, wechat FROM customers_contact"
                       f" WHERE customer_id {condition}", params)  # noqa: S608
        contacts: dict[int, list[tuple]] = defaultdict(list)
        for customer_id, name, *values in cursor.fetchall():
            contacts[customer_id].append(
                (name, *(o(v) for o, v in zip(opened, values, strict=True))))
    return customers, contacts


def _openers(model, names: Sequence[str]) -> list:
    """Each column's way to open a value a raw cursor read (encrypted or not)."""
    return [model._meta.get_field(name).open for name in names]


class _Grams:
    """How each kind of contact value becomes grams now: its parts in the clear, or one
    blind gram when the kind is encrypted."""

    def __init__(self) -> None:
        self.sealed = encrypted_kinds()

    def add(self, grams: set[str], kind: str, values) -> None:
        values = [v for v in _list(values) if v] if kind in ("phone", "email") \
            else [values] if values else []
        if kind in self.sealed:
            grams.update([blind_gram(kind, v) for v in values])
            return
        add = _add_phone_grams if kind == "phone" else _add_email_grams
        for value in values:
            add(grams, value)


def _customer_grams(values: tuple, contacts: Iterable[tuple], how: _Grams) -> set[str]:
    kind, name, short_name, pinyin, initials, phones, emails, wechat, id_number = values
    if not pinyin and not initials and name:  # rows written without it (raw loaders)
        pinyin, initials = name_pinyin(name, is_person=kind == "person")
    grams: set[str] = set()
    for text in (name, short_name, pinyin, initials):
        if text:  # an empty one (most short names) has no grams
            _add_text_grams(grams, text)
    for part, value in (("wechat", wechat), ("phone", phones), ("email", emails),
                        ("id_number", id_number)):
        how.add(grams, part, value)
    for contact_name, contact_phones, contact_email, contact_wechat in contacts:
        _add_text_grams(grams, contact_name)
        for part, value in (("email", [contact_email]), ("wechat", contact_wechat),
                            ("phone", contact_phones)):
            how.add(grams, part, value)
    return grams


def _list(value) -> list[str]:
    """A JSON list column as read by a raw cursor: text on SQLite, a list on PostgreSQL."""
    if isinstance(value, str):
        value = json.loads(value or "[]")
    return [str(v) for v in value or [] if v]
