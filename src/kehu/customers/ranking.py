"""Quick search ranked the way a person expects, with why each customer matched.

Tiers, best first: the exact name; a name that starts with the term; the exact initials
or pinyin; initials or pinyin that start with the term; the term anywhere in the name,
short name, pinyin or initials; then a contact's name, a phone or an e-mail (the
customer's or a contact's). Within a tier the most recently updated comes first.

Which rows are ranked depends on how common the term is (see `search.search_filter`):

- rare (the gram index proposes at most PROBE_LIMIT customers): every match in scope is
  read as a few columns (one query), ranked in Python and cut into pages;
- common: the strong tiers (exact and leading name, initials, pinyin) come from B-tree
  ranges over `name`, `name_initials` and `name_pinyin`, each at most PROBE_LIMIT rows,
  and are listed first; every other match follows newest first, by keyset over the
  list's `(updated_at, id)` index, as an unranked search would. Ranking a common term
  fully would read all its matches (公司: most of the table) for one page.

Scope is inside every query (the caller passes the viewer's scoped queryset), so counts,
pages and tiers never see a customer out of scope. A cursor is (tier, updated_at, id) of
the last row shown, tier 9 standing for "the rest, newest first"; pages go forward only.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass

from django.db.models import Q, QuerySet

from kehu.core.masking import mask_value
from kehu.core.pagination import Page, cursor_moment, decode_cursor_values, invalid_cursor
from kehu.customers import searchindex
from kehu.customers.models import Contact, Customer
from kehu.customers.search import phone_digits, probe_ids, search_q
from kehu.customers.searchindex import normalize

EXACT, PREFIX, PINYIN_EXACT, PINYIN_PREFIX, SUBSTRING, OTHER = 1, 2, 3, 4, 5, 6
REST = 9
_RANK_COLUMNS = ("pk", "name", "short_name", "name_pinyin", "name_initials", "updated_at")
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
                limit: int) -> Page:
    """One page of `qs` (already scoped and filtered) matching `q`, best first."""
    term = Term.of(q)
    anchor = _decode(cursor) if cursor else None
    plain = search_q(q, masked=masked)
    ids = probe_ids(q, masked=masked)
    common = ids is None or len(ids) > searchindex.PROBE_LIMIT
    candidates = _strong_ids(term) if common else ids
    ranked = _ranked(qs.filter(plain, pk__in=candidates), term, only_strong=common)
    keys = [key for key in ranked if anchor is None or key > anchor[:3]]
    chosen = keys[:limit + 1]
    rest: list[Customer] = []
    if common and len(chosen) <= limit:
        after = anchor if anchor is not None and anchor[0] == REST else None
        rest_qs = qs.filter(plain).exclude(pk__in=[-key[2] for key in ranked])
        rest = _newest(rest_qs, after, limit + 1 - len(chosen))
    rows = _rows_in_order([-key[2] for key in chosen]) + rest
    more = len(rows) > limit
    rows = rows[:limit]
    tiers = {-key[2]: key[0] for key in chosen}
    for row in rows:
        row.search_tier = tiers.get(row.pk, REST)
    next_cursor = _encode(rows[-1]) if rows and more else None
    return Page(items=rows, next_cursor=next_cursor, prev_cursor=None)


def tier_of(term: Term, name: str, short_name: str, pinyin: str, initials: str) -> int:
    """The tier of a customer that matches `term` (OTHER when only its contacts, phones or
    e-mails can explain the match)."""
    name, short_name = normalize(name), normalize(short_name)
    word = term.lowered
    if name == word:
        return EXACT
    if name.startswith(word):
        return PREFIX
    if term.latin and word in (initials, pinyin):
        return PINYIN_EXACT
    if term.latin and (initials.startswith(word) or pinyin.startswith(word)):
        return PINYIN_PREFIX
    if word in name or word in short_name or (term.latin and (word in pinyin or word in initials)):
        return SUBSTRING
    return OTHER


def _ranked(qs: QuerySet, term: Term, *, only_strong: bool) -> list[tuple]:
    """Sort keys (tier, -updated_at, -id) of the matching rows, best first."""
    keys = []
    for pk, name, short_name, pinyin, initials, updated_at in qs.values_list(*_RANK_COLUMNS):
        tier = tier_of(term, name, short_name, pinyin, initials)
        if not (only_strong and tier > PINYIN_PREFIX):
            keys.append((tier, -updated_at.timestamp(), -pk))
    return sorted(keys)


def _strong_ids(term: Term) -> list[int]:
    """Ids of live customers whose name is or starts with the term, or whose initials or
    pinyin are or start with it (a Latin term): B-tree ranges, each at most PROBE_LIMIT
    rows (a range with more is too common to rank: it stays with the rest)."""
    live = Customer.objects.filter(deleted_at__isnull=True)
    probes = [live.filter(name=term.text),
              live.filter(name__gte=term.text, name__lt=term.text + _LAST,
                          name__startswith=term.text)]
    if term.latin:
        word = term.lowered
        for column in ("name_initials", "name_pinyin"):
            probes.append(live.filter(**{f"{column}__gte": word, f"{column}__lt": word + _LAST}))
    found: set[int] = set()
    for probe in probes:
        ids = list(probe.values_list("pk", flat=True)[:searchindex.PROBE_LIMIT + 1])
        if len(ids) <= searchindex.PROBE_LIMIT:
            found.update(ids)
    return sorted(found)


def _newest(qs: QuerySet, after: tuple | None, count: int) -> list[Customer]:
    if after is not None:
        moment, pk = after[3], -after[2]
        qs = qs.filter(Q(updated_at__lte=moment) & (Q(updated_at__lt=moment) | Q(id__lt=pk)))
    return list(qs.order_by("-updated_at", "-id")[:count])


def _rows_in_order(ids: list[int]) -> list[Customer]:
    """The chosen customers as full rows (they came from the scoped query), in rank order."""
    if not ids:
        return []
    found = Customer.objects.in_bulk(ids)
    return [found[pk] for pk in ids if pk in found]


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
            .only("customer_id", "name", "phones", "email").order_by("-is_primary", "id"):
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
