"""A labelled set of duplicates: copies of demo customers written the ways real sheets do.

For the duplicate finder's quality bar (precision and recall on known pairs): each copy
is a new customer, created through `customer_create` like any other, of one demo customer
written differently — 有限公司 / 有限责任公司, the city in brackets (either width), stray
spaces, traditional characters, a one-character typo, no credit code, the phone in
another format, the e-mail in other case — and sharing a phone, an e-mail or nothing at
all with its original (the kinds in ../shared/data/README.md). Returns the pairs.
"""

from __future__ import annotations

import random
from typing import Any

import opencc

from kehu.customers.models import Customer
from kehu.customers.names import name_parts
from kehu.customers.services import customer_create

_TRADITIONAL = opencc.OpenCC("s2t")
TYPO_CHARS = "鑫晟瀚翔誉弘琪璟淼珂"


def inject_duplicates(customer_ids: range | list[int], count: int, seed: int) -> list[tuple[int, int]]:
    """Create `count` copies of customers picked from `customer_ids`; (original, copy) pairs."""
    rng = random.Random(seed)
    picked = rng.sample(list(customer_ids), min(count, len(customer_ids)))
    originals = Customer.objects.filter(pk__in=picked, deleted_at__isnull=True).select_related("owner")
    pairs = []
    for original in originals.order_by("pk"):
        data = _copy(original, rng)
        copy = customer_create(actor=original.owner, origin="demo", data=data)
        pairs.append((original.pk, copy.pk))
    return pairs


def _copy(original: Customer, rng: random.Random) -> dict[str, Any]:
    data: dict[str, Any] = {"kind": original.kind, "name": original.name,
                            "province": original.province, "city": original.city,
                            "owner": original.owner_id}
    if original.kind == "company":
        data["name"] = _company_name(original.name, original.city, rng)
        if original.credit_code and rng.random() < 0.3:
            data["credit_code"] = original.credit_code  # a copy with it; most lack it
    shared = rng.random()
    if shared < 0.5 and original.phones:  # the same phone, written another way
        data["phones"] = [_reformat(original.phones[0], rng)]
    elif shared < 0.7 and original.emails:
        data["emails"] = [original.emails[0].upper()]
    elif original.kind == "person" and original.phones:  # a person is known by a number
        data["phones"] = [_reformat(original.phones[0], rng)]
    return data


def _company_name(name: str, city: str, rng: random.Random) -> str:
    parts = name_parts(name)
    place = parts.place or city.removesuffix("市")
    core = parts.core
    suffix = rng.choice(("有限公司", "有限责任公司", "股份有限公司", ""))
    variant = rng.randrange(6)
    if variant == 0:
        return f"{core}（{place}）{suffix}"
    if variant == 1:
        return f"{core}({place}){suffix}"
    if variant == 2:
        return f"{place} {core} {suffix}".strip()
    if variant == 3:
        return _TRADITIONAL.convert(f"{place}{core}{suffix}")
    if variant == 4 and len(core) >= 4:  # a typo past the first two characters
        at = rng.randrange(2, len(core))
        return f"{place}{core[:at]}{rng.choice(TYPO_CHARS)}{core[at + 1:]}{suffix}"
    return f"{place}{core}{suffix or '有限公司'}"


def _reformat(phone: str, rng: random.Random) -> str:
    """+8613812345678 as a sheet writes it: 138-1234-5678, +86 138 1234 5678, 86-138…"""
    digits = phone.removeprefix("+86")
    if len(digits) != 11:
        return phone
    return rng.choice((f"{digits[:3]}-{digits[3:7]}-{digits[7:]}",
                       f"+86 {digits[:3]} {digits[3:7]} {digits[7:]}", f"86-{digits}", digits))
