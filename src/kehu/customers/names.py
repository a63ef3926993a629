"""Company names as people write them, brought to one form for duplicate detection (查重).

北京字节跳动科技有限公司, 字节跳动科技（北京）有限公司 and 北京 字節跳動科技有限責任公司 are one
company written three ways. `name_parts` splits a name into its core (字节跳动科技) and the
place it names (北京): NFKC (full-width letters, digits and brackets to half-width),
traditional to simplified characters (OpenCC), spaces and punctuation out, the legal form
(有限公司, 有限责任公司, 股份有限公司, 集团 …) off the end, a bracketed place (（北京）) and a
leading place out. A leading place is taken off only when it ends in 省/市/自治区 or is
on the list below: stripping any leading two characters that could be a place
would turn 阿里巴巴 (阿里 is a prefecture in Tibet) into 巴巴.

The place is kept apart rather than dropped: 杭州华信科技 and 南京华信科技 are two companies
(a trade name is registered per city), so a pair with one core and two different places
is not the same customer.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

import opencc

from kehu.customers.regions import snapshot
from kehu.customers.regions.index import PROVINCE
from kehu.customers.regions.names import short_name

# Places that lead or are bracketed in company names. The provinces are the short names of
# the bundled division list's (customers/regions: 北京, 内蒙古, 广西 …) and 香港 / 澳门 / 台湾,
# which it does not hold; read from the bundled file, not the Region table, so that a stored
# name_key does not change when `kehu regions update` loads a newer list. The cities are an
# explicit allow-list (each a short name of the list, tested). Not here on purpose: names that
# are also ordinary words or brand starts (阿里, 吉林 is a province and a city and stays;
# 黄山, 大理 … are left to the 市 rule).
PROVINCES = (*(short_name(name) for _code, name, _parent, level in snapshot.read().rows
               if level == PROVINCE), "香港", "澳门", "台湾")
CITIES = (
    "石家庄", "唐山", "保定", "邯郸", "太原", "大同", "呼和浩特", "包头", "鄂尔多斯", "沈阳", "大连",
    "鞍山", "长春", "哈尔滨", "大庆", "南京", "苏州", "无锡", "常州", "南通", "徐州", "扬州",
    "杭州", "宁波", "温州", "绍兴", "嘉兴", "金华", "台州", "湖州", "合肥", "芜湖", "福州",
    "厦门", "泉州", "南昌", "赣州", "济南", "青岛", "烟台", "潍坊", "淄博", "临沂", "郑州",
    "洛阳", "武汉", "宜昌", "襄阳", "长沙", "株洲", "岳阳", "广州", "深圳", "佛山", "东莞",
    "珠海", "中山", "惠州", "汕头", "南宁", "柳州", "桂林", "海口", "三亚", "成都", "绵阳",
    "贵阳", "遵义", "昆明", "拉萨", "西安", "宝鸡", "兰州", "西宁", "银川", "乌鲁木齐",
)
_PLACES = frozenset({*PROVINCES, *CITIES})
# Prefix lengths to try, longest first: a set lookup per length instead of a startswith per
# place (an import's cleaning spent 21 µs a name scanning the list).
_PLACE_LENGTHS = sorted({len(place) for place in _PLACES}, reverse=True)
_SUFFIXES = sorted((
    "股份有限公司", "有限责任公司", "有限公司", "集团有限公司", "集团股份有限公司", "集团公司",
    "股份公司", "总公司", "公司", "集团", "有限", "coltd", "co ltd", "limited", "ltd", "inc",
    "corporation", "corp", "company", "co",
), key=len, reverse=True)
_BRACKETED = re.compile(r"\(([^()]*)\)")
_PUNCTUATION = re.compile(r"[\s·・.,，、'\"“”‘’\-_/&]+")
_LEADING_ADMIN = re.compile(r"^(.{2,4}?)(省|市|自治区|特别行政区)")
_DISTRICT = re.compile(r"^.{1,3}?(区|县)")
_CONVERT = opencc.OpenCC("t2s")


@dataclass(frozen=True)
class NameParts:
    core: str  # what names the company: 字节跳动科技
    place: str  # the place the name carries (北京), "" when none


@lru_cache(maxsize=65536)
def name_parts(name: str) -> NameParts:
    """The core and the place of a customer's name (see the module's docstring)."""
    text = _CONVERT.convert(unicodedata.normalize("NFKC", name or "")).lower()
    text = text.replace("（", "(").replace("）", ")")
    place = ""
    for inside in _BRACKETED.findall(text):
        found = _place_of(inside)
        if found and found != "-":
            place = place or found
    text = _BRACKETED.sub(lambda m: "" if _place_of(m.group(1)) else m.group(1), text)
    text = _PUNCTUATION.sub("", text)
    text = _strip_suffixes(text)
    leading, text = _leading_place(text)
    while leading:  # 浙江省杭州市华信科技: the most specific place is kept
        place_found, rest = _leading_place(text)
        if not place_found:
            district = _DISTRICT.match(text)  # 北京市海淀区…: the city stays the place
            if district and len(text) - district.end() >= 2:
                text = text[district.end():]
            break
        leading, text = place_found, rest
    return NameParts(core=_strip_suffixes(text) or text, place=place or leading)


def name_key(name: str) -> str:
    """The stored blocking key of a name (its core), for exact candidate lookups."""
    return name_parts(name).core[:200]


def _place_of(text: str) -> str:
    """`text` as a place (北京, 北京市, 浙江省) or ""."""
    bare = _PUNCTUATION.sub("", text)
    if bare in ("中国", "china"):  # 阿里巴巴（中国）: says no place at all
        return "-"
    found = _LEADING_ADMIN.fullmatch(bare)
    if found:
        return found.group(1)
    return bare if bare in _PLACES else ""


def _leading_place(text: str) -> tuple[str, str]:
    """(place, rest) when the name starts with a place and keeps two characters after it."""
    found = _LEADING_ADMIN.match(text)
    if found and len(text) - found.end() >= 2:
        return found.group(1), text[found.end():]
    for length in _PLACE_LENGTHS:
        if len(text) - length >= 2 and text[:length] in _PLACES:
            return text[:length], text[length:]
    return "", text


def _strip_suffixes(text: str) -> str:
    changed = True
    while changed:
        changed = False
        for suffix in _SUFFIXES:
            if text.endswith(suffix) and len(text) > len(suffix) + 1:
                text = text[: -len(suffix)]
                changed = True
                break
    return text
