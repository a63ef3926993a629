"""The division list in memory: every division by code, by name and by short name.

Built from the Region table once per process (`current()`), and again when the table's
`RegionSource.loaded_at` changes (checked at most once a minute), or from a snapshot's
rows (`RegionIndex(rows)`, what the migration uses before the table is read).
"""

from __future__ import annotations

import math
import threading
import time
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from types import MappingProxyType

from kehu.customers.regions.names import short_name

PROVINCE, CITY, DISTRICT = 1, 2, 3
RECHECK_SECONDS = 60


@dataclass(frozen=True, slots=True)
class Division:
    code: str
    name: str
    parent: str
    level: int
    short: str


class RegionIndex:
    """Lookups the matcher needs; read-only once built."""

    def __init__(self, rows: Iterable[tuple], *, as_of: str = "", stamp: object = None) -> None:
        """`rows`: (code, name, parent code, level), and the short name where the table has
        stored it (computed from the name otherwise: a snapshot's rows)."""
        self.as_of, self.stamp = as_of, stamp
        by_code: dict[str, Division] = {}
        children: dict[str, list[Division]] = defaultdict(list)
        names: dict[str, list[Division]] = defaultdict(list)
        for code, name, parent, level, *stored in rows:
            division = Division(code, name, parent, level, stored[0] if stored else short_name(name))
            by_code[code] = division
            children[parent].append(division)
            names[name].append(division)
            if division.short and division.short != name:
                names[division.short].append(division)
        for division in by_code.values():
            # A municipality's one city: 北京市 北京市, and the 市辖区 that some sheets write.
            if division.level == CITY and division.name == by_code[division.parent].name:
                names["市辖区"].append(division)
        # Read-only from here: every process's threads share one index (`current()`), so
        # no read may add a key (as a defaultdict's lookup would).
        self.by_code: Mapping[str, Division] = MappingProxyType(by_code)
        self.children: Mapping[str, tuple[Division, ...]] = MappingProxyType(
            {code: tuple(found) for code, found in children.items()})
        self.names: Mapping[str, tuple[Division, ...]] = MappingProxyType(
            {name: tuple(found) for name, found in names.items()})
        self.longest = max((len(n) for n in self.names), default=0)

    def children_of(self, code: str) -> tuple[Division, ...]:
        """The divisions directly under `code` ("": the provinces); () for a district."""
        return self.children.get(code, ())

    def provinces(self) -> tuple[Division, ...]:
        return self.children_of("")

    def path(self, division: Division) -> list[Division]:
        """The division and its parents, from its province down (广东省, 深圳市, 南山区)."""
        path = [division]
        while path[0].parent:
            path.insert(0, self.by_code[path[0].parent])
        return path

    def province_of(self, division: Division) -> Division:
        return self.path(division)[0]

    def city_of(self, division: Division) -> Division | None:
        if division.level == DISTRICT:
            return self.by_code[division.parent]
        return division if division.level == CITY else None

    def within(self, division: Division, ancestor: Division | None) -> bool:
        while ancestor is not None and division.level > ancestor.level:
            division = self.by_code[division.parent]
        return ancestor is None or division.code == ancestor.code

    def named(self, text: str, level: int, within: Division | None = None) -> list[Division]:
        """Divisions of `level` called `text` (full or short name) inside `within`."""
        return [d for d in self.names.get(text, ()) if d.level == level and self.within(d, within)]

    def only_city(self, province: Division) -> Division | None:
        """A municipality's one city (北京市 → 北京市), which no one needs to write."""
        cities = self.children_of(province.code)
        return cities[0] if len(cities) == 1 and cities[0].name == province.name else None


_lock = threading.Lock()
_current: RegionIndex | None = None
_checked = 0.0


def current() -> RegionIndex:
    """The index of the Region table, rebuilt when a newer snapshot was loaded."""
    global _current, _checked
    now = time.monotonic()
    if _current is not None and now - _checked < RECHECK_SECONDS:
        return _current
    from kehu.customers.regions.models import Region, RegionSource

    with _lock:
        source = RegionSource.objects.order_by("-pk").first()
        stamp = (source.pk, source.loaded_at) if source else None
        if _current is None or _current.stamp != stamp:
            rows = Region.objects.order_by("level", "code").values_list(
                "code", "name", "parent_code", "level", "short_name")
            _current = RegionIndex(list(rows), as_of=source.as_of if source else "", stamp=stamp)
        _checked = now
    return _current


def hold() -> None:
    """Keep the index this process read last for the rest of its life, never asking the
    table again: for a process forked from one that has just called `current()` (the
    import's cleaning, `core.forked`), which may not query the database."""
    global _checked
    if _current is not None:
        _checked = math.inf


def forget() -> None:
    """Drop the cached index (after `kehu regions update`, in tests)."""
    global _current
    _current = None
