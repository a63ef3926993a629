"""Quick search ranked the way a person expects, with why each customer matched.

Tiers, best first: the exact name; a name that starts with the term; the exact initials
or pinyin; initials or pinyin that start with the term; the term anywhere in the name,
short name, pinyin or initials; then a contact's name, a phone or an e-mail (the
customer's or a contact's). Within a tier the most recently updated comes first.

Which rows are ranked depends on how common the term is (see `search.search_filter`):

- rare (the gram index proposes at most PROBE_LIMIT customers, 2,000, on both databases):
  the candidates in scope are re-checked, given their tier by a CASE and sorted by the
  database, which returns one page (one query; ranking 700 candidates in Python instead
  took 13 ms a page);
- rare on PostgreSQL, more than RANK_ALL candidates: the index hands the candidates over newest
  first (its rows carry updated_at), so no candidate's row is read to sort them. The strong
  tiers come from their B-tree ranges as for a common term; the substring tier is then
  walked among the candidates holding the name's grams, and the rest among all of them,
  newest first, a chunk of ids at a time until the page is full (1896, 8,723 candidates:
  the page query went from 86 ms, every candidate's row read and sorted, to ~4 ms; the
  whole page from 143 to 42 ms);
- common: the strong tiers (exact and leading name, initials, pinyin) come from B-tree
  ranges over `name`, `name_initials` and `name_pinyin`, each at most PROBE_LIMIT rows,
  and are listed first; every other match follows newest first, by keyset over the
  list's `(updated_at, id)` index, as an unranked search would. Ranking a common term
  fully would read all its matches (公司: most of the table) for one page. Between rare
  and common (on SQLite, up to `walk_limit()` candidates) that walk tests each entry
  against the index's candidates before the plain filter (search.InCandidates). On
  PostgreSQL the candidates of the newest days come first, newest first, from the index
  (searchindex.newest_window), and the keyset walk only goes on from the day before them
  (流有, 10,002 candidates: 39-44 -> 15 ms a page in process).

Scope is inside every query (the caller passes the viewer's scoped queryset), so counts,
pages and tiers never see a customer out of scope. A cursor is (tier, updated_at, id) of
the last row shown, tier 9 standing for "the rest, newest first"; pages go forward only.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from django.db import connection
from django.db.models import Case, IntegerField, Q, QuerySet, Value, When

from kehu.core.masking import mask_value
from kehu.core.pagination import Page, cursor_moment, decode_cursor_values, invalid_cursor
from kehu.customers import searchindex
from kehu.customers.models import Contact, Customer
from kehu.customers.search import (
    AnyId,
    Candidates,
    phone_digits,
    ranked_candidates,
    search_q,
)
from kehu.customers.searchindex import normalize

EXACT, PREFIX, PINYIN_EXACT, PINYIN_PREFIX, SUBSTRING, OTHER = 1, 2, 3, 4, 5, 6
REST = 9
FIRST_CHUNK = 128  # ids in the first read of a recency walk (a page is 51 rows)
# Up to this many candidates are ranked by one query over them all (≈6-10 µs each on
# PostgreSQL): less than the walk's own queries (the strong ranges, the names' probe).
RANK_ALL = 1000
_LAST = "\U0010ffff"


@dataclass(frozen=True)
class Term:
    text: str  # as typed, trimmed
    lowered: str  # NFKC, lower case
    latin: bool  # letters only: may be pinyin or initials

    @classmethod
    def of(cls, text: str) -> Term:
        lowered = normalize(text.strip())
        return cls(text.strip(), lowered, re.fullmatch(r"[a-z]+", lowered) is not None)


def ranked_page(*, qs: QuerySet, q: str, masked: Mapping[str, str], cursor: str | None,
                limit: int, reach: Callable[[], float] = lambda: 1.0) -> Page:
    """One page of `qs` (already scoped and filtered) matching `q`, best first. `reach`:
    about what share of all customers the scope holds, asked only when a common term's
    newest days are read (it sizes the work, not the page)."""
    term = Term.of(q)
    anchor = _decode(cursor) if cursor else None
    # The plain filter is resolved once for both queries of a page: Django's build_filter
    # took 5.3 ms a request under cProfile (1896, 1,000,000 customers) resolving it twice.
    matched = qs.filter(search_q(q, masked=masked))
    found = ranked_candidates(q, masked=masked)
    if found.recent is not None:
        return _page(_by_recency(matched, term, found, anchor, limit), limit)
    if found.rare is not None:
        return _page(_tiered(matched.filter(found.rare), term, anchor, limit), limit)
    strong = _strong_ids(term)
    rows: list[Customer] = []
    if strong and (anchor is None or anchor[0] != REST):
        rows = _tiered(matched.filter(_among(strong)), term, anchor, limit, strong=True)
    if len(rows) <= limit:
        # Every strong candidate that matches is listed above (an exact or leading name,
        # initials or pinyin is a match of the plain filter too), so the rest leaves them out.
        # Between the rare and the common, the walk tests the index's candidates first.
        rest = matched if found.within is None else matched.filter(found.within)
        rest = rest.exclude(pk__in=strong) if strong else rest
        after = anchor if anchor is not None and anchor[0] == REST else None
        rows += _the_rest(rest, term, found.groups, reach, after, limit + 1 - len(rows))
    return _page(rows, limit)


def _the_rest(rest: QuerySet, term: Term, groups: list[list[str]] | None,
              reach: Callable[[], float], after: tuple | None, count: int) -> list[Customer]:
    """Up to `count` rows of a common term's rest, newest first after `after`: on
    PostgreSQL first among the candidates of the newest days (`searchindex.newest_window`),
    then walked from the day before them; elsewhere, or without a window, walked."""
    newest = searchindex.newest_window(groups, reach, after[3] if after else None) \
        if groups else None
    if newest is None:
        return _newest(rest, after, count)
    rows = _walk_recent(rest, term, newest.recent, REST, count, after)
    if len(rows) < count:
        older = rest.filter(updated_at__lt=searchindex.day_start(newest.since))
        rows += _newest(older, after, count - len(rows))
    return rows


def _among(ids: list[int]) -> Q | AnyId:
    """`pk IN ids` as the database reads it best: on PostgreSQL one array parameter joined
    (zhoux's 1,115 strong ids: planning 1.95 ms as literals, 0.42 so), elsewhere a literal
    list."""
    return AnyId(ids) if connection.vendor == "postgresql" else Q(pk__in=ids)


def _tiered(qs: QuerySet, term: Term, anchor: tuple | None, limit: int, *,
            strong: bool = False) -> list[Customer]:
    """The first limit + 1 rows of `qs` after the anchor by (tier, newest first); only the
    strong tiers with `strong`."""
    ranked = qs.annotate(search_tier=tier_case(term))
    if strong:
        ranked = ranked.filter(search_tier__lte=PINYIN_PREFIX)
    if anchor is not None:
        ranked = ranked.filter(_after_ranked(anchor))
    return list(ranked.order_by("search_tier", "-updated_at", "-id")[:limit + 1])


def _by_recency(matched: QuerySet, term: Term, found: Candidates, anchor: tuple | None,
                limit: int) -> list[Customer]:
    """The first limit + 1 rows after the anchor, best first, of a term whose candidates
    the index gave newest first (`found.recent`). A few are ranked by one query, as on
    SQLite; more by the strong tiers' ranges, then the substring tier and the rest, each
    walked newest first among the candidates."""
    recent = found.recent or []
    if len(recent) <= RANK_ALL:
        return _tiered(matched.filter(AnyId([c[0] for c in recent])), term, anchor, limit)
    tier = anchor[0] if anchor is not None else EXACT
    # Only a candidate holding the names' grams can match by name (the tiers up to
    # SUBSTRING): with none, neither the strong ranges nor the substring walk are asked.
    named = _named(found, recent) if tier <= SUBSTRING else []
    strong = _strong_ids(term) if named else []
    rows: list[Customer] = []
    if strong and tier <= PINYIN_PREFIX:
        rows = _tiered(matched.filter(_among(strong)), term, anchor, limit, strong=True)
    if len(rows) <= limit and named and tier <= SUBSTRING:
        rows += _walk_recent(matched, term, named, SUBSTRING, limit + 1 - len(rows),
                             anchor if tier == SUBSTRING else None, skip=set(strong))
    if len(rows) <= limit and tier <= OTHER:
        rows += _walk_recent(matched, term, recent, OTHER, limit + 1 - len(rows),
                             anchor if tier == OTHER else None)
    return rows


def _named(found: Candidates, recent: list) -> list:
    """The candidates that hold the first group's grams (the names'; all of them when it is
    the only group), in the same order."""
    if not found.groups or len(found.groups) == 1:
        return recent
    # The names' group probed on its own (1-2 ms for 1896) rather than tested on each
    # candidate (`grams @> …` again on 8,723 arrays cost 20 ms); they are a subset of
    # `recent`, so its length bounds them.
    holding = set(searchindex.probe([found.groups[0]], len(recent), estimate=False) or ())
    return [c for c in recent if c[0] in holding]


def _walk_recent(matched: QuerySet, term: Term, candidates: list, tier: int, count: int,
                 anchor: tuple | None, skip: set[int] | frozenset = frozenset()
                 ) -> list[Customer]:
    """Up to `count` rows of `tier` (SUBSTRING: any name match a strong range left out,
    listed as a substring) among the candidates, newest first after the anchor: chunks of
    ids in the index's order, each read in scope and re-checked, growing fourfold (a rep
    who sees a tenth of the candidates reads a few chunks, not all of them)."""
    if anchor is not None:
        moment, last = anchor[3], -anchor[2]
        stamp = searchindex.stamp_of(moment)
        candidates = [c for c in candidates if c[1] is None or (c[1], c[0]) < (stamp, last)]
    ids = [c[0] for c in candidates if c[0] not in skip]
    # REST: every match, by recency alone (a common term's rest); no tier to compute.
    ranked = matched if tier == REST else matched.annotate(search_tier=tier_case(term))
    if tier == SUBSTRING:
        ranked = ranked.filter(search_tier__lte=SUBSTRING)
    elif tier != REST:
        ranked = ranked.filter(search_tier=tier)
    if anchor is not None:
        ranked = ranked.filter(Q(updated_at__lt=moment) | Q(updated_at=moment, id__lt=last))
    rows: list[Customer] = []
    start, size = 0, FIRST_CHUNK
    while start < len(ids) and len(rows) < count:
        chunk = ids[start:start + size]
        rows += ranked.filter(AnyId(chunk)).order_by("-updated_at", "-id")[:count - len(rows)]
        start, size = start + len(chunk), size * 4
    for row in rows:
        row.search_tier = tier
    return rows


def _page(rows: list[Customer], limit: int) -> Page:
    more = len(rows) > limit
    rows = rows[:limit]
    for row in rows:
        row.search_tier = getattr(row, "search_tier", REST)
    next_cursor = _encode(rows[-1]) if rows and more else None
    return Page(items=rows, next_cursor=next_cursor, prev_cursor=None)


def tier_case(term: Term) -> Case:
    """The tier of a matching row, in SQL (OTHER: only a contact, phone or e-mail matched)."""
    text, word = term.text, term.lowered
    whens = [When(name__iexact=text, then=Value(EXACT)),
             When(name__istartswith=text, then=Value(PREFIX))]
    substring = Q(name__icontains=text) | Q(short_name__icontains=text)
    if term.latin:
        whens += [When(Q(name_initials=word) | Q(name_pinyin=word), then=Value(PINYIN_EXACT)),
                  When(Q(name_initials__startswith=word) | Q(name_pinyin__startswith=word),
                       then=Value(PINYIN_PREFIX))]
        substring |= Q(name_initials__contains=word) | Q(name_pinyin__contains=word)
    whens.append(When(substring, then=Value(SUBSTRING)))
    return Case(*whens, default=Value(OTHER), output_field=IntegerField())


def _after_ranked(anchor: tuple) -> Q:
    """Rows after the anchor in (tier, updated_at desc, id desc) order."""
    tier, moment, pk = anchor[0], anchor[3], -anchor[2]
    return (Q(search_tier__gt=tier)
            | Q(search_tier=tier, updated_at__lt=moment)
            | Q(search_tier=tier, updated_at=moment, id__lt=pk))


def _strong_ids(term: Term) -> list[int]:
    """Ids of the customers whose name is or starts with the term, or whose initials or
    pinyin start with it (a Latin term): B-tree ranges, each of at most PROBE_LIMIT rows
    (a range with more is too common to rank: it stays with the rest).

    Each range is counted in its own index first (the names' in the live-name index), up
    to PROBE_LIMIT + 1 entries without reading the table, and only a range within the
    limit is fetched: zhoux's pinyin range used to fetch 2,001 ids to be dropped. A literal
    list, not a sub-select of the ranges: given that, SQLite may walk a sort index and
    test every row against it (a pool member's scope, tests/core/test_list_indexes.py)."""
    live = Customer.objects.filter(deleted_at__isnull=True)
    ranges = [live.filter(name=term.text),
              live.filter(name__gte=term.text, name__lt=term.text + _LAST,
                          name__startswith=term.text)]
    if term.latin:
        word = term.lowered
        ranges += [Customer.objects.filter(**{f"{column}__gte": word, f"{column}__lt": word + _LAST})
                   for column in ("name_initials", "name_pinyin")]
    found: set[int] = set()
    for rows in ranges:
        if rows[:searchindex.PROBE_LIMIT + 1].count() <= searchindex.PROBE_LIMIT:
            found.update(rows.values_list("pk", flat=True))
    return sorted(found)


def _newest(qs: QuerySet, after: tuple | None, count: int) -> list[Customer]:
    if after is not None:
        moment, pk = after[3], -after[2]
        qs = qs.filter(Q(updated_at__lte=moment) & (Q(updated_at__lt=moment) | Q(id__lt=pk)))
    return list(qs.order_by("-updated_at", "-id")[:count])


# --- cursors ---------------------------------------------------------------------


def _encode(row: Customer) -> str:
    raw = json.dumps([row.search_tier, row.updated_at.isoformat(), row.pk])
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def _decode(cursor: str) -> tuple:
    """(tier, -timestamp, -id, moment) of a ranked cursor; 422 on "cursor" otherwise."""
    tier, moment, pk = decode_cursor_values(cursor, 3)
    if tier not in (EXACT, PREFIX, PINYIN_EXACT, PINYIN_PREFIX, SUBSTRING, OTHER, REST) \
            or isinstance(tier, bool) or not isinstance(pk, int) or isinstance(pk, bool) \
            or not 0 < pk < 2**63:
        raise invalid_cursor()
    moment = cursor_moment(moment)
    return (tier, -moment.timestamp(), -pk, moment)


# --- why it matched ----------------------------------------------------------------


def explain(rows: list[Customer], q: str, *, masked: Mapping[str, str]) -> None:
    """Set `matched` on each row: {"field", "text"} (and "contact" for a contact's phone or
    e-mail) — the value as the viewer sees it, masked for a masking viewer. Call it
    before the rows are masked; one query for the contacts of the rows that need them."""
    term = Term.of(q)
    pending = []
    for row in rows:
        row.matched = _own_match(row, term, masked)
        if row.matched is None:
            pending.append(row)
    if not pending:
        return
    contacts: dict[int, list[Contact]] = {}
    for contact in Contact.objects.filter(customer_id__in=[r.pk for r in pending]) \
            .only("customer_id", "name", "phones", "email", "wechat") \
            .order_by("-is_primary", "id"):
        contacts.setdefault(contact.customer_id, []).append(contact)
    for row in pending:
        row.matched = _contact_match(contacts.get(row.pk, []), term, bool(masked))


def _own_match(row: Customer, term: Term, masked: Mapping[str, str]) -> dict | None:
    word = term.lowered
    if word in normalize(row.name):
        return {"field": "name", "text": row.name}
    if word in normalize(row.short_name):
        return {"field": "short_name", "text": row.short_name}
    if term.latin and word in row.name_initials:
        return {"field": "initials", "text": row.name_initials}
    if term.latin and word in row.name_pinyin:
        return {"field": "pinyin", "text": row.name_pinyin}
    phone = _matching(row.phones or [], term, "phone", bool(masked))
    if phone:
        return {"field": "phone", "text": phone}
    email = _matching(row.emails or [], term, "email", bool(masked))
    if email:
        return {"field": "email", "text": email}
    wechat = _matching([row.wechat] if row.wechat else [], term, "id", bool(masked))
    if wechat:
        return {"field": "wechat", "text": wechat}
    return None


def _contact_match(contacts: list[Contact], term: Term, masking: bool) -> dict | None:
    for contact in contacts:
        if term.lowered in normalize(contact.name):
            return {"field": "contact", "text": contact.name}
    for contact in contacts:
        phone = _matching(contact.phones or [], term, "phone", masking)
        if phone:
            return {"field": "contact_phone", "text": phone, "contact": contact.name}
        email = _matching([contact.email] if contact.email else [], term, "email", masking)
        if email:
            return {"field": "contact_email", "text": email, "contact": contact.name}
        wechat = _matching([contact.wechat] if contact.wechat else [], term, "id", masking)
        if wechat:
            return {"field": "contact_wechat", "text": wechat, "contact": contact.name}
    return None


def _matching(values: list[str], term: Term, kind: str, masking: bool) -> str:
    """The first of `values` the term is a part of (digits for a phone), as shown."""
    digits = phone_digits(term.text)
    for value in values:
        if kind == "phone":
            hit = bool(digits) and (digits in re.sub(r"\D", "", value)
                                    or re.sub(r"\D", "", value).endswith(digits[-8:]))
        else:
            hit = term.lowered in value.lower()
        if hit:
            return mask_value(kind, value) if masking else value
    return ""
