"""Region text → official divisions: the fields of a form or a sheet (`match_region`) and
the start of a pasted address (`parse_address`).

Both read names exactly (after NFKC and without spaces), in full or short (广东, 深圳,
内蒙古, 浦东), never by similarity: a typo is a region that matches nothing, which the
cleaner keeps as typed and data quality flags.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

from django.utils.translation import get_language
from django.utils.translation import gettext as _

from kehu.customers.regions.index import CITY, DISTRICT, PROVINCE, Division, RegionIndex, current
from kehu.customers.regions.names import clean_text

# A short name followed by one of these reads as a street: 中山路, 长安街, 南京大道.
STREET_STARTS = ("路", "街", "道", "大道", "巷", "弄", "胡同", "里", "号")
MAX_AMBIGUOUS_SHOWN = 5


@dataclass(frozen=True)
class RegionMatch:
    """Canonical names where the text matched (as typed where not), the code of the deepest
    division when every part given matched (None otherwise), and a problem per bad part."""

    province: str
    city: str
    district: str
    code: str | None
    problems: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.problems


def match_region(province: str, city: str, district: str, *,
                 index: RegionIndex | None = None) -> RegionMatch:
    """Match the three region fields against the list; missing parents are filled in when
    a child names them unambiguously (深圳 → 广东省 深圳市), a municipality's city always."""
    key = (index or current(), province or "", city or "", district or "")
    found = _matched(*key, None)
    # A match without problems has no words to translate: get_language() only for one
    # with problems, in their language. With the choices' values looked up before their
    # labels (core.cleaning), an import's cleaners went 69 -> 41 µs a row (20,000 rows).
    return _matched(*key, get_language()) if found.problems else found


# Sheets repeat a few hundred places: an import's rows were 15 µs each matching them again
# (profiled, 20,000 rows). Keyed by the index (a reload is a new one) and the language of
# the problems' words (None: only whether there are any is read); a match is frozen and
# read only.
@lru_cache(maxsize=4096)
def _matched(index: RegionIndex, province: str, city: str, district: str,
             language: str | None) -> RegionMatch:
    return _Matcher(index, province, city, district).run()


class _Matcher:
    def __init__(self, index: RegionIndex, province: str, city: str, district: str) -> None:
        self.index = index
        self.typed = {"province": province or "", "city": city or "", "district": district or ""}
        self.text = {k: clean_text(v) for k, v in self.typed.items()}
        self.found: dict[str, Division | None] = {"province": None, "city": None, "district": None}
        self.problems: dict[str, str] = {}

    def run(self) -> RegionMatch:
        if not any(self.text.values()):
            return RegionMatch("", "", "", None)
        self._province()
        self._city()
        self._district()
        return self._result()

    def _one(self, key: str, level: int, within: Division | None) -> Division | None:
        text = self.text[key]
        found = self.index.named(text, level, within)
        if len(found) == 1:
            return found[0]
        if len(found) > 1:
            self.problems[key] = _("“%(text)s”有多处：%(places)s，请写明上级地区") % {
                "text": text, "places": self._places(found)}
        elif within is not None and self.index.named(text, level):
            self.problems[key] = _("“%(text)s”不在%(parent)s") % {"text": text, "parent": within.name}
        else:
            self.problems[key] = _("“%(text)s”不在行政区划中（%(as_of)s）") % {
                "text": text, "as_of": self.index.as_of}
        return None

    def _province(self) -> None:
        if self.text["province"]:
            self.found["province"] = self._one("province", PROVINCE, None)

    def _city(self) -> None:
        province = self.found["province"]
        if self.text["city"]:
            if self.text["province"] and province is None:
                return  # no city can be checked against an unknown province
            city = self._one("city", CITY, province)
            self.found["city"] = city
            if city is not None and province is None:
                self.found["province"] = self.index.province_of(city)
        elif province is not None:
            self.found["city"] = self.index.only_city(province)

    def _district(self) -> None:
        if not self.text["district"] or self.problems:
            return
        city = self.found["city"]
        if city is not None and not self.index.children_of(city.code):
            return  # 东莞市, 仙桃市: no county level; the text (a town) is kept as typed
        district = self._one("district", DISTRICT, city or self.found["province"])
        self.found["district"] = district
        if district is not None:
            self.found["city"] = self.index.city_of(district)
            self.found["province"] = self.index.province_of(district)

    def _result(self) -> RegionMatch:
        names = {k: (d.name if d is not None else self.typed[k].strip())
                 for k, d in self.found.items()}
        if self.problems:
            return RegionMatch(names["province"], names["city"], names["district"], None,
                               self.problems)
        deepest = self.found["district"] or self.found["city"] or self.found["province"]
        return RegionMatch(names["province"], names["city"], names["district"],
                           deepest.code if deepest else None)

    def _places(self, found: list[Division]) -> str:
        return "、".join(full_name(self.index, d) for d in found[:MAX_AMBIGUOUS_SHOWN])


def full_name(index: RegionIndex, division: Division) -> str:
    """广东省深圳市南山区; a municipality's city is said once (北京市朝阳区)."""
    return "".join(dict.fromkeys(d.name for d in index.path(division)))


# --- pasted addresses ---------------------------------------------------------------------


@dataclass(frozen=True)
class AddressMatch:
    """The region a pasted address starts with, and what follows it (`rest`, the street).
    `ambiguous` lists the places the text could be when it cannot tell (朝阳区)."""

    province: Division | None
    city: Division | None
    district: Division | None
    rest: str
    ambiguous: tuple[str, ...] = ()

    @property
    def code(self) -> str | None:
        deepest = self.district or self.city or self.province
        return deepest.code if deepest else None

    def as_dict(self, index: RegionIndex) -> dict:
        def part(d: Division | None) -> dict | None:
            return {"code": d.code, "name": d.name} if d else None
        deepest = self.district or self.city or self.province
        return {"province": part(self.province), "city": part(self.city),
                "district": part(self.district), "rest": self.rest,
                "full_name": full_name(index, deepest) if deepest else "",
                "ambiguous": list(self.ambiguous)}


@dataclass(frozen=True, slots=True)
class _State:
    province: Division | None = None
    city: Division | None = None
    district: Division | None = None
    city_implied: bool = False  # a municipality's city, filled without being written
    first_level: int = 0

    def deepest(self) -> Division | None:
        return self.district or self.city or self.province


def parse_address(text: str, *, index: RegionIndex | None = None) -> AddressMatch:
    """The province / city / district an address starts with: longest reading first, a
    missing province or city filled from its child, unambiguous only — 朝阳区 alone is in
    Beijing and in Changchun, so it gives no district and says so."""
    index = index or current()
    text = clean_text(text)
    readings = _readings(index, text, 0, _State())
    best = max(consumed for consumed, _s in readings)
    tied = [s for consumed, s in readings if consumed == best]
    top = min(s.first_level for s in tied)
    tied = list({_key(s): s for s in tied if s.first_level == top}.values())
    chosen = _least_specific(index, tied)
    if chosen is not None:
        return AddressMatch(chosen.province, chosen.city, chosen.district, text[best:])
    places = tuple(full_name(index, s.deepest()) for s in tied if s.deepest())
    common = _common(index, tied)
    return AddressMatch(common.province, common.city, None, text, places)


def _key(state: _State) -> tuple:
    return tuple(d.code if d else "" for d in (state.province, state.city, state.district))


def _readings(index: RegionIndex, text: str, at: int, state: _State) -> list[tuple[int, _State]]:
    """Every way the text from `at` continues the reading `state`: (characters read, state)."""
    out = [(0, state)]
    if state.district is not None:
        return out
    for length in range(min(index.longest, len(text) - at), 0, -1):
        word = text[at:at + length]
        for division in index.names.get(word, ()):
            following = _extend(index, state, division)
            if following is None:
                continue
            # A short name before 路 / 街 … is the street (中山路), unless a division of its
            # own follows (唐山路南区: 路南区 is a district of 唐山).
            street = word != division.name and text.startswith(STREET_STARTS, at + length)
            out += [(length + n, s) for n, s in _readings(index, text, at + length, following)
                    if n > 0 or not street]
    return out


def _extend(index: RegionIndex, state: _State, division: Division) -> _State | None:
    """The reading with `division` added, or None when it does not fit."""
    first = state.first_level or division.level
    if division.level == PROVINCE:
        if state.province is not None:
            return None
        return _State(division, index.only_city(division), None, True, first)
    if division.level == CITY:
        if state.city is not None:  # 北京市北京市…: the implied city written out
            same = state.city_implied and state.city.code == division.code
            return _State(state.province, state.city, None, False, first) if same else None
        if state.province is not None and division.parent != state.province.code:
            return None
        return _State(index.province_of(division), division, None, False, first)
    within = state.city or state.province
    if within is not None and not index.within(division, within):
        return None
    return _State(index.province_of(division), index.city_of(division), division, False, first)


def _least_specific(index: RegionIndex, states: list[_State]) -> _State | None:
    """One reading, or the one all the others lie inside (吉林: the province, not the city
    of the same name; 辽宁朝阳: the city, not its county of the same short name)."""
    for state in states:
        deepest = state.deepest()
        if deepest is None or all(other.deepest() is not None
                                  and index.within(other.deepest(), deepest) for other in states):
            return state
    return None


def _common(index: RegionIndex, states: list[_State]) -> _State:
    """What ambiguous readings agree on (江苏鼓楼区: 江苏省, in Nanjing or in Xuzhou)."""
    provinces = {s.province.code if s.province else None for s in states}
    cities = {s.city.code if s.city else None for s in states}
    province = index.by_code.get(provinces.pop() or "") if len(provinces) == 1 else None
    city = index.by_code.get(cities.pop() or "") if len(cities) == 1 else None
    return _State(province, city if province else None)
