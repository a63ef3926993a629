"""Quick search over a million customers: what matches, and the index that finds it.

A term matches a customer by any part of its name or short name, a run of Latin letters
in the pinyin or initials of its name, four or more digits of a phone, a part of an
e-mail (three characters or more), and the same in its contacts: any part of a
contact's name, phone or e-mail. `search_q` is that rule as one filter (the authority).

A substring filter reads every row when the term is rare. So `search_filter` first asks
the gram index (kehu.customers.searchindex: CJK characters and pairs, trigrams, phone
four-grams, on SQLite FTS5 and PostgreSQL GIN) for at most `probe_limit()` candidates —
for a term of any length, 欧 and 建军 included — and re-checks them with `search_q`. With
more candidates, up to `walk_limit()`, SQLite walks the sorted index and tests each
entry against the candidates before the plain filter (`InCandidates`): a few thousand
matches no longer cost a walk of re-checks through the whole list. A common term (more
candidates than that) takes the plain filter, which is fast precisely because it is
common: walking the sorted index finds a page of matches after a few rows. A term the
index cannot answer (one or two Latin letters: every initials column holds some) takes
the plain filter too; it is common by nature.

A viewer who sees phones and emails masked (138****5678) must not be able to read
them back by searching "13812", then "138123" and so on. For that viewer every
column named in the sensitive-field tables (kehu.customers.sensitive), the contacts'
too, matches only on its complete value — a whole phone number in any common format
(compared as E.164), a whole email address — and never on a part; the index is asked
only for the grams of the columns shown in the clear and of such complete values, and
`search_q` decides. Other viewers search as before.

A column encrypted at rest (customers.encryption: ID numbers always; phones, e-mails and
WeChat ids when the admin chooses) has no part to match and no grams but one: every
viewer finds it by its complete value only, through its blind index in `CustomerKey`
(one indexed lookup), and the gram index holds `k` + that index for it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import reduce
from operator import or_

from django.core.exceptions import ValidationError
from django.db import connection
from django.db.models import BooleanField, Exists, F, Func, JSONField, OuterRef, Q
from django.db.models.expressions import RawSQL

from kehu.customers import searchindex
from kehu.customers.encryption import blind_gram, encrypted_kinds, stored_key
from kehu.customers.models import Contact, Customer, CustomerKey
from kehu.customers.normalizers import normalize_email, normalize_id_number, normalize_phone
from kehu.customers.searchindex import PROBE_LIMIT
from kehu.customers.sensitive import CONTACT_SENSITIVE

__all__ = ["PROBE_LIMIT", "Candidates", "rare_candidates", "term_candidates", "search_filter", "search_q"]

TEXT, LATIN, PHONE_DIGITS, EMAIL, WECHAT = "text", "latin", "phone digits", "email", "wechat"
# The columns quick search reads and how a term matches a part of each: anywhere in the
# text; a run of Latin letters in the pinyin; four or more digits of a phone; a part of
# three characters or more of an email.
SEARCH_FIELDS: Mapping[str, str] = {
    "name": TEXT, "short_name": TEXT, "name_pinyin": LATIN, "name_initials": LATIN,
    "phones": PHONE_DIGITS, "emails": EMAIL, "wechat": WECHAT,
}
CONTACT_FIELDS: Mapping[str, str] = {"name": TEXT, "phones": PHONE_DIGITS, "email": EMAIL,
                                     "wechat": WECHAT}
# What a WeChat id looks like (its rules: a letter, then 5-19 letters, digits, - or _);
# a masking viewer's term is compared with the stored ids only when it is one.
WECHAT_ID = re.compile(r"[A-Za-z][-_A-Za-z0-9]{5,19}")
# The match-key kind of each searched column that may be encrypted (the same for contacts).
COLUMN_KINDS: Mapping[str, str] = {"phones": "phone", "emails": "email", "email": "email",
                                   "wechat": "wechat"}
SEARCH_COLUMNS = tuple(SEARCH_FIELDS)
# Up to this many candidates go to the database as a literal id list; more as the index's
# own sub-select, which spares thousands of parameters (see searchindex.probe_sql).
LITERAL_IDS = 200


def search_q(text: str, *, masked: Mapping[str, str],
             contact_masked: Mapping[str, str] | None = None) -> Q:
    """The plain filter: name or short name, pinyin, pinyin initials, phone digits, email,
    and a contact's name, phone digits or email.

    `masked` maps the customer columns the viewer sees masked to their mask kind,
    `contact_masked` the contact columns (the same as `masked` would be, by default);
    those match only a complete value.
    """
    if contact_masked is None:
        contact_masked = _contact_masking(masked)
    sealed = encrypted_kinds()
    own = _columns_q(_clear(SEARCH_FIELDS, sealed), masked, text, Customer)
    of_contact = _columns_q(_clear(CONTACT_FIELDS, sealed), contact_masked, text, Contact)
    if of_contact is not None:
        # The customer's contacts as a range of one (>= and <=), not an equality: under an
        # OR, PostgreSQL may otherwise run the EXISTS as a "hashed SubPlan", reading every
        # contact once (49 ms at 100,000 customers) to answer a walk that needs 600 rows.
        contacts = Contact.objects.filter(of_contact, customer_id__gte=OuterRef("pk"),
                                          customer_id__lte=OuterRef("pk"))
        own = Exists(contacts) if own is None else own | Exists(contacts)
    blind = _blind_q(text, sealed)
    if blind is not None:
        own = blind if own is None else own | blind
    return own if own is not None else Q(pk__in=[])


def _clear(fields: Mapping[str, str], sealed: frozenset[str]) -> dict[str, str]:
    """The searched columns not encrypted now (those are matched by `_blind_q`)."""
    return {column: how for column, how in fields.items()
            if COLUMN_KINDS.get(column) not in sealed}


def sealed_value(kind: str, text: str) -> str | None:
    """`text` as a complete value of an encrypted kind, normalised as its key; or None."""
    text = text.strip()
    if kind == "wechat":
        return text if WECHAT_ID.fullmatch(text) else None
    if kind == "id_number":
        try:
            return normalize_id_number(text) or None
        except ValidationError:
            return None
    return complete_value(kind, text)


def _blind_q(text: str, sealed: frozenset[str]) -> Q | None:
    """Customers holding (themselves or through a contact) the complete value `text` in an
    encrypted column: by its blind index, one lookup of CustomerKey's (kind, value) index."""
    parts = [Q(pk__in=CustomerKey.objects.filter(kind=kind, value=stored_key(kind, value))
               .values("customer_id"))
             for kind in sorted(sealed) if (value := sealed_value(kind, text)) is not None]
    return reduce(or_, parts) if parts else None


def search_filter(text: str, *, masked: Mapping[str, str]) -> Q:
    """The filter for a quick search: candidates from the gram index, re-checked by the
    plain filter; the plain filter alone when the term is common or not indexable."""
    masked = {column: kind for column, kind in masked.items() if column in SEARCH_FIELDS}
    plain = search_q(text, masked=masked)
    candidates = rare_candidates(text, masked=masked)
    return plain if candidates is None else candidates & plain


@dataclass(frozen=True)
class Candidates:
    """What the gram index says of a term: `rare`, a filter of at most `probe_limit()` ids
    to read and rank; or `within`, a test of membership in more candidates for a walk of a
    sorted index to make before the plain filter (SQLite, up to `walk_limit()`); or
    neither: the term is common (or has no gram) and the plain filter walks alone."""

    rare: Q | None = None
    within: Q | None = None
    recent: list[searchindex.Recent] | None = None  # ranked, PostgreSQL: newest first
    groups: list[list[str]] | None = None  # ranked, PostgreSQL: the index's groups for the term


def term_candidates(text: str, *, masked: Mapping[str, str]) -> Candidates:
    """The index's answer for `text` (see Candidates): one bounded probe, and for more
    than `probe_limit()` candidates on SQLite one bounded count."""
    groups = index_groups(text, masked=masked)
    if groups is None:
        return Candidates()
    ids = searchindex.probe(groups)
    if ids is None:
        return Candidates()
    if len(ids) <= searchindex.probe_limit():
        if len(ids) <= LITERAL_IDS:
            return Candidates(rare=Q(pk__in=ids))
        sql, params = searchindex.probe_sql(groups)
        return Candidates(rare=Q(pk__in=RawSQL(sql, params)))  # noqa: S611  (grams are parameters)
    if connection.vendor != "sqlite":
        return Candidates()
    limit = searchindex.walk_limit()
    if _density(ids) > limit:
        return Candidates()
    count = searchindex.probe_count(groups, limit)
    if count is None or count > limit:
        return Candidates()
    return Candidates(within=Q(InCandidates(*searchindex.probe_sql(groups))))


def ranked_candidates(text: str, *, masked: Mapping[str, str]) -> Candidates:
    """`term_candidates` for a ranked page. On PostgreSQL a term held by at most
    PROBE_LIMIT customers (as on SQLite, the line up to which a term is ranked in full)
    comes as `recent`, its candidates newest first from the index's own rows
    (customers.ranking reads customer rows only until its page is full); a term held by
    more is common: the index is not asked twice, and only `groups` comes back (for the
    first page's newest days, searchindex.newest_window)."""
    if connection.vendor != "postgresql":
        return term_candidates(text, masked=masked)
    groups = index_groups(text, masked=masked)
    if groups is None:
        return Candidates()
    recent = searchindex.probe_recent(groups, searchindex.PROBE_LIMIT)
    return Candidates(recent=recent, groups=groups)


def _density(ids: list[int]) -> float:
    """How many candidates the first ids the probe returned (FTS5 gives them in ascending
    order) suggest there are in the whole table. Counting them costs up to 14 ms for a
    common term (126.com: two groups of two grams), the estimate nothing; it only decides
    which of two walks serves a term, never what is found, and one too high (candidates
    crowded among the oldest ids) takes the plain walk, as every term past the line did."""
    return len(ids) * searchindex.table_size() / max(max(ids), 1)


def rare_candidates(text: str, *, masked: Mapping[str, str]) -> Q | None:
    """A filter of the gram index's candidates to put before the plain filter (see
    Candidates); None when the term is common or the index cannot answer (then scan)."""
    found = term_candidates(text, masked=masked)
    return found.rare if found.rare is not None else found.within


class AnyId(Func):
    """`id IN (SELECT unnest(%s::bigint[]))`, for PostgreSQL: thousands of ids as one
    parameter (a literal list costs the ORM a placeholder each, and the planner an estimate
    each). A join, not `id = ANY(…)`: beside a rep's `owner_id = …` the planner ANDed the
    ids' bitmap with the owner index's (125,000 entries, 5-9 ms) to read 128 rows by id."""

    output_field = BooleanField()

    def __init__(self, ids: list[int]) -> None:
        super().__init__(F("pk"))
        self.ids = list(ids)

    def as_sql(self, compiler, connection, **extra):
        column, column_params = compiler.compile(self.source_expressions[0])
        return f"{column} IN (SELECT unnest(%s::bigint[]))", [*column_params, self.ids]


class InCandidates(Func):
    """`+id IN (the gram index's sub-select)`, for SQLite. The unary plus keeps the planner
    from reading the candidates by id and sorting them all (the rare plan, 27.6 ms for the
    7,665 candidates of 1385 at a million customers): it walks the sorted index instead and
    tests each entry's id against the candidates, built once into a temporary b-tree,
    before reading the row for the LIKEs (4.2 ms; the walk without it 22-28 ms)."""

    output_field = BooleanField()

    def __init__(self, sql: str, params: list) -> None:
        super().__init__(F("pk"))
        self.sql, self.params = sql, list(params)

    def as_sql(self, compiler, connection, **extra):
        column, column_params = compiler.compile(self.source_expressions[0])
        return f"+{column} IN ({self.sql})", [*column_params, *self.params]


def index_groups(text: str, *, masked: Mapping[str, str]) -> list[list[str]] | None:
    """The gram groups a matching customer holds all of at least one of; None when a way
    of matching has no gram to look for (then only a scan can tell)."""
    groups: list[list[str]] = []
    text_grams = searchindex.term_text_grams(text)
    if text_grams is None:
        return None  # the names always match by part, so the index must answer for them
    groups.append(text_grams)
    contact_masked = _contact_masking(masked)
    phones_masked = "phones" in masked or "phones" in contact_masked
    email_masked = "emails" in masked or "email" in contact_masked
    if phones_masked:
        value = complete_value("phone", text)
        if value is not None:
            groups.append(searchindex.term_phone_grams(value))
    elif phone_digits(text):
        groups.append(searchindex.term_phone_grams(phone_digits(text)))
    if email_masked:
        value = complete_value("email", text)
        if value is not None:
            groups.append(searchindex.term_email_grams(value) or [])
            if not groups[-1]:
                return None
    elif _email_part(text):  # a part of an e-mail or a WeChat id (grams of one kind)
        email = searchindex.term_email_grams(text)
        if email is None:
            return None
        groups.append(email)
    if email_masked and WECHAT_ID.fullmatch(text.strip()):  # a whole WeChat id
        groups.append(searchindex.term_email_grams(text) or [])
    for kind in sorted(encrypted_kinds()):  # an encrypted column's one gram
        if (value := sealed_value(kind, text)) is not None:
            groups.append([blind_gram(kind, value)])
    return groups


def _contact_masking(masked: Mapping[str, str]) -> dict[str, str]:
    """The contact columns masked for a viewer whose customer columns `masked` are: masking
    is per role, all or nothing, so a viewer who sees customers' values masked sees the
    contacts' masked too."""
    return dict(CONTACT_SENSITIVE) if masked else {}


def _columns_q(fields: Mapping[str, str], masked: Mapping[str, str], text: str, model) -> Q | None:
    parts = [
        _complete_q(column, masked[column], text, model) if column in masked
        else _part_q(column, how, text)
        for column, how in fields.items()
    ]
    parts = [q for q in parts if q is not None]
    return reduce(or_, parts) if parts else None


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
    if how in (EMAIL, WECHAT):
        return Q(**{f"{column}__icontains": lowered}) if _email_part(text) else None
    raise ValueError(f"unknown search kind {how!r}")


def _complete_q(column: str, kind: str, text: str, model=Customer) -> Q | None:
    """What a viewer who sees `column` masked matches: its complete value, nothing less."""
    if column == "wechat" and not WECHAT_ID.fullmatch(text.strip()):
        return None
    value = complete_value(kind, text)
    if value is None:
        return None
    if not _is_list(column, model):
        return Q(**{f"{column}__iexact": value})
    # A number stored with an extension (+8657188886666;ext=123) is found by its whole
    # number too; an extension typed in the term must match in full.
    extension = kind == "phone" and ";ext=" not in value
    return Q(HasElement(column, value, with_extension=extension))


def _is_list(column: str, model=Customer) -> bool:
    return isinstance(model._meta.get_field(column), JSONField)


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


def _email_part(text: str) -> bool:
    """Whether `text` may be a part of an e-mail address: three ASCII characters or more."""
    text = text.strip()
    return len(text) >= 3 and text.isascii()


def phone_digits(text: str) -> str:
    """The digits of a term written like (a part of) a phone number, when four or more;
    "" for anything else (zhangbin1771 is a name or an e-mail, not a phone search)."""
    if not re.fullmatch(r"[\d\s+\-().]+", text.strip()):
        return ""
    digits = re.sub(r"\D", "", text)
    return digits if len(digits) >= 4 else ""
