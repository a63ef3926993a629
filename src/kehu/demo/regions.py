"""Where demo customers are: real places from the official division list (customers/regions).

The weights are the demo's own: a province weighs the sum of its main cities' weights
below (roughly economic size, so Shanghai gets more customers than Lhasa). Four fifths of
it go to those cities, a fifth is spread over the province's other cities; inside a city
every district of the list is a place, urban districts (区) three times a county's. So
every demo region is one the matcher knows, with its code (the region part of a demo
credit code too).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

from kehu.customers.regions.index import CITY, RegionIndex, current

MAIN_SHARE = 0.8  # of a province's weight, to its main cities; the rest to the others
URBAN_WEIGHT = 3  # a 区 against a 县 or a county-level city

# (province, main city, weight)
CITY_WEIGHTS: list[tuple[str, str, int]] = [
    ("北京市", "北京市", 40),
    ("天津市", "天津市", 12),
    ("河北省", "石家庄市", 8),
    ("河北省", "唐山市", 5),
    ("河北省", "保定市", 4),
    ("山西省", "太原市", 6),
    ("山西省", "大同市", 2),
    ("内蒙古自治区", "呼和浩特市", 4),
    ("内蒙古自治区", "包头市", 3),
    ("辽宁省", "沈阳市", 8),
    ("辽宁省", "大连市", 7),
    ("吉林省", "长春市", 6),
    ("吉林省", "吉林市", 2),
    ("黑龙江省", "哈尔滨市", 6),
    ("黑龙江省", "大庆市", 2),
    ("上海市", "上海市", 40),
    ("江苏省", "南京市", 14),
    ("江苏省", "无锡市", 8),
    ("江苏省", "苏州市", 14),
    ("浙江省", "杭州市", 20),
    ("浙江省", "宁波市", 9),
    ("浙江省", "温州市", 6),
    ("安徽省", "合肥市", 9),
    ("安徽省", "芜湖市", 3),
    ("福建省", "福州市", 7),
    ("福建省", "厦门市", 7),
    ("福建省", "泉州市", 5),
    ("江西省", "南昌市", 6),
    ("江西省", "赣州市", 3),
    ("山东省", "济南市", 10),
    ("山东省", "青岛市", 10),
    ("山东省", "烟台市", 4),
    ("河南省", "郑州市", 10),
    ("河南省", "洛阳市", 4),
    ("湖北省", "武汉市", 14),
    ("湖北省", "宜昌市", 3),
    ("湖南省", "长沙市", 10),
    ("湖南省", "株洲市", 3),
    ("广东省", "广州市", 24),
    ("广东省", "深圳市", 28),
    ("广东省", "佛山市", 9),
    ("广西壮族自治区", "南宁市", 5),
    ("广西壮族自治区", "柳州市", 3),
    ("海南省", "海口市", 3),
    ("海南省", "三亚市", 2),
    ("重庆市", "重庆市", 14),
    ("四川省", "成都市", 18),
    ("四川省", "绵阳市", 3),
    ("贵州省", "贵阳市", 4),
    ("贵州省", "遵义市", 2),
    ("云南省", "昆明市", 6),
    ("云南省", "大理白族自治州", 1),
    ("西藏自治区", "拉萨市", 1),
    ("陕西省", "西安市", 12),
    ("陕西省", "宝鸡市", 2),
    ("甘肃省", "兰州市", 3),
    ("青海省", "西宁市", 1),
    ("宁夏回族自治区", "银川市", 1),
    ("新疆维吾尔自治区", "乌鲁木齐市", 2)
]


@dataclass(frozen=True)
class Place:
    province: str
    city: str
    district: str
    code: str


# The index the places were built from, held (not its id: a later index could reuse the
# id of a collected one), and the places. A newer list is a new index: built again.
_cache: tuple[RegionIndex, list[Place], list[float]] | None = None


def weighted_places(index: RegionIndex | None = None) -> tuple[list[Place], list[float]]:
    """Every demo place and the cumulative weights `random.choices` takes (built once per
    division list: a million customers draw from it a million times)."""
    global _cache
    index = index or current()
    if _cache is None or _cache[0] is not index:
        places, weights = [], []
        for place, weight in _places(index):
            places.append(place)
            weights.append(weight)
        _cache = (index, places, list(itertools.accumulate(weights)))
    return _cache[1], _cache[2]


def _places(index: RegionIndex):
    mains: dict[str, dict[str, int]] = {}
    for province, city, weight in CITY_WEIGHTS:
        mains.setdefault(province, {})[city] = weight
    for province in index.provinces():
        main = mains.get(province.name)
        if not main:
            continue
        total = sum(main.values())
        cities = [c for c in index.children_of(province.code) if c.level == CITY]
        others = [c for c in cities if c.name not in main]
        for city in cities:
            if city.name in main:
                share = main[city.name] * (MAIN_SHARE if others else 1)
            else:
                share = total * (1 - MAIN_SHARE) / len(others)
            yield from _in_city(index, province.name, city, share)


def _in_city(index: RegionIndex, province: str, city, weight: float):
    districts = index.children_of(city.code)
    if not districts:
        yield Place(province, city.name, "", city.code), weight
        return
    each = [URBAN_WEIGHT if d.name.endswith("区") else 1 for d in districts]
    for district, w in zip(districts, each, strict=True):
        yield Place(province, city.name, district.name, district.code), weight * w / sum(each)
