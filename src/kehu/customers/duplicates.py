"""Duplicates (查重): is this customer in Kehu already, and which pairs are one customer?

Two kinds of evidence. Hard: the same normalised phone, e-mail or credit code (the match
keys `CustomerKey` holds for customers and their contacts). Soft: the same name once
normalised (`names.name_parts`: 字节跳动科技 for every way of writing 北京字节跳动科技有限公司)
in a compatible place, or a name a typo away (rapidfuzz). Evidence against: two different
credit codes are two companies; one name core in two different places is two companies.

`pair_score` is the one scoring rule; `duplicates_of` asks it on one create or edit
(candidates from two index lookups: the keys and `name_key`); `duplicate_pairs` asks it
over the whole table, with candidates from three blocks — shared keys, equal name keys,
and neighbours in name-key order (typos past the first characters) — so it never compares
every pair (see docs/architecture.md "Duplicates" for the measured time and memory).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import Count
from django.utils.translation import gettext as _
from rapidfuzz.distance import Levenshtein
from rapidfuzz.fuzz import ratio

from kehu.accounts.models import User
from kehu.core.crypto import is_blind
from kehu.customers import cleaning
from kehu.customers.bulk import keys_lookup
from kehu.customers.encryption import encrypted_kinds
from kehu.customers.models import Customer, CustomerKey
from kehu.customers.names import name_parts
from kehu.customers.pinyin import name_pinyin
from kehu.customers.regions.names import short_name

THRESHOLD = 0.8  # a pair at or above is listed as a probable duplicate
WARN = 0.5  # on a create, a candidate at or above is shown
HARD = 0.95  # a shared key: the create asks before going on
WINDOW = 4  # neighbours in name-key order compared with each customer
GROUP_LIMIT = 50  # a key shared by more customers (a switchboard) makes no pairs
FIELDS = ("id", "kind", "name", "city", "phones", "emails", "credit_code", "id_number",
          "owner_id", "name_key")
KEY_LABELS = {"phone": "电话", "email": "邮箱", "credit_code": "统一社会信用代码",
              "id_number": "身份证号"}


@dataclass
class Pair:
    a: int
    b: int
    score: float
    reasons: list[str] = field(default_factory=list)


def _keys(row: dict[str, Any]) -> dict[str, set[str]]:
    return {"phone": set(row.get("phones") or []),
            "email": {e.lower() for e in row.get("emails") or []},
            "credit_code": {row["credit_code"].upper()} if row.get("credit_code") else set(),
            "id_number": {row["id_number"].upper()} if row.get("id_number") else set()}


def _key_reason(kind: str, values: set[str]) -> str:
    """"电话相同：+86…" — without the value when the kind is encrypted: a reason is stored
    (DuplicatePair) and must not keep in the clear what the column keeps sealed."""
    if kind in encrypted_kinds() or all(is_blind(v) for v in values):
        return _("%(key)s相同") % {"key": _(KEY_LABELS[kind])}
    shown = sorted(v for v in values if not is_blind(v))[0]
    return _("%(key)s相同：%(value)s") % {"key": _(KEY_LABELS[kind]), "value": shown}


def _place(row: dict[str, Any]) -> str:
    city = str(row.get("city") or "")
    return name_parts(row["name"]).place or short_name(city) or city  # 深圳市, 大理白族自治州


def pair_score(a: dict[str, Any], b: dict[str, Any],
               shared: dict[str, set[str]] | None = None) -> tuple[float, list[str]]:
    """How sure it is that two customers are one (0–1), and why. `a` and `b` hold FIELDS;
    `shared` adds keys known to be shared through contacts (kind -> values)."""
    keys_a, keys_b = _keys(a), _keys(b)
    common = {k: keys_a[k] & keys_b[k] | (shared or {}).get(k, set()) for k in keys_a}
    codes_differ = bool(keys_a["credit_code"] and keys_b["credit_code"]
                        and not common["credit_code"])
    reasons: list[str] = []
    score = 0.0
    if common["credit_code"]:
        score, reasons = 1.0, [_("统一社会信用代码相同")]
    if common["id_number"]:  # one person: never named in the reason (always encrypted)
        score, reasons = 1.0, [*reasons, _("身份证号相同")]
    for kind in ("phone", "email"):
        if common[kind]:
            score = max(score, 0.97 if kind == "phone" else 0.95)
            reasons.append(_key_reason(kind, common[kind]))
    name_score, why = _name_score(a, b)
    if why:
        reasons.append(why)
    if score and name_score >= 0.6:
        score = min(1.0, score + 0.03)
    score = max(score, name_score)
    if codes_differ:  # two registered companies, whatever else they share
        score, reasons = min(score, 0.3), [*reasons, _("统一社会信用代码不同")]
    return round(score, 3), reasons


def _name_score(a: dict[str, Any], b: dict[str, Any]) -> tuple[float, str]:
    parts_a, parts_b = name_parts(a["name"]), name_parts(b["name"])
    place_a, place_b = _place(a), _place(b)
    places_clash = bool(place_a and place_b and place_a != place_b)
    person = a["kind"] == "person" or b["kind"] == "person"
    if parts_a.core == parts_b.core:
        if places_clash:
            return 0.3, _("名称相同但地区不同（%(a)s / %(b)s）") % {"a": place_a, "b": place_b}
        if person:  # many people share a name: with the same city it is worth a look
            return (0.6, _("同名同城")) if place_a and place_a == place_b else (0.0, "")
        return 0.92, _("名称相同（忽略公司后缀和地名的写法）")
    if person or places_clash or min(len(parts_a.core), len(parts_b.core)) < 3:
        return 0.0, ""
    similar = ratio(parts_a.core, parts_b.core)
    if similar >= 80 and Levenshtein.distance(parts_a.core, parts_b.core) <= 2:
        return 0.6 + 0.3 * (similar - 80) / 20, _("名称相近：%(a)s / %(b)s") % {
            "a": parts_a.core, "b": parts_b.core}
    if name_pinyin(parts_a.core)[0] == name_pinyin(parts_b.core)[0]:
        return 0.82, _("名称读音相同：%(a)s / %(b)s") % {"a": parts_a.core, "b": parts_b.core}
    return 0.0, ""


# --- one customer: on create, edit and import --------------------------------------------


@dataclass
class Candidate:
    """A customer that may be the one being written. `name` is None when it is outside the
    viewer's scope: its existence is said ("已存在于其他同事名下"), nothing else."""

    customer_id: int
    name: str | None
    owner: str | None
    score: float
    reasons: list[str]

    @property
    def hard(self) -> bool:
        return self.score >= HARD


def duplicates_of(*, viewer: User, values: dict[str, Any], exclude: int | None = None,
                  contacts: Iterable[dict[str, Any]] = (), limit: int = 5) -> list[Candidate]:
    """The customers `values` (cleaned customer values) may duplicate, best first.

    Two index lookups (match keys, name key) and one load of at most a few rows: measured
    in bench/dedup.py at 1,000,000 customers.
    """
    row = {"kind": values.get("kind", "company"), "name": values.get("name", ""),
           "city": values.get("city", ""), "phones": list(values.get("phones") or []),
           "emails": list(values.get("emails") or []),
           "credit_code": values.get("credit_code") or "",
           "id_number": values.get("id_number") or ""}
    contact_keys = _contact_keys(contacts)
    pairs = [(kind, value) for kind, found in _keys(row).items() for value in found]
    pairs += [(kind, value) for kind, found in contact_keys.items() for value in found]
    by_key = keys_lookup(pairs)
    ids = {i for found in by_key.values() for i in found}
    core = name_parts(row["name"]).core
    if core:
        ids |= set(Customer.objects.filter(name_key=core[:200], deleted_at__isnull=True)
                   .values_list("id", flat=True)[:20])
    ids.discard(exclude)
    if not ids:
        return []
    return _candidates(viewer, row, ids, by_key, limit)


def _contact_keys(contacts: Iterable[dict[str, Any]]) -> dict[str, set[str]]:
    keys: dict[str, set[str]] = {"phone": set(), "email": set()}
    for contact in contacts:
        keys["phone"].update(contact.get("phones") or [])
        if contact.get("email"):
            keys["email"].add(contact["email"].lower())
    return keys


def _candidates(viewer: User, row: dict[str, Any], ids: set[int], by_key: dict,
                limit: int) -> list[Candidate]:
    # Unscoped on purpose, to score a match out of scope too; only `visible` ones are named.
    rows = {r["id"]: r for r in Customer.objects.filter(pk__in=ids)
            .values(*FIELDS, "owner__display_name", "owner__username")}
    visible = set(Customer.objects.visible_to(viewer).filter(pk__in=ids)
                  .values_list("pk", flat=True))
    found = []
    for pk, other in rows.items():
        shared = {kind: {v for (k, v), holders in by_key.items() if k == kind and pk in holders}
                  for kind in KEY_LABELS}
        score, reasons = pair_score(row, other, shared)
        if score < WARN:
            continue
        seen = pk in visible
        owner = other["owner__display_name"] or other["owner__username"]
        found.append(Candidate(pk, other["name"] if seen else None, owner if seen else None,
                               score, reasons if seen else [_("已存在于其他同事名下")]))
    found.sort(key=lambda c: (-c.score, c.customer_id))
    return found[:limit]


# --- the whole table: the batch finder ----------------------------------------------------


def duplicate_pairs(*, threshold: float = THRESHOLD,
                    progress: Any = None) -> Iterator[Pair]:
    """Every pair of live customers scoring at least `threshold`, each pair once (a < b).

    Blocks are scored one after the other, a chunk at a time, so memory holds one chunk
    and the pairs of the first two blocks (to skip them in the third), not every candidate.
    Unscoped: the nightly job stores them all; readers see the pairs whose customers are
    both in their scope (`duplicates_store.duplicate_pair_list`).
    """
    done: set[tuple[int, int]] = set()
    counted = [0]

    def block(pairs: Iterable[tuple[tuple[int, int], dict]], remember: bool) -> Iterator[Pair]:
        chunk: dict[tuple[int, int], dict] = {}
        for pair, shared in pairs:
            if pair in done or pair in chunk:
                continue
            chunk[pair] = shared
            if len(chunk) == 5000:
                yield from _flush(chunk, remember)
        yield from _flush(chunk, remember)

    def _flush(chunk: dict, remember: bool) -> Iterator[Pair]:
        yield from _scored(chunk, threshold)
        counted[0] += len(chunk)
        if remember:
            done.update(chunk)
        chunk.clear()
        if progress:
            progress(counted[0])

    shared: dict[tuple[int, int], dict[str, set[str]]] = {}
    for kind, value, ids in _shared_keys():
        for pair in _pairs_of(ids):
            shared.setdefault(pair, {}).setdefault(kind, set()).add(value)
    yield from block(shared.items(), remember=True)
    yield from block(((pair, {}) for pair in _same_name_pairs()), remember=True)
    yield from block(((pair, {}) for pair in _neighbours()), remember=False)


def _pairs_of(ids: list[int]) -> Iterator[tuple[int, int]]:
    ids = sorted(set(ids))
    if len(ids) > GROUP_LIMIT:
        return
    for i, a in enumerate(ids):
        for b in ids[i + 1:]:
            yield a, b


def _shared_keys() -> Iterator[tuple[str, str, list[int]]]:
    """(kind, value, customer ids) of every key two or more live customers hold."""
    shared = (CustomerKey.objects.filter(customer__deleted_at__isnull=True)
              .values("kind", "value").annotate(n=Count("customer_id", distinct=True))
              .filter(n__gt=1, n__lte=GROUP_LIMIT).values_list("kind", "value"))
    wanted = list(shared)
    for start in range(0, len(wanted), 500):
        chunk = wanted[start:start + 500]
        for (kind, value), ids in keys_lookup(chunk, stored=True).items():
            if len(ids) > 1:
                yield kind, value, sorted(ids)


def _same_name_pairs() -> Iterator[tuple[int, int]]:
    """Pairs with one name key whose places do not differ (杭州华信科技 and 南京华信科技 are
    two companies: most groups of a million customers are such, and never scored)."""
    groups = (Customer.objects.filter(deleted_at__isnull=True).exclude(name_key="")
              .values("name_key").annotate(n=Count("id")).filter(n__gt=1, n__lte=GROUP_LIMIT)
              .values_list("name_key", flat=True))
    keys = list(groups)
    for start in range(0, len(keys), 500):
        members: dict[str, list[dict[str, Any]]] = {}
        for row in (Customer.objects.filter(deleted_at__isnull=True,
                                            name_key__in=keys[start:start + 500])
                    .values("id", "kind", "name", "city", "name_key")):
            members.setdefault(row["name_key"], []).append(row)
        for rows in members.values():
            rows.sort(key=lambda r: r["id"])
            for i, a in enumerate(rows):
                for b in rows[i + 1:]:
                    if _may_be_one(a, b):
                        yield a["id"], b["id"]


def _may_be_one(a: dict[str, Any], b: dict[str, Any]) -> bool:
    place_a, place_b = _place(a), _place(b)
    if a["kind"] == "person" or b["kind"] == "person":
        return bool(place_a) and place_a == place_b
    return not (place_a and place_b and place_a != place_b)


def _neighbours() -> Iterator[tuple[int, int]]:
    """Customers whose name keys are neighbours in key order and a typo apart: each key
    is compared with the WINDOW distinct keys before it (a key many customers share —
    one trade name in sixty cities — counts once, or it would push its typo out of the
    window), every customer of one with every customer of the other, up to GROUP_LIMIT.
    One pass over the index cust_name_key_live; a window of keys in memory."""
    window: list[tuple[str, list[int]]] = []
    rows = (Customer.objects.filter(deleted_at__isnull=True, kind="company")
            .exclude(name_key="").order_by("name_key", "id").values_list("id", "name_key")
            .iterator(chunk_size=5000))
    for pk, key in rows:
        if window and window[-1][0] == key:
            if len(window[-1][1]) < GROUP_LIMIT:
                window[-1][1].append(pk)
                yield from _typo_pairs(pk, key, window[:-1])
            continue
        yield from _typo_pairs(pk, key, window)
        window.append((key, [pk]))
        if len(window) > WINDOW:
            window.pop(0)


def _typo_pairs(pk: int, key: str, window: list[tuple[str, list[int]]]) -> Iterator[tuple[int, int]]:
    if len(key) < 3:
        return
    for other_key, others in window:
        if ratio(key, other_key) >= 80:
            for other in others:
                yield (min(pk, other), max(pk, other))


def _scored(candidates: dict[tuple[int, int], dict[str, set[str]]],
            threshold: float) -> Iterator[Pair]:
    pairs = sorted(candidates)
    for start in range(0, len(pairs), 2000):
        chunk = pairs[start:start + 2000]
        ids = {i for pair in chunk for i in pair}
        rows = {r["id"]: r for r in Customer.objects.filter(pk__in=ids).values(*FIELDS)}
        for a, b in chunk:
            if a in rows and b in rows:
                score, reasons = pair_score(rows[a], rows[b], candidates[(a, b)])
                if score >= threshold:
                    yield Pair(a, b, score, reasons)


CHECKED = ("kind", "name", "city", "phones", "emails", "credit_code", "id_number")


def duplicates_for_input(*, viewer: User, data: dict[str, Any],
                         exclude: int | None = None) -> list[Candidate]:
    """`duplicates_of` for what a form or an API body holds: each field through the one
    cleaner, a field that does not clean (yet) left out rather than failing the check."""
    values: dict[str, Any] = {}
    for name in CHECKED:
        if data.get(name) in (None, "", []):
            continue
        try:
            values.update(cleaning.clean_customer({name: data[name]}, partial=True))
        except ValidationError:  # the form reports it; the check goes on without it
            continue
    if not values.get("name") and not any(values.get(k) for k in ("phones", "emails",
                                                                  "credit_code", "id_number")):
        return []
    return duplicates_of(viewer=viewer, values=values, exclude=exclude)


def duplicates_in_batch(*, viewer: User, rows: list[dict[str, Any]]) -> dict[int, list[Candidate]]:
    """`duplicates_of` for a batch of rows about to be created (an import), in three
    queries: index in `rows` -> its candidates (only rows that have some)."""
    cores = {name_parts(r.get("name", "")).core[:200] for r in rows} - {""}
    by_core: dict[str, set[int]] = {}
    for chunk_start in range(0, len(cores), 500):
        chunk = sorted(cores)[chunk_start:chunk_start + 500]
        for pk, key in (Customer.objects.filter(name_key__in=chunk, deleted_at__isnull=True)
                        .values_list("id", "name_key")):
            by_core.setdefault(key, set()).add(pk)
    by_key = keys_lookup((kind, value) for r in rows for kind, found in _keys(r).items()
                         for value in found)
    found: dict[int, list[Candidate]] = {}
    wanted = {i: by_core.get(name_parts(r.get("name", "")).core[:200], set())
              | {pk for kind, vs in _keys(r).items() for v in vs for pk in by_key.get((kind, v), ())}
              for i, r in enumerate(rows)}
    for index, ids in wanted.items():
        if ids:
            candidates = _candidates(viewer, rows[index], set(list(ids)[:20]), by_key, limit=3)
            if candidates:
                found[index] = candidates
    return found
