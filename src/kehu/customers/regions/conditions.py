"""Regions in the one filter definition (customers/conditions.py):

- `region` — customers inside the divisions the picker chose (codes; a range on
  `region_code` each, which its index serves);
- `region.status` — whose region text is not in the official list (地区无法识别), is, or is
  empty; lists, segments and rules filter on them like on any other field.

A saved condition naming a code a newer list drops would stop parsing, so `kehu regions
update` asks the apps that save conditions (segments here; classification's rules register
theirs) which of theirs name a code the new list lacks (`saved_conditions_missing`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from django.db.models import Q
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from kehu.customers.conditions import ConditionField, register_condition_field
from kehu.customers.regions.index import CITY, PROVINCE, RegionIndex, current
from kehu.customers.regions.matching import full_name

UNKNOWN, KNOWN, NONE = "unknown", "known", "none"
_HAS_TEXT = ~Q(province="") | ~Q(city="") | ~Q(district="")


def status_q(status: str) -> Q:
    if status == UNKNOWN:
        return _HAS_TEXT & Q(region_code__isnull=True)
    if status == KNOWN:
        return Q(region_code__isnull=False)
    return Q(province="", city="", district="")


def _status(op: str, value: Any, viewer: Any) -> Q:
    if op in ("empty", "not_empty"):  # every customer has one status
        return Q() if op == "not_empty" else Q(pk__in=[])
    wanted = Q(pk__in=[])
    for status in value:
        wanted |= status_q(status)
    return wanted if op == "in" else ~wanted


def register() -> None:
    register_condition_field(ConditionField("region", _("地区（省/市/区）"), "region", _region))
    register_condition_field(ConditionField(
        "region.status", _("地区识别"), "choice", _status,
        ((UNKNOWN, _("地区无法识别")), (KNOWN, _("地区已识别")), (NONE, _("未填地区")))))
    register_saved_conditions(_segments)


# --- saved conditions naming codes ----------------------------------------------------------

# A reader gives (what it is, said in words: 分群“华南客户”; its condition) for every saved one.
SavedConditions = Callable[[], Iterable[tuple[str, Any]]]
_SAVED: list[SavedConditions] = []


def register_saved_conditions(reader: SavedConditions) -> None:
    if reader not in _SAVED:
        _SAVED.append(reader)


def _segments() -> Iterable[tuple[str, Any]]:
    # Follow-up plans target segments: a plan's target is checked with its segment.
    from kehu.customers.models import Segment

    for name, condition in Segment.objects.order_by("name", "pk").values_list("name", "condition"):
        yield gettext("分群“%(name)s”") % {"name": name}, condition


def codes_named(node: Any) -> set[str]:
    """The division codes a condition's `region` leaves name (JSON as saved, unparsed)."""
    if isinstance(node, dict) and ("all" in node or "any" in node):
        children = node.get("all") or node.get("any") or []
        return set().union(*(codes_named(c) for c in children)) if isinstance(children, list) else set()
    if not isinstance(node, dict) or node.get("field") != "region":
        return set()
    value = node.get("value")
    return {str(v) for v in (value if isinstance(value, list) else [value]) if v}


def saved_conditions_missing(codes: set[str]) -> list[tuple[str, list[str]]]:
    """Every saved condition naming a code not in `codes` (the new list's): what it is and
    the codes it would lose."""
    out = []
    for reader in _SAVED:
        for what, condition in reader():
            missing = sorted(codes_named(condition) - codes)
            if missing:
                out.append((what, missing))
    return out


# --- `region`: customers in a division the picker chose -------------------------------------


def region_prefix(index: RegionIndex, code: str) -> str:
    """The code prefix every customer inside the division carries: 44 for 广东省, 4403 for
    深圳市, 11 for 北京市 the city (its districts and 重庆's counties alike), the whole code for
    a district or a county-level city directly under its province (仙桃市 429004)."""
    division = index.by_code[code]
    if division.level == PROVINCE:
        return code[:2]
    if division.level == CITY:
        if index.only_city(index.by_code[division.parent]) is division:
            return code[:2]
        return code[:4] if code.endswith("00") else code
    return code


def _region(op: str, value: list[str], viewer: Any) -> Q:
    index = current()
    inside = Q(pk__in=[])
    for code in value:
        prefix = region_prefix(index, code)
        # A range, not LIKE: the region_code index serves it on both databases.
        inside |= Q(region_code__gte=prefix, region_code__lt=prefix + "a")
    return inside if op == "in" else ~inside | Q(region_code__isnull=True)


def region_names(codes: list[str]) -> list[str]:
    index = current()
    return [full_name(index, index.by_code[c]) if c in index.by_code else c for c in codes]
