"""Quick search over a million customers.

A substring search (`LIKE '%西湖%'`) has to read every row when the term is rare.
So terms of three characters or more first ask a trigram index — SQLite's FTS5
`trigram` tokenizer, PostgreSQL's `pg_trgm` — for at most PROBE_LIMIT matching ids.
A rare term becomes an indexed `id IN (...)`. A common term (more matches than
that) falls back to the plain filter, which is fast precisely because it is
common: walking the sorted index finds a page of matches after a few rows.
Terms under three characters cannot use a trigram index and take the plain filter.

A viewer who sees phones and emails masked (138****5678) must not be able to read
them back by searching "13812", then "138123" and so on. For that viewer every
column named in the sensitive-field table (kehu.customers.sensitive) matches only
on its complete value — a whole phone number in any common format (compared as
E.164), a whole email address — and never on a part; the index probe then only
narrows the candidates, and the exact test decides. Other viewers search as before.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import reduce
from operator import or_

from django.core.exceptions import ValidationError
from django.db import connection
from django.db.models import BooleanField, F, Func, JSONField, Q
from django.db.models.expressions import RawSQL

from kehu.customers.models import Customer
from kehu.customers.normalizers import normalize_email, normalize_phone

PROBE_LIMIT = 2000
TEXT, LATIN, PHONE_DIGITS, EMAIL = "text", "latin", "phone digits", "email"
# The columns quick search reads (the trigram index of migration 0002 covers the same)
# and how a term matches a part of each: anywhere in the text; a run of Latin letters in
# the pinyin; four or more digits of a phone; a part of an email when the term has an "@".
SEARCH_FIELDS: Mapping[str, str] = {
    "name": TEXT, "short_name": TEXT, "name_pinyin": LATIN, "name_initials": LATIN,
    "phones": PHONE_DIGITS, "emails": EMAIL,
}
SEARCH_COLUMNS = tuple(SEARCH_FIELDS)
PG_SEARCH_EXPRESSION = (
    "UPPER(name || ' ' || short_name || ' ' || name_pinyin || ' ' || name_initials"
    " || ' ' || phones::text || ' ' || emails::text)"
)


def search_q(text: str, *, masked: Mapping[str, str]) -> Q:
    """The plain filter: name or short name, pinyin, pinyin initials, phone digits, email.

    `masked` maps the columns the viewer sees masked to their mask kind; those match
    only a complete value.
    """
    parts = [
        _complete_q(column, masked[column], text) if column in masked else _part_q(column, how, text)
        for column, how in SEARCH_FIELDS.items()
    ]
    parts = [q for q in parts if q is not None]
    return reduce(or_, parts) if parts else Q(pk__in=[])


def search_filter(text: str, *, masked: Mapping[str, str]) -> Q:
    """The filter for a quick search, using the trigram index when it helps.

    For a masking viewer the index (which holds phones and emails in full) only
    proposes candidates; the plain filter, exact on the masked columns, decides.
    """
    masked = {column: kind for column, kind in masked.items() if column in SEARCH_FIELDS}
    plain = search_q(text, masked=masked)
    terms = _index_terms(text, masked)
    if terms and all(len(term) >= 3 for term, _columns in terms):
        ids = _indexed_ids(terms, narrow=plain if masked else None)
        if ids is not None and len(ids) <= PROBE_LIMIT:
            return Q(pk__in=ids) & plain if masked else Q(pk__in=ids)
    return plain


def complete_value(kind: str, text: str) -> str | None:
    """`text` as the complete stored value of a `kind` field, or None when it is not one.

    A phone in any common format becomes E.164 (what the services store), an email is
    compared without regard to case, any other ID-like value as typed, trimmed.
    """
    text = text.strip()
    if not text:
        return None
    try:
        if kind == "phone":
            return normalize_phone(text)
        if kind == "email":
            return normalize_email(text).lower() if "@" in text else None
    except ValidationError:
        return None
    return text


def _part_q(column: str, how: str, text: str) -> Q | None:
    """What a viewer who sees `column` in the clear matches: any part of it."""
    lowered = text.lower()
    if how == TEXT:
        return Q(**{f"{column}__icontains": text})
    if how == LATIN:
        return Q(**{f"{column}__contains": lowered}) if re.fullmatch(r"[a-z]+", lowered) else None
    if how == PHONE_DIGITS:
        digits = phone_digits(text)
        return Q(**{f"{column}__icontains": digits}) if digits else None
    if how == EMAIL:
        return Q(**{f"{column}__icontains": lowered}) if "@" in text else None
    raise ValueError(f"unknown search kind {how!r}")


def _complete_q(column: str, kind: str, text: str) -> Q | None:
    """What a viewer who sees `column` masked matches: its complete value, nothing less."""
    value = complete_value(kind, text)
    if value is None:
        return None
    if not _is_list(column):
        return Q(**{f"{column}__iexact": value})
    # A number stored with an extension (+8657188886666;ext=123) is found by its whole
    # number too; an extension typed in the term must match in full.
    extension = kind == "phone" and ";ext=" not in value
    return Q(HasElement(column, value, with_extension=extension))


def _is_list(column: str) -> bool:
    return isinstance(Customer._meta.get_field(column), JSONField)


class HasElement(Func):
    """True where the JSON list in `column` holds `value` as one whole element, in any case.

    With `with_extension`, an element `value;ext=…` counts too. A Func over the column
    (not raw SQL naming the table) so that it follows the query's table aliases.
    """

    output_field = BooleanField()

    def __init__(self, column: str, value: str, *, with_extension: bool = False) -> None:
        super().__init__(F(column))
        self.value = value.lower()
        self.with_extension = with_extension

    def _test(self) -> tuple[str, list[str]]:
        test, params = "LOWER(e.value) = %s", [self.value]
        if self.with_extension:
            test += " OR e.value LIKE %s"
            params.append(f"{self.value};ext=%")
        return test, params

    def as_sql(self, compiler, connection, **extra):  # SQLite
        column, column_params = compiler.compile(self.source_expressions[0])
        test, params = self._test()
        return (f"EXISTS (SELECT 1 FROM json_each({column}) AS e WHERE {test})",
                [*column_params, *params])

    def as_postgresql(self, compiler, connection, **extra):
        column, column_params = compiler.compile(self.source_expressions[0])
        test, params = self._test()
        return (f"CASE WHEN jsonb_typeof({column}) = 'array' THEN EXISTS (SELECT 1 FROM"
                f" jsonb_array_elements_text({column}) AS e(value) WHERE {test}) ELSE false END",
                [*column_params, *column_params, *params])


def phone_digits(text: str) -> str:
    digits = re.sub(r"\D", "", text)
    return digits if len(digits) >= 4 else ""


def _index_terms(text: str, masked: Mapping[str, str]) -> list[tuple[str, tuple[str, ...]]]:
    """The substrings any match must contain, each with the columns it may be found in.

    Without masking: the text itself and its digits, in any column. With masking: the
    text in the columns shown in the clear, and each masked column's complete value
    (when the text is one) in that column alone.
    """
    term = text.strip().lower()
    if not masked:
        terms = [(term, SEARCH_COLUMNS)]
        digits = phone_digits(text)
        if digits and digits != term:
            terms.append((digits, SEARCH_COLUMNS))
        return terms
    clear = tuple(column for column in SEARCH_COLUMNS if column not in masked)
    terms = [(term, clear)] if clear else []
    for column, kind in masked.items():
        value = complete_value(kind, text)
        if value is None:
            continue
        if not value.isascii() and _is_list(column) and connection.vendor == "sqlite":
            return []  # SQLite indexes a JSON list as its text, where \uXXXX hides the value
        terms.append((value.lower(), (column,)))
    return terms


def _indexed_ids(
    terms: list[tuple[str, tuple[str, ...]]], *, narrow: Q | None = None
) -> list[int] | None:
    """Ids of customers matching any term, at most PROBE_LIMIT + 1; None without an index.

    SQLite's FTS5 table keeps each column apart, so a term is looked for only in its
    columns. PostgreSQL's pg_trgm index is over all the columns joined, where a masking
    viewer's "13812" would hit every phone holding those digits: there the probe itself
    applies `narrow` (that viewer's exact filter) to the index's candidates, so that a
    term common only in masked values does not overflow into a scan of the plain filter.
    """
    if narrow is not None and connection.vendor == "postgresql":
        where = " OR ".join([f"{PG_SEARCH_EXPRESSION} LIKE UPPER(%s)"] * len(terms))
        hit = RawSQL(f"({where})", [f"%{_escape_like(t)}%" for t, _columns in terms],  # noqa: S611
                     output_field=BooleanField())
        return list(Customer.objects.filter(hit, narrow)
                    .values_list("pk", flat=True)[:PROBE_LIMIT + 1])
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            match = " OR ".join(
                ("" if columns == SEARCH_COLUMNS else "{" + " ".join(columns) + "} : ")
                + '"' + term.replace('"', '""') + '"'
                for term, columns in terms
            )
            cursor.execute(
                "SELECT rowid FROM customers_search WHERE customers_search MATCH %s LIMIT %s",
                [match, PROBE_LIMIT + 1],
            )
        elif connection.vendor == "postgresql":
            where = " OR ".join([f"{PG_SEARCH_EXPRESSION} LIKE UPPER(%s)"] * len(terms))
            cursor.execute(
                f"SELECT id FROM customers_customer WHERE {where} LIMIT %s",  # noqa: S608
                [*(f"%{_escape_like(t)}%" for t, _columns in terms), PROBE_LIMIT + 1],
            )
        else:
            return None
        return [row[0] for row in cursor.fetchall()]


def _escape_like(term: str) -> str:
    return term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
