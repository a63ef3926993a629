"""Quick search over a million customers.

A substring search (`LIKE '%西湖%'`) has to read every row when the term is rare.
So terms of three characters or more first ask a trigram index — SQLite's FTS5
`trigram` tokenizer, PostgreSQL's `pg_trgm` — for at most PROBE_LIMIT matching ids.
A rare term becomes an indexed `id IN (...)`. A common term (more matches than
that) falls back to the plain filter, which is fast precisely because it is
common: walking the sorted index finds a page of matches after a few rows.
Terms under three characters cannot use a trigram index and take the plain filter.
"""

from __future__ import annotations

import re

from django.db import connection
from django.db.models import Q

PROBE_LIMIT = 2000
SEARCH_COLUMNS = ("name", "short_name", "name_pinyin", "name_initials", "phones", "emails")
PG_SEARCH_EXPRESSION = (
    "UPPER(name || ' ' || short_name || ' ' || name_pinyin || ' ' || name_initials"
    " || ' ' || phones::text || ' ' || emails::text)"
)


def search_q(text: str) -> Q:
    """The plain filter: name or short name, pinyin, pinyin initials, phone digits, email."""
    q = Q(name__icontains=text) | Q(short_name__icontains=text)
    lowered = text.lower()
    if re.fullmatch(r"[a-z]+", lowered):
        q |= Q(name_initials__contains=lowered) | Q(name_pinyin__contains=lowered)
    digits = phone_digits(text)
    if digits:
        q |= Q(phones__icontains=digits)
    if "@" in text:
        q |= Q(emails__icontains=lowered)
    return q


def search_filter(text: str) -> Q:
    """The filter for a quick search, using the trigram index when it helps."""
    terms = [term for term in _index_terms(text) if len(term) >= 3]
    if terms and len(terms) == len(_index_terms(text)):
        ids = _indexed_ids(terms)
        if ids is not None and len(ids) <= PROBE_LIMIT:
            return Q(pk__in=ids)
    return search_q(text)


def phone_digits(text: str) -> str:
    digits = re.sub(r"\D", "", text)
    return digits if len(digits) >= 4 else ""


def _index_terms(text: str) -> list[str]:
    """The substrings any match must contain in one column (text itself, or its digits)."""
    terms = [text.strip().lower()]
    digits = phone_digits(text)
    if digits and digits != terms[0]:
        terms.append(digits)
    return terms


def _indexed_ids(terms: list[str]) -> list[int] | None:
    """Ids of customers matching any term, at most PROBE_LIMIT + 1; None without an index."""
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            match = " OR ".join('"' + term.replace('"', '""') + '"' for term in terms)
            cursor.execute(
                "SELECT rowid FROM customers_search WHERE customers_search MATCH %s LIMIT %s",
                [match, PROBE_LIMIT + 1],
            )
        elif connection.vendor == "postgresql":
            where = " OR ".join([f"{PG_SEARCH_EXPRESSION} LIKE UPPER(%s)"] * len(terms))
            cursor.execute(
                f"SELECT id FROM customers_customer WHERE {where} LIMIT %s",  # noqa: S608
                [*(f"%{_escape_like(t)}%" for t in terms), PROBE_LIMIT + 1],
            )
        else:
            return None
        return [row[0] for row in cursor.fetchall()]


def _escape_like(term: str) -> str:
    return term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
