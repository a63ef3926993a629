"""Realistic, deterministic fake records: one `Faker` per run, driven by one `random.Random`.

Rows come out as plain dicts keyed by model attribute names (values already
in Python form); `kehu.demo.load` prepares them for the database.
"""

from __future__ import annotations

import datetime as dt
import itertools
import random

from stdnum.cn import uscc

from kehu.customers.choices import CompanySize, DecisionRole, Source
from kehu.customers.names import name_key
from kehu.customers.pinyin import name_pinyin
from kehu.demo import words
from kehu.demo.regions import Place, weighted_places

YEARS_OF_HISTORY = 3
_INDUSTRY_WEIGHTS = {"manufacturing": 18, "retail": 16, "software": 14, "services": 10,
                     "real_estate": 7, "logistics": 7, "healthcare": 6, "education": 5,
                     "hospitality": 5, "energy": 4, "finance": 3, "agriculture": 3,
                     "government": 1, "other": 1}
# Choice lists and cumulative weights computed once: a million rows call them millions of times.
_SIZES = tuple(CompanySize.values)
_SIZE_CUM = tuple(itertools.accumulate((38, 32, 18, 9, 3)))
_SOURCES = tuple(Source.values)
_SOURCE_CUM = tuple(itertools.accumulate((22, 18, 15, 10, 14, 9, 7, 5)))
_DECISION_ROLES = tuple(DecisionRole.values)
_SUFFIXES = tuple(p[0] for p in words.SUFFIXES)
_SUFFIX_CUM = tuple(itertools.accumulate(p[1] for p in words.SUFFIXES))
_CONTACT_COUNT_CUM = (50, 85, 100)
_ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)


def org_code(rng: random.Random) -> str:
    """A 9-character organisation code (组织机构代码) with its GB 11714 check digit."""
    body = f"{rng.randrange(10**8):08d}"
    check = 11 - sum(int(c) * w for c, w in zip(body, _ORG_WEIGHTS, strict=True)) % 11
    return body + {10: "X", 11: "0"}.get(check, str(check))


def credit_code(rng: random.Random, region_code: str) -> str:
    """A unified social credit code: 9 (工商) + 1 (企业) + region + org code + check digit."""
    body = "91" + region_code + org_code(rng)
    return body + uscc.calc_check_digit(body)


def distinct_keys(row: dict, contacts: list[dict], index: int, seed: int) -> None:
    """Make the customer's phones, e-mails and credit code its own (drawn at random, a
    million customers shared ~61,000 e-mail addresses, ~2,000 phones and ~1,800 credit
    codes by chance — twins no real data has, which the duplicate finder rightly flags).
    The numbers come from the customer's place in its run (`index`, so a resumed run writes
    the same data) and the seed, through a bijection mod 10^8; no random draw changes, so
    the rest of the data stays as it was."""
    pk = seed % 10 * 10**6 + index  # a run of up to 1,000,000 customers per seed digit

    def unique(slot: int) -> str:
        return f"{(pk * 8 + slot) * 7919 % 10**8:08d}"

    row["phones"] = [phone[:-8] + unique(i) for i, phone in enumerate(row["phones"])]
    for i, contact in enumerate(contacts):
        contact["phones"] = [phone[:-8] + unique(4 + i) for phone in contact["phones"][:1]]
    row["emails"] = [_own_address(email, pk) for email in row["emails"]]
    for contact in contacts:
        if contact["email"] and row["emails"]:
            contact["email"] = contact["email"].split("@")[0] + "@" + row["emails"][0].split("@")[1]
    if row.get("credit_code"):
        body = row["credit_code"][:8] + _org_code_of(unique(7))
        row["credit_code"] = body + uscc.calc_check_digit(body)


def _serial_chars(serial: int) -> str:
    """Two brand characters from a serial: consecutive serials get different pairs."""
    size = len(words.BRAND_CHARS)
    mixed = serial * 7919 % (size * size)
    return words.BRAND_CHARS[mixed // size] + words.BRAND_CHARS[mixed % size]


def _own_address(email: str, pk: int) -> str:
    local, domain = email.split("@", 1)
    if domain.endswith(".com.cn"):  # a company's own domain: brand + number
        return f"{local}@{domain.split('.')[0].rstrip('0123456789')}{pk}.com.cn"
    return f"{local.rstrip('0123456789')}{pk}@{domain}"  # a person's mailbox


def _org_code_of(digits: str) -> str:
    check = 11 - sum(int(c) * w for c, w in zip(digits, _ORG_WEIGHTS, strict=True)) % 11
    return digits + {10: "X", 11: "0"}.get(check, str(check))


def mobile(rng: random.Random) -> str:
    return f"+86{rng.choice(words.MOBILE_PREFIXES)}{rng.randrange(10**8):08d}"


def person_name(rng: random.Random) -> tuple[str, str]:
    """(surname, given name), surnames weighted towards the common ones."""
    surname = words.SURNAMES[min(int(rng.expovariate(1 / 18)), len(words.SURNAMES) - 1)]
    length = 1 if rng.random() < 0.3 else 2
    return surname, "".join(rng.choice(words.GIVEN_CHARS) for _ in range(length))


def joined_pinyin(parts: tuple[str, ...], *, is_person: bool) -> tuple[str, str]:
    """Pinyin of a name from the cached pinyin of its parts (a name is mostly unique, parts repeat)."""
    pairs = [name_pinyin(part, is_person=is_person and i == 0) for i, part in enumerate(parts)]
    return "".join(p[0] for p in pairs), "".join(p[1] for p in pairs)


class Faker:
    """Makes customer, contact and tag-link rows; every choice comes from `rng`."""

    def __init__(self, rng: random.Random, *, now: dt.datetime) -> None:
        self.rng = rng
        self.now = now
        self.places, self.place_cum = weighted_places()
        self.industries = list(_INDUSTRY_WEIGHTS)
        self.industry_cum = list(itertools.accumulate(_INDUSTRY_WEIGHTS.values()))
        self.span = YEARS_OF_HISTORY * 365 * 86400

    def timestamps(self) -> tuple[dt.datetime, dt.datetime]:
        """created_at uniform over the last three years; updated_at between it and now."""
        age = self.rng.random() * self.span
        created = self.now - dt.timedelta(seconds=age)
        updated = created + dt.timedelta(seconds=age * self.rng.random() ** 2)
        return created.replace(microsecond=created.microsecond // 1000 * 1000), \
            updated.replace(microsecond=updated.microsecond // 1000 * 1000)

    def place(self) -> Place:
        return self.rng.choices(self.places, cum_weights=self.place_cum)[0]

    def address(self, place: Place) -> str:
        rng = self.rng
        return f"{place.district}{rng.choice(words.STREETS)}{rng.randint(1, 999)}号"

    def company(self, owner_id: int, serial: int | None = None) -> dict:
        """A company customer row; `serial` (its place in the run) makes its trade name its
        own: two random characters alone gave a million customers ~33,000 pairs of companies
        with one name in one city, which registration never allows and 查重 rightly flags."""
        rng = self.rng
        place = self.place()
        industry = rng.choices(self.industries, cum_weights=self.industry_cum)[0]
        brand = rng.choice(words.BRAND_CHARS) + rng.choice(words.BRAND_CHARS)
        if serial is not None:
            brand += _serial_chars(serial)
        trade = rng.choice(words.INDUSTRY_WORDS[industry])
        city = place.city.removesuffix("市")
        suffix = "" if industry == "government" else rng.choices(_SUFFIXES, cum_weights=_SUFFIX_CUM)[0]
        parts = (city, brand, trade, suffix) if rng.random() < 0.9 else (brand, f"（{city}）", trade, suffix)
        pinyin, initials = joined_pinyin(parts, is_person=False)
        brand_pinyin = name_pinyin(brand)[0]
        row = self._common(owner_id, place)
        row.update(
            kind="company", name="".join(parts), name_key=name_key("".join(parts)),
            short_name=brand + trade[:2],
            name_pinyin=pinyin, name_initials=initials, industry=industry,
            company_size=rng.choices(_SIZES, cum_weights=_SIZE_CUM)[0],
            emails=[f"{rng.choice(('info', 'sales', 'contact', 'service'))}@{brand_pinyin}"
                    f"{rng.randint(1, 99)}.com.cn"] if rng.random() < 0.6 else [],
            credit_code=credit_code(rng, place.code) if rng.random() < 0.85 else "",
        )
        return row

    def person(self, owner_id: int) -> dict:
        """A person customer row (个人客户)."""
        rng = self.rng
        surname, given = person_name(rng)
        pinyin, initials = joined_pinyin((surname, given), is_person=True)
        row = self._common(owner_id, self.place())
        row.update(
            kind="person", name=surname + given, name_key=name_key(surname + given),
            name_pinyin=pinyin, name_initials=initials,
            emails=[f"{pinyin}{rng.randint(1, 9999)}@{rng.choice(words.EMAIL_DOMAINS)}"]
            if rng.random() < 0.5 else [],
            wechat=f"{pinyin}_{rng.randint(100, 99999)}" if rng.random() < 0.4 else "",
            gender=rng.choice(("male", "female")),
            birthday=dt.date(rng.randint(1960, 2002), rng.randint(1, 12), rng.randint(1, 28)),
        )
        return row

    def _common(self, owner_id: int, place: Place) -> dict:
        rng = self.rng
        created, updated = self.timestamps()
        phones = [mobile(rng)] + ([mobile(rng)] if rng.random() < 0.15 else [])
        return {
            "short_name": "", "industry": "", "company_size": "", "province": place.province,
            "city": place.city, "district": place.district, "region_code": place.code,
            "address": self.address(place),
            "phones": phones, "emails": [], "wechat": "", "gender": "", "birthday": None,
            "credit_code": "", "source": rng.choices(_SOURCES, cum_weights=_SOURCE_CUM)[0],
            "owner_id": owner_id, "notes": "", "created_at": created, "updated_at": updated,
            "created_by_id": owner_id, "origin": "demo", "version": 1,
            "deleted_at": updated if rng.random() < 0.003 else None,
        }

    def contacts(self, customer: dict, customer_id: int) -> list[dict]:
        """One to three contacts for a company; the first is the primary one."""
        rng = self.rng
        count = rng.choices((1, 2, 3), cum_weights=_CONTACT_COUNT_CUM)[0]
        rows = []
        for i in range(count):
            surname, given = person_name(rng)
            pinyin = joined_pinyin((surname, given), is_person=True)[0]
            email = customer["emails"][0].split("@")[1] if customer["emails"] else ""
            rows.append({
                "customer_id": customer_id, "name": surname + given,
                "title": rng.choice(words.TITLES),
                "decision_role": rng.choice(_DECISION_ROLES) if rng.random() < 0.7 else "",
                "phones": [mobile(rng)], "email": f"{pinyin}@{email}" if email else "",
                "wechat": "", "is_primary": i == 0, "notes": "",
                "created_at": customer["created_at"], "updated_at": customer["created_at"],
                "created_by_id": customer["owner_id"], "origin": "demo", "version": 1,
            })
        return rows

    def tag_ids(self, tag_ids: list[int]) -> list[int]:
        """No tag for most customers, one or two for a quarter of them."""
        if self.rng.random() >= 0.25:
            return []
        return self.rng.sample(tag_ids, 1 if self.rng.random() < 0.7 else 2)

